// runModule(source, options) -> RunResult: insmod, deferred work and rmmod of one cell on a freshly booted kernel,
// inside a fresh QuickJS runtime and context. A run never throws: every outcome is a RunResult with reports.
//
// Steps (as the real tools do them): boot the profile; transpile the cell and check its imports against the
// profile's era; evaluate the cell's top level (MODULE_LICENSE, module_init(...) register the module's
// metadata, as the .modinfo section and the init/exit pointers do in C); load_module()'s messages and taints;
// module_init as insmod (a negative return fails the load, the kernel says nothing and insmod prints its
// error; a positive one warns and loads anyway); /proc snapshots; deferred work (k.runDeferred, when the
// kernel has it); module_exit as rmmod; the leak check (k.leakCheck); /proc again; dmesg and reports.
//
// The kernel itself is reached through KernelDeps, loaded lazily, so the machinery here can be exercised against
// a small fake kernel in tests and so a browser worker loads the kernel with the sandbox, once.

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";
import type { Kernel } from "../src/kernel/kernel.ts";
import type { BootOptions, ConfigKind, Report } from "../src/kernel/types.ts";
import type { FaultKnobs } from "../src/kernel/debug/fault_inject.ts";
import type { BootCache } from "../src/kernel/snapshot.ts";
import type { RunResult } from "./result.ts";
import { transpileCell, CELL_FILE, type ImportSpec } from "./transpile.ts";
import { Bridge, RunStopped, compilePrelude, guestKey, type BridgeGuest, type GuestErrorInfo, type Stop } from "./bindings.ts";
import { absentMessage, inEra, isTaskKill, type ApiEntry, type CallEnv, type HostCallback, type ModuleState } from "./table.ts";
import { GUEST_STACK_BYTES, MAX_NESTING, limitSentence, resolveLimits, type LimitName, type Limits } from "./limits.ts";
import { monotonicMs, threadCpuClock } from "./cpuclock.ts";
import { exceptionReport, type CallSite } from "./oops.ts";
import { insmodError, insmodPid, kernLevel, loadMessages, MODULE_NAME, suspiciousInitReturn } from "./insmod.ts";
import { parseStack, TOP_LEVEL } from "./stack.ts";
import type { ColumnMap } from "./shadow.ts";
import { CallLog, type CallLogPolicy } from "./calllog.ts";
import { readProbes, type MemoryProbe, type ProbeResult } from "./probes.ts";
import { memoryRoles } from "./memrecords.ts";
import { runUserProgram, salvageUserProgram, userPid } from "./user.ts";
import { bridgeRows } from "./rows.ts";
import { moduleParamsOutcome, paramInsmodError } from "./api/params.ts";
import { keepCell, keepCompiled, keepPrepared, releasePrepared, takePrepared } from "./restore.ts";
import { setBigintLimbs, setStringLength } from "./validate.ts";
import { defineLazy, dropLazy, keepValue } from "./lazyprops.ts";
import { KeyedSlots } from "../src/kernel/snapshot.ts";
import {
  guardGuestMemory,
  installLeanHostCalls,
  isPoisoningError,
  loadQuickJS,
  moduleGrewTooLarge,
  poisonQuickJS,
  rawStringsFor,
  rawValuesFor,
  type RawValues,
} from "./quickjs.ts";

/** A simulated event the run schedules before insmod (the lesson's "button pressed at 30 ms"). */
export interface ScheduledEvent {
  /** Simulated time after insmod starts, in ms. */
  atMs: number;
  /** Raise this interrupt line. */
  irq: number;
}

export interface RunOptions {
  profile?: string;
  mem?: number;
  cmdline?: string;
  seed?: number;
  config?: ConfigKind;
  limits?: Partial<Limits>;
  events?: ScheduledEvent[];
  /** rmmod after init (default true). */
  unload?: boolean;
  /** /proc files to snapshot after init and after exit. */
  proc?: string[];
  /** Run the kernel's own consistency checks at the end (k.checkInvariants, when present). */
  checkInvariants?: boolean;
  /**
   * The notebook's memory views in RunResult.kernel (zones, frames, allocations, vmallocAreas: kview.ts);
   * default true. `kmodlab run` without --json prints none of them and turns them off (a cold process spends
   * ~15 ms building the frame map). The layout, the call log and the rest of RunResult.kernel are always there.
   */
  views?: boolean;
  /**
   * Keep a shadow stack where stacks are read at every allocation (shadow.ts; default true). false: walk the guest's
   * stack as before, for the tests and benchmarks that compare the two (the outputs are the same).
   */
  shadowStack?: boolean;
  /**
   * Serve the cell's kernel-call sites from raw host functions (bindings.ts hostCall) where the kernel reads no stack
   * at every allocation (default true). false: the prelude's wrappers serve them, for the tests and benchmarks that
   * compare the two (the outputs are the same).
   */
  hostCalls?: boolean;
  /**
   * Fault injection (debug kernels, 6.1: fail-nth arrived in 4.13): `echo N > /proc/<insmod's pid>/fail-nth` before
   * module_init, so the Nth should_fail() call of the insmod task fails whatever the attributes' probability; the
   * run also writes FAIL_NTH_RECIPE (ignore-gfp-wait=N for failslab and fail_page_alloc, ignore-gfp-highmem=N,
   * min-order=0) so that every allocation counts. An integer >= 1. See src/kernel/debug/fault_inject.ts.
   */
  failNth?: number;
  /** Writes to /sys/kernel/debug/{failslab,fail_page_alloc}/KNOB before insmod, after failNth's recipe. */
  faultAttrs?: FaultKnobs;
  /** Read the module's buffers from simulated memory after init / before exit (sandbox/probes.ts) into
   *  RunResult.kernel.memory, for checks that judge what memory holds. */
  probes?: MemoryProbe[];
  /** `insmod cell.ko name=value ...`: values for the module's module_param declarations (sandbox/api/params.ts). */
  moduleParams?: Record<string, string>;
  /**
   * Step through a run: end it just before its (N+1)th kernel call, the module left as it was, so that the views,
   * the dmesg, /proc and the call log are those after call N (the kernel is deterministic: the same as the full
   * run's at that point). The stop is not reported; RunResult.steppedTo is N. A run that makes N calls or fewer
   * ends as it would have. An integer >= 0; the run's own kernel-call limit still applies (and is reported).
   */
  stopAfterCalls?: number;
  /**
   * How long the module stays loaded while its kernel threads live, in simulated ms (default KTHREAD_LOADED_MS,
   * 5000: `insmod; sleep 5; rmmod`). The grader's second run of a thread exercise changes it, so that a count copied
   * from an earlier run's output no longer matches. An integer from 1 to 60000; no effect on a cell without threads.
   */
  loadedMs?: number;
  /**
   * A busy machine: in each window (ms after insmod starts, for `ms` ms) another task holds the CPU (a real-time task on
   * this one CPU), so that the module's kernel threads cannot run and wake up late (src/kernel/kernel/kthread.ts). The
   * grader's busy run of a thread exercise sets it: a count worked out from the time loaded no longer matches the
   * thread's. At most 100 windows, each from 1 to 10000 ms, starting from 0 to 60000 ms.
   */
  busy?: { atMs: number; ms: number }[];
  /**
   * Another driver's vmalloc buffer of this many pages, taken after boot and before insmod and kept (it shows in
   * /proc/vmallocinfo as other_driver_init [other]): the module's vmalloc areas then lie elsewhere in the area. The
   * grader's second run of an exercise that prints addresses sets it, so that an address worked out as VMALLOC_START
   * plus an offset seen in an earlier run no longer matches. An integer from 0 to 65536 (256 MiB).
   */
  otherVmallocPages?: number;
}

/** What the run needs of the kernel: booting, /proc, the API table, inspection. */
export interface KernelDeps {
  boot(profile: string, opts: BootOptions): Kernel;
  readProc(k: Kernel, name: string): string;
  api: readonly ApiEntry[];
  /** JSON-only inspection data for RunResult.kernel (`views`: with the notebook's memory views). */
  inspect?(k: Kernel, views?: boolean): Record<string, unknown>;
  defaultProfile: string;
  /** True for the kernel's refusal to boot the machine asked for (RAM size, command line): bad usage, not a bug. */
  isBootRefusal?(e: unknown): boolean;
}

let depsPromise: Promise<KernelDeps> | undefined;
let bootCache: BootCache<Kernel, BootOptions> | undefined;

/** The process's boot cache (loadKernelDeps makes it): tests and the bench read its counters or turn it off. */
export function kernelBootCache(): BootCache<Kernel, BootOptions> | undefined {
  return bootCache;
}

/** Load the real kernel and the API table (once). */
export function loadKernelDeps(): Promise<KernelDeps> {
  depsPromise ??= (async () => {
    const [kernel, proc, api, inspect, kview, snap] = await Promise.all([
      import("../src/kernel/kernel.ts"),
      import("../src/kernel/fs/proc.ts"),
      import("./api.ts"),
      import("../src/kernel/inspect.ts"),
      import("./kview.ts"),
      import("../src/kernel/snapshot.ts"),
      import("../src/kernel/fs/all.ts"),
    ]);
    // Boot once, restore many (src/kernel/snapshot.ts): a boot key's runs from the second on get a copy of one
    // booted machine. Every caller of the deps shares it: the CLI, the grader, the fuzzer, the workers, the notebook.
    bootCache = new snap.BootCache((p: string, o: BootOptions) => kernel.boot(p, o), snap.bootKey, 4, now);
    const cache = bootCache;
    return {
      boot: (p: string, o: BootOptions) => cache.boot(p, o),
      readProc: proc.readProc,
      api: api.API,
      // the layout and the views are built when read (kview.ts lazyKernelViews): finish() keeps their getters
      inspect: (k: Kernel, views = true) =>
        Object.defineProperties(lazyLayout(k, inspect.toJson), views ? Object.getOwnPropertyDescriptors(kview.lazyKernelViews(k)) : {}) as Record<
          string,
          unknown
        >,
      defaultProfile: "x86_64-6.1",
      isBootRefusal: (e: unknown) => e instanceof kernel.KernelBootError,
    };
  })().catch((e) => {
    depsPromise = undefined;
    throw e;
  });
  return depsPromise;
}

/**
 * RunResult.kernel.layout, made when first read, as the views are (kview.ts): most callers never read it (the grader's
 * checks, the bench), and converting it costs ~0.1 ms a run. The run's kernel is its own copy, never run again, so the
 * layout read later is the layout at the run's end. Read or assigned, it becomes a plain data property.
 */
function lazyLayout(k: Kernel, toJson: (v: unknown) => unknown): Record<string, unknown> {
  const out = {};
  defineLazy(out, "layout", () => toJson(k.layout)); // its getter is shared: lazyprops.ts
  return out;
}

/** Run a cell. Never rejects. */
export async function runModule(source: string, options: RunOptions = {}, deps?: KernelDeps): Promise<RunResult> {
  const t0 = now();
  try {
    const d = deps ?? (await loadKernelDeps());
    const qjs = await loadQuickJS();
    return runModuleSync(qjs, source, options, d, t0);
  } catch (e) {
    return failedRun(options.profile ?? "?", `kmodlab: could not start the run: ${(e as Error)?.message ?? e}`, t0);
  }
}

// The CPU deadline reads the clock at every 8th host call (bindings.ts CLOCK_EVERY): cpuclock.ts's monotonicMs, not
// Node's lazy `performance` global (see there).
const now = monotonicMs;

export function failedRun(profile: string, message: string, t0: number): RunResult {
  return {
    profile,
    initReturn: null,
    dmesg: [],
    bootLog: [],
    reports: [{ kind: "bug", title: message, text: message }],
    proc: {},
    procAfterExit: {},
    stats: { kernelCalls: 0, simTimeNs: 0, tlbHits: 0, tlbMisses: 0, wallMs: now() - t0 },
    kernel: {},
  };
}

/** Levenshtein distance, for "did you mean" on misspelt imports. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

const rowsByName = new WeakMap<readonly ApiEntry[], Map<string, ApiEntry[]>>();
/** The table's rows under one module and name (made once per table). */
function rowsNamed(api: readonly ApiEntry[], module: string, name: string): ApiEntry[] {
  let m = rowsByName.get(api);
  if (!m) {
    m = new Map();
    for (const e of api) {
      const key = `${e.module}\0${e.name}`;
      const rows = m.get(key);
      if (rows) rows.push(e);
      else m.set(key, [e]);
    }
    rowsByName.set(api, m);
  }
  return m.get(`${module}\0${name}`) ?? [];
}

/** Kernel names a learner reaches for that kmodlab leaves out on purpose, with what to write instead. */
const ERR_PTR_NOTE =
  "no function here returns an ERR_PTR: kthread_run and kthread_create return null when they fail (a simplification; the kernel returns ERR_PTR(-ENOMEM)), so test the result with `if (!t)`";
const NOT_MODELLED: Record<string, string> = {
  IS_ERR: ERR_PTR_NOTE,
  IS_ERR_OR_NULL: ERR_PTR_NOTE,
  PTR_ERR: ERR_PTR_NOTE,
  PTR_ERR_OR_ZERO: ERR_PTR_NOTE,
  ERR_PTR: ERR_PTR_NOTE,
};

/** The imports of a cell checked against the table for an era: a compile error message, or undefined. */
export function checkImports(
  imports: readonly ImportSpec[],
  api: readonly ApiEntry[],
  era: Kernel["profile"]["era"],
): { message: string; line: number; column: number } | undefined {
  for (const im of imports) {
    if (im.name === "*") continue;
    const rows = rowsNamed(api, im.module, im.name);
    if (rows.length === 0) {
      const near = api
        .filter((e) => e.module === im.module && inEra(e, era))
        .map((e) => [distance(e.name, im.name), e.name] as const)
        .filter(([dd]) => dd <= 2)
        .sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
      const hint = near.length ? ` (did you mean ${near[0][1]}?)` : "";
      const why = im.module === "linux" ? NOT_MODELLED[im.name] : undefined;
      return { message: `"${im.module}" has no export named '${im.name}'${why ? `: ${why}` : hint}`, line: im.line, column: im.column };
    }
    if (!rows.some((e) => inEra(e, era))) return { message: absentMessage(rows[0], era), line: im.line, column: im.column };
  }
  return undefined;
}

/** A host stack overflow (V8 and JavaScriptCore: RangeError "Maximum call stack size exceeded"). */
function isHostStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

function limitReport(
  k: Kernel,
  limit: LimitName,
  limits: Limits,
  frames: ReturnType<typeof parseStack>,
  nesting = false,
  hostStack = false,
  task: { comm: string; pid: number } = k.current,
): Report {
  const sentence = limitSentence(limit, limits);
  if (limit === "cpu") {
    const era = k.profile.era;
    const secs = era === "2.6" ? 61 : 22;
    const prefix = era === "6.1" ? "watchdog: " : "";
    const title = `${prefix}BUG: soft lockup - CPU#0 stuck for ${secs}s! [${task.comm}:${task.pid}]`;
    k.printk(kernLevel(k, era === "2.6" ? "KERN_ERR" : "KERN_EMERG") + "%s\n", title);
    return {
      kind: "timeout",
      title,
      text: title,
      line: frames[0]?.line,
      frames: frames.map(({ fn, line, column }) => ({ fn, line, column })),
      explain: sentence,
      limit,
    };
  }
  const titles: Record<Exclude<LimitName, "cpu">, string> = {
    memory: `kmodlab: guest memory limit reached (${limits.memoryBytes} bytes)`,
    stack: `kmodlab: stack depth limit reached (${GUEST_STACK_BYTES} bytes)`,
    "kernel-calls": `kmodlab: kernel call limit reached (${limits.kernelCalls} calls)`,
    log: `kmodlab: log size limit reached (${limits.logBytes} bytes)`,
    ram: `kmodlab: RAM budget reached (${limits.ramBytes} bytes of written page frames)`,
  };
  const title =
    limit === "stack" && nesting
      ? `kmodlab: stack depth limit reached (${MAX_NESTING} nested calls between the module and the kernel)`
      : limit === "stack" && hostStack
        ? `kmodlab: stack depth limit reached (the host's stack ran out before the guest's ${GUEST_STACK_BYTES} bytes)`
        : titles[limit];
  return {
    kind: limit === "memory" ? "out-of-memory" : "limit",
    title,
    text: `${title}\n${sentence}`,
    line: frames[0]?.line,
    frames: frames.map(({ fn, line, column }) => ({ fn, line, column })),
    explain: sentence,
    limit,
  };
}

/** One run's state, shared by its stages (runModuleSync). */
interface Run {
  readonly source: string;
  readonly options: RunOptions;
  readonly deps: KernelDeps;
  readonly t0: number;
  readonly k: Kernel;
  readonly limits: Limits;
  /** RunOptions.stopAfterCalls when it stops the run early (through the kernel-call limit, one call early). */
  readonly step: number | undefined;
  readonly stepping: boolean;
  readonly faults: { failNth?: number; faultAttrs?: FaultKnobs };
  readonly faultsUsed: boolean;
  /** The dmesg mark at insmod: the run's own lines follow it. */
  readonly mark: number;
  readonly result: RunResult;
  readonly log: CallLog;
  readonly mod: ModuleState;
  readonly pid: number;
  /** The simulated clock at insmod, and at the end of rmmod (stats.moduleTimeNs). */
  readonly insmodAt: number;
  rmmodDoneAt?: number;
  readonly probed: Record<string, ProbeResult>;
  invariantsChecked: boolean;
  /** Where the module is (an internal error names it). */
  currentSite: CallSite;
  /** The cell, transpiled (set by compile). */
  tr?: TranspiledCell;
  /** The code the run evaluates when not tr.js: the shadow stack's (shadow.ts), with its column map. */
  code?: string;
  columns?: ColumnMap;
  rt?: QuickJSRuntime;
  ctx?: QuickJSContext;
  bridge?: Bridge;
  /** The module was dropped after an error that leaves QuickJS's state inconsistent: its objects are not freed. */
  poisoned: boolean;
  /** The guest memory guard refused a growth (quickjs.ts guardGuestMemory). */
  memoryRefused: boolean;
  /**
   * restore.ts's part in the run: none; "taken", the module is the run's (releasePrepared at the end); "kept", and the
   * runtime and context are a prepared one's (not freed: the next run of the key puts the memory back).
   */
  restore?: "none" | "taken" | "kept";
  /** The cell's restore.ts key (its guestKey and the code it evaluates): keepCell after its compile. */
  cellKey?: string;
  /** The cell's code compiled, put back with its copy (restore.ts keepCell): called instead of compiled; the store's. */
  cellFn?: QuickJSHandle;
}

type TranspiledCell = Extract<ReturnType<typeof transpileCell>, { ok: true }>;

/**
 * A host's watch over the part of a run where the module's code can run (from the bridge's opening, where its CPU
 * limit starts, to the RunResult): called with that part, it returns what the part returns, or what the host makes
 * of it when it stopped the thread's JavaScript (src/node/guest-watch.ts: Node's vm timeout, started there and not at
 * the boot, so that the host's limit measures the module's time as the sandbox's own does).
 */
export type GuestWatch = (guestPart: () => RunResult) => RunResult;

/** The synchronous core: QuickJS already loaded. Never throws (but what `watch` throws: a host's stop). */
export function runModuleSync(qjs: QuickJSWASMModule, source: string, options: RunOptions, deps: KernelDeps, t0 = now(), watch?: GuestWatch): RunResult {
  const outer = inFlight;
  inFlight = undefined;
  try {
    return runStages(qjs, source, options, deps, t0, watch);
  } finally {
    inFlight = outer; // not reached when a host stopped the thread's JavaScript: salvageStoppedRun finds the run
  }
}

/**
 * The run in progress on this thread (runModuleSync's), for salvageStoppedRun: set once its machine is booted. A run
 * inside another's host call saves and restores the outer one's.
 */
let inFlight: { run: Run; qjs: QuickJSWASMModule; releaseMemory: () => void } | undefined;

/**
 * The RunResult of the run a host stopped in the middle, on this thread, for its CPU limit: the same as the
 * sandbox's own CPU-limit stop (the soft lockup line in dmesg, the `timeout` report with the limit's sentence), with
 * the kernel's log, reports and views as they were when it was stopped. For the stop the sandbox cannot make itself:
 * QuickJS calls its interrupt handler (the CPU deadline) only every 10,000 loop turns or calls, so a loop whose every
 * turn is a long built-in call (`JSON.stringify` of a 20 MB string, a sort of millions of elements: ~0.1-0.3 s each)
 * runs far past the limit, and one built-in call over a huge array-like (`[].indexOf.call({ length: 2 ** 53 - 1 })`)
 * never returns to it. The host (src/node/guest-watch.ts: Node's vm timeout, on the caller's thread or in the run
 * worker) stops this thread's JavaScript, which unwinds without running any
 * `finally`, and calls this: the kernel, plain JavaScript objects, is still there. QuickJS is not (the module was left
 * in the middle of a call): it is dropped (poisonQuickJS), and nothing of it is read; the report has no cell line
 * (the guest cannot be asked where it was). A stop inside a kernel call leaves that call half done, as a limit does
 * nowhere else: the log is whole up to it. Undefined when no run was in flight.
 */
export function salvageStoppedRun(): RunResult | undefined {
  const f = inFlight;
  inFlight = undefined;
  if (!f) return undefined;
  const { run, qjs, releaseMemory } = f;
  run.poisoned = true;
  poisonQuickJS(qjs);
  const { k } = run;
  const b = run.bridge;
  run.result.stoppedByHost = "cpu";
  // a user program stopped in the middle: its outcome as a limit leaves it (exit status 1, its output so far)
  if (!run.result.user) {
    try {
      const user = salvageUserProgram(k, userPid(run.pid));
      if (user) run.result.user = user;
    } catch (e) {
      internalError(run, e);
    }
  }
  // A run a limit had already ended (its report made: the host's wall-clock timeout of the in-thread path came while
  // it finished, on a loaded machine) keeps that one report: a second soft lockup here was a duplicate.
  if (!run.result.reports.some((r) => r.limit !== undefined)) {
    try {
      b?.stopFor("cpu");
      k.report(limitReport(k, "cpu", run.limits, b?.stopFrames ?? [], false, false, b?.stopTask ?? k.current));
    } catch (e) {
      internalError(run, e);
    }
  }
  try {
    return finish(run);
  } finally {
    closeRun(run, qjs, releaseMemory);
  }
}

function runStages(qjs: QuickJSWASMModule, source: string, options: RunOptions, deps: KernelDeps, t0: number, watch?: GuestWatch): RunResult {
  const run = startRun(source, options, deps, t0);
  if (!("k" in run)) return run;
  const flight = { run, qjs, releaseMemory: () => {} };
  inFlight = flight;
  const entries = compile(run, source);
  if (!entries) return finish(run);
  // The guest memory limit counts every byte the guest's heap takes (ArrayBuffers included): quickjs.ts.
  const releaseMemory = guardGuestMemory(qjs, run.limits.memoryBytes, () => {
    run.memoryRefused = true;
    run.bridge?.stopFor("memory");
  });
  flight.releaseMemory = releaseMemory;
  const guestPart = () => moduleStages(run, qjs, source, entries, releaseMemory);
  return watch ? watch(guestPart) : guestPart();
}

/** The run from the bridge's opening on (what a host's GuestWatch watches). */
function moduleStages(run: Run, qjs: QuickJSWASMModule, source: string, entries: readonly ApiEntry[], releaseMemory: () => void): RunResult {
  const options = run.options;
  try {
    const b = openBridge(run, qjs, source, entries);
    const loaded = insmod(run, qjs, b);
    if (loaded === "ended" || (loaded && !drainDeferred(run, b))) return finish(run);
    if (loaded && options.unload !== false && !rmmod(run, b)) return finish(run);
    if (options.unload !== false && !leakCheck(run, b)) return finish(run);
    checkInvariants(run);
    snapshotProc(run, run.result.procAfterExit);
    return finish(run);
  } catch (e) {
    internalError(run, e);
    return finish(run);
  } finally {
    closeRun(run, qjs, releaseMemory);
  }
}

/** Limits, the step, the boot, user space's fault-injection writes: the run's state, or the RunResult of a run that cannot start. */
function startRun(source: string, options: RunOptions, deps: KernelDeps, t0: number): Run | RunResult {
  const profileName = options.profile ?? deps.defaultProfile;
  let limits: Limits;
  try {
    limits = resolveLimits(options.limits);
  } catch (e) {
    return failedRun(profileName, `kmodlab: ${(e as Error).message}`, t0);
  }
  const step = options.stopAfterCalls;
  if (step !== undefined && !(Number.isSafeInteger(step) && step >= 0)) {
    return failedRun(profileName, `kmodlab: stopAfterCalls must be an integer >= 0 (the kernel calls to replay), got ${String(step)}`, t0);
  }
  const loadedMs = options.loadedMs;
  if (loadedMs !== undefined && !(Number.isSafeInteger(loadedMs) && loadedMs >= 1 && loadedMs <= 60_000)) {
    return failedRun(profileName, `kmodlab: loadedMs must be an integer from 1 to 60000 (simulated ms the module stays loaded), got ${String(loadedMs)}`, t0);
  }
  const busyBad = busyWindowsError(options.busy);
  if (busyBad) return failedRun(profileName, `kmodlab: ${busyBad}`, t0);
  const held = options.otherVmallocPages;
  if (held !== undefined && !(Number.isSafeInteger(held) && held >= 0 && held <= 65536)) {
    return failedRun(
      profileName,
      `kmodlab: otherVmallocPages must be an integer from 0 to 65536 (pages of another driver's vmalloc buffer), got ${String(held)}`,
      t0,
    );
  }
  // a step stops the run through the kernel-call limit, one call early; its stop is then not reported (finish)
  const stepping = step !== undefined && step < limits.kernelCalls;
  if (stepping) limits = { ...limits, kernelCalls: step };
  const booted = bootForRun(profileName, options, deps, t0);
  if (!("k" in booted)) return booted;
  const { k, faults, faultsUsed } = booted;
  const bootLog = k.log.dmesg();
  const mark = k.log.mark();
  const result: RunResult = {
    profile: k.profile.name,
    initReturn: null,
    dmesg: [],
    bootLog,
    bootLogLevels: logLevels(k, 0, mark),
    reports: k.reports,
    proc: {},
    procAfterExit: {},
    stats: { kernelCalls: 0, simTimeNs: 0, tlbHits: 0, tlbMisses: 0, wallMs: 0 },
    kernel: {},
    module: { loaded: false, unloaded: false },
  };
  return {
    source,
    options,
    deps,
    t0,
    k,
    limits,
    step,
    stepping,
    faults,
    faultsUsed,
    mark,
    result,
    log: new CallLog(k, callLogPolicy(deps.api)),
    mod: { name: MODULE_NAME, ...(options.moduleParams ? { params: options.moduleParams } : {}) },
    pid: insmodPid(k),
    insmodAt: k.clock.now(),
    probed: {},
    invariantsChecked: false,
    currentSite: "load",
    poisoned: false,
    memoryRefused: false,
  };
}

/** The boot, then user space's fault-injection writes before insmod: the kernel, or the RunResult of a run that cannot start. */
function bootForRun(
  profileName: string,
  options: RunOptions,
  deps: KernelDeps,
  t0: number,
): { k: Kernel; faults: Run["faults"]; faultsUsed: boolean } | RunResult {
  let k: Kernel;
  try {
    k = deps.boot(profileName, { mem: options.mem, cmdline: options.cmdline, seed: options.seed, config: options.config });
  } catch (e) {
    const failed = failedRun(profileName, `kmodlab: cannot boot ${profileName}: ${(e as Error).message}`, t0);
    if (deps.isBootRefusal?.(e)) failed.bootRefused = (e as Error).message;
    // a boot the kernel stopped itself (out of memory): its log up to the panic (KernelBootError.log)
    const log = (e as { log?: unknown }).log;
    if (Array.isArray(log)) failed.bootLog = log as string[];
    return failed;
  }
  // User space before insmod: the fault-injection debugfs writes and the insmod task's fail-nth.
  const faults = { failNth: options.failNth, faultAttrs: options.faultAttrs };
  const faultsUsed = k.fault ? k.fault.usedBy(faults) : faults.failNth !== undefined || faults.faultAttrs !== undefined;
  if (faultsUsed) {
    try {
      if (!k.fault) throw new Error("this kernel has no fault injection");
      k.fault.configureRun(insmodPid(k), faults);
    } catch (e) {
      return failedRun(profileName, `kmodlab: fault injection: ${(e as Error).message}`, t0);
    }
  }
  // Another driver's buffer, before insmod (RunOptions.otherVmallocPages): a fake kernel has no vmalloc.
  const held = options.otherVmallocPages;
  const vm = (k as { vmalloc?: Kernel["vmalloc"] }).vmalloc;
  if (held && vm) {
    // in process context: the modprobe that loaded the other driver, just before this run's insmod
    const was = k.current;
    k.current = { pid: insmodPid(k) - 1, comm: "modprobe" };
    const addr = vm.vmalloc(held * 4096, { caller: "other_driver_init+0x1c/0x40 [other]" });
    k.current = was;
    const area = addr ? vm.find_vm_area(addr) : null;
    if (!area) return failedRun(profileName, `kmodlab: another driver's vmalloc buffer of ${held} pages did not fit in the vmalloc area`, t0);
    area.owner = "boot"; // not the module's: no leak of its, nothing of its in the module's records
  }
  return { k, faults, faultsUsed };
}

/** One level per dmesg line (a line is a log record), for colouring. */
function logLevels(k: Kernel, from: number, to?: number): number[] {
  return k.log.levels(from, to);
}

/** Compile: syntax, imports, era. The table rows the bridge builds, or undefined after a compile-error report. */
function compile(run: Run, source: string): readonly ApiEntry[] | undefined {
  const { k, deps } = run;
  const era = k.profile.era;
  const tr = transpileCell(source);
  if (!tr.ok) {
    k.report({
      kind: "compile-error",
      title: `${CELL_FILE}:${tr.error.line}:${tr.error.column}: ${tr.error.name ?? "SyntaxError"}: ${tr.error.message}`,
      text: tr.error.message,
      line: tr.error.line,
      frames: [{ fn: "(compile)", line: tr.error.line, column: tr.error.column }],
    });
    return undefined;
  }
  // The bridge builds what the cell imports and the classes of its handles (rows.ts): most cells name a dozen of the
  // table's few hundred exports, and each costs guest code. A namespace import, a re-export or a use of require()
  // sees the whole table.
  const named = !tr.imports.some((im) => im.name === "*") && !/\brequire\b/.test(source) && !/\bexport\b[^;]*\bfrom\b/.test(source);
  const bad = checkImports(tr.imports, deps.api, era);
  if (bad) {
    k.report({
      kind: "compile-error",
      title: `${CELL_FILE}:${bad.line}:${bad.column}: ImportError: ${bad.message}`,
      text: bad.message,
      line: bad.line,
      frames: [{ fn: "(import)", line: bad.line, column: bad.column }],
    });
    return undefined;
  }
  run.tr = tr;
  return bridgeRows(deps.api, era, named ? new Set(tr.imports.map((im) => `${im.module}:${im.name}`)) : undefined);
}

/** Why RunOptions.busy cannot be used (a clear error naming the limit), or undefined. */
function busyWindowsError(busy: RunOptions["busy"]): string | undefined {
  if (busy === undefined) return undefined;
  if (!Array.isArray(busy) || busy.length > 100)
    return `busy must be a list of at most 100 windows { atMs, ms }, got ${Array.isArray(busy) ? `${busy.length} windows` : typeof busy}`;
  for (const w of busy) {
    const atMs = (w as { atMs?: unknown } | null)?.atMs;
    const ms = (w as { ms?: unknown } | null)?.ms;
    if (
      !(Number.isSafeInteger(atMs) && (atMs as number) >= 0 && (atMs as number) <= 60_000) ||
      !(Number.isSafeInteger(ms) && (ms as number) >= 1 && (ms as number) <= 10_000)
    )
      return `busy: each window is { atMs: an integer from 0 to 60000, ms: an integer from 1 to 10000 } (simulated ms after insmod), got ${JSON.stringify(w)}`;
  }
  return undefined;
}

/** A fresh QuickJS runtime and context, the bridge, and the kernel's hooks into it; the cell's symbols; the events. */
function openBridge(run: Run, qjs: QuickJSWASMModule, source: string, entries: readonly ApiEntry[]): Bridge {
  const { k, limits, log, options } = run;
  const tr = run.tr!;
  const env: CallEnv = { k, mod: run.mod };
  // KASAN's and kmemleak's kernels read the guest's stack at every allocation: the prelude's wrappers take it (and
  // the shadow stack's depth) in the guest. Elsewhere the host serves the cell's kernel-call sites itself (hostCall).
  const stackHungry = k.kasan !== undefined || !!k.kmemleak?.enabled;
  const wantRaw = !(stackHungry || options.hostCalls === false);
  const siteNames = new Set(tr.siteNames);
  // the shadow stack (shadow.ts) where a stack is read at every allocation: KASAN's and kmemleak's kernels
  const shadow = tr.shadow && options.shadowStack !== false && stackHungry ? tr.shadow : undefined;
  // The runtime, context and bridge of this key as an earlier run left them ready (restore.ts), or built now; or
  // those with the cell's code compiled in them too.
  const key = guestKey(entries, env, tr.sites, siteNames, wantRaw);
  run.cellKey = `${key}\0${shadow?.js ?? tr.js}`;
  const got = takePrepared<BridgeGuest>(qjs, key, run.cellKey);
  run.restore = got === undefined ? "none" : "taken";
  const prepared = got?.kind === "prepared" ? got : undefined;
  run.cellFn = prepared?.cell;
  const stage = got?.kind === "compiled" ? got : undefined;
  const rt = (run.rt = prepared?.rt ?? stage?.rt ?? qjs.newRuntime());
  rt.setMaxStackSize(GUEST_STACK_BYTES);
  rt.setMemoryLimit(limits.memoryBytes);
  const ctx = (run.ctx = prepared?.ctx ?? stage?.ctx ?? rt.newContext());
  let compiled = stage?.compiled;
  if (!prepared && !stage) {
    installLeanHostCalls(ctx);
    if (got?.kind === "build") {
      // the prelude compiled in the new runtime, kept: every key's first run starts from there
      compiled = compilePrelude(ctx);
      if (keepCompiled(qjs, rt, ctx, compiled)) run.restore = "kept";
      else {
        compiled.dispose();
        compiled = undefined;
      }
    }
  }
  // from here the runtime is the store's (a copy holds it): never freed by the run
  if (prepared || stage) run.restore = "kept";
  // checked (once per module) before the bridge sets the interrupt handler, as rawValuesFor is for the raw calls
  const strings = rawStringsFor(qjs, ctx);
  const b = (run.bridge = new Bridge(
    ctx,
    rt,
    env,
    entries,
    limits,
    {
      now,
      cpuNow: threadCpuClock() ?? undefined,
      onCallbackError: (symbol, err) => void exceptionReport(k, symbol || "a module callback", "callback", err, tr.scopes, run.columns),
      log,
      onEnter: (symbol) => (symbol === null ? log.callers.pop() : log.callers.push(symbol)),
    },
    tr.sites,
    siteNames,
    wantRaw && !prepared ? rawValuesFor(qjs, ctx) : undefined,
    prepared?.guest,
    compiled,
  ));
  if (!prepared && run.restore === "kept") keepPrepared(qjs, key, { rt, ctx, guest: b.guest });
  // guest bigints are measured before the host reads one (validate.ts guestBigInt): a wide one is never converted;
  // and strings before one is copied (validate.ts readString): a long one is refused or described, never read
  setValueReaders(ctx, rawValuesFor(qjs, ctx), strings);
  setHook(log, "lineOf", () => b.innermostFrame()?.line);
  b.cellScopes = tr.scopes;
  if (shadow) {
    run.code = shadow.js;
    b.cellColumns = run.columns = shadow.columns;
  }
  setHook(k, "captureModuleStack", () => b.guestFrames().slice());
  setHook(k, "moduleEntry", () => log.callers[log.callers.length - 1] || undefined);
  setHook(k, "innermostModuleFrame", () => b.innermostFrame());
  setHook(k, "moduleCallNumber", () => b.calls);
  setHook(k, "watchdog", () => {
    if (b.stop === null && b.pastDeadline()) b.stopFor("cpu");
    if (b.stop?.kind === "limit") throw new RunStopped(b.stop);
  });
  // The RAM budget: frames the run writes, past those the boot wrote (PhysMem.frameBudget). A fake kernel
  // (test/sandbox/fake-kernel.ts) has no physmem; its optional members below are for it.
  const physmem = k.physmem as Kernel["physmem"] | undefined;
  if (physmem) {
    physmem.frameBudget = physmem.writtenFrames + Math.ceil(limits.ramBytes / 4096);
    setHook(physmem, "onOverBudget", () => b.stopFor("ram"));
  }
  k.current = { pid: run.pid, comm: "insmod" };
  addCellSymbols(k, source, tr);
  if (options.busy?.length) {
    const now = k.clock.now();
    k.cpuBusy = options.busy.map((w) => ({ fromNs: now + w.atMs * 1e6, toNs: now + (w.atMs + w.ms) * 1e6 }));
  }
  for (const ev of options.events ?? []) {
    if (!k.scheduleIrq) {
      k.report({ kind: "bug", title: "kmodlab: cannot schedule the run's events: this kernel does not simulate interrupts yet", text: JSON.stringify(ev) });
      break;
    }
    k.scheduleIrq(k.clock.now() + ev.atMs * 1e6, ev.irq);
  }
  return b;
}

/**
 * A run's hook on its kernel, call log or module state (k.watchdog, log.lineOf...), set with Reflect.set (the same
 * property an assignment makes, through the generic store, not the assignment's inline cache), not `o.f = fn`. In Node 20's V8
 * a new closure assigned to a property (`o.f = () => ...`, through the inline cache; jitless too) stayed alive through
 * young-generation GCs with the scope it closes over, the object it was stored on dead or not: finish()'s
 * `k.watchdog = () => {}` shares finish's scope, which holds the call log and so the kernel, and alone made each
 * finished run's kernel survive minor GCs and be promoted (8 trivial runs, their results dropped, left 2.2 MB in the
 * young generation after a minor GC instead of 0.03 MB; test/sandbox/run-gc.test.ts). Why V8 keeps it was not pinned
 * down; measured in plain Node (8 closures over 100 KB each: 0.97 MB kept, against 0.13 MB), the same closure stored
 * with defineProperty, Reflect.set or in an object literal, a bound function, or a function made once is not kept.
 * Not Object.defineProperty either: redefining the kernel's hooks that way (a data property each, several times a
 * run) cost a one-run `kmodlab run examples/memdemo.ts` ~25 ms more CPU (239 -> 265 ms, alternating whole processes
 * on an idle machine; Reflect.set: 237; measured, the cause in V8 not pinned down).
 * The resets below are functions made once.
 */
function setHook<O extends object, K extends keyof O>(o: O, key: K, fn: O[K]): void {
  Reflect.set(o, key, fn);
}
const noModuleFrames = (): ReturnType<Kernel["captureModuleStack"]> => [];
const noModuleEntry = (): string | undefined => undefined;
const noModuleFrame = (): ReturnType<Kernel["innermostModuleFrame"]> => undefined;
const noModuleCall = (): number => 0;
const noWatchdog = (): void => {};

/** The cell's functions as module symbols, sized by their lines (call traces' name+off/size [cell]). */
function addCellSymbols(k: Kernel, source: string, tr: TranspiledCell): void {
  for (const f of tr.functions) {
    const lines = source.slice(f.start, f.start + f.size).split("\n").length;
    k.kallsyms.addModuleSymbol(f.name, MODULE_NAME, Math.max(0x40, Math.ceil((0x20 * (lines + 1)) / 16) * 16), f.line);
  }
  // nested and anonymous functions (stack.ts names them): sized and line-anchored like the top-level ones (the
  // first of two same-named nested functions keeps the name's size)
  for (const sc of tr.scopes) {
    k.kallsyms.addModuleSymbol(sc.name, MODULE_NAME, Math.max(0x40, Math.ceil((0x20 * (sc.endLine - sc.line + 2)) / 16) * 16), sc.line);
  }
  const cellLines = tr.lineStarts.length;
  k.kallsyms.addModuleSymbol(TOP_LEVEL, MODULE_NAME, Math.max(0x40, Math.ceil((0x20 * (cellLines + 1)) / 16) * 16), 1);
}

/**
 * The report of a limit stop the bridge made: at the frames and task it kept when it stopped, else at `frames` (the
 * guest error's stack, read only then) and the current task.
 */
function bridgeLimitReport(run: Run, b: Bridge, stop: Extract<Stop, { kind: "limit" }>, frames: () => ReturnType<typeof parseStack> = () => []): Report {
  return limitReport(run.k, stop.limit, run.limits, b.stopFrames ?? frames(), stop.nesting, stop.hostStack, b.stopTask ?? run.k.current);
}

/** Handle a guest failure at a call site: stop (limit), kill, or exception. Returns true if the run must end. */
function onFailure(run: Run, b: Bridge, where: string, site: CallSite, err: GuestErrorInfo, stop: Stop | null): boolean {
  const { k } = run;
  if (stop?.kind === "limit") {
    k.report(bridgeLimitReport(run, b, stop, () => parseStack(err.stack, run.tr!.scopes, run.columns)));
    return true;
  }
  if (stop?.kind === "kill") {
    b.stop = null; // the kernel already reported its Oops; the task is gone
    return false;
  }
  exceptionReport(k, where, site, err, run.tr!.scopes, run.columns);
  return false;
}

/** The module's top level (static data, MODULE_LICENSE, module_init...) as load_module() runs it: true when it ran. */
function evaluateTopLevel(run: Run, qjs: QuickJSWASMModule, b: Bridge): boolean {
  const { k } = run;
  const ctx = run.ctx!;
  // The cell's code compiled: put back with its copy (restore.ts), or compiled now (the script makes the wrapper
  // function and runs none of the cell's code), then kept at its second compile on a runtime the store holds, before
  // anything of the cell has run.
  let wrapper = run.cellFn;
  let stored = wrapper !== undefined;
  if (wrapper === undefined) {
    const evalRes = ctx.evalCode(run.code ?? run.tr!.js, CELL_FILE, { type: "global", strict: true });
    if (evalRes.error) {
      const err = b.readError(evalRes.error);
      evalRes.error.dispose();
      onFailure(run, b, "module load", "load", err, b.stop);
      return false;
    }
    wrapper = evalRes.value;
    if (run.restore === "kept" && run.cellKey !== undefined) stored = keepCell(qjs, run.cellKey, { rt: run.rt!, ctx, guest: b.guest }, wrapper);
  }
  const exportsObj = ctx.newObject();
  // load_module(): the image (the .ko copy, the core and init layouts) is in place before any of its code runs. The
  // kernel's own work, not the module's: the CPU deadline does not stop it. A deadline passed before this (a loaded
  // machine: the bridge and the cell's compile took the module's time) stops the module's first instruction instead,
  // reported as the limit; the watchdog thrown out of here was an "internal error during load" (fuzz seed 12, a
  // program that loops forever, at load 20; seeds 74, 208, 571 and 1454 with a 100 ms deadline).
  const watchdog = k.watchdog;
  setHook(k, "watchdog", noWatchdog);
  try {
    k.modules?.loadImage(run.source.length);
  } finally {
    setHook(k, "watchdog", watchdog);
  }
  let failed: { err: GuestErrorInfo; stop: Stop | null } | undefined;
  try {
    b.primeShadow();
    const r = ctx.callFunction(wrapper, ctx.undefined, b.require, exportsObj);
    if (r.error) {
      const err = b.readError(r.error);
      r.error.dispose();
      if (!b.stop) {
        if (err.name === "InternalError" && err.message === "out of memory") b.stopFor("memory");
        else if (err.name === "InternalError" && err.message === "stack overflow") b.stopFor("stack");
      }
      failed = { err, stop: b.stop };
    } else r.value.dispose();
  } finally {
    if (!stored) wrapper.dispose();
    exportsObj.dispose();
  }
  if (!failed) return true;
  k.modules?.initDone(false);
  onFailure(run, b, "the cell's top-level code", "load", failed.err, failed.stop);
  return false;
}

/**
 * insmod: the top level, load_module()'s messages and taints, the module's parameters, module_init, then the
 * module live (or back to user space), the user program, /proc and the probes. Whether the module is loaded, or
 * "ended" when the run ends here (a stop, a top level that failed).
 */
function insmod(run: Run, qjs: QuickJSWASMModule, b: Bridge): boolean | "ended" {
  const { k, mod, result, log } = run;
  if (!evaluateTopLevel(run, qjs, b)) return "ended";
  loadMessages(k, mod);
  k.modules?.load(MODULE_NAME);
  let loaded = true;
  if (run.options.probes?.some((p) => p.at === "first-read")) armFirstRead(run);
  const paramErr = moduleParamsOutcome(k, mod); // parse_args() in load_module(): before init
  if (paramErr) {
    loaded = false;
    result.module!.insmodError = paramInsmodError(paramErr);
  } else if (mod.init) {
    run.currentSite = "init";
    log.phase = "init";
    const r = b.invokeCallback(mod.init, []);
    if (!r.ok) {
      loaded = false;
      if (onFailure(run, b, mod.init.symbol || "module_init", "init", r.error, r.stop)) return "ended";
    } else loaded = initReturned(run, mod.init, r.value);
  } else {
    result.initReturn = 0;
  }
  result.module!.loaded = loaded;
  k.modules?.initDone(loaded);
  if (loaded) k.modules?.live();
  else k.modules?.returnToUser();
  if (loaded && mod.userMain) {
    // A limit that stops the program is reported as the program's (current is a.out), and ends the run.
    result.user = runUser(k, b, mod.userMain, run.pid, log, (stop, err) =>
      k.report(limitReport(k, stop.limit, run.limits, parseStack(err.stack, run.tr!.scopes, run.columns), stop.nesting, stop.hostStack)),
    );
    if (b.stop?.kind === "limit") return "ended";
  }
  if (loaded) snapshotProc(run, result.proc);
  if (loaded) probe(run, "loaded");
  return loaded;
}

/** What module_init returned, as do_init_module() and insmod take it: whether the module is loaded. */
function initReturned(run: Run, init: HostCallback, value: unknown): boolean {
  const { k, mod, result } = run;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    const got =
      value === undefined
        ? "undefined"
        : typeof value === "object"
          ? ((value as { invalid?: string }).invalid ?? "an object").replace(/^(string|function|symbol)$/, "a $1")
          : typeof value;
    const err: GuestErrorInfo = {
      name: "TypeError",
      message: `module_init: ${init.symbol || "the init function"} returned ${got}; an init function returns 0, or a negative errno such as -ENOMEM`,
      stack: "",
      nonError: false,
    };
    exceptionReport(k, init.symbol || "module_init", "init", err, run.tr!.scopes, run.columns);
    return false;
  }
  result.initReturn = value;
  if (value < 0) {
    result.module!.insmodError = insmodError(-value);
    return false;
  }
  if (value > 0) suspiciousInitReturn(k, mod, value);
  return true;
}

/** Deferred work (timers, tasklets, work, interrupts) while the module is loaded. False when a limit ended the run. */
function drainDeferred(run: Run, b: Bridge): boolean {
  const { k } = run;
  if (!k.runDeferred) return true; // a fake kernel has none
  run.currentSite = "callback";
  run.log.phase = "deferred";
  try {
    const loadedMs = run.options.loadedMs;
    k.runDeferred(loadedMs !== undefined && k.kthreads?.alive().length ? { simTimeMs: loadedMs } : undefined);
  } catch (e) {
    if (!(e instanceof Error && e.message === "run stopped")) throw e;
  }
  if (b.stop?.kind === "limit") {
    k.report(bridgeLimitReport(run, b, b.stop));
    return false;
  }
  return true;
}

/** rmmod: module_exit, then the module's symbols go. False when the run ends here (a limit stopped module_exit). */
function rmmod(run: Run, b: Bridge): boolean {
  const { k, mod, result, log } = run;
  k.current = { pid: run.pid + (result.user ? 2 : 1), comm: "rmmod" };
  run.currentSite = "exit";
  k.modules?.unloading();
  probe(run, "unloading");
  log.phase = "exit";
  if (mod.exit) {
    const r = b.invokeCallback(mod.exit, []);
    if (!r.ok && onFailure(run, b, mod.exit.symbol || "module_exit", "exit", r.error, r.stop)) return false;
  }
  k.kallsyms.removeModule(MODULE_NAME);
  result.module!.unloaded = true;
  run.rmmodDoneAt = k.clock.now();
  return true;
}

/**
 * After rmmod: the kernel's leak, lock and DMA-API checks; a thread module_exit did not stop runs there again
 * (kthread.ts runOrphans, which asks k.watchdog). False when a limit ended the run here.
 */
function leakCheck(run: Run, b: Bridge): boolean {
  const { k } = run;
  try {
    k.leakCheck?.();
  } catch (e) {
    if (!(e instanceof RunStopped)) throw e;
  }
  if (b.stop?.kind === "limit") {
    k.report(bridgeLimitReport(run, b, b.stop));
    return false;
  }
  return true;
}

/** An exception out of the run's own machinery: a limit the host's stack met, a kernel BUG around the module, or a kmodlab bug. */
function internalError(run: Run, e: unknown): void {
  const { k } = run;
  if (isPoisoningError(e)) {
    poisonQuickJS();
    run.poisoned = true;
  }
  if (isHostStackOverflow(e)) {
    // The host's own stack ran out inside the guest's recursion before QuickJS's limit (a browser worker's stack
    // is smaller than Node's): the same limit for the learner; the guest cannot be asked where it was any more.
    k.report(limitReport(k, "stack", run.limits, run.bridge?.stopFrames ?? [], false, true));
  } else if (isTaskKill(e)) {
    // A kernel BUG or Oops in the kernel's own work around the module (do_init_module's or free_module()'s vfree
    // of the module image while the module left bottom halves disabled: 2.6/3.4's BUG_ON(in_interrupt())): the
    // kernel has printed and reported it, and it killed insmod or rmmod. Not a kmodlab error.
  } else {
    k.report({
      kind: "bug",
      title: `kmodlab: internal error during ${run.currentSite}: ${(e as Error)?.message ?? e}`,
      text: String((e as Error)?.stack ?? e),
    });
  }
}

/** The kernel's own consistency checks (--check-invariants), once per run. */
function checkInvariants(run: Run): void {
  if (run.options.checkInvariants && !run.invariantsChecked) {
    run.invariantsChecked = true;
    run.k.checkInvariants?.();
  }
}

/** RunOptions.proc: the /proc files now. */
function snapshotProc(run: Run, into: Record<string, string>): void {
  for (const name of run.options.proc ?? []) {
    try {
      into[name] = run.deps.readProc(run.k, name);
    } catch (e) {
      into[name] = `(${(e as Error).message})`;
    }
  }
}

/** The most separate ranges armFirstRead keeps (each load scans them): a module's first 4096 stores (big-buffer's 1024 page starts). */
const FIRST_READ_RANGES = 4096;

/**
 * The "first-read" probes (sandbox/probes.ts): the ranges the module stores to are kept (adjacent ones merged, the
 * first FIRST_READ_RANGES) until it loads a byte of one of them; just before that load the probes act, at the first
 * such byte, and both hooks go.
 */
function armFirstRead(run: Run): void {
  const { mod } = run;
  const written: [bigint, bigint][] = []; // [start, end) ranges, in the order stored
  setHook(mod, "wrote", (addr: bigint, len: number) => {
    if (!(len > 0)) return;
    const end = addr + BigInt(len);
    const last = written[written.length - 1];
    if (last && addr <= last[1] && end >= last[0]) {
      if (addr < last[0]) last[0] = addr;
      if (end > last[1]) last[1] = end;
    } else if (written.length < FIRST_READ_RANGES) written.push([addr, end]);
  });
  setHook(mod, "beforeRead", (addr: bigint, len: number) => {
    const end = addr + BigInt(Math.max(1, len));
    let first: bigint | undefined;
    for (const [a, b] of written) if (a < end && b > addr && (first === undefined || (a > addr ? a : addr) < first)) first = a > addr ? a : addr;
    if (first === undefined) return;
    mod.wrote = mod.beforeRead = undefined;
    probe(run, "first-read", first, written);
  });
}

/** RunOptions.probes at one point of the run (sandbox/probes.ts); "first-read" with the address read. */
function probe(run: Run, at: MemoryProbe["at"], readAt?: bigint, stored?: readonly (readonly [bigint, bigint])[]): void {
  const { options } = run;
  if (options.probes?.length) Object.assign(run.probed, readProbes(run.k, run.log.entries, memoryRoles(run.deps.api), options.probes, at, readAt, stored));
}

/** The RunResult: dmesg, the step's pause, the invariants, the stats, RunResult.kernel. */
function finish(run: Run): RunResult {
  const { k, result, options, log } = run;
  setHook(k, "watchdog", noWatchdog); // the run is over: nothing below may be stopped half-way
  if (run.stepping && run.bridge?.stop?.kind === "limit" && run.bridge.stop.limit === "kernel-calls") {
    // the step's own stop: the run paused after call N, nothing went wrong
    const i = k.reports.findIndex((r) => (r as { limit?: string }).limit === "kernel-calls");
    if (i >= 0) k.reports.splice(i, 1);
    result.steppedTo = run.step;
    snapshotProc(run, result.proc); // /proc (buddyinfo...) as it was after call N
  }
  // A run a limit stopped (or a compile error ended) is checked too: a stop inside a kernel call must leave the
  // simulated kernel as consistent as a run that finished.
  try {
    checkInvariants(run);
  } catch (e) {
    k.report({ kind: "bug", title: `kmodlab: invariant check failed: ${(e as Error).message}`, text: String((e as Error).stack ?? e) });
  }
  result.dmesg = k.log.dmesg(run.mark);
  result.dmesgLevels = logLevels(k, run.mark);
  const overwritten = k.log.overwrittenSince(run.mark);
  if (overwritten) result.dmesgOverwritten = overwritten;
  result.stats.simTimeNs = k.clock.now();
  result.stats.moduleTimeNs = (run.rmmodDoneAt ?? k.clock.now()) - run.insmodAt;
  result.stats.tlbHits = k.mem?.tlb?.hits ?? 0;
  result.stats.tlbMisses = k.mem?.tlb?.misses ?? 0;
  if (run.faultsUsed) result.faultInjection = k.fault.summary(insmodPid(k), run.faults);
  try {
    // the parts the deps' inspection builds when read keep their getters (kview.ts lazyKernelViews); a key given
    // again replaces the value and keeps its place, as a spread would
    const inspected = run.deps.inspect?.(k, options.views !== false) ?? {};
    const kernel: Record<string, unknown> = Object.defineProperties({}, Object.getOwnPropertyDescriptors(inspected));
    const data = (key: string, value: unknown) => keepValue(kernel, key, value);
    for (const [key, value] of Object.entries(k.inspect?.() ?? {})) data(key, value);
    // the call log's CallRecords are made when first read (calllog.ts): a run whose calls nobody reads makes none
    defineLazy(kernel, "calls", () => log.entries);
    runLogs.set(result, log);
    if (log.droppedTotal) data("callsDropped", log.dropped);
    if (log.folded) data("callsFolded", log.folded); // calls counted in an earlier entry's `repeats` (calllog.ts)
    if (options.probes?.length) data("memory", run.probed);
    result.kernel = kernel;
  } catch (e) {
    k.report({ kind: "bug", title: `kmodlab: inspection failed: ${(e as Error).message}`, text: String((e as Error).stack ?? e) });
  }
  result.stats.wallMs = now() - run.t0;
  return result;
}

/**
 * validate.ts's readers of a guest bigint's width and a string's length, for this context (none: undefined). Made
 * here, not in openBridge: a closure made there would hold openBridge's whole scope (the run's kernel, log and
 * bridge) in validate.ts's map until the context's next run, and a young-generation GC then copies and promotes a
 * finished run's objects as if they were live.
 */
function setValueReaders(ctx: QuickJSContext, values: RawValues | undefined, strings: RawValues | undefined): void {
  setBigintLimbs(
    ctx,
    values &&
      ((h) => {
        values.sync();
        return values.bigintLimbs(h.value as unknown as number);
      }),
  );
  setStringLength(
    ctx,
    strings &&
      ((h) => {
        strings.sync();
        return strings.stringLength(h.value as unknown as number);
      }),
  );
}

/**
 * The call log of each RunResult made in this thread (releaseCallLog). On the result itself (KeyedSlots, a hidden
 * symbol property), not in a WeakMap: V8's scavenger kept this module-level WeakMap's values alive, each log and the
 * kernel it points to, whatever became of their results; that entry alone kept every finished run's kernel through
 * minor GCs (8 runs: 2.2 MB left in the young generation instead of 0.03 MB).
 */
const runLogs = new KeyedSlots<RunResult, CallLog>();

/**
 * The caller is done with the run's kernel calls (read them, or never will): the call log's columns go back to its
 * pool for the next runs of this thread (sandbox/calllog.ts: a long log's fresh memory costs a page fault per 4 KiB).
 * `result.kernel.calls` stays as it is when it was read; otherwise it is removed (not made). For processes that run
 * many cells (the bench, the fuzzer); a result from another thread (the run worker's) has nothing here to release.
 */
export function releaseCallLog(result: RunResult): void {
  const log = runLogs.get(result);
  if (log === undefined) return;
  runLogs.delete(result);
  const kernel = result.kernel as Record<string, unknown> | undefined;
  if (kernel && Object.getOwnPropertyDescriptor(kernel, "calls")?.get) dropLazy(kernel, "calls");
  log.release();
}

/** The kernel's hooks back to their defaults, the runtime and context freed (unless poisoned), the memory guard released. */
function closeRun(run: Run, qjs: QuickJSWASMModule, releaseMemory: () => void): void {
  const { k, result, bridge } = run;
  // a step's refused call (N+1) is not one it made
  result.stats.kernelCalls = result.steppedTo ?? bridge?.calls ?? 0;
  setHook(k, "captureModuleStack", noModuleFrames);
  setHook(k, "moduleEntry", noModuleEntry);
  setHook(k, "innermostModuleFrame", noModuleFrame);
  setHook(k, "moduleCallNumber", noModuleCall);
  setHook(k, "watchdog", noWatchdog);
  const physmem = k.physmem as Kernel["physmem"] | undefined;
  if (physmem) {
    physmem.frameBudget = Infinity;
    physmem.onOverBudget = undefined;
  }
  // After a host stack overflow or a WebAssembly trap inside the guest, QuickJS's state is half unwound: freeing
  // the runtime would trip its own assertion (JS_FreeRuntime: list_empty(&rt->gc_obj_list)) and print
  // "Aborted(...)". The module is dropped (poisonQuickJS) and its memory goes with it, so nothing is freed.
  // A refused growth may have failed a malloc inside quickjs-emscripten's own glue too: start afresh.
  if (run.memoryRefused || run.poisoned) poisonQuickJS(qjs);
  if (run.poisoned) {
    // nothing freed: the module is dropped
  } else if (run.restore === "kept") {
    // a prepared runtime: nothing freed, its memory is put back before its next run (restore.ts), or the module is
    // dropped after a refused growth
    bridge?.release();
  } else {
    try {
      bridge?.dispose();
      run.ctx?.dispose();
      run.rt?.dispose();
    } catch {
      poisonQuickJS(qjs);
    }
  }
  if (run.restore === "taken" || run.restore === "kept")
    releasePrepared(qjs, run.restore === "kept" && run.rt && run.ctx ? { rt: run.rt, ctx: run.ctx } : undefined);
  releaseMemory();
  if (!run.memoryRefused) recycleIfLarge(qjs);
}

const policies = new WeakMap<readonly ApiEntry[], CallLogPolicy>();
/** What the call log keeps whatever its budget: the rows with a memory role, and the print rows (calllog.ts). */
function callLogPolicy(api: readonly ApiEntry[]): CallLogPolicy {
  let p = policies.get(api);
  if (!p) {
    const memory = new Set<string>();
    const print = new Set<string>();
    const lines = new Set<string>();
    for (const e of api) {
      if (e.kind !== "function") continue;
      if (e.memory && !("none" in e.memory)) memory.add(e.name);
      if (e.memory && ("alloc" in e.memory || "free" in e.memory)) lines.add(e.name);
      if (e.countsLog) print.add(e.name);
    }
    policies.set(api, (p = { memory, print, lines, roles: memoryRoles(api) }));
  }
  return p;
}

/** The cell's user program after insmod (sandbox/user.ts), its failures reported as the module's are. */
function runUser(
  k: Kernel,
  b: Bridge,
  main: HostCallback,
  insmod: number,
  log: CallLog,
  onLimit: (stop: Extract<Stop, { kind: "limit" }>, err: GuestErrorInfo) => void,
): RunResult["user"] {
  log.phase = "deferred"; // the module is loaded; its file operations run for the program
  return runUserProgram(
    k,
    main,
    userPid(insmod),
    (fn) => {
      const r = b.invokeCallback(fn, []);
      if (r.ok) {
        const v = r.value;
        if (v === undefined || (typeof v === "number" && Number.isInteger(v))) return { ok: true, value: v };
        // an async main's promise, an object, a string: exit status 0 said nothing (C's main returns an int)
        const got =
          typeof v === "number"
            ? `${v}, not an integer`
            : typeof v === "object" && v !== null
              ? ((v as { invalid?: string }).invalid ?? "an object").replace(/^(string|function|symbol)$/, "a $1")
              : typeof v;
        const err: GuestErrorInfo = {
          name: "TypeError",
          message: `user_main: ${fn.symbol || "main"} returned ${got}; main returns its exit status, an integer (0 for success)`,
          stack: "",
          nonError: false,
        };
        exceptionReport(k, fn.symbol || "user_main", "callback", err, b.cellScopes, b.cellColumns);
        return { ok: false };
      }
      if (r.stop?.kind === "kill") {
        b.stop = null; // the kernel printed the signal; the process is gone
        return { ok: false, killed: true };
      }
      if (r.stop?.kind === "limit") onLimit(r.stop, r.error);
      else exceptionReport(k, fn.symbol || "user_main", "callback", r.error, b.cellScopes, b.cellColumns);
      return { ok: false };
    },
    () => b.guestFrames()[0]?.line,
  );
}

/** WASM memory never shrinks: past the high-water mark, load a fresh module for the next run. */
function recycleIfLarge(qjs: QuickJSWASMModule): void {
  if (moduleGrewTooLarge(qjs)) poisonQuickJS();
}
