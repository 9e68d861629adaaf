// Messages between the page and src/notebook/run.worker.ts. Everything is structured-cloneable.

import type { RunResult } from "../../sandbox/result.ts";
import type { WalkJson } from "../kernel/mm/ptdump.ts";

/**
 * One buffer the cell allocated and the page frames behind it, taken while the module was loaded: the worker
 * (session.ts keep()) puts them in RunResult.kernel.cellMemory, the frame map (views/frames.ts) marks them.
 */
export interface CellBuffer {
  fn: string;
  addr: string;
  /** Bytes asked for, when the call says (kmem_cache_alloc does not: its object is counted as one frame). */
  size?: number;
  line?: number;
  kind: "vmalloc" | "kmalloc" | "pages";
  /** The frames, as [firstPfn, count] runs in address order: one run is physically contiguous. */
  pfnRuns: [number, number][];
  frames: number;
}

/** The machine a cell runs on (what the worker boots ahead of time). */
export interface Machine {
  profile: string;
  mem?: number;
  cmdline?: string;
  config?: "debug" | "distro";
}

export interface RunOptions {
  profile?: string;
  /** RAM in bytes. */
  mem?: number;
  cmdline?: string;
  config?: "debug" | "distro";
  /** Simulated events scheduled before insmod ("button": the board's button line). */
  events?: { atMs: number; irq: "button" | number }[];
  /** CPU limit for the module's code (the sandbox's limits.cpuMs, enforced by QuickJS's interrupt handler). */
  timeoutMs: number;
  /** Fault injection: the Nth allocation call of module_init fails (the sandbox's RunOptions.failNth). */
  failNth?: number;
  /** Step through: replay the run to its Nth kernel call (the sandbox's RunOptions.stopAfterCalls). */
  stopAfterCalls?: number;
}

/** What the grader said about a run (src/grader GradeResult, the fields the page shows). */
export interface GradeInfo {
  exercise: string;
  title?: string;
  passed: boolean;
  score: number;
  maxScore: number;
  checks: { id: string; message: string; pass: boolean; detail?: string; hint: string }[];
  firstHint?: string;
  error?: string;
  /** The machine the exercise is graded on (the cell's picker does not apply). */
  profile?: string;
}

export interface ProfileInfo {
  name: string;
  description?: string;
  defaultMem?: number;
  defaultCmdline?: string;
  defaultConfig?: string;
}

export type ToWorker =
  /**
   * `exercise`: judge the run with that exercise's checks, on the exercise's machine. `exerciseDecl`: the exercise
   * is declared in the lesson's Markdown (a ```exercise block), not built in: the worker builds it from this YAML.
   */
  | {
      type: "run";
      id: number;
      source: string;
      options: RunOptions;
      exercise?: string;
      exerciseDecl?: { yaml: string; path: string; line: number; lesson: string };
    }
  | { type: "dts"; id: number; profile?: string }
  /** Type-check a cell against its profile's linux.d.ts before running it. */
  | { type: "check"; id: number; source: string; profile?: string }
  | { type: "profiles"; id: number }
  /**
   * Load the sandbox, kernel and QuickJS now (idle time), not on the first Run, and answer. With `machine`, then
   * (in the background, giving way to any Run) run a tiny module on it a few times, so the JIT has compiled the
   * whole path, and boot that machine for the next Run; "warmed" says when that is done.
   */
  | { type: "warm"; id: number; machine?: Machine }
  /**
   * The page-table walk of `addr` ("0x...") in the kernel of the run whose message id was `run`: as the tables were
   * while the module was loaded (default), or at the end of the run.
   */
  | { type: "walk"; id: number; run: number; addr: string; when?: "loaded" | "end" }
  /** Lines [from, from + count) of the full dmesg of the run whose message id was `run` (the page got its head and tail). */
  | { type: "dmesg"; id: number; run: number; from: number; count: number };

export type FromWorker =
  | { type: "ready" }
  /** `workerMs`: from the worker reading the message to posting the answer; `preboot`: the run used the kernel booted ahead. */
  | { type: "result"; id: number; result: RunResult; grade?: GradeInfo; workerMs?: number; preboot?: boolean }
  | { type: "dts"; id: number; text: string }
  /** `ready` false: the checker is still loading (the worker starts loading it); the run goes on unchecked. */
  | { type: "check"; id: number; ready: boolean; diagnostics: { line: number; column: number; code: number; message: string }[] }
  | { type: "profiles"; id: number; profiles: ProfileInfo[] }
  | { type: "warm"; id: number }
  /** Unasked, after "warm": the warm-up runs are done and the first cell's machine is booted for its Run. */
  | { type: "warmed"; ms: number }
  | { type: "walk"; id: number; walk: WalkJson }
  | { type: "dmesg"; id: number; lines: string[]; levels?: number[] }
  /**
   * Run `id`'s kernel log while it runs (log-forward.ts), from line `from` of the run's own lines on (after the boot):
   * what the page shows if it has to end the worker. Not an answer: the run's result still comes.
   */
  | { type: "log"; id: number; from: number; lines: string[] }
  /** The worker could not do what was asked (sandbox missing, internal error): message in plain words. */
  | { type: "error"; id: number; message: string }
  /**
   * Run `id`'s QuickJS WebAssembly memory grew past the worker's budget (WASM_BUDGET_BYTES), outside what the
   * sandbox's guest limit counts: the worker refuses to grow further; the page ends it and says so.
   */
  | { type: "over-memory"; id: number; bytes: number; budget: number };

/** The run worker's budget for QuickJS's WebAssembly memory (guest objects, ArrayBuffers, strings). */
export const WASM_BUDGET_BYTES = 512 << 20;
