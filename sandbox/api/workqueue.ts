// Rows: workqueues (include/linux/workqueue.h, kernel/workqueue.c) over k.workqueue. `const w = new work_struct();`
// then INIT_WORK(w, fn) and schedule_work(w): fn(w) runs in a kworker's process context, where it may sleep.
// Delayed work: `const dw = new delayed_work(); INIT_DELAYED_WORK(dw, fn); schedule_delayed_work(dw, jiffies)` — fn
// receives the delayed_work (C hands it &dw->work and the function uses to_delayed_work()).
// A module's own workqueue: `const wq = alloc_workqueue("name", 0, 0)`; `queue_work(wq, w)`; `destroy_workqueue(wq)`.

import type { ApiEntry, CallEnv, HostCallback } from "../table.ts";
import { fn, p } from "../table.ts";
import { handles, named } from "./handles.ts";
import type { WorkStruct, Workqueue } from "../../src/kernel/kernel/workqueue.ts";

const work = (c: CallEnv, id: number, name: string) => handles(c.k).get<WorkStruct>(id, name, "INIT_WORK(w, fn)");
const dwork = (c: CallEnv, id: number, name: string) => handles(c.k).get<WorkStruct>(id, name, "INIT_DELAYED_WORK(dw, fn)");
const wqOf = (c: CallEnv, id: number, name: string) => handles(c.k).get<Workqueue>(id, name);
const W = p("work", "handle:work_struct");
const DW = p("dwork", "handle:delayed_work");
const WQ = p("wq", "handle:workqueue_struct");
const SLEEPS = "may sleep (process context)";

export const WORKQUEUE_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "work_struct",
    create: (c) => handles(c.k).add("work_struct"),
    doc: "struct work_struct: `const w = new work_struct();`, then INIT_WORK(w, fn) and schedule_work(w).",
  },
  {
    kind: "class",
    module: "linux",
    name: "delayed_work",
    create: (c) => handles(c.k).add("delayed_work"),
    doc: "struct delayed_work: `const dw = new delayed_work();`, then INIT_DELAYED_WORK(dw, fn) and schedule_delayed_work(dw, delay).",
  },
  {
    kind: "class",
    module: "linux",
    name: "workqueue_struct",
    madeWith: "alloc_workqueue(name, flags, max_active)",
    doc: "A workqueue of the module's own (alloc_workqueue).",
  },
  fn({
    name: "INIT_WORK",
    params: [
      W,
      p("func", "fn", "runs in a kworker's process context (it may sleep) and receives the work", {
        params: [{ name: "work", type: "handle:work_struct" }],
        returns: "void",
      }),
    ],
    returns: "void",
    context: "any",
    doc: "Prepare a work item: each schedule_work() runs func(work) once in a kworker (process context).",
    impl: (c, id: number, cb: HostCallback) =>
      handles(c.k).set(
        id,
        c.k.workqueue.INIT_WORK(
          named(cb, () => [id]),
          cb.symbol || undefined,
        ),
      ),
  }),
  fn({
    name: "INIT_DELAYED_WORK",
    params: [
      DW,
      p("func", "fn", "runs in a kworker's process context and receives the delayed work", {
        params: [{ name: "dwork", type: "handle:delayed_work" }],
        returns: "void",
      }),
    ],
    returns: "void",
    context: "any",
    doc: "Prepare a delayed work item (a timer that queues the work when it expires).",
    impl: (c, id: number, cb: HostCallback) =>
      handles(c.k).set(
        id,
        c.k.workqueue.INIT_DELAYED_WORK(
          named(cb, () => [id]),
          cb.symbol || undefined,
        ),
      ),
  }),
  fn({
    name: "schedule_work",
    params: [W],
    returns: "bool",
    context: "any",
    doc: "Queue the work on the system workqueue: false if it was already pending.",
    impl: (c, id: number) => c.k.workqueue.schedule_work(work(c, id, "schedule_work")),
  }),
  fn({
    name: "queue_work",
    params: [WQ, W],
    returns: "bool",
    context: "any",
    doc: "Queue the work on wq: false if it was already pending.",
    impl: (c, q: number, id: number) => c.k.workqueue.queue_work(wqOf(c, q, "queue_work"), work(c, id, "queue_work")),
  }),
  fn({
    name: "flush_work",
    params: [W],
    returns: "bool",
    context: SLEEPS,
    doc: "Wait until the work has run: true if it had to wait.",
    impl: (c, id: number) => c.k.workqueue.flush_work(work(c, id, "flush_work")),
  }),
  fn({
    name: "cancel_work_sync",
    params: [W],
    returns: "bool",
    context: SLEEPS,
    doc: "Cancel the work and wait for it if it is running: call it in module_exit. True if it was pending.",
    impl: (c, id: number) => c.k.workqueue.cancel_work_sync(work(c, id, "cancel_work_sync")),
  }),
  fn({
    name: "work_pending",
    params: [W],
    returns: "bool",
    context: "any",
    doc: "True if the work is queued and has not run yet.",
    impl: (c, id: number) => handles(c.k).filled(id) && c.k.workqueue.work_pending(work(c, id, "work_pending")),
  }),
  fn({
    name: "schedule_delayed_work",
    params: [DW, p("delay", "uint", "jiffies from now")],
    returns: "bool",
    context: "any",
    doc: "Queue the work on the system workqueue after delay jiffies: false if it was already pending.",
    impl: (c, id: number, d: number) => c.k.workqueue.schedule_delayed_work(dwork(c, id, "schedule_delayed_work"), d),
  }),
  fn({
    name: "queue_delayed_work",
    params: [WQ, DW, p("delay", "uint", "jiffies from now")],
    returns: "bool",
    context: "any",
    doc: "Queue the work on wq after delay jiffies.",
    impl: (c, q: number, id: number, d: number) => c.k.workqueue.queue_delayed_work(wqOf(c, q, "queue_delayed_work"), dwork(c, id, "queue_delayed_work"), d),
  }),
  fn({
    name: "cancel_delayed_work",
    params: [DW],
    returns: "bool",
    context: "any",
    doc: "Cancel a pending delayed work (it may still be running).",
    impl: (c, id: number) => c.k.workqueue.cancel_delayed_work(dwork(c, id, "cancel_delayed_work")),
  }),
  fn({
    name: "cancel_delayed_work_sync",
    params: [DW],
    returns: "bool",
    context: SLEEPS,
    doc: "Cancel a delayed work and wait for it: call it in module_exit.",
    impl: (c, id: number) => c.k.workqueue.cancel_delayed_work_sync(dwork(c, id, "cancel_delayed_work_sync")),
  }),
  fn({
    name: "flush_delayed_work",
    params: [DW],
    returns: "bool",
    context: SLEEPS,
    doc: "Run the delayed work now (without waiting for its timer) and wait for it.",
    impl: (c, id: number) => c.k.workqueue.flush_delayed_work(dwork(c, id, "flush_delayed_work")),
  }),
  fn({
    name: "alloc_workqueue",
    memory: { alloc: { family: "workqueue" } },
    params: [p("name", "string"), p("flags", "uint", "WQ_* flags; 0"), p("max_active", "uint", "0 for the default")],
    returns: "handle:workqueue_struct",
    context: "may sleep",
    doc: "A workqueue of the module's own. Destroy it with destroy_workqueue in module_exit.",
    impl: (c, name: string) => handles(c.k).add("workqueue_struct", c.k.workqueue.alloc_workqueue(name)),
  }),
  fn({
    name: "create_workqueue",
    memory: { alloc: { family: "workqueue" } },
    params: [p("name", "string")],
    returns: "handle:workqueue_struct",
    context: "may sleep",
    doc: "The old way to make a workqueue (alloc_workqueue with WQ_MEM_RECLAIM).",
    impl: (c, name: string) => handles(c.k).add("workqueue_struct", c.k.workqueue.create_workqueue(name)),
  }),
  fn({
    name: "destroy_workqueue",
    memory: { free: { addr: 0, families: ["workqueue"] } },
    params: [WQ],
    returns: "void",
    context: SLEEPS,
    doc: "Run what is queued on wq, then free it.",
    impl: (c, q: number) => c.k.workqueue.destroy_workqueue(wqOf(c, q, "destroy_workqueue")),
  }),
];
