// Rows: spinlocks and mutexes (include/linux/spinlock.h, mutex.h; kernel/locking/*.c) over k.locking, which keeps
// the context effects (preempt_count, interrupts off) and lockdep's checks.
// One style, the kernel's static one: `const lock = DEFINE_SPINLOCK();`, `const m = DEFINE_MUTEX();` (a handle; there
// is no `new spinlock_t()`, so a lock cannot be used before it is defined). spin_lock_irqsave(lock, flags) cannot
// write flags from JavaScript: `const flags = spin_lock_irqsave(lock); ... spin_unlock_irqrestore(lock, flags);`.

import type { ApiEntry, CallEnv, FunctionEntry } from "../table.ts";
import { fn, p } from "../table.ts";
import { handles } from "./handles.ts";
import type { Mutex, Spinlock } from "../../src/kernel/kernel/locking.ts";

const spin = (c: CallEnv, id: number, name: string) => handles(c.k).get<Spinlock>(id, name);
const mtx = (c: CallEnv, id: number, name: string) => handles(c.k).get<Mutex>(id, name);

const L = p("lock", "handle:spinlock_t");
const M = p("lock", "handle:mutex");

const spinOp = (name: string, doc: string, op: (c: CallEnv, l: Spinlock) => unknown, returns: "void" | "int" = "void"): FunctionEntry =>
  fn({ name, params: [L], returns, context: "any", doc, impl: (c, id: number) => op(c, spin(c, id, name)) });

export const LOCKING_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "spinlock_t",
    madeWith: "DEFINE_SPINLOCK()",
    doc: "A spinlock: `const lock = DEFINE_SPINLOCK();`. Holding it raises preempt_count: nothing that may sleep until spin_unlock.",
  },
  {
    kind: "class",
    module: "linux",
    name: "mutex",
    madeWith: "DEFINE_MUTEX()",
    doc: "struct mutex: `const m = DEFINE_MUTEX();`. A sleeping lock: process context only.",
  },
  fn({
    name: "DEFINE_SPINLOCK",
    memory: { none: "a lock in the module's static data" },
    params: [],
    returns: "handle:spinlock_t",
    context: "module top level (a static lock), or anywhere",
    doc: "Define an unlocked spinlock in the module's data: `const lock = DEFINE_SPINLOCK();`.",
    impl: (c) => handles(c.k).add("spinlock_t", c.k.locking.DEFINE_SPINLOCK()),
  }),
  spinOp(
    "spin_lock",
    "Take the lock, spinning while another holder has it; disables preemption. On one CPU, taking a lock this CPU already holds never returns (a deadlock: the watchdog's soft lockup).",
    (c, l) => c.k.locking.spin_lock(l),
  ),
  spinOp("spin_unlock", "Release the lock; preemption on again.", (c, l) => c.k.locking.spin_unlock(l)),
  spinOp("spin_lock_irq", "spin_lock with local interrupts disabled (when you know they were on).", (c, l) => c.k.locking.spin_lock_irq(l)),
  spinOp("spin_unlock_irq", "spin_unlock and turn interrupts on.", (c, l) => c.k.locking.spin_unlock_irq(l)),
  fn({
    name: "spin_lock_irqsave",
    params: [L],
    returns: "uint",
    context: "any",
    doc: "Disable local interrupts, take the lock and return the previous interrupt state: `const flags = spin_lock_irqsave(lock);` (C writes flags through its second argument). The lock to share with an interrupt handler.",
    impl: (c, id: number) => c.k.locking.spin_lock_irqsave(spin(c, id, "spin_lock_irqsave")),
  }),
  fn({
    name: "spin_unlock_irqrestore",
    params: [L, p("flags", "uint", "what spin_lock_irqsave() returned")],
    returns: "void",
    context: "any",
    doc: "Release the lock and restore the interrupt state saved by spin_lock_irqsave.",
    impl: (c, id: number, flags: number) => c.k.locking.spin_unlock_irqrestore(spin(c, id, "spin_unlock_irqrestore"), flags),
  }),
  spinOp("spin_lock_bh", "spin_lock with softirqs (timers, tasklets) disabled: the lock to share with a timer or a tasklet.", (c, l) =>
    c.k.locking.spin_lock_bh(l),
  ),
  spinOp("spin_unlock_bh", "spin_unlock and enable softirqs.", (c, l) => c.k.locking.spin_unlock_bh(l)),
  spinOp("spin_trylock", "Take the lock if it is free: 1 when taken, 0 when someone holds it (never spins).", (c, l) => c.k.locking.spin_trylock(l), "int"),
  spinOp("spin_is_locked", "1 if someone holds the lock.", (c, l) => c.k.locking.spin_is_locked(l), "int"),
  fn({
    name: "DEFINE_MUTEX",
    memory: { none: "a lock in the module's static data" },
    params: [],
    returns: "handle:mutex",
    context: "module top level (a static mutex), or anywhere",
    doc: "Define an unlocked mutex in the module's data: `const m = DEFINE_MUTEX();`.",
    impl: (c) => handles(c.k).add("mutex", c.k.locking.DEFINE_MUTEX()),
  }),
  fn({
    name: "mutex_lock",
    params: [M],
    returns: "void",
    context: "may sleep (process context only; never under a spinlock or in an interrupt)",
    doc: "Take the mutex, sleeping while another task holds it.",
    impl: (c, id: number) => c.k.locking.mutex_lock(mtx(c, id, "mutex_lock")),
  }),
  fn({
    name: "mutex_lock_interruptible",
    params: [M],
    returns: "int",
    context: "may sleep",
    doc: "mutex_lock that a signal can interrupt: 0 when taken, -EINTR when interrupted (no signals here: 0).",
    impl: (c, id: number) => c.k.locking.mutex_lock_interruptible(mtx(c, id, "mutex_lock_interruptible")),
  }),
  fn({
    name: "mutex_trylock",
    params: [M],
    returns: "int",
    context: "process context (it does not sleep, but a mutex is not for interrupts)",
    doc: "Take the mutex if it is free: 1 when taken, 0 when contended.",
    impl: (c, id: number) => c.k.locking.mutex_trylock(mtx(c, id, "mutex_trylock")),
  }),
  fn({
    name: "mutex_unlock",
    params: [M],
    returns: "void",
    context: "process context; only the task that locked it",
    doc: "Release the mutex.",
    impl: (c, id: number) => c.k.locking.mutex_unlock(mtx(c, id, "mutex_unlock")),
  }),
  fn({
    name: "mutex_is_locked",
    params: [M],
    returns: "int",
    context: "any",
    doc: "1 if the mutex is held.",
    impl: (c, id: number) => c.k.locking.mutex_is_locked(mtx(c, id, "mutex_is_locked")),
  }),
];
