// Boot time of every profile at its default RAM, x86_64 at 4 and 16 GiB, and resident memory after boot.
import type { Suite } from "./harness.ts";
import { boot } from "../src/kernel/kernel.ts";
import { PROFILES } from "../src/kernel/profiles.ts";

const GiB = 2 ** 30;

export const suite: Suite = {
  name: "boot",
  async run(ctx) {
    for (const p of PROFILES) await ctx.time(`boot ${p.name} (default RAM)`, () => boot(p.name), 9, 2);
    const b4 = await ctx.time("boot x86_64-6.1 4 GiB", () => boot("x86_64-6.1", { mem: 4 * GiB }), 9, 2);
    const b16 = await ctx.time("boot x86_64-6.1 16 GiB", () => boot("x86_64-6.1", { mem: 16 * GiB }), 5, 1);
    ctx.ratio("boot 16 GiB vs 4 GiB", b16, b4);
    // Resident memory: keep each kernel alive while measuring the growth of the heap + array buffers.
    for (const gib of [1, 4, 16]) {
      const xs: number[] = [];
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.();
        const before = process.memoryUsage();
        const k = boot("x86_64-6.1", { mem: gib * GiB });
        const after = process.memoryUsage();
        xs.push((after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 2 ** 20);
        if (!k.pages) throw new Error("boot failed");
      }
      ctx.record(`memory after boot x86_64-6.1 ${gib} GiB`, "MB", xs, "heap + array buffers grown by one boot");
    }
  },
};
