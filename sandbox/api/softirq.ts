// Rows: tasklets (include/linux/interrupt.h, kernel/softirq.c) over k.softirq. `const t = new tasklet_struct();` then
// tasklet_setup(t, fn) (6.1: fn receives the tasklet, 5.9+) or tasklet_init(t, fn, data) (every era: fn receives
// data); tasklet_schedule(t) runs it once, soon, in softirq context.

import type { ApiEntry, CallEnv, FunctionEntry, HostCallback } from "../table.ts";
import { fn, p } from "../table.ts";
import { handles, named } from "./handles.ts";
import type { Tasklet } from "../../src/kernel/kernel/softirq.ts";

const tasklet = (c: CallEnv, id: number, name: string) =>
  handles(c.k).get<Tasklet>(id, name, c.k.profile.era === "6.1" ? "tasklet_setup(t, fn)" : "tasklet_init(t, fn, data)");
const T = p("t", "handle:tasklet_struct");
const op = (name: string, doc: string, context: string, run: (c: CallEnv, t: Tasklet) => void): FunctionEntry =>
  fn({ name, params: [T], returns: "void", context, doc, impl: (c, id: number) => run(c, tasklet(c, id, name)) });

export const SOFTIRQ_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "tasklet_struct",
    create: (c) => handles(c.k).add("tasklet_struct"),
    doc: "struct tasklet_struct: `const t = new tasklet_struct();`, then tasklet_setup(t, fn) (6.1) or tasklet_init(t, fn, data), then tasklet_schedule(t).",
  },
  fn({
    name: "tasklet_setup",
    since: "6.1",
    absentNote: "added in 5.9 — use tasklet_init(t, fn, data)",
    params: [
      T,
      p("callback", "fn", "runs in softirq context and receives the tasklet", { params: [{ name: "t", type: "handle:tasklet_struct" }], returns: "void" }),
    ],
    returns: "void",
    context: "any",
    doc: "Prepare a tasklet: each tasklet_schedule() runs callback(t) once, in softirq context (atomic: it must not sleep).",
    impl: (c, id: number, cb: HostCallback) =>
      handles(c.k).set(
        id,
        c.k.softirq.tasklet_setup(
          named(cb, () => [id]),
          cb.symbol || undefined,
        ),
      ),
  }),
  fn({
    name: "tasklet_init",
    params: [T, p("func", "fn", "runs in softirq context and receives data", { params: [{ name: "data", type: "uint" }], returns: "void" }), p("data", "uint")],
    returns: "void",
    context: "any",
    doc: "Prepare a tasklet: each tasklet_schedule() runs func(data) once, in softirq context (atomic: it must not sleep).",
    impl: (c, id: number, cb: HostCallback, data: number) =>
      handles(c.k).set(
        id,
        c.k.softirq.tasklet_init(
          named(cb, (d: unknown) => [d]),
          data,
          cb.symbol || undefined,
        ),
      ),
  }),
  op("tasklet_schedule", "Run the tasklet soon (once, however often it is scheduled before it runs), in softirq context.", "any", (c, t) =>
    c.k.softirq.tasklet_schedule(t),
  ),
  op("tasklet_hi_schedule", "tasklet_schedule at high priority (HI_SOFTIRQ).", "any", (c, t) => c.k.softirq.tasklet_hi_schedule(t)),
  op(
    "tasklet_kill",
    "Wait until the tasklet is not scheduled nor running: call it in module_exit.",
    "process context (from an interrupt it only complains)",
    (c, t) => c.k.softirq.tasklet_kill(t),
  ),
  op("tasklet_disable", "Keep the tasklet from running until tasklet_enable (it stays scheduled).", "any", (c, t) => c.k.softirq.tasklet_disable(t)),
  op("tasklet_enable", "Undo one tasklet_disable.", "any", (c, t) => c.k.softirq.tasklet_enable(t)),
];
