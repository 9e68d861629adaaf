// Output of grade results: text for a terminal (each check ✓/✗ with what was seen, the first failing check's hint
// first), the Gradescope autograder results.json shape, and a summary table for a directory of submissions.

import type { GradeResult } from "./types.ts";

// Gradescope's autograder results.json (gradescope-autograders.readthedocs.io, "Autograder Specifications", "Output
// format"): the documented top-level keys and test keys. We write a subset: score, execution_time (seconds), output,
// visibility, stdout_visibility and tests[] of name, score, max_score, status, output, visibility. No top-level
// max_score: Gradescope takes the assignment's points from its own settings (and from each test's max_score).
export const GRADESCOPE_TOP_KEYS = [
  "score",
  "execution_time",
  "output",
  "output_format",
  "test_output_format",
  "test_name_format",
  "visibility",
  "stdout_visibility",
  "extra_data",
  "tests",
  "leaderboard",
] as const;
export const GRADESCOPE_TEST_KEYS = [
  "score",
  "max_score",
  "status",
  "name",
  "name_format",
  "number",
  "output",
  "output_format",
  "tags",
  "visibility",
  "extra_data",
] as const;
const VISIBILITIES = ["visible", "hidden", "after_due_date", "after_published"];

export type GradescopeVisibility = "visible" | "hidden" | "after_due_date" | "after_published";

export interface GradescopeTest {
  name: string;
  score: number;
  max_score: number;
  status: "passed" | "failed";
  output: string;
  visibility: GradescopeVisibility;
}

export interface GradescopeResults {
  score: number;
  /** Seconds the grading of this submission took. */
  execution_time: number;
  output: string;
  visibility: GradescopeVisibility;
  stdout_visibility: GradescopeVisibility;
  tests: GradescopeTest[];
}

export interface GradescopeOptions {
  /** Seconds the grading took (execution_time); 0 when unknown. */
  executionTime?: number;
  /** Who sees the results (default visible: a learner gets every check's message and hint at once). */
  visibility?: GradescopeVisibility;
}

/** One submission as Gradescope's results.json. */
export function toGradescope(g: GradeResult, opts: GradescopeOptions = {}): GradescopeResults {
  const visibility = opts.visibility ?? "visible";
  const passed = g.checks.filter((c) => c.pass).length;
  const head = g.error
    ? `Could not grade: ${g.error}`
    : g.passed
      ? `All ${g.checks.length} checks passed.`
      : `${passed}/${g.checks.length} checks passed. Hint: ${g.firstHint ?? ""}`;
  const reports = (g.reports ?? []).map((r) => `  ${r.kind}: ${r.title}${r.line ? ` (line ${r.line})` : ""}`);
  return {
    score: g.score,
    execution_time: Math.round((opts.executionTime ?? 0) * 1000) / 1000,
    output: reports.length ? `${head}\nThe kernel reported:\n${reports.join("\n")}` : head,
    visibility,
    // run_autograder's stdout is the instructor's debugging log
    stdout_visibility: "hidden",
    tests: g.checks.map((c) => ({
      name: c.message,
      score: c.score,
      max_score: c.points,
      status: c.pass ? "passed" : "failed",
      output: c.pass ? (c.detail ?? "") : [c.detail, `Hint: ${c.hint}`].filter(Boolean).join("\n"),
      visibility,
    })),
  };
}

/**
 * Is this object a valid results.json? The fields Gradescope reads with their types, every key one the format
 * documents, and a score on the submission or on every test. Returns the problems (none: valid).
 */
export function gradescopeProblems(x: unknown): string[] {
  const p: string[] = [];
  const o = x as Record<string, unknown>;
  if (typeof o !== "object" || o === null || Array.isArray(o)) return ["not an object"];
  for (const k of Object.keys(o)) if (!(GRADESCOPE_TOP_KEYS as readonly string[]).includes(k)) p.push(`undocumented top-level key '${k}'`);
  if (o.score !== undefined && (typeof o.score !== "number" || !Number.isFinite(o.score))) p.push("score is not a number");
  if (o.execution_time !== undefined && (typeof o.execution_time !== "number" || !(o.execution_time >= 0))) p.push("execution_time is not a number of seconds");
  if (o.output !== undefined && typeof o.output !== "string") p.push("output is not a string");
  for (const k of ["visibility", "stdout_visibility"])
    if (o[k] !== undefined && !VISIBILITIES.includes(o[k] as string)) p.push(`${k} is not one of ${VISIBILITIES.join(", ")}`);
  if (o.tests === undefined) return o.score === undefined ? [...p, "no score and no tests"] : p;
  if (!Array.isArray(o.tests)) return [...p, "tests is not an array"];
  o.tests.forEach((t: Record<string, unknown>, i: number) => {
    if (typeof t !== "object" || t === null) return void p.push(`tests[${i}] is not an object`);
    for (const k of Object.keys(t)) if (!(GRADESCOPE_TEST_KEYS as readonly string[]).includes(k)) p.push(`tests[${i}]: undocumented key '${k}'`);
    if (t.name !== undefined && typeof t.name !== "string") p.push(`tests[${i}].name`);
    if (t.score !== undefined && typeof t.score !== "number") p.push(`tests[${i}].score`);
    if (o.score === undefined && typeof t.score !== "number") p.push(`tests[${i}].score is needed when the submission has no score`);
    if (t.max_score !== undefined && typeof t.max_score !== "number") p.push(`tests[${i}].max_score`);
    if (t.status !== undefined && t.status !== "passed" && t.status !== "failed") p.push(`tests[${i}].status`);
    if (t.output !== undefined && typeof t.output !== "string") p.push(`tests[${i}].output`);
    if (t.visibility !== undefined && !VISIBILITIES.includes(t.visibility as string)) p.push(`tests[${i}].visibility`);
  });
  return p;
}

/** Text for a terminal: the verdict, the task, the first hint, then each check with what was seen. */
export function formatText(g: GradeResult, opts: { color?: boolean } = {}): string {
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines: string[] = [];
  const passed = g.checks.filter((x) => x.pass).length;
  // Counts and score agree: the score is the points of the passed checks, and says so when a check weighs more.
  const weighted = g.checks.filter((x) => x.points !== 1);
  const score = weighted.length ? `, score ${g.score}/${g.maxScore} (${weighted.map((x) => `${x.id} counts ${x.points}`).join(", ")})` : "";
  lines.push(
    `${g.exercise}${g.file ? ` (${g.file})` : ""}: ${g.passed ? c("32", "PASSED") : c("31", "NOT YET")} — ${passed} of ${g.checks.length} checks passed${score}`,
  );
  if (g.statement)
    for (const p of g.statement.split(/\n\s*\n/))
      lines.push(`  Task: ${p.replace(/\s*\n\s*/g, " ").trim()}`.replace(/^  Task: /, lines.some((l) => l.startsWith("  Task: ")) ? "        " : "  Task: "));
  if (g.error) lines.push(`  could not grade: ${g.error}`);
  if (!g.passed && g.firstHint) lines.push(`  Hint: ${g.firstHint}`);
  for (const ch of g.checks) {
    lines.push(`  ${ch.pass ? c("32", "✓") : c("31", "✗")} ${ch.message}`);
    if (ch.detail && !ch.pass) lines.push(`      ${ch.detail}`);
  }
  return lines.join("\n") + "\n";
}

/** The summary table of a directory: one row per submission, then the pass count. */
export function formatSummary(results: GradeResult[]): string {
  const w = Math.max(10, ...results.map((r) => (r.file ?? "").length));
  const rows = [`${"submission".padEnd(w)}  score   result  first failing check`];
  for (const r of results) {
    const first = r.checks.find((c) => !c.pass);
    rows.push(
      `${(r.file ?? "").padEnd(w)}  ${`${r.score}/${r.maxScore}`.padEnd(6)}  ${(r.passed ? "pass" : "fail").padEnd(6)}  ${r.error ? `error: ${r.error}` : (first?.id ?? "")}`,
    );
  }
  const n = results.filter((r) => r.passed).length;
  rows.push(`${n}/${results.length} submissions pass every check`);
  return rows.join("\n") + "\n";
}
