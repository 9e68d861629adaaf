// Submissions by an adversary (test/grader/fixtures/cheats/<exercise>/): each tries to pass WITHOUT doing the task, as a
// cheating learner would (numbers copied from both of the grader's runs, the expected lines printed without the work,
// the required call made as a no-op (size 0, NULL), the right free on another pointer, the work moved to a timer or to
// another context, errors swallowed, calls hidden in eval...), and must fail the check its header names with a message
// a learner can act on. Graded with every check, fault injection and the second run included, as a learner's
// submission is (but a cheat naming another check than handles-allocation-failure gets no fault-injection runs, which
// only that check reads: fixture-harness.ts exerciseFor). The header and the COPIED_RET / COPIED_SHIFTED_RET markers: fixture-harness.ts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { gradeSource } from "../../src/grader/grade.ts";
import { exerciseFor, expectVerdict, parseHeader, withCopiedNumbers } from "./fixture-harness.ts";

const DIR = join(import.meta.dirname, "fixtures", "cheats");

const folders = new Set(readdirSync(DIR));

it("every exercise has at least 3 cheats", () => {
  for (const ex of EXERCISES) {
    expect(folders.has(ex.id), ex.id).toBe(true);
    expect(readdirSync(join(DIR, ex.id)).filter((f) => f.endsWith(".ts")).length, ex.id).toBeGreaterThanOrEqual(3);
  }
});

for (const ex of EXERCISES.filter((e) => folders.has(e.id))) {
  const files = readdirSync(join(DIR, ex.id))
    .filter((f) => f.endsWith(".ts"))
    .sort();
  describe(`cheats for ${ex.id}`, () => {
    for (const f of files) {
      const src = readFileSync(join(DIR, ex.id, f), "utf8");
      const want = parseHeader(src.split("\n")[0]);
      it(`${f} fails ${want.check} with a message naming the cheat`, async () => {
        expect(want.pass, "a cheat must fail").toBe(false);
        expectVerdict(await gradeSource(exerciseFor(ex, want), await withCopiedNumbers(ex, src), f), want, ex);
      });
    }
  });
}
