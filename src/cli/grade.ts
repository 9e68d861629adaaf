// `kmodlab grade EXERCISE FILE|DIR [--json] [--format text|json|gradescope] [-o FILE|DIR] [--strict] [--check ID]
//                                  [--lessons DIR] [--jobs N]`.
// A file: each check with its result. A directory (a class's submissions): every .ts file in it, a progress bar on
// stderr (plain lines when stderr is not a terminal), a summary table, and the results as text, JSON (to -o FILE
// or stdout; -o DIR writes one DIR/<name>.json per submission) or Gradescope (-o DIR: one DIR/<name>/results.json
// per submission, each a complete results.json).
// Exit status: with -o, 0 once the results are written, since a failing student is data, not an error (--strict:
// 1 when any submission fails, as without -o); without -o, 0 only when every submission passes every check
// (--check ID: that one check), 1 otherwise; 2 for bad usage.
// Every submission runs in an isolated worker (src/node/isolate.ts); `--jobs N` (default: the number of cores)
// grades N at once. A submission the host had to stop scores zero with its reason, and the others are still graded.
// Submissions with the same text (byte for byte: a class's untouched starters, a solution handed round) are run once:
// the kernel is deterministic, so every run of the copies would give the same RunResults and the same verdict; each
// copy gets that verdict under its own file name. Not when one of the runs was stopped by the wall clock, the host or
// the guest memory limit (repeatableRun): each copy is then graded on its own runs.
// KMODLAB_GRADE_SECRET (an instructor's secret) salts what the grader draws from a text (gradeSecret).

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join, sep } from "node:path";
import { exercisesFor } from "../lessons/registry.ts";
import { ExerciseError } from "../lessons/exercises.ts";
import { gradeWith, repeatableRun, unrunnable, type Runner } from "../grader/grade.ts";
import { coreCount, runIsolated, RunnerPool } from "../node/isolate.ts";
import { statementText, statementView } from "../grader/statement.ts";
import { formatSummary, formatText, toGradescope } from "../grader/format.ts";
import type { Exercise, GradeResult } from "../grader/types.ts";
import { readCellFile } from "./read-cell.ts";

export interface GradeOpts {
  json?: boolean;
  format?: "text" | "json" | "gradescope";
  out?: string;
  jobs?: string;
  /** Exit 1 when a submission fails even though the results were written to -o. */
  strict?: boolean;
  /** The exit status says whether this one check passed (GitHub Classroom grades one check per step). */
  check?: string;
  /** A folder of Markdown lessons whose ```exercise blocks are graded against (before the built-in exercises). */
  lessons?: string;
  /** Print the exercise's statement and the names of its checks instead of grading. */
  statement?: boolean;
}

/** The exit status of graded submissions: see the header. */
export function gradeExitCode(results: readonly GradeResult[], opts: Pick<GradeOpts, "out" | "strict" | "check">): number {
  const passed = (g: GradeResult) => (opts.check ? g.checks.some((c) => c.id === opts.check && c.pass) : g.passed);
  if (opts.out && !opts.strict) return 0;
  return results.every(passed) ? 0 : 1;
}

function gradescopeJson(g: GradeResult, seconds: number): string {
  return JSON.stringify(toGradescope(g, { executionTime: seconds }), null, 2) + "\n";
}

function usage(msg: string): number {
  process.stderr.write(`kmodlab: ${msg}\n`);
  return 2;
}

/** Grade one file in an isolated worker; never throws (an unreadable file is a failed submission). */
async function gradeFile(run: Runner, ex: Exercise, file: string, label = file): Promise<GradeResult> {
  const src = readSubmission(ex, file, label);
  return typeof src === "string" ? gradeSafely(ex, src, run, label) : src;
}

/**
 * The instructor's secret (KMODLAB_GRADE_SECRET), mixed into everything the grader draws from a submission's text (the
 * second run's RAM and vmalloc buffer, the busy run's windows, the other writer's bytes): without it a learner who runs
 * the grader's own code can work out the machine a text will be graded on; with it they cannot, and a text still gets
 * the same verdict at every grading with the same secret.
 */
function gradeSecret(): string {
  return process.env.KMODLAB_GRADE_SECRET ?? "";
}

/** gradeWith, where a grader that throws makes the submission a failed one with the reason. */
async function gradeSafely(ex: Exercise, src: string, run: Runner, label: string): Promise<GradeResult> {
  try {
    return await gradeWith(ex, src, run, label, gradeSecret());
  } catch (e) {
    return unrunnable(ex, `the grader failed on this submission: ${(e as Error).message}`, label);
  }
}

function write(text: string, out?: string): void {
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}

export async function gradeCommand(exercise: string, path: string | undefined, opts: GradeOpts = {}): Promise<number> {
  const format = opts.format ?? (opts.json ? "json" : "text");
  let all: Exercise[];
  try {
    all = exercisesFor(opts.lessons);
  } catch (e) {
    if (e instanceof ExerciseError) return usage(e.message);
    throw e;
  }
  const ex = all.find((e) => e.id === exercise);
  if (!ex) return usage(`unknown exercise '${exercise}' (one of: ${all.map((e) => e.id).join(", ")})`);
  if (opts.statement) {
    // the task and what will be checked, as the notebook shows it above the exercise's cell
    if (format === "json") write(JSON.stringify(statementView(ex), null, 2) + "\n", opts.out);
    else write(statementText(ex), opts.out);
    return 0;
  }
  if (path === undefined) return usage("missing the submission: kmodlab grade EXERCISE FILE|DIR (or --statement to read the task)");
  if (!existsSync(path)) return usage(`no such file or directory: ${path}`);
  if (opts.check !== undefined) {
    const ids = ex.checks.map((c) => c.id);
    if (!ids.includes(opts.check)) return usage(`exercise '${exercise}' has no check '${opts.check}' (its checks: ${ids.join(", ")})`);
  }
  const isDir = statSync(path).isDirectory();
  let jobs = coreCount();
  if (opts.jobs !== undefined) {
    if (!/^[1-9]\d{0,2}$/.test(opts.jobs)) return usage(`bad --jobs '${opts.jobs}': expected a whole number from 1 to 999`);
    jobs = Number(opts.jobs);
  }

  if (!isDir) {
    const t0 = performance.now();
    const g = await gradeFile(runIsolated, ex, path);
    const seconds = (performance.now() - t0) / 1000;
    if (format === "text") write(formatText(g, { color: !opts.out && process.stdout.isTTY === true }), opts.out);
    else write(format === "gradescope" ? gradescopeJson(g, seconds) : JSON.stringify(g, null, 2) + "\n", opts.out);
    return gradeExitCode([g], opts);
  }

  const files = listSubmissions(path);
  if (!files.length) return usage(`no .ts files in ${path}`);
  if (format === "gradescope" && !opts.out)
    return usage("--format gradescope on a directory writes one results.json per submission: give the output directory with -o DIR");
  if (format === "gradescope" && existsSync(opts.out!) && !statSync(opts.out!).isDirectory())
    return usage(`-o ${opts.out}: not a directory (--format gradescope on a directory writes DIR/<submission>/results.json)`);
  // Each text is read once here for its key and dropped, and read again when its turn comes: holding every
  // submission's text for the whole grade made 60 files of 16 MiB (each a source-size LimitError) take 1.3 GB.
  const distinct = new Set(
    files.map((f) => {
      const s = readSubmission(ex, f.path, f.name);
      return typeof s === "string" ? textKey(s) : s;
    }),
  ).size;
  const pool = new RunnerPool(Math.min(jobs, distinct));
  const seconds: number[] = new Array(files.length).fill(0);
  const results = await gradeAll(pool, ex, files, seconds).finally(() => pool.close());

  if (format === "text") {
    write(formatSummary(results), opts.out);
  } else {
    process.stderr.write(formatSummary(results));
    if (format === "gradescope") {
      // one complete results.json per submission: OUT/<name>/results.json
      for (const [i, g] of results.entries()) {
        const dir = join(opts.out!, basename(g.file!, ".ts"));
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "results.json"), gradescopeJson(g, seconds[i]));
      }
    } else if (opts.out && existsSync(opts.out) && statSync(opts.out).isDirectory()) {
      for (const g of results) writeFileSync(join(opts.out, basename(g.file!, ".ts") + ".json"), JSON.stringify(g, null, 2) + "\n");
    } else {
      write(JSON.stringify({ exercise, results }, null, 2) + "\n", opts.out);
    }
  }
  return gradeExitCode(results, opts);
}

/** A submission in a directory: its name as shown (UTF-8, or U+FFFD where the bytes are not) and its path's bytes. */
interface Submission {
  name: string;
  path: Buffer;
}

/**
 * The .ts submissions of a directory, by name: regular files and links to one, and every entry that cannot be
 * looked at (a dangling link, a link loop), which is then graded as unreadable with the reason. The names are read
 * as bytes: one that is not UTF-8 decoded to a name with U+FFFD in it that no file has, and stat'ing it ended the
 * whole grade (`kmodlab: internal error: ENOENT`); a dangling `x.ts` link did the same.
 */
function listSubmissions(dir: string): Submission[] {
  const out: Submission[] = [];
  const prefix = Buffer.from(dir.endsWith(sep) ? dir : dir + sep);
  for (const raw of readdirSync(dir, { encoding: "buffer" })) {
    const name = raw.toString("utf8");
    if (!name.endsWith(".ts")) continue;
    const path = Buffer.concat([prefix, raw]);
    let regular = true;
    try {
      regular = statSync(path).isFile();
    } catch {
      // kept: readSubmission says why it cannot be read
    }
    if (regular) out.push({ name, path });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : Buffer.compare(a.path, b.path)));
}

/** A submission's text, or the GradeResult of one that cannot be read. */
function readSubmission(ex: Exercise, file: string | Buffer, label: string): string | GradeResult {
  try {
    return readCellFile(file);
  } catch (e) {
    return unrunnable(ex, `cannot read ${typeof file === "string" ? file : file.toString("utf8")}: ${(e as Error).message}`, label);
  }
}

/** Submissions with equal keys have the same text. */
function textKey(source: string): string {
  return createHash("sha256").update(source).digest("hex");
}

/**
 * Grade each distinct text once (the first file that has it) and give its copies the same verdict under their own
 * names (the header says when not). Never throws.
 */
function dedupedGrader(ex: Exercise, pool: RunnerPool): (source: string | GradeResult, label: string) => Promise<GradeResult> {
  const first = new Map<string, Promise<{ g: GradeResult; repeatable: boolean }>>();
  const gradeOne = async (source: string, label: string) => {
    let repeatable = true;
    const run: Runner = async (src, o) => {
      const r = await pool.run(src, o);
      if (!repeatableRun(r)) repeatable = false;
      return r;
    };
    const g = await gradeSafely(ex, source, run, label);
    // a grader that threw (gradeSafely's unrunnable result, the only one with an error) is not shared either
    return { g, repeatable: repeatable && g.error === undefined };
  };
  return async (source, label) => {
    if (typeof source !== "string") return source;
    const key = textKey(source);
    const earlier = first.get(key);
    if (!earlier) {
      const mine = gradeOne(source, label);
      first.set(key, mine);
      return (await mine).g;
    }
    const { g, repeatable } = await earlier;
    if (!repeatable) return (await gradeOne(source, label)).g;
    return { ...structuredClone(g), file: label };
  };
}

/**
 * Grade the files, the pool's size at once, showing progress on stderr; results in the files' order. A file is read
 * when its turn comes, so at most the pool's size of texts are held (not every submission's).
 */
async function gradeAll(pool: RunnerPool, ex: Exercise, files: Submission[], seconds: number[]): Promise<GradeResult[]> {
  const grade = dedupedGrader(ex, pool);
  const results: GradeResult[] = new Array(files.length);
  const tty = process.stderr.isTTY === true;
  let bar: { start(total: number, v: number, p?: object): void; update(v: number, p?: object): void; stop(): void } | undefined;
  if (tty) {
    const { SingleBar, Presets } = await import("cli-progress");
    bar = new SingleBar({ format: "grading {bar} {value}/{total} {file}", stream: process.stderr, hideCursor: true }, Presets.shades_classic);
    bar.start(files.length, 0, { file: "" });
  }
  let done = 0;
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const f = files[i]!.name;
      const t0 = performance.now();
      const g = (results[i] = await grade(readSubmission(ex, files[i]!.path, f), f));
      seconds[i] = (performance.now() - t0) / 1000;
      done++;
      if (bar) bar.update(done, { file: f });
      else
        process.stderr.write(`graded ${done}/${files.length} ${f}: ${g.passed ? "pass" : "fail"} ${g.score}/${g.maxScore}${g.error ? ` (${g.error})` : ""}\n`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, pool.size) }, lane));
  } finally {
    bar?.stop();
  }
  return results;
}
