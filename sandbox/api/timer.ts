// Rows: kernel timers (include/linux/timer.h, kernel/time/timer.c) over k.timers. A timer_list is a handle:
// `const t = new timer_list();` then, in 6.1, `timer_setup(t, fn, 0)` (fn receives the timer, 4.15+); in 2.6/3.4
// `setup_timer(t, fn, data)` (fn receives data, an unsigned long). Callbacks run in softirq context.
// init_timer() is not offered: it needs `t.function = fn; t.data = x`, and a handle has no fields to assign.
// `jiffies`, HZ and msecs_to_jiffies are in time.ts.

import type { ApiEntry, CallEnv, HostCallback } from "../table.ts";
import { fn, p } from "../table.ts";
import { handles, named } from "./handles.ts";
import type { TimerList } from "../../src/kernel/kernel/timer.ts";

const SETUP = "timer_setup(t, fn, 0)"; // named in the "never initialised" error
const timer = (c: CallEnv, id: number, name: string) => handles(c.k).get<TimerList>(id, name, c.k.profile.era === "6.1" ? SETUP : "setup_timer(t, fn, data)");
const T = p("timer", "handle:timer_list");

export const TIMER_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "timer_list",
    create: (c) => handles(c.k).add("timer_list"),
    doc: "struct timer_list: `const t = new timer_list();`, then timer_setup(t, fn, 0) (6.1) or setup_timer(t, fn, data) (2.6, 3.4), then mod_timer(t, jiffies + delay).",
  },
  fn({
    name: "timer_setup",
    since: "6.1",
    absentNote: "added in 4.15 — use setup_timer(timer, fn, data)",
    params: [
      T,
      p("callback", "fn", "runs in softirq context and receives the timer", { params: [{ name: "t", type: "handle:timer_list" }], returns: "void" }),
      p("flags", "uint", "TIMER_* flags; 0"),
    ],
    returns: "void",
    context: "any",
    doc: "Prepare a timer: when it expires, callback(t) runs in softirq context (atomic: it must not sleep).",
    impl: (c, id: number, cb: HostCallback, flags: number) => {
      handles(c.k).set(
        id,
        c.k.timers.timer_setup(
          named(cb, () => [id]),
          flags,
        ),
      );
    },
  }),
  fn({
    name: "setup_timer",
    until: "3.4",
    absentNote: "removed in 4.15 — use timer_setup(timer, callback, 0); the callback receives the timer",
    params: [
      T,
      p("function", "fn", "runs in softirq context and receives data", { params: [{ name: "data", type: "uint" }], returns: "void" }),
      p("data", "uint", "an unsigned long handed to function"),
    ],
    returns: "void",
    context: "any",
    doc: "Prepare a timer: when it expires, function(data) runs in softirq context (atomic: it must not sleep).",
    impl: (c, id: number, cb: HostCallback, data: number) => {
      handles(c.k).set(
        id,
        c.k.timers.setup_timer(
          named(cb, (d: unknown) => [d]),
          data,
        ),
      );
    },
  }),
  fn({
    name: "mod_timer",
    params: [T, p("expires", "uint", "an absolute time in jiffies: jiffies + msecs_to_jiffies(ms)")],
    returns: "int",
    context: "any",
    doc: "(Re)arm the timer to fire when jiffies reaches expires. Returns 1 if it was pending, 0 if not.",
    impl: (c, id: number, expires: number) => c.k.timers.mod_timer(timer(c, id, "mod_timer"), expires),
  }),
  fn({
    name: "del_timer",
    params: [T],
    returns: "int",
    context: "any",
    doc: "Deactivate the timer: 1 if it was pending. It may still be running on another CPU: use del_timer_sync before freeing what it uses.",
    impl: (c, id: number) => c.k.timers.del_timer(timer(c, id, "del_timer")),
  }),
  fn({
    name: "del_timer_sync",
    params: [T],
    returns: "int",
    context: "process context, or any context that is not the timer's own callback (it waits for a running callback)",
    doc: "Deactivate the timer and wait for its callback to finish: call it in module_exit. 1 if it was pending.",
    impl: (c, id: number) => c.k.timers.del_timer_sync(timer(c, id, "del_timer_sync")),
  }),
  fn({
    name: "timer_pending",
    params: [T],
    returns: "bool",
    context: "any",
    doc: "True if the timer is armed and has not fired yet.",
    impl: (c, id: number) => (handles(c.k).filled(id) ? c.k.timers.timer_pending(timer(c, id, "timer_pending")) : false),
  }),
];
