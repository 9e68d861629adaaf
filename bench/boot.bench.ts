// Boot time of every profile at its default RAM, x86_64 at 4 GiB, 16 GiB and 1 TiB, and the memory a booted kernel
// holds (1, 4, 16 GiB and 1 TiB).
// Times: median of many warm boots in one process, wall and CPU (see BenchContext.timeWallAndCpu).
// Memory: what one booted kernel keeps resident (heap + array buffers after a full GC with the kernel still
// referenced, minus the same before the boot), so the boot's short-lived garbage is not counted (needs --expose-gc,
// as `npm run bench` passes; without it the numbers include garbage and say so). The process RSS is not used: the
// C allocator keeps freed pages, so its growth over one boot is noise.
import type { Suite } from "./harness.ts";
import { boot } from "../src/kernel/kernel.ts";
import { PROFILES } from "../src/kernel/profiles.ts";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export const suite: Suite = {
  name: "boot",
  async run(ctx) {
    for (const p of PROFILES) await ctx.timeWallAndCpu(`boot ${p.name} (default RAM)`, () => boot(p.name), 21, 3);
    for (const p of ["x86_64-6.1", "arm64-6.1"]) await ctx.timeWallAndCpu(`boot ${p} distro (no KASAN)`, () => boot(p, { config: "distro" }), 21, 3);
    const b4 = await ctx.timeWallAndCpu("boot x86_64-6.1 4 GiB", () => boot("x86_64-6.1", { mem: 4 * GiB }), 21, 3);
    const b16 = await ctx.timeWallAndCpu("boot x86_64-6.1 16 GiB", () => boot("x86_64-6.1", { mem: 16 * GiB }), 9, 2);
    ctx.ratio("boot 16 GiB vs 4 GiB (cpu)", b16.cpu, b4.cpu);
    // struct page is sparse (mm/page_array.ts): a 1 TiB machine costs what its touched chunks do, not 13 bytes a page
    await ctx.timeWallAndCpu("boot x86_64-6.1 1 TiB", () => boot("x86_64-6.1", { mem: 1024 * GiB }), 5, 1);
    const gc = globalThis.gc;
    const note = gc ? "held by one booted kernel, after a full GC" : "no --expose-gc: includes the boot's garbage";
    // Array buffers are released after the GC that finds them dead: collect twice around a turn of the event loop.
    const settle = async () => {
      gc?.();
      await new Promise((r) => setImmediate(r));
      gc?.();
    };
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    for (const gib of [1, 4, 16, 1024]) {
      const held: number[] = [];
      for (let i = 0; i < 3; i++) {
        await settle();
        const before = used();
        let k: ReturnType<typeof boot> | undefined = boot("x86_64-6.1", { mem: gib * GiB });
        await settle();
        held.push((used() - before) / MiB);
        if (!k.pages) throw new Error("boot failed");
        k = undefined; // eslint-disable-line no-useless-assignment -- drop the reference so the next GC frees the kernel
      }
      ctx.record(`memory held by a booted x86_64-6.1 ${gib} GiB`, "MB", held, note);
    }
  },
};
