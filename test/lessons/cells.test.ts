// Every lesson: in order, with text, runnable cells, at least one exercise cell and a "What a real kernel would
// differ in" note; every runnable cell runs without an unexpected report, and the kinds it declares (expect=) appear.
import { describe, expect, it } from "vitest";
import { loadLessons, expectedKinds, exerciseOf, cellRunSettings } from "../../src/lessons/load.ts";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { findExercise } from "../../src/lessons/registry.ts";
import { runModule } from "../../sandbox/run.ts";
import { parseSize } from "../../src/kernel/kernel/params.ts";

const lessons = loadLessons();

describe("the curriculum", () => {
  it("has at least ten lessons, in order, with unique ids", () => {
    expect(lessons.length).toBeGreaterThanOrEqual(10);
    const orders = lessons.map((l) => l.meta.order);
    expect(orders).toEqual([...orders].sort((a, b) => a - b));
    expect(new Set(lessons.map((l) => l.meta.id)).size).toBe(lessons.length);
    lessons.forEach((l, i) => expect(l.path, l.meta.id).toMatch(new RegExp(`lessons/${String(i + 1).padStart(2, "0")}-`)));
  });

  it("every exercise has a home lesson, and appears in it", () => {
    for (const ex of EXERCISES) {
      const home = lessons.find((l) => l.meta.id === ex.lesson);
      expect(home, `${ex.id}: lesson ${ex.lesson}`).toBeDefined();
      expect(home!.cells.some((c) => exerciseOf(c) === ex.id), `${ex.id} in ${ex.lesson}`).toBe(true);
    }
  });

  for (const l of lessons) {
    it(`${l.meta.id}: text, runnable cells, an exercise cell and the "What a real kernel would differ in" note`, () => {
      expect(l.meta.title).toBeTruthy();
      expect(l.meta.profile).toBeTruthy();
      expect(l.html).toMatch(/<h2[^>]*>What a real kernel would differ in<\/h2>/);
      expect(l.cells.filter((c) => !exerciseOf(c)).length).toBeGreaterThanOrEqual(1);
      const ex = l.cells.filter((c) => exerciseOf(c));
      expect(ex.length).toBeGreaterThanOrEqual(1);
      for (const c of ex) {
        // a TypeScript exercise (src/grader/exercises) or a lesson's ```exercise block
        const e = findExercise(exerciseOf(c)!);
        expect(e, `unknown exercise ${exerciseOf(c)}`).toBeDefined();
        // One source of truth: the cell shows the exercise's starter, on the exercise's machine.
        expect(c.source.trimEnd()).toBe(e!.starter.trimEnd());
        expect(c.profile).toBe(e!.settings.profile);
        const mem = cellRunSettings(c).mem;
        expect(mem ? parseSize(mem) : undefined).toBe(e!.settings.mem);
      }
    });
  }
});

for (const l of lessons) {
  describe(`lesson ${l.meta.id}`, () => {
    for (const c of l.cells.filter((x) => !exerciseOf(x))) {
      const key = `${l.meta.id}/${c.id}`;
      const want = expectedKinds(c);
      const title = `${key} runs${want.length ? ` and shows ${want.join(", ")}` : " cleanly"}`;
      it(title, async () => {
        const s = cellRunSettings(c);
        const r = await runModule(c.source, { profile: s.profile, mem: s.mem ? parseSize(s.mem) : undefined, cmdline: s.cmdline, failNth: s.failNth });
        const unexpected = r.reports.filter((x) => !want.includes(x.kind)).map((x) => `[${x.kind}] ${x.title}`);
        expect(unexpected).toEqual([]);
        for (const k of want) expect(r.reports.map((x) => x.kind), `expected a ${k} report`).toContain(k);
        if (!want.includes("compile-error")) expect(r.dmesg.length, "the cell printed nothing").toBeGreaterThan(0);
      });
    }
  });
}
