// Exercises and checks: an exercise is a statement, a starter, a reference solution and checks.
// Checks are host functions over the RunResult (the kernel's own records), never run in the sandbox.

import type { RunResult } from "../../sandbox/result.ts";
import type { ReportKind } from "../kernel/types.ts";
import type { AllocRecords } from "./records.ts";
import type { MemoryProbe } from "../../sandbox/probes.ts";

export interface RunSettings {
  profile: string;
  /** RAM in bytes (default: the profile's). */
  mem?: number;
  cmdline?: string;
  /** The command line of the "other-cmdline" run (the task's answer differs there: a number copied cannot match). */
  otherCmdline?: string;
  /**
   * In the "other-cmdline" run, another driver holds a vmalloc buffer of `minPages` to `maxPages` pages, drawn from the
   * submission's text (RunOptions.otherVmallocPages), so that the answer is not a function of the command line alone: a
   * number worked out from VMALLOC_START and the layout of an earlier run does not match.
   */
  otherCmdlineVmalloc?: { minPages: number; maxPages: number };
  seed?: number;
  config?: "debug" | "distro";
  /** /proc files the checks read (taken after init and after exit). */
  proc?: string[];
  /** Scheduled simulated events, e.g. three presses of the board's button (irq "button"). */
  events?: { atMs: number; irq: "button" | number }[];
  /** The module's buffers read from simulated memory after init / before exit (RunResult.kernel.memory). */
  probes?: MemoryProbe[];
  /**
   * The "other-writer" run: the same machine, with these writes into the module's buffers (MemoryProbe.write: another
   * program storing other values through its own mapping), so that a result printed from the bytes differs from
   * the first run's and a number printed without reading them cannot match both.
   */
  otherWrites?: (MemoryProbe & {
    /** The grader draws `write`'s values (16 to 255, one per value given) and `pick` from the submission's text
     *  (textRandom), so that a program cannot know them from the statement and print an answer for each. */
    seeded?: boolean;
  })[];
}

export interface CheckOutcome {
  pass: boolean;
  /** What was seen, in plain words, e.g. "found kmalloc(100) but it was never freed". */
  detail?: string;
  /** A hint for this outcome that replaces the check's own (a compile error's hint is about the compile error). */
  hint?: string;
}

/** What a check reads: the run, the submitted source, and the allocations paired from the call log. */
export interface CheckContext {
  result: RunResult;
  source: string;
  exercise: Exercise;
  /** Undefined when the kernel kept no call log (every check that needs it fails, saying so). */
  records?: AllocRecords;
  /** The grader's other runs of the same submission, for the checks that asked for them (Check.needs). */
  runs?: ExtraRuns;
}

/** One more run of the submission: the result and its allocation records. */
export interface OtherRun {
  result: RunResult;
  records?: AllocRecords;
}

export interface ExtraRuns {
  /** The same machine with more RAM, so that every allocator returns other addresses (printed values). */
  shifted?: OtherRun & { mem: number; /** pages of another driver's vmalloc buffer (RunOptions.otherVmallocPages) */ otherVmallocPages?: number };
  /** The same machine with the module loaded OTHER_LOADED_MS instead of 5 s while its threads live (a count copied
   *  from an earlier run's output cannot match both runs). */
  otherLoaded?: OtherRun & { loadedMs: number };
  /** The same machine busy: another task holds the CPU in `windows` (busyWindows), so that the module's threads wake
   *  late and count less in the same 5 s (a count worked out from the time loaded cannot match). */
  busy?: OtherRun & { windows: { atMs: number; ms: number }[] };
  /** The same profile with HIGH_MEM of RAM: kmalloc and the page allocator then give memory above 4 GiB, outside a
   *  32-bit DMA mask, so that dma_map_single fails and the module's error path runs. */
  highMem?: OtherRun & { mem: number };
  /** The same machine with RunSettings.otherWrites made into the module's buffers (another program's stores). */
  otherWriter?: OtherRun;
  /** The same machine booted with RunSettings.otherCmdline (find-the-hole: another vmalloc=, another answer). */
  otherCmdline?: OtherRun & { cmdline: string; /** pages of another driver's vmalloc buffer in that run */ otherVmallocPages?: number };
  /** Fault injection: the clean run's fault sites, and one run per chosen site with that site failing (fail-nth). */
  faults?: FaultRuns;
  /** Why an extra run could not be made (the kernel has no fault injection...): the checks that need it fail. */
  unavailable?: Partial<Record<NonNullable<Check["needs"]>[number], string>>;
}

/** One fault-injection run: `label` says which site failed ("the 2nd of module_init's 5 fault sites"). */
export type FaultRun = OtherRun & { label: string; nth: number; attr?: "failslab" | "fail_page_alloc" };

/** The fault-injection runs of a submission (ExtraRuns.faults). */
export interface FaultRuns {
  /** module_init's fault sites (fail-nth), 0 when not counted. */
  sites: number;
  /** Set (to module_init's kernel calls that allocate) when there are more than FAULT_CALLS_MAX: no fail-nth run was made. */
  calls?: number;
  /** One run per failed site, in the order made. */
  runs: FaultRun[];
  /** The fail-nth counting run (nothing failed): the clean run the fault runs are compared with. */
  counted?: OtherRun;
}

export interface Check {
  id: string;
  /** What the check verifies, in a learner's words. */
  message: string;
  /** What to try when it fails. */
  hint: string;
  points?: number;
  /** Numbers and names the check requires, each of which the exercise's statement must say (test/grader/statements). */
  requires?: string[];
  /** Extra runs the check reads (CheckContext.runs). */
  needs?: ("shifted-run" | "fault-injection" | "other-loaded-time" | "busy-run" | "high-memory-run" | "other-cmdline" | "other-writer")[];
  /**
   * Whether this fault-injection run (judged in the clean run's context, with the fault runs made so far) already
   * fails the check: the grader then makes no more (the check reports the first failing run in order, so the verdict
   * and its message are the same), and a wrong submission costs a few runs, not one per allocating call.
   */
  failsOnFaultRun?(c: CheckContext, faults: FaultRuns, run: FaultRun): boolean;
  run(c: CheckContext): CheckOutcome;
}

export interface Exercise {
  id: string;
  title: string;
  /** Lesson id the exercise belongs to. */
  lesson: string;
  settings: RunSettings;
  /** The task in plain words (Markdown). */
  statement: string;
  starter: string;
  solution: string;
  checks: Check[];
  /** Report kinds this exercise expects (everything else is "unexpected"). */
  allowedReports?: ReportKind[];
  /**
   * An exercise declared in Markdown whose title and statement did not say something a check requires: the words
   * added to that check's message so that the learner's page says it, each as "file:line: ..." for the instructor
   * (`kmodlab lessons --dir` prints them as warnings).
   */
  pageNotes?: string[];
}

export interface CheckResult {
  id: string;
  message: string;
  pass: boolean;
  detail?: string;
  hint: string;
  points: number;
  /** points if passed, else 0. */
  score: number;
}

export interface GradeResult {
  exercise: string;
  /** The task, as the learner reads it (Exercise.statement). */
  statement?: string;
  file?: string;
  passed: boolean;
  score: number;
  maxScore: number;
  checks: CheckResult[];
  /** The first failing check's hint, offered first. */
  firstHint?: string;
  /** Set when the submission could not be run at all (unreadable file...). */
  error?: string;
  /** The run's dmesg (the module's part) and report titles, for the learner and the instructor. */
  dmesg?: string[];
  reports?: { kind: string; title: string; line?: number }[];
}
