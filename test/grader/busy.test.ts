// The grader's answers to two ways of passing without doing the task:
// - stop-the-thread's busy run (grade.ts busyWindows): a count worked out from the time loaded (jiffies / 500 ms) equals
//   the thread's on an idle machine; on a busy machine the thread wakes late and counts 3 to 6 fewer in the same 5 s.
// - fault injection past FAULT_RUNS_ALL sites fails the first site of every kernel call module_init makes (chooseSites),
//   so that one unchecked allocation among a hundred others is failed too.
// - share-a-buffer's "other-writer" run: MemoryProbe.write stores other bytes into the module's buffer before unload, as
//   another program would, so that a sum written in (not read) fails.
import { describe, expect, it } from "vitest";
import {
  busyWindows,
  BUSY_BEFORE_MS,
  callsOfInit,
  chooseSites,
  extraRuns,
  FAULT_CALLS_MAX,
  FAULT_RUNS_MAX,
  judge,
  listedSitesOf,
  runOptionsFor,
  unlistedCallsOf,
} from "../../src/grader/grade.ts";
import { getExercise } from "../../src/grader/exercises/index.ts";
import { runModule } from "../../sandbox/run.ts";

/** The count of a thread that wakes every `period` ms from `t0`, stopped at `end`, with these windows holding it back. */
function modelCount(windows: { atMs: number; ms: number }[], t0: number, period: number, end: number): number {
  let t = t0;
  let n = 0;
  for (;;) {
    for (const w of windows) if (t >= w.atMs && t < w.atMs + w.ms) t = w.atMs + w.ms;
    if (t >= end) return n;
    n++;
    t += period;
  }
}

describe("busyWindows", () => {
  it("gives windows of 600 to 899 ms, 150 to 399 ms apart, all starting before 4 s, the same for the same text", () => {
    for (let i = 0; i < 300; i++) {
      const text = `// submission ${i}\n${"x".repeat(i)}`;
      const w = busyWindows(text);
      expect(busyWindows(text)).toEqual(w);
      expect(w.length).toBeGreaterThanOrEqual(3);
      expect(w[0].atMs).toBeGreaterThanOrEqual(200);
      expect(w[0].atMs).toBeLessThan(500);
      w.forEach((x, j) => {
        expect(x.ms).toBeGreaterThanOrEqual(600);
        expect(x.ms).toBeLessThan(900);
        expect(x.atMs).toBeLessThan(BUSY_BEFORE_MS);
        if (j) expect(x.atMs - (w[j - 1].atMs + w[j - 1].ms)).toBeGreaterThanOrEqual(150);
      });
      // a thread waking every 504 ms (msleep(500) at HZ=250) counts at least 3 fewer in 5 s, whatever its start
      for (const t0 of [0, 4, 100, 300]) expect(modelCount([], t0, 504, 5000) - modelCount(w, t0, 504, 5000)).toBeGreaterThanOrEqual(3);
    }
  });

  it("the reference solution counts less on the busy machine than on the idle one, as the model says", async () => {
    const ex = getExercise("stop-the-thread")!;
    const count = (r: Awaited<ReturnType<typeof runModule>>) =>
      (r.kernel as { calls: { fn: string; ret: unknown }[] }).calls.find((c) => c.fn === "kthread_stop")!.ret as number;
    const windows = busyWindows(ex.solution);
    const idle = await runModule(ex.solution, runOptionsFor(ex.settings));
    const busy = await runModule(ex.solution, { ...runOptionsFor(ex.settings), busy: windows });
    expect(busy.reports).toEqual([]);
    expect(count(idle)).toBe(10);
    expect(count(busy)).toBe(modelCount(windows, 0, 504, 5000));
    expect(count(idle) - count(busy)).toBeGreaterThanOrEqual(3);
  });
});

describe("chooseSites", () => {
  const listed = (n: number, entry: (i: number) => number, place: (i: number) => string = () => "init:14:7") =>
    Array.from({ length: n }, (_, i) => ({ call: i + 1, entry: entry(i + 1), where: place(i + 1) }));

  it("takes every site up to 16, then the first 8, a spread, and the first site of each module call not covered", () => {
    expect(chooseSites(5)).toEqual([1, 2, 3, 4, 5]);
    // 100 calls from one line of a loop (one place), each call its own: the 40th among them is failed too
    const sites = chooseSites(
      100,
      listed(100, (i) => i),
    );
    expect(sites).toContain(40);
    expect(sites.length).toBe(100);
    // a call whose allocation takes several sites (a slab page after the object) is failed at its first
    const two = chooseSites(
      120,
      listed(120, (i) => Math.ceil(i / 2)),
    );
    expect(two).toContain(79);
    expect(two).not.toContain(80);
    // without the list: the first 8 and the spread, which miss it
    expect(chooseSites(100)).not.toContain(40);
  });

  it("never makes more than FAULT_RUNS_MAX runs: calls past the cap are spread over, the first and the last kept", () => {
    const sites = chooseSites(
      400,
      listed(400, (i) => i),
    );
    expect(sites.length).toBe(FAULT_RUNS_MAX);
    expect(sites).toContain(400);
    expect(sites).toContain(9);
  });
});

describe("the counting run lists the first site of every module call (FaultSite.entry), past MAX_SITES too", () => {
  it("a helper called from a loop 520 times and then from three lines: every call is one, each listed; a vzalloc's sites are one call", async () => {
    // past the first 512 sites the kernel once listed a call only when its place was new (and before that, only when its
    // innermost frame changed): a loop's later passes were never failed, nor a helper's later callers
    const cell = `import { kmalloc, kfree, vzalloc, vfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
function take(): bigint { return kmalloc(32, GFP_KERNEL); }
module_init(() => {
  for (let i = 0; i < 520; i++) kfree(take());
  const a = take();
  const b = take();
  const c = take();
  kfree(a); kfree(b); kfree(c);
  vfree(vzalloc(4 << 20));
  return 0;
});
`;
    const r = await runModule(cell, { profile: "x86_64-6.1", config: "debug", views: false, failNth: 0xffffffff });
    const listed = listedSitesOf(r);
    // every pass of the loop past the first 512 sites is listed, each a call of its own, then the three lines
    const loop = listed.filter((x) => /^take:3:.*<.*:5:/.test(x.where ?? ""));
    expect(loop.length).toBe(520);
    expect(new Set(loop.map((x) => x.entry)).size).toBe(520);
    const late = listed.filter((x) => x.call > 520 && /^take:3:/.test(x.where ?? ""));
    expect(late.map((x) => x.where!.split("<")[1]?.split(":")[1])).toEqual(["6", "7", "8"]);
    // 523 kmalloc calls and one vzalloc, whose sites (its vm_struct, vmap_area, page array and pages) share one call
    const vz = listed.filter((x) => /:10:/.test(x.where ?? ""));
    expect(new Set(vz.map((x) => x.entry)).size).toBe(1);
    expect(callsOfInit(listed, unlistedCallsOf(r))).toBe(524);
    expect(r.faultInjection!.insmodCalls).toBeGreaterThan(524);
  });
});

describe("fault runs: the series ends at the first failing run, and a module past FAULT_CALLS_MAX calls fails the check", () => {
  const run = (src: string, o: Parameters<typeof runModule>[1]) => runModule(src, o);
  it("the same verdict and message with the series cut short as with every run made", async () => {
    const ex = getExercise("fix-the-bugs")!;
    // the bugs fixed, the vmalloc unchecked: its fault run (the 3rd of 8 sites) fails the check
    const src = ex.solution.replace(/table = vmalloc\(8192\);\n\s*if \(table === 0n\) return -ENOMEM;/, "table = vmalloc(8192);");
    expect(src).not.toBe(ex.solution);
    const clean = await run(src, runOptionsFor(ex.settings));
    const cut = await extraRuns(ex, src, run, clean);
    const whole = { ...ex, checks: ex.checks.map(({ failsOnFaultRun: _, ...c }) => c) };
    const all = await extraRuns(whole, src, run, clean);
    expect(cut.faults!.runs.length).toBeLessThan(all.faults!.runs.length);
    const a = judge(ex, clean, src, undefined, cut).checks.find((c) => c.id === "handles-allocation-failure")!;
    const b = judge(ex, clean, src, undefined, all).checks.find((c) => c.id === "handles-allocation-failure")!;
    expect(a.pass).toBe(false);
    expect(a).toEqual(b);
  });

  it(`a module_init making more than ${FAULT_CALLS_MAX} allocating calls fails the check without a fail-nth run, saying the limit`, async () => {
    const ex = getExercise("fix-the-bugs")!;
    const src = ex.solution.replace(
      "function sum_init(): number {",
      "function sum_init(): number {\n  for (let i = 0; i < 130; i++) kfree(kmalloc(8, GFP_KERNEL));",
    );
    const clean = await run(src, runOptionsFor(ex.settings));
    const extra = await extraRuns(ex, src, run, clean);
    expect(extra.faults!.runs.filter((r) => !r.attr)).toEqual([]);
    // 130 in the loop and the three of the reference (kmalloc(16), vmalloc, kmalloc(64))
    const c = judge(ex, clean, src, undefined, extra).checks.find((x) => x.id === "handles-allocation-failure")!;
    expect(c.pass).toBe(false);
    expect(c.detail).toMatch(new RegExp(`makes 133 kernel calls that allocate .*more than the ${FAULT_CALLS_MAX}`));
  });
});

describe("MemoryProbe.write (another program's stores)", () => {
  it("stores the values into the module's buffer before the moment's reads and module_exit, which reads them", async () => {
    const cell = `import { vmalloc, vfree, readb, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let b = 0n;
module_init(() => { b = vmalloc(16384); return 0; });
module_exit(() => { let s = 0; for (let i = 0; i < 4; i++) s += readb(b + BigInt(i * 4096)); printk(KERN_INFO + "sum %d\\n", s); vfree(b); });
`;
    const alloc = { fns: ["vmalloc"] };
    const r = await runModule(cell, {
      probes: [
        { id: "read", at: "unloading", alloc, stride: 4096, count: 4, width: 1 },
        { id: "poke", at: "unloading", alloc, stride: 4096, count: 4, width: 1, write: [7, 11, 13, 17] },
      ],
    });
    expect(r.reports).toEqual([]);
    const mem = (r.kernel as { memory: Record<string, { values: number[] }> }).memory;
    expect(mem.poke.values).toEqual([7, 11, 13, 17]);
    expect(mem.read.values).toEqual([7, 11, 13, 17]); // the writes come first
    expect(r.dmesg.some((l) => l.endsWith("sum 48"))).toBe(true);
  });
});
