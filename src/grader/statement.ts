// An exercise's statement as the learner reads it, wherever the exercise is: above its cell in the notebook, in
// `kmodlab lessons`, `kmodlab grade EXERCISE --statement` and the grader's text output. The statement says the task;
// the check messages say what will be checked (not how).

import { EXERCISES } from "./exercises/index.ts";
import type { Exercise } from "./types.ts";

export interface StatementView {
  id: string;
  title: string;
  profile: string;
  mem?: number;
  statement: string;
  checks: { id: string; message: string; points: number }[];
}

export function statementView(ex: Exercise): StatementView {
  return {
    id: ex.id,
    title: ex.title,
    profile: ex.settings.profile,
    mem: ex.settings.mem,
    statement: ex.statement,
    checks: ex.checks.map((c) => ({ id: c.id, message: c.message, points: c.points ?? 1 })),
  };
}

/** The statement of a built-in exercise, or undefined. */
export function statementOf(id: string): StatementView | undefined {
  const ex = EXERCISES.find((e) => e.id === id);
  return ex && statementView(ex);
}

/** The statement as terminal text: title and machine, the task (one paragraph per line), the checks. */
export function statementText(ex: Exercise, indent = ""): string {
  const v = statementView(ex);
  const machine = `${v.profile}${v.mem ? `, ${v.mem >> 20} MiB` : ""}`;
  const task = v.statement.split(/\n\s*\n/).map((p) => indent + p.replace(/\s*\n\s*/g, " ").trim());
  return (
    [
      `${indent}${v.id}: ${v.title} [${machine}]`,
      ...task,
      `${indent}What will be checked:`,
      ...v.checks.map((c) => `${indent}  - ${c.message}${c.points !== 1 ? ` (${c.points} points)` : ""}`),
    ].join("\n") + "\n"
  );
}
