// Messages between src/node/isolate.ts (the parent) and src/node/isolate-worker.ts. Structured-cloneable.

import type { RunResult } from "../../sandbox/result.ts";
import type { RunOptions } from "../../sandbox/run.ts";

export type ToIsolate =
  /**
   * `watch`: the run's CPU limit and the host's grace, for the worker's own CPU stop (guest-watch.ts); `firstMs` (tests):
   * the first attempt's timeout instead of guest-watch.ts's.
   */
  | { type: "run"; id: number; source: string; options: RunOptions; wasmBudget: number; watch: { cpuMs: number; graceMs: number; firstMs?: number } }
  /** Boot this machine now for the next run (isolate-worker.ts: booted ahead). */
  | { type: "boot"; profile: string; boot: Pick<RunOptions, "mem" | "cmdline" | "seed" | "config"> };

export type FromIsolate =
  /** The sandbox and the kernel are loaded (ms since the worker started); QuickJS may still be loading (a failure comes as failed id 0). */
  | { type: "ready"; ms: number; /** the worker thread's Linux thread id: the parent reads its CPU time (sandbox/cpuclock.ts) */ tid?: number }
  | { type: "result"; id: number; result: RunResult }
  /**
   * Run `id`'s module part has started, watched by the worker's own CPU stop with a timeout of `timeoutMs` of wall
   * time (guest-watch.ts; again for each attempt it makes anew): the parent's watchdog waits that long, and more.
   */
  | { type: "watching"; id: number; timeoutMs: number }
  /** Run `id`'s attempt was stopped short of the CPU limit (the machine's load): the worker makes it again from the start. */
  | { type: "again"; id: number }
  /** The WebAssembly memory outgrew the run's budget: the worker now waits to be terminated. */
  | { type: "over-memory"; id: number; what: "wasm"; bytes: number; budget: number }
  /** The worker could not do the run (id 0: could not even load the sandbox). */
  | { type: "failed"; id: number; message: string };
