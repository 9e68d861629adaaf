// Submissions by an adversary (test/grader/fixtures/cheats/<exercise>/): each tries to pass WITHOUT doing the task, as a
// cheating learner would (numbers copied from both of the grader's runs, the expected lines printed without the work,
// the required call made as a no-op (size 0, NULL), the right free on another pointer, the work moved to a timer or to
// another context, errors swallowed, calls hidden in eval...), and must fail the check its header names with a message
// a learner can act on. The header is test/grader/others.test.ts's:
//   // expect: fail CHECK-ID /DETAIL-REGEX/ [hint /HINT-REGEX/] — the cheat
// Graded with every check, fault injection and the second run included, as a learner's submission is.
// Markers filled in before grading (a fixed point: the file's length must not change between the run copied from and
// the graded one; the simulator is deterministic):
//   COPIED_RET("fn")         what the first call of fn returned in a run of this very file on the exercise's machine
//   COPIED_SHIFTED_RET("fn") the same in the grader's second run (SHIFT_MEM more RAM): a learner who copied the
//                            address from the grader's own report of that run too
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { gradeSource, runOptionsFor, SHIFT_MEM } from "../../src/grader/grade.ts";
import { getProfile } from "../../src/kernel/profiles.ts";
import { runModule } from "../../sandbox/run.ts";
import type { Exercise } from "../../src/grader/types.ts";

const DIR = join(import.meta.dirname, "fixtures", "cheats");

interface Expect {
  check: string;
  detail: RegExp;
  hint?: RegExp;
}

function parseHeader(first: string): Expect {
  const m = /^\/\/ expect: fail (\S+) \/(.+?)\/(?: hint \/(.+?)\/)?(?: —|$)/.exec(first);
  if (!m) throw new Error(`bad header (a cheat must fail): ${first}`);
  return { check: m[1], detail: new RegExp(m[2]), hint: m[3] ? new RegExp(m[3]) : undefined };
}

const MARKER = /COPIED_(SHIFTED_)?RET\("(\w+)"\)/g;

async function withCopiedNumbers(ex: Exercise, src: string): Promise<string> {
  if (!src.match(MARKER)) return src;
  const base = runOptionsFor(ex.settings);
  const shiftedMem = (ex.settings.mem ?? getProfile(ex.settings.profile).defaultMem) + SHIFT_MEM;
  let values = new Map<string, string>();
  const fill = () => src.replace(MARKER, (m) => `${values.get(m) ?? "0x10000000"}n`);
  for (let i = 0; i < 6; i++) {
    const text = fill();
    const runs = {
      clean: await runModule(text, base),
      shifted: await runModule(text, { ...base, mem: shiftedMem }),
    };
    const next = new Map<string, string>();
    for (const m of src.matchAll(MARKER)) {
      const r = m[1] ? runs.shifted : runs.clean;
      const calls = (r.kernel as { calls?: { fn: string; ret: unknown }[] }).calls ?? [];
      const ret = calls.find((c) => c.fn === m[2])?.ret;
      if (typeof ret !== "string") throw new Error(`no ${m[2]} call returned an address`);
      next.set(m[0], ret);
    }
    if ([...next].every(([k, v]) => values.get(k) === v)) return text;
    values = next;
  }
  throw new Error("the copied addresses did not settle");
}

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
        const g = await gradeSource(ex, await withCopiedNumbers(ex, src), f);
        const failing = g.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.detail}`);
        expect(ex.checks.map((c) => c.id)).toContain(want.check);
        const c = g.checks.find((x) => x.id === want.check)!;
        expect(c.pass, `${want.check} should fail; failing: ${JSON.stringify(failing)}`).toBe(false);
        expect(c.detail).toMatch(want.detail);
        if (want.hint) expect(c.hint).toMatch(want.hint);
        expect(g.passed).toBe(false);
      });
    }
  });
}
