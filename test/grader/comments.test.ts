// printedValue fails a module whose code holds the run's address as a literal (a cheat that carries both runs'
// copied addresses and picks one); a comment that quotes an earlier output is not code and must not fail it.
import { describe, expect, it } from "vitest";
import { getExercise } from "../../src/grader/exercises/index.ts";
import { gradeSource, runOptionsFor } from "../../src/grader/grade.ts";
import { runModule } from "../../sandbox/run.ts";

describe("addresses quoted in comments", () => {
  it("three-allocators: the reference solution with its own printed addresses in comments (0x..., line and block) still passes", async () => {
    const ex = getExercise("three-allocators")!;
    const r = await runModule(ex.solution, runOptionsFor(ex.settings));
    const addrs = r.dmesg.map((l) => /([0-9a-f]{8})\s*$/.exec(l)?.[1]).filter((a): a is string => !!a);
    expect(addrs).toHaveLength(3);
    const quoted = `// my last run printed: ${addrs.map((a) => "0x" + a).join(", ")}\n/* and as bigints: ${addrs.map((a) => "0x" + a + "n").join(" ")} */\n`;
    const g = await gradeSource(ex, quoted + ex.solution);
    expect(g.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.detail}`)).toEqual([]);
    // the same numbers in code are a copied output
    const inCode = ex.solution.replace(/^/, `const seen = [${addrs.map((a) => "0x" + a + "n").join(", ")}];\nvoid seen;\n`);
    const bad = await gradeSource(ex, inCode);
    expect(bad.checks.find((c) => !c.pass)?.detail).toMatch(/the module's source holds 0x[0-9a-f]+, the address/);
  }, 120_000);
});
