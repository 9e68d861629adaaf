// The rainy-day-pool exercise (lessons/15-lkmpg-staples.md): the reference passes every check, fault injection
// included; the starter and a module that forgets the NULL check or the element fail.
import { describe, expect, it } from "vitest";
import { findExercise } from "../../src/lessons/registry.ts";
import { gradeWith } from "../../src/grader/grade.ts";
import { runModule } from "../../sandbox/run.ts";

const ex = findExercise("rainy-day-pool")!;
const grade = (src: string) => gradeWith(ex, src, (s, o) => runModule(s, o));
const failed = (g: Awaited<ReturnType<typeof grade>>) => g.checks.filter((c) => !c.pass).map((c) => c.id);

describe("exercise rainy-day-pool", () => {
  it("the reference solution passes, each allocation failing in turn included", async () => {
    const g = await grade(ex.solution!);
    expect(failed(g)).toEqual([]);
    expect(g.passed).toBe(true);
  });
  it("the starter fails: no pool, no element", async () => {
    const g = await grade(ex.starter);
    expect(g.passed).toBe(false);
    expect(failed(g)).toEqual(expect.arrayContaining(["the-pool", "an-element"]));
  });
  it("keeping the element past rmmod (no mempool_free) fails", async () => {
    const g = await grade(ex.solution!.replace("mempool_free(el, pool!);", ""));
    expect(g.passed).toBe(false);
    expect(failed(g)).toContain("no-leak");
  });
  it("no NULL check on the pool fails under fault injection", async () => {
    const g = await grade(ex.solution!.replace("if (pool === null) return -12;", ""));
    expect(g.passed).toBe(false);
    expect(failed(g)).toContain("handles-allocation-failure");
  });
});
