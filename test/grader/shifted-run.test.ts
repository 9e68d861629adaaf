// The grader's second run of an exercise that prints addresses (printedValue, "shifted-run"): its machine is drawn from
// the submission's text (shiftFor), so that addresses copied from the grader's report of another submission's second
// run are another machine's, and another driver's vmalloc buffer (RunOptions.otherVmallocPages) comes before the
// module's, so that VMALLOC_START plus an offset seen in a run is not where vmalloc puts the module's area.
import { describe, expect, it } from "vitest";
import { getExercise } from "../../src/grader/exercises/index.ts";
import { busyWindows, OTHER_VMALLOC_MAX, runOptionsFor, SHIFT_MEM, SHIFT_MEM_STEPS, shiftFor } from "../../src/grader/grade.ts";
import { runModule } from "../../sandbox/run.ts";

describe("the shifted run's machine", () => {
  it("is the same for the same text, within its bounds, and another for other texts", () => {
    const ex = getExercise("three-allocators")!;
    expect(shiftFor(ex.solution)).toEqual(shiftFor(ex.solution));
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const s = shiftFor(`${ex.solution}// ${i}\n`);
      expect(s.extraMem % (1 << 20)).toBe(0);
      expect(s.extraMem).toBeGreaterThanOrEqual(SHIFT_MEM);
      expect(s.extraMem).toBeLessThan(SHIFT_MEM + SHIFT_MEM_STEPS * (1 << 20));
      expect(s.otherVmallocPages).toBeGreaterThanOrEqual(1);
      expect(s.otherVmallocPages).toBeLessThanOrEqual(OTHER_VMALLOC_MAX);
      seen.add(JSON.stringify(s));
    }
    expect(seen.size).toBeGreaterThan(30);
  });

  it("with an instructor's secret (KMODLAB_GRADE_SECRET) the draws are others, the same at each grading with that secret", () => {
    const ex = getExercise("three-allocators")!;
    let moved = 0;
    for (let i = 0; i < 20; i++) {
      const text = `${ex.solution}// ${i}\n`;
      expect(shiftFor(text, "s3cret")).toEqual(shiftFor(text, "s3cret"));
      if (JSON.stringify(shiftFor(text, "s3cret")) !== JSON.stringify(shiftFor(text))) moved++;
    }
    expect(moved).toBeGreaterThan(15);
    expect(busyWindows(ex.solution, "s3cret")).not.toEqual(busyWindows(ex.solution));
    expect(busyWindows(ex.solution, "")).toEqual(busyWindows(ex.solution));
  });

  it("another driver's vmalloc buffer comes before the module's: the module's area moves past VMALLOC_START + the offset of a run without it", async () => {
    const ex = getExercise("three-allocators")!;
    const base = { ...runOptionsFor(ex.settings), views: false, proc: ["vmallocinfo"] };
    const vm = (r: Awaited<ReturnType<typeof runModule>>) =>
      BigInt((r.kernel as { calls: { fn: string; ret: string }[] }).calls.find((c) => c.fn === "vmalloc")!.ret);
    const without = await runModule(ex.solution, base);
    const held = await runModule(ex.solution, { ...base, otherVmallocPages: 3 });
    expect(held.reports).toEqual([]);
    expect(vm(held)).not.toBe(vm(without));
    expect(JSON.stringify(held.proc)).toContain("other_driver_init");
    for (const bad of [-1, 1.5, 65537]) {
      const r = await runModule(ex.solution, { ...base, otherVmallocPages: bad });
      expect(r.reports[0]?.title).toMatch(/otherVmallocPages must be an integer from 0 to 65536/);
    }
  });
});
