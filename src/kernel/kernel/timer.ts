// Models kernel/time/timer.c (timer_setup, mod_timer, del_timer, del_timer_sync, call_timer_fn) of Linux 6.1; init_timer/setup_timer with a data argument for 2.6.32 and 3.4.
//
// A timer_list fires in softirq context (TIMER_SOFTIRQ) on the first tick at which jiffies >= expires; a timer whose
// expires is already past fires on the next tick. 6.1 has timer_setup() (4.15+; the callback receives the timer)
// and del_timer()/del_timer_sync(); their timer_delete()/timer_delete_sync() names came with 6.2 and are not offered
// on the 6.1 profile. 2.6.32 and 3.4 have init_timer() + .function/.data, setup_timer(timer, fn, data), and the
// callback receives the unsigned long data.
// call_timer_fn() checks that the callback left preempt_count as it found it: otherwise
// "timer: %pS preempt leak: %08x -> %08x" (a WARN_ONCE in 6.1, a printk before) and the count is restored.
// A timer still armed when the module is unloaded fires in the freed module text: the instruction-fetch Oops and
// "Kernel panic - not syncing: Fatal exception in interrupt" (expireAfterUnload; runOrphans lets the time run after rmmod).
// Simplifications: no timer wheel granularity (a timer fires exactly on its jiffy), no deferrable/pinned flags
// (accepted and ignored), one CPU (del_timer_sync never has to wait for a running callback on another CPU).

import type { Kernel } from "../kernel.ts";
import type { SimEvent } from "./events.ts";
import { kernLevels } from "./printk.ts";
import type { LockInstance } from "./lockdep.ts";
import { kernelFault } from "../mm/fault.ts";
import { fatalInInterrupt } from "./panic_oops.ts";

/** How long after rmmod the run lets simulated time pass for the unloaded module's timers (as for its kthreads). */
export const TIMER_ORPHAN_MS = 60_000;

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
  /**
   * The callback's entry address in the module's text, taken when the timer is armed while the module is loaded:
   * where call_timer_fn jumps if the timer is still pending after rmmod freed that text (expireAfterUnload).
   */
  fnAddr?: bigint;
}

export class Timers {
  private readonly k: Kernel;
  private n = 0;
  /** Callbacks that ran, in order (for inspection). */
  readonly fired: { name: string; atNs: number }[] = [];
  /** The timers armed now (mod_timer until del_timer or expiry): those of an unloaded module fire in freed text. */
  private readonly armed = new Set<TimerList>();

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
    const mods = this.k.modules;
    // a module's callback (every cell timer's): its address while kallsyms still knows the module (module_exit included)
    if (t.function && mods && (mods.state === "coming" || mods.state === "live" || mods.state === "going"))
      t.fnAddr = this.k.kallsyms.addModuleSymbol(this.fnName(t), mods.name, 0);
    t.event = this.k.sched.loop.schedule(this.expiryNs(expires), "timer", label, () => this.expire(t));
    this.armed.add(t);
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
    this.armed.delete(t);
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
    this.armed.delete(t);
    const fn = t.function;
    if (!fn) return;
    const k = this.k;
    const s = k.sched;
    this.fired.push({ name: this.fnName(t), atNs: k.clock.now() });
    const entry = this.entryFrames();
    if (t.fnAddr !== undefined && this.moduleGone()) {
      s.runSoftirq(entry, () => this.expireAfterUnload(t, entry));
      return;
    }
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

  /** __run_timers' frames under the callback (run_timer_softirq from the timer interrupt's irq_exit), per arch. */
  private entryFrames(): string[] {
    return this.k.profile.arch === "x86_64" || this.k.profile.arch === "i386"
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
  }

  /**
   * A timer of the unloaded module comes due: call_timer_fn() calls timer->function, an address in the module's core
   * layout that free_module() vfree'd, and the CPU faults fetching its first instruction (the page-fault Oops of
   * mm/fault.ts: x86_64 "#PF: supervisor instruction fetch in kernel mode", error_code 0x0010, RIP the bare address;
   * non-PAE i386, which has no NX and so no fetch bit, a read of that address; ARM a prefetch abort; 2.6/3.4 "unable
   * to handle kernel paging request"), in the interrupted task's name (the CPU idles after rmmod: swapper/0, PID 0).
   * The Oops is in interrupt context, so oops_end()/die() cannot kill a task and panics: "Fatal exception in
   * interrupt" (fatalInInterrupt). CONFIG_DEBUG_OBJECTS_TIMERS would have caught the active timer_list at the
   * free of the module's memory first ("ODEBUG: free active (active state 0) object: ... object type: timer_list");
   * none of the modelled configs has it (Debian's builds do not; the debug config is the one listed in profiles.ts).
   * Simplification: on ARM the trace is the kernel's frames from call_timer_fn down, not the interrupted idle loop.
   */
  private expireAfterUnload(t: TimerList, entry: string[]): void {
    const k = this.k;
    const addr = t.fnAddr!;
    const x86 = k.profile.arch === "x86_64" || k.profile.arch === "i386";
    // the trace of the context levels (this softirq over the idle task), without dump_stack's own frames
    const traceLines = x86 ? k.sched.stackLines([], [], false) : undefined;
    const fn = this.fnName(t);
    const explain = `The timer that runs ${fn}() was still pending when the module was unloaded (module_exit armed it again, or did not del_timer_sync() it). rmmod freed the module's memory, its text included; when the timer expired, call_timer_fn() jumped to ${fn}'s old address 0x${addr.toString(16)}, where nothing is mapped any more, and the CPU faulted on the instruction fetch. In a timer's softirq there is no task to kill: the kernel panics. Stop every timer in module_exit with del_timer_sync() (and make sure nothing re-arms it after that).`;
    kernelFault(
      k,
      { addr, write: false, size: 1, op: "load", fetch: true, ip: "0x" + addr.toString(16), callers: entry, traceLines, explain },
      k.pgtable.walk(addr),
    );
    fatalInInterrupt(k);
  }

  /**
   * After rmmod: the unloaded module's timers still armed fire in freed text. Let the simulated time run to the first
   * of them (within TIMER_ORPHAN_MS), so the Oops happens in this run; its panic (a KernelOops) ends the machine.
   */
  runOrphans(): void {
    const k = this.k;
    if (!this.moduleGone()) return;
    const limit = k.clock.now() + TIMER_ORPHAN_MS * 1e6;
    for (;;) {
      k.watchdog();
      let first: SimEvent | undefined;
      for (const t of this.armed) if (t.fnAddr !== undefined && t.event && !t.event.cancelled && (!first || t.event.at < first.at)) first = t.event;
      if (!first || first.at > limit) return;
      k.sched.advance(Math.max(0, first.at - k.clock.now()) / 1e6);
      // still queued once its time has come: the CPU cannot run softirqs (left in atomic context): it never fires
      if (!first.cancelled && this.armedEvent(first) && first.at <= k.clock.now()) return;
    }
  }

  private armedEvent(ev: SimEvent): boolean {
    for (const t of this.armed) if (t.event === ev) return true;
    return false;
  }

  /** The module went (rmmod freed its core layout): its text is unmapped. */
  private moduleGone(): boolean {
    const st = this.k.modules?.state;
    return st === "unloaded";
  }
}
