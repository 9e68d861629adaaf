// Kernel-call sites (transpile.ts markSites, bindings.ts innermostFrame): the bridge knows where in the cell a call
// was made without walking the guest's stack for each call. What they must not change: the call log's cell line of
// every allocation and free (the grader's "allocated at line N"), kmemleak's caller, and the alloc/free stacks KASAN
// prints, whether the call came from a site (`kmalloc(...)`), from none (`L.kmalloc(...)` through a namespace, a
// kernel function called through Function.prototype.call), or from a helper called from several places; and the
// columns QuickJS reports (a site number takes the place of `void 0`, padded to its width).
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { transpileCell } from "../../sandbox/transpile.ts";

const CELL = `import { kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
import * as L from "linux";
MODULE_LICENSE("GPL");
function alloc(n: number): bigint {
  return kmalloc(n, GFP_KERNEL);
}
function release(p: bigint): void {
  kfree(p);
}
module_init(() => {
  for (let i = 0; i < 5; i++) release(alloc(32));
  const p = alloc(64);
  const q = L.kmalloc(16, GFP_KERNEL);
  kfree(
    q);
  (kfree as (p: bigint) => void).call(undefined, p);
  const r = alloc(48);
  release(r);
  kfree(r);
  return 0;
});
`;

type Call = { fn: string; line?: number };
const lines = (r: { kernel: Record<string, unknown> }) =>
  (r.kernel.calls as Call[]).filter((c) => c.fn === "kmalloc" || c.fn === "kfree").map((c) => `${c.fn}@${c.line}`);

describe("kernel-call sites", () => {
  it("the transpiler numbers each call of an imported function in place of void 0, keeping every line and column", () => {
    const tr = transpileCell(CELL);
    if (!tr.ok) throw new Error(tr.error.message);
    expect(tr.js).toContain("_linux.kmalloc.call(2     , n, _linux.GFP_KERNEL)");
    expect(tr.js).toContain("(_linux.kfree ).call(undefined, p)"); // written by the cell: not a site
    expect(tr.js).not.toContain("call(void 0");
    // MODULE_LICENSE (line 3), kmalloc in alloc (5), kfree in release (8), module_init (10), the two kfree( in init
    expect(tr.sites).toEqual([0, 3, 5, 8, 10, 14, 19]);
    // each number is padded to the 6 characters of void 0: every line keeps its length, so every column stays
    const unmarked = tr.js.replace(/\.call\(\d+ */g, ".call(void 0");
    expect(tr.js.split("\n").map((l) => l.length)).toEqual(unmarked.split("\n").map((l) => l.length));
    expect(unmarked).toContain("_linux.kmalloc.call(void 0, n, _linux.GFP_KERNEL)");
  });

  for (const config of ["distro", "debug"] as const) {
    it(`every allocation and free has its own cell line in the call log, with a site or without (${config})`, async () => {
      const r = await runModule(CELL, { config });
      expect(lines(r)).toEqual([
        ...Array.from({ length: 5 }, () => ["kmalloc@5", "kfree@8"]).flat(),
        "kmalloc@5", // alloc(64)
        "kmalloc@13", // L.kmalloc: no site
        "kfree@14", // kfree( on line 14, its argument on 15
        "kfree@16", // Function.prototype.call's path: no site
        "kmalloc@5",
        "kfree@8",
        // the double free: KASAN refuses it on debug; the distro kernel's SLUB BUG kills insmod inside it
        ...(config === "debug" ? ["kfree@19"] : []),
      ]);
    });
  }

  it("KASAN's alloc and free stacks are the walk's, after the wrapper took over the stack (debug)", async () => {
    const r = await runModule(CELL, { config: "debug" });
    const df = r.reports.find((x) => x.kind === "double-free");
    expect(df).toBeDefined();
    const text = df!.text;
    const section = (head: string) => {
      const from = text.indexOf(head);
      const to = text.indexOf("\n\n", from);
      return text
        .slice(from, to)
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.endsWith("[cell]"));
    };
    // the function's first line + 0x10 + 0x20 per line: alloc starts on line 4 (kmalloc on 5), release on 7 (kfree
    // on 8), the init arrow on 10 (alloc(48) on 17, release(r) on 18, the double kfree on 19)
    expect(section("Allocated by task")).toEqual(["alloc+0x30/0x80 [cell]", "cell_line_10+0xf0/0x1a0 [cell]"]);
    expect(section("Freed by task")).toEqual(["release+0x30/0x80 [cell]", "cell_line_10+0x110/0x1a0 [cell]"]);
    expect(text).toContain("cell_line_10+0x130/0x1a0 [cell]");
  });
});
