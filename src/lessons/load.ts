// Lessons read from disk (the CLI and the tests), parsed with the notebook's own DOM-free loader
// (src/notebook/lesson.ts: front matter, ```module cells and their attributes), so cell ids and attributes are
// exactly the ones the notebook sees. Rendering is skipped: no sanitiser runs, the HTML is not used here.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { renderLesson, type Lesson, type LessonCell } from "../notebook/lesson.ts";
import { cellSettings, type CellSettings } from "../notebook/settings.ts";
import { packageRoot } from "../node/package-root.ts";

/** The bundled lessons/ (of this checkout, or of the installed package). */
export const LESSONS_DIR = join(packageRoot(), "lessons");

const identity = { sanitize: (s: string) => s };

/** Every lessons/NN-slug.md, in order. */
export function loadLessons(dir = LESSONS_DIR): Lesson[] {
  const files = readdirSync(dir).filter((f) => /^\d+-.*\.md$/.test(f)).sort();
  return files
    .map((f) => renderLesson(readFileSync(join(dir, f), "utf8"), `lessons/${f}`, identity))
    .sort((a, b) => a.meta.order - b.meta.order || a.meta.id.localeCompare(b.meta.id));
}

/** The report kinds a cell declares it will show (expect="sleep-in-atomic warn"). */
export function expectedKinds(cell: LessonCell): string[] {
  const e = cell.attrs.expect;
  return typeof e === "string" ? e.split(/[\s,]+/).filter(Boolean) : [];
}

/** The exercise id of an exercise cell, if it is one. */
export function exerciseOf(cell: LessonCell): string | undefined {
  return typeof cell.attrs.exercise === "string" && cell.attrs.exercise ? cell.attrs.exercise : undefined;
}

/**
 * The machine and run settings a cell asks for (mem=160M cmdline="vmalloc=200M" config=distro events=... timeout=...),
 * beside its profile: the notebook's own reading (src/notebook/settings.ts), so a cell runs alike everywhere.
 */
export function cellRunSettings(cell: LessonCell): CellSettings {
  return cellSettings(cell);
}
