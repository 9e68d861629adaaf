// `kmodlab grade` on a file and on a class directory: exit codes, the summary, Gradescope results.json.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gradeCommand } from "../../src/cli/grade.ts";
import { lessonsCommand } from "../../src/cli/lessons.ts";
import { getExercise } from "../../src/grader/exercises/index.ts";
import { gradescopeProblems } from "../../src/grader/format.ts";

const ex = getExercise("hello-module")!;
let dir: string;
let out: string[];
let err: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kmodlab-grade-"));
  mkdirSync(join(dir, "class"));
  // 50 submissions: solutions, starters, wrong levels, missing licences, garbage.
  for (let i = 0; i < 50; i++) {
    let src: string;
    switch (i % 5) {
      case 0: src = ex.solution; break;
      case 1: src = ex.starter; break;
      case 2: src = ex.solution.replace('KERN_INFO + "hello', 'KERN_WARNING + "hello').replace("KERN_INFO,", "KERN_INFO, KERN_WARNING,"); break;
      case 3: src = ex.solution.replace('MODULE_LICENSE("GPL");', ""); break;
      default: src = "this is not TypeScript {"; break;
    }
    writeFileSync(join(dir, "class", `student${String(i).padStart(2, "0")}.ts`), src);
  }
  writeFileSync(join(dir, "class", "notes.txt"), "not a submission");
  writeFileSync(join(dir, "good.ts"), ex.solution);
  writeFileSync(join(dir, "bad.ts"), ex.starter);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  out = [];
  err = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  return () => (o.mockRestore(), e.mockRestore());
}

describe("kmodlab grade FILE", () => {
  it("exits 0 and prints every check when all pass", async () => {
    const restore = capture();
    const code = await gradeCommand("hello-module", join(dir, "good.ts"), {});
    restore();
    expect(code).toBe(0);
    expect(out.join("")).toMatch(/PASSED/);
    expect(out.join("").match(/✓/g)?.length).toBe(ex.checks.length);
  });
  it("exits 1 with the first failing check's hint first", async () => {
    const restore = capture();
    const code = await gradeCommand("hello-module", join(dir, "bad.ts"), {});
    restore();
    expect(code).toBe(1);
    const text = out.join("");
    expect(text).toMatch(/✗/);
    expect(text.indexOf("Hint:")).toBeLessThan(text.indexOf("✓"));
  });
  it("--format gradescope writes a valid results.json", async () => {
    const file = join(dir, "one.json");
    const restore = capture();
    const code = await gradeCommand("hello-module", join(dir, "bad.ts"), { format: "gradescope", out: file });
    restore();
    expect(code).toBe(1);
    const r = JSON.parse(readFileSync(file, "utf8"));
    expect(gradescopeProblems(r)).toEqual([]);
    expect(r.max_score).toBe(ex.checks.length);
    expect(r.tests.some((t: { status: string }) => t.status === "failed")).toBe(true);
  });
  it("bad usage exits 2: unknown exercise, missing path", async () => {
    const restore = capture();
    const a = await gradeCommand("no-such-exercise", join(dir, "good.ts"), {});
    const b = await gradeCommand("hello-module", join(dir, "missing.ts"), {});
    restore();
    expect([a, b]).toEqual([2, 2]);
    expect(err.join("")).toMatch(/unknown exercise 'no-such-exercise'/);
  });
});

describe("kmodlab grade DIR", () => {
  it("grades 50 submissions, prints progress and a summary, and writes a valid Gradescope file", async () => {
    const file = join(dir, "results.json");
    const restore = capture();
    const code = await gradeCommand("hello-module", join(dir, "class"), { format: "gradescope", out: file });
    restore();
    expect(code).toBe(1);
    const progress = err.join("");
    expect(progress.match(/^graded \d+\/50 /gm)?.length).toBe(50);
    expect(progress).toMatch(/10\/50 submissions pass every check/);
    const all = JSON.parse(readFileSync(file, "utf8"));
    expect(Object.keys(all)).toHaveLength(50);
    for (const [name, r] of Object.entries(all)) {
      expect(gradescopeProblems(r), name).toEqual([]);
    }
    expect(all["student00.ts"].score).toBe(ex.checks.length);
    expect(all["student04.ts"].tests.find((t: { name: string }) => /loads/.test(t.name)).status).toBe("failed");
  }, 240_000);
});

describe("kmodlab lessons", () => {
  it("lists every lesson in order with its exercises", async () => {
    const restore = capture();
    const code = await lessonsCommand({ json: true });
    restore();
    expect(code).toBe(0);
    const j = JSON.parse(out.join(""));
    const orders = j.lessons.map((l: { order: number }) => l.order);
    expect([...orders].sort((a: number, b: number) => a - b)).toEqual(orders);
    expect(j.exercises).toHaveLength(10);
  });
});
