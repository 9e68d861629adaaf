import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { fakeDeps } from "./fake-kernel.ts";

const deps = fakeDeps();
const run = (src: string, opts = {}) => runModule(src, opts, deps);

describe("argument checks name the function and the parameter, at the cell's line", () => {
  const cases: [string, string][] = [
    [
      `__get_free_page("100" as any)`,
      `__get_free_page: parameter 'gfp_mask' must be a gfp_t (a non-negative integer number such as GFP_KERNEL), got "100" (string)`,
    ],
    [`__get_free_pages(GFP_KERNEL, -1)`, `__get_free_pages: parameter 'order' must be a non-negative integer number, got -1 (number)`],
    [`__get_free_pages(GFP_KERNEL, 1.5)`, `__get_free_pages: parameter 'order' must be a non-negative integer number, got 1.5 (number)`],
    [`__get_free_pages(GFP_KERNEL, NaN)`, `__get_free_pages: parameter 'order' must be a non-negative integer number, got NaN (number)`],
    [`free_page(4096 as any)`, `free_page: parameter 'addr' must be an address (a bigint such as 0xc0000000n; NULL is 0n), got 4096 (number)`],
    [`free_page(-1n)`, `free_page: parameter 'addr' must be an address of 64 bits, got 0x-1n`],
    [`free_page(1n << 64n)`, `free_page: parameter 'addr' must be an address of 64 bits, got 0x10000000000000000n`],
    [`(free_page as any)()`, `free_page: takes 1 argument (addr), got 0`],
    [`(free_page as any)(0n, 0)`, `free_page: takes 1 argument (addr), got 2`],
    [`printk(KERN_INFO + "%d\\n", {} as any)`, `printk: argument 1 after the format must be a number, a bigint or a string, got an object`],
    [`(module_init as any)(42)`, `module_init: parameter 'fn' must be a function, got number`],
  ];
  for (const [call, message] of cases) {
    it(call, async () => {
      const r = await run(`import { __get_free_page, __get_free_pages, free_page, printk, KERN_INFO, GFP_KERNEL, module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function my_init(): number {
  const x = 1;
  ${call};
  return 0;
}
module_init(my_init);
`);
      const rep = r.reports.find((x) => x.kind === "exception")!;
      expect(rep.title).toBe("BUG: kernel exception in my_init [cell]");
      expect(rep.text.split("\n")[1]).toBe("TypeError: " + message);
      expect(rep.line).toBe(5);
      // Runtime columns are the transpiled line's (sucrase rewrites imported calls on the line); lines are exact.
      expect(rep.frames?.[0]).toMatchObject({ fn: "my_init", line: 5 });
    });
  }

  it("an exception report is an Oops-like splat: task line, call trace with cell frames, taint D", async () => {
    const r = await run(`import { module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function helper(o: any) {
  return o.field.deeper;
}
function mem_module_init(): number {
  return helper(null);
}
module_init(mem_module_init);
`);
    const rep = r.reports[0];
    expect(rep.kind).toBe("exception");
    const lines = rep.text.split("\n");
    expect(lines[0]).toBe("BUG: kernel exception in mem_module_init [cell]");
    expect(lines[1]).toBe("TypeError: cannot read property 'field' of null");
    expect(lines[2]).toMatch(/^Modules linked in:/); // the real kernel's list: real.test.ts
    expect(lines[3]).toMatch(/^CPU: 0 PID: 108 Comm: insmod Tainted: G {11}O {7}6\.1\.\S+ #1/);
    expect(lines).toContain("Call Trace:");
    const trace = lines.slice(lines.indexOf(" <TASK>") + 1, lines.indexOf(" </TASK>"));
    expect(trace[0]).toMatch(/^ helper\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(trace[1]).toMatch(/^ mem_module_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(trace[2]).toMatch(/^ do_one_initcall\+0x59\/0x220$/);
    expect(rep.frames?.map((f) => [f.fn, f.line])).toEqual([
      ["helper", 4],
      ["mem_module_init", 7],
    ]);
    expect(r.dmesg.some((l) => l.endsWith("BUG: kernel exception in mem_module_init [cell]"))).toBe(true);
    expect(lines.slice(-2)).toEqual(["---[ end trace 0000000000000000 ]---", "Disabling lock debugging due to kernel taint"]);
    const after = await run(`import { module_init, MODULE_LICENSE, printk } from "linux"; MODULE_LICENSE("GPL"); module_init(() => 0);`);
    expect(after.reports).toEqual([]);
  });
});

describe("compile errors: syntax and imports, with line and column", () => {
  it("a syntax error is a compile-error report at its line and column, and nothing runs", async () => {
    const r = await run(`import { printk } from "linux";\nfunction f() {\n  let x = (;\n}\n`);
    expect(r.reports).toEqual([expect.objectContaining({ kind: "compile-error", title: "cell.ts:3:12: SyntaxError: Unexpected token", line: 3 })]);
    expect(r.dmesg).toEqual([]);
  });

  it("an import the era does not have names the era (get_free_page in 6.1)", async () => {
    const r = await run(`import { printk,\n  get_free_page } from "linux";\n`);
    expect(r.reports[0].title).toBe(
      "cell.ts:2:3: ImportError: get_free_page does not exist in Linux 6.1 (removed in 2.6.x — use get_zeroed_page, or __get_free_page when it need not be zeroed)",
    );
  });

  it("the same import is fine in the 2.6 era", async () => {
    const r = await run(
      `import { get_free_page, free_page, GFP_KERNEL, MODULE_LICENSE } from "linux"; MODULE_LICENSE("GPL"); free_page(get_free_page(GFP_KERNEL));`,
      { profile: "i386-2.6" },
    );
    expect(r.reports).toEqual([]);
  });

  it("pr_warn is not yet in 2.6; pr_warning is gone in 6.1", async () => {
    const a = await run(`import { pr_warn } from "linux";`, { profile: "i386-2.6" });
    expect(a.reports[0].title).toBe("cell.ts:1:10: ImportError: pr_warn does not exist in Linux 2.6 (added in 3.1 — use pr_warning)");
    const b = await run(`import { pr_warning } from "linux";`);
    expect(b.reports[0].title).toBe("cell.ts:1:10: ImportError: pr_warning does not exist in Linux 6.1 (removed in 5.5 — use pr_warn)");
  });

  it("a misspelt import suggests the nearest name; other modules are refused", async () => {
    const r = await run(`import { kmaloc } from "linux";`.replace("kmaloc", "printkk"));
    expect(r.reports[0].title).toBe(`cell.ts:1:10: ImportError: "linux" has no export named 'printkk' (did you mean printk?)`);
    // IS_ERR is near no row, and a learner writing kernel C habits gets what to write instead
    const e = await run(`import { printk, IS_ERR } from "linux";`);
    expect(e.reports[0].title).toBe(
      "cell.ts:1:18: ImportError: \"linux\" has no export named 'IS_ERR': no function here returns an ERR_PTR: kthread_run and kthread_create return null when they fail (a simplification; the kernel returns ERR_PTR(-ENOMEM)), so test the result with `if (!t)`",
    );
    const f = await run(`import fs from "fs";`);
    expect(f.reports[0].title).toBe(
      `cell.ts:1:16: ImportError: cannot import "fs": a module cell can import only from "linux" (the kernel API), "sim" (the simulated board) and "user" (the cell's user program: malloc, mmap, open, read...)`,
    );
  });
});

describe("get_order (the smallest order whose block holds the size)", () => {
  it("gives the order __get_free_pages needs, and the kernel's value for 0", async () => {
    const r = await runModule(
      `import { get_order, printk, KERN_INFO, module_init } from "linux";
module_init(() => { printk(KERN_INFO + "%u %u %u %u %u %u\\n", get_order(1), get_order(4096), get_order(4097), get_order(8192), get_order(16385), get_order(0)); return 0; });`,
      { profile: "x86_64-6.1" },
    );
    expect(r.dmesg.map((l) => l.replace(/^\[[ .0-9]+\] /, "")).find((l) => /^\d/.test(l))).toBe("0 0 1 1 3 52");
  });
});
