// The statement wherever the exercise is: every number and name a check requires (Check.requires, declared as data
// by the checks) appears in the exercise's statement; the statement text for the CLI names the checks; the notebook
// shows the statement and the check names above the exercise cell.
import { describe, expect, it } from "vitest";
import { JSDOM } from "jsdom";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { statementOf, statementText } from "../../src/grader/statement.ts";

describe("statements agree with the checks", () => {
  for (const ex of EXERCISES) {
    it(`${ex.id}: every number and name its checks require is in the statement`, () => {
      const missing = ex.checks.flatMap((c) => (c.requires ?? []).filter((r) => !ex.statement.includes(r)).map((r) => `${c.id}: "${r}"`));
      expect(missing).toEqual([]);
    });
  }
  it("the checks that test a task's numbers declare them (no exercise's checks require nothing)", () => {
    for (const ex of EXERCISES) expect(ex.checks.flatMap((c) => c.requires ?? []).length, ex.id).toBeGreaterThan(1);
  });
  it("every check that needs extra runs says which, and only the known ones", () => {
    for (const ex of EXERCISES)
      for (const c of ex.checks)
        for (const n of c.needs ?? [])
          expect(["shifted-run", "fault-injection", "other-loaded-time", "busy-run", "high-memory-run", "other-cmdline", "other-writer"]).toContain(n);
  });
  it("the starter and the statement agree on object-cache's 72-byte objects and 100 objects", () => {
    const oc = EXERCISES.find((e) => e.id === "object-cache")!;
    expect(oc.starter).toMatch(/kmem_cache_create\("kmodlab_item", 72,/);
    expect(oc.starter).toMatch(/i < 100/);
    expect(oc.statement).toMatch(/72-byte objects and allocate 100 objects/);
  });
});

describe("statement text (CLI)", () => {
  it("has the title, the machine, the task and one line per check message", () => {
    const ex = EXERCISES.find((e) => e.id === "three-allocators")!;
    const t = statementText(ex);
    expect(t.split("\n")[0]).toBe("three-allocators: One page, 100 bytes, a million bytes [i386-2.6, 160 MiB]");
    expect(t).toContain("take one page with `__get_free_page(GFP_KERNEL)`");
    expect(t).toContain("What will be checked:");
    for (const c of ex.checks) expect(t).toContain(`  - ${c.message}`);
  });
});

describe("statement above the exercise cell (notebook)", () => {
  it("renders the task with code spans and the check names, from the grader's statement", async () => {
    const { window } = new JSDOM("");
    Object.assign(globalThis, { document: window.document });
    const { statementCard } = await import("../../src/notebook/statement.ts");
    const card = statementCard("object-cache", async () => ({ statementOf }));
    await new Promise((r) => setTimeout(r, 0));
    expect(card.querySelector("h4")!.textContent).toBe("Exercise: A cache of your own");
    expect([...card.querySelectorAll("p code")].map((c) => c.textContent)).toContain("kmodlab_item");
    expect(card.textContent).toContain("72-byte objects");
    const items = [...card.querySelectorAll(".statement-checks li")].map((li) => li.getAttribute("data-check"));
    expect(items).toEqual(EXERCISES.find((e) => e.id === "object-cache")!.checks.map((c) => c.id));
    const none = statementCard("no-such-exercise", async () => ({ statementOf }));
    await new Promise((r) => setTimeout(r, 0));
    expect(none.textContent).toBe('There is no exercise "no-such-exercise".');
  });
});
