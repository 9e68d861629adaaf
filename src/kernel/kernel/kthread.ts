// Models kernel/kthread.c (kthread_create_on_node, kthread(), kthread_stop, kthread_should_stop), kernel/fork.c's
// thread stack (alloc_thread_stack_node, THREAD_SIZE, the KernelStack counter) and the one-CPU scheduling of kernel
// threads of Linux 6.1, with 2.6.32 / 3.4 where they differ.
//
// The scheduling model (deterministic, simulated time; one CPU, no preemption):
//   - kthread_create makes the task (pid, comm = the name cut to TASK_COMM_LEN - 1 = 15 characters, a kernel stack
//     of THREAD_SIZE, KernelStack += THREAD_SIZE) and leaves it asleep; wake_up_process (kthread_run does both)
//     makes it runnable now. A runnable thread runs when the CPU is free: when the task that woke it sleeps
//     (module_init's msleep, a wait, kthread_stop), at the end of module_init (the scheduler runs before insmod
//     returns to user space), or in the drain after init. It runs until it sleeps or returns: it is never preempted.
//   - A thread "sleeps" at a sleeping call written in its own function's body (msleep, ssleep, usleep_range,
//     schedule, schedule_timeout, wait_for_completion*, wait_event_interruptible*): the cell's thread function is run
//     as a generator (sandbox/kthread_transform.ts makes it one, each such call a `yield` point), so the thread is
//     suspended there and other tasks run; its wake-up is an event at the wake time in the one event queue. A sleep
//     elsewhere (in a helper the thread calls, in atomic context) does not suspend the thread: the time passes with
//     the events running on top of it, as a sleep of module_init does, and no other task runs meanwhile.
//   - kthread_stop(t) sets KTHREAD_SHOULD_STOP, wakes t (wake_up_process: msleep's schedule_timeout_uninterruptible
//     loop goes back to sleep for what is left of its time, schedule_timeout returns the jiffies left, a wait checks
//     its condition again) and sleeps until t has exited, then returns its return value. A thread that was never
//     woken exits without running its function: -EINTR (kthread() checks KTHREAD_SHOULD_STOP first).
//   - While threads are alive, the drain after module_init lasts KTHREAD_LOADED_MS of simulated time (as if the
//     learner ran `insmod cell.ko; sleep 5; rmmod cell`), not until the queue is empty: a looping thread never
//     empties it.
//   - A thread still alive when the module is gone (module_exit forgot kthread_stop) wakes up in freed module text:
//     the next time it runs, the CPU fetches its next instruction from the unmapped module area, and the kernel
//     prints the era's page-fault Oops in that thread's context (mm/fault.ts, instruction fetch) and kills it.
//   - A busy machine (Kernel.cpuBusy, RunOptions.busy): another task holds the CPU at set times, as a real-time task
//     (SCHED_FIFO) does on a one-CPU machine until it blocks; the module's threads (SCHED_NORMAL, as kthread_run makes
//     them) cannot run then, and one whose wake-up falls in such a window runs when the window ends: its msleep lasts
//     longer than asked, as a real kernel allows (msleep guarantees at least the time asked, never at most). Timers,
//     tasklets, interrupts and work items are not held back (the model's only task-context events are the threads').
// Simplifications: no SMP (a woken thread never runs beside the task that woke it), no priorities or CFS vruntime, no
// signals; the task_struct itself is not allocated from a task_struct cache (only its stack is modelled, from vmalloc on
// the 6.1 VMAP_STACK architectures as kernel_clone's caller shows in vmallocinfo, else THREAD_SIZE_ORDER pages from the
// buddy allocator; 6.1's cache of two freed stacks is not modelled: an exited thread's stack is freed at once);
// kthread_stop of a thread that already exited by itself returns its exit code (the task_struct is kept, as a
// get_task_struct() would).

import type { Kernel, Task } from "../kernel.ts";
import type { SimEvent } from "./events.ts";
import { PageOwner } from "../mm/page_flags.ts";
import { gfp } from "../gfp.ts";
import { kernelOwnedArea } from "../mm/percpu.ts";
import { threadSize as threadSizeOf } from "../mm/slab_boot.ts";
import { detachedSlice } from "./vsprintf.ts";

/** The drain after module_init lasts this long while kernel threads are alive (see the header). */
export const KTHREAD_LOADED_MS = 5000;
/** include/linux/sched.h TASK_COMM_LEN. */
export const TASK_COMM_LEN = 16;
const EINTR = 4;

/** What the sandbox gives the kernel to run a thread's function: the first call, then each resumption. */
export interface KthreadBody {
  /** Run the function from its start; a suspended generator returns { done: false }. */
  start(): KthreadStep;
  /** Resume after a sleep with the sleeping call's return value. */
  resume(value: unknown): KthreadStep;
  /** True once the function turned out to be a generator (the transform made it one): its sleeps suspend it. */
  readonly suspendable: boolean;
  /** The thread function's kallsyms name ("" when anonymous). */
  readonly symbol: string;
  dispose(): void;
}

export type KthreadStep = { done: true; value: number } | { done: false } | { done: true; failed: true };

/** A sleep a suspended thread is in: its wake-up time, an optional condition, and what the call returns. */
export interface KthreadSleep {
  name: string;
  /** Absolute wake time (ns); Infinity for "until the condition" (a wait without timeout is bounded by its caller). */
  untilNs: number;
  /** Checked when the thread is woken (wake_up_process, a wake_up on its queue) and each jiffy. */
  cond?: () => boolean;
  /** wake_up_process() on a wait: the wait's condition checked at once (true: the thread runs). */
  onWake?: () => boolean;
  /** On an early wake_up_process (kthread_stop): go back to sleep for the rest (msleep) or return now. */
  early: "resleep" | "return";
  /** The call's return value when the thread runs again (woken at `now`). */
  result(nowNs: number): unknown;
}

export type KthreadState = "new" | "runnable" | "running" | "sleeping" | "dead";

export interface Kthread {
  task: Task;
  state: KthreadState;
  shouldStop: boolean;
  exitCode?: number;
  body: KthreadBody;
  sleep?: KthreadSleep;
  wakeEvent?: SimEvent;
  /** The module that made it, and whether that module is still loaded. */
  module: string;
  /** Its kernel stack: a vmalloc address (VMAP_STACK) or the first PFN of THREAD_SIZE_ORDER pages. */
  stack: { vmalloc: bigint } | { pfn: number; order: number };
  /** Where the thread returns to from its sleep: an address in the module's text (the Oops after unload). */
  resumeAddr?: bigint;
  createdNs: number;
}

/** THREAD_SIZE: 16 KiB on 64-bit 6.1 (3.15 raised x86_64's from 8 KiB), doubled by KASAN; 8 KiB on 32-bit (16 KiB on ARM with KASAN). */
export function threadSize(k: Kernel): number {
  return threadSizeOf(k.profile.arch, k.profile.era, k.kasan !== undefined);
}

/** CONFIG_VMAP_STACK: the 6.1 kernels of x86_64, arm64 and ARM (the real armhf boot's vmallocinfo shows kernel_clone stacks); not i386, not 2.6/3.4. */
export function vmapStack(k: Kernel): boolean {
  return k.profile.era === "6.1" && k.profile.arch !== "i386";
}

/** kernel_clone's return address as vmallocinfo prints the stack's caller (alloc_thread_stack_node inlined), per arch. */
function stackCaller(k: Kernel): string {
  switch (k.profile.arch) {
    case "x86_64":
      return "kernel_clone+0xbf/0x430";
    case "arm":
      return "kernel_clone+0xac/0x3c4";
    default:
      return "kernel_clone+0xc4/0x3f0";
  }
}

/** The kernel threads modules made in this run, and their stacks. */
export class Kthreads {
  readonly list: Kthread[] = [];
  /** Bytes of kernel stack of the live threads (meminfo's KernelStack adds them). */
  stackBytes = 0;
  /** The thread running now (its function is on the host stack). */
  running: Kthread | null = null;
  private readonly k: Kernel;

  constructor(k: Kernel) {
    this.k = k;
  }

  /** The thread `current` is, if it is one of ours. */
  current(): Kthread | undefined {
    const cur = this.k.current;
    return this.list.find((t) => t.task === cur);
  }

  alive(module?: string): Kthread[] {
    return this.list.filter((t) => t.state !== "dead" && (module === undefined || t.module === module));
  }

  /** kthread_create_on_node(): a new task, asleep until wake_up_process. Returns null when its stack cannot be had (-ENOMEM). */
  create(name: string, body: KthreadBody, module: string, pid: number): Kthread | null {
    const k = this.k;
    const size = threadSize(k);
    let stack: Kthread["stack"];
    if (vmapStack(k)) {
      const v = k.vmalloc;
      const align = k.profile.arch === "arm" ? 2 * size : size; // THREAD_ALIGN
      const addr = v.__vmalloc_node_range(size, align, v.vmallocStart, v.vmallocEnd, v.GFP_KERNEL, "kernel", 0, stackCaller(k));
      if (addr === 0n) return null;
      kernelOwnedArea(k, addr); // the task's, not the module's: kmemleak finds it referenced from the task_struct
      stack = { vmalloc: addr };
    } else {
      const order = Math.log2(size / 4096);
      const pfn = k.pages.alloc_pages(gfp(k.profile.era, "GFP_KERNEL"), order, PageOwner.Kernel, "kernel_clone");
      if (pfn < 0) return null;
      stack = { pfn, order };
    }
    this.stackBytes += size;
    taskStackAccount(k, +1);
    const t: Kthread = {
      task: { pid, comm: detachedSlice(name, 0, TASK_COMM_LEN - 1) }, // a copy: a slice would keep the whole name alive
      state: "new",
      shouldStop: false,
      body,
      module,
      stack,
      createdNs: k.clock.now(),
    };
    this.list.push(t);
    return t;
  }

  /** wake_up_process(): a new or sleeping thread becomes runnable now. Returns true if it was woken. */
  wake(t: Kthread): boolean {
    if (t.state === "new") {
      t.state = "runnable";
      this.queue(t, this.k.clock.now(), "kthread start");
      return true;
    }
    if (t.state !== "sleeping" || !t.sleep) return false;
    const s = t.sleep;
    if (s.onWake ? s.onWake() : s.early === "return") {
      this.queue(t, this.k.clock.now(), "kthread wake");
      return true;
    }
    return false; // msleep: schedule_timeout_uninterruptible goes back to sleep for the rest of its time
  }

  /** (Re)queue t's next run at `at`. */
  private queue(t: Kthread, at: number, label: string): void {
    this.k.sched.loop.cancel(t.wakeEvent);
    t.wakeEvent = this.k.sched.loop.schedule(at, "wakeup", `${label} ${t.task.comm}`, () => this.run(t));
  }

  /** A wait of a suspended thread: its condition is polled each jiffy (as Sched.wait_event_timeout polls). */
  private pollCondition(t: Kthread): void {
    const s = t.sleep!;
    const tick = this.k.clock.tickNsec;
    const next = Math.min(s.untilNs, this.k.clock.now() + tick);
    t.wakeEvent = this.k.sched.loop.schedule(next, "wakeup", `kthread poll ${t.task.comm}`, () => {
      if (t.state !== "sleeping" || t.sleep !== s) return;
      if (s.cond!() || this.k.clock.now() >= s.untilNs) this.run(t);
      else this.pollCondition(t);
    });
  }

  /** The thread function asked to sleep at one of its yield points: suspend it. */
  suspend(t: Kthread, s: KthreadSleep): void {
    t.sleep = s;
  }

  /** Run t from where it is until it sleeps or exits (an event: the CPU is free). */
  private run(t: Kthread): void {
    t.wakeEvent = undefined;
    if (t.state === "dead" || t.state === "running") return;
    const k = this.k;
    if (k.modules.state === "unloaded" || k.modules.state === "none") {
      this.afterUnload(t);
      return;
    }
    const busyEnd = cpuBusyUntil(k, k.clock.now());
    if (busyEnd !== undefined) {
      // another task holds the CPU (Kernel.cpuBusy): this thread runs when it lets go
      this.queue(t, busyEnd, "kthread wake (CPU busy)");
      return;
    }
    const first = t.state === "runnable" && t.sleep === undefined && !this.started.has(t);
    const sleep = t.sleep;
    t.sleep = undefined;
    t.state = "running";
    const saved = this.running;
    this.running = t;
    let step: KthreadStep;
    try {
      step = k.sched.runAsTask(t.task, ["kthread", "ret_from_fork"], () => {
        let st: KthreadStep;
        if (first) {
          this.started.add(t);
          // kthread(): a thread stopped before it ever ran does not call its function
          st = t.shouldStop ? { done: true, value: -EINTR } : t.body.start();
        } else st = t.body.resume(sleep ? sleep.result(k.clock.now()) : undefined);
        if (st.done) this.exit(t, "failed" in st ? 0 : st.value); // kthread_exit(), in the thread's context
        return st;
      });
    } finally {
      this.running = saved;
    }
    if (step.done) return;
    const s = t.sleep as KthreadSleep | undefined;
    if (!s) {
      // A yield with no sleep recorded (the call slept in place, or did not sleep): runnable again at once.
      t.state = "runnable";
      this.queue(t, k.clock.now(), "kthread resume");
      return;
    }
    t.state = "sleeping";
    if (s.cond) this.pollCondition(t);
    else this.queue(t, s.untilNs, "kthread wake");
  }

  private readonly started = new Set<Kthread>();

  /** kthread_exit(): the thread is gone; its stack is freed (put_task_stack). */
  exit(t: Kthread, code: number): void {
    const k = this.k;
    t.state = "dead";
    t.exitCode = code;
    k.sched.loop.cancel(t.wakeEvent);
    t.wakeEvent = undefined;
    t.body.dispose();
    this.stackBytes -= threadSize(k);
    taskStackAccount(k, -1);
    if ("vmalloc" in t.stack) k.vmalloc.vfree(t.stack.vmalloc);
    else k.pages.__free_pages(t.stack.pfn, t.stack.order);
  }

  /** kthread_should_stop() for the running thread. */
  shouldStop(t: Kthread): boolean {
    return t.shouldStop;
  }

  /**
   * kthread_stop(t): set SHOULD_STOP, wake it, and sleep until it exited (run the events meanwhile, the thread's
   * among them). Returns its return value; undefined if it did not exit within the wait's bound (the caller reports).
   */
  stop(t: Kthread, waitUntilExit: (done: () => boolean) => boolean): number | undefined {
    t.shouldStop = true;
    if (t.state !== "dead") {
      if (t.state === "new") {
        t.state = "runnable";
        this.queue(t, this.k.clock.now(), "kthread start");
      } else this.wake(t);
      if (!waitUntilExit(() => t.state === "dead")) return undefined;
    }
    return t.exitCode;
  }

  /**
   * The scheduler on insmod's return to user space: the threads woken during module_init and due now run (each
   * until it sleeps or exits) before insmod's next instruction, on this one CPU.
   */
  runRunnable(): void {
    for (const t of this.list) {
      if (t.state !== "runnable" || !t.wakeEvent || t.wakeEvent.at > this.k.clock.now()) continue;
      this.k.sched.loop.cancel(t.wakeEvent);
      this.run(t);
    }
  }

  /** Hook: the page-fault Oops a thread meets when it runs again in an unloaded module (set by the sandbox's rows). */
  onRunAfterUnload: ((t: Kthread) => void) | undefined;

  private afterUnload(t: Kthread): void {
    this.k.sched.runAsTask(t.task, ["kthread", "ret_from_fork"], () => {
      this.onRunAfterUnload?.(t);
      // The Oops killed the task (make_task_dead -> do_exit): its stack goes too.
      if (t.state !== "dead") this.exit(t, 0);
    });
  }

  /**
   * After rmmod: a thread of the unloaded module that is still alive runs again at its next wake-up, in freed module
   * text. Run the events up to that wake-up (bounded), so the Oops happens in this run.
   */
  runOrphans(module: string): void {
    const k = this.k;
    const limit = k.clock.now() + 60_000 * 1e6;
    for (;;) {
      k.watchdog();
      const next = this.alive(module).filter((t) => t.wakeEvent && !t.wakeEvent.cancelled);
      if (!next.length) return; // none left, or asleep with no wake-up: it never runs again (a leaked task)
      const first = next.reduce((a, b) => (b.wakeEvent!.at < a.wakeEvent!.at ? b : a)).wakeEvent!;
      if (first.at > limit) return;
      k.sched.advance((first.at - k.clock.now()) / 1e6);
      // Still queued once its time has come: this CPU cannot schedule (a deadlock left it in atomic context, as a
      // module function a KernelHang ended with a spinlock held does): time passes and the thread never runs again.
      if (this.alive(module).some((t) => t.wakeEvent === first && !first.cancelled) && first.at <= k.clock.now()) return;
    }
  }
}

/** When the CPU is held by another task at `nowNs` (Kernel.cpuBusy), the end of that window (ns); else undefined. */
export function cpuBusyUntil(k: Kernel, nowNs: number): number | undefined {
  for (const w of k.cpuBusy ?? []) if (nowNs >= w.fromNs && nowNs < w.toNs) return w.toNs;
  return undefined;
}

/**
 * A task with a kernel stack came (+1) or went (-1): meminfo's KernelStack is the kernel's task count x THREAD_SIZE
 * (k.nrTasks, which the boot sets for its own tasks: init/boot_tasks.ts).
 */
export function taskStackAccount(k: Kernel, delta: 1 | -1): void {
  const kk = k as Kernel & { nrTasks?: number };
  kk.nrTasks = (kk.nrTasks ?? 0) + delta;
}

/** The run's kernel threads (made on first use: a booted kernel has none of a module's). */
export function kthreads(k: Kernel): Kthreads {
  return (k.kthreads ??= new Kthreads(k));
}

/** Bytes of kernel stack the run's threads hold now (meminfo's KernelStack: boot stacks + these). */
export function kthreadStackBytes(k: Kernel): number {
  return k.kthreads?.stackBytes ?? 0;
}

/**
 * /proc/PID/status of a kernel thread (fs/proc/array.c proc_pid_status without task_mem: a kthread has no mm): its
 * state as the scheduler has it (msleep and a new thread sleep TASK_UNINTERRUPTIBLE: "D (disk sleep)"; the
 * interruptible waits "S (sleeping)"), parent kthreadd (pid 2). Simplification: the lines after Threads are not printed.
 */
export function renderKthreadStatus(k: Kernel, t: Kthread): string {
  const era = k.profile.era;
  const interruptible = t.sleep !== undefined && /interruptible|^wait_event$|^schedule/.test(t.sleep.name) && !/uninterruptible/.test(t.sleep.name);
  const state = t.state === "runnable" || t.state === "running" ? "R (running)" : interruptible ? "S (sleeping)" : "D (disk sleep)";
  let s = `Name:\t${t.task.comm}\n`;
  if (era === "6.1") s += "Umask:\t0000\n";
  s += `State:\t${state}\nTgid:\t${t.task.pid}\n`;
  if (era === "6.1") s += "Ngid:\t0\n";
  s += `Pid:\t${t.task.pid}\nPPid:\t2\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t\n`;
  if (era === "6.1") s += `NStgid:\t${t.task.pid}\nNSpid:\t${t.task.pid}\nNSpgid:\t0\nNSsid:\t0\n`;
  s += "Threads:\t1\n";
  return s;
}
