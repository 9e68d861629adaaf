// `kmodlab grade` on a file and on a class directory: exit codes, the summary, Gradescope results.json.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gradeCommand } from "../../src/cli/grade.ts";
import { FIRST_TEN_EXERCISES } from "./first-exercises.ts";
import { lessonsCommand } from "../../src/cli/lessons.ts";
import { getExercise } from "../../src/grader/exercises/index.ts";
import { gradescopeProblems } from "../../src/grader/format.ts";
import { repeatableRun } from "../../src/grader/grade.ts";
import { RunnerPool } from "../../src/node/isolate.ts";

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
      case 0:
        src = ex.solution;
        break;
      case 1:
        src = ex.starter;
        break;
      case 2:
        src = ex.solution.replace('KERN_INFO + "hello', 'KERN_WARNING + "hello').replace("KERN_INFO,", "KERN_INFO, KERN_WARNING,");
        break;
      case 3:
        src = ex.solution.replace('MODULE_LICENSE("GPL");', "");
        break;
      default:
        src = "this is not TypeScript {";
        break;
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
  it("--format gradescope writes a valid results.json with only documented keys, and exits 0 once written (--strict: 1)", async () => {
    const file = join(dir, "one.json");
    const restore = capture();
    const code = await gradeCommand("hello-module", join(dir, "bad.ts"), { format: "gradescope", out: file });
    const strict = await gradeCommand("hello-module", join(dir, "bad.ts"), { format: "gradescope", out: join(dir, "strict.json"), strict: true });
    restore();
    expect(code).toBe(0);
    expect(strict).toBe(1);
    const r = JSON.parse(readFileSync(file, "utf8"));
    expect(gradescopeProblems(r)).toEqual([]);
    expect(Object.keys(r).sort()).toEqual(["execution_time", "output", "score", "stdout_visibility", "tests", "visibility"]);
    expect(r.execution_time).toBeGreaterThan(0);
    expect(r.tests.map((t: object) => Object.keys(t).sort().join(","))).toEqual(ex.checks.map(() => "max_score,name,output,score,status,visibility"));
    expect(r.tests.reduce((s: number, t: { max_score: number }) => s + t.max_score, 0)).toBe(ex.checks.reduce((s, c) => s + (c.points ?? 1), 0));
    expect(r.tests.some((t: { status: string }) => t.status === "failed")).toBe(true);
  });
  it("gradescopeProblems rejects undocumented keys and wrong types", () => {
    expect(gradescopeProblems({ score: 1, max_score: 2, tests: [] })).toEqual(["undocumented top-level key 'max_score'"]);
    expect(gradescopeProblems({ tests: [{ name: "a", status: "ok", points: 1 }] })).toEqual([
      "tests[0]: undocumented key 'points'",
      "tests[0].score is needed when the submission has no score",
      "tests[0].status",
    ]);
    expect(gradescopeProblems({ score: 1, execution_time: "3s", visibility: "public" })).toEqual([
      "execution_time is not a number of seconds",
      "visibility is not one of visible, hidden, after_due_date, after_published",
    ]);
  });
  it("--check ID: the exit status is that one check's", async () => {
    const first = ex.checks[0].id;
    const restore = capture();
    const good = await gradeCommand("hello-module", join(dir, "good.ts"), { check: first });
    const unknown = await gradeCommand("hello-module", join(dir, "good.ts"), { check: "no-such-check" });
    restore();
    expect([good, unknown]).toEqual([0, 2]);
    expect(err.join("")).toMatch(/has no check 'no-such-check'/);
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
  it("grades 50 submissions, prints progress and a summary, and writes one valid Gradescope results.json per submission", async () => {
    const outDir = join(dir, "gradescope");
    const restore = capture();
    const code = await gradeCommand("hello-module", join(dir, "class"), { format: "gradescope", out: outDir });
    restore();
    expect(code).toBe(0); // results written: failing students are data
    const progress = err.join("");
    expect(progress.match(/^graded \d+\/50 /gm)?.length).toBe(50);
    expect(progress).toMatch(/10\/50 submissions pass every check/);
    expect(readdirSync(outDir)).toHaveLength(50);
    const all = Object.fromEntries(readdirSync(outDir).map((n) => [n, JSON.parse(readFileSync(join(outDir, n, "results.json"), "utf8"))]));
    for (const [name, r] of Object.entries(all)) {
      expect(gradescopeProblems(r), name).toEqual([]);
    }
    expect(all["student00"].score).toBe(ex.checks.reduce((s, c) => s + (c.points ?? 1), 0));
    expect(all["student04"].tests.find((t: { name: string }) => /loads/.test(t.name)).status).toBe("failed");
  }, 240_000);
  it("copies of one text are run once: each copy has the first's verdict under its own file name; other texts run on their own", async () => {
    const copies = join(dir, "copies");
    const solo = join(dir, "solo");
    mkdirSync(copies);
    mkdirSync(solo);
    for (const n of ["a", "b", "c"]) writeFileSync(join(copies, `${n}.ts`), ex.solution);
    writeFileSync(join(copies, "d.ts"), ex.starter);
    writeFileSync(join(solo, "x.ts"), ex.solution);
    writeFileSync(join(solo, "y.ts"), ex.starter);
    const runs = vi.spyOn(RunnerPool.prototype, "run");
    const restore = capture();
    let code: number;
    let withCopies: number;
    let alone: number;
    try {
      code = await gradeCommand("hello-module", copies, { json: true });
      withCopies = runs.mock.calls.length;
      runs.mockClear();
      await gradeCommand("hello-module", solo, { json: true });
      alone = runs.mock.calls.length;
    } finally {
      restore();
      runs.mockRestore();
    }
    // a, b, c (one text) and d cost the runs of x and y (the same two texts): the copies b and c made none
    expect(alone).toBeGreaterThanOrEqual(2);
    expect(withCopies).toBe(alone);
    expect(code).toBe(1); // d fails
    const json = JSON.parse(out[0]!) as { results: { file: string; passed: boolean }[] };
    expect(json.results.map((g) => [g.file, g.passed])).toEqual([
      ["a.ts", true],
      ["b.ts", true],
      ["c.ts", true],
      ["d.ts", false],
    ]);
    const [a, b, c] = json.results;
    expect({ ...b, file: "a.ts" }).toEqual(a);
    expect({ ...c, file: "a.ts" }).toEqual(a);
    expect(err.join("").match(/^graded \d+\/4 /gm)?.length).toBe(4);
  }, 240_000);
  it("--format gradescope on a directory without -o DIR is bad usage", async () => {
    const restore = capture();
    const code = await gradeCommand("hello-module", join(dir, "class"), { format: "gradescope" });
    restore();
    expect(code).toBe(2);
    expect(err.join("")).toMatch(/-o DIR/);
  });
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
    // the ten of the first lessons, and any exercise added since (lesson 12's share-a-buffer)
    expect(j.exercises.map((e: { id: string }) => e.id)).toEqual(expect.arrayContaining([...FIRST_TEN_EXERCISES]));
  });
});

describe("the statement in the CLI", () => {
  it("kmodlab grade ID --statement prints the task and what will be checked, without a submission", async () => {
    const restore = capture();
    const code = await gradeCommand("object-cache", undefined, { statement: true });
    restore();
    expect(code).toBe(0);
    const text = out.join("");
    expect(text).toContain("Create a slab cache named `kmodlab_item` for 72-byte objects and allocate 100 objects");
    expect(text).toContain("What will be checked:");
    for (const c of getExercise("object-cache")!.checks) expect(text).toContain(`  - ${c.message}`);
  });
  it("kmodlab grade ID without a file or --statement is bad usage", async () => {
    const restore = capture();
    const code = await gradeCommand("object-cache", undefined, {});
    restore();
    expect(code).toBe(2);
    expect(err.join("")).toMatch(/--statement to read the task/);
  });
  it("kmodlab lessons shows each exercise's task under it; --json gives the statement and the check messages", async () => {
    let restore = capture();
    expect(await lessonsCommand({})).toBe(0);
    restore();
    expect(out.join("")).toMatch(/exercise atomic-alloc: .*\n {8}Register a handler for the board's button interrupt/);
    restore = capture();
    await lessonsCommand({ json: true });
    restore();
    const j = JSON.parse(out.join(""));
    const oc = j.exercises.find((e: { id: string }) => e.id === "object-cache");
    expect(oc.statement).toBe(getExercise("object-cache")!.statement);
    expect(oc.checks.map((c: { id: string }) => c.id)).toEqual(getExercise("object-cache")!.checks.map((c) => c.id));
  });
  it("the grader's text output carries the task", async () => {
    const restore = capture();
    await gradeCommand("hello-module", join(dir, "good.ts"), {});
    restore();
    expect(out.join("")).toMatch(/\n  Task: Write a module that prints `hello, kernel` at KERN_INFO/);
  });
});

describe("repeatableRun: which runs a copy of the same text may share", () => {
  const base = { profile: "x86_64-6.1", initReturn: 0, dmesg: [], bootLog: [], proc: {}, procAfterExit: {}, kernel: {} } as const;
  const stats = { kernelCalls: 0, simTimeNs: 0, tlbHits: 0, tlbMisses: 0, wallMs: 0 };
  const withReport = (r: Record<string, unknown>) => ({ ...base, stats, reports: [{ kind: "limit", text: "", ...r }] }) as never;
  it("the kernel's own outcomes repeat: a clean run, an Oops, the kernel-call, log, RAM and guest stack limits", () => {
    expect(repeatableRun({ ...base, stats, reports: [] } as never)).toBe(true);
    expect(repeatableRun(withReport({ kind: "oops", title: "BUG: unable to handle page fault for address: 0000000000000000" }))).toBe(true);
    for (const limit of ["kernel-calls", "log", "ram"]) expect(repeatableRun(withReport({ title: `kmodlab: ${limit}`, limit }))).toBe(true);
    expect(repeatableRun(withReport({ title: "kmodlab: stack depth limit reached (262144 bytes)", limit: "stack" }))).toBe(true);
  });
  it("outcomes of the wall clock, the host or the WebAssembly memory's state do not: CPU, memory, the host's stack, the host's stop, a failed worker, an internal error", () => {
    expect(repeatableRun(withReport({ kind: "timeout", title: "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:1]", limit: "cpu" }))).toBe(false);
    expect(repeatableRun(withReport({ kind: "out-of-memory", title: "kmodlab: guest memory limit reached (1 bytes)", limit: "memory" }))).toBe(false);
    expect(
      repeatableRun(withReport({ title: "kmodlab: stack depth limit reached (the host's stack ran out before the guest's 262144 bytes)", limit: "stack" })),
    ).toBe(false);
    expect(repeatableRun(withReport({ title: "kmodlab: stopped by the host: CPU limit (2000 ms, the run got 3000 ms)", limit: "cpu" }))).toBe(false);
    expect(repeatableRun(withReport({ kind: "bug", title: "kmodlab: the run's worker failed: it exited without an answer" }))).toBe(false);
    expect(repeatableRun(withReport({ kind: "bug", title: "kmodlab: internal error during init: boom" }))).toBe(false);
    expect(repeatableRun(withReport({ kind: "bug", title: "kmodlab internal error: the simulated kernel failed inside kmalloc: boom" }))).toBe(false);
  });
});
