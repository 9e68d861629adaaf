import { describe, expect, it } from "vitest";
import { typeCheckCell } from "../../src/cli/check.ts";
import { readFileSync } from "node:fs";

describe("kmodlab check: typescript@6 against the generated linux.d.ts", () => {
  it("a clean cell has no diagnostics", async () => {
    const src = `import { __get_free_page, free_page, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit, jiffies, HZ } from "linux";
MODULE_LICENSE("GPL");
let page = 0n;
function a_init(): number { page = __get_free_page(GFP_KERNEL); printk(KERN_INFO + "%px %lu\\n", page, jiffies + HZ); return 0; }
function a_exit(): void { free_page(page); }
module_init(a_init);
module_exit(a_exit);
`;
    expect(await typeCheckCell(src, "6.1")).toEqual([]);
  });

  it("a type error points at its line and column", async () => {
    const src = `import { free_page, module_init } from "linux";\nfunction f(): number {\n  free_page(4096);\n  return 0;\n}\nmodule_init(f);\n`;
    const d = await typeCheckCell(src, "6.1");
    expect(d).toEqual([
      expect.objectContaining({
        line: 3,
        column: 13,
        code: 2345,
        category: "error",
        message: "Argument of type 'number' is not assignable to parameter of type 'bigint'.",
      }),
    ]);
  });

  it("an import the era lacks is a type error too (get_free_page in 6.1, fine in 2.6)", async () => {
    const src = `import { get_free_page } from "linux";\n`;
    const d = await typeCheckCell(src, "6.1");
    expect(d).toEqual([
      expect.objectContaining({ line: 1, column: 10, category: "error", message: expect.stringContaining("has no exported member named 'get_free_page'") }),
    ]);
    expect(await typeCheckCell(src, "2.6")).toEqual([]);
  });

  it("every example type-checks against the era it is written for", async () => {
    for (const f of ["memdemo.ts", "pages.ts", "leak.ts"]) {
      const src = readFileSync(new URL(`../../examples/${f}`, import.meta.url), "utf8");
      const era = /@era (\S+)/.exec(src)?.[1] ?? "6.1";
      const d = await typeCheckCell(src, era as "6.1");
      // Rows that other parts have not added yet are reported as missing exports (TS2305); nothing else may fail.
      expect(
        d.filter((x) => !/has no exported member/.test(x.message)),
        f,
      ).toEqual([]);
    }
  });
});
