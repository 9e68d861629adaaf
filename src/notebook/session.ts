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
import { walkJson, type WalkJson } from "../kernel/mm/ptdump.ts";

/** How many runs' kernels stay walkable (one per cell of a lesson, roughly; older runs say so when clicked). */
export const KEEP_KERNELS = 6;

const bootKey = (profile: string, o: BootOptions) => JSON.stringify([profile, o.mem ?? null, o.cmdline ?? null, o.seed ?? null, o.config ?? null]);

export class KernelSession {
  private readonly kept = new Map<number, Kernel>();
  private spare: { key: string; k: Kernel } | undefined;
  /** The kernel of the run in progress (set by boot, claimed by keep()). */
  private current: Kernel | undefined;
  /** Boots served from the spare kernel (tests and metrics read it). */
  preboots = { used: 0, booted: 0 };

  constructor(private readonly base: KernelDeps) {}

  /** The deps to pass to runModule for one run: boots from the spare when it fits, remembers the kernel. */
  deps(): KernelDeps {
    return {
      ...this.base,
      boot: (profile, o) => {
        const key = bootKey(profile, o);
        let k: Kernel;
        if (this.spare && this.spare.key === key) {
          k = this.spare.k;
          this.preboots.used++;
        } else k = this.base.boot(profile, o);
        this.spare = undefined;
        this.current = k;
        return k;
      },
    };
  }

  /** After a run: keep its kernel under the run's id (dropping the oldest past KEEP_KERNELS). */
  keep(runId: number): void {
    const k = this.current;
    this.current = undefined;
    if (!k) return;
    this.kept.set(runId, k);
    while (this.kept.size > KEEP_KERNELS) this.kept.delete(this.kept.keys().next().value!);
  }

  /** Forget a run's kernel without keeping it (the warm-up run). */
  discard(): void {
    this.current = undefined;
  }

  has(runId: number): boolean {
    return this.kept.has(runId);
  }

  kernel(runId: number): Kernel | undefined {
    return this.kept.get(runId);
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

  /** The page-table walk of `addr` in the kernel of run `runId`. */
  walk(runId: number, addr: bigint): WalkJson {
    const k = this.kept.get(runId);
    if (!k) throw new Error("this run's kernel is no longer kept (the page keeps the last few runs): run the cell again, then click the address");
    return walkJson(k, addr);
  }
}
