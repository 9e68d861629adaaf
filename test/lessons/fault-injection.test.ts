// Lesson 9's fault-injection section: what its text claims about its cells, asserted on the cells' runs with the
// cells' own settings; the fail-nth cell setting; RunOptions.failNth / RunResult.faultInjection as the grader uses them.
import { describe, expect, it } from "vitest";
import { loadLessons, cellRunSettings } from "../../src/lessons/load.ts";
import { cellSettings } from "../../src/notebook/settings.ts";
import { runModule } from "../../sandbox/run.ts";
import { renderRun } from "../../src/cli/run.ts";
import type { RunResult } from "../../sandbox/result.ts";

const lesson = loadLessons().find((l) => l.meta.id === "finding-bugs")!;
const cell = (id: string) => {
  const c = lesson.cells.find((x) => x.id === id);
  if (!c) throw new Error(`lesson 9 has no cell ${id}`);
  return c;
};
const text = (r: RunResult) => r.dmesg.map((l) => l.replace(/^\[[ \d.]+\] /, ""));

async function runCell(id: string, failNth?: number): Promise<RunResult> {
  const c = cell(id);
  const s = cellRunSettings(c);
  return runModule(c.source, { profile: s.profile, cmdline: s.cmdline, failNth: failNth ?? s.failNth });
}

describe("lesson 9, failure paths: the fail-table cell (fail-nth=3)", () => {
  it("declares fail-nth=3 and the settings parser passes it on", () => {
    expect(cellRunSettings(cell("fail-table")).failNth).toBe(3);
  });

  it("the lesson's list of init's calls is what the kernel counted", async () => {
    const r = await runCell("fail-table", 1000);
    expect(r.initReturn).toBe(0);
    expect(r.faultInjection!.failNthLeft).toBe(1000 - 8);
    expect(r.faultInjection!.sites.map((s) => s.what)).toEqual([
      "kmalloc-64",
      "Slab page",
      "kmalloc-512",
      "Slab pages (order 2)",
      "vmalloc vm_struct",
      "vmap_area",
      "vmalloc page array",
      "Vmalloc pages (bulk of 16)",
    ]);
  });

  it("with 3 the table's kzalloc fails: init frees hdr and returns -ENOMEM, insmod says so, no leak, no report", async () => {
    const r = await runCell("fail-table");
    const t = text(r);
    expect(t).toContain("FAULT_INJECTION: forcing a failure.");
    expect(t).toContain("name failslab, interval 1, probability 0, space 0, times 1");
    expect(t.some((l) => /^ setup_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/.test(l))).toBe(true);
    expect(t).toContain("setup: no memory for the table");
    expect(r.initReturn).toBe(-12);
    expect(r.module).toMatchObject({ loaded: false, insmodError: "insmod: ERROR: could not insert module cell.ko: Cannot allocate memory" });
    expect(r.reports).toEqual([]);
    expect(r.faultInjection!.injected).toMatchObject([{ attr: "failslab", what: "kmalloc-512", call: 3, by: "fail-nth" }]);
    expect(r.faultInjection!.failNthLeft).toBe(0);
    expect(t.join("\n")).not.toContain("page allocation failure");
  });

  it("with 5 vmalloc fails and prints its own 'vm_struct allocation failed' line; init unwinds both kmallocs", async () => {
    const r = await runCell("fail-table", 5);
    const t = text(r);
    expect(t.some((l) => l.startsWith("insmod: vmalloc error: size 65536, vm_struct allocation failed, mode:0xcc0(GFP_KERNEL)"))).toBe(true);
    expect(t).toContain("setup: no memory for the buffer");
    expect(r.initReturn).toBe(-12);
    expect(r.reports.map((x) => x.kind)).toEqual(["vmalloc-failure"]);
  });

  for (const n of [4, 8]) {
    it(`with ${n} the fault is injected but made up for (silently: __GFP_NOWARN), and init loads`, async () => {
      const r = await runCell("fail-table", n);
      expect(r.faultInjection!.injected).toHaveLength(1);
      expect(text(r).some((l) => l.startsWith("FAULT_INJECTION"))).toBe(false);
      expect(r.initReturn).toBe(0);
      expect(text(r)).toContain("setup: all three allocations made");
      expect(r.reports).toEqual([]);
    });
  }

  it("without the setting it loads and unloads cleanly, and the RunResult has no faultInjection part", async () => {
    const c = cell("fail-table");
    const r = await runModule(c.source, { profile: cellRunSettings(c).profile });
    expect(r.initReturn).toBe(0);
    expect(r.reports).toEqual([]);
    expect("faultInjection" in r).toBe(false);
  });

  it("trying N = 1, 2, ... until fail-nth reads back positive visits every call once, and init never leaks", async () => {
    const seen: number[] = [];
    for (let n = 1; n < 50; n++) {
      const r = await runCell("fail-table", n);
      if (r.faultInjection!.failNthLeft! > 0) break;
      seen.push(n);
      expect(r.reports.filter((x) => x.kind === "leak" || x.kind === "oops")).toEqual([]);
      expect([0, -12]).toContain(r.initReturn);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe("lesson 9, failure paths: the no-null-check cell (failslab=1,100,0,1)", () => {
  it("the boot parameter fails the first GFP_ATOMIC kmalloc; the write to NULL is KASAN's null-ptr-deref, then the Oops", async () => {
    const r = await runCell("no-null-check");
    const t = text(r);
    expect(t).toContain("name failslab, interval 1, probability 100, space 0, times 1");
    expect(r.reports.map((x) => x.kind)).toEqual(["kasan", "oops"]);
    expect(r.reports[0]!.title).toMatch(/^BUG: KASAN: null-ptr-deref/);
    expect(r.faultInjection).toMatchObject({ insmodCalls: 1, injected: [{ attr: "failslab", by: "attr", size: 16, what: "kmalloc-16" }] });
  });
});

describe("the fail-nth cell setting and RunOptions.failNth", () => {
  it("cellSettings reads fail-nth=N and refuses what is not an integer from 1", () => {
    expect(cellSettings({ attrs: { "fail-nth": "4" }, profile: "x86_64-6.1" }).failNth).toBe(4);
    for (const bad of ["0", "-1", "two", "1.5"]) {
      expect(() => cellSettings({ attrs: { "fail-nth": bad }, profile: "x86_64-6.1" })).toThrow(`fail-nth="${bad}"`);
    }
  });

  it("on a 3.4 kernel (no fail-nth before 4.13) and on a distro kernel the run ends before insmod with the reason", async () => {
    const src = cell("fail-table").source;
    const old = await runModule(src, { profile: "arm-3.4-msm8x25", failNth: 1 });
    expect(old.reports.map((x) => x.title)).toEqual([
      "kmodlab: fault injection: /proc/102/fail-nth: No such file or directory (fail-nth arrived in Linux 4.13; this 3.4 kernel has only the boot parameters failslab= and fail_page_alloc=: <interval>,<probability>,<space>,<times>)",
    ]);
    const distro = await runModule(src, { config: "distro", failNth: 1 });
    expect(distro.reports[0]!.title).toMatch(/CONFIG_FAULT_INJECTION; use the debug config/);
    const zero = await runModule(src, { failNth: 0 });
    expect(zero.reports[0]!.title).toMatch(/failNth must be an integer >= 1/);
  });

  it("faultAttrs writes debugfs knobs: failslab probability 100 with ignore-gfp-wait N fails init's first kmalloc", async () => {
    const r = await runModule(cell("fail-table").source, { faultAttrs: { failslab: { probability: 100, "ignore-gfp-wait": "N", times: 1 } } });
    expect(r.initReturn).toBe(-12);
    expect(r.faultInjection!.injected).toMatchObject([{ by: "attr", what: "kmalloc-64", call: 1 }]);
    const bad = await runModule(cell("fail-table").source, { faultAttrs: { failslab: { "min-order": 0 } } });
    expect(bad.reports[0]!.title).toContain("/sys/kernel/debug/failslab/min-order: No such file or directory");
  });

  it("before fail-nth (3.4), faultAttrs interval N, probability 100, times 1 fails the Nth failslab call instead", async () => {
    const src = cell("fail-table").source;
    const r = await runModule(src, { profile: "arm-3.4-msm8x25", faultAttrs: { failslab: { interval: 2, probability: 100, times: 1, "ignore-gfp-wait": "N" } } });
    expect(r.initReturn).toBe(-12);
    expect(text(r)).toContain("FAULT_INJECTION: forcing a failure");
    expect(text(r)).toContain("setup: no memory for the table");
    expect(r.faultInjection!.injected).toMatchObject([{ attr: "failslab", by: "attr", what: "kmalloc-512" }]);
    expect(r.faultInjection!.sites.filter((x) => x.attr === "failslab").map((x) => x.what)).toEqual(["kmalloc-64", "kmalloc-512"]);
  });

  it("kmodlab run's stderr says which call fail-nth failed, or that it was not reached", async () => {
    const hit = renderRun("m.ts", await runCell("fail-table", 3), false).err;
    expect(hit).toContain("kmodlab: fail-nth 3: call 3 of 3 failed: kmalloc-512 (failslab, object size 512, GFP_KERNEL|__GFP_ZERO)");
    const miss = renderRun("m.ts", await runCell("fail-table", 20), false).err;
    expect(miss).toContain("kmodlab: fail-nth 20: not reached (module_init made 8 allocation calls; fail-nth reads back 12)");
  });
});
