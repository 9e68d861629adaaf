// The call log: one entry per kernel call the module made, recorded in the host by the bridge (the guest cannot
// forge it), for the grader's checks (RunResult.kernel.calls). Arguments and results are JSON: bigint -> "0x..",
// module functions -> their symbol, cookies and handles -> their number.
// Cost: one small object per call, nothing when no log is attached.
//
// Bounded (issue 13): a run may make a million calls, or pass a 16 MB string a few hundred times. So:
// - a string argument or result longer than CALL_LOG_BUDGET.stringChars (1024: more than one printk() can store)
//   is cut, and the entry's `cut` lists [argument index, original length] (index -1: the result);
// - past the budget (CALL_LOG_BUDGET.entries entries or .bytes of estimated JSON), entries the grader and the views
//   do not need are dropped: one marker entry { fn: "(calls dropped)", dropped: n } stands where the first one
//   would have been, and `dropped` counts them per function (RunResult.kernel.callsDropped);
// - kept always, whatever the budget: calls that allocate, free or alias memory (the table's memory roles: the
//   allocation records are built from them), and print calls that stored text (their argument values); past the
//   budget their strings are cut to CALL_LOG_BUDGET.stringCharsOver. Their number is bounded by the kernel-call
//   limit. Every entry keeps its context (ctx).
// Entries within the budget are exactly as before, so a normal run's RunResult does not change.

import type { Kernel } from "../src/kernel/kernel.ts";
import { detachedSlice } from "../src/kernel/kernel/vsprintf.ts";

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
  /** Strings that were cut: [argument index (-1: the result), original length]. Absent when nothing was cut. */
  cut?: [number, number][];
  /** On the marker entry (fn "(calls dropped)") only: how many calls were dropped after this point. */
  dropped?: number;
}

/** The call log's budget per run. */
export const CALL_LOG_BUDGET = {
  /** Entries kept before the droppable ones go. */
  entries: 200_000,
  /** Estimated JSON bytes kept before the droppable ones go. */
  bytes: 24 << 20,
  /** A longer string argument is cut to this many characters (printk stores at most 1023 of its output). */
  stringChars: 1024,
  /** ... and to this many once the budget is spent (the entries that are kept whatever the budget). */
  stringCharsOver: 64,
};

/** The fn of the marker entry that stands where calls were dropped. */
export const DROPPED_MARKER = "(calls dropped)";

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

/** What the log must keep whatever its budget: which calls, and whether a print call stored text. */
export interface CallLogPolicy {
  /** Calls that allocate, free or alias memory (the table's memory roles). */
  memory: ReadonlySet<string>;
  /** Print calls (printk, pr_*): kept when they stored something (their result > 0). */
  print: ReadonlySet<string>;
  /** Calls whose cell line is recorded (allocations and frees: the record model's "caller line"). */
  lines?: ReadonlySet<string>;
}

export class CallLog {
  readonly entries: CallRecord[] = [];
  phase: CallRecord["phase"] = "init";
  /** Module functions the kernel is inside, innermost last. */
  readonly callers: string[] = [];
  /** Calls dropped past the budget, per function (empty when none were). */
  readonly dropped: Record<string, number> = {};
  /** Estimated JSON bytes of the entries kept. */
  bytes = 0;
  private over = false;
  private marker: CallRecord | undefined;

  constructor(
    private readonly k: Kernel,
    private readonly policy: CallLogPolicy = { memory: new Set(), print: new Set() },
  ) {}

  /** The cell line of the current call (the run installs the bridge's innermostFrame; a walk by default). */
  lineOf: () => number | undefined = () => this.k.captureModuleStack()[0]?.line;

  /** The last context object: consecutive calls in the same context share it (frozen; a loop of a million calls
   *  would otherwise keep a million identical objects). */
  private lastCtx: CallRecord["ctx"] | undefined;

  record(fn: string, args: readonly unknown[], ret: unknown): void {
    const k = this.k;
    if (this.over && !this.policy.memory.has(fn) && !(this.policy.print.has(fn) && typeof ret === "number" && ret > 0)) {
      this.drop(fn);
      return;
    }
    const s = (k as unknown as { sched?: SchedView }).sched;
    const task = k.current.comm;
    const pid = k.current.pid;
    const hardirq = !!s?.in_hardirq?.();
    const softirq = !!s?.in_serving_softirq?.();
    const atomic = !!s?.in_atomic?.();
    const irqsDisabled = !!s?.irqs_disabled?.();
    const preemptCount = s?.preempt_count?.() ?? 0;
    let c = this.lastCtx;
    if (
      !c ||
      c.task !== task ||
      c.pid !== pid ||
      c.hardirq !== hardirq ||
      c.softirq !== softirq ||
      c.atomic !== atomic ||
      c.irqsDisabled !== irqsDisabled ||
      c.preemptCount !== preemptCount
    ) {
      c = this.lastCtx = Object.freeze({ task, pid, hardirq, softirq, atomic, irqsDisabled, preemptCount });
    }
    const max = this.over ? CALL_LOG_BUDGET.stringCharsOver : CALL_LOG_BUDGET.stringChars;
    let cut: [number, number][] | undefined;
    let size = 160 + fn.length; // the fixed part of an entry's JSON (ctx, caller, tNs, phase), roughly
    const a: Json[] = new Array(args.length);
    for (let i = 0; i < args.length; i++) {
      let v = json(args[i]);
      if (typeof v === "string") {
        if (v.length > max) {
          (cut ??= []).push([i, v.length]);
          v = detachedSlice(v, 0, max);
        }
        size += v.length + 3;
      } else size += 12;
      a[i] = v;
    }
    let r = json(ret);
    if (typeof r === "string" && r.length > max) {
      (cut ??= []).push([-1, r.length]);
      r = detachedSlice(r, 0, max);
    }
    const caller = this.callers[this.callers.length - 1] ?? "";
    const e: CallRecord = { fn, args: a, ret: r, ctx: c, caller, tNs: k.clock.now(), phase: this.phase };
    if (cut) e.cut = cut;
    if (this.policy.lines?.has(fn)) {
      // the innermost cell frame: the line of the call itself, even inside a helper (the bridge knows it from the
      // call's site without walking the guest's stack: bindings.ts innermostFrame)
      const line = this.lineOf();
      if (line !== undefined) e.line = line;
    }
    this.entries.push(e);
    this.bytes += size + caller.length;
    if (!this.over && (this.entries.length >= CALL_LOG_BUDGET.entries || this.bytes >= CALL_LOG_BUDGET.bytes)) this.over = true;
  }

  private drop(fn: string): void {
    this.dropped[fn] = (this.dropped[fn] ?? 0) + 1;
    if (!this.marker) {
      this.marker = {
        fn: DROPPED_MARKER,
        args: [],
        ret: null,
        ctx:
          this.lastCtx ??
          Object.freeze({
            task: this.k.current.comm,
            pid: this.k.current.pid,
            hardirq: false,
            softirq: false,
            atomic: false,
            irqsDisabled: false,
            preemptCount: 0,
          }),
        caller: this.callers[this.callers.length - 1] ?? "",
        tNs: this.k.clock.now(),
        phase: this.phase,
        dropped: 0,
      };
      this.entries.push(this.marker);
    }
    this.marker.dropped!++;
  }

  /** Calls dropped in all. */
  get droppedTotal(): number {
    return this.marker?.dropped ?? 0;
  }
}
