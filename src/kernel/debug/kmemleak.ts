// Models mm/kmemleak.c of Linux 6.1 (print_unreferenced, hex_dump_object, the scan summary), as a kernel booted with kmemleak.verbose=1 prints it; 3.4 has the same format; 2.6.32 prints no hex dump.
//
// At rmmod (k.leakCheck) the simulator does what `echo scan > /sys/kernel/debug/kmemleak` does after the module is
// gone: every object the module allocated and did not free is unreferenced (the simulator does not scan memory for
// pointers: the module's data is gone, and a pointer stored in another leaked object does not keep it alive either —
// a simplification that reports chains of leaks all at once). kmemleak only reports objects older than 5 s
// (jiffies_min_age): the scan waits until the newest leaked object is 5 s old, i.e. the simulated clock moves on.
// Tracked, as in the kernel: slab objects (kmalloc, kmem_cache_alloc), large kmallocs (kmalloc_large_node), vmalloc
// areas (kmemleak_vmalloc: size = the page-aligned request). NOT tracked by kmemleak: the page allocator
// (alloc_pages, __get_free_pages) — those leaks are in leaks() with reported=false and get a kmodlab note report,
// not kernel text.
// Format (pr_warn, pr_fmt "kmemleak: "): "unreferenced object 0x%08lx (size %zu):", "  comm \"%s\", pid %d, jiffies
// %lu (age %d.%03ds)", "  hex dump (first %zu bytes):" + print_hex_dump rows with a 4-space prefix (no hex dump in
// 2.6.32), "  backtrace:", "    [<%pK>] %pS" per frame; then pr_info "%d new suspected memory leaks (see
// /sys/kernel/debug/kmemleak)".
// Simplifications: the allocation time and task of each object are the module's load (insmod) unless the
// allocator recorded them; the backtrace is the allocator's entry, the allocating module function (offset of its
// first call) and insmod's path. Distro configs have no kmemleak: the kernel prints nothing, leaks() still lists the
// facts, and kmodlab adds one note per allocator and caller (noteUntracked), as it does for pages on every config.

import type { Kernel, Task } from "../kernel.ts";
import { kernLevels } from "../kernel/printk.ts";
import { PageOwner } from "../mm/page_flags.ts";

export interface Leak {
  kind: "slab" | "kmalloc_large" | "vmalloc" | "pages";
  addr: bigint;
  size: number;
  /** The module function that allocated it, when the allocator knows. */
  caller?: string;
  cache?: string;
  /** Printed by kmemleak (false for pages, and in the distro config). */
  reported: boolean;
}

const MIN_AGE_MS = 5000;

export class Kmemleak {
  private readonly k: Kernel;
  readonly enabled: boolean;
  /** Where the objects came from (first insmod seen), for comm/pid/jiffies. */
  loadTask: Task = { pid: 108, comm: "insmod" };
  loadNs = 0;
  private seenLoad = false;
  private scanned = false;
  private last: Leak[] = [];

  constructor(k: Kernel) {
    this.k = k;
    this.enabled = k.debug && k.profile.era !== "2.6" ? true : k.debug;
  }

  /** Called when insmod starts (sched sees the sandbox's insmod task): the default age of the module's objects. */
  noteLoad(task: Task): void {
    if (this.seenLoad) return;
    this.seenLoad = true;
    this.loadTask = { ...task };
    this.loadNs = this.k.clock.now();
  }

  /** Everything the module allocated and still holds (any config). */
  leaks(): Leak[] {
    const k = this.k;
    const out: Leak[] = [];
    const slab = (
      k as unknown as {
        slab?: {
          liveObjects(opts?: {
            boot?: boolean;
          }): { addr: bigint; cache: string; requested: number; objectSize: number; caller?: string; via: "slab" | "page"; boot: boolean }[];
        };
      }
    ).slab;
    for (const o of slab?.liveObjects({ boot: false }) ?? []) {
      if (o.boot) continue;
      out.push({
        kind: o.via === "page" ? "kmalloc_large" : "slab",
        addr: o.addr,
        size: o.via === "page" ? o.requested : o.objectSize,
        caller: o.caller,
        cache: o.cache,
        reported: this.enabled,
      });
    }
    const vm = (
      k as unknown as {
        vmalloc?: {
          moduleVmallocAreas?(): { start: bigint; size: number; caller: string }[];
          areas(): { start: bigint; size: number; caller: string; owner: string; state: string; flagNames: string[] }[];
        };
      }
    ).vmalloc;
    // the module's busy vmalloc areas (a machine built in parts by a test may have only areas())
    const areas =
      vm?.moduleVmallocAreas?.() ?? (vm?.areas() ?? []).filter((a) => a.owner === "module" && a.state === "busy" && a.flagNames.includes("vmalloc"));
    for (const a of areas) {
      // vm->size includes the guard page; kmemleak_vmalloc() was given the page-aligned request.
      const fn = /^([\w.$]+)\+0x/.exec(a.caller)?.[1] ?? (a.caller || undefined);
      out.push({ kind: "vmalloc", addr: a.start, size: a.size - 4096, caller: fn, reported: this.enabled });
    }
    for (const p of k.pages?.allocations?.(PageOwner.Module) ?? []) {
      if (p.ownerName !== "Module" && p.ownerName !== "module") continue;
      out.push({ kind: "pages", addr: k.pages.page_address(p.pfn), size: 4096 << p.order, caller: p.caller, reported: false });
    }
    out.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    return out;
  }

  /** The scan after rmmod: print every unreferenced object (debug config), one Report "leak" per object. */
  scan(): Leak[] {
    if (this.scanned) return this.last;
    this.scanned = true;
    const k = this.k;
    const leaks = this.leaks();
    this.last = leaks;
    const printed = leaks.filter((l) => l.reported);
    const pages = leaks.filter((l) => l.kind === "pages");
    if (printed.length) {
      // jiffies_min_age: wait until the objects are 5 s old.
      k.clock.setAtLeast(this.loadNs + MIN_AGE_MS * 1e6 + k.clock.tickNsec);
      for (const l of printed) this.printObject(l);
      const s = `kmemleak: ${printed.length} new suspected memory leaks (see /sys/kernel/debug/kmemleak)`;
      k.printk(kernLevels(k.profile).KERN_INFO + "%s\n", s);
    }
    for (const l of pages) {
      const t = `kmodlab: ${l.size / 4096} page${l.size > 4096 ? "s" : ""} at 0x${l.addr.toString(16)} from the page allocator were never freed (kmemleak does not track alloc_pages/__get_free_pages, so the kernel says nothing)`;
      k.report({
        kind: "leak",
        title: t,
        text: t,
        frames: l.caller ? [{ fn: l.caller }] : undefined,
        explain: "Every __get_free_pages()/alloc_pages() needs a matching free_pages()/__free_pages() with the same order before module_exit returns.",
      });
    }
    if (!this.enabled) this.noteUntracked(leaks.filter((l) => l.kind !== "pages" && !l.reported));
    return leaks;
  }

  /**
   * Without kmemleak (the distro configs: CONFIG_DEBUG_KMEMLEAK is not set) the kernel says nothing about a leaked
   * kmalloc, kmem_cache_alloc or vmalloc, as for pages on every config: kmodlab adds its own note, one per allocator
   * and caller (a loop that leaks 100,000 objects gets one note with their count, not 100,000).
   */
  private noteUntracked(leaks: Leak[]): void {
    const groups = new Map<string, Leak[]>();
    for (const l of leaks) {
      const key = `${l.kind}\u0000${l.cache ?? ""}\u0000${l.caller ?? ""}`;
      const g = groups.get(key);
      if (g) g.push(l);
      else groups.set(key, [l]);
    }
    for (const g of groups.values()) {
      const l = g[0];
      const bytes = g.reduce((n, x) => n + x.size, 0);
      const where = `${fromWhat(l)}${l.caller ? ` in ${l.caller}()` : ""}`;
      const what =
        g.length === 1 ? `${l.size} bytes at 0x${l.addr.toString(16)} from ${where} were` : `${g.length} allocations (${bytes} bytes) from ${where} were`;
      const t = `kmodlab: ${what} never freed (this kernel is built without kmemleak, so it says nothing; the debug config reports it)`;
      this.k.report({
        kind: "leak",
        title: t,
        text: t,
        frames: l.caller ? [{ fn: l.caller }] : undefined,
        explain: explainLeak(l),
      });
    }
  }

  /** The lines of one object, without the "kmemleak: " prefix (the /sys/kernel/debug/kmemleak form). */
  objectLines(l: Leak): string[] {
    const k = this.k;
    const w = k.profile.arch === "x86_64" || k.profile.arch === "arm64" ? 16 : 8;
    const lines = [`unreferenced object 0x${l.addr.toString(16).padStart(8, "0")} (size ${l.size}):`];
    const ageMs = Math.max(0, Math.floor((k.clock.now() - this.loadNs) / 1e6));
    const hz = k.clock.hz;
    const j = k.clock.jiffies - Math.floor((k.clock.now() - this.loadNs) / k.clock.tickNsec);
    void hz;
    lines.push(
      `  comm "${this.loadTask.comm}", pid ${this.loadTask.pid}, jiffies ${j} (age ${Math.floor(ageMs / 1000)}.${String(ageMs % 1000).padStart(3, "0")}s)`,
    );
    if (k.profile.era !== "2.6") {
      const n = Math.min(l.size, 32);
      lines.push(`  hex dump (first ${n} bytes):`);
      const bytes = this.read(l, n);
      for (let i = 0; i < n; i += 16) lines.push("    " + hexRow(bytes.subarray(i, Math.min(n, i + 16))));
    }
    lines.push("  backtrace:");
    for (const f of this.backtrace(l)) {
      const addr = k.kallsyms.frameAddress(f);
      lines.push(`    [<${this.hashed(addr, w)}>] ${k.kallsyms.frame(f)}`);
    }
    return lines;
  }

  private printObject(l: Leak): void {
    const k = this.k;
    const mark = k.log.mark();
    const lv = kernLevels(k.profile).KERN_WARNING;
    const lines = this.objectLines(l);
    for (const s of lines) k.printk(lv + "kmemleak: %s\n", s);
    const text = k.log.texts(mark).join("\n");
    k.report({
      kind: "leak",
      title: `kmemleak: ${lines[0]}`,
      text,
      frames: l.caller ? [{ fn: l.caller }] : undefined,
      explain: explainLeak(l),
    });
  }

  /** %pK in the kmemleak dump: the %p hash with kptr_restrict 0 (the printk engine's hashing). */
  private hashed(addr: bigint, w: number): string {
    try {
      const s = this.k.log.format("%pK", [addr]);
      if (/^[0-9a-f]+$/.test(s)) return s;
    } catch {
      /* fall through */
    }
    return addr.toString(16).padStart(w, "0");
  }

  private read(l: Leak, n: number): Uint8Array {
    const k = this.k;
    try {
      if (l.kind === "vmalloc") {
        const vm = (k as unknown as { vmalloc: { vmalloc_to_pfn(a: bigint): number } }).vmalloc;
        const pfn = vm.vmalloc_to_pfn(l.addr);
        if (pfn >= 0) return k.physmem.readBytes(pfn * 4096, n);
      } else {
        return k.physmem.readBytes(k.pages.virt_to_phys(l.addr), n);
      }
    } catch {
      /* unreadable: zeros */
    }
    return new Uint8Array(n);
  }

  private backtrace(l: Leak): string[] {
    const k = this.k;
    const fn = l.caller ?? "init_module";
    const mod = k.kallsyms.moduleFrame(fn, k.sched.moduleName());
    const alloc =
      l.kind === "vmalloc"
        ? ["__vmalloc_node_range", "__vmalloc_node", "vmalloc"]
        : l.kind === "kmalloc_large"
          ? k.profile.era === "6.1"
            ? ["__kmalloc_large_node", "__kmalloc"]
            : ["kmalloc_order_trace"]
          : k.profile.era === "6.1"
            ? ["kmalloc_trace"]
            : ["kmem_cache_alloc_trace"];
    const entry =
      k.profile.era === "6.1"
        ? ["do_one_initcall", "do_init_module", "load_module", "__do_sys_finit_module", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"]
        : ["do_one_initcall", "sys_init_module", "system_call_fastpath"];
    return [...alloc, mod, ...(k.profile.arch === "x86_64" ? entry : entry.slice(0, 4))];
  }
}

/** print_hex_dump row (rowsize 16, groupsize 1, ascii): hex bytes, padded to the ascii column (49), ascii. */
export function hexRow(b: Uint8Array): string {
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
  const ascii = [...b].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : ".")).join("");
  return hex.padEnd(49, " ") + ascii;
}

function fromWhat(l: Leak): string {
  return l.kind === "vmalloc"
    ? "vmalloc()"
    : l.kind === "kmalloc_large"
      ? "kmalloc() (a large one, from the page allocator)"
      : l.cache?.startsWith("kmalloc")
        ? "kmalloc()"
        : `kmem_cache_alloc() from ${l.cache}`;
}

function explainLeak(l: Leak): string {
  const what = fromWhat(l);
  const free = l.kind === "vmalloc" ? "vfree()" : l.cache && !l.cache.startsWith("kmalloc") ? "kmem_cache_free()" : "kfree()";
  return `${l.size} bytes from ${what}${l.caller ? ` in ${l.caller}()` : ""} were never freed: call ${free} on it before module_exit returns, or the memory is lost until reboot.`;
}
