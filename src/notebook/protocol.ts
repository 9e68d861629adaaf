// Messages between the page and src/notebook/run.worker.ts. Everything is structured-cloneable.

import type { RunResult } from "../../sandbox/result.ts";

export interface RunOptions {
  profile?: string;
  /** RAM in bytes. */
  mem?: number;
  cmdline?: string;
  /** CPU limit for the module's code (the sandbox's limits.cpuMs, enforced by QuickJS's interrupt handler). */
  timeoutMs: number;
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
}

export type ToWorker =
  /** `exercise`: judge the run with that exercise's checks, on the exercise's machine. */
  | { type: "run"; id: number; source: string; options: RunOptions; exercise?: string }
  | { type: "dts"; id: number; profile?: string }
  | { type: "profiles"; id: number }
  /** Load the sandbox, kernel and QuickJS now (idle time), not on the first Run. */
  | { type: "warm"; id: number };

export type FromWorker =
  | { type: "ready" }
  | { type: "result"; id: number; result: RunResult; grade?: GradeInfo }
  | { type: "dts"; id: number; text: string }
  | { type: "profiles"; id: number; profiles: ProfileInfo[] }
  | { type: "warm"; id: number }
  /** The worker could not do what was asked (sandbox missing, internal error): message in plain words. */
  | { type: "error"; id: number; message: string };
