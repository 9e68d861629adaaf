// Models kernel/module/main.c of Linux 6.1 (print_modules' list, the module states, what delete_module checks) — the kernel side of insmod/rmmod; the sandbox (sandbox/insmod.ts) prints the load-time taint notices.
//
// Holds the module list that "Modules linked in:" prints (cell(O+) while module_init runs, cell(O) when live,
// cell(O-) while module_exit runs, "[last unloaded: cell(O)]" after), a bump allocator for the module's static data
// (the addresses of DEFINE_SPINLOCK / DEFINE_MUTEX / static structures in the module's .data/.bss, after its text in
// the modules area), and the checks the kernel runs at the end of a run:
//   - insmod/rmmod returning to user space with a lock held (lockdep, debug config);
//   - kmemleak's scan (debug/kmemleak.ts) and the DMA-API's pending mappings (debug/dma_debug.ts) at rmmod.
// KernelOops: thrown after a BUG()/Oops text to end the module function that hit it (the sandbox's killTask
// convention: the task dies, the run continues, the kernel is tainted D by whoever printed the Oops).
// Simplification: one module at a time; "last unloaded" shows the previous run's module only within one boot.

import type { Kernel } from "../kernel.ts";
import type { PageTables } from "../mm/pgtable.ts";
import type { FaultInjection } from "../debug/fault_inject.ts";
import type { Arch, Report } from "../types.ts";
import { setModuleListProvider, type LoadedModule, type ModuleList } from "../debug/splat.ts";
import { rebindable } from "../snapshot.ts";
import { gfp } from "../gfp.ts";

/** Ends the current module function after an Oops (BUG(), a fault): see the header. */
export class KernelOops extends Error {
  readonly killTask = true;
  readonly report?: Report;
  constructor(message: string, report?: Report) {
    super(message);
    this.name = "KernelOops";
    this.report = report;
  }
}

export class Modules {
  private readonly k: Kernel;
  name = "cell";
  /** The module's taint letters as print_modules shows them ("O", "OE", "PO"...). */
  taints = "";
  state: LoadedModule["state"] | "unloaded" | "none" = "none";
  lastUnloaded?: string;
  private staticNext = 0n;
  /** Jiffies and task at insmod (kmemleak's default for objects allocated during init). */
  loadJiffies = 0;

  constructor(k: Kernel) {
    this.k = k;
    setModuleListProvider(k, rebindable(Modules.prototype.moduleList, this)); // rebound by a kernel snapshot (snapshot.ts)
  }

  /** What print_modules() shows: the module while it is loaded, and the last one unloaded. */
  private moduleList(): ModuleList {
    return {
      modules: this.state === "coming" || this.state === "live" || this.state === "going" ? [{ name: this.name, taints: this.taints, state: this.state }] : [],
      lastUnloaded: this.lastUnloaded,
    };
  }

  /** The module starts loading (before module_init): state COMING. taints: "O", "OE", "P"... */
  load(name = "cell", taints?: string): void {
    this.name = name;
    this.taints = taints ?? this.defaultTaints();
    this.state = "coming";
    this.loadJiffies = this.k.clock.jiffies;
    this.k.sched.inModuleCall = true;
  }

  private defaultTaints(): string {
    const t = this.k.taint;
    return (t.has("P") ? "P" : "") + (t.has("O") ? "O" : "") + (t.has("E") ? "E" : "");
  }

  /** module_init returned 0: LIVE. Checks insmod's return to user space. */
  live(): void {
    this.state = "live";
    this.k.sched.inModuleCall = false;
    this.returnToUser();
    this.k.kthreads?.runRunnable(); // the threads module_init woke run before insmod returns to user space
  }

  /** rmmod starts: GOING. */
  unloading(): void {
    this.state = "going";
    this.k.sched.inModuleCall = true;
  }

  /** module_exit returned: the module is gone. Runs the end-of-run checks (leakCheck). */
  unloaded(): void {
    this.freeCore();
    this.state = "unloaded";
    this.k.sched.inModuleCall = false;
    this.lastUnloaded = this.name + (this.taints ? `(${this.taints})` : "");
    this.returnToUser();
  }

  /** lockdep_sys_exit(): the task returns to user space with locks held. */
  returnToUser(): void {
    this.k.lockdep.checkReturnToUser(this.k.current);
  }

  /** Address for the module's static data (locks, timers, work items defined at top level). */
  allocStatic(size: number): bigint {
    let base: bigint;
    if (this.image?.core) base = this.image.core + BigInt(this.image.dataOffset);
    else {
      // No image was loaded (a kernel driven without the sandbox's insmod): the kallsyms slot + 0x5000.
      const ks = this.k.kallsyms;
      base = (ks.lookup(ks.addModuleSymbol("__this_module", this.name, 0x40))?.addr ?? 0n) + 0x5000n;
    }
    const a = base + this.staticNext;
    this.staticNext += BigInt((size + 7) & ~7);
    return a;
  }

  /** The loaded image: the .ko copy, the core and init layouts (vmalloc addresses, 0n once freed). */
  image?: { copy: bigint; core: bigint; init: bigint; corePages: number; dataOffset: number };

  /**
   * finit_module()/init_module() and load_module() up to module_init: the .ko file is read into a vmalloc'ed copy
   * (6.1 kernel_read_file(); 2.6/3.4 load_module's own vmalloc), then move_module() allocates the core layout
   * (text, rodata, data, bss, the kept symbols) and the init layout with module_alloc() in the architecture's modules
   * area (x86_64 MODULES_VADDR + the KASLR load offset, i386 the vmalloc area, ARM the 16 MiB below PAGE_OFFSET), and
   * kallsyms points the module's functions into the core.
   *
   * Sizes (a simplification: a cell is TypeScript, not machine code): the core is the cell's source length times an
   * architecture's code density, plus on 6.1 the three page-aligned groups STRICT_MODULE_RWX lays out (rodata,
   * ro_after_init/data, bss and the kept symbols), or one page of data before; the init layout one page; the .ko
   * file a number of bytes per source byte that is the architecture's (external modules built with Debian's
   * CONFIG_DEBUG_INFO: 64-bit DWARF addresses and RELA relocations make amd64's the largest). Calibration:
   * memdemo.c (15858 bytes) gave a 7-page core on x86_64, 5 on i386 and 6 on armhf, and a .ko copy of 89 pages on
   * x86_64 (its vmalloc area 0x639000-0x693000 below memdemo's, the real insmod), 55 on i386 and 52 on armhf
   * (test/fixtures/real-kernel, vmallocinfo before/after insmod).
   */
  loadImage(sourceBytes: number): void {
    const k = this.k;
    const v = k.vmalloc;
    if (!v || this.image) return;
    const arch = k.profile.arch;
    const era = k.profile.era;
    const PAGE = 4096;
    // 6.1 (CONFIG_STRICT_MODULE_RWX): text, rodata and data+bss+symbols each start on a page; before, one block
    // with the module's data after its code.
    const density = arch === "i386" ? 0.5 : arch === "arm" ? 0.75 : 1.0;
    const codePages = Math.max(1, Math.ceil((Math.max(0, sourceBytes) * density) / PAGE));
    const corePages = era === "6.1" ? codePages + 3 : codePages + 1;
    const ks = k.kallsyms;
    const callerOf = (fn: string, off: number) => ks.frame(fn, off); // kernel symbols without a real size: invented
    // load_module's module_alloc() call site for the core layout, as the real logs show it (6.1); 3.4's module_alloc
    // is reached through module_alloc_update_bounds(), 2.6.26's through vmalloc_exec() inside module_alloc().
    const coreCaller =
      era === "6.1"
        ? arch === "x86_64"
          ? "load_module+0xbb7/0x21a0"
          : arch === "i386"
            ? "load_module+0xae0/0x1d20"
            : arch === "arm"
              ? "load_module+0xa90/0x21c8"
              : ks.frame("load_module")
        : era === "3.4"
          ? callerOf("module_alloc_update_bounds", 0x14)
          : "module_alloc+0x1e/0x20";
    const copyCaller = era === "6.1" ? callerOf("kernel_read_file", 0x1b0) : callerOf("load_module", 0x5c);
    // The loader's allocations are the kernel's, not the cell's: they are no fault-injection sites (the simulator's
    // fail-nth counts from module_init) and /proc views and checks attribute them to the kernel.
    const fault = k.fault as FaultInjection | undefined;
    const armed = fault?.armed ?? false;
    if (fault) fault.armed = false;
    let copy: bigint;
    let core: bigint;
    let init = 0n;
    try {
      copy = v.vmalloc(Math.max(PAGE, Math.ceil(Math.max(0, sourceBytes) * (era === "6.1" ? KO_BYTES_PER_SOURCE_BYTE[arch] : 14))), {
        caller: copyCaller,
        gfp: v.GFP_KERNEL | gfpNowarn(k),
      });
      core = v.module_alloc(corePages * PAGE, coreCaller);
      // The init layout: module_alloc() from the same function a few instructions on (the offset is invented).
      if (core) init = v.module_alloc(PAGE, era === "6.1" && coreCaller.startsWith("load_module+") ? bump(coreCaller, 0x5e) : coreCaller);
    } finally {
      if (fault) fault.armed = armed;
    }
    for (const a of [copy, core, init]) {
      const vm = a ? v.find_vm_area(a) : null;
      if (vm) vm.owner = "boot";
    }
    // kernel_read_file() reads the .ko from the initramfs (tmpfs) a page at a time from offset 0, and
    // shmem_file_read_iter() marks each page accessed: the unpack's write left them referenced on the inactive list
    // (shmem_get_folio_gfp(SGP_WRITE)), so this second touch activates them (folio_mark_accessed()). A reload reads
    // pages that are active already. (fs/meminfo.ts lruSplit; the real insmods moved 91 / 69 / 63 pages to the active
    // list on x86_64 / i386 / armhf, their .ko files being 89 / 55 / 52 pages.)
    if (copy && era === "6.1") k.lruActivatedPages = Math.max(k.lruActivatedPages, v.find_vm_area(copy)?.nr_pages ?? 0);
    // The kernel's data follows the text: the real memdemo's statics sat two pages below the core's end.
    this.image = { copy, core, init, corePages, dataOffset: Math.max(0, corePages - 2) * PAGE };
    // module_enable_ro() (6.1, STRICT_MODULE_RWX): text and rodata read-only, through their direct-map alias too (x86
    // CPA splits the large page holding each of those frames: meminfo's DirectMap4k grows as the real insmod shows).
    if (core && era === "6.1")
      // (machines built in parts by tests may have no page tables)
      (k.pgtable as PageTables | undefined)?.changeAttr(core, codePages + 1, { rw: false }, true);
    if (core) ks.setModuleBase(this.name, core);
    // load_module()'s free_copy() comes before do_init_module(): the copy's pages are free (on the per-CPU lists,
    // most recently freed first) when module_init runs, as the real logs' vmalloc pages show (descending PFNs from
    // right below the __get_free_page the module took first)
    if (copy) v.vfree(copy);
    this.image.copy = 0n;
  }

  /** do_init_module() is over: the init layout is freed (6.1: vfree of a VM_FLUSH_RESET_PERMS area resets the
   * permissions through _vm_unmap_aliases(), which purges every lazily freed area, the .ko copy's among them). */
  initDone(ok: boolean): void {
    const im = this.image;
    const v = this.k.vmalloc;
    if (!im || !v) return;
    if (im.init) v.vfree(im.init);
    if (im.copy) v.vfree(im.copy);
    im.init = 0n;
    im.copy = 0n;
    if (!ok) this.freeCore();
    else if (this.k.profile.era === "6.1") v.purge();
  }

  /** free_module(): the core layout goes (rmmod, or a failed load). */
  private freeCore(): void {
    const im = this.image;
    const v = this.k.vmalloc;
    if (!im || !v) return;
    if (im.init) v.vfree(im.init);
    if (im.copy) v.vfree(im.copy);
    if (im.core) v.vfree(im.core);
    if (this.k.profile.era === "6.1") v.purge();
    this.image = undefined;
  }
}

/**
 * The .ko file's bytes per byte of the module's source, per architecture (module.loadImage): memdemo.c's copies in the
 * real transcripts, 89 / 55 / 52 pages for its 15858 bytes (x86_64 / i386 / armhf); arm64 (no transcript) takes
 * amd64's, the other 64-bit build. The 2.6 and 3.4 builds keep 14 (no transcript of theirs shows a copy).
 */
const KO_BYTES_PER_SOURCE_BYTE: Record<Arch, number> = { x86_64: 22.9, arm64: 22.9, i386: 14, arm: 13.3 };

/** "load_module+0xae0/0x1d20" with the offset moved by `by` (kept inside the symbol). */
function bump(frame: string, by: number): string {
  const m = /^(\w+)\+0x([0-9a-f]+)\/0x([0-9a-f]+)$/.exec(frame);
  if (!m) return frame;
  const size = parseInt(m[3], 16);
  return `${m[1]}+0x${Math.min(parseInt(m[2], 16) + by, size - 1).toString(16)}/0x${m[3]}`;
}

function gfpNowarn(k: Kernel): number {
  return gfp(k.profile.era, "__GFP_NOWARN");
}
