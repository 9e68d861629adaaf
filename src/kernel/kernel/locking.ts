// Models kernel/locking/spinlock.c, include/linux/spinlock.h and kernel/locking/mutex.c of Linux 6.1 (same API in 2.6.32 and 3.4) on one CPU, with their context effects.
//
// spin_lock raises preempt_count by 1 (with CONFIG_PREEMPT_COUNT); _irq/_irqsave also disable interrupts; _bh adds
// SOFTIRQ_DISABLE_OFFSET (0x200). spin_lock_irqsave returns the flags (the sandbox cannot pass `flags` by reference):
//   const flags = spin_lock_irqsave(lock); ... spin_unlock_irqrestore(lock, flags);
// mutex_lock may sleep: might_sleep() at kernel/locking/mutex.c:283 (6.1 mutex_lock; 2.6.32: line 95, 3.4: line
// 89 — numbers from the respective mutex.c, approximate for the old eras), then, if the mutex is held, the task sleeps.
// Lockdep (lockdep.ts) checks every acquisition in the debug config.
//
// Lock addresses: a lock defined by the module (DEFINE_SPINLOCK/DEFINE_MUTEX, spin_lock_init on a module global) gets
// an address in the module's data (module.ts allocStatic, else a counter in the modules area); the caller may pass
// the address of a kmalloc'ed structure instead. Names come from the caller (the sandbox passes the variable name),
// else "&lock#N" / "&mutex#N".
//
// Simplifications (one CPU, synchronous callbacks): a spinlock that is already held can never be released while
// this CPU spins on it, so taking it is a deadlock: the simulator prints lockdep's report (debug) and then
// the soft-lockup the watchdog would print after 22 s, and throws KernelHang, which ends the module function that
// would spin forever (the sandbox treats it like an Oops at the function boundary). A contended mutex (held by another
// task) likewise cannot be handed over while the waiter's callback is on the stack: the waiter sleeps (with the
// might_sleep / scheduling-while-atomic checks) and then hangs the same way.

import type { Kernel, Task } from "../kernel.ts";
import type { LockInstance } from "./lockdep.ts";
import { kernLevels } from "./printk.ts";

/** Thrown when the CPU would hang: ends the current module function (the sandbox's killTask convention). */
export class KernelHang extends Error {
  readonly killTask = true;
  constructor(message: string) {
    super(message);
    this.name = "KernelHang";
  }
}

export interface Spinlock extends LockInstance {
  kind: "spinlock";
  owner?: Task;
  /** Hold count (recursion is a deadlock, but the bookkeeping needs it). */
  locked: boolean;
}

export interface Mutex extends LockInstance {
  kind: "mutex";
  owner?: Task;
  locked: boolean;
}

const MUTEX_LINE: Record<string, number> = { "6.1": 283, "3.4": 89, "2.6": 95 };

export class Locking {
  private readonly k: Kernel;
  private nSpin = 0;
  private nMutex = 0;
  private nextStatic = 0x3010n;
  readonly all: (Spinlock | Mutex)[] = [];

  constructor(k: Kernel) {
    this.k = k;
  }

  private staticAddr(size: number): bigint {
    const m = (this.k as unknown as { modules?: { allocStatic?(n: number): bigint } }).modules;
    if (m?.allocStatic) return m.allocStatic(size);
    const base = this.k.layout?.modulesVaddr ?? 0xffffffffc0000000n;
    const a = base + 0x200000n + this.nextStatic;
    this.nextStatic += BigInt((size + 15) & ~15);
    return a;
  }

  /** The frame that called into the lock API (module's innermost frame). */
  private ip(): string {
    const f = this.k.captureModuleStack()[0];
    return f ? this.k.kallsyms.moduleFrame(f.fn, f.module ?? this.k.sched.moduleName(), f.line) : "";
  }

  // ---- spinlock_t -------------------------------------------------------------------------------------------

  spin_lock_init(name?: string, addr?: bigint): Spinlock {
    this.nSpin++;
    const l: Spinlock = { kind: "spinlock", name: name ?? `&lock#${this.nSpin}`, addr: addr ?? this.staticAddr(this.k.debug ? 64 : 4), locked: false };
    this.all.push(l);
    return l;
  }

  DEFINE_SPINLOCK(name?: string): Spinlock {
    return this.spin_lock_init(name);
  }

  private acquireSpin(l: Spinlock, fn: string): void {
    const s = this.k.sched;
    const ip = this.ip();
    const ld = this.k.lockdep;
    ld.acquire(l, ip, fn);
    if (l.locked) this.hang(l, fn);
    l.locked = true;
    l.owner = this.k.current;
    void s;
  }

  private releaseSpin(l: Spinlock, fn: string): boolean {
    const ok = this.k.lockdep.release(l, this.ip(), fn);
    if (!l.locked) return ok;
    l.locked = false;
    l.owner = undefined;
    return true;
  }

  spin_lock(l: Spinlock): void {
    this.k.sched.preempt_disable(this.ip());
    this.acquireSpin(l, "_raw_spin_lock");
  }

  spin_unlock(l: Spinlock): void {
    this.releaseSpin(l, "_raw_spin_unlock");
    this.k.sched.preempt_enable();
  }

  spin_lock_irq(l: Spinlock): void {
    this.k.sched.local_irq_disable(this.ip() || "_raw_spin_lock_irq");
    this.k.sched.preempt_disable(this.ip());
    this.acquireSpin(l, "_raw_spin_lock_irq");
  }

  spin_unlock_irq(l: Spinlock): void {
    this.releaseSpin(l, "_raw_spin_unlock_irq");
    this.k.sched.preempt_enable();
    this.k.sched.local_irq_enable("_raw_spin_unlock_irq");
  }

  /** spin_lock_irqsave(lock, flags): returns flags. */
  spin_lock_irqsave(l: Spinlock): number {
    const flags = this.k.sched.local_irq_save("_raw_spin_lock_irqsave");
    this.k.sched.preempt_disable(this.ip());
    this.acquireSpin(l, "_raw_spin_lock_irqsave");
    return flags;
  }

  spin_unlock_irqrestore(l: Spinlock, flags: number): void {
    this.releaseSpin(l, "_raw_spin_unlock_irqrestore");
    this.k.sched.preempt_enable();
    this.k.sched.local_irq_restore(flags, "_raw_spin_unlock_irqrestore");
  }

  spin_lock_bh(l: Spinlock): void {
    this.k.sched.local_bh_disable(this.ip() || "_raw_spin_lock_bh");
    if (this.k.sched.preemptCountConfig) this.k.sched.count += 1;
    this.acquireSpin(l, "_raw_spin_lock_bh");
  }

  spin_unlock_bh(l: Spinlock): void {
    this.releaseSpin(l, "_raw_spin_unlock_bh");
    this.k.sched.preempt_enable();
    this.k.sched.local_bh_enable("_raw_spin_unlock_bh");
  }

  /** spin_trylock(lock): 1 when taken, 0 when already held (no deadlock: that is its point). */
  spin_trylock(l: Spinlock): number {
    if (l.locked) return 0;
    this.k.sched.preempt_disable(this.ip());
    // trylock acquisitions are not checked for deadlocks by lockdep (trylock=1); track it as held.
    this.k.lockdep.heldBy(this.k.current).push({ lock: l, ip: this.ip(), task: this.k.current });
    l.locked = true;
    l.owner = this.k.current;
    return 1;
  }

  spin_is_locked(l: Spinlock): number {
    return l.locked ? 1 : 0;
  }

  // ---- mutex ------------------------------------------------------------------------------------------------

  mutex_init(name?: string, addr?: bigint): Mutex {
    this.nMutex++;
    const m: Mutex = { kind: "mutex", name: name ?? `&mutex#${this.nMutex}`, addr: addr ?? this.staticAddr(this.k.debug ? 160 : 32), locked: false };
    this.all.push(m);
    return m;
  }

  DEFINE_MUTEX(name?: string): Mutex {
    return this.mutex_init(name);
  }

  mutex_lock(m: Mutex, fn = "mutex_lock"): void {
    const s = this.k.sched;
    s.might_sleep("kernel/locking/mutex.c", MUTEX_LINE[this.k.profile.era], [fn]);
    this.k.lockdep.acquire(m, this.ip(), this.k.debug ? "__mutex_lock" : fn);
    if (m.locked) {
      // Contended: the task sleeps (schedule prints scheduling while atomic in atomic context) and, on one CPU
      // with synchronous callbacks, nobody can release it for us.
      s.schedule(["schedule_preempt_disabled", "__mutex_lock.constprop.0", "__mutex_lock_slowpath", fn]);
      this.hang(m, fn);
    }
    m.locked = true;
    m.owner = this.k.current;
  }

  /** mutex_lock_interruptible: 0 on success (no signals in the simulator). */
  mutex_lock_interruptible(m: Mutex): number {
    this.mutex_lock(m, "mutex_lock_interruptible");
    return 0;
  }

  mutex_lock_killable(m: Mutex): number {
    this.mutex_lock(m, "mutex_lock_killable");
    return 0;
  }

  /** mutex_trylock: 1 when taken, 0 when contended. */
  mutex_trylock(m: Mutex): number {
    if (m.locked) return 0;
    this.k.lockdep.heldBy(this.k.current).push({ lock: m, ip: this.ip(), task: this.k.current });
    m.locked = true;
    m.owner = this.k.current;
    return 1;
  }

  mutex_unlock(m: Mutex): void {
    this.k.lockdep.release(m, this.ip(), "mutex_unlock");
    // 6.1 DEBUG_MUTEXES: DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current) — reported by lockdep's imbalance here.
    m.locked = false;
    m.owner = undefined;
  }

  mutex_is_locked(m: Mutex): number {
    return m.locked ? 1 : 0;
  }

  // ---- deadlock ---------------------------------------------------------------------------------------------

  /** The CPU would spin (or sleep) forever: print the watchdog's soft lockup and end the module function. */
  private hang(l: Spinlock | Mutex, fn: string): never {
    const k = this.k;
    const s = k.sched;
    const cur = k.current;
    const owner = l.owner ? `${l.owner.comm}/${l.owner.pid}` : "nobody";
    if (l.kind === "spinlock") {
      // The watchdog's words per era (kernel/watchdog.c: 2.6.32 reports after 61 s, 3.4 and 6.1 after 22 s; the
      // "watchdog: " prefix is pr_fmt since 4.x), as the sandbox's CPU deadline prints them (sandbox/run.ts). Kind
      // "timeout" like that one, without its `limit`: a hang the kernel models, not a limit of the run.
      const era = k.profile.era;
      const secs = era === "2.6" ? 61 : 22;
      k.clock.advance(secs * 1e9);
      const title = `${era === "6.1" ? "watchdog: " : ""}BUG: soft lockup - CPU#0 stuck for ${secs}s! [${cur.comm}:${cur.pid}]`;
      s.emit({
        kind: "timeout",
        title,
        lines: [title],
        top: ["queued_spin_lock_slowpath", fn],
        modulesAt: 1,
        explain: `${fn.replace(/^_raw_/, "")}() on ${l.name}, which ${owner} already holds: on one CPU nobody can release it, so the CPU spins forever.`,
      });
      k.taint.add("L");
    } else {
      const text = `kmodlab: ${cur.comm}/${cur.pid} sleeps forever in ${fn}() on ${l.name}, held by ${owner}`;
      k.printk(kernLevels(k.profile).KERN_ERR + "%s\n", text);
      k.report({
        kind: "timeout",
        title: text,
        text,
        frames: k.captureModuleStack().map((f) => ({ fn: f.fn, line: f.line, column: f.column })),
        line: k.captureModuleStack()[0]?.line,
        explain: "The mutex is never released while this task waits for it: a deadlock.",
      });
    }
    throw new KernelHang(`deadlock on ${l.name}`);
  }

  /** Locks still held by a task (for the checks at return to user space and at unload). */
  heldBy(task: Task): (Spinlock | Mutex)[] {
    return this.all.filter((l) => l.locked && l.owner?.pid === task.pid);
  }
}
