// Models kernel/workqueue.c (INIT_WORK, schedule_work, queue_work, flush_work, cancel_work_sync, delayed work, process_one_work) of Linux 6.1; same API in 2.6.32 and 3.4 (INIT_WORK without the data argument since 2.6.20).
//
// Work items run in process context as the kworker (kworker/0:1, pid 20 in the simulator) and may sleep: a
// GFP_KERNEL allocation there is fine. A work item queued while it is already pending is not queued again
// (schedule_work returns false). Delayed work is a timer that queues the work when it expires.
// After each work function, process_one_work checks for a leaked lock or preempt count:
//   "BUG: workqueue leaked lock or atomic: %s/0x%08x/%d\n     last function: %ps"
// then the held locks and the stack, as 6.1 prints it.
// With lockdep, a running work item holds the pseudo-locks "(wq_completion)events" and "(work_completion)(&w)"
// that real held-lock lists show.
// Simplifications: one kworker, one CPU: work runs in queue order; a work function that sleeps lets timers and
// interrupts run meanwhile but other work waits (no concurrency-managed second worker); flush_work() from process
// context runs the event loop until the work has run.

import type { Kernel } from "../kernel.ts";
import { HISTORY_KEPT, type SimEvent } from "./events.ts";
import type { TimerList } from "./timer.ts";
import { kernLevels } from "./printk.ts";
import type { LockInstance } from "./lockdep.ts";
import { TIMER_ORPHAN_MS } from "./timer.ts";
import { kernelFault } from "../mm/fault.ts";

export interface Workqueue {
  name: string;
  lockMap: LockInstance;
}

export interface WorkStruct {
  func: (w: WorkStruct) => unknown;
  name: string;
  event?: SimEvent;
  pending: boolean;
  running: boolean;
  wq?: Workqueue;
  lockMap: LockInstance;
  /** For a delayed work: its timer. */
  timer?: TimerList;
  /** A kernel-internal work item (deferKernelWork): its function is the kernel's, never in a module. */
  kernelFn?: boolean;
  /**
   * The function's entry address in the module's text, taken when the work is queued while the module is loaded:
   * where process_one_work() calls if the work is still pending after rmmod freed that text (processAfterUnload).
   */
  fnAddr?: bigint;
}

export class Workqueues {
  private readonly k: Kernel;
  readonly system_wq: Workqueue;
  private n = 0;
  /** The first HISTORY_KEPT that ran (events.ts: a self-re-arming one would keep a million). */
  readonly ran: { name: string; atNs: number }[] = [];
  private queue: WorkStruct[] = [];
  /** The module's work items queued or waiting on their delay now: those of an unloaded module run in freed text. */
  private readonly moduleQueued = new Set<WorkStruct>();

  constructor(k: Kernel) {
    this.k = k;
    this.system_wq = this.alloc_workqueue("events");
  }

  alloc_workqueue(name: string): Workqueue {
    return { name, lockMap: { name: `(wq_completion)${name}`, addr: 0xffff888003c4d548n + BigInt(this.n++) * 0x200n, kind: "pseudo" } };
  }

  create_workqueue(name: string): Workqueue {
    return this.alloc_workqueue(name);
  }

  create_singlethread_workqueue(name: string): Workqueue {
    return this.alloc_workqueue(name);
  }

  destroy_workqueue(wq: Workqueue): void {
    for (const w of [...this.queue]) if (w.wq === wq) this.flush_work(w);
  }

  /** INIT_WORK(&w, fn): the callback receives the work. */
  INIT_WORK(func: (w: WorkStruct) => unknown, name?: string): WorkStruct {
    this.n++;
    const nm = name ?? ((func as { name?: string }).name || `work#${this.n}`);
    return {
      func,
      name: nm,
      pending: false,
      running: false,
      lockMap: { name: `(work_completion)(&${nm})`, addr: 0xffffc90000203e58n - BigInt(this.n) * 0x40n, kind: "pseudo" },
    };
  }

  /** INIT_DELAYED_WORK(&dw, fn). */
  INIT_DELAYED_WORK(func: (w: WorkStruct) => unknown, name?: string): WorkStruct {
    const w = this.INIT_WORK(func, name);
    w.lockMap.name = `(work_completion)(&(&${w.name})->work)`;
    return w;
  }

  queue_work(wq: Workqueue, w: WorkStruct): boolean {
    if (w.pending) return false;
    w.pending = true;
    w.wq = wq;
    this.noteModuleFn(w);
    this.queue.push(w);
    w.event = this.k.sched.loop.schedule(this.k.clock.now(), "work", `work ${w.name}`, () => this.process(w));
    return true;
  }

  schedule_work(w: WorkStruct): boolean {
    return this.queue_work(this.system_wq, w);
  }

  /** queue_delayed_work(wq, dw, delay jiffies). */
  queue_delayed_work(wq: Workqueue, w: WorkStruct, delay: number): boolean {
    if (w.pending) return false;
    if (delay <= 0) return this.queue_work(wq, w);
    w.pending = true;
    w.wq = wq;
    this.noteModuleFn(w);
    const at = this.k.clock.now() + delay * this.k.clock.tickNsec;
    w.event = this.k.sched.loop.schedule(at, "timer", `delayed_work_timer_fn ${w.name}`, () => {
      w.pending = false;
      this.queue_work(wq, w);
    });
    return true;
  }

  schedule_delayed_work(w: WorkStruct, delay: number): boolean {
    return this.queue_delayed_work(this.system_wq, w, delay);
  }

  mod_delayed_work(wq: Workqueue, w: WorkStruct, delay: number): boolean {
    const was = this.cancel(w);
    this.queue_delayed_work(wq, w, delay);
    return was;
  }

  private cancel(w: WorkStruct): boolean {
    const was = w.pending;
    this.k.sched.loop.cancel(w.event);
    w.event = undefined;
    w.pending = false;
    this.queue = this.queue.filter((x) => x !== w);
    this.moduleQueued.delete(w);
    return was;
  }

  /** cancel_work_sync(w): returns true if it was pending. Sleeps: might_sleep. */
  cancel_work_sync(w: WorkStruct): boolean {
    this.k.sched.might_sleep("kernel/workqueue.c", 3254, ["__cancel_work_timer", "cancel_work_sync"]);
    return this.cancel(w);
  }

  cancel_work(w: WorkStruct): boolean {
    return this.cancel(w);
  }

  cancel_delayed_work(w: WorkStruct): boolean {
    return this.cancel(w);
  }

  cancel_delayed_work_sync(w: WorkStruct): boolean {
    return this.cancel_work_sync(w);
  }

  /** flush_work(w): wait until the work has run; returns true if it had to wait. */
  flush_work(w: WorkStruct): boolean {
    this.k.sched.might_sleep("kernel/workqueue.c", 3069, ["__flush_work", "flush_work"]);
    if (!w.pending || !w.event) return false;
    const ev = w.event;
    // Sleep until the work's event time, running everything due (the work itself included).
    this.k.sched.idleUntil(ev.at);
    // A delayed work queued its real work just now: run that too.
    if (w.pending && w.event) this.k.sched.idleUntil(this.k.clock.now());
    return true;
  }

  flush_delayed_work(w: WorkStruct): boolean {
    return this.flush_work(w);
  }

  flush_scheduled_work(): void {
    for (const w of [...this.queue]) this.flush_work(w);
  }

  work_pending(w: WorkStruct): boolean {
    return w.pending;
  }

  /** A kernel-internal work item (vfree from interrupt context: delayed_vfree_work). */
  deferKernelWork(fn: () => void, label: string): void {
    const w = this.INIT_WORK(() => fn(), label);
    w.kernelFn = true;
    this.queue_work(this.system_wq, w);
  }

  /** A module's work function (every cell work's): its address while kallsyms still knows the module. */
  private noteModuleFn(w: WorkStruct): void {
    const mods = this.k.modules;
    if (!w.kernelFn && mods && (mods.state === "coming" || mods.state === "live" || mods.state === "going"))
      w.fnAddr = this.k.kallsyms.addModuleSymbol(w.name, mods.name, 0);
    if (w.fnAddr !== undefined) this.moduleQueued.add(w);
  }

  /**
   * After rmmod: the unloaded module's work still queued (or its delayed work's timer still armed) runs in freed
   * text. Let the simulated time run to the first of them (within TIMER_ORPHAN_MS), so the Oops happens in this run.
   */
  runOrphans(): void {
    const k = this.k;
    if (k.modules?.state !== "unloaded") return;
    const limit = k.clock.now() + TIMER_ORPHAN_MS * 1e6;
    const orphans = () => [...this.moduleQueued].filter((w) => w.fnAddr !== undefined && w.pending && w.event && !w.event.cancelled);
    for (;;) {
      k.watchdog();
      const next = orphans();
      if (!next.length) return;
      const first = next.reduce((a, b) => (b.event!.at < a.event!.at ? b : a)).event!;
      if (first.at > limit) return;
      k.sched.advance(Math.max(0, first.at - k.clock.now()) / 1e6);
      // still queued once its time has come: the CPU cannot schedule the kworker (left in atomic context)
      if (orphans().some((w) => w.event === first) && first.at <= k.clock.now()) return;
    }
  }

  /**
   * process_one_work() of a work item of the unloaded module: worker->current_func = work->func, an address in the
   * core layout free_module() vfree'd; the call faults on the instruction fetch (mm/fault.ts, as timer.ts's
   * expireAfterUnload) in the kworker's process context, whose "Workqueue:" line names the function by address
   * (%ps of an address kallsyms no longer knows). The Oops kills the kworker (make_task_dead); no panic: not in an
   * interrupt. CONFIG_DEBUG_OBJECTS_WORK would have caught the pending work at the free first; no modelled config
   * has it. Simplification: the kernel goes on with the same kworker (one worker, kernel/workqueue.ts's header).
   */
  private processAfterUnload(w: WorkStruct, wq: Workqueue): void {
    const k = this.k;
    const s = k.sched;
    const addr = w.fnAddr!;
    const ip = "0x" + addr.toString(16);
    const entry = ["process_one_work", "worker_thread", "kthread", "ret_from_fork"];
    s.runAsTask(
      s.kworker,
      entry,
      () => {
        const x86 = k.profile.arch === "x86_64" || k.profile.arch === "i386";
        const traceLines = x86 ? s.stackLines([], [], false) : undefined;
        const explain = `The work that runs ${w.name}() was still queued (or waiting on its delay) when the module was unloaded. rmmod freed the module's memory, its text included; when the kworker ran the work, process_one_work() called ${w.name}'s old address ${ip}, where nothing is mapped any more, and the CPU faulted on the instruction fetch: the Oops kills the kworker. Cancel the module's work in module_exit with cancel_work_sync() / cancel_delayed_work_sync() (or flush it), after whatever could queue it again has stopped.`;
        kernelFault(k, { addr, write: false, size: 1, op: "load", fetch: true, ip, callers: entry, traceLines, explain }, k.pgtable.walk(addr));
      },
      `${wq.name} ${ip}`,
    );
  }

  /** process_one_work(): run w as the kworker in process context. */
  private process(w: WorkStruct): void {
    this.queue = this.queue.filter((x) => x !== w);
    this.moduleQueued.delete(w);
    w.pending = false;
    w.event = undefined;
    w.running = true;
    const k = this.k;
    const s = k.sched;
    const ld = k.lockdep;
    const wq = w.wq ?? this.system_wq;
    if (this.ran.length < HISTORY_KEPT) this.ran.push({ name: w.name, atNs: k.clock.now() });
    if (w.fnAddr !== undefined && k.modules?.state === "unloaded") {
      try {
        this.processAfterUnload(w, wq);
      } finally {
        w.running = false;
      }
      return;
    }
    try {
      s.runAsTask(
        s.kworker,
        ["process_one_work", "worker_thread", "kthread", "ret_from_fork"],
        () => {
          ld.acquire(wq.lockMap, k.kallsyms.frame("process_one_work"), "process_one_work");
          ld.acquire(w.lockMap, k.kallsyms.frame("process_one_work"), "process_one_work");
          try {
            w.func(w);
          } finally {
            ld.release(w.lockMap, "", "process_one_work");
            ld.release(wq.lockMap, "", "process_one_work");
            if (s.in_atomic() || ld.heldBy(s.kworker).length > 0) {
              const cur = k.current;
              const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
              const lines = [
                `BUG: workqueue leaked lock or atomic: ${cur.comm}/0x${hex(s.preempt_count())}/${cur.pid}`,
                `     last function: ${w.name} [${s.moduleName()}]`,
                ...s.heldLocksLines(cur),
              ];
              s.emit({ kind: "bug", title: lines[0], lines, top: [] });
              ld.forget(s.kworker);
            }
          }
        },
        `${wq.name} ${w.name} [${s.moduleName()}]`,
      );
    } finally {
      w.running = false;
    }
    void kernLevels;
  }
}
