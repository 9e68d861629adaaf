// `kmodlab lessons [--json]`: the lessons in order (order, id, title, profile) and the exercises each holds.

import { loadLessons, exerciseOf } from "../lessons/load.ts";
import { EXERCISES } from "../grader/exercises/index.ts";

export async function lessonsCommand(o: { json?: boolean }): Promise<number> {
  const lessons = loadLessons();
  const rows = lessons.map((l) => {
    const ids = [...new Set(l.cells.map(exerciseOf).filter((x): x is string => !!x))];
    return {
      order: l.meta.order,
      id: l.meta.id,
      title: l.meta.title,
      profile: l.meta.profile ?? null,
      path: l.path,
      cells: l.cells.length,
      exercises: ids.map((id) => {
        const ex = EXERCISES.find((e) => e.id === id);
        return { id, title: ex?.title ?? "(unknown exercise)", profile: ex?.settings.profile ?? null };
      }),
    };
  });
  if (o.json) {
    process.stdout.write(JSON.stringify({ lessons: rows, exercises: EXERCISES.map((e) => ({ id: e.id, title: e.title, lesson: e.lesson, profile: e.settings.profile })) }, null, 2) + "\n");
    return 0;
  }
  const w = Math.max(...rows.map((r) => r.id.length));
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${String(r.order).padStart(2, "0")}  ${r.id.padEnd(w)}  ${r.title}  [${r.profile ?? "-"}]`);
    for (const e of r.exercises) out.push(`    exercise ${e.id}: ${e.title} [${e.profile}]`);
  }
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}
