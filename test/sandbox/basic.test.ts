import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { fakeDeps } from "./fake-kernel.ts";

const deps = fakeDeps();
const run = (src: string, opts = {}) => runModule(src, opts, deps);

describe("runModule basics (fake kernel)", () => {
  it("runs init and exit, printing through the kernel's printk", async () => {
    const r = await run(`
import { __get_free_page, free_page, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let page = 0n;
function hello_init(): number {
  page = __get_free_page(GFP_KERNEL);
  printk(KERN_INFO + "page=%px\\n", page);
  return 0;
}
function hello_exit(): void { free_page(page); printk(KERN_INFO + "bye\\n"); }
module_init(hello_init);
module_exit(hello_exit);
`);
    expect(r.initReturn).toBe(0);
    expect(r.reports).toEqual([]);
    expect(r.dmesg.map((l) => l.replace(/^\[[ .\d]+\] /, ""))).toEqual(["cell: loading out-of-tree module taints kernel.", "page=ffff888000100000", "bye"]);
    expect(r.module).toEqual({ loaded: true, unloaded: true });
  });

  it("a distribution kernel (CONFIG_MODULE_SIG) adds the signature notice after the out-of-tree taint", async () => {
    const r = await run(`import { MODULE_LICENSE } from "linux"; MODULE_LICENSE("GPL");`, { config: "distro" });
    expect(r.dmesg.map((l) => l.slice(15))).toEqual([
      "cell: loading out-of-tree module taints kernel.",
      "cell: module verification failed: signature and/or required key missing - tainting kernel",
    ]);
  });

  it("a missing MODULE_LICENSE taints with 'unspecified' and disables lock debugging", async () => {
    const r = await run(`const x = 1;`);
    expect(r.dmesg.map((l) => l.slice(15))).toEqual([
      "cell: loading out-of-tree module taints kernel.",
      "cell: module license 'unspecified' taints kernel.",
      "Disabling lock debugging due to kernel taint",
    ]);
  });

  it("2.6 has no out-of-tree taint and prints with <N> levels", async () => {
    const r = await run(
      `import { printk, KERN_INFO, MODULE_LICENSE } from "linux"; MODULE_LICENSE("GPL"); printk(KERN_INFO + "lvl=%s\\n", JSON.stringify(KERN_INFO));`,
      { profile: "i386-2.6" },
    );
    expect(r.dmesg.map((l) => l.slice(15))).toEqual(['lvl="<6>"']);
  });

  it("a negative init return fails the load silently in the kernel; insmod says why; exit is skipped", async () => {
    const r = await run(`import { module_init, module_exit, printk, ENOMEM, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
module_init(() => -ENOMEM);
module_exit(() => { printk("exit ran\\n"); });`);
    expect(r.initReturn).toBe(-12);
    expect(r.module).toEqual({ loaded: false, unloaded: false, insmodError: "insmod: ERROR: could not insert module cell.ko: Cannot allocate memory" });
    expect(r.dmesg.join("\n")).not.toContain("exit ran");
  });

  it("a positive init return warns (do_init_module in 6.1) and loads anyway", async () => {
    const r = await run(`import { module_init, MODULE_LICENSE } from "linux"; MODULE_LICENSE("GPL"); function my_init() { return 3; } module_init(my_init);`);
    expect(r.module?.loaded).toBe(true);
    expect(r.dmesg.map((l) => l.slice(15))).toContain("do_init_module: 'cell'->init suspiciously returned 3, it should follow 0/-E convention");
  });
});
