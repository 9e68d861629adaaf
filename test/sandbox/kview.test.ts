// RunResult's log levels and memory views (sandbox/kview.ts) on the real kernel, and the frame map model reading them.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { runsOf } from "../../sandbox/kview.ts";
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
    expect(k.frames.runs.length).toBeLessThan(200);
    const mine = k.allocations.filter((a: { ownerName: string }) => a.ownerName === "Module");
    expect(mine).toEqual([expect.objectContaining({ order: 3, zone: "DMA32" })]);
    const area = k.vmallocAreas.find((a: { owner: string; size: number }) => a.owner === "module" && a.size > 4 << 20);
    expect(area.start).toMatch(/^0xffffc9/);
    expect(area.pages).toBeUndefined(); // 1024 pages: runs only
    expect(area.pageRuns.reduce((s: number, [, n]: number[]) => s + n, 0)).toBe(1024);
    expect(JSON.stringify(k.allocations).length + JSON.stringify(k.vmallocAreas).length).toBeLessThan(40_000);
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
});
