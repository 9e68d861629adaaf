// Object caches and the vmalloc family through the sandbox: handles, NULL callbacks, era signatures, kvmalloc.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { runModule } from "../../sandbox/run.ts";

const cacheCell = readFileSync(new URL("./fixtures/cache.ts", import.meta.url), "utf8");

describe("object cache and vmalloc rows", () => {
  it("kmem_cache_create with a null ctor gives a handle; 100 objects show in slabinfo while loaded and the cache is gone after rmmod", async () => {
    const r = await runModule(cacheCell, { profile: "x86_64-6.1", proc: ["slabinfo"] });
    expect(r.reports).toEqual([]);
    expect(r.initReturn).toBe(0);
    expect(r.proc.slabinfo).toMatch(/^kmodlab_item\s+100\s+\d+\s+\d+/m);
    expect(r.procAfterExit.slabinfo).not.toMatch(/^kmodlab_item /m);
  });

  it("kvmalloc of 8 MiB falls back to vmalloc (above KMALLOC_MAX_SIZE, quietly) and kvfree frees it", async () => {
    const r = await runModule(cacheCell, { profile: "x86_64-6.1" });
    expect(r.dmesg.join("\n")).toMatch(/big ffffc9[0-9a-f]{10} vmalloc=1/);
    expect(r.dmesg.join("\n")).not.toMatch(/WARNING|allocation failure/);
  });

  it("__vmalloc takes (size, gfp) on 6.1 and (size, gfp, prot) with PAGE_KERNEL on 3.4", async () => {
    const cell61 = `import { __vmalloc, vfree, GFP_KERNEL, __GFP_NOWARN, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL"); let p = 0n;
function i(): number { p = __vmalloc(2 ** 40, GFP_KERNEL | __GFP_NOWARN); printk(KERN_INFO + "p=%lx\\n", p); return 0; }
function e(): void { vfree(p); }
module_init(i); module_exit(e);`;
    const r61 = await runModule(cell61, { profile: "x86_64-6.1" });
    expect(r61.dmesg.join("\n")).toContain("p=0");
    expect(r61.reports.filter((x) => x.kind === "vmalloc-failure")).toEqual([]);
    const cell34 = cell61
      .replace("__GFP_NOWARN,", "__GFP_NOWARN, PAGE_KERNEL,")
      .replace("GFP_KERNEL | __GFP_NOWARN)", "GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL)")
      .replace("2 ** 40", "64 * 2 ** 20");
    const r34 = await runModule(cell34, { profile: "arm-3.4-msm8x25" });
    expect(r34.reports.filter((x) => x.kind === "compile-error")).toEqual([]);
    expect(r34.dmesg.join("\n")).toContain("p=0");
    const wrongEra = await runModule(cell34, { profile: "x86_64-6.1" });
    expect(wrongEra.reports[0]?.text ?? "").toMatch(/PAGE_KERNEL does not exist in Linux 6\.1/);
  });

  it("a kmem_cache handle cannot be forged from a number", async () => {
    const cell = `import { kmem_cache_alloc, GFP_KERNEL, module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function i(): number { kmem_cache_alloc(1 as any, GFP_KERNEL); return 0; }
module_init(i);`;
    const r = await runModule(cell, { profile: "x86_64-6.1" });
    expect(r.reports.map((x) => x.text).join("\n")).toMatch(/kmem_cache_alloc: parameter 'cachep' must be a kmem_cache/);
  });
});
