// The call log: one entry per kernel call the module made, recorded in the host by the bridge (the guest cannot
// forge it), for the grader's checks (RunResult.kernel.calls). Arguments and results are JSON: bigint -> "0x..",
// module functions -> their symbol, cookies and handles -> their number.
// Cost: one small object per call, nothing when no log is attached.

import type { Kernel } from "../src/kernel/kernel.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface CallRecord {
  fn: string;
  args: Json[];
  ret: Json;
  ctx: { task: string; pid: number; hardirq: boolean; softirq: boolean; atomic: boolean; irqsDisabled: boolean; preemptCount: number };
  /** The module function the kernel entered (module_init's function, a timer callback...), "" at top level. */
  caller: string;
  line?: number;
  tNs: number;
  phase: "init" | "deferred" | "exit";
}

/** The sched predicates the log reads (absent in a fake kernel). */
interface SchedView {
  in_hardirq?(): number;
  in_serving_softirq?(): number;
  in_atomic?(): boolean;
  irqs_disabled?(): boolean;
  preempt_count?(): number;
}

function json(v: unknown): Json {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case "bigint":
      return "0x" + v.toString(16);
    case "number":
      return Number.isFinite(v) ? v : String(v);
    case "string":
    case "boolean":
      return v;
    case "function":
      return (v as { symbol?: string }).symbol || "(anonymous)";
    case "object":
      if ("cookie" in (v as object)) return { cookie: (v as { cookie: number }).cookie };
      if ("invalid" in (v as object)) return null;
      return null;
    default:
      return null;
  }
}

export class CallLog {
  readonly entries: CallRecord[] = [];
  phase: CallRecord["phase"] = "init";
  /** Module functions the kernel is inside, innermost last. */
  readonly callers: string[] = [];

  constructor(private readonly k: Kernel) {}

  /** The last context object: consecutive calls in the same context share it (frozen; a loop of a million calls
   *  would otherwise keep a million identical objects). */
  private lastCtx: CallRecord["ctx"] | undefined;

  record(fn: string, args: readonly unknown[], ret: unknown): void {
    const k = this.k;
    const s = (k as unknown as { sched?: SchedView }).sched;
    const task = k.current.comm;
    const pid = k.current.pid;
    const hardirq = !!s?.in_hardirq?.();
    const softirq = !!s?.in_serving_softirq?.();
    const atomic = !!s?.in_atomic?.();
    const irqsDisabled = !!s?.irqs_disabled?.();
    const preemptCount = s?.preempt_count?.() ?? 0;
    let c = this.lastCtx;
    if (!c || c.task !== task || c.pid !== pid || c.hardirq !== hardirq || c.softirq !== softirq || c.atomic !== atomic || c.irqsDisabled !== irqsDisabled || c.preemptCount !== preemptCount) {
      c = this.lastCtx = Object.freeze({ task, pid, hardirq, softirq, atomic, irqsDisabled, preemptCount });
    }
    const a: Json[] = new Array(args.length);
    for (let i = 0; i < args.length; i++) a[i] = json(args[i]);
    this.entries.push({ fn, args: a, ret: json(ret), ctx: c, caller: this.callers[this.callers.length - 1] ?? "", tNs: k.clock.now(), phase: this.phase });
  }
}
