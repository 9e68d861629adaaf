// Models init/main.c start_kernel(): the boot order of the subsystems, and the Kernel object that holds them.
// The simulator boots one CPU; every subsystem is a class that receives this Kernel and reaches its neighbours
// through it. Nothing here reads the wall clock: two boots with the same inputs are byte-identical.

import type { BootOptions, ConfigKind, Layout, Profile, Report } from "./types.ts";
import { getProfile } from "./profiles.ts";
import { parseCmdline, parseSize } from "./kernel/params.ts";
import { Clock } from "./kernel/time.ts";
import { LogBuffer, KERN_INFO, KERN_NOTICE, type PrintkArg } from "./kernel/printk.ts";
import { Kallsyms } from "./kernel/kallsyms.ts";
import { Taint } from "./kernel/panic.ts";
import { setup_arch, mem_init_print } from "./arch/index.ts";
import { PageAllocator } from "./mm/page_alloc.ts";
import { PhysMem } from "./mm/physmem.ts";
import { SlabAllocator, report_meminit } from "./mm/slub.ts";
import { PageTables } from "./mm/pgtable.ts";
import { Vmalloc } from "./mm/vmalloc.ts";
import { vmalloc_boot, vmallocBootSteps } from "./mm/vmalloc_boot.ts";
import { readProc } from "./fs/proc.ts";
import { Sched } from "./kernel/sched.ts";
import { Lockdep } from "./kernel/lockdep.ts";
import { Locking } from "./kernel/locking.ts";
import { Timers } from "./kernel/timer.ts";
import { Softirq } from "./kernel/softirq.ts";
import { Irq } from "./kernel/irq.ts";
import { Workqueues } from "./kernel/workqueue.ts";
import type { RunLimits, DrainResult } from "./kernel/events.ts";
import { Modules } from "./kernel/module.ts";
import { Kmemleak, type Leak } from "./debug/kmemleak.ts";
import { KTHREAD_LOADED_MS, type Kthreads } from "./kernel/kthread.ts";
import { MemoryAccess } from "./mm/memory.ts";
import { Kasan } from "./debug/kasan.ts";
import { checkKernelInvariants, formatViolations, type Violation } from "./debug/invariants.ts";
import { Dma } from "./kernel/dma.ts";
import { start_userspace, unpack_initramfs } from "./init/userspace.ts";
import { startBootTimeline, stopBootTimeline } from "./init/boot_timeline.ts";
import { boot_kthreads, poking_init } from "./init/boot_tasks.ts";
import { ftrace_init } from "./init/ftrace.ts";
import { console_uart_startup, early_trace_init, init_emergency_pool, init_espfix_bsp, kfree_rcu_fill_page_cache } from "./init/uncounted_pages.ts";
import { pcpu_boot_balance } from "./mm/percpu_boot.ts";
import { hugetlb_init } from "./mm/hugetlb_boot.ts";
import { pcpu_map_boot_chunk } from "./mm/percpu.ts";
import { dma_atomic_pool_init } from "./kernel/dma_pool.ts";
import { early_boot_frees, free_initrd, khugepaged_min_free_kbytes, late_boot_frees } from "./init/free_initmem.ts";
import { vfs_caches_init_early } from "./init/vfs_hash.ts";
import { e820ReserveResourcesLate, pci_iommu_alloc, pci_iommu_init, trap_init_memblock } from "./arch/early_memblock.ts";
import { boot_hash_tables_core, boot_hash_tables_net } from "./init/large_hash.ts";
import { FaultInjection } from "./debug/fault_inject.ts";
import { immutable, rebindable, stateless } from "./snapshot.ts";
import "./fs/all.ts";

/** A frame of the current call chain that a splat prints: kernel functions and the module's own. */
export interface StackFrame {
  fn: string;
  /** "cell" for the learner's module; undefined for the kernel itself. */
  module?: string;
  line?: number;
  column?: number;
}

/** The task the CPU is running: insmod during init, rmmod during exit, a kworker, swapper in interrupts. */
export interface Task {
  pid: number;
  comm: string;
  /** tsk_is_oom_victim(): the OOM killer chose this task (it is not chosen, nor reported, again). */
  oomVictim?: boolean;
}

export interface ResolvedBootOptions {
  mem: number;
  cmdline: string;
  seed?: number;
  config: ConfigKind;
}

import { KernelBootError } from "./boot_error.ts";
export { KernelBootError };

/** The stages after vmalloc_boot() that tick the boot's slab replay (boot()). */
const LATE_BOOT_TICKS = 9;

// The defaults of the hooks the sandbox installs per run; stateless or rebindable so that a snapshot copies them.
export const noModuleFrames = stateless((): StackFrame[] => []);
export const noWatchdog = stateless((): void => {});
export const noModuleCall = stateless((): number => 0);
export function innermostModuleFunction(this: Kernel): string | undefined {
  return this.captureModuleStack()[0]?.fn;
}
export function innermostModuleFrameOf(this: Kernel): StackFrame | undefined {
  return this.captureModuleStack()[0];
}

export class Kernel {
  readonly profile: Profile;
  readonly opts: ResolvedBootOptions;
  readonly params: Map<string, string | true>;
  readonly clock: Clock;
  readonly log: LogBuffer;
  readonly kallsyms: Kallsyms;
  readonly taint: Taint;
  layout!: Layout;
  pages!: PageAllocator;
  physmem!: PhysMem;
  /** Slab caches and the kmalloc family (issue 3). */
  slab!: SlabAllocator;
  /** The kernel page tables (swapper_pg_dir) in simulated frames: walk(), translate() (issue 4). */
  pgtable!: PageTables;
  /** vmap areas, vmalloc/vfree/vmap/ioremap (issue 4). */
  vmalloc!: Vmalloc;
  readonly reports: Report[] = [];
  /** Reports made so far, by kind, listed or not (report()). */
  private readonly reportCounts: Partial<Record<string, number>> = {};
  /** The kmodlab note that counts a kind's reports past MAX_REPORTS_PER_KIND (report()). */
  private readonly reportNotes: Partial<Record<string, Report>> = {};
  /**
   * The module's own frames at this moment, innermost first, for call traces. The sandbox installs a hook
   * that asks the guest for its stack (a walk of the guest's stack: a few microseconds, so the kernel asks only
   * for splats, for vmalloc's caller in /proc/vmallocinfo, and where a debug feature records stacks).
   */
  captureModuleStack: () => StackFrame[] = noModuleFrames;
  /**
   * The module function the kernel is running right now (module_init's function, module_exit's, a timer or IRQ
   * callback), without walking the guest's stack; the sandbox installs it. undefined outside module code.
   */
  moduleEntry: () => string | undefined = rebindable(innermostModuleFunction, this);
  /**
   * The module's innermost frame (captureModuleStack()[0]) where only it is needed: the sandbox knows it from the
   * call's site in the cell without walking the guest's stack (sandbox/bindings.ts innermostFrame).
   */
  innermostModuleFrame: () => StackFrame | undefined = rebindable(innermostModuleFrameOf, this);
  /**
   * Called from long loops inside one kernel call (a memset over gigabytes): the soft-lockup watchdog's view of a
   * CPU that never leaves the kernel. The sandbox installs its CPU deadline here (it throws to stop the run); a
   * bare kernel never stops.
   */
  watchdog: () => void = noWatchdog;
  /**
   * The number of the module's latest kernel call (the sandbox counts its host calls; 0 with no run on): two
   * allocations made in one call of the module (a vzalloc's thousand pages) share it, two calls from one line of a
   * loop do not. Fault injection records it per site (FaultSite.entry) so that the grader can fail each call.
   */
  moduleCallNumber: () => number = noModuleCall;

  /**
   * The module function an allocation is charged to (kmemleak's backtrace, the leak check, the views). With
   * kmemleak on (the debug kernels) it is the innermost module frame, as the real kmemleak's stack_trace_save() at
   * every allocation gives it; without kmemleak, it is the module function the kernel entered (moduleEntry):
   * a simplification that names module_init's function, not a helper it called, and costs no stack walk.
   */
  allocCaller(): string | undefined {
    return this.kmemleak?.enabled ? this.innermostModuleFrame()?.fn : this.moduleEntry();
  }
  current: Task = { pid: 0, comm: "swapper/0" };
  /** While boot() runs: an allocation the OOM killer would have to answer is a boot panic (no process to kill). */
  booting = false;
  /** vm_committed_as in pages (meminfo's Committed_AS): the boot's user space (init/boot_tasks.ts), then the processes a run starts (mm/mmap.ts VM_ACCOUNT). */
  vmCommittedPages = 0;
  /**
   * Page-cache pages of the initramfs that a read has moved to the active LRU since the boot (fs/meminfo.ts lruSplit):
   * insmod's kernel_read_file() of the module's .ko (kernel/module.ts loadImage).
   */
  lruActivatedPages = 0;
  /** Tasks with a kernel stack (init/boot_tasks.ts): meminfo's KernelStack is nrTasks x THREAD_SIZE. */
  nrTasks = 0;
  // Execution contexts, locking and deferred work (issue 5), constructed at the end of boot().
  sched!: Sched;
  lockdep!: Lockdep;
  locking!: Locking;
  timers!: Timers;
  softirq!: Softirq;
  irq!: Irq;
  workqueue!: Workqueues;
  modules!: Modules;
  kmemleak!: Kmemleak;
  /** The kernel threads modules made (kernel/kthread.ts), made on first use. */
  kthreads?: Kthreads;
  /**
   * Windows of simulated time (ns) in which another task holds the CPU (a busy machine: RunOptions.busy), so that
   * the module's threads cannot run (kernel/kthread.ts). Empty or undefined: the CPU is the module's.
   */
  cpuBusy?: { fromNs: number; toNs: number }[];
  /** The memory access path: loads, stores, string routines, the dTLB, faults (issue 4). */
  mem!: MemoryAccess;
  /** Generic KASAN (6.1 debug kernels on x86_64/ARM/arm64); undefined elsewhere. */
  kasan?: Kasan;
  dma!: Dma;
  /** failslab, fail_page_alloc and the tasks' fail-nth (lib/fault-inject.c); usable on the debug kernels. */
  fault!: FaultInjection;

  /** Drain deferred work (timers, tasklets, interrupts, work) after module_init, up to a bound. */
  runDeferred(limits: RunLimits = {}): DrainResult {
    // A kernel thread that loops never empties the queue: the module then stays loaded KTHREAD_LOADED_MS (kthread.ts).
    if (limits.simTimeMs === undefined && this.kthreads?.alive().length) limits = { ...limits, simTimeMs: KTHREAD_LOADED_MS };
    return this.sched.runDeferred(limits);
  }

  /** After module_exit: lock, kmemleak and DMA-API checks of the unloaded module. Returns the leaks (any config). */
  leakCheck(): Leak[] {
    // delete_module() and free_module() sleep (async_synchronize_full(), synchronize_rcu()) before the module's memory
    // goes: the work and tasklets module_exit queued for now run then, in the still-mapped text. Simplification: only
    // what is due now, at most as many events as are pending (what they queue again comes after the free); a timer or
    // delayed work due later fires after the free (Timers/Workqueues.runOrphans below).
    this.sched.runDeferred({ simTimeMs: 0, maxEvents: this.sched.loop.pending() });
    this.modules.unloaded();
    this.kthreads?.runOrphans(this.modules.name); // a thread module_exit did not stop runs again in freed text
    this.dma.release();
    // a timer module_exit left armed fires in freed text: the Oops and the panic end the run here (KernelOops)
    this.timers.runOrphans();
    this.workqueue.runOrphans(); // and its work still queued: the Oops kills the kworker
    return this.kmemleak.scan();
  }

  /**
   * The simulator's own consistency check (debug/invariants.ts), run by `kmodlab run --check-invariants`. Any
   * violation is a bug in kmodlab, not in the module: it becomes one "bug" report that says so. Returns them.
   */
  checkInvariants(): Violation[] {
    // Violations that are the module's own corruption (pages it freed under another user) are not reported here.
    // sinceVerified: slabs still as a clean check of this machine found them are not checked again (same result).
    const vs = checkKernelInvariants(this, { sinceVerified: true }).filter((v) => v.cause === "simulator");
    if (vs.length) {
      const title = `kmodlab internal error: the simulated kernel is inconsistent (${vs.length} invariant violation${vs.length === 1 ? "" : "s"}: ${vs[0]!.check}: ${vs[0]!.message})`;
      const explain =
        "This is a bug in the simulator (kmodlab), not in your module: whatever a module does, the simulated kernel must stay consistent. Please report it with the module and the profile.";
      this.report({ kind: "bug", title, text: `${title}\n${explain}\n${formatViolations(vs)}`, explain });
    }
    return vs;
  }

  /** The sim module's hooks: raise an interrupt at a simulated time; let time pass; the board. */
  scheduleIrq(atNs: number, irq: number): void {
    this.irq.scheduleAt(atNs, irq);
  }
  get events(): { runUntil(until: number): void } {
    return { runUntil: (until: number) => this.sched.idleUntil(until) };
  }
  get board(): { buttonIrq: number; dmaDevice: () => Dma["device"] } {
    return { buttonIrq: this.irq.BUTTON_IRQ, dmaDevice: () => this.dma.device };
  }

  constructor(profile: Profile, opts: ResolvedBootOptions) {
    this.profile = profile;
    this.opts = opts;
    this.params = parseCmdline(opts.cmdline);
    this.clock = new Clock(profile.hz);
    this.kallsyms = new Kallsyms(this);
    this.taint = new Taint(this);
    this.log = new LogBuffer(this);
  }

  /** True when booted as the developer's debug kernel (might_sleep, KASAN, kmemleak, lockdep, DMA-API debug). */
  get debug(): boolean {
    return this.opts.config === "debug";
  }

  printk(fmt: string, ...args: PrintkArg[]): number {
    return this.log.printk(fmt, ...args);
  }

  /**
   * Inspection data for RunResult.kernel (JSON-only: addresses as hex strings), beyond what the sandbox gathers
   * itself: the board's DMA device with its masks (the grader judges "within the device's DMA mask" from it).
   */
  inspect(): Record<string, unknown> {
    const d = this.dma?.device;
    return d ? { dma: { device: `${d.driverString} ${d.name}`, mask: "0x" + d.dmaMask.toString(16), coherentMask: "0x" + d.coherentMask.toString(16) } } : {};
  }

  /** The text of /proc/NAME now. */
  proc(name: string): string {
    return readProc(this, name);
  }

  /**
   * Record a report (kmodlab's structured view of a splat, a leak, a limit). At most MAX_REPORTS_PER_KIND of one kind
   * are kept; past them one kmodlab note counts the rest. A module that leaks 100,000 objects makes kmemleak print
   * each (the log buffer keeps the last 128 KiB of that text, printk.ts), and a report per object held 7.7 KB of the
   * host's memory each, 770 MB in all.
   */
  report(r: Report): void {
    const n = (this.reportCounts[r.kind] ?? 0) + 1;
    this.reportCounts[r.kind] = n;
    if (n <= MAX_REPORTS_PER_KIND) {
      this.reports.push(r);
      return;
    }
    const more = n - MAX_REPORTS_PER_KIND;
    const t = `kmodlab: ${more} more ${r.kind} report${more === 1 ? " is" : "s are"} not listed (the first ${MAX_REPORTS_PER_KIND} are; dmesg has the kernel's text while its log buffer holds it)`;
    const note = this.reportNotes[r.kind];
    if (note) {
      note.title = t;
      note.text = t;
    } else this.reports.push((this.reportNotes[r.kind] = { kind: r.kind, title: t, text: t, explain: r.explain }));
  }
}

export function resolveBootOptions(profile: Profile, opts: BootOptions = {}): ResolvedBootOptions {
  const mem = opts.mem ?? profile.defaultMem;
  if (!Number.isSafeInteger(mem) || mem <= 0) throw new KernelBootError(`bad memory size: ${opts.mem}`);
  // the seed feeds BigInt arithmetic (KASLR, the freelist shuffle, prandom): an integer a double holds exactly
  if (opts.seed !== undefined && !(Number.isSafeInteger(opts.seed) && opts.seed >= 0))
    throw new KernelBootError(`bad seed: ${String(opts.seed)}: expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}`);
  return {
    mem,
    cmdline: opts.cmdline ?? profile.defaultCmdline,
    seed: opts.seed,
    config: opts.config ?? profile.defaultConfig,
  };
}

/** How many reports of one kind a run lists (Kernel.report). */
export const MAX_REPORTS_PER_KIND = 100;

/**
 * start_kernel(): boot a machine of this profile. Throws KernelBootError for inputs no machine could boot with.
 *
 * Each call boots a new machine. Runs get theirs through a boot cache (snapshot.ts: BootCache, used by
 * sandbox/run.ts's loadKernelDeps): from a boot key's second run, a copy of one booted template instead of a boot.
 * The copy is generic (the whole object graph from this Kernel), so a field added here is copied without a change
 * there; a hook registered at boot that holds the kernel must be made with rebindable() (a closure makes the copy
 * refuse, and that key boots every time), and module-level state kept per kernel object lives in a SideTable.
 * test/kernel/snapshot.test.ts compares copies with fresh boots field by field; test/perf/golden.test.ts pins the
 * output of boot and of a run byte for byte; bench/boot.bench.ts and bench/speed.bench.ts measure them.
 */
export function boot(profile: string | Profile, opts: BootOptions = {}): Kernel {
  const p = typeof profile === "string" ? getProfile(profile) : profile;
  const k = new Kernel(p, resolveBootOptions(p, opts));
  k.booting = true;
  // The boot lines' timestamps follow the reference boot's timeline until "Run /init" (init/boot_timeline.ts); a boot
  // without user space (the kernel's unit tests) keeps its clock near 0, where their event timings are exact.
  if (opts.userspace !== false) startBootTimeline(k);
  // setup_arch(): memory map, layout, zones, memblock reservations, and the lines the arch prints.
  k.layout = setup_arch(k);
  k.physmem = new PhysMem(k);
  k.physmem.setRam(k.layout.memory);
  // free_area_init() + build_all_zonelists(): zones, "Zone ranges:", "Built 1 zonelists ...".
  k.pages = new PageAllocator(k);
  k.printk(KERN_NOTICE + "Kernel command line: %s\n", k.opts.cmdline);
  // vfs_caches_init_early(): the dentry and inode hash tables from memblock (init/vfs_hash.ts).
  vfs_caches_init_early(k);
  // trap_init(): x86_64's CPU entry area tables from memblock; mem_init()'s pci_iommu_alloc() (swiotlb) before the free.
  trap_init_memblock(k);
  // mm_init(): report_meminit()'s "mem auto-init" line, then mem_init() (whose pci_iommu_alloc() sets up swiotlb)
  report_meminit(k);
  pci_iommu_alloc(k);
  // parse_args(): the __setup handlers of failslab= and fail_page_alloc= (setup_fault_attr()).
  k.fault = new FaultInjection(k);
  k.fault.parseBootParams();
  // mm_init() -> mem_init(): memblock hands free memory to the buddy lists (in the era's order), "Memory: ...".
  k.pages.mem_init(() => k.pages.preallocate_vmalloc_pages());
  // mem_init() of the older eras prints the virtual kernel memory layout after "Memory:".
  mem_init_print(k);
  // kmem_cache_init(): bootstrap caches, kmalloc caches, the "SLUB: HWalign=..." line.
  k.slab = new SlabAllocator(k);
  k.slab.kmem_cache_init();
  // ftrace_init() (right after mm_init): the dyn_ftrace record pages, from the buddy lists (init/ftrace.ts).
  ftrace_init(k);
  // early_trace_init(): the tracing ring buffers at their minimum size (init/uncounted_pages.ts).
  early_trace_init(k);
  // setup_per_cpu_pageset(), then the objects the initcalls and early user space leave in the slab caches, which the
  // real kernel allocates after it, through the per-CPU page lists.
  k.pages.setup_per_cpu_pageset();
  // The boot's slab objects come in time order with the rest of the boot's allocations: a tick after each vmalloc
  // step (mm/vmalloc_boot.ts) and each stage below, all of them allocated by the end (bootSlabFinish).
  k.slab.kmem_cache_populate_boot(vmallocBootSteps(k) + LATE_BOOT_TICKS);
  // paging_init's kernel page tables (linear map), then vmalloc_init() and the boot's vmalloc/ioremap activity.
  k.pgtable = new PageTables(k);
  k.vmalloc = new Vmalloc(k, k.pgtable);
  let vmallocBootAfterInitcalls: () => void;
  try {
    vmallocBootAfterInitcalls = vmalloc_boot(k, k.vmalloc);
  } catch (e) {
    // A command line that leaves almost no lowmem (ARM's vmalloc= at its maximum) runs the boot out of memory
    // for its own page tables: the real kernel panics there.
    if (e instanceof Error && /page tables: out of memory/.test(e.message)) {
      const lowmemMb = Math.floor(Number(k.layout.highMemory - k.layout.pageOffset) / 2 ** 20);
      const clamp = k.log.records.find((r) => /^vmalloc area .*limiting to/.test(r.text))?.text;
      throw new KernelBootError(
        `${clamp ? `${clamp.trim()}; then ` : ""}Kernel panic - not syncing: out of memory mapping the boot's vmalloc areas: only ${lowmemMb} MB of lowmem with this command line`,
      );
    }
    throw e;
  }
  k.vmalloc.bootDone = true;
  // The second percpu chunk's populated pages (mm/percpu_boot.ts), mapped in its VM area (mm/percpu.ts).
  pcpu_boot_balance(k);
  pcpu_map_boot_chunk(k);
  k.slab.bootSlabTick();
  // The scheduler and its neighbours come up last, so that boot-time allocations (system_state != SYSTEM_RUNNING)
  // are never checked by might_sleep.
  k.sched = new Sched(k);
  k.lockdep = new Lockdep(k);
  k.locking = new Locking(k);
  k.timers = new Timers(k);
  k.softirq = new Softirq(k);
  k.irq = new Irq(k);
  k.workqueue = new Workqueues(k);
  k.modules = new Modules(k);
  k.kmemleak = new Kmemleak(k);
  k.dma = new Dma(k);
  // KASAN's shadow and hooks, then the access path that checks every load and store against it.
  if (Kasan.enabledFor(k)) k.kasan = new Kasan(k);
  k.mem = new MemoryAccess(k);
  // x86's poking_init(): text_poke()'s mm and its tables (init/boot_tasks.ts)
  poking_init(k);
  // x86_64's init_espfix_bsp(): the espfix tables and stack page (init/uncounted_pages.ts)
  init_espfix_bsp(k);
  // rest_init(): the scheduler runs (RCU_SCHEDULER_RUNNING); the early initcalls' first kvfree_rcu() fills the boot
  // CPU's bulk-page cache (init/uncounted_pages.ts)
  kfree_rcu_fill_page_cache(k);
  k.pages.bootStage = 1; // kernel_init() (PID 1) runs the initcalls from here
  k.slab.bootSlabTick();
  // SMP alternatives, CMA given back, init_per_zone_wmark_min(); the atomic DMA pools (postcore_initcall); the
  // initrd, khugepaged's watermarks and kernel_init's frees of __init and the image's gaps (init/free_initmem.ts), in
  // the initcalls' order below.
  early_boot_frees(k);
  k.slab.bootSlabTick();
  // pid_max, the mount hash tables (start_kernel) and futex's (core_initcall); the atomic DMA pools; the fs_initcalls'
  // quota and network hash tables (init/large_hash.ts), all from the page allocator.
  boot_hash_tables_core(k);
  k.slab.bootSlabTick();
  dma_atomic_pool_init(k);
  // subsys_initcall hugetlb_init() (mm/hugetlb_boot.ts), then pci_subsys_init() -> pcibios_resource_survey() -> e820__reserve_resources_late() (x86)
  hugetlb_init(k);
  if (p.era === "6.1" && (p.arch === "x86_64" || p.arch === "i386")) e820ReserveResourcesLate(k, k.layout.memMap);
  k.slab.bootSlabTick();
  khugepaged_min_free_kbytes(k);
  boot_hash_tables_net(k);
  k.slab.bootSlabTick();
  // rootfs_initcall populate_rootfs(): 6.1 unpacks the initramfs into the rootfs (the page cache /init reads), before
  // kernel_init() frees __init and the image gaps, then frees the initrd.
  // populate_rootfs() hands the unpacking to an async worker and returns; x86's pci_iommu_init() (rootfs_initcall,
  // linked after init/) says whether the bounce buffer stays before the worker's "Freeing initrd memory".
  pci_iommu_init(k);
  const unpacked = opts.userspace !== false && p.era === "6.1";
  if (unpacked) unpack_initramfs(k);
  // module_init workingset_init() (mm/workingset.c, 6.1), a device initcall that the real boots all print before the
  // async unpacker's "Freeing initrd memory": timestamp_bits = BITS_PER_LONG - EVICTION_SHIFT, EVICTION_SHIFT =
  // (BITS_PER_LONG - BITS_PER_XA_VALUE) + WORKINGSET_SHIFT + NODES_SHIFT + MEM_CGROUP_ID_SHIFT = 1 + 1 + (Debian
  // amd64's CONFIG_NODES_SHIFT 10, no NUMA on 686 and armmp) + (CONFIG_MEMCG: 16; the debug build has neither); max_order
  // = fls_long(totalram_pages() - 1), bucket_order the excess. Real: x86_64 512M 36/17/0, i386 and armhf 1G 14/18/4,
  // the debug build 62/17/0. arm64 is not printed (Debian's arm64 NODES_SHIFT is not in the reference).
  if (p.era === "6.1" && p.arch !== "arm64") {
    const bits = p.arch === "x86_64" ? 64 : 32;
    const distro = k.opts.config === "distro";
    const timestampBits = bits - (2 + (distro && p.arch === "x86_64" ? 10 : 0) + (distro ? 16 : 0));
    const last = k.pages.totalramPages - 1;
    const maxOrder = last > 0 ? last.toString(2).length : 0; // fls_long()
    k.printk(KERN_INFO + "workingset: timestamp_bits=%d max_order=%d bucket_order=%u\n", timestampBits, maxOrder, Math.max(0, maxOrder - timestampBits));
  }
  free_initrd(k);
  // __initcall init_emergency_pool(): the HIGHMEM kernels' bounce page pool (init/uncounted_pages.ts)
  init_emergency_pool(k);
  // late_initcall init_zswap() (mm/zswap.c, 6.1; CONFIG_ZSWAP=y in Debian's common config, off until enabled): its
  // default pool is created at boot whatever zswap.enabled says, and reported. Its objects and the per-CPU lzo
  // contexts' vmallocs (crypto_scomp_init_tfm) are in the boot replay (mm/slab_boot.ts, mm/vmalloc_boot.ts).
  if (p.era === "6.1") k.printk(KERN_INFO + "zswap: loaded using pool %s/%s\n", "lzo", "zbud");
  k.slab.bootSlabTick();
  // The kernel threads the initcalls started (their stacks; init/boot_tasks.ts).
  boot_kthreads(k);
  k.slab.bootSlabTick();
  // console_on_rootfs(): /dev/console's serial port takes its transmit page; then kernel_init()'s frees.
  k.pages.bootStage = 2; // do_initcalls() done
  console_uart_startup(k);
  // the boot replay's frees that follow the initcalls (mm/vmalloc_boot.ts), before mark_rodata_ro()'s purge
  vmallocBootAfterInitcalls();
  late_boot_frees(k);
  k.slab.bootSlabTick();
  // kernel_init(): run /init; user space fills its own memory (and, before 6.1, the page cache) until the
  // learner's insmod.
  if (k.debug) print_debug_banners(k);
  if (opts.userspace !== false) start_userspace(k, unpacked);
  stopBootTimeline(k);
  k.slab.bootSlabFinish();
  // The untouched full boot slabs as shared columns (mm/slub_boot_tail.ts): a copy of this machine shares them.
  k.slab.compactBootSlabs();
  // The boot's log records, closed lines never written again, shared with every copy likewise; the page allocator's
  // gfp/caller records (copy on write); and the layout's ranges (the e820 map, memblock reservations, virtual
  // regions), which nothing writes after setup_arch.
  k.log.shareClosedRecords();
  k.pages.shareAllocInfo();
  for (const list of [k.layout.memMap, k.layout.reservations, k.layout.regions]) for (const r of list) immutable(r);
  // Fault injection acts from here on (CONFIG_FAULT_INJECTION: the debug kernels); the simulated boot's own
  // allocations never fail (fault_inject.ts header).
  k.fault.armed = k.fault.available;
  k.booting = false;
  return k;
}

export { parseSize };

/**
 * The lines a debug kernel prints as its checkers come up (kernel/locking/lockdep.c lockdep_init(),
 * arch/x86/mm/kasan_init_64.c, mm/kmemleak.c kmemleak_init()/kmemleak_late_init(), kernel/dma/debug.c), so that
 * the boot log says which configuration this is. Simplification: the real kernel prints them at different points
 * of the boot; here they come together at the end of start_kernel().
 */
function print_debug_banners(k: Kernel): void {
  const era = k.profile.era;
  k.printk(KERN_INFO + "Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar\n");
  if (k.kasan) k.printk(KERN_INFO + "kasan: KernelAddressSanitizer initialized\n");
  if (era !== "2.6") {
    // kmemleak (2.6.31+) and DMA-API debugging (2.6.27+; the 2.6 profile is 2.6.26).
    k.printk(KERN_INFO + "DMA-API: preallocated 65536 debug entries\n");
    k.printk(KERN_INFO + "DMA-API: debugging enabled by kernel config\n");
    k.printk(KERN_INFO + "kmemleak: Kernel memory leak detector initialized (mem pool available: 15875)\n");
    k.printk(KERN_INFO + "kmemleak: Automatic memory scanning thread started\n");
  }
}
