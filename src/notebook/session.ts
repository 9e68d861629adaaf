// The run worker's memory between messages: the kernels of the last few runs (so that a click on an address in a
// run's output walks that run's own page tables, exactly) and one kernel booted ahead of time (so that Run does
// not wait for a boot). Plain TypeScript over the sandbox's KernelDeps: no DOM, no worker globals, tested in Node.
//
// How it plugs into the sandbox without changing it: runModule(source, options, deps) takes the kernel's deps; the
// session hands it deps whose boot() returns the pre-booted kernel when the options match, and whose inspect()
// (called once per run, at the end) records the run's kernel.

import type { Kernel } from "../kernel/kernel.ts";
import type { BootOptions } from "../kernel/types.ts";
import type { KernelDeps } from "../../sandbox/run.ts";
import { captureWalkView, walkJson, type WalkJson, type WalkView } from "../kernel/mm/ptdump.ts";
import { runsOf } from "../../sandbox/kview.ts";
import type { CellBuffer } from "./protocol.ts";
import { memoryRoles, memRecords } from "../../sandbox/memrecords.ts";
import type { CallRecord } from "../../sandbox/calllog.ts";
import type { MemoryRole } from "../../sandbox/table.ts";

/** How many runs' kernels stay walkable (one per cell of a lesson, roughly; older runs say so when clicked). */
export const KEEP_KERNELS = 6;

const bootKey = (profile: string, o: BootOptions) => JSON.stringify([profile, o.mem ?? null, o.cmdline ?? null, o.seed ?? null, o.config ?? null]);

export class KernelSession {
  private readonly kept = new Map<number, { k: Kernel; loaded?: WalkView }>();
  private spare: { key: string; k: Kernel } | undefined;
  /** The module's vmap areas (start -> pages) just before module_exit ran: vfree takes the PTEs away. */
  private areasBeforeExit: Map<bigint, number[]> | undefined;
  /** The page tables, areas and frame owners just before module_exit ran (walks "while loaded"). */
  private viewBeforeExit: WalkView | undefined;
  /** The kernel of the run in progress (set by boot, claimed by keep()). */
  private current: Kernel | undefined;
  /** Boots served from the spare kernel (tests and metrics read it). */
  preboots = { used: 0, booted: 0 };

  /** The table's memory roles: which calls allocate what (the grader reads the same, sandbox/memrecords.ts). */
  readonly roles: Map<string, MemoryRole>;

  constructor(private readonly base: KernelDeps) {
    this.roles = memoryRoles(base.api);
  }

  /**
   * The deps to pass to runModule for one run: boots from the spare when it fits (unless `useSpare` is false: the
   * worker's warm-up runs leave the spare for the learner's Run), remembers the kernel.
   */
  deps(useSpare = true): KernelDeps {
    return {
      ...this.base,
      boot: (profile, o) => {
        const key = bootKey(profile, o);
        let k: Kernel;
        if (useSpare && this.spare && this.spare.key === key) {
          k = this.spare.k;
          this.preboots.used++;
        } else k = this.base.boot(profile, o);
        if (useSpare) this.spare = undefined;
        this.current = k;
        this.areasBeforeExit = undefined;
        this.viewBeforeExit = undefined;
        this.watchExit(k);
        return k;
      },
    };
  }

  /** Remember the module's vmalloc pages when rmmod starts (Modules.unloading, called just before module_exit). */
  private watchExit(k: Kernel): void {
    const mods = (k as { modules?: { unloading?: () => void } }).modules;
    const orig = mods?.unloading;
    if (!mods || typeof orig !== "function") return;
    mods.unloading = () => {
      this.areasBeforeExit = moduleAreas(k);
      try {
        this.viewBeforeExit = captureWalkView(k);
      } catch {
        this.viewBeforeExit = undefined; // walks then show the end of the run only
      }
      orig.call(mods);
    };
  }

  /**
   * After a run: keep its kernel under the run's id (dropping the oldest past KEEP_KERNELS), and say which frames
   * held each buffer the cell allocated (from the run's call log: RunResult.kernel.calls).
   */
  keep(runId: number, calls?: unknown): CellBuffer[] {
    const k = this.current;
    this.current = undefined;
    if (!k) return [];
    this.kept.set(runId, { k, loaded: this.viewBeforeExit });
    while (this.kept.size > KEEP_KERNELS) this.kept.delete(this.kept.keys().next().value!);
    const areas = this.areasBeforeExit ?? moduleAreas(k);
    this.areasBeforeExit = undefined;
    this.viewBeforeExit = undefined;
    return Array.isArray(calls) ? cellBuffers(k, calls as CallRecord[], areas, this.roles) : [];
  }

  /** Forget a run's kernel without keeping it (the warm-up run). */
  discard(): void {
    this.current = undefined;
  }

  has(runId: number): boolean {
    return this.kept.has(runId);
  }

  kernel(runId: number): Kernel | undefined {
    return this.kept.get(runId)?.k;
  }

  /** Boot the next run's kernel now (idle time). A boot that throws leaves no spare: the run boots and reports it. */
  preboot(profile: string, o: BootOptions): void {
    const key = bootKey(profile, o);
    if (this.spare?.key === key) return;
    try {
      this.spare = { key, k: this.base.boot(profile, o) };
      this.preboots.booted++;
    } catch {
      this.spare = undefined;
    }
  }

  hasSpare(profile: string, o: BootOptions): boolean {
    return this.spare?.key === bootKey(profile, o);
  }

  /**
   * The page-table walk of `addr` in the kernel of run `runId`: by default as the tables were while the module was
   * loaded (just before module_exit), when the run got that far; "end" walks the tables as the run left them.
   */
  walk(runId: number, addr: bigint, when: "loaded" | "end" = "loaded"): WalkJson {
    const kept = this.kept.get(runId);
    if (!kept) throw new Error("this run's kernel is no longer kept (the page keeps the last few runs): run the cell again, then click the address");
    const view = when === "loaded" ? kept.loaded : undefined;
    return { ...walkJson(kept.k, addr, view), when: view ? "loaded" : "end", canLoaded: !!kept.loaded };
  }
}

function moduleAreas(k: Kernel): Map<bigint, number[]> {
  const m = new Map<bigint, number[]>();
  for (const a of k.vmalloc?.areas() ?? []) if (a.owner === "module") m.set(a.start, a.pages);
  return m;
}

/**
 * The frames behind each buffer the cell allocated (the allocations of the one record model, sandbox/memrecords.ts):
 * a vmalloc buffer's pages as its area held them before module_exit; a slab, DMA or page buffer's frames through
 * the page tables (the linear map stays after kfree). I/O mappings, caches and workqueues hold no RAM frames of the
 * module's own and are not listed.
 */
export function cellBuffers(k: Kernel, calls: readonly CallRecord[], areas: Map<bigint, number[]>, roles: Map<string, MemoryRole>): CellBuffer[] {
  const out: CellBuffer[] = [];
  const l = k.layout;
  const recs = memRecords(calls, roles, { pageSize: l.pageSize, vmallocStart: l.vmallocStart, vmallocEnd: l.vmallocEnd });
  for (const a of recs.allocs) {
    if (a.family !== "page" && a.family !== "slab" && a.family !== "vmalloc" && a.family !== "dma-coherent") continue;
    // alloc_pages returns a struct page: its buffer is the kernel address page_address/kmap gave it, when named
    const addr = a.call.fn.startsWith("alloc_page") ? a.virt : a.addr;
    if (addr === undefined || addr === 0n) continue;
    const size = a.size || undefined;
    const pages = areas.get(addr);
    let pfns: number[];
    let kind: CellBuffer["kind"];
    if (pages) {
      kind = "vmalloc";
      pfns = size !== undefined ? pages.slice(0, Math.ceil(size / 4096)) : pages;
    } else {
      kind = a.family === "page" ? "pages" : a.family === "vmalloc" ? "vmalloc" : "kmalloc";
      pfns = [];
      const first = addr & ~0xfffn;
      const end = addr + BigInt(Math.max(1, size ?? 1));
      for (let p = first; p < end; p += 4096n) {
        const pa = k.pgtable.translate(p);
        if (pa < 0) break;
        pfns.push(Math.floor(pa / 4096));
      }
      if (!pfns.length) continue;
    }
    out.push({ fn: a.fn, addr: "0x" + addr.toString(16), size, line: a.line, kind, pfnRuns: runsOf(pfns), frames: pfns.length });
  }
  return out;
}
