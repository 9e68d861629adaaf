// Rows: execution contexts and sleeping (include/linux/preempt.h, irqflags.h, bottom_half.h, delay.h, wait.h;
// kernel/sched/core.c, kernel/time/timer.c). The predicates read k.sched's preempt_count as the kernel lays it out;
// the sleeping functions go through schedule(), so sleeping where the kernel must not is the era's splat.
// In a kernel thread's function, a sleeping call is where the thread is suspended (api/kthread.ts timedSleep/condSleep).
// local_irq_save(flags) cannot write its argument from JavaScript: it returns the flags (as spin_lock_irqsave does).

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { fn, p } from "../table.ts";
import { condSleep, timedSleep } from "./kthread.ts";

const pred = (
  name: string,
  returns: "int" | "uint" | "bool",
  doc: string,
  get: (s: import("../../src/kernel/kernel/sched.ts").Sched) => number | boolean,
): FunctionEntry => fn({ name, params: [], returns, context: "any", doc, impl: (c) => get(c.k.sched) });

const SLEEPS = "may sleep (a BUG in atomic context: under a spinlock, in an interrupt handler, a timer or a tasklet)";

export const SCHED_ROWS: ApiEntry[] = [
  pred("preempt_count", "uint", "The current preempt_count: PREEMPT (bits 0-7), SOFTIRQ (8-15), HARDIRQ (16-19) and NMI (20-23) fields.", (s) =>
    s.preempt_count(),
  ),
  pred(
    "in_interrupt",
    "int",
    "Non-zero in hardirq, softirq or NMI context, or with bottom halves disabled (preempt_count & (NMI|HARDIRQ|SOFTIRQ masks)).",
    (s) => s.in_interrupt(),
  ),
  pred("in_irq", "int", "Non-zero in a hard interrupt handler (the old name of in_hardirq).", (s) => s.in_irq()),
  pred("in_hardirq", "int", "Non-zero in a hard interrupt handler.", (s) => s.in_hardirq()),
  pred("in_softirq", "int", "Non-zero in softirq context (a timer, a tasklet) or with bottom halves disabled.", (s) => s.in_softirq()),
  pred("in_serving_softirq", "int", "Non-zero while a softirq handler (a timer callback, a tasklet) runs.", (s) => s.in_serving_softirq()),
  pred("in_task", "bool", "True in process context (not hardirq, NMI or a running softirq): insmod, rmmod, a work item.", (s) => s.in_task()),
  pred("in_atomic", "bool", "True when preempt_count is non-zero: sleeping here is a bug. (Interrupts disabled alone do not count.)", (s) => s.in_atomic()),
  pred("irqs_disabled", "bool", "True when local interrupts are off (spin_lock_irqsave, local_irq_disable, in a hard interrupt handler).", (s) =>
    s.irqs_disabled(),
  ),
  fn({
    name: "preempt_disable",
    params: [],
    returns: "void",
    context: "any",
    doc: "Raise preempt_count by one: the task cannot be preempted (nor may it sleep) until preempt_enable().",
    impl: (c) => c.k.sched.preempt_disable(),
  }),
  fn({ name: "preempt_enable", params: [], returns: "void", context: "any", doc: "Undo one preempt_disable().", impl: (c) => c.k.sched.preempt_enable() }),
  fn({
    name: "local_irq_disable",
    params: [],
    returns: "void",
    context: "any",
    doc: "Turn off interrupts on this CPU.",
    impl: (c) => c.k.sched.local_irq_disable(),
  }),
  fn({
    name: "local_irq_enable",
    params: [],
    returns: "void",
    context: "any",
    doc: "Turn interrupts on again (an interrupt raised meanwhile is delivered now).",
    impl: (c) => c.k.sched.local_irq_enable(),
  }),
  fn({
    name: "local_irq_save",
    params: [],
    returns: "uint",
    context: "any",
    doc: "Turn off interrupts and return the previous state: `const flags = local_irq_save(); ... local_irq_restore(flags);` (C writes flags through its argument).",
    impl: (c) => c.k.sched.local_irq_save(),
  }),
  fn({
    name: "local_irq_restore",
    params: [p("flags", "uint", "what local_irq_save() returned")],
    returns: "void",
    context: "any",
    doc: "Restore the interrupt state local_irq_save() saved.",
    impl: (c, f: number) => c.k.sched.local_irq_restore(f),
  }),
  fn({
    name: "local_bh_disable",
    params: [],
    returns: "void",
    context: "any",
    doc: "Disable softirqs (timers, tasklets) on this CPU: adds SOFTIRQ_DISABLE_OFFSET to preempt_count.",
    impl: (c) => c.k.sched.local_bh_disable(),
  }),
  fn({ name: "local_bh_enable", params: [], returns: "void", context: "any", doc: "Enable softirqs again.", impl: (c) => c.k.sched.local_bh_enable() }),
  fn({
    name: "msleep",
    params: [p("msecs", "uint")],
    returns: "void",
    context: SLEEPS,
    doc: "Sleep at least msecs milliseconds (msecs_to_jiffies(msecs) + 1 jiffies). Timers and interrupts due meanwhile run.",
    impl: (c, ms: number) => {
      if (!timedSleep(c, "msleep", (c.k.clock.msecs_to_jiffies(ms) + 1) * c.k.clock.tickNsec, "resleep", () => undefined)) c.k.sched.msleep(ms);
    },
  }),
  fn({
    name: "ssleep",
    params: [p("seconds", "uint")],
    returns: "void",
    context: SLEEPS,
    doc: "msleep(seconds * 1000).",
    impl: (c, s: number) => {
      if (!timedSleep(c, "ssleep", (c.k.clock.msecs_to_jiffies(s * 1000) + 1) * c.k.clock.tickNsec, "resleep", () => undefined)) c.k.sched.ssleep(s);
    },
  }),
  fn({
    name: "msleep_interruptible",
    params: [p("msecs", "uint")],
    returns: "uint",
    context: SLEEPS,
    doc: "Sleep like msleep; returns the milliseconds left when a signal woke the task early (no signals here: 0).",
    impl: (c, ms: number) =>
      timedSleep(c, "msleep_interruptible", (c.k.clock.msecs_to_jiffies(ms) + 1) * c.k.clock.tickNsec, "resleep", () => 0)
        ? 0
        : c.k.sched.msleep_interruptible(ms),
  }),
  fn({
    name: "usleep_range",
    params: [p("min", "uint", "microseconds"), p("max", "uint", "microseconds")],
    returns: "void",
    context: SLEEPS,
    doc: "Sleep between min and max microseconds (an hrtimer sleep: max here).",
    impl: (c, a: number, b: number) => {
      if (!timedSleep(c, "usleep_range", Math.max(a, b) * 1000, "resleep", () => undefined)) c.k.sched.usleep_range(a, b);
    },
  }),
  fn({
    name: "udelay",
    params: [p("usecs", "uint")],
    returns: "void",
    context: "any (a busy wait: it never sleeps, and wastes the CPU)",
    doc: "Spin for usecs microseconds.",
    impl: (c, us: number) => c.k.sched.udelay(us),
  }),
  fn({
    name: "mdelay",
    params: [p("msecs", "uint")],
    returns: "void",
    context: "any (a busy wait)",
    doc: "Spin for msecs milliseconds.",
    impl: (c, ms: number) => c.k.sched.udelay(ms * 1000),
  }),
  fn({
    name: "schedule",
    params: [],
    returns: "void",
    context: SLEEPS + "; in atomic context: `BUG: scheduling while atomic`",
    doc: "Give up the CPU (the task is runnable, so it runs again at once here).",
    impl: (c) => {
      if (!timedSleep(c, "schedule", 0, "return", () => undefined)) c.k.sched.schedule([]);
    },
  }),
  fn({
    name: "schedule_timeout",
    params: [p("timeout", "int", "jiffies")],
    returns: "int",
    context: SLEEPS,
    doc: "Sleep timeout jiffies; returns the jiffies left (0: the full timeout passed).",
    impl: (c, t: number) =>
      timedSleep(c, "schedule_timeout", Math.max(0, t) * c.k.clock.tickNsec, "return", (left) => left) ? 0 : c.k.sched.schedule_timeout(t),
  }),
  fn({
    name: "wait_event",
    params: [p("condition", "fn", "checked after each wake-up", { params: [], returns: "bool" })],
    returns: "void",
    context: SLEEPS,
    doc: "Sleep until condition() is true (wait_event(wq, cond) without the wait queue: the condition is polled each jiffy while timers and interrupts run). The kernel would wait forever; the simulator gives up after 60 simulated seconds with a report.",
    impl: (c, cond: () => unknown) => {
      if (
        !condSleep(
          c,
          "wait_event",
          () => !!cond(),
          Infinity,
          () => undefined,
        )
      )
        c.k.sched.wait_event(() => !!cond());
    },
  }),
  fn({
    name: "wait_event_timeout",
    params: [p("condition", "fn", "checked after each wake-up", { params: [], returns: "bool" }), p("timeout", "int", "jiffies")],
    returns: "int",
    context: SLEEPS,
    doc: "Sleep until condition() is true or timeout jiffies pass: 0 on timeout, else the jiffies left (at least 1).",
    impl: (c, cond: () => unknown, t: number) =>
      condSleep(
        c,
        "wait_event_timeout",
        () => !!cond(),
        t,
        (left) => left,
      )
        ? 0
        : c.k.sched.wait_event_timeout(() => !!cond(), t),
  }),
];
