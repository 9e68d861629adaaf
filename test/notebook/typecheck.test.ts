// The worker's type check before a run (src/notebook/typecheck.ts): TypeScript's checker over the cell and the era's
// linux.d.ts, in memory, with the bundled ES2020 library (Vite's import.meta.glob; vitest provides it too).
import { describe, expect, it } from "vitest";
import { checkCell, loadTypeScript } from "../../src/notebook/typecheck.ts";
import { linuxDts } from "../../sandbox/dts.ts";

describe("type check before running", () => {
  it("a type error is found with its line and column; a correct cell has none", async () => {
    const ts = await loadTypeScript();
    const dts = linuxDts("6.1");
    const bad =
      'import { kmalloc, GFP_KERNEL, module_init } from "linux";\nconst n: number = "seven";\nmodule_init(() => { const p: number = kmalloc(64, GFP_KERNEL); return 0; });\n';
    const d = checkCell(ts, bad, dts);
    expect(d.map((x) => [x.line, x.code])).toEqual([
      [2, 2322],
      [3, 2322],
    ]);
    expect(d[0]).toMatchObject({ column: 7, message: "Type 'string' is not assignable to type 'number'." });
    expect(
      checkCell(
        ts,
        'import { kmalloc, kfree, GFP_KERNEL, module_init, module_exit } from "linux";\nlet p = 0n;\nmodule_init(() => { p = kmalloc(64, GFP_KERNEL); return 0; });\nmodule_exit(() => kfree(p));\n',
        dts,
      ),
    ).toEqual([]);
  });

  it("an import of a function another era has is a type error against this era's declarations", async () => {
    const ts = await loadTypeScript();
    const d = checkCell(ts, 'import { get_free_page, module_init } from "linux";\nmodule_init(() => 0);\n', linuxDts("6.1"));
    expect(d.length).toBeGreaterThan(0);
    expect(d[0].line).toBe(1);
  });
});
