// RunResult's log levels and memory views (sandbox/kview.ts) on the real kernel, and the frame map model reading them.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { kernelViews, lazyKernelViews, runsOf } from "../../sandbox/kview.ts";
import { boot } from "../../src/kernel/kernel.ts";
import { buildFrameModel } from "../../src/notebook/views/frames.ts";

const cell = `import { vmalloc, vfree, __get_free_pages, free_pages, printk, pr_err, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let v = 0n, p = 0n;
module_init(function init(): number {
  v = vmalloc(4 << 20);
  p = __get_free_pages(GFP_KERNEL, 3);
  printk(KERN_INFO + "info\\n");
  pr_err("err\\n");
  return 0;
});
module_exit(function exit(): void { vfree(v); free_pages(p, 3); });
`;

describe("RunResult log levels and memory views", () => {
  it("dmesgLevels / bootLogLevels: one level per line (KERN_INFO 6, KERN_ERR 3)", async () => {
    const r = await runModule(cell, { unload: false });
    expect(r.dmesgLevels).toHaveLength(r.dmesg.length);
    expect(r.bootLogLevels).toHaveLength(r.bootLog.length);
    expect(r.dmesgLevels!.slice(-2)).toEqual([6, 3]);
  });

  it("kernel.zones, frames (run-length), merged allocations and vmallocAreas are JSON and compact; the frame map sees the cell's pages", async () => {
    const r = await runModule(cell, { unload: false });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reads the JSON inspection data field by field
    const k = r.kernel as Record<string, any>;
    expect(JSON.parse(JSON.stringify(k))).toEqual(k);
    expect(k.zones.filter((z: { spanned: number }) => z.spanned > 0).map((z: { name: string }) => z.name)).toEqual(["DMA", "DMA32"]);
    const total = k.frames.runs.reduce((s: number, [, n]: number[]) => s + n, 0);
    expect(total).toBe(Math.max(...k.zones.map((z: { endPfn: number }) => z.endPfn)));
    // run-length: a few hundred runs for 131,040 frames (the 6.1 boot replays its slab pages in time order between its
    // other allocations, so owners alternate: ~300 runs), and the JSON stays small
    expect(k.frames.runs.length).toBeLessThan(1000);
    expect(JSON.stringify(k.frames).length).toBeLessThan(20_000);
    const mine = k.allocations.filter((a: { ownerName: string }) => a.ownerName === "Module");
    expect(mine).toEqual([expect.objectContaining({ order: 3, zone: "DMA32" })]);
    const area = k.vmallocAreas.find((a: { owner: string; size: number }) => a.owner === "module" && a.size > 4 << 20);
    expect(area.start).toMatch(/^0xffffc9/);
    expect(area.pages).toBeUndefined(); // 1024 pages: runs only
    expect(area.pageRuns.reduce((s: number, [, n]: number[]) => s + n, 0)).toBe(1024);
    // merged allocations: ~520 entries (~40 kB) since the 6.1 boot's slab pages come in time order between its other
    // allocations (86 entries before), still far from one per page
    expect(JSON.stringify(k.allocations).length + JSON.stringify(k.vmallocAreas).length).toBeLessThan(80_000);
    const model = buildFrameModel(k)!;
    expect(model.mine.size).toBeGreaterThanOrEqual(1024);
    expect(model.runs.some(([, n, o]) => o === "Module" && n === 8)).toBe(true);
    expect(k.dma.mask).toBe("0xffffffff");
  });

  it("runsOf folds ascending consecutive numbers", () => {
    expect(runsOf([5, 6, 7, 9, 3, 4])).toEqual([
      [5, 3],
      [9, 1],
      [3, 2],
    ]);
  });

  it("views built when read: the same keys in the same order and the same values as built at once, through JSON, structuredClone and plain reads", async () => {
    const k = boot("x86_64-6.1");
    k.slab.kmalloc(100, 0xcc0);
    const eager = kernelViews(k);
    const lazy = lazyKernelViews(k);
    expect(Object.keys(lazy)).toEqual(Object.keys(eager));
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(eager));
    expect(structuredClone(lazyKernelViews(k))).toEqual(eager);
    const read = lazyKernelViews(k);
    expect(read.frames).toEqual(eager.frames);
    expect(read.frames).toBe(read.frames); // built once
    read.zones = "replaced";
    expect(read.zones).toBe("replaced");
    // a run's RunResult.kernel: the layout, the views, the kernel's own inspection (dma), then the call log
    const r = await runModule(cell, { unload: false });
    expect(Object.keys(r.kernel)).toEqual(["layout", "zones", "frames", "allocations", "vmallocAreas", "dma", "calls"]);
    const text = JSON.stringify(r.kernel);
    expect(JSON.stringify(r.kernel)).toBe(text);
    expect(JSON.parse(text)).toEqual(structuredClone(r.kernel));
    expect(r.kernel.dma).toEqual(k.inspect().dma); // the kernel's own dma entry replaces the view's, in the view's place
    const off = await runModule(cell, { unload: false, views: false });
    expect(Object.keys(off.kernel)).toEqual(["layout", "dma", "calls"]);
  });

  it("a view that fails to build reads as undefined and adds the run's 'kmodlab: inspection failed' report", () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    k.vmalloc.areas = () => {
      throw new Error("no areas");
    };
    const v = lazyKernelViews(k);
    expect(v.zones).toBeDefined();
    expect(v.vmallocAreas).toBeUndefined();
    expect(k.reports.map((r) => r.title)).toContain("kmodlab: inspection failed: no areas");
  });
});
