// kmodlab as a library: the same kernel, sandbox and grader the notebook and the `kmodlab` command use, for an
// editor extension, a Jupyter kernel or a course site (`import { runModule, boot, readProc, grade, loadLessons }
// from "kmodlab"`). Node only (the lessons are read from disk); the browser build is the notebook itself.
//
// Every function here is a thin re-export or a few lines over them: nothing is listed twice.

import type { Kernel } from "./kernel/kernel.ts";
import type { BootOptions } from "./kernel/types.ts";
import type { Profile } from "./kernel/types.ts";
import type { Exercise, GradeResult } from "./grader/types.ts";
import { boot as bootKernel } from "./kernel/kernel.ts";
import { readProc as readProcFile } from "./kernel/fs/proc.ts";
import "./kernel/fs/all.ts"; // registers every /proc file readProc knows
import { gradeWith } from "./grader/grade.ts";
import { runModuleWatched as runModule } from "./node/watched-run.ts";
import { exercisesFor } from "./lessons/registry.ts";

// the sandbox's runModule with the host's CPU stop for what the sandbox cannot interrupt (src/node/guest-watch.ts)
export { runModuleWatched as runModule } from "./node/watched-run.ts";
export type { RunOptions, ScheduledEvent } from "../sandbox/run.ts";
export type { RunResult, RunStats, ModuleOutcome } from "../sandbox/result.ts";
export type { Report, ReportKind, BootOptions, Profile, Era, ConfigKind } from "./kernel/types.ts";
export { Kernel, KernelBootError } from "./kernel/kernel.ts";
export { PROFILES, getProfile, profileNames } from "./kernel/profiles.ts";
export { procNames, UnknownProcError } from "./kernel/fs/proc.ts";
export { linuxDts } from "../sandbox/dts.ts";
export { EXERCISES, getExercise } from "./grader/exercises/index.ts";
export { judge, gradeSource, runOptionsFor } from "./grader/grade.ts";
export { toGradescope, formatText, formatSummary } from "./grader/format.ts";
export type { Exercise, Check, CheckContext, CheckOutcome, CheckResult, GradeResult, RunSettings } from "./grader/types.ts";
export { loadLessons, LESSONS_DIR } from "./lessons/load.ts";
export type { Lesson, LessonCell, LessonMeta, ExerciseDecl } from "./notebook/lesson.ts";
export { readLessonFolder, exercisesFor, builtinExercises, type LessonFile } from "./lessons/registry.ts";
export { lessonExercises, parseExerciseBlock, checkLibrary, ExerciseError } from "./lessons/exercises.ts";

/** Boot a kernel of a profile (name or Profile): the boot log is `k.log.dmesg()`. Throws KernelBootError for an impossible machine. */
export function boot(profile: string | Profile = "x86_64-6.1", opts: BootOptions = {}): Kernel {
  return bootKernel(profile, opts);
}

/** The text of /proc/NAME of a booted kernel (meminfo, buddyinfo, zoneinfo, slabinfo, vmallocinfo, iomem, ...). */
export function readProc(k: Kernel, name: string): string {
  return readProcFile(k, name);
}

/**
 * Run a submission's source as the exercise says and judge it with the exercise's checks (with the extra runs the
 * checks ask for: a second machine for printed addresses, fault injection). `exercise` is an Exercise or an id:
 * of the folder `lessons` (its ```exercise blocks), else of the built-in exercises.
 */
export async function grade(exercise: string | Exercise, source: string, opts: { file?: string; lessons?: string } = {}): Promise<GradeResult> {
  let ex: Exercise | undefined;
  if (typeof exercise === "string") {
    const all = exercisesFor(opts.lessons);
    ex = all.find((e) => e.id === exercise);
    if (!ex) throw new Error(`unknown exercise '${exercise}' (one of: ${all.map((e) => e.id).join(", ")})`);
  } else ex = exercise;
  return gradeWith(ex, source, (src, o) => runModule(src, o), opts.file);
}
