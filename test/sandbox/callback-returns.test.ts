// A module function the kernel calls back (an interrupt handler, a /proc show, a file operation) that returns a value
// of the wrong type (an object, a string, a function) is the callback's TypeError naming the kernel function and the
// parameter, as module_init's and user_main's are (sandbox/bindings.ts callback). Before, the kernel took it as an
// error code with no word said: the reader saw -1, the interrupt went unhandled, and the run exited 0.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

describe("a callback's return value of the wrong type", () => {
  it("is a TypeError naming the function and the parameter; a Proxy's traps do not run; numbers and no return stay as they were", async () => {
    const cell = `import { module_init, module_exit, MODULE_LICENSE, request_irq, free_irq, proc_create_single, remove_proc_entry, seq_printf, NULL,
  misc_register, misc_deregister, IRQ_HANDLED } from "linux";
import { raise_irq, BUTTON_IRQ } from "sim";
import { user_main, open, read, malloc, ioctl, puts } from "user";
MODULE_LICENSE("GPL");
let traps = 0;
const evil: any = new Proxy({}, { get() { traps++; for (;;) {} }, getPrototypeOf() { traps++; for (;;) {} } });
function handler(irq: number, dev: unknown): any { return "handled"; }
function show(m: any): any { seq_printf(m, "hi\\\\n"); return evil; }
function dev_ioctl(f: unknown, cmd: number, arg: bigint): any { return cmd === 1 ? { x: 1 } : cmd === 2 ? 7 : undefined; }
module_init(() => {
  request_irq(BUTTON_IRQ, handler, 0, "e", null);
  raise_irq(BUTTON_IRQ);
  proc_create_single("e", 0, NULL, show);
  return misc_register("e", null, null, null, dev_ioctl, null, null);
});
module_exit(() => { free_irq(BUTTON_IRQ, null); misc_deregister("e"); remove_proc_entry("e", NULL); });
user_main(function main(): number {
  const b = malloc(4096);
  read(open("/proc/e", 0), b, 100);
  const d = open("/dev/e", 2);
  puts("ioctl " + ioctl(d, 1, 0n) + " " + ioctl(d, 2, 0n) + " " + ioctl(d, 3, 0n) + " traps " + traps);
  return 0;
});
`;
    const r = await runModule(cell, {});
    const errors = r.dmesg.filter((l) => l.includes("TypeError")).map((l) => l.replace(/^\[[ 0-9.]+\] /, ""));
    expect(errors).toEqual([
      "TypeError: request_irq: handler returned a string; the kernel takes an integer (int) from its handler",
      "TypeError: proc_create_single: show returned an object; the kernel takes an integer (int) from its show",
      "TypeError: misc_register: dev_ioctl returned an object; the kernel takes an integer (int) from its unlocked_ioctl",
    ]);
    expect(r.reports.filter((x) => x.kind === "exception")).toHaveLength(3);
    expect(r.user?.stdout).toContain("ioctl -1 7 -1 traps 0"); // (undefined: as before)
  });
});
