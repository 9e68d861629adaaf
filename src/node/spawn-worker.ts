// Starting a run worker (the Worker behind src/node/isolate.ts's IsolatedRunner), and keeping what it says until
// someone listens. `kmodlab run` starts its worker in the command's first statement (bin/kmodlab.cjs), before it
// has loaded lib/isolate.mjs, which owns the worker's protocol: loading that module takes the ES module loader's
// start (~10-15 ms), and the worker's own start (~25 ms) and the loading of its code (~20 ms) are on the critical
// path of every run. A Worker emits its events meanwhile, and drops a message nobody listens to (an 'error' nobody
// listens to would even end the process): the worker started here queues its messages, errors and exit until the
// runner attaches (IsolatedRunner.adopt), which then gets them in order, as if it had listened from the start.
//
// Built alone as lib/spawn-worker.cjs (vite.node.config.ts) for the CommonJS bin; isolate.ts starts every worker
// through it too, so both start the same worker.

import type { Worker } from "node:worker_threads";
import { pathToFileURL } from "node:url";

/** The run worker's default V8 old-generation heap, in MiB (IsolateLimits.heapMb). */
export const DEFAULT_RUN_HEAP_MB = 1024;

/** The worker's V8 heap limits for an old generation of `heapMb` MiB. */
export function runWorkerResourceLimits(heapMb: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  return { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, heapMb >> 4)) };
}

export interface RunWorkerSpec {
  /** The worker's entry: lib/isolate-worker.cjs, or isolate-worker-dev.mjs from the sources (isolate.ts workerEntry). */
  entry: URL | string;
  workerData: Record<string, unknown>;
  /** V8 flags the worker sets for itself as it starts (isolate.ts setRunWorkerV8Flags). */
  v8Flags: readonly string[];
  heapMb: number;
}

export type RunWorkerEvent = { type: "message"; value: unknown } | { type: "error"; value: Error & { code?: string } } | { type: "exit"; value: number };

export interface SpawnedRunWorker {
  readonly worker: Worker;
  /** The entry's file: URL. */
  readonly entry: string;
  readonly v8Flags: readonly string[];
  readonly heapMb: number;
  /** performance.now() when it was started. */
  readonly startedAt: number;
  /** Deliver the worker's events to `on` from now on, the ones queued so far first, in order. Once only. */
  attach(on: (e: RunWorkerEvent) => void): void;
}

/** Start a run worker; its events wait in a queue until attach(). Unref'd: a loading worker keeps no one waiting. */
export function spawnRunWorker(spec: RunWorkerSpec): SpawnedRunWorker {
  const startedAt = performance.now();
  // loaded here, not at the top: lib/cli-run.cjs holds this module, and `kmodlab run`'s fast path starts no worker
  // (node:worker_threads is not in Node's startup snapshot: ~3 ms to load)
  const { Worker } = process.getBuiltinModule("node:worker_threads") as typeof import("node:worker_threads");
  const worker = new Worker(spec.entry, {
    workerData: { ...spec.workerData, v8Flags: [...spec.v8Flags] },
    resourceLimits: runWorkerResourceLimits(spec.heapMb),
    stdout: false,
    stderr: false,
  });
  let sink: ((e: RunWorkerEvent) => void) | undefined;
  const queue: RunWorkerEvent[] = [];
  const deliver = (e: RunWorkerEvent) => (sink ? sink(e) : queue.push(e));
  worker.on("message", (value: unknown) => deliver({ type: "message", value }));
  worker.on("error", (value: Error) => deliver({ type: "error", value }));
  worker.on("exit", (value: number) => deliver({ type: "exit", value }));
  worker.unref(); // after the listeners: adding a "message" listener refs the port
  return {
    worker,
    entry: (typeof spec.entry === "string" ? pathToFileURL(spec.entry) : spec.entry).href,
    v8Flags: [...spec.v8Flags],
    heapMb: spec.heapMb,
    startedAt,
    attach(on) {
      if (sink) throw new Error("the run worker's events already have a listener");
      sink = on;
      for (const e of queue.splice(0)) on(e);
    },
  };
}

/** `kmodlab run`'s options that do not change the machine (src/cli/main.ts): with a value, and without. */
export const RUN_FLAGS_WITH_VALUE = ["--proc", "--fail-nth", "--events"];
export const RUN_FLAGS = ["--keep-loaded", "--check-invariants", "--boot", "--json"];
/** The machine of the command's default boot options (src/cli/main.ts bootOptions, sandbox/run.ts's boot key). */
export const DEFAULT_RUN_PROFILE = "x86_64-6.1";

/**
 * The machine `kmodlab run ARGS` boots when ARGS (after `run`) name none of the boot options (--profile, --mem,
 * --cmdline, --seed, --config), for the command to boot it before it has parsed them. Anything it does not know
 * (another option, -h, a short option) gives undefined: no guess. A guess that turns out wrong costs a boot, never
 * the result: the worker uses a machine booted ahead only for a run that asks for the same one (isolate-worker.ts).
 */
export function defaultRunMachine(args: readonly string[]): { profile: string; boot: Record<string, never> } | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") break;
    if (!a.startsWith("-")) continue;
    if (RUN_FLAGS.includes(a)) continue;
    const eq = a.indexOf("=");
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!RUN_FLAGS_WITH_VALUE.includes(name)) return undefined;
    if (eq < 0) i++; // its value
  }
  return { profile: DEFAULT_RUN_PROFILE, boot: {} };
}
