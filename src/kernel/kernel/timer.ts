// Models kernel/time/timer.c (timer_setup, mod_timer, del_timer, del_timer_sync, call_timer_fn) of Linux 6.1; init_timer/setup_timer with a data argument for 2.6.32 and 3.4.
//
// A timer_list fires in softirq context (TIMER_SOFTIRQ) on the first tick at which jiffies >= expires; a timer whose
// expires is already past fires on the next tick. 6.1 has timer_setup() (4.15+; the callback receives the timer)
// and del_timer()/del_timer_sync(); their timer_delete()/timer_delete_sync() names came with 6.2 and are not offered
// on the 6.1 profile. 2.6.32 and 3.4 have init_timer() + .function/.data, setup_timer(timer, fn, data), and the
// callback receives the unsigned long data.
// call_timer_fn() checks that the callback left preempt_count as it found it: otherwise
// "timer: %pS preempt leak: %08x -> %08x" (a WARN_ONCE in 6.1, a printk before) and the count is restored.
// Simplifications: no timer wheel granularity (a timer fires exactly on its jiffy), no deferrable/pinned flags
// (accepted and ignored), one CPU (del_timer_sync never has to wait for a running callback on another CPU).

import type { Kernel } from "../kernel.ts";
import type { SimEvent } from "./events.ts";
import { kernLevels } from "./printk.ts";
import type { LockInstance } from "./lockdep.ts";

export interface TimerList {
  /** The callback: 6.1 gets the timer itself, 2.6/3.4 get `data`. */
  function?: (arg: unknown) => unknown;
  data: unknown;
  expires: number;
  flags: number;
  /** Lockdep map name: "(&my_timer)" style; from the caller or numbered. */
  name: string;
  event?: SimEvent;
  /** Set by timer_setup/setup_timer/init_timer; mod_timer on an uninitialised timer is a bug. */
  initialised: boolean;
  /** The timer's lockdep_map ("(&my_timer)"), held while its callback runs. */
  lockMap: LockInstance;
}

export class Timers {
  private readonly k: Kernel;
  private n = 0;
  /** Callbacks that ran, in order (for inspection). */
  readonly fired: { name: string; atNs: number }[] = [];

  constructor(k: Kernel) {
    this.k = k;
  }

  private newTimer(fn: TimerList["function"], data: unknown, flags: number, name?: string): TimerList {
    this.n++;
    const nm = name ?? `&timer#${this.n}`;
    const addr = this.k.modules?.allocStatic(this.k.debug ? 88 : 40) ?? 0n;
    return { function: fn, data, expires: 0, flags, name: nm, initialised: true, lockMap: { name: `(${nm})`, addr, kind: "pseudo" } };
  }

  /** timer_setup(timer, callback, flags) (4.15+). The callback receives the timer. */
  timer_setup(fn: (t: TimerList) => unknown, flags = 0, name?: string): TimerList {
    this.requireEra(["6.1"], "timer_setup");
    const t = this.newTimer(fn as TimerList["function"], undefined, flags, name);
    t.data = t;
    return t;
  }

  /** init_timer(timer) (2.6/3.4): set .function and .data afterwards. */
  init_timer(name?: string): TimerList {
    this.requireEra(["2.6", "3.4"], "init_timer");
    return this.newTimer(undefined, 0, 0, name);
  }

  /** setup_timer(timer, fn, data) (2.6.15 .. 4.14). */
  setup_timer(fn: (data: unknown) => unknown, data: unknown, name?: string): TimerList {
    this.requireEra(["2.6", "3.4"], "setup_timer");
    return this.newTimer(fn, data, 0, name);
  }

  private requireEra(eras: string[], what: string): void {
    if (!eras.includes(this.k.profile.era)) throw new TypeError(`${what}() does not exist in Linux ${this.k.profile.era}`);
  }

  timer_pending(t: TimerList): boolean {
    return !!t.event && !t.event.cancelled;
  }

  /** The simulated time (ns) of the tick at which jiffies reaches `expires`. */
  private expiryNs(expires: number): number {
    const c = this.k.clock;
    let delta = expires - c.jiffies;
    if (c.bitsPerLong === 32) delta = (delta << 0) | 0; // time_after() on a 32-bit unsigned long
    const tick = c.tickNsec;
    const nextTick = (c.ticks + 1) * tick;
    return Math.max(nextTick, (c.ticks + delta) * tick);
  }

  /** mod_timer(timer, expires): (re)arm; returns 1 if the timer was pending, 0 if not. */
  mod_timer(t: TimerList, expires: number): number {
    const was = this.timer_pending(t) ? 1 : 0;
    this.k.sched.loop.cancel(t.event);
    t.expires = expires;
    const label = `timer ${this.fnName(t)}`;
    t.event = this.k.sched.loop.schedule(this.expiryNs(expires), "timer", label, () => this.expire(t));
    return was;
  }

  /** add_timer(timer): arm with timer.expires. */
  add_timer(t: TimerList): void {
    this.mod_timer(t, t.expires);
  }

  /** del_timer(timer): deactivate; returns 1 if it was pending. */
  del_timer(t: TimerList): number {
    const was = this.timer_pending(t) ? 1 : 0;
    this.k.sched.loop.cancel(t.event);
    t.event = undefined;
    return was;
  }

  /**
   * del_timer_sync(timer): like del_timer, and waits for a running callback. Calling it from the timer's own
   * callback (or any interrupt context) is a bug the kernel catches: WARN_ON(in_irq() && !(timer->flags & TIMER_IRQSAFE)).
   */
  del_timer_sync(t: TimerList): number {
    return this.del_timer(t);
  }

  private fnName(t: TimerList): string {
    const f = t.function as (((...a: unknown[]) => unknown) & { kname?: string }) | undefined;
    return f?.kname ?? f?.name ?? "timer_fn";
  }

  /** __run_timers -> call_timer_fn: in softirq context. */
  private expire(t: TimerList): void {
    t.event = undefined;
    const fn = t.function;
    if (!fn) return;
    const k = this.k;
    const s = k.sched;
    this.fired.push({ name: this.fnName(t), atNs: k.clock.now() });
    const entry =
      k.profile.arch === "x86_64" || k.profile.arch === "i386"
        ? [
            "call_timer_fn.constprop.0",
            "__run_timers",
            "run_timer_softirq",
            "handle_softirqs",
            "__do_softirq",
            "__irq_exit_rcu",
            "irq_exit_rcu",
            "sysvec_apic_timer_interrupt",
          ]
        : ["call_timer_fn", "__run_timers", "run_timer_softirq", "__do_softirq", "irq_exit", "handle_domain_irq"];
    s.runSoftirq(entry, () => {
      const count = s.preempt_count();
      const ld = k.lockdep;
      ld.acquire(t.lockMap, s.kframe(entry[0]), "call_timer_fn");
      try {
        fn(t.data);
      } finally {
        ld.release(t.lockMap, "", "call_timer_fn");
        if (s.preempt_count() !== count) {
          const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
          const text = `timer: ${k.kallsyms.moduleFrame(this.fnName(t), s.moduleName())} preempt leak: ${hex(count)} -> ${hex(s.preempt_count())}`;
          k.printk(kernLevels(k.profile).KERN_ERR + "%s\n", text);
          k.report({ kind: "warn", title: text, text, frames: [{ fn: this.fnName(t) }] });
          s.count = count;
        }
      }
    });
  }
}
