// The host's CPU stop for a run on the caller's own thread (the CLI's one-cell path, in-thread.ts, and the library's
// runModule, src/index.ts): what the sandbox cannot stop from inside, one long built-in call that never returns to
// QuickJS's interrupt handler (`[].indexOf.call({ length: 2 ** 53 - 1 }, 1)`, a sort of a 2^32-1 array-like), is
// stopped by Node's vm timeout (a native watchdog thread: TerminateExecution at the timeout), and the run is salvaged
// as the sandbox's own CPU-limit stop (sandbox/run.ts salvageStoppedRun: the kernel's log up to the stop).
//
// What the limit measures: the report says "the module ran for more than N ms of CPU time", and the sandbox's own
// deadline counts the thread's CPU time from the bridge's opening (sandbox/cpuclock.ts). Node's timeout is wall time,
// and once it fires the thread's JavaScript is gone, so it must not fire early: it starts where the module's limit
// starts (runModuleSync's GuestWatch, after the boot and the compile, which at a load of 10-15 took longer than the
// whole limit and had the stop come before module_init), it is set for the load the machine has (1-minute load
// average per core, as wall time per CPU second; at most the sandbox's wall cap, WALL_CAP_FACTOR times the limit plus
// the grace), and when it fires the thread's CPU time decides: past the limit (or no clock to read: other systems),
// the salvage; short of it (the load rose), the run is abandoned (salvaged and dropped: QuickJS's module is thrown
// away, the kernel was the run's own copy) and made again from the start (RunAgain), its timeout set for the wall time
// per CPU time the thread was seen to get (nextTimeoutMs: at least twice the last, at most the wall cap).
// The kernel and the sandbox are deterministic, so the run made again gives what the first would have given. At the
// cap the run is stopped whatever its CPU time says, as Bridge.pastDeadline stops it.

import { Script } from "node:vm";
import { availableParallelism, loadavg } from "node:os";
import type { GuestWatch } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";
import { monotonicMs, threadCpuClock, WALL_CAP_FACTOR } from "../../sandbox/cpuclock.ts";

/** The script the guest part is called through (it calls the function it is given, through a global). */
const CALL = "__kmodlabGuestPart";
const caller = new Script(`globalThis.${CALL}()`, { filename: "kmodlab-guest-watch" });

/** The host's stop came before the module had its CPU time: the caller makes the run again, with `timeoutMs`. */
export class RunAgain extends Error {
  constructor(readonly timeoutMs: number) {
    super("the host's timeout came before the run had its CPU time: run it again");
  }
}

/**
 * `attempt(timeoutMs)` until it does not reject with RunAgain: first with `firstMs`, then with each RunAgain's
 * timeout (`onAgain` is told of each); whatever else it rejects with, this rejects with. The in-thread runner and the
 * library's runModule each make their runs through it.
 */
export async function withRunAgain<T>(firstMs: number, attempt: (timeoutMs: number) => T | Promise<T>, onAgain?: () => void): Promise<T> {
  for (let timeoutMs = firstMs; ;) {
    try {
      return await attempt(timeoutMs);
    } catch (e) {
      if (!(e instanceof RunAgain)) throw e;
      timeoutMs = e.timeoutMs;
      onAgain?.();
    }
  }
}

export interface WatchLimits {
  /** The run's CPU limit (ms). */
  cpuMs: number;
  /** More time the host gives before it stops what the sandbox did not. */
  graceMs: number;
}

/** The wall-clock cap: the sandbox's own (Bridge.pastDeadline) plus the grace. */
export function wallCapMs(l: WatchLimits): number {
  return l.cpuMs * WALL_CAP_FACTOR + l.graceMs;
}

/** The first attempt's timeout: the limit plus the grace, stretched by the machine's load (wall time per CPU time). */
export function firstTimeoutMs(l: WatchLimits, load = loadPerCore()): number {
  const stretch = Math.min(WALL_CAP_FACTOR, Math.max(1, Number.isFinite(load) ? load : 1));
  return Math.min(wallCapMs(l), Math.round((l.cpuMs + l.graceMs) * stretch));
}

function loadPerCore(): number {
  try {
    return loadavg()[0]! / Math.max(1, availableParallelism());
  } catch {
    return 1;
  }
}

/**
 * Whether a run the host's timeout stopped after `wallMs` of wall time and `cpuMs` of the thread's CPU time (NaN:
 * unknown) is stopped for its CPU limit ("stop") or is to be made again ("again").
 */
export function verdict(l: WatchLimits, wallMs: number, cpuMs: number, timeoutMs: number): "stop" | "again" {
  if (!(cpuMs < l.cpuMs)) return "stop"; // past the limit, or no clock (NaN): wall time is all the host has
  if (timeoutMs >= wallCapMs(l) || wallMs >= wallCapMs(l)) return "stop"; // the cap, as Bridge.pastDeadline
  return "again";
}

/**
 * The timeout of the attempt after one stopped early, after `wallMs` of wall time and `cpuMs` of CPU time: the limit
 * plus the grace stretched by the wall time per CPU time seen (and a quarter more), at least twice `lastMs` (so that
 * attempts are few), at most the wall cap (where the verdict stops the run).
 */
export function nextTimeoutMs(l: WatchLimits, lastMs: number, wallMs: number, cpuMs: number): number {
  const seen = wallMs / Math.max(1, cpuMs);
  const want = (l.cpuMs + l.graceMs) * Math.min(WALL_CAP_FACTOR, Math.max(1, seen)) * 1.25;
  return Math.min(wallCapMs(l), Math.max(2 * lastMs, Math.round(want)));
}

/**
 * The GuestWatch of one attempt: the guest part through Node's vm timeout of `timeoutMs`. On the timeout: the run's
 * salvage (`salvage`: sandbox/run.ts salvageStoppedRun, of the sandbox that ran it), or RunAgain after dropping it;
 * the timeout's own error when the salvage finds no run. Anything else (an outer vm call's SIGINT) goes through.
 */
export function guestWatch(l: WatchLimits, timeoutMs: number, salvage: () => RunResult | undefined): GuestWatch {
  return (guestPart) => {
    const clock = threadCpuClock();
    const g = globalThis as Record<string, unknown>;
    const before = g[CALL];
    g[CALL] = guestPart;
    const wall0 = monotonicMs();
    const cpu0 = clock ? clock() : NaN;
    try {
      // setTimeout's largest delay, as isolate.ts
      return caller.runInThisContext({ timeout: Math.max(1, Math.min(2 ** 31 - 1, Math.round(timeoutMs))) }) as RunResult;
    } catch (e) {
      if ((e as { code?: string })?.code !== "ERR_SCRIPT_EXECUTION_TIMEOUT") throw e;
      const wall = monotonicMs() - wall0;
      const cpu = clock ? clock() - cpu0 : NaN;
      if (verdict(l, wall, cpu, timeoutMs) === "again") {
        try {
          salvage(); // dropped: QuickJS's module poisoned, the run's kernel let go
        } catch {
          // nothing of it is kept
        }
        throw new RunAgain(nextTimeoutMs(l, timeoutMs, wall, cpu));
      }
      const salvaged = salvage();
      if (salvaged) return salvaged;
      throw e;
    } finally {
      g[CALL] = before;
    }
  };
}
