// Submissions written by others (test/grader/fixtures/others/<exercise>/), written from the statement alone (`kmodlab grade
// ID --statement`), never from the reference solution: ok-*.ts take another legitimate way the statement allows
// (kzalloc for kmalloc, __get_free_pages(gfp, 0), pr_info, seq_puts, helpers, arrow functions, extra printk lines,
// other names, another order of freeing...) and must pass every check, fault injection included; bad-*.ts are the
// mistakes a careless or cheating learner makes (a leak, no NULL check, a wrong GFP in atomic context, a number copied
// from an earlier run, a wrong free...) and must fail the check their header names with a message a learner can act
// on. Same header as test/grader/variants/ (variants.test.ts):
//   // expect: pass — why it is correct
//   // expect: fail CHECK-ID /DETAIL-REGEX/ [hint /HINT-REGEX/] — the mistake
// Unlike variants.test.ts, a wrong submission is graded with every check and every extra run: a learner's submission
// is, and the failing check must still be the one named (others may fail too). The one exception (exerciseFor): a
// wrong file naming another check than handles-allocation-failure gets no fault-injection runs, which only that check
// reads (object-cache's are a hundred runs a file).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { gradeSource } from "../../src/grader/grade.ts";
import { exerciseFor, expectVerdict, parseHeader, withCopiedNumbers } from "./fixture-harness.ts";

const DIR = join(import.meta.dirname, "fixtures", "others");

const folders = new Set(readdirSync(DIR));

it("every exercise has submissions by others: at least 3 correct and 3 wrong", () => {
  for (const ex of EXERCISES) {
    expect(folders.has(ex.id), ex.id).toBe(true);
    const files = readdirSync(join(DIR, ex.id));
    expect(files.filter((f) => f.startsWith("ok-")).length, ex.id).toBeGreaterThanOrEqual(3);
    expect(files.filter((f) => f.startsWith("bad-")).length, ex.id).toBeGreaterThanOrEqual(3);
  }
});

for (const ex of EXERCISES.filter((e) => folders.has(e.id))) {
  const files = readdirSync(join(DIR, ex.id))
    .filter((f) => f.endsWith(".ts"))
    .sort();
  describe(`submissions by others for ${ex.id}`, () => {
    for (const f of files) {
      const src = readFileSync(join(DIR, ex.id, f), "utf8");
      const want = parseHeader(src.split("\n")[0]);
      it(want.pass ? `${f} passes every check` : `${f} fails ${want.check} with a message naming the mistake`, async () => {
        expectVerdict(await gradeSource(exerciseFor(ex, want), await withCopiedNumbers(ex, src), f), want, ex);
      });
    }
  });
}
