// The notebook's views in Node (no browser): the frame map's bucketing of a run on a 4 GiB x86_64 machine (every
// zone of memdemo's RunResult into at most BUCKETS_PER_ZONE squares), and the same for a synthetic 4 GiB zone whose
// frames are scattered over many runs. Moved from test/notebook/views.test.ts, which pins what the buckets hold;
// how fast they are built is a figure here, not a limit in a test.
import { readFileSync } from "node:fs";
import type { Suite } from "./harness.ts";
import { runModule, loadKernelDeps } from "../sandbox/run.ts";
import { buildFrameModel, bucketZone } from "../src/notebook/views/frames.ts";

const memdemo = readFileSync(new URL("../examples/memdemo.ts", import.meta.url), "utf8");

export const suite: Suite = {
  name: "views",
  async run(ctx) {
    await loadKernelDeps();
    const r = await runModule(memdemo, { profile: "x86_64-6.1", mem: 4 * 2 ** 30 });
    const real = buildFrameModel(r.kernel as Record<string, unknown>);
    if (!real) throw new Error("bench views: memdemo's RunResult has no frame data");
    await ctx.time("frame map: bucket every zone of memdemo on x86_64-6.1 4 GiB", () => real.zones.map((z) => bucketZone(real, z)), 15, 3);
    // a 4 GiB zone with 20,000 owner runs and a vmalloc buffer of 4096 frames scattered over it
    const zone = { name: "DMA32", startPfn: 4096, endPfn: 1 << 20 };
    const runs: [number, number, number][] = [];
    for (let pfn = zone.startPfn, i = 0; i < 20_000; i++, pfn += 52) runs.push([pfn, 26, 1 + (i % 3)]);
    const pfnRuns = Array.from({ length: 4096 }, (_, i): [number, number] => [zone.startPfn + ((i * 7919) % (zone.endPfn - zone.startPfn)), 1]);
    const synthetic = buildFrameModel({
      zones: [zone],
      frames: { ownerNames: ["Free", "Slab", "KernelImage", "Vmalloc"], runs },
      cellMemory: [{ fn: "vmalloc", addr: "0xffffc90000001000", kind: "vmalloc", pfnRuns }],
    });
    if (!synthetic) throw new Error("bench views: the synthetic frame model did not build");
    await ctx.time("frame map: bucket a 4 GiB zone of 20k runs and a 4096-frame scattered buffer", () => bucketZone(synthetic, zone), 15, 3);
  },
};
