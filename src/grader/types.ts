// Exercises and checks: an exercise is a statement, a starter, a reference solution and checks.
// Checks are host functions over the RunResult (the kernel's own records), never run in the sandbox.

import type { RunResult } from "../../sandbox/result.ts";
import type { ReportKind } from "../kernel/types.ts";
import type { AllocRecords } from "./records.ts";

export interface RunSettings {
  profile: string;
  /** RAM in bytes (default: the profile's). */
  mem?: number;
  cmdline?: string;
  seed?: number;
  config?: "debug" | "distro";
  /** /proc files the checks read (taken after init and after exit). */
  proc?: string[];
  /** Scheduled simulated events, e.g. three presses of the board's button (irq "button"). */
  events?: { atMs: number; irq: "button" | number }[];
}

export interface CheckOutcome {
  pass: boolean;
  /** What was seen, in plain words, e.g. "found kmalloc(100) but it was never freed". */
  detail?: string;
}

/** What a check reads: the run, the submitted source, and the allocations paired from the call log. */
export interface CheckContext {
  result: RunResult;
  source: string;
  exercise: Exercise;
  /** Undefined when the kernel kept no call log (every check that needs it fails, saying so). */
  records?: AllocRecords;
}

export interface Check {
  id: string;
  /** What the check verifies, in a learner's words. */
  message: string;
  /** What to try when it fails. */
  hint: string;
  points?: number;
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
