// The CPU limit's second clock: the CPU time of the thread that runs the cell, where the host can read it.
//
// The run's deadline is read off the wall clock (performance.now(), cheap enough for every 8th kernel call). On a
// loaded machine wall time runs ahead of the run's own time: at a load of 10 on 2 cores a cell that needs 184 ms of
// CPU was stopped by a 2000 ms "CPU limit", so a correct submission could fail for the machine's load, which no page
// states. So when the wall clock passes the deadline, the bridge asks this clock how much CPU time the thread really
// had, and moves the deadline on by what is left (sandbox/bindings.ts, Bridge.pastDeadline); the wall clock stays
// the cheap first test, since a thread's CPU time never runs ahead of wall time. A cap on wall time (WALL_CAP_FACTOR
// times the limit) still ends a run whose thread is starved or blocked.
//
// Linux gives each thread's time on a CPU in /proc/thread-self/schedstat (first field, nanoseconds). A worker thread
// opens, reads and closes the file at each reading (~15 µs; a run reads it a few times at most): an fd kept open
// would be the process's, and leak with every run worker a runner replaces. The main thread keeps its one open. Elsewhere (the browser's run worker, other systems)
// there is no such clock and the limit stays on wall time, as before. The host's watchdog over a run worker
// (src/node/isolate.ts) reads the worker thread's clock the same way; on the caller's own thread (the CLI's one-cell
// fast path, the library's runModule) Node's vm timeout is wall time, so when it fires this clock decides whether the
// run had its CPU time (src/node/guest-watch.ts).

/** A run may take at most this many times its CPU limit in wall time, whatever its thread's CPU time says. */
export const WALL_CAP_FACTOR = 10;

/**
 * The rule both watchers use (Bridge.pastDeadline, IsolatedRunner's watchdog) once the wall clock passed a deadline:
 * how much more wall time to give a run that has used `usedCpuMs` of its `budgetMs` of CPU time, capped at the
 * wall-clock time `capAt`; 0: stop it now (its CPU time is spent, the cap is reached, or the clock failed: NaN).
 */
export function wallTimeToGive(usedCpuMs: number, budgetMs: number, wallNow: number, capAt: number): number {
  const left = budgetMs - usedCpuMs;
  if (!(left > 0) || wallNow >= capAt) return 0;
  return Math.max(1, Math.min(left, capAt - wallNow));
}

interface FsLike {
  openSync(path: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
}

let clock: (() => number) | null | undefined;

/**
 * Reads `path` (a schedstat file) as milliseconds of CPU time; NaN when it cannot. `keep`: the file stays open and
 * each reading is one read at offset 0 (procfs makes the text again at each), for a thread that lives as long as the
 * process (see threadCpuClock).
 */
function schedstatReader(fs: FsLike, path: string, keep = false): () => number {
  const buf = new Uint8Array(32);
  let kept = -1;
  return () => {
    let fd = kept;
    try {
      if (fd < 0) fd = fs.openSync(path, "r");
      if (keep) kept = fd;
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      let ns = 0;
      let i = 0;
      for (; i < n; i++) {
        const c = buf[i]!;
        if (c < 48 || c > 57) break;
        ns = ns * 10 + (c - 48);
      }
      return i === 0 ? NaN : ns / 1e6;
    } catch {
      return NaN;
    } finally {
      if (fd >= 0 && fd !== kept) fs.closeSync(fd);
    }
  };
}

/** A Node.js builtin on Linux, without an import (the browser's bundle of the sandbox has no node: modules in it). */
function linuxBuiltin<T>(id: string): T | null {
  // process.getBuiltinModule: Node >= 20.16
  const p = (globalThis as { process?: { platform?: string; getBuiltinModule?(id: string): unknown } }).process;
  if (p?.platform !== "linux" || typeof p.getBuiltinModule !== "function") return null;
  return (p.getBuiltinModule(id) as T | undefined) ?? null;
}

/** This thread's CPU time in ms, or null where it cannot be read. */
export function threadCpuClock(): (() => number) | null {
  if (clock !== undefined) return clock;
  clock = null;
  try {
    const fs = linuxBuiltin<FsLike>("node:fs");
    if (!fs) return null;
    // The main thread keeps its file open: every run reads the clock when it starts (bindings.ts startDeadline), and
    // opening /proc/thread-self/schedstat is most of a reading's cost (a path walk through procfs: 3 % of a memdemo
    // run, ~60 us at load 10). The fd is /proc/<pid>/task/<tid>'s, the main thread's: it lives as the process does.
    // A worker thread opens and closes it at each reading, as the header says. The main thread is the one whose
    // Linux thread id is the process's id (asked of /proc, not of node:worker_threads, whose loading cost a one-run
    // `kmodlab run` ~40 page faults and its CPU).
    const main = currentThreadId() === (globalThis as { process?: { pid?: number } }).process?.pid;
    const read = schedstatReader(fs, "/proc/thread-self/schedstat", main);
    if (Number.isFinite(read())) clock = read;
  } catch {
    clock = null;
  }
  return clock;
}

/** The Linux thread id of the calling thread (for a parent to read this thread's CPU time), or undefined. */
export function currentThreadId(): number | undefined {
  try {
    const fs = linuxBuiltin<{ readlinkSync(p: string): string }>("node:fs");
    const tid = Number(/task\/(\d+)$/.exec(fs?.readlinkSync("/proc/thread-self") ?? "")?.[1]);
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** The CPU time in ms of thread `tid` of this process (a run worker's, read by its parent), or null. */
export function taskCpuClock(tid: number): (() => number) | null {
  const fs = linuxBuiltin<FsLike>("node:fs");
  if (!fs) return null;
  const read = schedstatReader(fs, `/proc/self/task/${tid}/schedstat`);
  return Number.isFinite(read()) ? read : null;
}

/**
 * Milliseconds on a monotonic clock, for spans of wall time (a run's wallMs, the CPU deadline's wall reading, the
 * host's stops): process.hrtime in Node, performance.now() in a browser (Date.now() where there is neither). In Node
 * `performance` is a lazy global whose first use loads node:perf_hooks and ~10 internal modules with it (~10 ms of a
 * one-run `kmodlab run`'s CPU in a profile at load ~11, and ~40 page faults). Only differences between two readings
 * mean anything: the callers that pass a reading to another (watched-run.ts to runModuleSync) both use this clock.
 */
export const monotonicMs: () => number = (() => {
  const hrtime = (globalThis as { process?: { hrtime?: { bigint?: () => bigint } } }).process?.hrtime;
  if (typeof hrtime?.bigint === "function") {
    const read = hrtime.bigint.bind(hrtime);
    return () => Number(read()) / 1e6;
  }
  if (typeof performance !== "undefined") return () => performance.now();
  return () => Date.now();
})();
