// `kmodlab grade EXERCISE FILE|DIR [--json] [--format text|json|gradescope] [-o FILE]`.
// A file: each check with its result, exit 0 only when all pass (1 otherwise, 2 for bad usage).
// A directory (a class's submissions): every .ts file in it, a progress bar on stderr (plain lines when stderr is
// not a terminal), a summary table, and the results as JSON or Gradescope results.json (to -o FILE or stdout;
// -o DIR writes one DIR/<name>.json per submission).
// Every submission runs in an isolated worker (src/node/isolate.ts); `--jobs N` (default: the number of cores)
// grades N at once. A submission the host had to stop scores zero with its reason, and the others are still graded.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { EXERCISES, getExercise } from "../grader/exercises/index.ts";
import { judge, runOptionsFor, unrunnable } from "../grader/grade.ts";
import { coreCount, RunnerPool } from "../node/isolate.ts";
import { formatSummary, formatText, toGradescope } from "../grader/format.ts";
import type { GradeResult } from "../grader/types.ts";

export interface GradeOpts {
  json?: boolean;
  format?: "text" | "json" | "gradescope";
  out?: string;
  jobs?: string;
}

function usage(msg: string): number {
  process.stderr.write(`kmodlab: ${msg}\n`);
  return 2;
}

/** Grade one file in one of the pool's workers; never throws (an unreadable file is a failed submission). */
async function gradeFile(pool: RunnerPool, exId: string, file: string, label = file): Promise<GradeResult> {
  const ex = getExercise(exId)!;
  let src: string;
  try {
    src = readFileSync(file, "utf8");
  } catch (e) {
    return unrunnable(ex, `cannot read ${file}: ${(e as Error).message}`, label);
  }
  try {
    return judge(ex, await pool.run(src, runOptionsFor(ex.settings)), src, label);
  } catch (e) {
    return unrunnable(ex, `the grader failed on this submission: ${(e as Error).message}`, label);
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
  let jobs = coreCount();
  if (opts.jobs !== undefined) {
    if (!/^[1-9]\d{0,2}$/.test(opts.jobs)) return usage(`bad --jobs '${opts.jobs}': expected a whole number from 1 to 999`);
    jobs = Number(opts.jobs);
  }

  if (!isDir) {
    const pool = new RunnerPool(1);
    const g = await gradeFile(pool, exercise, path).finally(() => pool.close());
    if (format === "text") write(formatText(g, { color: !opts.out && process.stdout.isTTY === true }), opts.out);
    else write(JSON.stringify(format === "gradescope" ? toGradescope(g) : g, null, 2) + "\n", opts.out);
    return g.passed ? 0 : 1;
  }

  const files = readdirSync(path).filter((f) => f.endsWith(".ts") && statSync(join(path, f)).isFile()).sort();
  if (!files.length) return usage(`no .ts files in ${path}`);
  const pool = new RunnerPool(Math.min(jobs, files.length));
  const results = await gradeAll(pool, exercise, path, files).finally(() => pool.close());

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

/** Grade the files, the pool's size at once, showing progress on stderr; results in the files' order. */
async function gradeAll(pool: RunnerPool, exercise: string, dir: string, files: string[]): Promise<GradeResult[]> {
  const results: GradeResult[] = new Array(files.length);
  const tty = process.stderr.isTTY === true;
  let bar: { start(total: number, v: number, p?: object): void; update(v: number, p?: object): void; stop(): void } | undefined;
  if (tty) {
    const { SingleBar, Presets } = await import("cli-progress");
    bar = new SingleBar({ format: "grading {bar} {value}/{total} {file}", stream: process.stderr, hideCursor: true }, Presets.shades_classic);
    bar.start(files.length, 0, { file: "" });
  }
  let done = 0;
  try {
    await Promise.all(
      files.map(async (f, i) => {
        const g = (results[i] = await gradeFile(pool, exercise, join(dir, f), f));
        done++;
        if (bar) bar.update(done, { file: f });
        else process.stderr.write(`graded ${done}/${files.length} ${f}: ${g.passed ? "pass" : "fail"} ${g.score}/${g.maxScore}${g.error ? ` (${g.error})` : ""}\n`);
      }),
    );
  } finally {
    bar?.stop();
  }
  return results;
}
