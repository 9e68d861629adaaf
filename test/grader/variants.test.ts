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
import { gradeSource, runOptionsFor } from "../../src/grader/grade.ts";
import { runModule } from "../../sandbox/run.ts";
import type { Exercise } from "../../src/grader/types.ts";
import { FIRST_TEN_EXERCISES } from "./first-exercises.ts";

const DIR = join(import.meta.dirname, "variants");

interface Expect {
  pass: boolean;
  check?: string;
  detail?: RegExp;
  hint?: RegExp;
}

export function parseHeader(first: string): Expect {
  if (/^\/\/ expect: pass\b/.test(first)) return { pass: true };
  const m = /^\/\/ expect: fail (\S+) \/(.+?)\/(?: hint \/(.+?)\/)?(?: —|$)/.exec(first);
  if (!m) throw new Error(`bad variant header: ${first}`);
  return { pass: false, check: m[1], detail: new RegExp(m[2]), hint: m[3] ? new RegExp(m[3]) : undefined };
}

/**
 * A submission with numbers copied from an earlier run's output: each COPIED_RET("fn") becomes what the first call
 * of fn returned in a run of this very file on the exercise's machine (a fixed point: the file's length, and so its
 * module's layout, must not change between the run copied from and the graded one; the simulator is deterministic).
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
  throw new Error("the copied addresses did not settle: each run of the file got others");
}

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
        const g = await gradeSource(checkedBy, await withCopiedNumbers(ex, src), f);
        const failing = g.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.detail}`);
        if (want.pass) {
          expect(failing).toEqual([]);
          return;
        }
        expect(checkedBy.checks.map((c) => c.id)).toContain(want.check);
        const c = g.checks.find((x) => x.id === want.check)!;
        expect(c.pass, `${want.check} should fail; failing: ${JSON.stringify(failing)}`).toBe(false);
        expect(c.detail).toMatch(want.detail!);
        if (want.hint) expect(c.hint).toMatch(want.hint);
        expect(g.passed).toBe(false);
      });
    }
  });
}
