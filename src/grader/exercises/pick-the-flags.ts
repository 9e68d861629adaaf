// Exercise pick-the-flags: the same 128-byte allocation from a timer, a tasklet and a work item — which may sleep?

import type { Exercise } from "../types.ts";
import {
  allocs,
  check,
  CONTEXT_WORDS,
  fail,
  freedBeforeUnload,
  gfpName,
  isOutcome,
  loads,
  mayBlock,
  noReports,
  nothingLeaked,
  ok,
  survivesFaultInjection,
} from "../checks.ts";
import { callsOf, callsTo, describe, type Allocation, type Json } from "../records.ts";
import type { CheckContext, CheckOutcome } from "../types.ts";

/** The module function a registration call handed to the kernel (the call log names callbacks by symbol). */
function callbackName(c: CheckContext, fns: string[], argIndex: number): string | undefined {
  for (const x of callsTo(c.result, ...fns)) {
    const a: Json | undefined = x.args[argIndex];
    if (typeof a === "string" && a && a !== "(anonymous)") return a;
  }
  return undefined;
}

/** The allocations a callback made: by its name when it has one, else every allocation in that kind of context. */
function allocsOf(c: CheckContext, name: string | undefined, fallback: (a: Allocation) => boolean): Allocation[] | CheckOutcome {
  // any allocating function the table knows (memory records), buffers only (not a cache or a workqueue)
  return allocs(c, (a) => a.family !== "cache" && a.family !== "workqueue" && a.phase === "deferred" && (name !== undefined ? a.caller === name : fallback(a)));
}

function softirqCheck(id: string, what: string, regFns: string[], argIndex: number): ReturnType<typeof check> {
  return check(
    id,
    `128 bytes allocated in the ${what}, with a GFP that does not sleep`,
    `A ${what} runs in softirq context: it must not sleep, so allocate with GFP_ATOMIC there.`,
    (c) => {
      if (!callsTo(c.result, ...regFns).length) return fail(`the module never set up a ${what} (${regFns.join(" / ")})`);
      const name = callbackName(c, regFns, argIndex);
      const mine = allocsOf(c, name, (a) => a.context === "softirq");
      if (isOutcome(mine)) return mine;
      if (!mine.length) return fail(`no allocation was made in the ${what}${name ? ` (${name})` : ""}`);
      const a = mine.find((x) => x.size === 128);
      if (!a) return fail(`the ${what} allocated ${mine[0].size} bytes, not 128`);
      if (a.family === "vmalloc" || mayBlock(c, a))
        return fail(
          `the ${what} allocated ${describe(a)} with ${a.family === "vmalloc" ? "vmalloc, which may sleep" : `${gfpName(c, a.gfp)}, which may sleep`}, in ${CONTEXT_WORDS[a.context]}`,
        );
      const early = freedBeforeUnload(a); // "Free all three on unload"
      if (early) return fail(early);
      return ok(gfpName(c, a.gfp));
    },
    1,
    { requires: ["128", what.split(" ")[0], "GFP"] },
  );
}

export const pickTheFlags: Exercise = {
  id: "pick-the-flags",
  title: "Timer, tasklet, work item: pick the flags",
  lesson: "gfp-contexts",
  settings: { profile: "x86_64-6.1" },
  statement: `Allocate 128 bytes in a timer callback, 128 bytes in a tasklet and 128 bytes in a work item, each with the
right GFP flags: the timer and the tasklet run in softirq context and must not sleep; the work item runs in process
context and should use GFP_KERNEL. Free all three on unload (after making sure the timer, the tasklet and the work
have finished: del_timer_sync, tasklet_kill, flush_work or cancel_work_sync, or destroy_workqueue for a work item
queued on a workqueue of your own). An allocation that fails leaves nothing to free.`,
  starter: `import { timer_setup, mod_timer, del_timer_sync, tasklet_setup, tasklet_schedule, tasklet_kill,
         INIT_WORK, schedule_work, flush_work, kmalloc, kfree, GFP_KERNEL, jiffies, msecs_to_jiffies,
         timer_list, tasklet_struct, work_struct, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let a = 0n, b = 0n, c = 0n;
const timer = new timer_list();
const tasklet = new tasklet_struct();
const work = new work_struct();

function timer_cb(t: timer_list): void { a = kmalloc(128, GFP_KERNEL); }
function tasklet_cb(t: tasklet_struct): void { b = kmalloc(128, GFP_KERNEL); }
function work_cb(w: work_struct): void { c = kmalloc(128, GFP_KERNEL); }

function flags_init(): number {
  timer_setup(timer, timer_cb, 0);
  mod_timer(timer, jiffies + msecs_to_jiffies(10));
  tasklet_setup(tasklet, tasklet_cb);
  tasklet_schedule(tasklet);
  INIT_WORK(work, work_cb);
  schedule_work(work);
  return 0;
}

function flags_exit(): void {
  del_timer_sync(timer);
  tasklet_kill(tasklet);
  flush_work(work);
  kfree(a); kfree(b); kfree(c);
}

module_init(flags_init);
module_exit(flags_exit);
`,
  solution: `import { timer_setup, mod_timer, del_timer_sync, tasklet_setup, tasklet_schedule, tasklet_kill,
         INIT_WORK, schedule_work, flush_work, kmalloc, kfree, GFP_KERNEL, GFP_ATOMIC, jiffies, msecs_to_jiffies,
         timer_list, tasklet_struct, work_struct, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let a = 0n, b = 0n, c = 0n;
const timer = new timer_list();
const tasklet = new tasklet_struct();
const work = new work_struct();

function timer_cb(t: timer_list): void { a = kmalloc(128, GFP_ATOMIC); }     // softirq: must not sleep
function tasklet_cb(t: tasklet_struct): void { b = kmalloc(128, GFP_ATOMIC); } // softirq: must not sleep
function work_cb(w: work_struct): void { c = kmalloc(128, GFP_KERNEL); }       // a kworker thread: may sleep

function flags_init(): number {
  timer_setup(timer, timer_cb, 0);
  mod_timer(timer, jiffies + msecs_to_jiffies(10));
  tasklet_setup(tasklet, tasklet_cb);
  tasklet_schedule(tasklet);
  INIT_WORK(work, work_cb);
  schedule_work(work);
  return 0;
}

function flags_exit(): void {
  del_timer_sync(timer);
  tasklet_kill(tasklet);
  flush_work(work);
  kfree(a); kfree(b); kfree(c);
}

module_init(flags_init);
module_exit(flags_exit);
`,
  checks: [
    loads(),
    softirqCheck("timer-atomic", "timer callback", ["timer_setup", "setup_timer"], 1),
    softirqCheck("tasklet-atomic", "tasklet", ["tasklet_setup", "tasklet_init"], 1),
    check(
      "work-kernel",
      "128 bytes allocated in the work item, in its process context, with GFP_KERNEL",
      "A work item runs in a kernel thread (a kworker): process context, where GFP_KERNEL is right and GFP_ATOMIC would only eat the emergency reserves. Allocate before taking any spinlock.",
      (c) => {
        if (!callsTo(c.result, "INIT_WORK", "schedule_work", "queue_work").length)
          return fail("the module never set up a work item (INIT_WORK + schedule_work)");
        const name = callbackName(c, ["INIT_WORK"], 1);
        const mine = allocsOf(c, name, (a) => a.call.ctx?.task?.startsWith("kworker") === true);
        if (isOutcome(mine)) return mine;
        if (!mine.length) return fail(`no allocation was made in the work item${name ? ` (${name})` : ""}`);
        const a = mine.find((x) => x.size === 128);
        if (!a) return fail(`the work item allocated ${mine[0].size} bytes, not 128`);
        if (a.context !== "process")
          return fail(
            `the work item allocated ${describe(a)} with ${gfpName(c, a.gfp)} in ${CONTEXT_WORDS[a.context]}: the task asks for the allocation in the work item's process context with GFP_KERNEL (allocate before taking the lock)`,
          );
        if (!mayBlock(c, a)) return fail(`the work item allocated with ${gfpName(c, a.gfp)}: it may sleep there, so GFP_KERNEL is the right choice`);
        const early = freedBeforeUnload(a); // "Free all three on unload"
        return early ? fail(early) : ok();
      },
      1,
      { requires: ["128", "work item", "GFP_KERNEL"] },
    ),
    check(
      "no-sleep-in-atomic",
      'No "sleeping function called from invalid context"',
      "Timers and tasklets run in softirq context, which is atomic: GFP_ATOMIC there.",
      (c) => {
        const r = c.result.reports.find((x) => x.kind === "sleep-in-atomic" || x.kind === "scheduling-while-atomic");
        return r ? fail(r.title) : ok();
      },
    ),
    check(
      "stopped-before-free",
      "module_exit makes sure the timer, the tasklet and the work have finished before it frees",
      "In the exit function, before the kfree calls: del_timer_sync(timer), tasklet_kill(tasklet), flush_work(work) (or cancel_work_sync; or destroy_workqueue(wq) for a work item queued on a workqueue of your own).",
      (c) => {
        // The call log: each object the module set up, and the exit call that waits for it. In the graded run all
        // three ran long before rmmod, so nothing crashes without these calls; a module unloaded sooner would free a
        // buffer a callback still writes, or leave a timer that fires in freed module text.
        const exit = (callsOf(c.result) ?? []).filter((x) => x.phase === "exit");
        const firstFree = exit.findIndex((x) => x.fn === "kfree");
        const before = firstFree < 0 ? exit : exit.slice(0, firstFree);
        const missing: string[] = [];
        // [what, set up by, armed by (and which argument is the object), waited for by]
        const want: [string, string[], [string, number][], string[]][] = [
          [
            "the timer",
            ["timer_setup"],
            [
              ["mod_timer", 0],
              ["add_timer", 0],
            ],
            ["del_timer_sync", "del_timer", "timer_shutdown_sync"],
          ],
          [
            "the tasklet",
            ["tasklet_setup", "tasklet_init"],
            [
              ["tasklet_schedule", 0],
              ["tasklet_hi_schedule", 0],
            ],
            ["tasklet_kill"],
          ],
          [
            "the work",
            ["INIT_WORK"],
            [
              ["schedule_work", 0],
              ["queue_work", 1],
            ],
            ["flush_work", "cancel_work_sync"],
          ],
        ];
        for (const [what, setup, arms, waits] of want) {
          const ids = callsTo(c.result, ...setup).map((x) => JSON.stringify(x.args[0]));
          if (!ids.length) continue; // not set up: the allocation checks say so
          // Each object the module armed is waited for: a wait on another one (set up, never armed) waits for nothing.
          const armed = [...new Set(arms.flatMap(([fn, i]) => callsTo(c.result, fn).map((x) => JSON.stringify(x.args[i]))))].filter((id) => ids.includes(id));
          // A work item queued on a workqueue of the module's own is finished once that queue is destroyed
          // (destroy_workqueue drains it first).
          const queues = (id: string) =>
            callsTo(c.result, "queue_work")
              .filter((x) => JSON.stringify(x.args[1]) === id)
              .map((x) => JSON.stringify(x.args[0]));
          const waited = (id: string) =>
            before.some(
              (x) =>
                (waits.includes(x.fn) && JSON.stringify(x.args[0]) === id) ||
                (what === "the work" && x.fn === "destroy_workqueue" && queues(id).includes(JSON.stringify(x.args[0]))),
            );
          if (armed.length ? !armed.every(waited) : !ids.some(waited))
            missing.push(`${what}${armed.length && ids.some(waited) ? " it armed (the wait is on another one)" : ""} (${waits.slice(0, 2).join(" or ")})`);
        }
        if (missing.length) return fail(`module_exit ${firstFree < 0 ? "never waits for" : "frees before it waits for"} ${missing.join(", ")}`);
        return ok();
      },
      1,
      { requires: ["del_timer_sync", "tasklet_kill", "flush_work"] },
    ),
    nothingLeaked(),
    survivesFaultInjection({ initMayLoad: true }),
    noReports(),
  ],
};
