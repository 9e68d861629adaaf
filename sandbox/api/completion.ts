// Rows: completions (include/linux/completion.h, kernel/sched/completion.c) and wait queues (include/linux/wait.h,
// kernel/sched/wait.c) of Linux 6.1, and 2.6.32 / 3.4 where they differ.
//
// `const done = new completion();` is DECLARE_COMPLETION(done) (done = 0); init_completion / reinit_completion reset
// it. complete() adds one to `done` (never past UINT_MAX), complete_all() sets it to UINT_MAX (6.1; 2.6.32 and 3.4
// add UINT_MAX/2), and a waiter takes one (not after complete_all) — so N complete() calls release N waits, in any
// order, before or after the waits.
// `const wq = new wait_queue_head_t();` is DECLARE_WAIT_QUEUE_HEAD(wq). wait_event_interruptible(wq, cond) checks
// cond, then rechecks it only after a wake_up()/wake_up_interruptible() on wq, as ___wait_event does: changing the
// condition without a wake_up leaves the waiter asleep (the classic lost wake-up), and a wake_up with the condition
// still false sends it back to sleep.
//
// Simplifications (the sleeps go through Sched.wait_event_timeout: one CPU, the waker is an event — a timer, a
// tasklet, a work item, an interrupt — that runs while the waiter sleeps): there are no signals, so the
// _interruptible forms never return -ERESTARTSYS; a wait with no timeout (wait_for_completion, wait_event_interruptible)
// gives up after WAIT_EVENT_LIMIT_MS of simulated time with the same "timeout" report wait_event gives, where the
// real task would hang (and the hung-task detector would print its INFO line after 120 s).

import type { ApiEntry, CallEnv, HostCallback } from "../table.ts";
import { fn, p } from "../table.ts";
import { handles } from "./handles.ts";
import { condSleep } from "./kthread.ts";
import { WAIT_EVENT_LIMIT_MS } from "../../src/kernel/kernel/sched.ts";

export interface Completion {
  done: number;
}
export interface WaitQueueHead {
  /** wake_up() calls so far: a waiter rechecks its condition when this moved. */
  wakes: number;
  /** Tasks sleeping on it now. */
  waiters: number;
}

const UINT_MAX = 0xffffffff;
const ERESTARTSYS = 512;
const SLEEPS = "may sleep (process context: a BUG in atomic context)";
const X = p("x", "handle:completion");
const WQ = p("wq", "handle:wait_queue_head_t");
const comp = (c: CallEnv, id: number, f: string) => handles(c.k).get<Completion>(id, f);
const wqOf = (c: CallEnv, id: number, f: string) => handles(c.k).get<WaitQueueHead>(id, f);

/** The hang report of a wait without a timeout (the same wording as wait_event's). */
function hang(c: CallEnv, what: string): void {
  const k = c.k;
  const cur = k.current;
  const text = `kmodlab: ${cur.comm}/${cur.pid} waited ${WAIT_EVENT_LIMIT_MS / 1000} s (simulated) in ${what}; the real task would hang forever`;
  const frames = k.captureModuleStack();
  k.report({ kind: "timeout", title: text, text, frames: frames.map((f) => ({ fn: f.fn, line: f.line, column: f.column })), line: frames[0]?.line });
}

/** do_wait_for_common(): sleep until done > 0 or the timeout; take one. Returns the jiffies left (>= 1) or 0. */
function waitForCompletion(c: CallEnv, x: Completion, timeout: number, name: string): number {
  // __wait_for_common() begins with might_sleep(), whether or not it will sleep
  const left = c.k.sched.wait_event_timeout(() => x.done > 0, timeout, name);
  if (left > 0 && x.done !== UINT_MAX) x.done--;
  return left;
}

/** complete_all(): 6.1 sets UINT_MAX; 2.6.32 and 3.4 add UINT_MAX/2. */
function completeAll(c: CallEnv, x: Completion): void {
  x.done = c.k.profile.era === "6.1" ? UINT_MAX : Math.min(UINT_MAX, x.done + Math.floor(UINT_MAX / 2));
}

export const COMPLETION_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "completion",
    create: (c) => handles(c.k).add("completion", { done: 0 } satisfies Completion),
    doc: "struct completion: `const done = new completion();` is DECLARE_COMPLETION(done). One side waits (wait_for_completion), the other says it is done (complete).",
  },
  fn({
    name: "init_completion",
    params: [X],
    returns: "void",
    context: "any",
    doc: "Initialise a completion (done = 0).",
    impl: (c, id: number) => handles(c.k).set(id, { done: 0 } satisfies Completion),
  }),
  fn({
    name: "reinit_completion",
    since: "6.1",
    absentNote: "added in 3.13; older kernels use INIT_COMPLETION(x)",
    params: [X],
    returns: "void",
    context: "any",
    doc: "Make a used completion usable again (done = 0) without re-initialising its wait queue.",
    impl: (c, id: number) => void (comp(c, id, "reinit_completion").done = 0),
  }),
  fn({
    name: "complete",
    params: [X],
    returns: "void",
    context: "any (interrupt context included)",
    doc: "Wake one waiter: done += 1 (it stays counted if nobody waits yet, so a later wait returns at once).",
    impl: (c, id: number) => {
      const x = comp(c, id, "complete");
      if (x.done !== UINT_MAX) x.done++;
    },
  }),
  fn({
    name: "complete_all",
    params: [X],
    returns: "void",
    context: "any (interrupt context included)",
    doc: "Wake every waiter, now and later, until the completion is re-initialised (done = UINT_MAX).",
    impl: (c, id: number) => completeAll(c, comp(c, id, "complete_all")),
  }),
  fn({
    name: "wait_for_completion",
    params: [X],
    returns: "void",
    context: SLEEPS,
    doc: "Sleep until the completion is completed, and consume one complete(). No timeout: the real task hangs if nobody completes it (here: a report after 60 simulated seconds).",
    impl: (c, id: number) => {
      const x = comp(c, id, "wait_for_completion");
      if (
        condSleep(
          c,
          "wait_for_completion",
          () => x.done > 0,
          Infinity,
          (_l, ok) => void (ok && x.done !== UINT_MAX && x.done--),
        )
      )
        return;
      if (waitForCompletion(c, x, c.k.clock.msecs_to_jiffies(WAIT_EVENT_LIMIT_MS), "wait_for_completion") === 0)
        hang(c, "wait_for_completion() for a completion nobody completed");
    },
  }),
  fn({
    name: "wait_for_completion_timeout",
    params: [X, p("timeout", "uint", "jiffies")],
    returns: "uint",
    context: SLEEPS,
    doc: "Like wait_for_completion, for at most timeout jiffies: 0 if it timed out, else the jiffies left (at least 1).",
    impl: (c, id: number, t: number) => {
      const x = comp(c, id, "wait_for_completion_timeout");
      const take = (left: number, ok: boolean) => (ok && x.done !== UINT_MAX && x.done--, left);
      return condSleep(c, "wait_for_completion_timeout", () => x.done > 0, t, take) ? 0 : waitForCompletion(c, x, t, "wait_for_completion_timeout");
    },
  }),
  fn({
    name: "wait_for_completion_interruptible",
    params: [X],
    returns: "int",
    context: SLEEPS,
    doc: "Like wait_for_completion, but a signal ends the wait with -ERESTARTSYS (no signals here: 0).",
    impl: (c, id: number) => {
      const x = comp(c, id, "wait_for_completion_interruptible");
      if (
        condSleep(
          c,
          "wait_for_completion_interruptible",
          () => x.done > 0,
          Infinity,
          (_l, ok) => (ok && x.done !== UINT_MAX && x.done--, ok ? 0 : -ERESTARTSYS),
        )
      )
        return 0;
      if (waitForCompletion(c, x, c.k.clock.msecs_to_jiffies(WAIT_EVENT_LIMIT_MS), "wait_for_completion_interruptible") === 0) {
        hang(c, "wait_for_completion_interruptible() for a completion nobody completed");
        return -ERESTARTSYS;
      }
      return 0;
    },
  }),
  fn({
    name: "try_wait_for_completion",
    params: [X],
    returns: "bool",
    context: "any",
    doc: "Take one complete() without sleeping: false if there is none.",
    impl: (c, id: number) => {
      const x = comp(c, id, "try_wait_for_completion");
      if (x.done === 0) return false;
      if (x.done !== UINT_MAX) x.done--;
      return true;
    },
  }),
  fn({
    name: "completion_done",
    params: [X],
    returns: "bool",
    context: "any",
    doc: "True if a wait would not sleep (done > 0).",
    impl: (c, id: number) => comp(c, id, "completion_done").done > 0,
  }),

  {
    kind: "class",
    module: "linux",
    name: "wait_queue_head_t",
    create: (c) => handles(c.k).add("wait_queue_head_t", { wakes: 0, waiters: 0 } satisfies WaitQueueHead),
    doc: "wait_queue_head_t: `const wq = new wait_queue_head_t();` is DECLARE_WAIT_QUEUE_HEAD(wq). Tasks sleep on it in wait_event_interruptible(wq, cond) until wake_up(wq).",
  },
  fn({
    name: "init_waitqueue_head",
    params: [WQ],
    returns: "void",
    context: "any",
    doc: "Initialise a wait queue head (no waiters).",
    impl: (c, id: number) => handles(c.k).set(id, { wakes: 0, waiters: 0 } satisfies WaitQueueHead),
  }),
  fn({
    name: "wait_event_interruptible",
    params: [WQ, p("condition", "fn", "checked first, then after each wake_up(wq)", { params: [], returns: "bool" })],
    returns: "int",
    context: SLEEPS,
    doc: "Sleep on wq until condition() is true: 0. The condition is checked again only when somebody calls wake_up(wq) (setting it without a wake_up leaves the task asleep). A signal would end the wait with -ERESTARTSYS (no signals here); with no wake-up the simulator gives up after 60 simulated seconds with a report.",
    impl: (c, id: number, cond: HostCallback) => {
      const q = wqOf(c, id, "wait_event_interruptible");
      let seen = q.wakes;
      const check = () => {
        if (q.wakes === seen) return false;
        seen = q.wakes;
        return !!cond();
      };
      if (cond()) return (c.k.sched.might_sleep("kernel/sched/wait.c", 0, []), 0);
      if (
        condSleep(
          c,
          "wait_event_interruptible",
          check,
          Infinity,
          (_l, ok) => (ok ? 0 : -ERESTARTSYS),
          () => !!cond(),
        )
      )
        return 0;
      q.waiters++;
      try {
        if (c.k.sched.wait_event_timeout(check, c.k.clock.msecs_to_jiffies(WAIT_EVENT_LIMIT_MS), "wait_event_interruptible") === 0) {
          hang(c, "wait_event_interruptible() with no wake_up() that found the condition true");
          return -ERESTARTSYS;
        }
      } finally {
        q.waiters--;
      }
      return 0;
    },
  }),
  fn({
    name: "wait_event_interruptible_timeout",
    params: [WQ, p("condition", "fn", "checked first, then after each wake_up(wq)", { params: [], returns: "bool" }), p("timeout", "int", "jiffies")],
    returns: "int",
    context: SLEEPS,
    doc: "wait_event_interruptible for at most timeout jiffies: 0 on timeout (condition still false), else the jiffies left (at least 1).",
    impl: (c, id: number, cond: HostCallback, t: number) => {
      const q = wqOf(c, id, "wait_event_interruptible_timeout");
      let seen = q.wakes;
      let first = true;
      q.waiters++;
      try {
        return c.k.sched.wait_event_timeout(
          () => {
            if (first) return ((first = false), !!cond());
            if (q.wakes === seen) return false;
            seen = q.wakes;
            return !!cond();
          },
          t,
          "wait_event_interruptible_timeout",
        );
      } finally {
        q.waiters--;
      }
    },
  }),
  fn({
    name: "wake_up",
    params: [WQ],
    returns: "void",
    context: "any (interrupt context included)",
    doc: "Wake the tasks sleeping on wq: each checks its condition again.",
    impl: (c, id: number) => void wqOf(c, id, "wake_up").wakes++,
  }),
  fn({
    name: "wake_up_interruptible",
    params: [WQ],
    returns: "void",
    context: "any (interrupt context included)",
    doc: "Wake the interruptible sleepers of wq (every wait_event_interruptible).",
    impl: (c, id: number) => void wqOf(c, id, "wake_up_interruptible").wakes++,
  }),
  fn({
    name: "waitqueue_active",
    params: [WQ],
    returns: "bool",
    context: "any",
    doc: "True if a task sleeps on wq now.",
    impl: (c, id: number) => wqOf(c, id, "waitqueue_active").waiters > 0,
  }),
];
