// Models kernel/locking/lockdep.c of Linux 6.1 (report texts; 2.6.32/3.4 headers and held-lock lines where they differ) — a small lockdep.
//
// On in the "debug" config (PROVE_LOCKING), off in "distro". What it tracks, per lock class (one class per lock name,
// as a static lock_class_key per DEFINE_SPINLOCK / spin_lock_init call site would give):
//   - usage: taken in hardirq / softirq context (IN-HARDIRQ-W, IN-SOFTIRQ-W), taken with hardirqs / softirqs enabled
//     (HARDIRQ-ON-W, SOFTIRQ-ON-W), with the stack trace where each was first seen;
//   - dependencies: A -> B when B is taken while A is held, with the stack where first seen;
//   - the held-lock stack of each task.
// Reports (each once: after the first report lockdep turns itself off, debug_locks = 0, and later splats print
// "INFO: lockdep is turned off." instead of held locks, as the kernel does):
//   possible recursive locking detected, possible circular locking dependency detected (a cycle of any length in
//   the dependency graph, found by breadth-first search as check_noncircular does), inconsistent lock state
//   ({HARDIRQ-ON-W} -> {IN-HARDIRQ-W} and the softirq variants, in both directions), bad unlock balance detected,
//   lock held when returning to user space (insmod/rmmod returning with a lock held) and "held lock freed"-style
//   leftovers at unload are reported by locking.ts through this file.
// Simplifications: no read locks (rwlocks/rwsems), no nesting annotations (subclasses), no lock chains cache;
// the usage string has the 6.1 form {hardirq write, hardirq read, softirq write, softirq read} ("{+.+.}"), the old
// eras' 6-char form adds reclaim_fs as "." pairs ("{+.+.+.}" style is approximated with ".." for RECLAIM_FS).

import type { Kernel, Task } from "../kernel.ts";

export type LockKind = "spinlock" | "mutex" | "pseudo";

export interface LockClass {
  name: string;
  kind: LockKind;
  usedInHardirq?: string[];
  usedInSoftirq?: string[];
  enabledHardirq?: string[];
  enabledSoftirq?: string[];
  /** Dependencies: this -> other, with the trace where the other was taken while this was held. */
  after: Map<LockClass, string[]>;
}

export interface LockInstance {
  name: string;
  addr: bigint;
  kind: LockKind;
  cls?: LockClass;
}

export interface HeldLock {
  lock: LockInstance;
  /** The frame that took it: "mem_module_init+0x1c/0x40 [cell]". */
  ip: string;
  task: Task;
}

type Usage = "HARDIRQ-ON-W" | "IN-HARDIRQ-W" | "SOFTIRQ-ON-W" | "IN-SOFTIRQ-W";

export class Lockdep {
  private readonly k: Kernel;
  /** debug_locks (shared with taint: a taint with LOCKDEP_NOW_UNRELIABLE turns it off): on and not yet reported. */
  get enabled(): boolean {
    return this.configured && this.k.taint.debugLocks;
  }
  /** PROVE_LOCKING is configured at all (stays true after debug_locks_off()). */
  readonly configured: boolean;
  private readonly classes = new Map<string, LockClass>();
  /** Held locks per task pid (the order they were taken). */
  private readonly held = new Map<number, HeldLock[]>();

  constructor(k: Kernel) {
    this.k = k;
    this.configured = k.debug;
  }

  classOf(lock: LockInstance): LockClass {
    if (lock.cls) return lock.cls;
    let c = this.classes.get(lock.name);
    if (!c) {
      c = { name: lock.name, kind: lock.kind, after: new Map() };
      this.classes.set(lock.name, c);
    }
    lock.cls = c;
    return c;
  }

  heldBy(task: Task): HeldLock[] {
    let h = this.held.get(task.pid);
    if (!h) {
      h = [];
      this.held.set(task.pid, h);
    }
    return h;
  }

  /** Turn lockdep off (after a report, or a taint that makes it unreliable: "Disabling lock debugging due to kernel taint"). */
  off(): void {
    this.k.taint.debugLocks = false;
  }

  // ---- formatting -------------------------------------------------------------------------------------------

  private old(): boolean {
    return this.k.profile.era !== "6.1";
  }

  private usageChar(on?: string[], used?: string[]): string {
    if (on) return used ? "?" : "+";
    return used ? "-" : ".";
  }

  /** "{+.+.}" (6.1) / "{+.+.+.}" (old eras, with reclaim_fs). */
  usage(c: LockClass): string {
    const h = this.usageChar(c.enabledHardirq, c.usedInHardirq);
    const s = this.usageChar(c.enabledSoftirq, c.usedInSoftirq);
    return this.old() ? `{${h}.${s}...}` : `{${h}.${s}.}`;
  }

  /** print_lock_name(): " (name){+.+.}-{2:2}" (6.1) / " (name){+.+.+.}" (old). */
  lockName(lock: LockInstance): string {
    const c = this.classOf(lock);
    if (this.old()) return ` (${c.name})${this.usage(c)}`;
    const wt = c.kind === "mutex" ? "{3:3}" : c.kind === "pseudo" ? "{0:0}" : "{2:2}";
    return ` (${c.name})${this.usage(c)}-${wt}`;
  }

  private ptr(addr: bigint): string {
    const w = this.k.profile.arch === "i386" || this.k.profile.arch === "arm" ? 8 : 16;
    return addr.toString(16).padStart(w, "0");
  }

  /** print_lock(): "ffffffffc0203010 (my_lock){+.+.}-{2:2}, at: fn+0x1c/0x40 [cell]". */
  printLock(h: HeldLock): string {
    if (this.old()) return `${this.lockName(h.lock)}, at: ${this.k.sched.ipSym(h.ip)}`;
    return `${this.ptr(h.lock.addr)}${this.lockName(h.lock)}, at: ${h.ip || "0x0"}`;
  }

  /** lockdep_print_held_locks() / debug_show_held_locks() lines for a task. */
  heldLocksLines(task: Task): string[] {
    if (!this.configured) return [];
    if (!this.enabled) return ["INFO: lockdep is turned off."];
    const h = this.heldBy(task);
    const out: string[] = [];
    if (!h.length) out.push(`no locks held by ${task.comm}/${task.pid}.`);
    else out.push(`${h.length} lock${h.length > 1 ? "s" : ""} held by ${task.comm}/${task.pid}:`);
    h.forEach((l, i) => out.push(` #${i}: ${this.old() ? " " + this.printLock(l).trimStart() : this.printLock(l)}`));
    return out;
  }

  /** print_kernel_ident(): "6.1.0-56-amd64 #1 Not tainted". */
  private ident(): string {
    const p = this.k.profile;
    const m = /#\S+/.exec(p.versionString);
    return `${p.release} ${m ? m[0] : "#1"} ${this.taintString()}`;
  }

  private taintString(): string {
    const t = this.k.taint as unknown as { print_tainted?: () => string; string?: () => string };
    return t.print_tainted ? t.print_tainted() : t.string ? t.string() : "Not tainted";
  }

  private header(title: string): string[] {
    if (this.old()) {
      const t = `[ INFO: ${title} ]`;
      return ["", "=".repeat(t.length), t, this.ident(), "-".repeat(t.length)];
    }
    const t = `WARNING: ${title}`;
    return ["", "=".repeat(t.length), t, this.ident(), "-".repeat(t.length)];
  }

  /** A stack trace as lockdep saves it: the lock_acquire frames, then the module's frames and their context. */
  trace(top: string[]): string[] {
    const s = this.k.sched;
    s.sync();
    const out: string[] = [];
    const all = this.k.captureModuleStack();
    for (const f of top) out.push(s.kframe(f));
    for (let i = s.levels.length - 1; i >= 0; i--) {
      const lv = s.levels[i];
      const upper = i === s.levels.length - 1 ? all.length : s.levels[i + 1].moduleBase;
      for (const f of all.slice(all.length - upper, all.length - lv.moduleBase))
        out.push(this.k.kallsyms.moduleFrame(f.fn, f.module ?? s.moduleName(), f.line));
      for (const f of lv.entry) out.push(s.kframe(f));
    }
    return out;
  }

  private report(title: string, lines: string[], top: string[]): void {
    this.off();
    // The report's own lines print at KERN_WARNING in 6.1 (pr_warn); the sched emitter prints at KERN_ERR. The
    // level is not part of the dmesg text, so one emitter serves.
    this.k.sched.emit({ kind: "lockdep", title, lines: [...lines, "", "stack backtrace:"], top });
  }

  // ---- the checks -------------------------------------------------------------------------------------------

  /**
   * lock_acquire(): run the checks for taking `lock` at `ip` by the current task in the current context.
   * Returns false when a report was printed about this acquisition.
   */
  acquire(lock: LockInstance, ip: string, acquireFn: string): boolean {
    const cur = this.k.current;
    const held = this.heldBy(cur);
    const entry: HeldLock = { lock, ip, task: cur };
    this.classOf(lock); // the lock gets its class on first use, as lockdep_init_map() gives it, lockdep on or off
    if (!this.enabled) {
      held.push(entry);
      return true;
    }
    const top = ["__lock_acquire", "lock_acquire", acquireFn];
    let ok = this.markUsage(entry, top);
    if (ok) ok = this.checkDeadlock(entry, held, top);
    if (ok) ok = this.checkPrevs(entry, held, top);
    held.push(entry);
    return ok;
  }

  /** lock_release(): false (and a report) when the lock is not held by the current task. */
  release(lock: LockInstance, ip: string, releaseFn: string): boolean {
    const cur = this.k.current;
    const held = this.heldBy(cur);
    let i = held.length - 1;
    while (i >= 0 && held[i].lock !== lock) i--;
    if (i >= 0) {
      held.splice(i, 1);
      return true;
    }
    if (!this.enabled) return false;
    const lines = [
      ...this.header("bad unlock balance detected!"),
      `${cur.comm}/${cur.pid} is trying to release lock (${this.classOf(lock).name}) at:`,
      this.k.sched.ipSym(ip),
      "but there are no more locks to release!",
      "",
      "other info that might help us debug this:",
      ...this.heldLocksLines(cur),
    ];
    // 6.1 print_unlock_imbalance_bug: "=====================================" (37) over "WARNING: bad unlock balance detected!"
    this.report("WARNING: bad unlock balance detected!", lines, ["lock_release", releaseFn]);
    return false;
  }

  /** Drop every lock the task holds (the task ends; the caller reports leftovers first). */
  forget(task: Task): void {
    this.held.delete(task.pid);
  }

  private markUsage(h: HeldLock, top: string[]): boolean {
    const s = this.k.sched;
    const c = this.classOf(h.lock);
    const hard = s.in_hardirq() !== 0;
    const soft = s.in_serving_softirq() !== 0;
    const hardOn = !s.irqs_disabled();
    const softOn = s.in_softirq() === 0;
    const tr = () => this.trace(top.slice(1));
    const checks: [boolean, keyof LockClass, Usage, keyof LockClass, Usage][] = [
      [hard, "usedInHardirq", "IN-HARDIRQ-W", "enabledHardirq", "HARDIRQ-ON-W"],
      [hardOn, "enabledHardirq", "HARDIRQ-ON-W", "usedInHardirq", "IN-HARDIRQ-W"],
      [soft, "usedInSoftirq", "IN-SOFTIRQ-W", "enabledSoftirq", "SOFTIRQ-ON-W"],
      [softOn, "enabledSoftirq", "SOFTIRQ-ON-W", "usedInSoftirq", "IN-SOFTIRQ-W"],
    ];
    for (const [cond, field, name, conflict, conflictName] of checks) {
      if (!cond || c[field]) continue;
      (c as unknown as Record<string, string[]>)[field] = tr();
      const prev = c[conflict] as string[] | undefined;
      if (prev) {
        this.usageBug(h, conflictName, name, prev, top);
        return false;
      }
    }
    return true;
  }

  private usageBug(h: HeldLock, prevBit: Usage, newBit: Usage, prevTrace: string[], top: string[]): void {
    const s = this.k.sched;
    const cur = h.task;
    const name = this.classOf(h.lock).name;
    const hc = s.in_hardirq() ? 1 : 0;
    const sc = s.in_serving_softirq() ? 1 : 0;
    const he = s.irqs_disabled() ? 0 : 1;
    const se = s.in_softirq() ? 0 : 1;
    const old = this.old();
    const lines = [
      ...this.header("inconsistent lock state"),
      `inconsistent {${old ? prevBit.toLowerCase().replace(/-w$/, "-W") : prevBit}} -> {${old ? newBit.toLowerCase().replace(/-w$/, "-W") : newBit}} usage.`,
      `${cur.comm}/${cur.pid} [HC${hc}[${s.in_hardirq() >> 16}]:SC${sc}[${(s.in_softirq() >> 8) & 0xff}]:HE${he}:SE${se}] takes:`,
      this.printLock(h),
      `{${prevBit}} state was registered at:`,
      ...prevTrace.map((f) => "  " + f),
      ...s.irqTraceLines(),
      "",
      "other info that might help us debug this:",
      " Possible unsafe locking scenario:",
      "",
      "       CPU0",
      "       ----",
      `  lock(${name});`,
      newBit.includes("HARDIRQ") ? "  <Interrupt>" : "  <Interrupt>",
      `    lock(${name});`,
      "",
      " *** DEADLOCK ***",
      "",
      ...this.heldLocksLines(cur),
    ];
    this.report(lines[2], lines, top);
  }

  private checkDeadlock(h: HeldLock, held: HeldLock[], top: string[]): boolean {
    const c = this.classOf(h.lock);
    const prev = held.find((x) => this.classOf(x.lock) === c);
    if (!prev) return true;
    const cur = h.task;
    const lines = [
      ...this.header("possible recursive locking detected"),
      `${cur.comm}/${cur.pid} is trying to acquire lock:`,
      this.printLock(h),
      "",
      "but task is already holding lock:",
      this.printLock(prev),
      "",
      "other info that might help us debug this:",
      " Possible unsafe locking scenario:",
      "",
      "       CPU0",
      "       ----",
      `  lock(${this.classOf(prev.lock).name});`,
      `  lock(${c.name});`,
      "",
      " *** DEADLOCK ***",
      "",
      " May be due to missing lock nesting notation",
      "",
      ...this.heldLocksLines(cur),
    ];
    this.report(lines[2], lines, top);
    return false;
  }

  /** check_prevs_add(): add held -> new dependencies; a path new -> ... -> held is a circular dependency. */
  private checkPrevs(h: HeldLock, held: HeldLock[], top: string[]): boolean {
    const next = this.classOf(h.lock);
    // Only the most recent held lock of this task in the same context forms a dependency in the kernel (it walks
    // back to the first non-trylock); adding all held locks gives the same cycles for the simple cases.
    for (let i = held.length - 1; i >= 0; i--) {
      const prev = this.classOf(held[i].lock);
      if (prev === next) continue;
      if (prev.after.has(next)) continue;
      const path = this.findPath(next, prev);
      if (path) {
        this.circularBug(h, held[i], path, top);
        return false;
      }
      prev.after.set(next, this.trace(top.slice(1)));
    }
    return true;
  }

  /** BFS from `from` along dependencies to `to`; returns the classes [from, ..., to]. */
  private findPath(from: LockClass, to: LockClass): LockClass[] | undefined {
    const parent = new Map<LockClass, LockClass | null>([[from, null]]);
    const q = [from];
    while (q.length) {
      const c = q.shift()!;
      if (c === to) {
        const path: LockClass[] = [];
        for (let x: LockClass | null = c; x; x = parent.get(x) ?? null) path.unshift(x);
        return path;
      }
      for (const n of c.after.keys())
        if (!parent.has(n)) {
          parent.set(n, c);
          q.push(n);
        }
    }
    return undefined;
  }

  private circularBug(h: HeldLock, prevHeld: HeldLock, path: LockClass[], top: string[]): void {
    const cur = h.task;
    const source = this.classOf(h.lock);
    const target = this.classOf(prevHeld.lock);
    const nm = (c: LockClass) => {
      const wt = c.kind === "mutex" ? "{3:3}" : c.kind === "pseudo" ? "{0:0}" : "{2:2}";
      return this.old() ? ` (${c.name})${this.usage(c)}` : ` (${c.name})${this.usage(c)}-${wt}`;
    };
    // The chain in reverse order: path is [source, ..., target]; entries #depth..#1 are target back to source's
    // successor, each with the trace of the dependency that led to it; #0 is the new acquisition.
    const chain: string[] = [];
    const depth = path.length - 1;
    for (let i = path.length - 1; i >= 1; i--) {
      const c = path[i];
      const tr = path[i - 1].after.get(c) ?? [];
      chain.push("", `-> #${i}${nm(c)}:`, ...tr.map((f) => "       " + f));
    }
    chain.push("", `-> #0${nm(source)}:`, ...this.trace(top).map((f) => "       " + f));
    const parent = path.length > 2 ? path[path.length - 2] : source;
    const scenario: string[] = [];
    if (path.length > 2) {
      scenario.push(
        "Chain exists of:",
        "  " +
          [...path]
            .reverse()
            .map((c) => c.name)
            .join(" --> "),
        "",
      );
    }
    scenario.push(
      " Possible unsafe locking scenario:",
      "",
      "       CPU0                    CPU1",
      "       ----                    ----",
      `  lock(${target.name});`,
      `                               lock(${parent.name});`,
      `                               lock(${target.name});`,
      `  lock(${source.name});`,
      "",
      " *** DEADLOCK ***",
      "",
    );
    void depth;
    const lines = [
      ...this.header("possible circular locking dependency detected"),
      `${cur.comm}/${cur.pid} is trying to acquire lock:`,
      this.printLock(h),
      "",
      "but task is already holding lock:",
      this.printLock(prevHeld),
      "",
      "which lock already depends on the new lock.",
      "",
      "",
      "the existing dependency chain (in reverse order) is:",
      ...chain,
      "",
      "other info that might help us debug this:",
      "",
      ...scenario,
      ...this.heldLocksLines(cur),
    ];
    this.report(lines[2], lines, top);
  }

  /**
   * A task returns to user space (insmod after module_init, rmmod after module_exit) with locks held:
   * lockdep_sys_exit() -> print_lock_contention... 6.1 prints "WARNING: lock held when returning to user space!".
   */
  checkReturnToUser(task: Task): void {
    const held = this.heldBy(task);
    if (!held.length || !this.enabled) return;
    const lines = [
      "",
      "================================================",
      "WARNING: lock held when returning to user space!",
      this.ident(),
      "------------------------------------------------",
      `${task.comm}/${task.pid} is leaving the kernel with locks still held!`,
      ...this.heldLocksLines(task),
    ];
    this.off();
    this.k.sched.emit({ kind: "lockdep", title: lines[2], lines, top: [], noStack: true });
  }
}
