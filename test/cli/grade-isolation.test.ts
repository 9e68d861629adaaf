// `kmodlab grade EXERCISE DIR` always finishes: every submission runs in its own isolated worker (--jobs N of them
// at once); one the host has to stop scores zero with its reason, and every other submission is graded and written.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "./capture.ts";
import { getExercise } from "../../src/grader/exercises/index.ts";
import type { GradeResult } from "../../src/grader/types.ts";

const ex = getExercise("three-allocators")!;
const HOSTILE: Record<string, string> = {
  "c-indexof.ts": `import { module_init } from "linux";\nmodule_init(() => [].indexOf.call({ length: 2 ** 53 - 1 } as any, 1));\n`,
  "e-join.ts": `import { module_init } from "linux";\nmodule_init(() => Array(2 ** 32 - 1).join().length);\n`,
  "g-loop.ts": `import { module_init } from "linux";\nmodule_init(() => { for (;;) {} });\n`,
};
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kmodlab-grade-iso-"));
  mkdirSync(join(dir, "class"));
  writeFileSync(join(dir, "class", "a-good.ts"), ex.solution);
  writeFileSync(join(dir, "class", "b-starter.ts"), ex.starter);
  writeFileSync(join(dir, "class", "d-good.ts"), ex.solution);
  writeFileSync(join(dir, "class", "f-good.ts"), ex.solution);
  for (const [name, src] of Object.entries(HOSTILE)) writeFileSync(join(dir, "class", name), src);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("kmodlab grade DIR with hostile submissions", () => {
  it("--jobs 2: every submission is graded and written; the hangs score zero with 'stopped: CPU limit'; --strict exits 1", async () => {
    const results = join(dir, "results.json");
    const r = await cli(["grade", "three-allocators", join(dir, "class"), "--jobs", "2", "--format", "json", "-o", results, "--strict"]);
    expect(r.code).toBe(1); // --strict: a failed submission makes it 1 even with -o
    const { results: rs } = JSON.parse(readFileSync(results, "utf8")) as { results: GradeResult[] };
    expect(rs.map((g) => g.file)).toEqual(["a-good.ts", "b-starter.ts", "c-indexof.ts", "d-good.ts", "e-join.ts", "f-good.ts", "g-loop.ts"]);
    const by = Object.fromEntries(rs.map((g) => [g.file!, g]));
    // the others are graded check by check, exactly as `grade FILE` grades each of them alone
    const alone = async (f: string) => JSON.parse((await cli(["grade", "three-allocators", join(dir, "class", f), "--json"])).out) as GradeResult;
    const sol = await alone("a-good.ts");
    const starter = await alone("b-starter.ts");
    for (const f of ["a-good.ts", "d-good.ts", "f-good.ts"])
      expect([f, by[f]!.error, by[f]!.checks.map((c) => c.pass)]).toEqual([f, undefined, sol.checks.map((c) => c.pass)]);
    expect([by["b-starter.ts"]!.error, by["b-starter.ts"]!.checks.map((c) => c.pass)]).toEqual([undefined, starter.checks.map((c) => c.pass)]);
    // the built-in hangs: the host stopped the run's JavaScript and the run ended as the sandbox's own CPU stop (the
    // era's soft lockup: three-allocators is a 2.6 exercise), or, when that salvage failed, the host ended the worker
    for (const f of ["c-indexof.ts", "e-join.ts"]) {
      expect(by[f]!.score).toBe(0);
      expect(by[f]!.error).toMatch(
        /^stopped: CPU limit \((BUG: soft lockup - CPU#0 stuck for 61s! \[insmod:\d+\]|2000 ms, the run got \d+ ms; the host ended the run)\)$/,
      );
    }
    // the ordinary endless loop: the sandbox's own deadline, also a zero with its reason
    expect(by["g-loop.ts"]!.score).toBe(0);
    expect(by["g-loop.ts"]!.error).toMatch(/^stopped: CPU limit \((watchdog: )?BUG: soft lockup/);
    // progress names every submission, and the summary counts them all
    for (const f of Object.keys(by)) expect(r.err).toContain(f);
    expect(r.err).toMatch(new RegExp(`${sol.passed ? 3 : 0}/7 submissions pass every check`));
    const m = process.memoryUsage();
    expect(m.heapUsed).toBeLessThan(512 << 20);
  }, 180_000);

  it("a file: the hostile submission is a zero with its reason, exit 1, and the next grade in the process works", async () => {
    writeFileSync(join(dir, "one.ts"), HOSTILE["e-join.ts"]!);
    const bad = await cli(["grade", "three-allocators", join(dir, "one.ts"), "--json"]);
    expect(bad.code).toBe(1);
    const g = JSON.parse(bad.out) as GradeResult;
    expect([g.score, g.passed]).toEqual([0, false]);
    expect(g.error).toMatch(/^stopped: CPU limit/);
    writeFileSync(join(dir, "fine.ts"), ex.solution);
    const fine = await cli(["grade", "three-allocators", join(dir, "fine.ts"), "--json"]);
    const g2 = JSON.parse(fine.out) as GradeResult;
    expect(g2.error).toBeUndefined(); // graded check by check: the worker the hang took was replaced
    expect(g2.checks.length).toBe(ex.checks.length);
    expect(fine.code).toBe(g2.passed ? 0 : 1);
  }, 120_000);
});
