// Runs cells where the host can kill them: each run happens in a worker_threads Worker with V8 heap limits
// (resourceLimits), a hard wall-clock watchdog and a WebAssembly memory budget, so that a cell the sandbox's own
// limits cannot stop (one long built-in call such as `[].indexOf.call({ length: 2 ** 53 - 1 }, 1)` never returns to
// QuickJS's interrupt handler; memory the guest's accounting does not see) ends as its own RunResult with a limit
// report, and the process goes on. The CLI (`kmodlab run`, `kmodlab grade`) and the fuzzer run through here.
//
// The sandbox's in-QuickJS limits stay the normal case (fast, with the cell's line and the kernel's log); this is
// the guarantee behind them. A terminated worker takes its kernel with it: the report says the log is lost.
//
// Limits of one run (IsolateLimits, all with defaults):
// - CPU: the worker stops the run's module part itself, with Node's vm timeout (guest-watch.ts, as `kmodlab run` on
//   its own thread does): at the run's limits.cpuMs plus a grace (default max(3 s, cpuMs / 2)) the run ends as the
//   sandbox's own CPU-limit stop, its kernel log kept (sandbox/run.ts salvageStoppedRun), and the worker is replaced
//   after. The parent's watchdog is the last resort: before the module part starts, the limit plus the grace of the
//   worker thread's CPU time; once it has started ("watching"), the worker's own timeout plus a margin of wall time.
//   Past it the worker is terminated -> kind "timeout", limit "cpu", the log lost.
//   (Until session 15 the parent stopped the worker's JavaScript through the inspector, NodeWorker.enable and
//   Runtime.terminateExecution: with two workers coming and going, Node 20's WorkerAgent::enable crashed the whole
//   process now and then, a segfault in ~WorkerManagerEventHandle; a class graded with --jobs 2 lost every result.)
// - JavaScript heap: the worker's V8 old generation (default 1024 MiB); a worker that dies of it
//   (ERR_WORKER_OUT_OF_MEMORY) -> kind "out-of-memory", limit "memory".
// - WebAssembly memory: the QuickJS module's linear memory (guest objects, ArrayBuffers and strings), default
//   max(512 MiB, 4 x limits.memoryBytes); isolate-worker.ts reports a growth past it and waits to be terminated
//   -> "out-of-memory", limit "memory".
// - Host memory: the process's resident set, polled while runs are in flight, default the RSS at the first run
//   plus 3 GiB per worker, at most 85 % of the machine's RAM. It catches what neither of the above sees (typed
//   arrays outside both heaps); the workers running at that moment are terminated, and a pool runs each of them
//   again alone so that only a cell that crosses the limit by itself is charged with it.
//
// The worker entry: from TypeScript sources (tsx, vitest) the worker starts isolate-worker-dev.mjs, which registers
// tsx's loader and imports isolate-worker.ts; from a bundle, isolate-worker.cjs (or .mjs, .js) next to the bundled file
// that contains this module: a bundler must emit src/node/isolate-worker.ts as that separate entry.
//
// Node only (worker_threads, os): the browser's equivalent is src/notebook/runner.ts.

import type { Worker } from "node:worker_threads";
import { existsSync } from "node:fs";
import { totalmem, availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import type { RunResult } from "../../sandbox/result.ts";
import type { RunOptions } from "../../sandbox/run.ts";
import type { Report } from "../kernel/types.ts";
import type { FromIsolate, ToIsolate } from "./isolate-protocol.ts";
import { DEFAULT_RUN_HEAP_MB, spawnRunWorker, type SpawnedRunWorker } from "./spawn-worker.ts";
import { taskCpuClock, WALL_CAP_FACTOR, wallTimeToGive } from "../../sandbox/cpuclock.ts";

const MiB = 1 << 20;
const GiB = 1 << 30;
/** sandbox/limits.ts DEFAULT_LIMITS, repeated here so that the parent need not load the sandbox. */
const DEFAULT_CPU_MS = 2000;
const DEFAULT_GUEST_BYTES = 64 << 20;

export interface IsolateLimits {
  /** Wall-clock grace after the run's CPU limit before the host terminates the worker, in ms. */
  graceMs?: number;
  /** The worker's V8 old-generation heap, in MiB. */
  heapMb?: number;
  /** The QuickJS module's WebAssembly memory, in bytes. */
  wasmBytes?: number;
  /** The whole process's resident set, in bytes (the last resort). */
  rssBytes?: number;
}

/** Why the host ended a run. */
export type HostStop = "cpu" | "heap" | "wasm" | "rss" | "crash";

/** Where the worker's code is, for the Worker constructor. */
export function workerEntry(): { url: URL; workerData: Record<string, unknown> } {
  const here = import.meta.url;
  if (/\.[cm]?ts$/.test(new URL(here).pathname)) {
    return { url: new URL("./isolate-worker-dev.mjs", here), workerData: { entry: new URL("./isolate-worker.ts", here).href } };
  }
  for (const name of ["./isolate-worker.cjs", "./isolate-worker.mjs", "./isolate-worker.js"]) {
    const url = new URL(name, here);
    if (existsSync(fileURLToPath(url))) return { url, workerData: {} };
  }
  throw new Error(
    `the run worker's entry (isolate-worker.cjs) is not next to ${fileURLToPath(here)}: the bundle must include src/node/isolate-worker.ts as a separate entry`,
  );
}

/**
 * V8 flags every run worker started from now on sets for itself, first thing, before it compiles anything (the
 * command sets --liftoff-only and a larger --interrupt-budget: bin/kmodlab.mjs). Set in the worker, not here: V8
 * flags changed before a worker starts make it bootstrap without Node's startup snapshot (measured: its first line
 * ~50 ms after the spawn instead of ~25). They are process-wide all the same: a worker started later inherits them,
 * and pays that.
 */
let workerV8Flags: string[] = [];
export function setRunWorkerV8Flags(flags: string[]): void {
  workerV8Flags = [...flags];
}

/** The number of cores (the default of `grade --jobs`). */
export function coreCount(): number {
  return typeof availableParallelism === "function" ? availableParallelism() : cpus().length;
}

function fmt(bytes: number): string {
  return bytes >= GiB && bytes % GiB === 0 ? `${bytes / GiB} GiB` : `${Math.round(bytes / MiB)} MiB`;
}

/**
 * How much more wall time than the worker's own CPU stop's timeout (guest-watch.ts) the parent gives a run before it
 * terminates the worker: the worker's salvage of the stopped run (sandbox/run.ts salvageStoppedRun) and its answer.
 */
function marginMs(timeoutMs: number): number {
  return Math.max(2000, Math.round(timeoutMs / 2));
}

/** The RunResult of a run the host ended: no kernel log survives, one report says which limit and why. */
export function hostStoppedResult(
  options: RunOptions,
  stop: HostStop,
  detail: { cpuMs: number; graceMs: number; heapMb: number; wasmBytes: number; rssBytes: number; message?: string },
  wallMs: number,
): RunResult {
  const lost = "The worker that ran it was terminated, so this run's kernel log is lost; the next run starts a fresh worker.";
  let rep: Report;
  switch (stop) {
    case "cpu": {
      const title = `kmodlab: stopped by the host: CPU limit (${detail.cpuMs} ms, the run got ${detail.cpuMs + detail.graceMs} ms)`;
      const explain = `The run did not end within its CPU limit of ${detail.cpuMs} ms plus ${detail.graceMs} ms of grace, and the sandbox could not interrupt it: usually one long built-in call that never returns to the sandbox's deadline check, such as [].indexOf.call({ length: 2 ** 53 - 1 }, x) or Array(2 ** 32 - 1).join(). ${lost}`;
      rep = { kind: "timeout", title, text: `${title}\n${explain}`, explain, limit: "cpu" };
      break;
    }
    case "heap":
    case "wasm":
    case "rss": {
      const what =
        stop === "heap"
          ? `the run's JavaScript heap of ${detail.heapMb} MiB`
          : stop === "wasm"
            ? `the sandbox's WebAssembly memory budget of ${fmt(detail.wasmBytes)}`
            : `the host's memory budget of ${fmt(detail.rssBytes)}`;
      const title = `kmodlab: stopped by the host: memory limit (${what})`;
      const explain = `The run used more memory than ${what}, outside what the sandbox's own guest memory limit counts (large ArrayBuffers, strings or kernel records), and the host ended it. ${lost}`;
      rep = { kind: "out-of-memory", title, text: `${title}\n${explain}`, explain, limit: "memory" };
      break;
    }
    case "crash": {
      const title = `kmodlab: the run's worker failed: ${detail.message ?? "it exited without an answer"}`;
      rep = { kind: "bug", title, text: title };
      break;
    }
  }
  return {
    profile: options.profile ?? "x86_64-6.1",
    initReturn: null,
    dmesg: [],
    bootLog: [],
    reports: [rep],
    proc: {},
    procAfterExit: {},
    stats: { kernelCalls: 0, simTimeNs: 0, tlbHits: 0, tlbMisses: 0, wallMs },
    kernel: {},
    module: { loaded: false, unloaded: false },
  };
}

/**
 * The limits of one run, as its host-stop report words them: the CPU limit and grace, the heap, the WebAssembly
 * budget and the host memory budget `rssBytes` (IsolateLimits' values where given, the defaults otherwise). A limit
 * the sandbox will refuse (NaN, Infinity, <= 0) gets the default here: the sandbox reports it at once.
 */
export function limitDetail(o: RunOptions, rssBytes: number, limits: IsolateLimits = {}) {
  const valid = (v: unknown, d: number) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : d);
  const cpuMs = valid(o.limits?.cpuMs, DEFAULT_CPU_MS);
  return {
    cpuMs,
    graceMs: limits.graceMs !== undefined && limits.graceMs > 0 ? limits.graceMs : Math.max(3000, Math.round(cpuMs / 2)),
    heapMb: limits.heapMb !== undefined && limits.heapMb > 0 ? limits.heapMb : DEFAULT_RUN_HEAP_MB,
    wasmBytes:
      limits.wasmBytes !== undefined && limits.wasmBytes > 0 ? limits.wasmBytes : Math.max(512 * MiB, 4 * valid(o.limits?.memoryBytes, DEFAULT_GUEST_BYTES)),
    rssBytes,
  };
}

/** The host's stop behind a RunResult, if the host ended it (for callers that word it: the grader). */
export function hostStopOf(r: RunResult): Report | undefined {
  return r.reports.find((x) => /^kmodlab: (stopped by the host|the run's worker failed)/.test(x.title));
}

// ---- the host memory watch: one poll for every runner of the process ------------------------------------------

const busy = new Set<IsolatedRunner>();
let poll: ReturnType<typeof setInterval> | undefined;
let baselineRss = 0;

function watchRss(r: IsolatedRunner, on: boolean) {
  if (on) busy.add(r);
  else busy.delete(r);
  if (busy.size && !poll) {
    poll = setInterval(() => {
      const rss = process.memoryUsage.rss();
      const over = [...busy].filter((x) => rss > x.rssBytes());
      for (const x of over) x.kill("rss", busy.size);
    }, 50);
    poll.unref();
  } else if (!busy.size && poll) {
    clearInterval(poll);
    poll = undefined;
  }
}

interface Job {
  id: number;
  source: string;
  options: RunOptions;
  resolve: (r: RunResult) => void;
  started: number;
  timer?: ReturnType<typeof setTimeout>;
  /** How many runs were in flight in the process when the host memory watch ended this one. */
  rssShared?: number;
}

/**
 * One worker, one run at a time; the worker is started on first use, kept warm between runs, and replaced only
 * after it was terminated. run() never rejects.
 */
export class IsolatedRunner {
  private worker: Worker | null = null;
  /** The worker thread's CPU time in ms (sandbox/cpuclock.ts), where it can be read: the CPU watchdog's clock. */
  private workerCpu: (() => number) | null = null;
  private ready: Promise<boolean> | null = null;
  private job: Job | null = null;
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  /** Workers started, and each one's start-up time (spawn to sandbox loaded), for stats and the bench. */
  readonly starts: number[] = [];
  readonly limits: Required<IsolateLimits>;
  /** Set after kill("rss") with the number of runs in flight then (see RunnerPool). */
  lastRssShared = 0;

  /** Runs the worker made again from the start (its timeout came short of the CPU limit: guest-watch.ts RunAgain). */
  retries = 0;
  /** Tests: the first attempt's timeout in the worker instead of guest-watch.ts's. */
  private readonly firstTimeoutMs: number | undefined;

  constructor({ firstTimeoutMs, ...limits }: IsolateLimits & { firstTimeoutMs?: number } = {}) {
    this.firstTimeoutMs = firstTimeoutMs;
    this.limits = {
      graceMs: limits.graceMs ?? -1,
      heapMb: limits.heapMb ?? DEFAULT_RUN_HEAP_MB,
      wasmBytes: limits.wasmBytes ?? -1,
      rssBytes: limits.rssBytes ?? -1,
    };
    for (const [k, v] of Object.entries(limits)) {
      if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v > 0))
        throw new RangeError(`isolate limit ${k} must be a positive number, got ${v}`);
    }
  }

  /** The host memory cap that applies to this runner. */
  rssBytes(): number {
    if (this.limits.rssBytes > 0) return this.limits.rssBytes;
    return Math.min(totalmem() * 0.85, baselineRss + 3 * GiB * Math.max(1, busy.size));
  }

  /** Start the worker, or take `spawned` (adopt): either way its events from its first on come here. */
  private start(spawned?: SpawnedRunWorker): Promise<boolean> {
    if (this.ready) return this.ready;
    if (!spawned) {
      const { url, workerData } = workerEntry();
      spawned = spawnRunWorker({ entry: url, workerData, v8Flags: workerV8Flags, heapMb: this.limits.heapMb });
    }
    const { worker: w, startedAt } = spawned;
    this.worker = w;
    this.workerCpu = null; // this worker's, once it says which thread it is ("ready")
    this.ready = new Promise<boolean>((resolve) => {
      let settled = false;
      const settle = (ok: boolean) => {
        if (!settled) {
          settled = true;
          resolve(ok);
        }
      };
      // unref'd (spawnRunWorker): a loading worker keeps no one waiting
      spawned.attach((e) => {
        if (e.type === "message") {
          const m = e.value as FromIsolate;
          if (m.type === "ready") {
            this.starts.push(performance.now() - startedAt);
            if (this.worker === w) this.workerCpu = m.tid ? taskCpuClock(m.tid) : null;
            settle(true);
          } else if (m.type === "failed" && m.id === 0) {
            this.fail("crash", m.message);
            settle(false);
          } else this.onMessage(m);
        } else if (this.worker === w) {
          if (e.type === "error") this.fail(e.value.code === "ERR_WORKER_OUT_OF_MEMORY" ? "heap" : "crash", e.value.message);
          else this.fail("crash", `the worker exited (code ${e.value})`);
          settle(false);
        }
      });
    });
    return this.ready;
  }

  /**
   * Take a worker started before this module was loaded (bin/kmodlab.cjs starts `run`'s first thing) as this
   * runner's worker, with the events it sent meanwhile. Only a worker this runner would have started itself (the
   * same entry, V8 flags and heap limit) and only before it started one: otherwise the worker is terminated and
   * the runner starts its own when it needs one. Returns whether it was taken.
   */
  adopt(spawned: SpawnedRunWorker): boolean {
    const same =
      !this.ready && spawned.heapMb === this.limits.heapMb && spawned.v8Flags.join(" ") === workerV8Flags.join(" ") && spawned.entry === workerEntry().url.href;
    if (!same) {
      void spawned.worker.terminate();
      return false;
    }
    void this.start(spawned);
    return true;
  }

  private onMessage(m: FromIsolate) {
    const j = this.job;
    if (!j || !("id" in m) || m.id !== j.id) return;
    if (m.type === "result") {
      this.finish(m.result);
      if (m.result.stoppedByHost) this.retire(); // its own CPU stop left QuickJS in the middle of a call: start afresh
    } else if (m.type === "watching") {
      // the module part has started under the worker's own CPU stop: wait for it, and then some
      clearTimeout(j.timer);
      j.timer = setTimeout(() => this.job === j && this.kill("cpu"), Math.min(2 ** 31 - 1, m.timeoutMs + marginMs(m.timeoutMs)));
    } else if (m.type === "again") {
      // the worker makes the run again from the start (its timeout came short of the CPU limit on a loaded machine):
      // the boot and the compile before its module part are watched as the first attempt's were
      clearTimeout(j.timer);
      this.retries++;
      const d = this.detail(j.options);
      this.watchCpu(j, d.cpuMs, d.graceMs, performance.now());
    } else if (m.type === "over-memory") this.kill("wasm");
    else if (m.type === "failed") {
      this.finish(hostStoppedResult(j.options, "crash", { ...this.detail(j.options), message: m.message }, performance.now() - j.started));
      // a run that failed may have been stopped in the middle of QuickJS (its own CPU stop found no run to salvage):
      // the next run starts in a fresh worker
      this.retire();
    }
  }

  private detail(o: RunOptions) {
    return limitDetail(o, this.rssBytes(), this.limits);
  }

  /** The worker died or misbehaved: drop it, and end the current run with `stop`'s report. */
  private fail(stop: HostStop, message?: string) {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) void w.terminate();
    const j = this.job;
    if (j) this.finish(hostStoppedResult(j.options, stop, { ...this.detail(j.options), message }, performance.now() - j.started));
  }

  /** Drop the worker (the next run starts a fresh one). */
  private retire() {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) void w.terminate();
  }

  /** Terminate the worker in the middle of the current run, which ends with `stop`'s report. */
  kill(stop: HostStop, inFlight = 1) {
    if (!this.job) return;
    if (stop === "rss") this.job.rssShared = inFlight;
    this.fail(stop);
  }

  private finish(r: RunResult) {
    const j = this.job;
    if (!j) return;
    clearTimeout(j.timer);
    this.job = null;
    watchRss(this, false);
    this.worker?.unref(); // an idle warm worker does not keep the process alive
    this.lastRssShared = j.rssShared ?? 0;
    j.resolve(r);
  }

  /** Run a cell in the worker. Never rejects; one run at a time (calls queue). */
  run(source: string, options: RunOptions = {}): Promise<RunResult> {
    const p = this.chain.then(() => this.runNow(source, options));
    this.chain = p;
    return p;
  }

  private async runNow(source: string, options: RunOptions): Promise<RunResult> {
    const t0 = performance.now();
    let ok: boolean;
    try {
      const starting = this.start();
      this.worker?.ref(); // keep the process alive while the worker loads
      ok = await starting;
    } catch (e) {
      this.worker = null;
      this.ready = null;
      return hostStoppedResult(options, "crash", { ...this.detail(options), message: (e as Error).message }, performance.now() - t0);
    }
    if (!ok) {
      // the worker could not start: one more try with a fresh one, then give up on this run
      this.ready = null;
      const again = this.start();
      this.worker?.ref(); // the new worker keeps the process alive while it loads, as the first did
      if (!(await again.catch(() => false)))
        return hostStoppedResult(options, "crash", { ...this.detail(options), message: "the run worker could not start" }, performance.now() - t0);
    }
    if (!baselineRss) baselineRss = process.memoryUsage.rss();
    this.worker?.ref();
    return new Promise<RunResult>((resolve) => {
      const d = this.detail(options);
      const j: Job = { id: this.nextId++, source, options, resolve, started: performance.now() };
      this.job = j;
      watchRss(this, true);
      this.watchCpu(j, d.cpuMs, d.graceMs);
      const watch = { cpuMs: d.cpuMs, graceMs: d.graceMs, ...(this.firstTimeoutMs ? { firstMs: this.firstTimeoutMs } : {}) };
      const msg: ToIsolate = { type: "run", id: j.id, source, options, wasmBudget: d.wasmBytes, watch };
      try {
        this.worker!.postMessage(msg);
      } catch (e) {
        this.fail("crash", `could not send the run to the worker: ${(e as Error).message}`);
      }
    });
  }

  /**
   * The CPU watchdog until the module part starts ("watching" then sets the last resort): ends the run when the worker
   * thread has had its CPU limit plus the grace (the boot and the compile take a small part of it). On wall time first
   * (a thread's CPU time never runs ahead of it); then, where the thread's CPU time can be read, the timer is set
   * again for the CPU time still left, so a loaded machine does not end a run early (the sandbox's own deadline
   * works the same way: Bridge.pastDeadline). WALL_CAP_FACTOR times the limit, plus the grace, of wall time ends it
   * all the same. Without the clock (not Linux): wall time, as before.
   */
  private watchCpu(j: Job, cpuMs: number, graceMs: number, from = j.started): void {
    const clock = this.workerCpu;
    const cpu0 = clock ? clock() : NaN;
    const budget = cpuMs + graceMs;
    const cap = from + cpuMs * WALL_CAP_FACTOR + graceMs;
    const arm = (ms: number) => {
      j.timer = setTimeout(check, Math.min(2 ** 31 - 1, Math.max(1, ms))); // setTimeout's largest delay
    };
    const check = () => {
      if (this.job !== j) return;
      const give = wallTimeToGive(clock ? clock() - cpu0 : NaN, budget, performance.now(), cap);
      if (give > 0) arm(give);
      else this.kill("cpu");
    };
    arm(budget);
  }

  /** Start the worker now (it loads while the caller does other work); runs use it when it is ready. */
  prestart(): void {
    if (!this.ready) void this.start();
  }

  /**
   * Have the worker boot the next run's machine as soon as it has loaded the kernel, while QuickJS still loads
   * (isolate-worker.ts). The next run uses it if it asks for the same machine; otherwise it boots its own.
   */
  bootAhead(profile: string, boot: Extract<ToIsolate, { type: "boot" }>["boot"]): void {
    this.prestart();
    try {
      this.worker?.postMessage({ type: "boot", profile, boot } satisfies ToIsolate);
    } catch {
      // the run boots its machine itself
    }
  }

  /** Is a worker alive (warm)? */
  get warm(): boolean {
    return this.worker !== null;
  }

  /** End the worker (runs after this start a new one). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) await w.terminate();
  }
}

/**
 * N runners: run() hands each run to a free one. A run the host memory watch ended while other runs were in
 * flight is run again alone (nothing else starts meanwhile), so that only a cell that crosses the limit by itself
 * is charged with it.
 */
export class RunnerPool {
  private readonly runners: IsolatedRunner[];
  private readonly free: IsolatedRunner[];
  private queue: { source: string; options: RunOptions; solo: boolean; resolve: (r: RunResult) => void }[] = [];
  private active = 0;
  private soloActive = false;

  constructor(jobs: number, limits: IsolateLimits = {}) {
    if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be a positive integer, got ${jobs}`);
    this.runners = Array.from({ length: jobs }, () => new IsolatedRunner(limits));
    this.free = [...this.runners];
  }

  get size(): number {
    return this.runners.length;
  }

  /** Workers started so far, over every runner (start-up times in ms). */
  get starts(): number[] {
    return this.runners.flatMap((r) => r.starts);
  }

  run(source: string, options: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      this.queue.push({ source, options, solo: false, resolve });
      this.pump();
    });
  }

  private pump() {
    while (this.queue.length && this.free.length && !this.soloActive) {
      const i = this.queue.findIndex((q) => !q.solo || this.active === 0);
      if (i < 0) return;
      const q = this.queue.splice(i, 1)[0]!;
      const r = this.free.pop()!;
      this.active++;
      if (q.solo) this.soloActive = true;
      void r.run(q.source, q.options).then((res) => {
        this.active--;
        if (q.solo) this.soloActive = false;
        this.free.push(r);
        if (!q.solo && r.lastRssShared > 1 && hostStopOf(res)) this.queue.unshift({ ...q, solo: true });
        else q.resolve(res);
        this.pump();
      });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.close()));
  }
}

/** What the process's shared runner does: an IsolatedRunner, or `kmodlab run`'s run on its own thread (in-thread.ts). */
export interface SharedRunner {
  run(source: string, options?: RunOptions): Promise<RunResult>;
  prestart(): void;
  bootAhead(profile: string, boot: Extract<ToIsolate, { type: "boot" }>["boot"]): void;
}

let shared: SharedRunner | undefined;

/**
 * The process's shared runner from now on (`kmodlab run`'s fast path sets an InThreadRunner, in-thread.ts, before the
 * command starts): warmIsolated, bootAheadIsolated and runIsolated without limits go to it.
 */
export function useSharedRunner(runner: SharedRunner): void {
  shared = runner;
}

/** The process's shared runner takes a worker started ahead (IsolatedRunner.adopt; bin/kmodlab.cjs). */
export function adoptRunWorker(spawned: SpawnedRunWorker): boolean {
  shared ??= new IsolatedRunner();
  if (shared instanceof IsolatedRunner) return shared.adopt(spawned);
  void spawned.worker.terminate();
  return false;
}

/** Start the process's shared runner's worker ahead of its first run (the CLI, while it parses and reads). */
export function warmIsolated(): void {
  shared ??= new IsolatedRunner();
  shared.prestart();
}

/** Boot the machine of the shared runner's next run ahead (the CLI's `run`, once its options are parsed). */
export function bootAheadIsolated(profile: string, boot: Extract<ToIsolate, { type: "boot" }>["boot"]): void {
  shared ??= new IsolatedRunner();
  shared.bootAhead(profile, boot);
}

/** Run one cell in the process's shared warm runner (the CLI's `run`, one-off callers). */
export function runIsolated(source: string, options: RunOptions = {}, limits?: IsolateLimits): Promise<RunResult> {
  if (limits) {
    const r = new IsolatedRunner(limits);
    return r.run(source, options).finally(() => r.close());
  }
  shared ??= new IsolatedRunner();
  return shared.run(source, options);
}
