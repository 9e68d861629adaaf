// Issue 18's targets, each as a ratio of two rows measured side by side in this process (alternating, medians):
// - memdemo end to end on x86_64-6.1's default (debug) config against a bare-QuickJS floor: a new runtime and
//   context, three no-op host functions, the same calls with the same strings as memdemo makes, dispose;
// - kmalloc+kfree from a cell against the same calls made natively on the kernel object, distro and debug: natively
//   as the cell's own task, insmod, the same kernel work as the cell's calls (the target's ratio, and each round's
//   own ratio beside it); and as the booted machine's current task, swapper/0, as this row did until session 11:
//   might_sleep() records a sleep in atomic context for the idle task at every allocation, so those calls do more
//   kernel work than the cell's (about twice the time natively) and their ratio flatters the cell;
// - fuzzed programs, run and judged, on their restored machines (fuzz/gen.ts machineOf) and each on its own machine;
// - `kmodlab grade` over 200 copies of an exercise's solution, through the command's own worker pool.
// Every row but the grade wall-time row is process CPU time (user + system) per operation: on this shared 2-core machine (load
// averages of 10 and more while other work runs) wall time mostly measures the waits for a core.
// Times are never asserted in tests; this suite records them.
// SPEED_ROWS=memdemo,kmalloc,fuzz,grade (any of them, comma-separated) measures only those groups of rows; default all.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Suite } from "./harness.ts";
import * as run from "../sandbox/run.ts";
import { installLeanHostCalls, loadQuickJS } from "../sandbox/quickjs.ts";
import { Bridge } from "../sandbox/bindings.ts";
import { bridgeRows } from "../sandbox/rows.ts";
import { transpileCell } from "../sandbox/transpile.ts";
import { CallLog } from "../sandbox/calllog.ts";
import { resolveLimits } from "../sandbox/limits.ts";
import { PRELUDE, PRELUDE_FILE } from "../sandbox/prelude.ts";
import { boot } from "../src/kernel/kernel.ts";
import { API } from "../sandbox/api.ts";
import { generate, FUZZ_TARGETS, MACHINE_BLOCK, MACHINES_PER_TARGET, fuzzOrder, machineOf, onOwnMachine } from "../fuzz/gen.ts";
import { runAndJudge } from "../fuzz/oracle.ts";
import { getExercise } from "../src/grader/exercises/index.ts";
import { gradeCommand } from "../src/cli/grade.ts";

const memdemo = readFileSync(new URL("../examples/memdemo.ts", import.meta.url), "utf8");
const ROUNDS = 21;
/**
 * Rounds of the memdemo rows run and not counted. A run executes most of its functions a few times only, so V8
 * optimizes the run's code over its first few dozen runs: with `--trace-opt`, this group's rounds 0-9 made 342
 * TurboFan compilations, rounds 10-19 60, then 19-27 per ten rounds from round 20 on. The compiler's threads count in
 * the process CPU time, and code not yet optimized runs slower: the memdemo row's median over rounds 3-23 was 1.2-1.6x
 * its median over rounds 45-65 (load 7-9), which is what a process running many cells (the grader, the fuzzer, a
 * notebook's worker) pays per run. The floor row is measured in the same rounds.
 */
const MEMDEMO_WARMUP = 30;
const GROUPS = ["memdemo", "kmalloc", "fuzz", "grade"];
const ROWS = (process.env.SPEED_ROWS ?? GROUPS.join(",")).split(",").map((r) => r.trim());

/**
 * memdemo's calls with its strings, against three host functions that do nothing: `alloc` for the calls that return
 * an address (__get_free_page, kmalloc, vmalloc), `say` for those that take a string (MODULE_LICENSE, printk x3),
 * `take` for the rest (module_init, module_exit, free_page, kfree, vfree); init and exit are called from the host.
 */
const FLOOR_CELL = `
say("GPL");
let pagemem = 0, kmallocmem = 0, vmallocmem = 0;
function mem_module_init() {
  pagemem = alloc(3264);
  say("\\x016" + "pagemem addr=%px\\n", pagemem);
  kmallocmem = alloc(100, 3264);
  say("\\x016" + "kmallocmem addr=%px\\n", kmallocmem);
  vmallocmem = alloc(1000000);
  say("\\x016" + "vmallocmem addr=%px\\n", vmallocmem);
  return 0;
}
function mem_module_exit() { take(pagemem); take(kmallocmem); take(vmallocmem); }
take(mem_module_init);
take(mem_module_exit);
[mem_module_init, mem_module_exit];`;

export const suite: Suite = {
  name: "speed",
  partial: () => !GROUPS.every((g) => ROWS.includes(g)),
  async run(ctx) {
    const { runModule, loadKernelDeps } = run;
    const deps = await loadKernelDeps();
    const q = await loadQuickJS();
    const floorRun = () => {
      const rt = q.newRuntime();
      rt.setMaxStackSize(256 * 1024);
      const c = rt.newContext();
      installLeanHostCalls(c);
      let next = 0x1000;
      for (const [name, fn] of [
        ["alloc", () => c.newNumber((next += 64))],
        ["say", () => undefined],
        ["take", () => undefined],
      ] as const) {
        const h = c.newFunction(name, fn);
        c.setProp(c.global, name, h);
        h.dispose();
      }
      const fns = c.evalCode(FLOOR_CELL, "cell.ts").unwrap();
      for (const i of [0, 1]) {
        const f = c.getProp(fns, i);
        c.callFunction(f, c.undefined).unwrap().dispose();
        f.dispose();
      }
      fns.dispose();
      c.dispose();
      rt.dispose();
    };
    /** CPU milliseconds of one call of f. */
    const timeOnce = async (f: () => unknown) => {
      const c = process.cpuUsage();
      await f();
      const d = process.cpuUsage(c);
      return (d.user + d.system) / 1000;
    };
    // a run's call log handed back once its calls are read or not wanted (absent in a tree from before it: a no-op)
    const releaseLog = (run as { releaseCallLog?: (r: unknown) => void }).releaseCallLog ?? (() => {});
    // the boot cache (absent in a tree from before it, where the bench then measures a boot per run only)
    const cache = (run as { kernelBootCache?: () => { enabled: boolean } | undefined }).kernelBootCache?.() ?? { enabled: true };

    // SPEED_FUZZ_FIRST=1: the fuzz rows are measured before the other groups too (rows named "(first)"), to compare
    // them cold and after the others in one process
    if (process.env.SPEED_FUZZ_FIRST && ROWS.includes("fuzz")) await fuzzGroup(" (first)");
    // memdemo against its floor, and with a boot per run (the boot cache off) beside it
    if (ROWS.includes("memdemo")) {
      const md: number[] = [];
      const mdBoot: number[] = [];
      const mdText: number[] = [];
      const fl: number[] = [];
      const restore: number[] = [];
      const context: number[] = [];
      const bridged: number[] = [];
      // the bridge memdemo's run builds (run.ts openBridge): its rows, the prelude compiled and run, its host functions
      const k = deps.boot("x86_64-6.1", {});
      const tr = transpileCell(memdemo);
      if (!tr.ok) throw new Error("memdemo does not transpile");
      const rows = bridgeRows(deps.api, k.profile.era, new Set(tr.imports.map((im) => `${im.module}:${im.name}`)));
      const bridgeRun = () => {
        const rt = q.newRuntime();
        rt.setMaxStackSize(256 * 1024);
        const cx = rt.newContext();
        installLeanHostCalls(cx);
        const log = new CallLog(k);
        const b = new Bridge(
          cx,
          rt,
          { k, mod: { name: "cell" } },
          rows,
          resolveLimits(undefined),
          { now: () => performance.now(), onCallbackError: () => {}, log },
          tr.sites,
          new Set(tr.siteNames),
        );
        b.dispose();
        cx.dispose();
        rt.dispose();
      };
      for (let r = 0; r < ROUNDS + MEMDEMO_WARMUP; r++) {
        const a = await timeOnce(() => runModule(memdemo));
        const b = await timeOnce(floorRun);
        cache.enabled = false;
        const c = await timeOnce(() => runModule(memdemo));
        cache.enabled = true;
        // a text no run had before (a comment line): sandbox/transpile.ts's cache of the last texts does not hit
        const d = await timeOnce(() => runModule(`// run ${r}\n${memdemo}`));
        // two of a run's parts alone: the copy of the booted machine (the boot cache's), and a runtime and context
        // with the prelude compiled in it
        const e = await timeOnce(() => deps.boot("x86_64-6.1", {}));
        const f = await timeOnce(() => {
          const rt = q.newRuntime();
          const cx = rt.newContext();
          cx.evalCode(PRELUDE, PRELUDE_FILE).unwrap().dispose();
          cx.dispose();
          rt.dispose();
        });
        const g = await timeOnce(bridgeRun);
        if (r < MEMDEMO_WARMUP) continue;
        bridged.push(g);
        md.push(a);
        fl.push(b);
        mdBoot.push(c);
        mdText.push(d);
        restore.push(e);
        context.push(f);
      }
      const mdRow = ctx.record(
        "memdemo x86_64-6.1 default config end to end",
        "ms cpu",
        md,
        `runModule, warm (${MEMDEMO_WARMUP} rounds first), the boot cache on (a copy of a booted machine); the same text every run: its transpile comes from sandbox/transpile.ts's cache of the last texts`,
      );
      ctx.record("memdemo x86_64-6.1 default config end to end, a new text each run", "ms cpu", mdText, "a comment line differs: transpiled each run");
      const mdBootRow = ctx.record("memdemo x86_64-6.1 default config end to end, a boot per run", "ms cpu", mdBoot, "the boot cache off");
      const flRow = ctx.record(
        "bare QuickJS floor for memdemo",
        "ms cpu",
        fl,
        "runtime + context, 3 no-op host functions, memdemo's calls and strings, dispose",
      );
      ctx.ratio("memdemo end to end vs its bare-QuickJS floor (target <= 6)", mdRow, flRow);
      ctx.record(
        "memdemo's machine: a copy of the booted x86_64-6.1 (debug)",
        "ms cpu",
        restore,
        "the boot cache's compiled copy alone (src/kernel/snapshot.ts), GC it causes included when it falls in it",
      );
      ctx.record(
        "memdemo's QuickJS: runtime + context + the prelude compiled",
        "ms cpu",
        context,
        "sandbox/prelude.ts PRELUDE evaluated in a new context, disposed",
      );
      ctx.record(
        "memdemo's QuickJS: runtime + context + its Bridge",
        "ms cpu",
        bridged,
        "what run.ts openBridge builds for memdemo (rows.ts's rows, the prelude compiled and run, the host functions), disposed",
      );
      ctx.ratio("memdemo with a boot per run vs with the boot cache", mdBootRow, mdRow);
    }

    // kmalloc+kfree from a cell against the same calls made natively: N pairs per run (distro's pairs are cheap enough
    // that 5000 of them left the difference of two runs to the noise of a loaded machine: 20000 there)
    const loop = (n: number, N: number) => `import { kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => { for (let i = 0; i < ${N}; i++) { if (i < ${n}) kfree(kmalloc(64, GFP_KERNEL)); } return 0; });`;
    // Each round measures both rows, one after the other (the same load), and the round's own ratio is kept too: the
    // native row's rounds swing with the load (0.4-3.1 us a pair in one run), so the median of the rounds' ratios
    // is steadier than the ratio of the two medians. KMALLOC_ROUNDS rounds (default 25) after 2 not counted.
    // Each timed part starts after a minor GC (settle): it pays for the young-generation collections its own
    // allocations cause, not for the garbage the parts before it left (a boot, a run: 0.3-0.7 MB each). Without it the
    // native row, whose own loop allocates almost nothing, paid for the scavenges of the runs and boots before it
    // and swung with them (distro, as insmod: 0.66-2.34 us a pair in one bench run, medians 0.89-1.76 between runs of
    // the same code; with it 0.37-0.92, medians 0.40-0.44), so its ratio to the cell flattered the cell by its luck.
    // Not a full GC: gc() also drops compiled code and feedback, and the cell's part then measured 10-11 us a pair
    // instead of 1.3-2.4 (a cold start, not a run in a process that runs many). The parts' order alternates by round
    // (cell first, then native first), so a drift within a round favours neither.
    const kmRounds = Number(process.env.KMALLOC_ROUNDS ?? 25);
    const gcFn = (globalThis as { gc?: (o?: { type: "minor" }) => void }).gc;
    const settle = gcFn ? () => gcFn({ type: "minor" }) : () => {};
    for (const config of ROWS.includes("kmalloc") ? (["distro", "debug"] as const) : []) {
      const N = config === "distro" ? 20000 : 5000;
      const cell: number[] = [];
      const native: number[] = [];
      const nativeInsmod: number[] = [];
      const perRound: number[] = [];
      const walked: number[] = [];
      for (let r = 0; r < kmRounds + 2; r++) {
        const cellParts = async () => {
          // each run's call log released once it is done (as the fuzzer does): its columns serve the next run
          settle();
          const a = await timeOnce(async () => releaseLog(await runModule(loop(N, N), { config, limits: { cpuMs: 60000 } })));
          settle();
          const b = await timeOnce(async () => releaseLog(await runModule(loop(0, N), { config, limits: { cpuMs: 60000 } })));
          return [a, b] as const;
        };
        const nativeParts = async () => {
          const k = boot("x86_64-6.1", { config });
          settle();
          const a = await timeOnce(() => {
            for (let i = 0; i < N; i++) k.slab.kfree(k.slab.kmalloc(64, 0xcc0));
          });
          // the same calls as the cell's task (a run's module_init runs as insmod, sandbox/run.ts): no might_sleep record
          const ki = boot("x86_64-6.1", { config });
          ki.current = { pid: 110, comm: "insmod" };
          settle();
          const b = await timeOnce(() => {
            for (let i = 0; i < N; i++) ki.slab.kfree(ki.slab.kmalloc(64, 0xcc0));
          });
          return [a, b] as const;
        };
        let s1: number, s0: number, nat: number, natI: number;
        if (r % 2 === 0) {
          [s1, s0] = await cellParts();
          [nat, natI] = await nativeParts();
        } else {
          [nat, natI] = await nativeParts();
          [s1, s0] = await cellParts();
        }
        // the same run walking the guest's stack instead of the shadow stack (sandbox/shadow.ts): debug only
        if (config === "debug") settle();
        const w1 =
          config === "debug"
            ? await timeOnce(async () => releaseLog(await runModule(loop(N, N), { config, limits: { cpuMs: 60000 }, shadowStack: false })))
            : 0;
        if (config === "debug") settle();
        const w0 =
          config === "debug"
            ? await timeOnce(async () => releaseLog(await runModule(loop(0, N), { config, limits: { cpuMs: 60000 }, shadowStack: false })))
            : 0;
        if (r < 2) continue;
        cell.push(((s1 - s0) * 1000) / N);
        native.push((nat * 1000) / N);
        nativeInsmod.push((natI * 1000) / N);
        perRound.push((s1 - s0) / natI);
        walked.push(((w1 - w0) * 1000) / N);
      }
      const c = ctx.record(
        `kmalloc+kfree from a cell (${config})`,
        "us cpu/pair",
        cell,
        config === "distro"
          ? "(a run of N pairs - the same run with none) / N; the sites' calls are raw host functions (sandbox/bindings.ts hostCall)"
          : "(a run of N pairs - the same run with none) / N; the prelude's wrappers keep the shadow stack (KASAN)",
      );
      const n = ctx.record(
        `kmalloc+kfree called natively on the kernel object (${config})`,
        "us cpu/pair",
        native,
        "k.slab.kfree(k.slab.kmalloc(64, GFP_KERNEL)) as the booted machine's task, swapper/0 (a might_sleep record per kmalloc)",
      );
      ctx.ratio(`kmalloc+kfree from a cell vs natively as swapper/0 (${config}; more kernel work natively: flatters the cell)`, c, n);
      const ni = ctx.record(
        `kmalloc+kfree called natively on the kernel object as insmod (${config})`,
        "us cpu/pair",
        nativeInsmod,
        "the same calls with current = insmod, the task the cell's module_init runs as: the cell's kernel work",
      );
      ctx.ratio(`kmalloc+kfree from a cell vs natively as insmod (${config}; the same kernel work; target <= 2)`, c, ni);
      ctx.record(
        `kmalloc+kfree from a cell / natively as insmod, per round (${config})`,
        "ratio",
        perRound,
        "each round's cell row over the same round's native row (as insmod): median, min and max of the rounds",
      );
      if (config === "debug") {
        const w = ctx.record(
          "kmalloc+kfree from a cell (debug), stacks walked",
          "us cpu/pair",
          walked,
          "shadowStack: false: a new Error() in the guest per call",
        );
        ctx.ratio("kmalloc+kfree from a cell (debug): stacks walked vs the shadow stack (the default)", w, c);
      }
    }

    // what the shadow stack costs a cell that only computes (sandbox/shadow.ts): fib(25), 250k calls, debug config
    if (ROWS.includes("kmalloc")) {
      // written as an arrow, fib is instrumented; as a function declaration it would be left plain (it reaches no
      // kernel call: shadow.ts pure functions), and cost nothing
      const fib = (n: number) => `import { MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));
module_init(() => { fib(${n}); return 0; });`;
      const sh: number[] = [];
      const pl: number[] = [];
      for (let r = 0; r < ROUNDS + 2; r++) {
        const a1 = await timeOnce(() => runModule(fib(25), { config: "debug", views: false, limits: { cpuMs: 60000 } }));
        const a0 = await timeOnce(() => runModule(fib(2), { config: "debug", views: false, limits: { cpuMs: 60000 } }));
        const b1 = await timeOnce(() => runModule(fib(25), { config: "debug", views: false, limits: { cpuMs: 60000 }, shadowStack: false }));
        const b0 = await timeOnce(() => runModule(fib(2), { config: "debug", views: false, limits: { cpuMs: 60000 }, shadowStack: false }));
        if (r < 2) continue;
        sh.push(a1 - a0);
        pl.push(b1 - b0);
      }
      const a = ctx.record(
        "fib(25) in a cell (debug), an arrow, instrumented",
        "ms cpu",
        sh,
        "the run of fib(25) - the same run of fib(2): the cell's instrumented calls",
      );
      const b = ctx.record("fib(25) in a cell (debug), an arrow, plain code", "ms cpu", pl, "shadowStack: false");
      ctx.ratio("fib(25) as an arrow: instrumented vs plain (the shadow stack's guest cost per call)", a, b);
    }

    // fuzzed programs, run and judged: a round is the programs of one machine per target of one block (~200
    // programs, fuzz/gen.ts machineOf), in the order a fuzz run takes them (fuzzOrder: each machine booted, then
    // restored per program); beside it, the same programs as the fuzzer ran them before: each on its own machine
    // booted from its seed (onOwnMachine), a program that loops forever on purpose stopped at 1000 ms of CPU instead
    // of the oracle's. Alternating, the same seeds both ways, after a warm-up of both on other seeds (a block no
    // round uses: a machine the warm-up booted and the cache evicted would boot plainly in its round).
    // FUZZ_ROUNDS rounds (default 8: the four machines of blocks 0 and 1, seeds 1..1599). Four rounds (block 0 only)
    // were too few to decide the target: the rounds' means ran from 10 to 21 ms (a block's fourth machine is the
    // profile's full RAM, the others 128 MiB), so the median of four was the mean of two rounds picked by the load.
    async function fuzzGroup(suffix: string) {
      const fzNew: number[] = [];
      const fzOld: number[] = [];
      const rounds = Number(process.env.FUZZ_ROUNDS ?? 2 * MACHINES_PER_TARGET);
      const roundBlocks = Math.ceil(rounds / MACHINES_PER_TARGET);
      const judgeAll = async (seeds: number[], before: boolean) => {
        for (const seed of seeds) {
          const g = generate(API, seed);
          const era = FUZZ_TARGETS[seed % FUZZ_TARGETS.length]!.era;
          if (!before) await runAndJudge(g, era);
          else
            await runAndJudge({ ...g, program: onOwnMachine(g.program) }, era, (src, o) =>
              runModule(src, g.program.endless ? { ...o, limits: { ...o.limits, cpuMs: 1000 } } : o),
            );
        }
      };
      const warm = fuzzOrder(roundBlocks * MACHINE_BLOCK, (roundBlocks + 1) * MACHINE_BLOCK).filter((s) => machineOf(s).index === 0 && s % 25 < 3);
      await judgeAll(warm, false);
      await judgeAll(warm, true);
      for (let r = 0; r < rounds; r++) {
        const block = Math.floor(r / MACHINES_PER_TARGET);
        const seeds = fuzzOrder(Math.max(1, block * MACHINE_BLOCK), (block + 1) * MACHINE_BLOCK).filter((s) => machineOf(s).index === r % MACHINES_PER_TARGET);
        fzNew.push((await timeOnce(() => judgeAll(seeds, false))) / seeds.length);
        fzOld.push((await timeOnce(() => judgeAll(seeds, true))) / seeds.length);
      }
      const a = ctx.record(
        `a fuzzed program run and judged${suffix}`,
        "ms cpu",
        fzNew,
        `mean per program of a round (one machine per target of a block, ~200 programs in fuzz order, in-process runModule); median of ${rounds} rounds`,
      );
      const b = ctx.record(
        `a fuzzed program run and judged, as before (its own machine, 1000 ms for endless loops)${suffix}`,
        "ms cpu",
        fzOld,
        "the same seeds, each booted from its own seed",
      );
      ctx.ratio(`a fuzzed program: as before vs now (target >= 4, against 57 ms at issue time)${suffix}`, b, a);
    }
    if (ROWS.includes("fuzz")) await fuzzGroup("");

    // kmodlab grade over 200 copies of an exercise's solution
    if (!ROWS.includes("grade")) return;
    const ex = getExercise("three-allocators")!;
    const dir = mkdtempSync(join(tmpdir(), "kmodlab-grade-bench-"));
    try {
      for (let i = 0; i < 200; i++) writeFileSync(join(dir, `s${String(i).padStart(3, "0")}.ts`), ex.solution);
      const out = join(dir, "out.json");
      const gr: number[] = [];
      const grCpu: number[] = [];
      const write = process.stderr.write.bind(process.stderr);
      for (let r = 0; r < 3; r++) {
        process.stderr.write = (() => true) as typeof process.stderr.write; // the per-file progress lines
        const t = performance.now(); // wall time: the pool's workers are this process's threads, on both cores
        const cpu0 = process.cpuUsage(); // and CPU time of every thread: what the wall time is on an unloaded machine
        let code: number;
        try {
          code = await gradeCommand(ex.id, dir, { json: true, out });
        } finally {
          process.stderr.write = write;
        }
        gr.push(performance.now() - t);
        const cpu = process.cpuUsage(cpu0);
        grCpu.push((cpu.user + cpu.system) / 1000);
        const res = JSON.parse(readFileSync(join(out), "utf8")) as { results: { passed: boolean }[] };
        if (code !== 0 || res.results.length !== 200 || !res.results.every((g) => g.passed)) throw new Error("bench speed: the solutions did not all pass");
      }
      ctx.record(
        "kmodlab grade three-allocators over 200 copies of its solution",
        "ms",
        gr,
        `gradeCommand on a directory: the command's worker pool (--jobs = cores); median of ${gr.length}`,
      );
      ctx.record(
        "kmodlab grade three-allocators over 200 copies of its solution, CPU",
        "ms cpu",
        grCpu,
        "the same runs' CPU time over every thread of the process (the workers included): the load of other work on the machine does not enter it; copies of one text are run once (src/cli/grade.ts)",
      );
      // texts that differ (a comment line): every one is run, as a class's own submissions are
      const distinct = join(dir, "distinct");
      mkdirSync(distinct);
      const DISTINCT = 20;
      for (let i = 0; i < DISTINCT; i++) writeFileSync(join(distinct, `d${String(i).padStart(2, "0")}.ts`), `// submission ${i}\n${ex.solution}`);
      const each: number[] = [];
      for (let r = 0; r < 3; r++) {
        process.stderr.write = (() => true) as typeof process.stderr.write;
        const cpu0 = process.cpuUsage();
        try {
          await gradeCommand(ex.id, distinct, { json: true, out });
        } finally {
          process.stderr.write = write;
        }
        const cpu = process.cpuUsage(cpu0);
        each.push((cpu.user + cpu.system) / 1000 / DISTINCT);
      }
      ctx.record(
        `kmodlab grade three-allocators over ${DISTINCT} distinct texts of its solution, CPU per submission`,
        "ms cpu",
        each,
        "each text differs by a comment line, so every submission is run (its clean, shifted and fault-injection runs); CPU over every thread",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
