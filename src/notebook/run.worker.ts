// The Web Worker that holds the QuickJS module and the simulated kernel. The page posts a cell's source; the worker
// runs it through the sandbox (sandbox/run.ts: transpile, boot, insmod, drain, rmmod) and posts the RunResult back.
// A runaway module is stopped by the sandbox's deadline; if the worker itself stops answering, the page terminates
// it and starts a new one (src/notebook/runner.ts).

/// <reference lib="webworker" />
import { WASM_BUDGET_BYTES, type FromWorker, type GradeInfo, type Machine, type ProfileInfo, type ToWorker } from "./protocol.ts";
import type { KernelDeps } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";
import type { KernelSession } from "./session.ts";
import { digestForPage } from "./digest.ts";
import { forwardLog } from "./log-forward.ts";

// Found through glob so that the page still builds while the sandbox is being written; once the files exist this is
// an ordinary lazy import (a chunk of its own, loaded on the first message).
const runMods = import.meta.glob("../../sandbox/run.ts");
const dtsMods = import.meta.glob("../../sandbox/dts.ts");
const profileMods = import.meta.glob("../kernel/profiles.ts");
const quickjsMods = import.meta.glob("../../sandbox/quickjs.ts");
const gradeMods = import.meta.glob("../grader/grade.ts");
const exerciseMods = import.meta.glob("../grader/exercises/index.ts");
const declMods = import.meta.glob("../lessons/exercises.ts");
const sessionMods = import.meta.glob("./session.ts");
const typecheckMods = import.meta.glob("./typecheck.ts");
// What sandbox/run.ts loadKernelDeps imports: asked for at the worker's start together with the sandbox, so the browser
// fetches them side by side instead of one level of imports after the other (see prepare).
const kernelMods = import.meta.glob([
  "../kernel/kernel.ts",
  "../kernel/fs/proc.ts",
  "../../sandbox/api.ts",
  "../kernel/inspect.ts",
  "../../sandbox/kview.ts",
  "../kernel/snapshot.ts",
  "../kernel/fs/all.ts",
]);

interface Grader {
  judge(ex: unknown, result: unknown, source: string, file?: string, extra?: unknown): Omit<GradeInfo, "title" | "profile">;
  extraRuns(ex: unknown, source: string, run: (source: string, options: Record<string, unknown>) => Promise<unknown>, clean?: unknown): Promise<unknown>;
  runOptionsFor(settings: unknown): Record<string, unknown>;
}
interface ExerciseLike {
  id: string;
  title: string;
  settings: { profile: string; proc?: string[] };
}

/** /proc files the views show, snapshotted while the module is loaded and after rmmod. */
const PROC_VIEWS = ["vmallocinfo", "buddyinfo", "slabinfo"];

type RunModule = (source: string, options: Record<string, unknown>, deps?: KernelDeps) => Promise<unknown>;

/** A module that touches the whole run path once (transpile, QuickJS, bridge, page/slab/vmalloc, /proc, views). */
const WARMUP_CELL =
  'import { kmalloc, kfree, vmalloc, vfree, __get_free_page, free_page, GFP_KERNEL, printk, KERN_INFO, module_init, module_exit } from "linux";\n' +
  "let a = 0n, b = 0n, c = 0n;\n" +
  'function init(): number { a = kmalloc(64, GFP_KERNEL); b = vmalloc(20000); c = __get_free_page(GFP_KERNEL); printk(KERN_INFO + "warm %px\\n", a); return 0; }\n' +
  "function exit(): void { kfree(a); vfree(b); free_page(c); }\nmodule_init(init);\nmodule_exit(exit);\n";

let sessionP: Promise<KernelSession> | undefined;
/** The worker's kernels: the last runs' (for walks) and the next run's, booted ahead. */
function session(): Promise<KernelSession> {
  sessionP ??= (async () => {
    const { loadKernelDeps } = await load<{ loadKernelDeps: () => Promise<KernelDeps> }>(runMods, "the sandbox (sandbox/run.ts)");
    const { KernelSession } = await load<typeof import("./session.ts")>(sessionMods, "the kernel session");
    return new KernelSession(await loadKernelDeps());
  })();
  sessionP.catch(() => (sessionP = undefined));
  return sessionP;
}

/** Boot options as sandbox/run.ts passes them to boot(). */
const bootOpts = (o: Record<string, unknown>) => ({
  mem: o.mem as number | undefined,
  cmdline: o.cmdline as string | undefined,
  seed: o.seed as number | undefined,
  config: o.config as never,
});

/** After answering, boot the same machine again for the next Run (a message that arrives meanwhile waits ~10 ms). */
function prebootSoon(s: KernelSession, o: Record<string, unknown>) {
  setTimeout(() => s.preboot((o.profile as string | undefined) ?? "x86_64-6.1", bootOpts(o)), 0);
}

async function load<T>(mods: Record<string, () => Promise<unknown>>, what: string): Promise<T> {
  const loader = Object.values(mods)[0];
  if (!loader) throw new Error(`${what} is not part of this build yet`);
  return (await loader()) as T;
}

const post = (m: FromWorker) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);

/**
 * The memory watch: every growth of a WebAssembly memory (QuickJS's, through the emscripten glue's resize-heap
 * import) passes here. Past WASM_BUDGET_BYTES during a learner's run, the worker tells the page, which ends it, and
 * refuses the growth meanwhile (QuickJS's allocation fails), so that memory stops growing before the page acts.
 */
let runningId = 0;
const wasmGrow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function (this: WebAssembly.Memory, delta: number): number {
  const pages = this.buffer.byteLength / 65536;
  if (runningId && (pages + delta) * 65536 > WASM_BUDGET_BYTES) {
    post({ type: "over-memory", id: runningId, bytes: (pages + delta) * 65536, budget: WASM_BUDGET_BYTES });
    throw new RangeError(`WebAssembly memory budget of ${WASM_BUDGET_BYTES} bytes reached`);
  }
  return wasmGrow.call(this, delta);
};

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case "run": {
      const t0 = performance.now();
      learnerActs++;
      const { runModule } = await load<{ runModule: RunModule }>(runMods, "the sandbox (sandbox/run.ts)");
      const { timeoutMs, profile, mem, cmdline, config, events, failNth, stopAfterCalls } = msg.options;
      let opts: Record<string, unknown> = {
        profile,
        mem,
        cmdline,
        config,
        limits: { cpuMs: timeoutMs },
        proc: PROC_VIEWS,
        ...(failNth ? { failNth } : {}),
        ...(stopAfterCalls !== undefined ? { stopAfterCalls } : {}),
      };
      if (events?.length) {
        // the board's button is a different interrupt line per profile: the grader knows which
        const g = await load<{ buttonIrq(profile: string): number }>(gradeMods, "the grader (src/grader)");
        opts.events = events.map((e) => ({ atMs: e.atMs, irq: e.irq === "button" ? g.buttonIrq(profile ?? "x86_64-6.1") : e.irq }));
      }
      let ex: ExerciseLike | undefined;
      let grader: Grader | undefined;
      let gradeError: string | undefined;
      if (msg.exercise) {
        try {
          grader = await load<Grader>(gradeMods, "the grader (src/grader)");
          const { getExercise } = await load<{ getExercise(id: string): ExerciseLike | undefined }>(exerciseMods, "the exercises (src/grader/exercises)");
          ex = getExercise(msg.exercise);
          if (!ex && msg.exerciseDecl) {
            // declared in the lesson's Markdown: built here from its YAML with the grader's check library
            const { parseExerciseBlock } = await load<{
              parseExerciseBlock(b: { yaml: string; path: string; line: number; open: number; close: number }, lesson: string): ExerciseLike;
            }>(declMods, "the lesson exercise reader (src/lessons/exercises.ts)");
            const d = msg.exerciseDecl;
            ex = parseExerciseBlock({ yaml: d.yaml, path: d.path, line: d.line, open: 0, close: 0 }, d.lesson);
          }
          if (!ex) gradeError = `there is no exercise "${msg.exercise}"`;
        } catch (e) {
          gradeError = (e as Error).message;
        }
        // graded runs use the exercise's machine and events; the views' /proc files come along
        if (ex && grader) {
          const o = grader.runOptionsFor(ex.settings);
          opts = { ...o, limits: { cpuMs: timeoutMs }, proc: [...new Set([...((o.proc as string[] | undefined) ?? []), ...PROC_VIEWS])] };
        }
      }
      if (warming) await warming.catch(() => {}); // the first cell's machine, booting now
      const s = await session();
      const usedBefore = s.preboots.used;
      runningId = msg.id;
      // the run's log goes to the page as it grows (log-forward.ts): the page keeps it if it has to end this worker
      let unforward = () => {};
      const deps = s.deps();
      const boot = deps.boot;
      deps.boot = (profile, o) => {
        const k = boot(profile, o);
        unforward();
        unforward = forwardLog(
          k.log,
          (from, lines) => post({ type: "log", id: msg.id, from, lines }),
          () => performance.now(),
        );
        return k;
      };
      const result = (await runModule(msg.source, opts, deps).finally(() => {
        runningId = 0;
        unforward();
        post({ type: "log", id: msg.id, from: 0, lines: [] }); // the extra runs a grade makes send none: no stale log
      })) as { kernel?: Record<string, unknown> };
      // the frames behind each of the cell's buffers (the frame map marks them); the kernel stays for walks
      const cellMemory = s.keep(msg.id, result.kernel?.calls);
      if (result.kernel) result.kernel.cellMemory = cellMemory as never;
      keepLog(msg.id, result as unknown as RunResult);
      let grade: GradeInfo | undefined;
      if (msg.exercise) {
        if (ex && grader) {
          // the extra runs the checks need (a second machine for printed addresses, fault injection), on kernels
          // that are not kept for walks
          const extra = await grader.extraRuns(
            ex,
            msg.source,
            (src, o) => runModule(src, { ...o, limits: { cpuMs: timeoutMs } }, s.deps(false)) as never,
            result,
          );
          s.discard();
          const g = grader.judge(ex, result, msg.source, undefined, extra);
          grade = {
            exercise: g.exercise,
            title: ex.title,
            passed: g.passed,
            score: g.score,
            maxScore: g.maxScore,
            checks: g.checks.map((c) => ({ id: c.id, message: c.message, pass: c.pass, detail: c.detail, hint: c.hint })),
            firstHint: g.firstHint,
            error: g.error,
            profile: ex.settings.profile,
          };
        } else grade = { exercise: msg.exercise, passed: false, score: 0, maxScore: 0, checks: [], error: gradeError ?? "the grader is not available" };
      }
      // the page gets the run with its unbounded parts aggregated (digest.ts); the grader judged the full result
      const forPage = digestForPage(result as unknown as RunResult, cellMemory, s.roles);
      post({ type: "result", id: msg.id, result: forPage as never, grade, workerMs: performance.now() - t0, preboot: s.preboots.used > usedBefore });
      prebootSoon(s, opts);
      if (checkerAfterRun) setTimeout(() => void loadChecker(msg.options.profile), 0);
      return;
    }
    case "dts": {
      post({ type: "dts", id: msg.id, text: await dtsText(msg.profile) });
      return;
    }
    case "check": {
      // before a run: the cell's type errors against the era's linux.d.ts. Not ready yet: say so (the run goes on
      // unchecked), and load the checker once that run has answered: loading TypeScript takes the worker's thread for
      // a few hundred ms, which the Run that follows this check must not wait for.
      learnerActs++;
      if (!checker) {
        checkerAfterRun = true;
        post({ type: "check", id: msg.id, ready: false, diagnostics: [] });
        return;
      }
      post({ type: "check", id: msg.id, ready: true, diagnostics: checker.mod.checkCell(checker.ts, msg.source, await dtsText(msg.profile)) });
      return;
    }
    case "warm": {
      const t0warm = performance.now();
      const acts = learnerActs; // a check or Run that arrives while this loads and boots: no warm-up runs then
      // The sandbox, the kernel and QuickJS (loading since the worker started: prepare, below), then the first
      // cell's machine, booted before answering. A Run that arrives meanwhile (the page does not queue it behind this)
      // waits for that boot and runs on it: booting it again itself would cost the same.
      const m = msg.machine;
      warming = (async () => {
        await prepare();
        if (m) (await session()).preboot(m.profile, bootOpts({ ...m }));
      })();
      await warming;
      post({ type: "warm", id: msg.id });
      if (msg.machine) void warmUp(msg.machine, t0warm, acts).catch(() => {});
      return;
    }
    case "dmesg": {
      const log = logs.get(msg.run);
      if (!log) throw new Error("this run's log is no longer kept (the page keeps the last few runs): run the cell again");
      const from = Math.max(0, Math.min(msg.from, log.dmesg.length));
      const to = Math.min(log.dmesg.length, from + Math.max(0, Math.min(msg.count, 5000)));
      post({ type: "dmesg", id: msg.id, lines: log.dmesg.slice(from, to), levels: log.dmesgLevels?.slice(from, to) });
      return;
    }
    case "walk": {
      const s = await session();
      post({ type: "walk", id: msg.id, walk: s.walk(msg.run, BigInt(msg.addr), msg.when) });
      return;
    }
    case "profiles": {
      const m = await load<Record<string, unknown>>(profileMods, "the boot profiles (src/kernel/profiles.ts)");
      const list = (m.PROFILES ?? []) as ProfileInfo[];
      post({
        type: "profiles",
        id: msg.id,
        profiles: list.map((p) => ({
          name: p.name,
          description: p.description,
          defaultMem: p.defaultMem,
          defaultCmdline: p.defaultCmdline,
          defaultConfig: p.defaultConfig,
        })),
      });
      return;
    }
  }
}

/** The full dmesg of the last few runs (the page gets its head and tail; it asks for the lines between). */
const logs = new Map<number, Pick<RunResult, "dmesg" | "dmesgLevels">>();
function keepLog(id: number, r: RunResult) {
  logs.set(id, { dmesg: r.dmesg, dmesgLevels: r.dmesgLevels });
  while (logs.size > 6) logs.delete(logs.keys().next().value!);
}

/** linux.d.ts for a profile's era (every era's API, each marked, for an unknown profile). */
const dtsCache = new Map<string, string>();
async function dtsText(profile?: string): Promise<string> {
  const hit = dtsCache.get(profile ?? "");
  if (hit) return hit;
  const m = await load<Record<string, unknown>>(dtsMods, "linux.d.ts (sandbox/dts.ts)");
  let text = "";
  if (typeof m.generateDts === "function") text = (m.generateDts as (p?: string) => string)(profile);
  else if (typeof m.linuxDts === "function") {
    // linuxDts takes the kernel era: the profile names it
    const pm = await load<{ getProfile?: (n: string) => { era: string } }>(profileMods, "the boot profiles (src/kernel/profiles.ts)");
    let era: string | undefined;
    try {
      era = profile ? pm.getProfile?.(profile).era : undefined;
    } catch {
      era = undefined; // unknown profile: every era's API, each marked with its eras
    }
    text = (m.linuxDts as (era?: string) => string)(era);
  }
  if (!text) throw new Error("sandbox/dts.ts exports neither generateDts(profile) nor linuxDts(era)");
  dtsCache.set(profile ?? "", text);
  return text;
}

/**
 * The type checker (typecheck.ts and the TypeScript compiler), loaded after the warm-up or on the first check, and
 * primed before it is used: the first check of a fresh compiler binds the library files and runs cold (measured in
 * Chromium and Node: 600-1000 ms, the next ones 100-150 ms, then 20-40 ms), so PRIME_CHECKS checks of the warm-up
 * cell run first, each in its own task, and only then does a learner's check use it (one that comes meanwhile is
 * answered "not ready" at once, and its Run goes unchecked, as before the checker loads).
 */
let checker: { ts: Awaited<ReturnType<typeof import("./typecheck.ts").loadTypeScript>>; mod: typeof import("./typecheck.ts") } | undefined;
let checkerLoading: Promise<void> | undefined;
export const PRIME_CHECKS = 3;
function loadChecker(profile?: string): Promise<void> {
  if (checker) return Promise.resolve();
  checkerLoading ??= load<typeof import("./typecheck.ts")>(typecheckMods, "the type checker")
    .then(async (mod) => {
      const ts = await mod.loadTypeScript();
      const dts = await dtsText(profile);
      for (let i = 0; i < PRIME_CHECKS; i++) {
        await new Promise((r) => setTimeout(r, 0));
        mod.checkCell(ts, `${WARMUP_CELL}\n// ${i}\n`, dts);
      }
      checker = { ts, mod };
    })
    .catch(() => {})
    .finally(() => (checkerLoading = undefined));
  return checkerLoading;
}

/** Runs and checks the learner asked for (the warm-up runs give way to them: a check is a Run on its way). */
let learnerActs = 0;
/** A check found the checker not loaded: load it after the Run that follows (not before, not during). */
let checkerAfterRun = false;

/**
 * Warm-up runs of a throwaway module on the machine (their kernels are not kept, and they leave the spare kernel
 * alone), then boot the machine for the first Run. One run loads and compiles everything; the JIT needs a few
 * before the path is fast (measured in Chromium: the first Run after one warm-up took ~170 ms in the worker, after
 * three 60-90 ms). Each run waits for a fresh task, so a Run message that arrives meanwhile goes first, and once the
 * learner has checked or run something the warm-up stops: their runs warm the same path.
 */
export const WARMUP_RUNS = 3;
/**
 * The warm-up runs start this long after the machine is booted: a learner who clicks Run the moment the lesson is
 * readable then runs at once on the booted machine (a cold run), instead of waiting behind a warm-up run that cannot
 * be interrupted (150-400 ms cold, more on a loaded machine); one who reads first gets the warmed path.
 */
export const WARMUP_DELAY_MS = 600;
async function warmUp(m: Machine, t0: number, seen: number): Promise<void> {
  const { runModule } = await load<{ runModule: RunModule }>(runMods, "the sandbox (sandbox/run.ts)");
  const s = await session();
  const opts = { profile: m.profile, mem: m.mem, cmdline: m.cmdline, config: m.config, proc: PROC_VIEWS };
  for (let i = 0; i < WARMUP_RUNS && learnerActs === seen; i++) {
    await new Promise((r) => setTimeout(r, i === 0 ? WARMUP_DELAY_MS : 0));
    if (learnerActs !== seen) break;
    await runModule(WARMUP_CELL, opts, s.deps(false));
    s.discard();
  }
  if (learnerActs === seen) s.preboot(m.profile, bootOpts(opts));
  // then the type checker, loaded and primed, for the checks before each Run (a learner's Run in flight loads it
  // when it has answered): a Run is warm once its check is, so "warmed" waits for it
  if (learnerActs === seen) await loadChecker(m.profile);
  post({ type: "warmed", ms: performance.now() - t0 });
}

/**
 * The sandbox, the kernel code and QuickJS, loaded from the moment the worker starts (the page creates it first
 * thing, before it renders the lesson): the "warm" message, which names the machine to boot, comes only once the
 * lesson is on screen. QuickJS's wasm compiles while the kernel code loads. A failure is left for the Run to report.
 */
let preparing: Promise<void> | undefined;
/** The "warm" message's loading and boot, while it lasts (a Run waits for it). */
let warming: Promise<void> | undefined;
function prepare(): Promise<void> {
  preparing ??= (async () => {
    // every chunk the first Run needs, requested at once: each import() below otherwise finds its own imports only
    // once it has loaded, a round trip per level (run.ts, then the kernel, then its parts, then the session)
    for (const f of [...Object.values(kernelMods), ...Object.values(sessionMods)]) void f().catch(() => {});
    const q = load<{ loadQuickJS?: () => Promise<unknown> }>(quickjsMods, "QuickJS (sandbox/quickjs.ts)").then((m) => m.loadQuickJS?.());
    const run = await load<{ loadKernelDeps?: () => Promise<unknown> }>(runMods, "the sandbox (sandbox/run.ts)");
    await Promise.all([run.loadKernelDeps?.(), q]);
  })();
  preparing.catch(() => (preparing = undefined));
  return preparing;
}
void prepare().catch(() => {});

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  handle(msg).catch((e: unknown) => {
    const err = e as Error;
    post({ type: "error", id: msg.id, message: err?.message ? `${err.name && err.name !== "Error" ? err.name + ": " : ""}${err.message}` : String(e) });
  });
};

post({ type: "ready" });
