// Rows: kernel threads (include/linux/kthread.h, kernel/kthread.c) of Linux 6.1, 3.4 and 2.6.32: kthread_create,
// kthread_run, wake_up_process, kthread_stop, kthread_should_stop, and the sleep points of a thread's function.
//
// `const t = kthread_run(thread_fn, data, "name-%d", i)` makes a task_struct handle. The thread function is run as a
// coroutine (sandbox/kthread_transform.ts, src/kernel/kernel/kthread.ts has the scheduling model): a sleeping call in
// its own body suspends the thread, and the other tasks (module_init's return, the drain, rmmod) run meanwhile.
// Context rules: kthread_create/kthread_run and kthread_stop sleep (kthread_create waits for kthreadd with
// wait_for_completion_killable, kthread_stop waits for the thread's exit), so in atomic context they are the sleep
// splats; kthread_should_stop() belongs to a kernel thread (in 6.1 it reads to_kthread(current), which WARNs and
// dereferences NULL for a user task such as insmod): called elsewhere it is refused with an error here.

import type { ApiEntry, CallEnv, HostCallback, GuestCoroutine, Cookie, FunctionEntry } from "../table.ts";
import { fn, p, GuestError } from "../table.ts";
import { handles } from "./handles.ts";
import { kthreads, type Kthread, type KthreadSleep } from "../../src/kernel/kernel/kthread.ts";
import { WAIT_EVENT_LIMIT_MS } from "../../src/kernel/kernel/sched.ts";
import { kthreadOops } from "../../src/kernel/kernel/kthread_oops.ts";

const T = p("k", "handle:task_struct");
const SLEEPS = "may sleep (process context: a BUG in atomic context)";
const task = (c: CallEnv, id: number, f: string) => handles(c.k).get<Kthread>(id, f);

/** The pid the next task gets: after insmod's (and the threads made before). */
function nextPid(c: CallEnv): number {
  const ks = kthreads(c.k);
  const base = ks.list.length ? Math.max(...ks.list.map((t) => t.task.pid)) : c.k.current.pid;
  return base + 1;
}

function create(c: CallEnv, name: string, threadfn: HostCallback, data: Cookie | undefined, fmt: string, args: (number | bigint | string)[]): number {
  const k = c.k;
  // kthread_create_on_node(): wait_for_completion_killable(&done) while kthreadd forks the thread
  k.sched.might_sleep("kernel/sched/completion.c", 0, [
    "__wait_for_common",
    "wait_for_completion_killable",
    "__kthread_create_on_node",
    "kthread_create_on_node",
  ]);
  const comm = k.log.format(fmt, args);
  if (!threadfn.coroutine) throw new GuestError("TypeError", `${name}: parameter 'threadfn' must be a function of the cell`);
  const body: GuestCoroutine = threadfn.coroutine([data]);
  const ks = kthreads(k);
  ks.onRunAfterUnload ??= (t) => kthreadOops(k, t);
  const t = ks.create(comm, body, k.modules.name, nextPid(c));
  if (!t) return 0; // ERR_PTR(-ENOMEM): NULL here
  return handles(k).add("task_struct", t);
}

/**
 * A sleeping call of a kernel thread's function: true if the thread is suspended here (the call returns at once and
 * the thread's generator yields; the scheduler resumes it with s.result()). False: sleep in place as usual.
 */
export function kthreadSleepPoint(c: CallEnv, s: KthreadSleep): boolean {
  const ks = (c.k as { kthreads?: ReturnType<typeof kthreads> }).kthreads;
  const t = ks?.running;
  if (!ks || !t || t.task !== c.k.current || !t.body.suspendable) return false;
  const sched = c.k.sched;
  if (sched.in_atomic() || sched.irqs_disabled() || sched.top().kind !== "task") return false;
  // only a call written in the thread function's own body is a yield point (kthread_transform.ts)
  const f = c.k.captureModuleStack()[0];
  if (!f || f.fn !== t.body.symbol) return false;
  const kall = c.k.kallsyms;
  t.resumeAddr = kall.frameAddress(kall.moduleFrame(f.fn, f.module ?? c.k.modules.name, f.line));
  ks.suspend(t, s);
  return true;
}

/** msleep-like sleeps: until now + ns, going back to sleep when woken early (schedule_timeout_uninterruptible's loop). */
export function timedSleep(c: CallEnv, name: string, ns: number, early: "resleep" | "return", result: (left: number) => unknown): boolean {
  const until = c.k.clock.now() + ns;
  const tick = c.k.clock.tickNsec;
  return kthreadSleepPoint(c, { name, untilNs: until, early, result: (now) => result(Math.max(0, Math.ceil((until - now) / tick))) });
}

/** A wait on a condition (completion, wait queue) with a timeout in jiffies (Infinity: the 60 s bound). */
export function condSleep(
  c: CallEnv,
  name: string,
  cond: () => boolean,
  timeoutJiffies: number,
  result: (left: number, ok: boolean) => unknown,
  onWake?: () => boolean,
): boolean {
  if (cond()) return false; // no sleep at all: the caller's own path returns at once
  const tick = c.k.clock.tickNsec;
  const j = Number.isFinite(timeoutJiffies) ? timeoutJiffies : c.k.clock.msecs_to_jiffies(WAIT_EVENT_LIMIT_MS);
  const until = c.k.clock.now() + j * tick;
  let met = false;
  const check = () => (met = met || cond());
  return kthreadSleepPoint(c, {
    name,
    untilNs: until,
    early: "resleep",
    cond: check,
    onWake,
    result: (now) => result(met ? Math.max(1, Math.ceil((until - now) / tick)) : 0, met),
  });
}

/** What kthread_create and kthread_run share: the parameters, the return, the context rule, the memory role. */
const THREAD_MAKER: Pick<FunctionEntry, "params" | "returns" | "context" | "memory"> = {
  params: [
    p("threadfn", "fn", "the thread's function: int threadfn(void *data)", { params: [{ name: "data", type: "cookie" }], returns: "int" }),
    p("data", "cookie", "handed to threadfn"),
    p("namefmt", "string", "the thread's name (a printf format): its comm, cut to 15 characters"),
    p("args", "printk-args"),
  ],
  returns: "handle:task_struct",
  context: SLEEPS,
  memory: { none: "the thread's stack and task_struct are the kernel's, freed when the thread exits" },
};
export const KTHREAD_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "task_struct",
    madeWith: "kthread_create() or kthread_run()",
    doc: "struct task_struct: a task (here, a kernel thread kthread_create/kthread_run made).",
  },
  fn({
    name: "kthread_create",
    ...THREAD_MAKER,
    doc: "Make a kernel thread that runs threadfn(data) once woken (wake_up_process). Its function should loop until kthread_should_stop() and return a value kthread_stop() hands back. The thread sleeps until woken: it does not run yet.",
    impl: (c, f: HostCallback, data: Cookie | undefined, fmt: string, ...args: (number | bigint | string)[]) => create(c, "kthread_create", f, data, fmt, args),
  }),
  fn({
    name: "kthread_run",
    ...THREAD_MAKER,
    doc: "kthread_create() then wake_up_process(): the thread runs when this CPU is free (here: when the caller sleeps, or at the end of module_init), until it sleeps or returns.",
    impl: (c, f: HostCallback, data: Cookie | undefined, fmt: string, ...args: (number | bigint | string)[]) => {
      const id = create(c, "kthread_run", f, data, fmt, args);
      if (id) kthreads(c.k).wake(task(c, id, "kthread_run"));
      return id;
    },
  }),
  fn({
    name: "wake_up_process",
    params: [p("p", "handle:task_struct")],
    returns: "int",
    context: "any (interrupt context included)",
    doc: "Wake a sleeping task: 1 if it was woken, 0 if it was already running. A new kernel thread starts its function.",
    impl: (c, id: number) => (kthreads(c.k).wake(task(c, id, "wake_up_process")) ? 1 : 0),
  }),
  fn({
    name: "kthread_should_stop",
    params: [],
    returns: "bool",
    context: "only in a kernel thread",
    doc: "True once kthread_stop() was called on the current thread: the thread function should then return.",
    impl: (c) => {
      const t = kthreads(c.k).current();
      if (!t)
        throw new GuestError(
          "Error",
          `kthread_should_stop: ${c.k.current.comm}/${c.k.current.pid} is not a kernel thread (the real kernel WARNs in to_kthread() and dereferences NULL); call it in the thread function`,
        );
      return t.shouldStop;
    },
  }),
  fn({
    name: "kthread_stop",
    params: [T],
    returns: "int",
    context: SLEEPS,
    doc: "Ask the thread to stop (kthread_should_stop() becomes true), wake it and wait until it has exited: returns the thread function's return value, or -EINTR if the thread was never woken (its function never ran).",
    impl: (c, id: number) => {
      const k = c.k;
      const t = task(c, id, "kthread_stop");
      k.sched.might_sleep("kernel/sched/completion.c", 0, ["__wait_for_common", "wait_for_completion", "kthread_stop"]);
      if (kthreads(k).current() === t)
        throw new GuestError(
          "Error",
          "kthread_stop: a thread cannot stop itself (it would wait for its own exit for ever); return from the thread function instead",
        );
      const r = kthreads(k).stop(t, (done) => k.sched.wait_event_timeout(done, k.clock.msecs_to_jiffies(WAIT_EVENT_LIMIT_MS), "kthread_stop") > 0);
      if (r === undefined) {
        const cur = k.current;
        const text = `kmodlab: ${cur.comm}/${cur.pid} waited ${WAIT_EVENT_LIMIT_MS / 1000} s (simulated) in kthread_stop() for ${t.task.comm}/${t.task.pid}, which never returned from its function (it does not check kthread_should_stop()); the real rmmod would hang forever`;
        const frames = k.captureModuleStack();
        k.report({ kind: "timeout", title: text, text, frames: frames.map((f) => ({ fn: f.fn, line: f.line, column: f.column })), line: frames[0]?.line });
        return 0;
      }
      return r;
    },
  }),
  fn({
    name: "task_pid_nr",
    params: [T],
    returns: "int",
    context: "any",
    doc: "The task's pid.",
    impl: (c, id: number) => task(c, id, "task_pid_nr").task.pid,
  }),
];
