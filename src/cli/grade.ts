// `kmodlab grade EXERCISE FILE|DIR [--json] [--format text|json|gradescope] [-o FILE]`.
// A file: each check with its result, exit 0 only when all pass (1 otherwise, 2 for bad usage).
// A directory (a class's submissions): every .ts file in it, a progress bar on stderr (plain lines when stderr is
// not a terminal), a summary table, and the results as JSON or Gradescope results.json (to -o FILE or stdout;
// -o DIR writes one DIR/<name>.json per submission).

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { EXERCISES, getExercise } from "../grader/exercises/index.ts";
import { gradeSource, unrunnable } from "../grader/grade.ts";
import { formatSummary, formatText, toGradescope } from "../grader/format.ts";
import type { GradeResult } from "../grader/types.ts";

export interface GradeOpts {
  json?: boolean;
  format?: "text" | "json" | "gradescope";
  out?: string;
}

function usage(msg: string): number {
  process.stderr.write(`kmodlab: ${msg}\n`);
  return 2;
}

/** Grade one file; never throws (an unreadable file is a failed submission). */
async function gradeFile(exId: string, file: string, label = file): Promise<GradeResult> {
  const ex = getExercise(exId)!;
  let src: string;
  try {
    src = readFileSync(file, "utf8");
  } catch (e) {
    return unrunnable(ex, `cannot read ${file}: ${(e as Error).message}`, label);
  }
  try {
    return await gradeSource(ex, src, label);
  } catch (e) {
    return unrunnable(ex, `internal error: ${(e as Error).message}`, label);
  }
}

function write(text: string, out?: string): void {
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}

export async function gradeCommand(exercise: string, path: string, opts: GradeOpts = {}): Promise<number> {
  const format = opts.format ?? (opts.json ? "json" : "text");
  if (!getExercise(exercise)) return usage(`unknown exercise '${exercise}' (one of: ${EXERCISES.map((e) => e.id).join(", ")})`);
  if (!existsSync(path)) return usage(`no such file or directory: ${path}`);
  const isDir = statSync(path).isDirectory();

  if (!isDir) {
    const g = await gradeFile(exercise, path);
    if (format === "text") write(formatText(g, { color: !opts.out && process.stdout.isTTY === true }), opts.out);
    else write(JSON.stringify(format === "gradescope" ? toGradescope(g) : g, null, 2) + "\n", opts.out);
    return g.passed ? 0 : 1;
  }

  const files = readdirSync(path).filter((f) => f.endsWith(".ts") && statSync(join(path, f)).isFile()).sort();
  if (!files.length) return usage(`no .ts files in ${path}`);
  const results = await gradeAll(exercise, path, files);

  if (format === "text") {
    write(formatSummary(results), opts.out);
  } else {
    process.stderr.write(formatSummary(results));
    if (opts.out && existsSync(opts.out) && statSync(opts.out).isDirectory()) {
      mkdirSync(opts.out, { recursive: true });
      for (const g of results) writeFileSync(join(opts.out, basename(g.file!, ".ts") + ".json"), JSON.stringify(format === "gradescope" ? toGradescope(g) : g, null, 2) + "\n");
    } else if (format === "gradescope") {
      write(JSON.stringify(Object.fromEntries(results.map((g) => [g.file!, toGradescope(g)])), null, 2) + "\n", opts.out);
    } else {
      write(JSON.stringify({ exercise, results }, null, 2) + "\n", opts.out);
    }
  }
  return results.every((g) => g.passed) ? 0 : 1;
}

/** Grade the files one after the other, showing progress on stderr. */
async function gradeAll(exercise: string, dir: string, files: string[]): Promise<GradeResult[]> {
  const results: GradeResult[] = [];
  const tty = process.stderr.isTTY === true;
  let bar: { start(total: number, v: number, p?: object): void; update(v: number, p?: object): void; stop(): void } | undefined;
  if (tty) {
    const { SingleBar, Presets } = await import("cli-progress");
    bar = new SingleBar({ format: "grading {bar} {value}/{total} {file}", stream: process.stderr, hideCursor: true }, Presets.shades_classic);
    bar.start(files.length, 0, { file: "" });
  }
  try {
    for (let i = 0; i < files.length; i++) {
      results.push(await gradeFile(exercise, join(dir, files[i]), files[i]));
      if (bar) bar.update(i + 1, { file: files[i] });
      else process.stderr.write(`graded ${i + 1}/${files.length} ${files[i]}: ${results[i].passed ? "pass" : "fail"} ${results[i].score}/${results[i].maxScore}\n`);
    }
  } finally {
    bar?.stop();
  }
  return results;
}
