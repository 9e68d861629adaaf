// Bigints far wider than any kernel value, handed to the host: the library reads a guest bigint through its decimal
// text, which QuickJS makes in time quadratic in the width, so kfree(1n << 1000000n) held the host 12 s inside one
// call (past the CPU limit, where nothing interrupts it; through the CLI the isolated worker's watchdog then ended
// the run and its log was lost). Now a bigint wider than 256 bits is measured, not read (validate.ts guestBigInt,
// quickjs.ts RawValues.bigintLimbs), and every path names it: an argument's function and parameter, printk's
// argument, a thrown value, a returned value.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (body: string) => `import { kfree, kmalloc, GFP_KERNEL, printk, KERN_INFO, module_init, MODULE_LICENSE, del_timer, timer_list } from "linux";
MODULE_LICENSE("GPL");
const B = 1n << 1000000n;
module_init(() => { ${body} return 0; });`;

const cases: [string, string, string][] = [
  ["an address parameter", "kfree(B as any);", "TypeError: kfree: parameter 'objp' must be an address of 64 bits, got a bigint of more than 256 bits"],
  [
    "a size parameter",
    "kmalloc(B as any, GFP_KERNEL);",
    "TypeError: kmalloc: parameter 'size' must be a non-negative integer number, got a bigint of more than 256 bits",
  ],
  [
    "a handle parameter (the prelude's own message)",
    "del_timer(B as any);",
    "TypeError: del_timer: parameter 'timer' must be a timer_list (made with new timer_list()), got a bigint of more than 256 bits",
  ],
  [
    "printk's argument",
    'printk(KERN_INFO + "%llx\\n", B);',
    "TypeError: printk: argument 1 after the format must be a number, a bigint of at most 64 bits or a string, got a bigint of more than 256 bits",
  ],
  ["a thrown bigint", "throw B;", "uncaught throw of a bigint of more than 256 bits (not an Error)"],
  ["module_init's return value", "return B as any;", "module_init: the init function returned a bigint of more than 256 bits"],
];

describe("a 1,000,000-bit bigint handed to the host is named, never converted", () => {
  for (const config of ["distro", "debug"] as const)
    for (const [what, body, message] of cases)
      it(`${config}: ${what}`, async () => {
        const r = await runModule(cell(body), { config });
        expect(r.reports).toHaveLength(1);
        expect(r.reports[0]!.kind).toBe("exception");
        expect(r.reports[0]!.text).toContain(message);
      }, 60_000);

  it("bigints up to the bound are still read exactly: a 200-bit address is refused with its value, printk keeps the low 64 bits", async () => {
    const r = await runModule(
      `import { kfree, printk, KERN_INFO, module_init, MODULE_LICENSE } from "linux";\nMODULE_LICENSE("GPL");\nmodule_init(() => { printk(KERN_INFO + "%llx\\n", (1n << 280n) + 0xabcn); kfree((1n << 200n) as any); return 0; });`,
      { config: "distro" },
    );
    expect(r.dmesg.some((l) => l.endsWith("] abc"))).toBe(true);
    expect(r.reports[0]!.text).toContain(`kfree: parameter 'objp' must be an address of 64 bits, got 0x1${"0".repeat(50)}n`);
  }, 60_000);
});
