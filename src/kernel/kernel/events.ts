// Models the one-CPU order of deferred work in Linux 6.1 (kernel/time/timer.c expiry, kernel/softirq.c, kernel/workqueue.c): a deterministic event queue.
//
// Everything that happens "later" in the simulated kernel (a timer expiring, a tasklet or a work item running, a
// device raising an interrupt, a sleeping task waking up) is an event at a simulated time (ns since boot). Events run
// in the order (time, insertion sequence): two runs with the same inputs run the same events in the same order.
// Running an event first moves the clock to its time (the clock never goes back).
//
// Simplifications: one CPU; an event runs to completion (a module callback is synchronous); there is no tick,
// no NO_HZ, no timer-wheel granularity (a timer fires exactly at its jiffy); events may be queued while others run
// (a callback re-arming its timer, a handler scheduling a tasklet) and a sleeping context may drain the queue
// re-entrantly up to its wake-up time (this is what lets a timer fire while module_init sits in msleep()).

import type { Kernel } from "../kernel.ts";

export type EventKind = "timer" | "tasklet" | "work" | "irq" | "wakeup" | "other";

export interface SimEvent {
  /** Simulated time in ns at which it runs. */
  at: number;
  seq: number;
  kind: EventKind;
  /** What the event is, for the log of events and the tests ("timer md_timer_fn", "irq 1"). */
  label: string;
  run: () => void;
  cancelled: boolean;
}

export interface RunLimits {
  /** Stop after this much simulated time from the start of the drain (ms). */
  simTimeMs?: number;
  /** Stop after this many events. */
  maxEvents?: number;
}

export interface DrainResult {
  ran: number;
  /** "idle": nothing pending; "time": the time bound was reached; "events": the event bound. */
  stoppedBy: "idle" | "time" | "events";
  pending: number;
}

/** Events EventLoop.history keeps (and the workqueue's and tasklets' `ran` lists: the first this many). */
export const HISTORY_KEPT = 10_000;

/** Binary min-heap on (at, seq). */
export class EventLoop {
  private heap: SimEvent[] = [];
  private nextSeq = 0;
  /**
   * The first HISTORY_KEPT events that ran, in order (time ns, label): the tests read it. Only the first: a work item
   * or timer that re-arms itself until the sandbox's call limit would keep a million records (~80 MB of the host).
   */
  readonly history: { at: number; kind: EventKind; label: string }[] = [];
  /** Events run in all (history keeps the first HISTORY_KEPT of them). */
  eventsRun = 0;
  /** Nesting depth of drains (a sleeping context drains the queue re-entrantly). */
  depth = 0;
  private readonly k: Kernel;

  constructor(k: Kernel) {
    this.k = k;
  }

  /** Queue fn to run at simulated time `at` (ns). Earlier than now means "as soon as possible". */
  schedule(at: number, kind: EventKind, label: string, run: () => void): SimEvent {
    const ev: SimEvent = { at: Math.max(at, this.k.clock.now()), seq: this.nextSeq++, kind, label, run, cancelled: false };
    this.push(ev);
    return ev;
  }

  cancel(ev: SimEvent | undefined): boolean {
    if (!ev || ev.cancelled) return false;
    ev.cancelled = true;
    return true;
  }

  /** Events still to run (not cancelled). */
  pending(kind?: EventKind): number {
    let n = 0;
    for (const e of this.heap) if (!e.cancelled && (!kind || e.kind === kind)) n++;
    return n;
  }

  /** Time of the next live event, or undefined. */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Run every event due at or before `until` (ns), in order; the clock ends at `until` (or where a bound stopped). */
  runUntil(until: number, maxEvents = Infinity): DrainResult {
    let ran = 0;
    this.depth++;
    try {
      for (;;) {
        this.dropCancelled();
        const ev = this.heap[0];
        if (!ev || ev.at > until) break;
        if (ran >= maxEvents) return { ran, stoppedBy: "events", pending: this.pending() };
        this.pop();
        this.k.clock.setAtLeast(ev.at);
        if (this.eventsRun++ < HISTORY_KEPT) this.history.push({ at: this.k.clock.now(), kind: ev.kind, label: ev.label });
        ran++;
        ev.run();
      }
    } finally {
      this.depth--;
    }
    if (Number.isFinite(until)) this.k.clock.setAtLeast(until);
    return { ran, stoppedBy: this.pending() ? "time" : "idle", pending: this.pending() };
  }

  /** Drain: until nothing is pending, or a bound. */
  drain(limits: RunLimits = {}): DrainResult {
    const start = this.k.clock.now();
    const until = limits.simTimeMs === undefined ? Infinity : start + limits.simTimeMs * 1e6;
    const max = limits.maxEvents ?? Infinity;
    let ran = 0;
    this.depth++;
    try {
      for (;;) {
        this.dropCancelled();
        const ev = this.heap[0];
        if (!ev) return { ran, stoppedBy: "idle", pending: 0 };
        if (ev.at > until) {
          this.k.clock.setAtLeast(until);
          return { ran, stoppedBy: "time", pending: this.pending() };
        }
        if (ran >= max) return { ran, stoppedBy: "events", pending: this.pending() };
        this.pop();
        this.k.clock.setAtLeast(ev.at);
        if (this.eventsRun++ < HISTORY_KEPT) this.history.push({ at: this.k.clock.now(), kind: ev.kind, label: ev.label });
        ran++;
        ev.run();
      }
    } finally {
      this.depth--;
    }
  }

  private dropCancelled(): void {
    while (this.heap.length && this.heap[0].cancelled) this.pop();
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
