// Call traces name every frame of the cell with a kernel symbol (`name+0xoff/0xsize [cell]`, a C identifier):
// a function QuickJS names after its variable or property keeps that name; an anonymous arrow or function
// expression is `cell_line_N` (N: the line it starts on; `cell_line_N_2` for a second one there); code outside every
// function is `cell_top_level`. Offsets follow the line within the function (0x10 + 0x20 per line), as for named
// functions. sandbox/stack.ts, transpile.ts scanScopes, run.ts registers the symbols.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { transpileCell } from "../../sandbox/transpile.ts";
import { anonymousName, parseStack, TOP_LEVEL } from "../../sandbox/stack.ts";

const head = `import { kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
`;
const run = (body: string) => runModule(head + body, { views: false });
/** The [cell] lines of every call trace in dmesg, trimmed. */
const cellFrames = (dmesg: string[]) =>
  dmesg.map((l) => l.replace(/^\[[^\]]*\]/, "").trim()).filter((l) => l.endsWith(" [cell]") && !/^(BUG|WARNING|CPU|Modules)/.test(l));
const KERNEL_FRAME = /^[A-Za-z_][\w.]*\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/;

describe("anonymous functions get kernel-style symbols in call traces", () => {
  it("an arrow passed to module_init is cell_line_N, offset by the line within it; no '(top level)' or nested '[cell]+'", async () => {
    const r = await run(`let a = 0n;
module_init(() => {
  a = kmalloc(100, GFP_KERNEL);
  kfree(a);
  kfree(a);
  return 0;
});
module_exit(() => {});
`);
    const frames = cellFrames(r.dmesg);
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect(f).toMatch(KERNEL_FRAME);
    expect(r.dmesg.join("\n")).not.toContain("(top level)");
    expect(r.dmesg.join("\n")).not.toMatch(/\[cell\]\+0x/);
    // the arrow starts on cell line 4; the second kfree (the double free) is line 7: 0x10 + 0x20 * 3
    expect(frames).toContain("cell_line_4+0x70/0xe0 [cell]");
    // allocated on line 5, freed first on line 6 (KASAN's alloc and free stacks)
    expect(frames).toContain("cell_line_4+0x30/0xe0 [cell]");
    expect(frames).toContain("cell_line_4+0x50/0xe0 [cell]");
  });

  it("a named arrow keeps its variable's name, an object's arrow its property's; an anonymous callback inside a named function is its own frame above it", async () => {
    const r = await run(`const named = () => { throw new Error("named"); };
const obj = { meth: () => { throw new Error("meth"); } };
function outer(): void {
  [1].forEach((y) => {
    throw new Error("boom " + y);
  });
}
module_init(() => {
  try { named(); } catch (e) { /* seen */ }
  outer();
  return 0;
});
module_exit(() => { obj.meth(); });
`);
    const oops = r.reports.find((x) => x.text.includes("boom 1"))!;
    expect(oops).toBeDefined();
    const trace = cellFrames(oops.text.split("\n"));
    expect(trace.slice(0, 3)).toEqual(["cell_line_6+0x30/0x80 [cell]", "outer+0x30/0xc0 [cell]", "cell_line_10+0x50/0xc0 [cell]"]);
    expect(oops.frames?.map((f) => f.fn).slice(0, 3)).toEqual(["cell_line_6", "outer", "cell_line_10"]);
    const r2 = await run(`const obj = { meth: () => { throw new Error("meth"); } };
module_init(() => { obj.meth(); return 0; });
`);
    const m = r2.reports.find((x) => x.text.includes("Error: meth"))!;
    expect(cellFrames(m.text.split("\n")).slice(0, 2)).toEqual([expect.stringMatching(/^meth\+0x10\/0x[0-9a-f]+ \[cell\]$/), "cell_line_4+0x10/0x40 [cell]"]);
    const r3 = await run(`const named = () => { throw new Error("named"); };
module_init(() => { named(); return 0; });
`);
    const n = r3.reports.find((x) => x.text.includes("Error: named"))!;
    expect(cellFrames(n.text.split("\n"))[0]).toBe("named+0x10/0x40 [cell]");
  });

  it("two anonymous functions on one line are cell_line_N and cell_line_N_2", async () => {
    const r = await run(`module_init(() => { [1].forEach(() => { throw new Error("inner"); }); return 0; });
module_exit(() => {});
`);
    const oops = r.reports.find((x) => x.text.includes("Error: inner"))!;
    expect(cellFrames(oops.text.split("\n")).slice(0, 2)).toEqual(["cell_line_3_2+0x10/0x40 [cell]", "cell_line_3+0x10/0x40 [cell]"]);
  });

  it("an exception in the cell's top-level code is cell_top_level, offset by the cell line", async () => {
    const r = await run(`const x: number[] = [];
x.push(1);
throw new Error("at load");
`);
    const oops = r.reports.find((x) => x.text.includes("at load"))!;
    // line 5 of the cell: 0x10 + 0x20 * 4
    expect(cellFrames(oops.text.split("\n"))).toEqual([expect.stringMatching(/^cell_top_level\+0x90\/0x[0-9a-f]+ \[cell\]$/)]);
    expect(oops.frames?.[0]).toMatchObject({ fn: TOP_LEVEL, line: 5 });
  });
});

describe("transpile's function scopes and the stack parser", () => {
  it("scopes: one per function (parameters and body as one), named by declaration, assignment or property as JavaScript names them, the rest cell_line_N", () => {
    const tr = transpileCell(`const f = (a: number): number => a + 1;
function g(): void { const h = function () { return 2; }; }
module_init(async (): Promise<number> => { return [1].map((y) => y)[0]; });
const o = { key: async () => 1, other: 2 }, t = true ? () => 1 : () => 2;
`);
    if (!tr.ok) throw new Error("compile");
    expect(tr.scopes.map((s) => [s.name, s.line, s.endLine])).toEqual([
      ["f", 1, 1],
      ["g", 2, 2],
      ["h", 2, 2],
      ["cell_line_3", 3, 3],
      ["cell_line_3_2", 3, 3],
      ["key", 4, 4],
      ["cell_line_4", 4, 4],
      ["cell_line_4_2", 4, 4],
    ]);
  });

  it("an <anonymous> frame takes the innermost scope holding its position; outside every scope it is the top level; a QuickJS name is kept", () => {
    const tr = transpileCell(`module_init(() => {
  [1].forEach((y) => {
    return y;
  });
  return 0;
});
`);
    if (!tr.ok) throw new Error("compile");
    expect(anonymousName(tr.scopes, 3, 5)).toBe("cell_line_2");
    expect(anonymousName(tr.scopes, 5, 3)).toBe("cell_line_1");
    expect(anonymousName(tr.scopes, 7, 1)).toBe(TOP_LEVEL);
    const frames = parseStack(
      "    at <anonymous> (cell.ts:3:5)\n    at forEach (native)\n    at my_init (cell.ts:5:3)\n    at <anonymous> (cell.ts:7:1)\n",
      tr.scopes,
    );
    expect(frames.map((f) => f.fn)).toEqual(["cell_line_2", "my_init", TOP_LEVEL]);
  });
});
