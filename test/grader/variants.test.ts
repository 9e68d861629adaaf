// Submissions written the way students write them (test/grader/variants/<exercise>/): ok-*.ts are correct in a
// different way from the reference (another legitimate allocator, order, helpers, arrow functions) and must pass
// every check, fault injection included; bad-*.ts are real mistakes, each failing the check its header names with
// the message (and hint) its header gives. The header is the file's first line:
//   // expect: pass — why it is correct
//   // expect: fail CHECK-ID /DETAIL-REGEX/ [hint /HINT-REGEX/] — the mistake
// A bad variant that expects another check than handles-allocation-failure is graded without the fault-injection
// runs (they multiply the runs by up to 17 and judge the failure paths, which are not that variant's point).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { gradeSource } from "../../src/grader/grade.ts";
import type { Exercise } from "../../src/grader/types.ts";
import { expectVerdict, parseHeader, withCopiedNumbers } from "./fixture-harness.ts";
import { FIRST_TEN_EXERCISES } from "./first-exercises.ts";

const DIR = join(import.meta.dirname, "variants");

const withoutFaults = (ex: Exercise): Exercise => ({ ...ex, checks: ex.checks.filter((c) => !c.needs?.includes("fault-injection")) });

/** The ten exercises of issue 14 must have variants; an exercise added later has them once its folder exists. */
const REQUIRED: readonly string[] = FIRST_TEN_EXERCISES;
const folders = new Set(readdirSync(DIR));

it("every exercise of the issue has a folder of variants", () => {
  expect(REQUIRED.filter((id) => !folders.has(id))).toEqual([]);
  expect(REQUIRED.filter((id) => !EXERCISES.some((e) => e.id === id))).toEqual([]);
});

for (const ex of EXERCISES.filter((e) => folders.has(e.id))) {
  const files = readdirSync(join(DIR, ex.id))
    .filter((f) => f.endsWith(".ts"))
    .sort();
  describe(`variants of ${ex.id}`, () => {
    it("has at least 4 correct and 6 wrong variants, one without NULL checks among them when it allocates", () => {
      expect(files.filter((f) => f.startsWith("ok-")).length).toBeGreaterThanOrEqual(4);
      expect(files.filter((f) => f.startsWith("bad-")).length).toBeGreaterThanOrEqual(6);
      if (ex.checks.some((c) => c.id === "handles-allocation-failure")) expect(files.some((f) => /^bad-.*null/.test(f))).toBe(true);
    });
    for (const f of files) {
      const src = readFileSync(join(DIR, ex.id, f), "utf8");
      const want = parseHeader(src.split("\n")[0]);
      it(want.pass ? `${f} passes every check` : `${f} fails ${want.check} saying what the records show`, async () => {
        const checkedBy = want.pass || want.check === "handles-allocation-failure" ? ex : withoutFaults(ex);
        expectVerdict(await gradeSource(checkedBy, await withCopiedNumbers(ex, src), f), want, checkedBy);
      });
    }
  });
}
