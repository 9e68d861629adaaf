// Compare two machines (src/notebook/compare.ts): the line alignment of two dmesg texts and the run figures table.
import { describe, expect, it } from "vitest";
import { alignLines, compareFigures, lineShape, MAX_LCS_CELLS, reportsByKind, stripTimestamp } from "../../src/notebook/compare.ts";
import type { RunResult } from "../../sandbox/result.ts";

const ts = (t: number, text: string) => `[${t.toFixed(6).padStart(12)}] ${text}`;

describe("alignLines", () => {
  it("strips the timestamps: the same text at different times is the same line", () => {
    expect(stripTimestamp("[    1.234567] hello")).toBe("hello");
    expect(stripTimestamp("[12345.000001] x")).toBe("x");
    expect(stripTimestamp("no stamp")).toBe("no stamp");
    const al = alignLines([ts(1.5, "a"), ts(1.6, "b")], [ts(6154.1, "a"), ts(6154.2, "b")]);
    expect(al.rows).toEqual([
      { kind: "same", left: "a", right: "a" },
      { kind: "same", left: "b", right: "b" },
    ]);
    expect(al.differences).toBe(0);
  });

  it("pairs the lines between two common lines as changed, keeps the common lines aligned", () => {
    const al = alignLines(["start", "GFP_KERNEL=0xcc0", "p=1", "end"], ["start", "GFP_KERNEL=0xd0", "p=2", "end"]);
    expect(al.rows.map((r) => r.kind)).toEqual(["same", "changed", "changed", "same"]);
    expect(al.rows[1]).toEqual({ kind: "changed", left: "GFP_KERNEL=0xcc0", right: "GFP_KERNEL=0xd0" });
    expect(al.differences).toBe(2);
    expect(al.positional).toBe(false);
  });

  it("a line only one side has stays on its side, and the lines after it realign", () => {
    const al = alignLines(["a", "b", "c", "d"], ["a", "c", "d", "e"]);
    expect(al.rows).toEqual([
      { kind: "same", left: "a", right: "a" },
      { kind: "left", left: "b" },
      { kind: "same", left: "c", right: "c" },
      { kind: "same", left: "d", right: "d" },
      { kind: "right", right: "e" },
    ]);
    expect(al.differences).toBe(2);
  });

  it("more lines on one side of a gap than the other: the extra ones are left or right only", () => {
    const al = alignLines(["x", "1", "2", "3", "y"], ["x", "9", "y"]);
    expect(al.rows.map((r) => r.kind)).toEqual(["same", "changed", "left", "left", "same"]);
    const empty = alignLines([], ["only"]);
    expect(empty.rows).toEqual([{ kind: "right", right: "only" }]);
  });

  it("in a gap, lines of the same shape (other numbers) pair up and a line of another shape stays on its side", () => {
    const al = alignLines(["taint line", "GFP_KERNEL=0xcc0 MAX=11", "PAGE_OFFSET=ffff888000000000"], ["GFP_KERNEL=0xd0 MAX=11", "PAGE_OFFSET=c0000000"]);
    expect(al.rows).toEqual([
      { kind: "left", left: "taint line" },
      { kind: "changed", left: "GFP_KERNEL=0xcc0 MAX=11", right: "GFP_KERNEL=0xd0 MAX=11" },
      { kind: "changed", left: "PAGE_OFFSET=ffff888000000000", right: "PAGE_OFFSET=c0000000" },
    ]);
    expect(lineShape("p=0xcc0 at ffff8880 face 12")).toBe("p=# at # face #");
  });

  it("every line of both sides appears once, in order, whatever the inputs", () => {
    const a = Array.from({ length: 40 }, (_, i) => `l${(i * 7) % 11}`);
    const b = Array.from({ length: 33 }, (_, i) => `l${(i * 5) % 13}`);
    const al = alignLines(a, b);
    expect(al.rows.flatMap((r) => (r.kind === "right" ? [] : [r.left]))).toEqual(a);
    expect(al.rows.flatMap((r) => (r.kind === "left" ? [] : [r.right]))).toEqual(b);
    for (const r of al.rows) if (r.kind === "same") expect(r.left).toBe(r.right);
  });

  it("logs past the LCS table limit are paired by position and say so", () => {
    const n = Math.ceil(Math.sqrt(MAX_LCS_CELLS)) + 1;
    const a = Array.from({ length: n }, (_, i) => `a${i}`);
    const b = [...a.slice(0, n - 1), "other"];
    const al = alignLines(a, b);
    expect(al.positional).toBe(true);
    expect(al.rows.length).toBe(n);
    expect(al.differences).toBe(1);
    expect(al.rows[n - 1]).toEqual({ kind: "changed", left: `a${n - 1}`, right: "other" });
  });
});

describe("compareFigures", () => {
  const run = (over: Omit<Partial<RunResult>, "stats"> & { stats?: Partial<RunResult["stats"]> }): RunResult =>
    ({
      profile: "p",
      initReturn: 0,
      dmesg: [],
      bootLog: [],
      reports: [],
      proc: {},
      ...over,
      stats: { kernelCalls: 5, simTimeNs: 1, moduleTimeNs: 1000, tlbHits: 3, tlbMisses: 2, wallMs: 1, ...over.stats },
    }) as RunResult;

  it("marks the figures that differ between the two runs and only those", () => {
    const l = run({ stats: { tlbMisses: 2 } });
    const r = run({ initReturn: -12, stats: { tlbMisses: 9 }, reports: [{ kind: "bug" }, { kind: "warn" }, { kind: "bug" }] as RunResult["reports"] });
    const f = compareFigures(l, r, (ns) => `${ns / 1000} µs`);
    expect(f.map((x) => x.name)).toEqual(["init", "reports", "time", "calls", "tlbMisses"]);
    const by = Object.fromEntries(f.map((x) => [x.name, x]));
    expect(by.init).toMatchObject({ left: "0", right: "-12", differ: true });
    expect(by.reports).toMatchObject({ left: "none", right: "bug ×2, warn ×1", differ: true });
    expect(by.time).toMatchObject({ left: "1 µs", right: "1 µs", differ: false });
    expect(by.calls.differ).toBe(false);
    expect(by.tlbMisses).toMatchObject({ left: "2", right: "9", differ: true });
  });

  it("an init that never returned reads as such", () => {
    expect(compareFigures(run({ initReturn: null }), run({}))[0]).toMatchObject({ left: "did not return", right: "0", differ: true });
    expect(reportsByKind({ reports: [] })).toBe("none");
  });
});
