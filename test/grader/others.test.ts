// Submissions written by others (test/grader/fixtures/others/<exercise>/), written from the statement alone (`kmodlab grade
// ID --statement`), never from the reference solution: ok-*.ts take another legitimate way the statement allows
// (kzalloc for kmalloc, __get_free_pages(gfp, 0), pr_info, seq_puts, helpers, arrow functions, extra printk lines,
// other names, another order of freeing...) and must pass every check, fault injection included; bad-*.ts are the
// mistakes a careless or cheating learner makes (a leak, no NULL check, a wrong GFP in atomic context, a number copied
// from an earlier run, a wrong free...) and must fail the check their header names with a message a learner can act
// on. Same header as test/grader/variants/ (variants.test.ts):
//   // expect: pass — why it is correct
//   // expect: fail CHECK-ID /DETAIL-REGEX/ [hint /HINT-REGEX/] — the mistake
// Unlike variants.test.ts, a wrong submission is graded with every check, fault injection included: a learner's
// submission is, and the failing check must still be the one named (others may fail too).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { gradeSource, runOptionsFor } from "../../src/grader/grade.ts";
import { runModule } from "../../sandbox/run.ts";
import type { Exercise } from "../../src/grader/types.ts";

const DIR = join(import.meta.dirname, "fixtures", "others");

interface Expect {
  pass: boolean;
  check?: string;
  detail?: RegExp;
  hint?: RegExp;
}

function parseHeader(first: string): Expect {
  if (/^\/\/ expect: pass\b/.test(first)) return { pass: true };
  const m = /^\/\/ expect: fail (\S+) \/(.+?)\/(?: hint \/(.+?)\/)?(?: —|$)/.exec(first);
  if (!m) throw new Error(`bad header: ${first}`);
  return { pass: false, check: m[1], detail: new RegExp(m[2]), hint: m[3] ? new RegExp(m[3]) : undefined };
}

/**
 * COPIED_RET("fn") becomes what the first call of fn returned in a run of this very file on the exercise's machine: a
 * learner who pastes the address an earlier run printed (a fixed point, since the file's length must not change
 * between the run copied from and the graded one; the simulator is deterministic).
 */
async function withCopiedNumbers(ex: Exercise, src: string): Promise<string> {
  const marker = /COPIED_RET\("(\w+)"\)/g;
  if (!marker.test(src)) return src;
  let values = new Map<string, string>();
  const fill = () => src.replace(marker, (_m, fn: string) => `${values.get(fn) ?? "0x10000000"}n`);
  for (let i = 0; i < 4; i++) {
    const r = await runModule(fill(), runOptionsFor(ex.settings));
    const calls = (r.kernel as { calls?: { fn: string; ret: unknown }[] }).calls ?? [];
    const next = new Map<string, string>();
    for (const m of src.matchAll(marker)) {
      const ret = calls.find((c) => c.fn === m[1])?.ret;
      if (typeof ret !== "string") throw new Error(`no ${m[1]} call returned an address`);
      next.set(m[1], ret);
    }
    if ([...next].every(([k, v]) => values.get(k) === v)) return fill();
    values = next;
  }
  throw new Error("the copied addresses did not settle");
}

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
        const g = await gradeSource(ex, await withCopiedNumbers(ex, src), f);
        const failing = g.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.detail}`);
        if (want.pass) {
          expect(failing).toEqual([]);
          expect(g.passed).toBe(true);
          return;
        }
        expect(ex.checks.map((c) => c.id)).toContain(want.check);
        const c = g.checks.find((x) => x.id === want.check)!;
        expect(c.pass, `${want.check} should fail; failing: ${JSON.stringify(failing)}`).toBe(false);
        expect(c.detail).toMatch(want.detail!);
        if (want.hint) expect(c.hint).toMatch(want.hint);
        expect(g.passed).toBe(false);
      });
    }
  });
}
