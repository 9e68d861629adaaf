// What the folders of graded submissions share (test/grader/variants/, fixtures/others/, fixtures/cheats/, each run by
// its *.test.ts): the header that says what a file expects, the markers for numbers copied from an earlier run, and
// the verdict a file must get.
//
// The header is the file's first line:
//   // expect: pass — why it is correct
//   // expect: fail CHECK-ID /DETAIL-REGEX/ [hint /HINT-REGEX/] — the mistake
// Markers filled in before grading (a fixed point: the file's length, and so its module's layout, must not change
// between the run copied from and the graded one; the simulator is deterministic):
//   COPIED_RET("fn")         what the first call of fn returned in a run of this very file on the exercise's machine
//   COPIED_SHIFTED_RET("fn") the same in the grader's second run of the file as written, markers and all (its RAM
//                            and other driver's vmalloc buffer drawn from that text: shiftFor): a learner who copied
//                            the address from the grader's own report of the submission before the numbers went in
//   COPIED_DISGUISED_RET("fn"), COPIED_SHIFTED_DISGUISED_RET("fn")  the same, written as an expression that holds no
//                            literal of the address (base 36, xor a key), as a learner hiding a copied number writes
import { expect } from "vitest";
import { runOptionsFor, shiftFor } from "../../src/grader/grade.ts";
import { getProfile } from "../../src/kernel/profiles.ts";
import { runModule } from "../../sandbox/run.ts";
import type { Exercise, GradeResult } from "../../src/grader/types.ts";

export interface Expect {
  pass: boolean;
  check?: string;
  detail?: RegExp;
  hint?: RegExp;
}

export function parseHeader(first: string): Expect {
  if (/^\/\/ expect: pass\b/.test(first)) return { pass: true };
  const m = /^\/\/ expect: fail (\S+) \/(.+?)\/(?: hint \/(.+?)\/)?(?: —|$)/.exec(first);
  if (!m) throw new Error(`bad header: ${first}`);
  return { pass: false, check: m[1], detail: new RegExp(m[2]), hint: m[3] ? new RegExp(m[3]) : undefined };
}

const MARKER = /COPIED_(SHIFTED_)?(DISGUISED_)?RET\("(\w+)"\)/g;

/** A copied address written so that the source holds no literal of it: base 36, xor a key, always 12 digits long. */
const disguise = (hex: string): string => `(BigInt(parseInt("${(BigInt(hex) ^ 0x5a5a5a5a5an).toString(36).padStart(12, "0")}", 36)) ^ 0x5a5a5a5a5an)`;

/** The submission with its markers replaced by the addresses its own runs got (see the header). */
export async function withCopiedNumbers(ex: Exercise, src: string): Promise<string> {
  const markers = [...src.matchAll(MARKER)];
  if (!markers.length) return src;
  const base = runOptionsFor(ex.settings);
  const shift = shiftFor(src);
  const shifted = markers.some((m) => m[1])
    ? { ...base, mem: (ex.settings.mem ?? getProfile(ex.settings.profile).defaultMem) + shift.extraMem, otherVmallocPages: shift.otherVmallocPages }
    : undefined;
  let values = new Map<string, string>();
  const fill = () =>
    src.replace(MARKER, (m, _s, disguised: string | undefined) => {
      const v = values.get(m) ?? "0x10000000";
      return disguised ? disguise(v) : `${v}n`;
    });
  for (let i = 0; i < 6; i++) {
    const text = fill();
    const clean = await runModule(text, base);
    const other = shifted && (await runModule(text, shifted));
    const next = new Map<string, string>();
    for (const m of markers) {
      const r = m[1] ? other! : clean;
      const calls = (r.kernel as { calls?: { fn: string; ret: unknown }[] }).calls ?? [];
      const ret = calls.find((c) => c.fn === m[3])?.ret;
      if (typeof ret !== "string") throw new Error(`no ${m[3]} call returned an address`);
      next.set(m[0], ret);
    }
    if ([...next].every(([k, v]) => values.get(k) === v)) return text;
    values = next;
  }
  throw new Error("the copied addresses did not settle: each run of the file got others");
}

/**
 * The exercise a fixture is graded with: the exercise itself, except that a wrong file whose named check does not read
 * the fault-injection runs gets none. Only handles-allocation-failure reads them (CheckContext.runs.faults), and such a
 * file asserts another check's verdict, so the runs change nothing it asserts; they are up to 140 runs a file
 * (object-cache: one per object), most of the fixtures' CI time. Every other extra run is made as for a learner.
 */
export function exerciseFor(ex: Exercise, want: Expect): Exercise {
  const FI = "fault-injection";
  if (want.pass || ex.checks.find((c) => c.id === want.check)?.needs?.includes(FI)) return ex;
  return { ...ex, checks: ex.checks.map((c) => (c.needs?.includes(FI) ? { ...c, needs: c.needs.filter((n) => n !== FI) } : c)) };
}

/** A pass passes every check; a fail fails the named check (among `checkedBy`'s) with the header's detail and hint. */
export function expectVerdict(g: GradeResult, want: Expect, checkedBy: Exercise): void {
  const failing = g.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.detail}`);
  if (want.pass) {
    expect(failing).toEqual([]);
    expect(g.passed).toBe(true);
    return;
  }
  expect(checkedBy.checks.map((c) => c.id)).toContain(want.check);
  const c = g.checks.find((x) => x.id === want.check)!;
  expect(c.pass, `${want.check} should fail; failing: ${JSON.stringify(failing)}`).toBe(false);
  expect(c.detail).toMatch(want.detail!);
  if (want.hint) expect(c.hint).toMatch(want.hint);
  expect(g.passed).toBe(false);
}
