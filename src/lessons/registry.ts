// Which exercises exist (Node): the built-in ones (src/grader/exercises: TypeScript ones and the bundled lessons'
// ```exercise blocks), or, with a lessons folder (--lessons DIR), that folder's blocks first, then the built-in ones.
// A folder is read whole: front matter, exercise blocks; the first declaration error stops it (path:line: why).

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Exercise } from "../grader/types.ts";
import { EXERCISES } from "../grader/exercises/index.ts";
import { readMeta } from "../notebook/lesson.ts";
import { ExerciseError, frontMatterError, lessonExercises } from "./exercises.ts";
import { markdownTooHostile, MAX_LESSON_BYTES } from "./blocks.ts";

export interface LessonFile {
  /** lessons/NN-slug.md as the notebook names it (the folder's own name, then the file). */
  path: string;
  file: string;
  id: string;
  title: string;
  order: number;
  source: string;
  exercises: Exercise[];
}

/**
 * The lesson files of a folder (NN-slug.md, or any .md), in order, with their declared exercises. Throws the first
 * ExerciseError; with `errors` (kmodlab lessons --dir), every file's and every block's error is added there and the
 * rest of the folder is still read.
 */
export function readLessonFolder(dir: string, errors?: ExerciseError[]): LessonFile[] {
  let raw: { b: Buffer; name: string }[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    // by the names' bytes: one that is not UTF-8 decodes to a name no file has (its stat was an internal error)
    raw = readdirSync(dir, { encoding: "buffer" })
      .map((b) => ({ b, name: b.toString("utf8") }))
      .filter((f) => f.name.endsWith(".md") && !/^readme\.md$/i.test(f.name))
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  } catch (e) {
    throw new ExerciseError(dir, 0, `cannot read the lessons folder: ${(e as Error).message}`);
  }
  const out: LessonFile[] = [];
  for (const { b, name } of raw) {
    try {
      const l = readLessonFile(dir, name, b, errors);
      if (l) out.push(l);
    } catch (e) {
      if (!errors || !(e instanceof ExerciseError)) throw e;
      errors.push(e);
    }
  }
  const seen = new Map<string, string>();
  for (const l of out)
    for (const ex of l.exercises) {
      if (seen.has(ex.id)) {
        const e = new ExerciseError(l.file, 1, `exercise '${ex.id}' is declared twice (also in ${seen.get(ex.id)})`);
        if (!errors) throw e;
        errors.push(e);
      }
      seen.set(ex.id, l.file);
    }
  return out.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
}

function readLessonFile(dir: string, name: string, b: Buffer, errors?: ExerciseError[]): LessonFile {
  const file = join(dir, name);
  if (!Buffer.from(name, "utf8").equals(b)) throw new ExerciseError(file, 0, "the file's name is not UTF-8 (a lesson's name is its page's in the notebook)");
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new ExerciseError(file, 0, `cannot read the lesson: ${(e as Error).message}`); // a dangling link, a link loop
  }
  if (!st.isFile()) throw new ExerciseError(file, 0, "not a regular file (a lesson is a Markdown file)");
  const size = st.size;
  if (size > MAX_LESSON_BYTES)
    throw new ExerciseError(file, 0, `the lesson file is ${Math.ceil(size / 1024)} KiB, more than the ${MAX_LESSON_BYTES >> 10} KiB a lesson may hold (the lesson size limit)`);
  const source = readFileSync(file, "utf8");
  const hostile = markdownTooHostile(source);
  if (hostile) throw new ExerciseError(file, hostile.line, hostile.why);
  let meta;
  try {
    meta = readMeta(source, `lessons/${name}`);
  } catch (e) {
    const at = frontMatterError(source); // the line a YAML error is at (readMeta's message names the front matter's)
    throw new ExerciseError(file, at?.line ?? 1, `front matter: ${at ? `not valid YAML: ${at.why}` : (e as Error).message}`);
  }
  return { path: `lessons/${name}`, file, id: meta.id, title: meta.title, order: meta.order, source, exercises: lessonExercises(source, file, meta.id, errors) };
}

/** The built-in exercises: TypeScript ones and the bundled lessons' blocks (src/grader/exercises/index.ts). */
export function builtinExercises(): readonly Exercise[] {
  return EXERCISES;
}

/** The exercises a command sees: a lessons folder's (when given), then the built-in ones not shadowed by it. */
export function exercisesFor(lessonsDir?: string): Exercise[] {
  const own = lessonsDir ? readLessonFolder(lessonsDir).flatMap((l) => l.exercises) : [];
  return [...own, ...builtinExercises().filter((e) => !own.some((o) => o.id === e.id))];
}

export function findExercise(id: string, lessonsDir?: string): Exercise | undefined {
  return exercisesFor(lessonsDir).find((e) => e.id === id);
}
