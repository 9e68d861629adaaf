// The grader judges a run whose call log folded repeated memory blocks (sandbox/calllog.ts, past
// CALL_LOG_BUDGET.foldAfter entries) exactly as it judges the same run logged call by call: allocations are counted
// with their repeats, each repeat's free is the block's free, and what is left allocated is still named.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gradeWith, runOptionsFor } from "../../src/grader/grade.ts";
import { runModule } from "../../sandbox/run.ts";
import { allocatedAs, loads, noReports, nothingLeaked } from "../../src/grader/checks.ts";
import { CALL_LOG_BUDGET } from "../../sandbox/calllog.ts";
import type { Exercise, GradeResult } from "../../src/grader/types.ts";

// Folding from the 2,000th entry (20,000 by default), so that the runs stay small and quick on any machine.
const original = { ...CALL_LOG_BUDGET };
const saved = { ...original, foldAfter: 2000 };
beforeEach(() => Object.assign(CALL_LOG_BUDGET, saved));
afterEach(() => Object.assign(CALL_LOG_BUDGET, original));

const HEAD = `import { kmalloc, kfree, __get_free_pages, free_pages, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let p = 0n;
`;
/** A long loop first (past foldAfter), then the pattern the checks judge, itself a loop of 1000 blocks. */
const cell = (pages: string, exit = "kfree(p);") => `${HEAD}module_init(() => {
  for (let i = 0; i < 3000; i++) kfree(kmalloc(32, GFP_KERNEL));
  p = kmalloc(4096, GFP_KERNEL);
  for (let i = 0; i < 1000; i++) { ${pages} }
  return 0;
});
module_exit(() => { ${exit} });
`;
const CORRECT = cell("const q = __get_free_pages(GFP_KERNEL, 1); free_pages(q, 1);");

const exercise: Exercise = {
  id: "folded-log",
  title: "alloc and free after a long loop",
  lesson: "test",
  settings: { profile: "x86_64-6.1", config: "distro" },
  statement: "Allocate 4 KiB with kmalloc in init and free it in exit; take and give back 1000 order-1 blocks.",
  starter: "",
  solution: CORRECT,
  checks: [
    loads(),
    noReports(),
    nothingLeaked(),
    allocatedAs({ id: "buf", message: "a 4 KiB kmalloc", hint: "kmalloc(4096)", fns: ["kmalloc"], size: 4096, count: 1 }),
    allocatedAs({ id: "pages", message: "1000 order-1 blocks", hint: "__get_free_pages(.., 1)", fns: ["__get_free_pages"], order: 1, count: 1000 }),
    allocatedAs({ id: "small", message: "3000 kmalloc(32)", hint: "the loop", fns: ["kmalloc"], size: 32, count: 3000 }),
  ],
};

const verdicts = (g: GradeResult) => g.checks.map((c) => [c.id, c.pass] as const);

/** The grade with the log folded and with every call an entry (the log as it was before folding), and how many calls
 *  the first run's log folded. */
async function gradeBoth(source: string) {
  let foldedCalls = 0;
  const folded = await gradeWith(exercise, source, async (src, o) => {
    const r = await runModule(src, o);
    foldedCalls += (r.kernel as { callsFolded?: number }).callsFolded ?? 0;
    return r;
  });
  CALL_LOG_BUDGET.foldAfter = Infinity;
  const plain = await gradeWith(exercise, source, (src, o) => runModule(src, o));
  Object.assign(CALL_LOG_BUDGET, saved);
  expect(foldedCalls).toBeGreaterThan(4_000); // the submission's loops were folded: the grade below judged that log
  return { folded, plain };
}

describe("grading a run whose call log folded repeats", () => {
  it("the run's log is folded: 8,003 memory calls kept as at most foldAfter + a few entries, the rest counted in repeats", async () => {
    const r = await runModule(CORRECT, runOptionsFor(exercise.settings));
    const k = r.kernel as { calls: { fn: string; repeats?: { times: number; calls: number } }[]; callsFolded?: number };
    expect(r.stats.kernelCalls).toBeGreaterThanOrEqual(8003); // with MODULE_LICENSE, module_init, module_exit
    expect(k.calls.length).toBeLessThanOrEqual(CALL_LOG_BUDGET.foldAfter + 8);
    expect(k.callsFolded).toBe(r.stats.kernelCalls - k.calls.length);
    const folded = k.calls.filter((c) => c.repeats).map((c) => [c.fn, c.repeats!.calls]);
    expect(folded).toEqual([
      ["kmalloc", 2],
      ["__get_free_pages", 2],
    ]);
  }, 120_000);

  it("a correct submission after a 6,000-call loop passes every check; counts include the folded repeats", async () => {
    const { folded, plain } = await gradeBoth(CORRECT);
    expect(folded.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.detail}`)).toEqual([]);
    expect(verdicts(folded)).toEqual(verdicts(plain));
    expect(folded.checks.find((c) => c.id === "no-leak")!.detail).toBe("4001 allocations, all freed");
    expect(folded.checks.find((c) => c.id === "no-leak")!.detail).toBe(plain.checks.find((c) => c.id === "no-leak")!.detail);
  }, 120_000);

  it("the wrong order freed 1000 times after the loop: no-leak fails on the folded record as on the full log", async () => {
    const { folded, plain } = await gradeBoth(cell("const q = __get_free_pages(GFP_KERNEL, 1); free_pages(q, 0);"));
    expect(verdicts(folded)).toEqual(verdicts(plain));
    const leak = folded.checks.find((c) => c.id === "no-leak")!;
    expect(leak.pass).toBe(false);
    expect(leak.detail).toMatch(/^__get_free_pages\(order 1\) at 0x[0-9a-f]+ \(line 7\) x\d+ was freed with free_pages\(order 0\)/);
  }, 120_000);

  it("the 4 KiB buffer left allocated after the loop is named by no-leak, folded or not", async () => {
    const { folded, plain } = await gradeBoth(cell("const q = __get_free_pages(GFP_KERNEL, 1); free_pages(q, 1);", ""));
    expect(verdicts(folded)).toEqual(verdicts(plain));
    const leak = folded.checks.find((c) => c.id === "no-leak")!;
    expect(leak.pass).toBe(false);
    expect(leak.detail).toMatch(/^never freed: kmalloc\(4096\) at 0x[0-9a-f]+ \(line 6\)$/);
    expect(leak.detail).toBe(plain.checks.find((c) => c.id === "no-leak")!.detail);
  }, 120_000);
});

describe("folding compares a block with the last shape as numbers, and falls back to the shape's text", () => {
  it("alternating shapes (each block differs from the last) and one repeated shape fold to the same counts", async () => {
    const src = `${HEAD}module_init(() => {
  for (let i = 0; i < 3000; i++) kfree(kmalloc(32, GFP_KERNEL));
  for (let i = 0; i < 1000; i++) { kfree(kmalloc(64, GFP_KERNEL)); kfree(kmalloc(128, GFP_KERNEL)); }
  for (let i = 0; i < 500; i++) { const q = __get_free_pages(GFP_KERNEL, 1); free_pages(q, 1); }
  return 0;
});
module_exit(() => {});
`;
    const r = await runModule(src, { profile: "x86_64-6.1", config: "distro" });
    const calls = r.kernel.calls as { fn: string; args: unknown[]; repeats?: { times: number; calls: number } }[];
    const count = (fn: string, arg0: unknown) =>
      calls.filter((c) => c.fn === fn && String(c.args[0]) === String(arg0)).reduce((n, c) => n + 1 + (c.repeats?.times ?? 0), 0);
    expect([count("kmalloc", 32), count("kmalloc", 64), count("kmalloc", 128), count("free_pages", calls.find((c) => c.fn === "free_pages")!.args[0])]).toEqual(
      [3000, 1000, 1000, 1],
    );
    expect(calls.filter((c) => c.fn === "__get_free_pages").reduce((n, c) => n + 1 + (c.repeats?.times ?? 0), 0)).toBe(500);
    // every folded call is counted once: the log's entries plus the folded calls are the calls made
    const entries = calls.length;
    const folded = (r.kernel as { callsFolded?: number }).callsFolded ?? 0;
    expect(folded).toBeGreaterThan(0);
    expect(entries + folded).toBe(3 + 3000 * 2 + 1000 * 4 + 500 * 2);
    // the 64- and 128-byte blocks each fold into their own first block, not into one another's
    const firsts = calls.filter((c) => c.fn === "kmalloc" && (String(c.args[0]) === "64" || String(c.args[0]) === "128") && c.repeats);
    expect(firsts.map((c) => c.repeats!.calls)).toEqual([2, 2]);
  }, 120_000);
});
