// Lesson 10 (eras) says what "Compare with another machine" shows for its first cell against i386-2.6: asserted on
// the page's own comparison (output.ts renderComparison, rendered in jsdom) of the two runs, each run as the notebook's
// worker runs it (the cell's settings, the machine the cell's compare= attribute names, the digest the page gets).
import { beforeAll, describe, expect, it } from "vitest";
import { JSDOM } from "jsdom";
import { loadKernelDeps, runModule } from "../../sandbox/run.ts";
import { cellRunSettings, loadLessons } from "../../src/lessons/load.ts";
import { KernelSession } from "../../src/notebook/session.ts";
import { digestForPage } from "../../src/notebook/digest.ts";
import { parseMem } from "../../src/notebook/settings.ts";
import type { RunResult } from "../../sandbox/result.ts";

let renderComparison: typeof import("../../src/notebook/output.ts").renderComparison;

beforeAll(async () => {
  const { window } = new JSDOM("");
  Object.assign(globalThis, { document: window.document, getComputedStyle: window.getComputedStyle.bind(window), requestAnimationFrame: () => 0, Node: window.Node });
  ({ renderComparison } = await import("../../src/notebook/output.ts"));
});

async function runOn(source: string, s: ReturnType<typeof cellRunSettings>, profile: string): Promise<RunResult> {
  const session = new KernelSession(await loadKernelDeps());
  const result = await runModule(source, { profile, mem: parseMem(s.mem ?? ""), cmdline: s.cmdline, config: s.config, limits: { cpuMs: 30_000 }, proc: ["vmallocinfo", "buddyinfo", "slabinfo"] }, session.deps());
  return digestForPage(result, session.keep(1, result.kernel.calls), session.roles);
}

describe("lesson 10 (eras): compare era-61 with i386-2.6", () => {
  const lesson = loadLessons().find((l) => l.meta.id === "eras")!;
  const cell = lesson.cells.find((c) => c.id === "era-61")!;

  it("the cell's compare= attribute names i386-2.6 and the lesson tells the learner so", () => {
    expect(cell.attrs.compare).toBe("i386-2.6");
    expect(lesson.html).toContain("Compare with another machine</strong> is open on i386-2.6");
  });

  it("every dmesg line differs; the 6.1 taint line stands alone; GFP bits, PAGE_OFFSET and %p are paired; init 0, no reports, the same kernel calls on both", async () => {
    const s = cellRunSettings(cell);
    const left = await runOn(cell.source, s, s.profile ?? lesson.meta.profile!);
    const right = await runOn(cell.source, s, cell.attrs.compare as string);
    expect(left.profile).toBe("x86_64-6.1");
    const el = renderComparison(left, right, left.profile, right.profile);
    const rows = [...el.querySelectorAll(".compare-dmesg tbody tr")];
    const side = (tr: Element, c: "left" | "right") => tr.querySelector(`td.${c}`)!.textContent ?? "";
    expect(rows.length).toBeGreaterThan(0);
    // every line differs (marked)
    for (const tr of rows) expect(tr.classList.contains("differ"), side(tr, "left") + " | " + side(tr, "right")).toBe(true);
    // the 6.1 log has one line more, on its own side: the out-of-tree taint
    const alone = rows.filter((tr) => tr.classList.contains("row-left"));
    expect(alone.map((tr) => side(tr, "left"))).toEqual(["cell: loading out-of-tree module taints kernel."]);
    expect(rows.filter((tr) => tr.classList.contains("row-right"))).toEqual([]);
    const paired = (prefix: string) => rows.find((tr) => side(tr, "left").startsWith(prefix))!;
    // GFP_KERNEL and GFP_ATOMIC have other bits
    const gfp = paired("GFP_KERNEL=");
    expect(gfp.classList.contains("row-changed")).toBe(true);
    const bits = (t: string) => /GFP_KERNEL=(0x[0-9a-f]+) GFP_ATOMIC=(0x[0-9a-f]+)/.exec(t)!.slice(1);
    const [k61, a61] = bits(side(gfp, "left"));
    const [k26, a26] = bits(side(gfp, "right"));
    expect(k61).not.toBe(k26);
    expect(a61).not.toBe(a26);
    // PAGE_OFFSET and the vmalloc range are 32-bit on 2.6
    const po = paired("PAGE_OFFSET=");
    expect(side(po, "right")).toMatch(/^PAGE_OFFSET=[0-9a-f]{8} vmalloc [0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(side(po, "left")).toMatch(/^PAGE_OFFSET=[0-9a-f]{16} vmalloc [0-9a-f]{16}-[0-9a-f]{16}$/);
    // %p prints the same as %px on 2.6, a hash on 6.1
    const pp = (t: string) => /%p prints ([0-9a-f]+), %px prints ([0-9a-f]+)/.exec(t)!.slice(1);
    const [h26, x26] = pp(side(paired("%p prints"), "right"));
    expect(h26).toBe(x26);
    const [h61, x61] = pp(side(paired("%p prints"), "left"));
    expect(h61).not.toBe(x61);
    // the figures agree on what the module did
    const fig = (name: string) => el.querySelector(`.compare-figures tr[data-fig="${name}"]`)!;
    for (const name of ["init", "reports", "calls"]) expect(fig(name).classList.contains("differ"), name).toBe(false);
    expect(fig("init").querySelector("td.left")!.textContent).toBe("0");
    expect(fig("reports").querySelector("td.right")!.textContent).toBe("none");
    expect(el.querySelector(".compare-summary")!.textContent).toContain(`${rows.length} of ${rows.length} dmesg lines differ`);
  });
});
