// Every cell a lesson shows, and every exercise's starter and reference solution, type-checks against its kernel era's
// linux.d.ts: in the notebook a type error means "Not run" (until Run anyway), so a lesson's own code, or the solution
// "Show a solution" puts in the editor, must not have one. A cell that is there to show a compile error says so
// (expect=compile-error).
import { describe, expect, it } from "vitest";
import { typeCheckCell } from "../../src/cli/check.ts";
import { cellRunSettings, expectedKinds, loadLessons } from "../../src/lessons/load.ts";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { getProfile } from "../../src/kernel/profiles.ts";

const errors = async (source: string, profile: string) =>
  (await typeCheckCell(source, getProfile(profile).era)).filter((d) => d.category === "error").map((d) => `line ${d.line}: ${d.message}`);

describe("lesson code type-checks against its era's linux.d.ts", () => {
  it("every lesson cell but those that show a compile error", async () => {
    const bad: string[] = [];
    for (const l of loadLessons())
      for (const c of l.cells) {
        if (expectedKinds(c).includes("compile-error")) continue;
        // a cell with no profile of its own or its lesson's runs on the default machine, x86_64-6.1
        for (const e of await errors(c.source, cellRunSettings(c).profile ?? "x86_64-6.1")) bad.push(`${l.meta.id}/${c.id}: ${e}`);
      }
    expect(bad).toEqual([]);
  }, 120_000);

  it("every exercise's starter and reference solution", async () => {
    const bad: string[] = [];
    for (const ex of EXERCISES)
      for (const [what, source] of [["starter", ex.starter], ["solution", ex.solution]] as const)
        if (source) for (const e of await errors(source, ex.settings.profile ?? "x86_64-6.1")) bad.push(`${ex.id} ${what}: ${e}`);
    expect(bad).toEqual([]);
  }, 120_000);
});
