// RunResult: the one contract between the sandbox, the grader, the notebook and the CLI.
// It serialises to JSON unchanged (addresses inside `kernel` are hex strings, never bigint).

import type { UserOutcome } from "./user.ts";
import type { Report } from "../src/kernel/types.ts";
import type { FaultInjectionResult } from "../src/kernel/debug/fault_inject.ts";

export interface RunStats {
  /** Host calls from the module into the kernel. */
  kernelCalls: number;
  /** Simulated time at the end of the run, in ns (the boot included). */
  simTimeNs: number;
  /**
   * Simulated time of the module alone, in ns: from insmod (the cell's top level) to the end of rmmod (module_exit),
   * deferred work in between included; to the end of the run when it never got to rmmod.
   */
  moduleTimeNs?: number;
  tlbHits: number;
  tlbMisses: number;
  /** Wall time of the whole run in ms (the only non-deterministic field). */
  wallMs: number;
}

export interface RunResult {
  profile: string;
  /** What module_init returned; null when it never ran to completion (compile error, exception, limit). */
  initReturn: number | null;
  /** The module's part of dmesg, rendered with timestamps ("[    1.234567] text"). */
  dmesg: string[];
  /** Log level (0 KERN_EMERG .. 7 KERN_DEBUG) of each dmesg line, same length and order; for colouring. */
  dmesgLevels?: number[];
  /**
   * Lines of the module's part the kernel's log buffer overwrote before the run ended (its 128 KiB ring: printk.ts),
   * which dmesg no longer has; absent when none.
   */
  dmesgOverwritten?: number;
  /** The boot log, rendered the same way (folded away by the views). */
  bootLog: string[];
  /** Log level of each bootLog line, same length and order. */
  bootLogLevels?: number[];
  /** Every splat and every sandbox error, in order. */
  reports: Report[];
  /** /proc/NAME text taken after init while the module is loaded. */
  proc: Record<string, string>;
  /** /proc/NAME text taken after rmmod. */
  procAfterExit: Record<string, string>;
  stats: RunStats;
  /** The module's fate: loaded after init, unloaded by rmmod, and what userspace insmod printed on failure. */
  module?: ModuleOutcome;
  /** Set when the kernel refused to boot the machine asked for (RAM size, command line): the run never started. */
  bootRefused?: string;
  /** Inspection data for the views and the grader (shape grows with the kernel; JSON-only values). */
  kernel: Record<string, unknown>;
  /**
   * Only when the run used fault injection (RunOptions.failNth / faultAttrs, or failslab= / fail_page_alloc= on a
   * debug kernel's command line): the insmod task's should_fail() calls, fail-nth read back, every fault injected.
   */
  faultInjection?: FaultInjectionResult;
  /** Only when the cell has a user program (user_main): the process's output, fate, faults and /proc views. */
  user?: UserOutcome;
  /** Only when RunOptions.stopAfterCalls stopped the run: the kernel calls it replayed (the state is after that one). */
  steppedTo?: number;
  /**
   * Only when the host, not the sandbox, stopped the run for its CPU limit (one built-in call, or a loop of them, that
   * never reached QuickJS's interrupt handler): its JavaScript was stopped and the run finished from the kernel's
   * state (sandbox/run.ts salvageStoppedRun). The rest of the RunResult is the sandbox's own CPU-limit stop.
   */
  stoppedByHost?: "cpu";
}

export interface ModuleOutcome {
  /** init ran to completion and returned >= 0. */
  loaded: boolean;
  /** module_exit ran and the module is gone. */
  unloaded: boolean;
  /** `insmod: ERROR: could not insert module cell.ko: Cannot allocate memory` (userspace's line, not the kernel's). */
  insmodError?: string;
}
