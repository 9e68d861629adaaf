// `kmodlab run`'s cell on the command's own thread (issue 15). An isolated run worker (isolate.ts) costs the command
// Node's start of a worker thread (~25-30 ms on the critical path, more CPU than that on a loaded machine) and loads
// the CLI's code and the sandbox's in two threads; here the main thread loads the sandbox (run-host.ts) and runs the
// cell itself.
//
// What stops a cell the sandbox's own limits cannot stop (one long built-in call that never returns to QuickJS's
// interrupt handler, such as `[].indexOf.call({ length: 2 ** 53 - 1 }, 1)`): the run's synchronous part (every
// instruction QuickJS executes: sandbox/run.ts runModuleSync) is called through vm.Script#runInThisContext with
// `timeout` and `breakOnSigint`. Node then keeps a watchdog thread of its own (native, no JavaScript, no isolate: it
// costs nothing like a worker) that terminates the thread's JavaScript at the timeout, or when SIGINT arrives, at the
// next interrupt check (every loop of JavaScript and of WebAssembly has one, and Atomics.wait wakes for it: the
// mechanism behind worker.terminate()); the call then throws ERR_SCRIPT_EXECUTION_TIMEOUT or _INTERRUPTED, and the run
// ends with the host's report (isolate.ts hostStoppedResult, the same detail), as an isolated run would:
// - CPU: guest-watch.ts's timeout over the module's part of the run (from the bridge's opening, where the sandbox's
//   own CPU limit starts; not the boot and the compile), set for the machine's load; when it fires, the thread's CPU
//   time decides: the limit reached, the kernel, on this thread, outlives the stop and the run's result is the
//   sandbox's own CPU-limit stop with the log up to that point (run-host.ts salvage; "cpu" only if that fails); short
//   of it, the run is made again with a longer timeout (RunAgain, at most the wall cap). The outer call's own timeout (twice the
//   wall cap) only bounds the boot and the compile.
// - WebAssembly memory: WebAssembly.Memory.prototype.grow past the budget (as isolate-worker.ts's hook) sends this
//   process SIGINT and waits to be terminated -> "wasm". A SIGINT from elsewhere (Ctrl+C) is raised again once the
//   run has unwound, and ends the process as it would have.
// - Host memory: the resident set is read at each growth of the WebAssembly memory against isolate.ts's budget ->
//   "rss". What an isolated run has and this one has not: a poll of the resident set every 50 ms whatever the run
//   does, and a JavaScript heap limit of its own (V8 sets one per isolate, and the main thread's is the process's).
//   A run's growth in kernel records is bounded here by its CPU limit (the kernel's long loops check it too).
// A run stopped this way leaves QuickJS's module in the middle of a call: the runner runs nothing more (the command
// runs one cell and ends), but for the run made again after an early timeout (its module was dropped by the salvage,
// and a fresh one is loaded).
// Measured first and left: a watchdog worker (a thread with Node in it, started first thing, ending the run through
// node:inspector's Runtime.terminateExecution). It cost ~9 ms of CPU to start with Node's startup snapshot and ~30-40
// without it (any V8 flag changed before its isolate is made), and on the loaded 2-core VM the main thread's start
// slowed by about as much as the run worker's start had cost (alternating runs, load ~5: no gain).

import { Script } from "node:vm";
import { totalmem } from "node:os";
import { monotonicMs } from "../../sandbox/cpuclock.ts";
import type { RunOptions } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";
import { createRunHost, type BootOptionsAhead, type RunHost } from "./run-host.ts";
import { hostStoppedResult, limitDetail, type HostStop, type IsolateLimits } from "./isolate.ts";
import { firstTimeoutMs, guestWatch, wallCapMs, withRunAgain } from "./guest-watch.ts";

const GiB = 1 << 30;

/** The script the synchronous part is called through (it calls the function it is given, through a global). */
const CALL = "__kmodlabInThreadRun";
const caller = new Script(`globalThis.${CALL}()`, { filename: "kmodlab-in-thread-run" });

/** Thrown out of `around` when the run was stopped: which stop. */
class Stopped extends Error {
  constructor(readonly stop: HostStop) {
    super(`stopped: ${stop}`);
  }
}

export class InThreadRunner {
  private readonly host: RunHost;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  private baselineRss = 0;
  /** The run in flight: its budgets, and what stopped it. */
  private current: { wasmBytes: number; rssBytes: number; stop?: HostStop } | undefined;
  /** A run was stopped in the middle: QuickJS's module is unusable. */
  private broken = false;
  private chain: Promise<unknown> = Promise.resolve();
  /** Runs made again because the host's timeout came before the module had its CPU time (guest-watch.ts RunAgain). */
  retries = 0;

  /**
   * `codeFile`: the bundled sandbox (lib/isolate-worker-code.cjs); `cacheFlags`: the V8 flags set at run time, for its
   * code cache; `limits`: as IsolatedRunner's (graceMs, wasmBytes, rssBytes; heapMb only names the default in a report);
   * `firstTimeoutMs` (tests): the first attempt's timeout instead of guest-watch.ts's.
   */
  constructor(
    codeFile: string,
    cacheFlags: string,
    private readonly limits: IsolateLimits & { firstTimeoutMs?: number } = {},
  ) {
    this.host = createRunHost({ codeFile, cacheFlags });
    this.hookWasmMemory();
  }

  /** WebAssembly memory past the run's budget, or the process's resident set past the host's: stop the run. */
  private hookWasmMemory(): void {
    const proto = WebAssembly.Memory.prototype;
    const grow = proto.grow;
    const current = () => this.current;
    const sleeper = this.sleeper;
    proto.grow = function (this: WebAssembly.Memory, delta: number): number {
      const before = grow.call(this, delta);
      const c = current();
      if (c && !c.stop) {
        if (this.buffer.byteLength > c.wasmBytes) c.stop = "wasm";
        else if (process.memoryUsage.rss() > c.rssBytes) c.stop = "rss";
        if (c.stop) {
          // breakOnSigint: Node's watchdog terminates this thread's JavaScript, which ends the wait below. (Windows has
          // no signal a process can send itself and go on: there the run's timeout ends the wait, later.)
          if (process.platform !== "win32") process.kill(process.pid, "SIGINT");
          for (;;) Atomics.wait(sleeper, 0, 0, 10);
        }
      }
      return before;
    };
  }

  /** Load the sandbox now (the command then reads the cell and checks its options). */
  prestart(): void {
    this.host.loaded.catch(() => {}); // reported by the run
  }

  bootAhead(profile: string, boot: BootOptionsAhead): void {
    this.host.bootAhead(profile, boot);
  }

  /** Run a cell on this thread, watched. Never rejects; one run at a time (calls queue). */
  run(source: string, options: RunOptions = {}): Promise<RunResult> {
    const p = this.chain.then(() => this.runNow(source, options));
    this.chain = p;
    return p;
  }

  private async runNow(source: string, options: RunOptions): Promise<RunResult> {
    const t0 = monotonicMs();
    const crash = (message: string) =>
      hostStoppedResult(options, "crash", { ...limitDetail(options, this.rssBudget(), this.limits), message }, monotonicMs() - t0);
    if (this.broken) return crash("the sandbox was stopped in the middle of the previous run");
    try {
      await this.host.loaded;
    } catch (e) {
      return crash(`could not load the sandbox: ${(e as Error)?.message ?? e}`);
    }
    if (!this.baselineRss) this.baselineRss = process.memoryUsage.rss();
    const detail = limitDetail(options, this.rssBudget(), this.limits);
    let started = t0;
    try {
      return await withRunAgain(
        this.limits.firstTimeoutMs ?? firstTimeoutMs(detail),
        (timeoutMs) => this.attempt(source, options, detail, timeoutMs, (t) => (started = t)),
        () => this.retries++,
      );
    } catch (e) {
      if (e instanceof Stopped) {
        this.broken = true;
        return hostStoppedResult(options, e.stop, detail, monotonicMs() - started);
      }
      return crash((e as Error)?.message ?? String(e));
    }
  }

  /** One run through the host, watched: rejects with Stopped, RunAgain, or what the host rejects with. */
  private attempt(
    source: string,
    options: RunOptions,
    detail: ReturnType<typeof limitDetail>,
    timeoutMs: number,
    start: (t: number) => void,
  ): Promise<RunResult> {
    return this.host.run(source, options, (runSync) => {
      start(monotonicMs());
      this.current = { wasmBytes: detail.wasmBytes, rssBytes: detail.rssBytes };
      const watch = guestWatch(detail, timeoutMs, () => this.host.salvage());
      (globalThis as Record<string, unknown>)[CALL] = () => runSync(watch);
      try {
        // the outer timeout bounds the boot and the compile (the module's part has the watch's); setTimeout's largest delay
        const r = caller.runInThisContext({ timeout: Math.min(2 ** 31 - 1, 2 * wallCapMs(detail)), breakOnSigint: true }) as RunResult;
        if (r.stoppedByHost) this.broken = true; // salvaged by the watch: QuickJS's module was left in the middle of a call
        return r;
      } catch (e) {
        const code = (e as { code?: string })?.code;
        if (code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
          const stop = this.current.stop ?? "cpu";
          // the CPU limit: the kernel is still here, on this thread, with its log (sandbox/run.ts salvageStoppedRun)
          const salvaged = stop === "cpu" ? this.host.salvage() : undefined;
          if (salvaged) {
            this.broken = true;
            return salvaged;
          }
          throw new Stopped(stop);
        }
        if (code === "ERR_SCRIPT_EXECUTION_INTERRUPTED") {
          if (this.current.stop) throw new Stopped(this.current.stop);
          this.broken = true;
          process.kill(process.pid, "SIGINT"); // Ctrl+C: as the process would have taken it
        }
        throw e;
      } finally {
        delete (globalThis as Record<string, unknown>)[CALL];
        this.current = undefined;
      }
    });
  }

  /** The host memory budget: isolate.ts's for one run in flight. */
  private rssBudget(): number {
    if (this.limits.rssBytes !== undefined && this.limits.rssBytes > 0) return this.limits.rssBytes;
    return Math.min(totalmem() * 0.85, this.baselineRss + 3 * GiB);
  }
}
