// Every exercise: the reference solution passes every check, the starter fails at least one, and each wrong variant
// (a wrong GFP, a leak, a wrong size, the right text printed without the work...) fails with the intended check.
import { describe, expect, it } from "vitest";
import { EXERCISES, getExercise } from "../../src/grader/exercises/index.ts";
import { gradeSource } from "../../src/grader/grade.ts";
import type { GradeResult } from "../../src/grader/types.ts";
import { FIRST_TEN_EXERCISES } from "./first-exercises.ts";

// Wrong and other correct versions of each exercise are files: test/grader/variants/ (variants.test.ts).

const failing = (g: GradeResult) => g.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.detail}`);

describe("the exercise list", () => {
  it("has the ten exercises of the issue, issue 19's touch-to-allocate, proc-hello, share-a-buffer and stop-the-thread, and lesson 15's rainy-day-pool (declared in its Markdown), each with checks, a statement and at least three wrong variants", () => {
    expect(EXERCISES.map((e) => e.id)).toEqual([
      ...FIRST_TEN_EXERCISES,
      "touch-to-allocate",
      "proc-hello",
      "share-a-buffer",
      "rainy-day-pool",
      "stop-the-thread",
    ]);
    for (const e of EXERCISES) {
      expect(e.statement.length).toBeGreaterThan(40);
      expect(e.checks.map((c) => c.id)).toContain("loads");
      expect(e.checks.map((c) => c.id)).toContain("no-leak");
      expect(new Set(e.checks.map((c) => c.id)).size).toBe(e.checks.length);
      for (const c of e.checks) expect(c.hint.length, `${e.id}/${c.id} hint`).toBeGreaterThan(10);
    }
  });
});

for (const ex of EXERCISES) {
  describe(`exercise ${ex.id} (${ex.settings.profile})`, () => {
    it("the reference solution passes every check", async () => {
      const g = await gradeSource(ex, ex.solution);
      expect(failing(g)).toEqual([]);
      expect(g.score).toBe(g.maxScore);
    });
    it("the starter runs and fails at least one check", async () => {
      const g = await gradeSource(ex, ex.starter);
      expect(g.reports?.filter((r) => r.kind === "compile-error")).toEqual([]);
      expect(g.passed).toBe(false);
      expect(g.firstHint).toBeTruthy();
    });
  });
}

describe("getExercise", () => {
  it("finds by id, undefined otherwise", () => {
    expect(getExercise("hello-module")?.settings.profile).toBe("x86_64-6.1");
    expect(getExercise("nope")).toBeUndefined();
  });
});
