// Exercise stop-the-thread (lesson kthreads-percpu): a kernel thread that counts while it sleeps in a loop, and the
// exit that stops it and hands back its count. Judged from the kernel's records: the call log (kthread_run in
// init, kthread_stop in exit and the value it returned, msleep in the thread), no Oops (a thread left running
// after rmmod faults in the unloaded module), and the printed count against kthread_stop's own return value, in three
// runs: 5 s loaded, 3 s loaded, and 5 s on a busy machine (grade.ts busyWindows), where the thread counts less than
// the time loaded would say.

import type { Exercise } from "../types.ts";
import {
  callLevel,
  check,
  fail,
  loads,
  noReports,
  nothingLeaked,
  ok,
  otherAnswers,
  otherAnswersMessage,
  PRINT_FNS,
  printedLines,
  renderedText,
} from "../checks.ts";
import type { RunResult } from "../../../sandbox/result.ts";
import { callsTo, eraOf, type KernelCall } from "../records.ts";

const IMPORTS = `import { kthread_run, kthread_stop, kthread_should_stop, task_struct, msleep, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";`;

export const stopTheThread: Exercise = {
  id: "stop-the-thread",
  title: "Start a kernel thread, and stop it",
  lesson: "kthreads-percpu",
  settings: { profile: "x86_64-6.1" },
  statement: `In module_init start a kernel thread named \`ticker\` with kthread_run(ticker_fn, null, "ticker"). Its function loops
until kthread_should_stop() is true, adding one to a counter and sleeping msleep(500) each time round, and then returns
the counter. Pass the thread function itself to kthread_run, by name, with its msleep written in its own body (a
\`function\`, \`const f = function\` or an arrow with a block body): the simulator suspends a thread only at a sleep
written in that function (lesson 16), so a thread whose sleep is in a method or helper it calls never lets rmmod run.
In module_exit stop it with kthread_stop, which waits for the thread to return and gives back its return
value, and print \`ticker stopped after N ticks\` at KERN_INFO with that value as N. (The module stays loaded 5 simulated
seconds; the grader runs it a second time loaded 3 s, and a third time loaded 5 s on a busy machine, where another task
holds the CPU at times so that the thread wakes up late and counts less: the count is another in each run. Print the
value kthread_stop returns, not a number from an earlier run nor one worked out from the time.) A thread left running
after rmmod wakes up in the freed module: the grader expects no Oops.`,
  starter: `${IMPORTS}

MODULE_LICENSE("GPL");
let t: task_struct | null = null;

function ticker_fn(data: unknown): number {
  let ticks = 0;
  while (!kthread_should_stop()) {
    ticks++;
    msleep(500);
  }
  return ticks;
}

function t_init(): number {
  t = kthread_run(ticker_fn, null, "ticker");
  return 0;
}

function t_exit(): void {
  // TODO: stop the thread and print what it returned
}

module_init(t_init);
module_exit(t_exit);
`,
  solution: `${IMPORTS}

MODULE_LICENSE("GPL");
let t: task_struct | null = null;

function ticker_fn(data: unknown): number {
  let ticks = 0;
  while (!kthread_should_stop()) {
    ticks++;
    msleep(500);
  }
  return ticks;
}

function t_init(): number {
  t = kthread_run(ticker_fn, null, "ticker");
  return 0;
}

function t_exit(): void {
  const n = kthread_stop(t!);
  printk(KERN_INFO + "ticker stopped after %d ticks\\n", n);
}

module_init(t_init);
module_exit(t_exit);
`,
  checks: [
    loads(),
    check(
      "started",
      'module_init started a thread named "ticker" with kthread_run, and it slept in msleep(500)',
      'kthread_run(ticker_fn, null, "ticker") in module_init; msleep(500) in the thread\'s loop.',
      (c) => {
        // the name is a format with its arguments (kthread_run(fn, data, "%s", "ticker") names it "ticker" too)
        const bits = (c.result.kernel as { layout?: { bits?: 32 | 64 } }).layout?.bits ?? 64;
        const named = (x: KernelCall) => renderedText({ ...x, args: x.args.slice(2) }, eraOf(c.result), bits) === "ticker";
        const run = callsTo(c.result, "kthread_run").filter((x) => x.phase === "init" && named(x));
        if (!run.length) return fail('kthread_run(..., "ticker") was not called in module_init');
        const sleeps = callsTo(c.result, "msleep").filter((x) => x.args[0] === 500);
        return sleeps.length >= 2 ? ok() : fail(`the thread called msleep(500) ${sleeps.length} time(s)`);
      },
      1,
      { requires: ["kthread_run", "ticker", "msleep", "500"] },
    ),
    check(
      "stopped",
      "module_exit stopped the thread with kthread_stop, and got back its count",
      "kthread_stop(t) in module_exit: it sets kthread_should_stop(), wakes the thread and waits for its return value.",
      (c) => {
        const stops = callsTo(c.result, "kthread_stop").filter((x) => x.phase === "exit");
        if (!stops.length) return fail("kthread_stop was not called in module_exit");
        const n = stops[0]!.ret;
        // Loaded 5 s and sleeping 500 ms each time round, a thread that loops until kthread_should_stop() counts 10 or so.
        if (!(typeof n === "number" && n >= 5))
          return fail(
            `kthread_stop returned ${String(n)}, where a thread that loops until kthread_should_stop() is true, sleeping msleep(500) each time round, ` +
              `counts about 10 in the 5 s the module stays loaded: does its loop stop only when kthread_should_stop() is true, and does it return its counter?`,
          );
        // The count is the thread's own: one per time round its loop, and each time round sleeps msleep(500) once, so
        // it is the number of those sleeps (one less when the loop sleeps before it counts). Judged on the busy
        // machine too, where a number worked out from the time (jiffies / 500 ms) is 3 or more above it.
        const counted = (r: RunResult, label: string): string | undefined => {
          const ret = callsTo(r, "kthread_stop").find((x) => x.phase === "exit")?.ret;
          if (typeof ret !== "number") return `${label}kthread_stop was not called in module_exit`;
          const sleeps = callsTo(r, "msleep").filter((x) => x.ctx.task === "ticker" && x.args[0] === 500).length;
          if (ret === sleeps || ret === sleeps - 1) return undefined;
          return `${label}the thread slept msleep(500) ${sleeps} times but returned ${ret}: its count is not one per time round its loop (add one to a counter each time round and return that counter)`;
        };
        const first = counted(c.result, "");
        if (first) return fail(first);
        const busy = c.runs?.busy;
        if (!busy) return fail(c.runs?.unavailable?.["busy-run"] ?? "the grader made no busy run to compare the thread's count with");
        const third = counted(busy.result, "on the grader's busy machine, ");
        return third ? fail(third) : ok(`${n} ticks`);
      },
      1,
      { requires: ["kthread_stop", "adding one to a counter"], needs: ["busy-run"] },
    ),
    check(
      "printed-count",
      "The count printed is kthread_stop's return value, on one line (in a second run, loaded 3 s, and a third on a busy machine, too)",
      'printk(KERN_INFO + "ticker stopped after %d ticks\\n", n) with n = kthread_stop(t).',
      (c) => {
        // Judged in the graded run and in a second run where the module stays loaded 3 s instead of 5 (the count
        // differs): the printed text is rendered from the call log, so a count copied from an earlier run's dmesg
        // matches one run at most, however the learner builds the line (a %d argument, a concatenated string).
        const judge = (r: RunResult): string | undefined => {
          const n = callsTo(r, "kthread_stop").find((x) => x.phase === "exit")?.ret;
          if (typeof n !== "number") return "kthread_stop was not called in module_exit";
          const want = `ticker stopped after ${n} ticks`;
          const era = eraOf(r);
          const bits = (r.kernel as { layout?: { bits?: 32 | 64 } }).layout?.bits ?? 64;
          const lines = printedLines(callsTo(r, ...PRINT_FNS), era, bits).filter((x) => x.first.phase === "exit");
          const same = lines.filter((x) => x.text.trim() === want).map((x) => x.first);
          if (!same.length) {
            const got = lines.map((x) => x.text.trim());
            return `kthread_stop returned ${n}: expected "${want}" printed in module_exit, got ${got.length ? got.map((p) => `"${p}"`).join(", ") : "nothing"}`;
          }
          const others = otherAnswers(lines, /^ticker stopped after -?\d+ ticks$/, want);
          if (others.length) return `kthread_stop returned ${n}: ${otherAnswersMessage(others, want)}`;
          if (!same.some((x) => callLevel(x) === 6)) {
            const lv = callLevel(same[0]!);
            return `"${want}" was printed at ${lv < 0 ? "the default level (no KERN_ prefix)" : `level ${lv}`}, not KERN_INFO`;
          }
          return undefined;
        };
        const first = judge(c.result);
        if (first) return fail(first);
        const other = c.runs?.otherLoaded;
        if (!other) return fail(c.runs?.unavailable?.["other-loaded-time"] ?? "the grader made no second run to compare the printed count with");
        const second = judge(other.result);
        if (second)
          return fail(
            `in the grader's second run, the module loaded ${other.loadedMs / 1000} s instead of 5: ${second} (print the value kthread_stop returns, not a number from an earlier run)`,
          );
        // A busy machine: the same 5 s, but the thread woke late and counted less. A count worked out from the time
        // loaded (jiffies / 500 ms) is the idle machine's, not the thread's.
        const busy = c.runs?.busy;
        if (!busy) return fail(c.runs?.unavailable?.["busy-run"] ?? "the grader made no busy run to compare the printed count with");
        const third = judge(busy.result);
        if (third) {
          const held = busy.windows.reduce((s, w) => s + w.ms, 0);
          return fail(
            `in the grader's third run, on a busy machine (another task held the CPU ${busy.windows.length} times, ${held} ms in all, so the thread woke up late and counted less in the same 5 s): ${third} (print the value kthread_stop returns, not a number worked out from the time)`,
          );
        }
        return ok();
      },
      1,
      { requires: ["ticker stopped after", "KERN_INFO", "3 s", "busy machine"], needs: ["other-loaded-time", "busy-run"] },
    ),
    nothingLeaked(),
    noReports(),
  ],
};
