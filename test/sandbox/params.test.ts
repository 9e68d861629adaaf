// Module parameters as insmod passes them (RunOptions.moduleParams): kernel/params.c's parsers and load_module's
// messages per era.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const CELL = `import { module_param, module_param_string, printk, KERN_INFO, module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
const count = module_param("count", "int", 10, 0o444);
const verbose = module_param("verbose", "bool", 0, 0o644);
const name = module_param_string("name", "world", 8, 0o444);
module_init(() => { printk(KERN_INFO + "count=%d verbose=%d name=%s\\n", count, verbose, name); return 0; });
`;
const tail = (r: { dmesg: string[] }) => r.dmesg.map((l) => l.replace(/^\[[^\]]*\] /, "")).filter((l) => !/taints kernel|lock debugging/.test(l));

describe("module_param", () => {
  it("defaults without values; base-0 numbers, kstrtobool and strings with them", async () => {
    expect(tail(await runModule(CELL, {}))).toEqual(["count=10 verbose=0 name=world"]);
    expect(tail(await runModule(CELL, { moduleParams: { count: "0x20", verbose: "Y", name: "kernel" } }))).toEqual(["count=32 verbose=1 name=kernel"]);
    expect(tail(await runModule(CELL, { moduleParams: { count: "-010", verbose: "off" } }))).toEqual(["count=-8 verbose=0 name=world"]);
  });

  it("a value the parser refuses fails the load before init: the kernel's line and kmod's message", async () => {
    for (const [val, line] of [
      ["abc", "cell: `abc' invalid for parameter `count'"],
      ["2147483648", "cell: `2147483648' invalid for parameter `count'"],
    ] as const) {
      const r = await runModule(CELL, { moduleParams: { count: val } });
      expect(tail(r)).toEqual([line]);
      expect(r.initReturn).toBeNull();
      expect(r.module).toMatchObject({ loaded: false, insmodError: "insmod: ERROR: could not insert module cell.ko: Invalid parameters" });
    }
  });

  it("a string longer than its array: two lines and -ENOSPC", async () => {
    const r = await runModule(CELL, { moduleParams: { name: "12345678" } });
    expect(tail(r)).toEqual(["name: string doesn't fit in 7 chars.", "cell: `12345678' too large for parameter `name'"]);
    expect(r.module?.loaded).toBe(false);
  });

  it("an unknown name: 6.1 warns and loads; 2.6 refuses the module", async () => {
    const r61 = await runModule(CELL, { moduleParams: { colour: "red" } });
    expect(tail(r61)).toEqual(["cell: unknown parameter 'colour' ignored", "count=10 verbose=0 name=world"]);
    const r26 = await runModule(CELL, { moduleParams: { colour: "red" }, profile: "i386-2.6" });
    expect(tail(r26)).toEqual(["cell: Unknown parameter `colour'"]);
    expect(r26.module).toMatchObject({ loaded: false, insmodError: "insmod: ERROR: could not insert module cell.ko: Unknown symbol in module" });
  });
});
