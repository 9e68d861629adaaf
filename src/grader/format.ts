// Output of grade results: text for a terminal (each check ✓/✗ with what was seen, the first failing check's hint
// first), the Gradescope autograder results.json shape, and a summary table for a directory of submissions.

import type { GradeResult } from "./types.ts";

export interface GradescopeTest {
  name: string;
  score: number;
  max_score: number;
  status: "passed" | "failed";
  output: string;
  visibility: "visible" | "hidden" | "after_due_date" | "after_published";
}

export interface GradescopeResults {
  score: number;
  max_score: number;
  output: string;
  tests: GradescopeTest[];
}

/** One submission as Gradescope's results.json. */
export function toGradescope(g: GradeResult): GradescopeResults {
  return {
    score: g.score,
    max_score: g.maxScore,
    output: g.error ? `Could not grade: ${g.error}` : g.passed ? `All ${g.checks.length} checks passed.` : `Hint: ${g.firstHint ?? ""}`,
    tests: g.checks.map((c) => ({
      name: c.message,
      score: c.score,
      max_score: c.points,
      status: c.pass ? "passed" : "failed",
      output: c.pass ? (c.detail ?? "") : [c.detail, `Hint: ${c.hint}`].filter(Boolean).join("\n"),
      visibility: "visible",
    })),
  };
}

/** Is this object a valid results.json (the fields Gradescope reads, with their types)? Returns the problems. */
export function gradescopeProblems(x: unknown): string[] {
  const p: string[] = [];
  const o = x as Record<string, unknown>;
  if (typeof o !== "object" || o === null) return ["not an object"];
  if (typeof o.score !== "number" || !Number.isFinite(o.score)) p.push("score is not a number");
  if (o.max_score !== undefined && typeof o.max_score !== "number") p.push("max_score is not a number");
  if (o.output !== undefined && typeof o.output !== "string") p.push("output is not a string");
  if (!Array.isArray(o.tests)) return [...p, "tests is not an array"];
  o.tests.forEach((t: Record<string, unknown>, i: number) => {
    if (typeof t.name !== "string") p.push(`tests[${i}].name`);
    if (typeof t.score !== "number") p.push(`tests[${i}].score`);
    if (typeof t.max_score !== "number") p.push(`tests[${i}].max_score`);
    if (t.status !== "passed" && t.status !== "failed") p.push(`tests[${i}].status`);
    if (typeof t.output !== "string") p.push(`tests[${i}].output`);
    if (!["visible", "hidden", "after_due_date", "after_published"].includes(t.visibility as string)) p.push(`tests[${i}].visibility`);
  });
  return p;
}

/** Text for a terminal: the verdict, the first hint, then each check. */
export function formatText(g: GradeResult, opts: { color?: boolean } = {}): string {
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines: string[] = [];
  const passed = g.checks.filter((x) => x.pass).length;
  lines.push(`${g.exercise}${g.file ? ` (${g.file})` : ""}: ${g.passed ? c("32", "PASSED") : c("31", "NOT YET")} — ${passed}/${g.checks.length} checks, score ${g.score}/${g.maxScore}`);
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
    rows.push(`${(r.file ?? "").padEnd(w)}  ${`${r.score}/${r.maxScore}`.padEnd(6)}  ${(r.passed ? "pass" : "fail").padEnd(6)}  ${r.error ? `error: ${r.error}` : (first?.id ?? "")}`);
  }
  const n = results.filter((r) => r.passed).length;
  rows.push(`${n}/${results.length} submissions pass every check`);
  return rows.join("\n") + "\n";
}
