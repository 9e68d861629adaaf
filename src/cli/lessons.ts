// `kmodlab lessons [--json]`: the lessons in order (order, id, title, profile) and the exercises each holds.
// `kmodlab lessons --dir DIR [--json] [--jobs N]`: validate an instructor's folder of lessons: every lesson's front
// matter and ```exercise blocks parse (an error names the file and line), every exercise's solution passes every
// check and every starter fails at least one (each run isolated, as `grade` runs them). Exit 0 when the folder is
// valid, 1 when an exercise is wrong, 2 when a declaration does not parse.

import { loadLessons, exerciseOf } from "../lessons/load.ts";
import { builtinExercises, readLessonFolder, type LessonFile } from "../lessons/registry.ts";
import { ExerciseError } from "../lessons/exercises.ts";
import type { Exercise, GradeResult } from "../grader/types.ts";

export async function lessonsCommand(o: { json?: boolean; dir?: string; jobs?: string }): Promise<number> {
  if (o.dir !== undefined) return validateFolder(o.dir, o);
  const exercises = builtinExercises();
  const lessons = loadLessons();
  const rows = lessons.map((l) => {
    const ids = [...new Set([...l.cells.map(exerciseOf).filter((x): x is string => !!x), ...exercises.filter((e) => e.lesson === l.meta.id).map((e) => e.id)])];
    return {
      order: l.meta.order,
      id: l.meta.id,
      title: l.meta.title,
      profile: l.meta.profile ?? null,
      path: l.path,
      cells: l.cells.length,
      exercises: ids.map((id) => {
        const ex = exercises.find((e) => e.id === id);
        return {
          id,
          title: ex?.title ?? "(unknown exercise)",
          profile: ex?.settings.profile ?? null,
          statement: ex?.statement ?? null,
          checks: ex?.checks.map((c) => c.message) ?? [],
        };
      }),
    };
  });
  if (o.json) {
    process.stdout.write(
      JSON.stringify(
        {
          lessons: rows,
          exercises: exercises.map((e) => ({
            id: e.id,
            title: e.title,
            lesson: e.lesson,
            profile: e.settings.profile,
            statement: e.statement,
            checks: e.checks.map((c) => ({ id: c.id, message: c.message })),
          })),
        },
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  const w = Math.max(...rows.map((r) => r.id.length));
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${String(r.order).padStart(2, "0")}  ${r.id.padEnd(w)}  ${r.title}  [${r.profile ?? "-"}]`);
    for (const e of r.exercises) {
      out.push(`    exercise ${e.id}: ${e.title} [${e.profile}]`);
      // the task, one paragraph a line (`kmodlab grade ID --statement` adds what will be checked)
      for (const p of (e.statement ?? "").split(/\n\s*\n/).filter(Boolean)) out.push(`        ${p.replace(/\s*\n\s*/g, " ").trim()}`);
    }
  }
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}

interface Verdict {
  exercise: string;
  lesson: string;
  solution: { passed: boolean; failing: string[]; error?: string };
  starter: { passed: boolean; failing: string[]; error?: string };
  ok: boolean;
}

async function validateFolder(dir: string, o: { json?: boolean; jobs?: string }): Promise<number> {
  let lessons: LessonFile[] = [];
  // every declaration error of the folder, each at its file and line, not only the first
  const errors: ExerciseError[] = [];
  try {
    lessons = readLessonFolder(dir, errors);
  } catch (e) {
    if (e instanceof ExerciseError) errors.push(e);
    else throw e;
  }
  if (errors.length) {
    process.stderr.write(errors.map((e) => `${e.message}\n`).join("") + (errors.length > 1 ? `kmodlab: ${errors.length} declaration errors\n` : ""));
    return 2;
  }
  // what a check requires and the page did not say: added to the check's message, and said here
  for (const l of lessons) for (const ex of l.exercises) for (const n of ex.pageNotes ?? []) process.stderr.write(`warning: ${n}\n`);
  const exercises = lessons.flatMap((l) => l.exercises.map((ex) => [l, ex] as const));
  if (!lessons.length) {
    process.stderr.write(`kmodlab: no lessons (.md files) in ${dir}\n`);
    return 2;
  }
  const { gradeWith } = await import("../grader/grade.ts");
  const { RunnerPool, coreCount } = await import("../node/isolate.ts");
  const jobs = o.jobs !== undefined && /^[1-9]\d{0,2}$/.test(o.jobs) ? Number(o.jobs) : coreCount();
  const pool = new RunnerPool(Math.max(1, Math.min(jobs, exercises.length * 2)));
  const run = (ex: Exercise, src: string, label: string) => gradeWith(ex, src, (s, opts) => pool.run(s, opts), label);
  const side = (g: GradeResult) => ({
    passed: g.passed,
    failing: g.checks.filter((c) => !c.pass).map((c) => `${c.id}${c.detail ? `: ${c.detail}` : ""}`),
    ...(g.error ? { error: g.error } : {}),
  });
  let verdicts: Verdict[];
  try {
    verdicts = await Promise.all(
      exercises.map(async ([l, ex]) => {
        const [sol, st] = await Promise.all([run(ex, ex.solution, "solution"), run(ex, ex.starter, "starter")]);
        return { exercise: ex.id, lesson: l.path, solution: side(sol), starter: side(st), ok: sol.passed && !st.passed };
      }),
    );
  } finally {
    pool.close();
  }
  if (o.json) {
    process.stdout.write(
      JSON.stringify(
        { dir, lessons: lessons.map((l) => ({ path: l.path, id: l.id, title: l.title, exercises: l.exercises.map((e) => e.id) })), exercises: verdicts },
        null,
        2,
      ) + "\n",
    );
  } else {
    const out: string[] = [];
    for (const l of lessons) {
      out.push(`${String(l.order).padStart(2, "0")}  ${l.id}  ${l.title}  (${l.file})`);
      for (const v of verdicts.filter((x) => x.lesson === l.path)) {
        out.push(
          `    exercise ${v.exercise}: ${v.ok ? "ok" : "WRONG"} — solution ${v.solution.passed ? "passes" : "FAILS"}, starter ${v.starter.passed ? "PASSES" : "fails"}`,
        );
        if (!v.solution.passed) for (const f of v.solution.failing) out.push(`      solution fails ${f}`);
        if (v.starter.passed) out.push("      the starter already passes every check: a learner has nothing to do");
      }
    }
    const bad = verdicts.filter((v) => !v.ok).length;
    out.push(
      `${lessons.length} lesson${lessons.length === 1 ? "" : "s"}, ${verdicts.length} exercise${verdicts.length === 1 ? "" : "s"}${bad ? `, ${bad} wrong` : ", every solution passes and every starter fails"}`,
    );
    process.stdout.write(out.join("\n") + "\n");
  }
  return verdicts.every((v) => v.ok) ? 0 : 1;
}
