// Random modules over the whole API table, each run through the sandbox with the invariant checker
// (fuzz/gen.ts, fuzz/oracle.ts): the generator's and the oracle's own tests, and determinism. The 1000 programs of
// `npm test` run in fuzz-shard-{1,2,3,4}.test.ts (in parallel); `npm run fuzz` runs 10000. A failure prints its
// seed: reproduce with `npm run fuzz -- --seed N`.

import { describe, expect, it } from "vitest";
import { API } from "../../sandbox/api.ts";
import { inEra, type FunctionEntry } from "../../sandbox/table.ts";
import { FUZZ_TARGETS, MACHINE_BLOCK, MACHINES_PER_TARGET, NOT_FUZZED_YET, fuzzOrder, generate, machineOf } from "../../fuzz/gen.ts";
import { KNOWN_BUGS, judge, runOptions } from "../../fuzz/oracle.ts";
import { kernelBootCache, loadKernelDeps, runModule } from "../../sandbox/run.ts";
import { boot } from "../../src/kernel/kernel.ts";
import type { RunResult } from "../../sandbox/result.ts";

const START = Number(process.env.FUZZ_START ?? 1);
const eraOf = (seed: number) => FUZZ_TARGETS[seed % FUZZ_TARGETS.length]!.era;

describe("the generator", () => {
  it("is a pure function of the seed and the table", () => {
    for (const s of [1, 77, 4242]) expect(generate(API, s).source).toBe(generate(API, s).source);
    expect(generate(API, 1).source).not.toBe(generate(API, 2).source);
  });

  it("reaches every function of the table in every era, callbacks and wrong frees included (2000 programs)", () => {
    const seen = new Map<string, Set<string>>();
    let wrongFree = 0;
    let callbacks = 0;
    let loops = 0;
    for (let s = 0; s < 2000; s++) {
      const g = generate(API, s);
      const era = eraOf(s);
      const set = seen.get(era) ?? new Set<string>();
      for (const n of [...g.used.linux, ...g.used.sim, ...g.used.user]) set.add(n);
      seen.set(era, set);
      if (/\bp(\d)\s*=\s*vz?alloc\([^;]*;[\s\S]*\b(kfree|free_pages?)\(p\1\b/.test(g.source)) wrongFree++;
      callbacks += g.program.fns.filter((f) => /^cb\d+$/.test(f.name)).length;
      if (/for \(let i = 0; i < \d+; i\+\+\)/.test(g.source)) loops++;
    }
    for (const [era, set] of seen) {
      const fns = API.filter(
        (e): e is FunctionEntry =>
          e.kind === "function" && inEra(e, era as never) && !["module_init", "module_exit"].includes(e.name) && !NOT_FUZZED_YET.has(e.name),
      );
      expect(
        fns.map((f) => f.name).filter((n) => !set.has(n)),
        `era ${era}`,
      ).toEqual([]);
    }
    expect(wrongFree).toBeGreaterThan(20);
    expect(loops).toBeGreaterThan(50);
    // Callback parameters exist only once the table has rows that take module functions (timers, IRQs...).
    if (API.some((e) => e.kind === "function" && e.params.some((p) => p.type === "fn") && !["module_init", "module_exit"].includes(e.name)))
      expect(callbacks).toBeGreaterThan(50);
  });
});

describe("the oracle fails the runs it must fail", () => {
  const base: RunResult = {
    profile: "x86_64-6.1",
    initReturn: 0,
    dmesg: [],
    bootLog: [],
    reports: [],
    proc: {},
    procAfterExit: {},
    stats: { kernelCalls: 0, simTimeNs: 0, tlbHits: 0, tlbMisses: 0, wallMs: 0 },
    kernel: {},
  };
  it("an invariant violation, a host failure caught by the module, a timeout, a sandbox bug", () => {
    const inv = {
      kind: "bug" as const,
      title: "kmodlab internal error: the simulated kernel is inconsistent (1 invariant violation: frames: x)",
      text: "t\nexplain\nframes: pfn 0x10 is Free but in no free list",
    };
    expect(judge({ ...base, reports: [inv] }, "6.1").failures).toEqual(["invariant: frames: pfn 0x10 is Free but in no free list"]);
    expect(
      judge({ ...base, dmesg: ["[    1.000000] FUZZ-HOST-FAILURE InternalError: kmodlab: the simulated kernel failed inside kmalloc: x"] }, "6.1").failures,
    ).toHaveLength(1);
    expect(judge({ ...base, reports: [{ kind: "timeout", title: "watchdog: BUG: soft lockup", text: "", limit: "cpu" }] }, "6.1").failures).toHaveLength(1);
    expect(judge({ ...base, reports: [{ kind: "bug", title: "kmodlab: internal error during init: x", text: "" }] }, "6.1").failures).toHaveLength(1);
    expect(judge({ ...base, reports: [{ kind: "oops", title: "BUG: unable to handle page fault", text: "" }] }, "6.1").failures).toEqual([]);
  });
  it("a hang the kernel models is an outcome; the sandbox's CPU deadline is one only for a program that loops forever on purpose", () => {
    const modelled = [
      { kind: "timeout" as const, title: "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]", text: "" },
      { kind: "timeout" as const, title: "kmodlab: insmod/108 sleeps forever in mutex_lock() on &mutex#1, held by insmod/108", text: "" },
      { kind: "bug" as const, title: "kernel BUG at mm/vmalloc.c:2571!", text: "" },
    ];
    for (const rep of modelled) expect(judge({ ...base, reports: [rep] }, "6.1").failures, rep.title).toEqual([]);
    const deadline = { kind: "timeout" as const, title: "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]", text: "", limit: "cpu" as const };
    expect(judge({ ...base, reports: [deadline] }, "6.1").failures).toEqual([`timeout: ${deadline.title}`]);
    expect(judge({ ...base, reports: [deadline] }, "6.1", { endless: true }).failures).toEqual([]);
  });
  it("a known bug's lines are counted as known, not as failures (KNOWN_BUGS is empty today: the test pins its own)", () => {
    const inv = {
      kind: "bug" as const,
      title: "kmodlab internal error: the simulated kernel is inconsistent (1 invariant violation: x)",
      text: "t\nexplain\nslab.checkInvariants: size-128: object 0 twice on the freelist of slab pfn 4685",
    };
    expect(judge({ ...base, reports: [inv] }, "2.6").failures).toHaveLength(1);
    KNOWN_BUGS.push({
      id: "test-pinned",
      era: "2.6",
      pattern: /^slab\.checkInvariants: \S+: object \d+ twice on the freelist of slab pfn \d+$/,
      where: "this test",
    });
    try {
      expect(judge({ ...base, reports: [inv] }, "2.6")).toMatchObject({ failures: [], known: ["test-pinned"] });
      expect(judge({ ...base, reports: [inv] }, "6.1").failures).toHaveLength(1); // pinned for its era only
    } finally {
      KNOWN_BUGS.pop();
    }
  });
});

describe("fuzzed runs (the 1000 programs themselves: fuzz-shard-{1..4}.test.ts)", () => {
  it("the same seed gives the same RunResult (except wall time)", async () => {
    for (const s of [START, START + 3]) {
      const g = generate(API, s);
      const strip = (r: RunResult) => JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 } });
      const a = await runModule(g.source, runOptions(g.program));
      const b = await runModule(g.source, runOptions(g.program));
      expect(strip(a)).toBe(strip(b));
    }
  });
});

describe("the machines the programs run on (fuzz/gen.ts machineOf)", () => {
  const strip = (r: RunResult) => JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 } }, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));

  it("a seed's machine is a pure function of the seed: the same on repeat, shared by a few seeds of its target, new in the next block", () => {
    for (const s of [1, 33, 799, 800, 4242]) {
      expect(machineOf(s)).toEqual(machineOf(s));
      const p = generate(API, s).program;
      expect(runOptions(p)).toEqual(runOptions(generate(API, s).program));
      expect({ bootSeed: p.bootSeed, mem: p.mem }).toEqual({ bootSeed: machineOf(s).bootSeed, mem: machineOf(s).mem });
    }
    // one block: MACHINES_PER_TARGET machines per target, each with its own boot seed; 128 MiB but the last
    const block = fuzzOrder(0, MACHINE_BLOCK);
    for (let t = 0; t < FUZZ_TARGETS.length; t++) {
      const ms = new Map(block.filter((s) => s % FUZZ_TARGETS.length === t).map((s) => [machineOf(s).bootSeed, machineOf(s)]));
      expect(ms.size).toBe(MACHINES_PER_TARGET);
      expect([...ms.values()].filter((m) => m.mem === undefined)).toHaveLength(1);
    }
    // the next block's machines are other machines (other boot seeds)
    const seedsOf = (from: number) => new Set(fuzzOrder(from, from + MACHINE_BLOCK).map((s) => machineOf(s).bootSeed));
    expect([...seedsOf(MACHINE_BLOCK)].filter((b) => seedsOf(0).has(b))).toEqual([]);
    // fuzzOrder runs one machine's programs together: the machine changes once per machine in a block
    const runsOfMachines = block.filter(
      (s, i) => i === 0 || `${s % 8}/${machineOf(s).bootSeed}` !== `${block[i - 1]! % 8}/${machineOf(block[i - 1]!).bootSeed}`,
    );
    expect(runsOfMachines).toHaveLength(FUZZ_TARGETS.length * MACHINES_PER_TARGET);
    expect([...block].sort((a, b) => a - b)).toEqual(Array.from({ length: MACHINE_BLOCK }, (_, i) => i));
  });

  it("programs on one restored machine do not see each other's state: a dirtying program, then checking ones, as on a fresh boot", async () => {
    const deps = await loadKernelDeps();
    const cache = kernelBootCache()!;
    // two seeds of one machine (x86_64-6.1 debug, 128 MiB): the first of its programs in fuzz order, and the next
    const [a, b] = fuzzOrder(START, START + MACHINE_BLOCK).filter((s) => s % FUZZ_TARGETS.length === 0);
    expect(runOptions(generate(API, a!).program)).toEqual(runOptions(generate(API, b!).program));
    const opts = runOptions(generate(API, a!).program);
    const dirty = `import { module_init, MODULE_LICENSE, kmalloc, vmalloc, __get_free_pages, memset, printk, KERN_INFO, GFP_KERNEL } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
  for (let i = 0; i < 300; i++) memset(kmalloc(64, GFP_KERNEL), 0x5a, 64);
  memset(vmalloc(1 << 20), 0xa5, 1 << 20);
  __get_free_pages(GFP_KERNEL, 3);
  printk(KERN_INFO + "dirty\\n");
  return 0;
});
`;
    const check = `import { module_init, MODULE_LICENSE, kmalloc, kfree, readb, printk, KERN_INFO, GFP_KERNEL } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
  const p = kmalloc(64, GFP_KERNEL);
  printk(KERN_INFO + "kmalloc %px reads %d\\n", p, readb(p));
  kfree(p);
  return 0;
});
`;
    const onFreshBoot = { ...deps, boot: (p: string, o: Parameters<typeof boot>[1]) => boot(p, o) };
    const fresh = [await runModule(check, opts, onFreshBoot), await runModule(generate(API, b!).source, opts, onFreshBoot)];
    const before = { ...cache.stats };
    const first = await runModule(dirty, opts);
    // it ran and left its dirt behind, in its own copy: 300 kmalloc objects, 1 MiB of vmalloc and 8 pages never freed
    expect(first.initReturn).toBe(0);
    // kmemleak prints each leaked object (~13 lines): past the log buffer's 128 KiB ring, which has overwritten the
    // module's own "dirty" line by then, as a real kernel's would; the summary is the last line
    expect(first.dmesg.at(-1)).toMatch(/kmemleak: 301 new suspected memory leaks/);
    expect(first.reports.some((r) => r.kind === "leak")).toBe(true);
    await runModule(dirty, opts);
    const restored = [await runModule(check, opts), await runModule(generate(API, b!).source, opts)];
    expect(cache.stats.copies - before.copies).toBeGreaterThanOrEqual(2);
    expect(restored.map(strip)).toEqual(fresh.map(strip));
  }, 60_000);
});
