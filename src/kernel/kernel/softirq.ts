// Models kernel/softirq.c (tasklet_init / tasklet_setup, tasklet_schedule, tasklet_kill, tasklet_action, handle_softirqs) of Linux 6.1; tasklet_init only in 2.6.32 and 3.4.
//
// A tasklet runs once per tasklet_schedule() (scheduling it again while it is pending does nothing) in softirq
// context (TASKLET_SOFTIRQ), right after the hardirq or the local_bh_enable() that raised it, or at the next
// opportunity of the event loop when scheduled from process context. 6.1 offers tasklet_setup() (5.9+, the callback
// receives the tasklet) and the old tasklet_init(t, fn, data) (callback receives data); 2.6/3.4 only tasklet_init.
// After each softirq handler, handle_softirqs() checks the preempt count: a tasklet that returns with a spinlock held
// prints "huh, entered softirq 6 TASKLET %p with preempt_count %08x, exited with %08x?" and the count is restored.
// Simplifications: tasklets run in the event loop at the current time (no ksoftirqd deferral, no 2 ms / 10 restarts
// budget); tasklet_disable/enable are counted but a disabled tasklet simply stays pending until enabled.

import type { Kernel } from "../kernel.ts";
import { HISTORY_KEPT, type SimEvent } from "./events.ts";
import { kernLevels } from "./printk.ts";

export interface Tasklet {
  func: (arg: unknown) => unknown;
  data: unknown;
  /** The 6.1 callback style (tasklet_setup): called with the tasklet. */
  useCallback: boolean;
  state: "idle" | "scheduled" | "running";
  count: number;
  event?: SimEvent;
  name: string;
  addr: bigint;
}

export class Softirq {
  private readonly k: Kernel;
  private n = 0;
  /** The first HISTORY_KEPT that ran (events.ts: a self-re-arming one would keep a million). */
  readonly ran: { name: string; atNs: number }[] = [];

  constructor(k: Kernel) {
    this.k = k;
  }

  private make(func: Tasklet["func"], data: unknown, cb: boolean, name?: string): Tasklet {
    this.n++;
    const addr = (this.k as unknown as { modules?: { allocStatic?(n: number): bigint } }).modules?.allocStatic?.(40) ?? 0n;
    return { func, data, useCallback: cb, state: "idle", count: 0, name: name ?? ((func as { name?: string }).name || `tasklet#${this.n}`), addr };
  }

  /** tasklet_setup(t, callback) (5.9+). */
  tasklet_setup(cb: (t: Tasklet) => unknown, name?: string): Tasklet {
    if (this.k.profile.era !== "6.1") throw new TypeError(`tasklet_setup() does not exist in Linux ${this.k.profile.era}`);
    const t = this.make(cb as Tasklet["func"], undefined, true, name);
    t.data = t;
    return t;
  }

  /** tasklet_init(t, func, data). */
  tasklet_init(func: (data: unknown) => unknown, data: unknown, name?: string): Tasklet {
    return this.make(func, data, false, name);
  }

  /** tasklet_schedule(t): run it soon in softirq context, once. */
  tasklet_schedule(t: Tasklet): void {
    if (t.state === "scheduled") return;
    t.state = t.state === "running" ? "scheduled" : "scheduled";
    t.event = this.k.sched.loop.schedule(this.k.clock.now(), "tasklet", `tasklet ${t.name}`, () => this.run(t));
  }

  tasklet_hi_schedule(t: Tasklet): void {
    this.tasklet_schedule(t);
  }

  tasklet_disable(t: Tasklet): void {
    t.count++;
  }

  tasklet_enable(t: Tasklet): void {
    if (t.count > 0) t.count--;
    if (t.count === 0 && t.state === "scheduled" && !t.event) this.tasklet_schedule(t);
  }

  /** tasklet_kill(t): wait until it is not scheduled (here: unschedule it). Must not be called from interrupt context. */
  tasklet_kill(t: Tasklet): void {
    if (this.k.sched.in_interrupt()) {
      // 6.1: if (in_interrupt()) pr_notice("Attempt to kill tasklet from interrupt\n");
      this.k.printk(kernLevels(this.k.profile).KERN_NOTICE + "Attempt to kill tasklet from interrupt\n");
    }
    this.k.sched.loop.cancel(t.event);
    t.event = undefined;
    if (t.state === "scheduled") t.state = "idle";
  }

  /** tasklet_action_common(): runs the tasklet in softirq context. */
  private run(t: Tasklet): void {
    t.event = undefined;
    if (t.count > 0) return; // disabled: stays scheduled until tasklet_enable
    t.state = "running";
    const k = this.k;
    const s = k.sched;
    if (this.ran.length < HISTORY_KEPT) this.ran.push({ name: t.name, atNs: k.clock.now() });
    const x86 = k.profile.arch === "x86_64" || k.profile.arch === "i386";
    const entry = x86
      ? [
          "tasklet_action_common.constprop.0",
          "tasklet_action",
          "handle_softirqs",
          "__do_softirq",
          "__irq_exit_rcu",
          "irq_exit_rcu",
          "sysvec_apic_timer_interrupt",
        ]
      : ["tasklet_action_common.constprop.0", "tasklet_action", "__do_softirq", "irq_exit", "handle_domain_irq"];
    s.runSoftirq(entry, () => {
      const prev = s.preempt_count();
      try {
        t.func(t.data);
      } finally {
        if (t.state === "running") t.state = "idle";
        if (s.preempt_count() !== prev) {
          const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
          const w = k.profile.arch === "x86_64" || k.profile.arch === "arm64" ? 16 : 8;
          const text = `huh, entered softirq 6 TASKLET ${"0".repeat(w - 8)}${hex(0x1f2e3d4c)} with preempt_count ${hex(prev)}, exited with ${hex(s.preempt_count())}?`;
          k.printk(kernLevels(k.profile).KERN_ERR + "%s\n", text);
          k.report({ kind: "bug", title: text, text, frames: [{ fn: t.name }] });
          s.count = prev;
        }
      }
    });
  }
}
