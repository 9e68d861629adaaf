// The library's runModule (src/index.ts): sandbox/run.ts's, on the caller's thread, with the host's CPU stop that
// `kmodlab run` has (guest-watch.ts). Without it, one built-in call that never returns to QuickJS's interrupt handler
// (`new Array(2 ** 32 - 1).lastIndexOf(1)`, `[].indexOf.call({ length: 2 ** 53 - 1 }, 1)`) held the caller's process
// for ever; now it ends as the sandbox's own CPU-limit stop with the kernel's log (RunResult.stoppedByHost = "cpu"),
// and the next run loads a fresh QuickJS module (the stopped one is dropped).

import { failedRun, loadKernelDeps, runModuleSync, salvageStoppedRun, type KernelDeps, type RunOptions } from "../../sandbox/run.ts";
import { loadQuickJS } from "../../sandbox/quickjs.ts";
import type { RunResult } from "../../sandbox/result.ts";
import { monotonicMs } from "../../sandbox/cpuclock.ts";
import { firstTimeoutMs, guestWatch, withRunAgain } from "./guest-watch.ts";
import { limitDetail, type IsolateLimits } from "./isolate.ts";

/**
 * A runModule with the host's CPU stop; `limits.graceMs`: the grace past the CPU limit (isolate.ts's default);
 * `firstTimeoutMs` (tests): the first attempt's timeout instead of guest-watch.ts's.
 */
export function watchedRunModule(limits: Pick<IsolateLimits, "graceMs"> & { firstTimeoutMs?: number } = {}) {
  return async function runModule(source: string, options: RunOptions = {}, deps?: KernelDeps): Promise<RunResult> {
    const t0 = monotonicMs();
    const detail = limitDetail(options, 0, limits);
    try {
      return await withRunAgain(limits.firstTimeoutMs ?? firstTimeoutMs(detail), async (timeoutMs) => {
        const d = deps ?? (await loadKernelDeps());
        const qjs = await loadQuickJS();
        return runModuleSync(qjs, source, options, d, t0, guestWatch(detail, timeoutMs, salvageStoppedRun));
      });
    } catch (e) {
      return failedRun(options.profile ?? "?", `kmodlab: could not start the run: ${(e as Error)?.message ?? e}`, t0);
    }
  };
}

/** The library's runModule (src/index.ts). */
export const runModuleWatched = watchedRunModule();
