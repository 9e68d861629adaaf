// Exercise pick-the-flags: the same 128-byte allocation from a timer, a tasklet and a work item — which may sleep?

import type { Exercise } from "../types.ts";
import { check, fail, findAlloc, gfpName, isOutcome, loads, mayBlock, noReports, nothingLeaked, ok } from "../checks.ts";
import { callsTo, type Allocation, type Json } from "../records.ts";
import type { CheckContext, CheckOutcome } from "../types.ts";

/** The module function a registration call handed to the kernel (the call log names callbacks by symbol). */
function callbackName(c: CheckContext, fns: string[], argIndex: number): string | undefined {
  for (const x of callsTo(c.result, ...fns)) {
    const a: Json | undefined = x.args[argIndex];
    if (typeof a === "string" && a) return a;
    if (a && typeof a === "object" && !Array.isArray(a)) {
      const n = (a as Record<string, Json>).symbol ?? (a as Record<string, Json>).fn ?? (a as Record<string, Json>).name;
      if (typeof n === "string" && n) return n;
    }
  }
  return undefined;
}

function deferredAllocs(c: CheckContext): Allocation[] | CheckOutcome {
  return findAlloc(c, ["kmalloc", "kzalloc"], (a) => a.call.phase === "deferred" || a.call.ctx?.softirq === true || a.call.ctx?.task?.startsWith("kworker") === true);
}

function softirqCheck(id: string, what: string, regFns: string[], argIndex: number): ReturnType<typeof check> {
  return check(id, `128 bytes allocated in the ${what}, with a GFP that does not sleep`, `A ${what} runs in softirq context: it must not sleep, so allocate with GFP_ATOMIC there.`, (c) => {
    const as = deferredAllocs(c);
    if (isOutcome(as)) return as;
    const name = callbackName(c, regFns, argIndex);
    if (!callsTo(c.result, ...regFns).length) return fail(`the module never set up a ${what} (${regFns.join(" / ")})`);
    const mine = as.filter((a) => a.call.ctx?.softirq && (name === undefined || a.call.caller === name));
    if (!mine.length) return fail(`no allocation was made in the ${what}${name ? ` (${name})` : ""}`);
    const a = mine.find((x) => x.size === 128);
    if (!a) return fail(`the ${what} allocated ${mine[0].size} bytes, not 128`);
    if (mayBlock(c, a)) return fail(`the ${what} allocated with ${gfpName(c, a.gfp)}, which may sleep`);
    return ok(gfpName(c, a.gfp));
  });
}

export const pickTheFlags: Exercise = {
  id: "pick-the-flags",
  title: "Timer, tasklet, work item: pick the flags",
  lesson: "gfp-contexts",
  settings: { profile: "x86_64-6.1" },
  statement: `Allocate 128 bytes in a timer callback, 128 bytes in a tasklet and 128 bytes in a work item, each with the
right GFP flags: the ones that must not sleep may not, and the one that may sleep should use GFP_KERNEL. Free all
three on unload (and make sure the timer, the tasklet and the work have finished).`,
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
    check("work-kernel", "128 bytes allocated in the work item, with GFP_KERNEL (it may sleep there)", "A work item runs in a kernel thread (a kworker): process context, where GFP_KERNEL is right and GFP_ATOMIC would only eat the emergency reserves.", (c) => {
      const as = deferredAllocs(c);
      if (isOutcome(as)) return as;
      if (!callsTo(c.result, "INIT_WORK", "schedule_work", "queue_work").length) return fail("the module never set up a work item (INIT_WORK + schedule_work)");
      const mine = as.filter((a) => !a.call.ctx?.softirq && !a.call.ctx?.hardirq && !a.call.ctx?.atomic);
      if (!mine.length) return fail("no allocation was made in process context after init (in the work item)");
      const a = mine.find((x) => x.size === 128);
      if (!a) return fail(`the work item allocated ${mine[0].size} bytes, not 128`);
      if (!mayBlock(c, a)) return fail(`the work item allocated with ${gfpName(c, a.gfp)}: it may sleep there, so GFP_KERNEL is the right choice`);
      return ok();
    }),
    check("no-sleep-in-atomic", "No \"sleeping function called from invalid context\"", "Timers and tasklets run in softirq context, which is atomic: GFP_ATOMIC there.", (c) => {
      const r = c.result.reports.find((x) => x.kind === "sleep-in-atomic" || x.kind === "scheduling-while-atomic");
      return r ? fail(r.title) : ok();
    }),
    nothingLeaked(),
    noReports(),
  ],
};
