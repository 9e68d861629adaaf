// kmalloc+kfree pairs per second called natively from Node (the floor the sandbox is compared against), several
// sizes, on the distro and the debug (slub_debug=FZPU) x86_64 6.1 kernels, plus kmem_cache_alloc/free.
import type { Suite } from "./harness.ts";
import { boot } from "../src/kernel/kernel.ts";

const GFP_KERNEL = 0xcc0;

export const suite: Suite = {
  name: "kmalloc",
  async run(ctx) {
    const results: Record<string, number> = {};
    for (const config of ["distro", "debug"] as const) {
      const k = boot("x86_64-6.1", { config });
      k.current = { pid: 108, comm: "insmod" };
      const s = k.slab;
      for (const size of [32, 100, 1000, 5000, 20000]) {
        const n = config === "debug" || size > 8192 ? 50_000 : 500_000;
        const m = await ctx.rate(`kmalloc+kfree ${size} B (${config})`, n, (count) => {
          for (let i = 0; i < count; i++) s.kfree(s.kmalloc(size, GFP_KERNEL));
        });
        results[`${config}-${size}`] = m.median;
      }
      // a batch of 64 live objects at a time (slabs fill and empty), 100 bytes
      await ctx.rate(`kmalloc x64 then kfree x64, 100 B (${config})`, config === "debug" ? 20_000 : 200_000, (count) => {
        const ps: bigint[] = new Array(64);
        for (let i = 0; i < count; i += 64) {
          for (let j = 0; j < 64; j++) ps[j] = s.kmalloc(100, GFP_KERNEL);
          for (let j = 0; j < 64; j++) s.kfree(ps[j]);
        }
      });
      const c = s.kmem_cache_create("bench_item", 72, 0, 0)!;
      await ctx.rate(`kmem_cache_alloc+free 72 B (${config})`, config === "debug" ? 50_000 : 500_000, (count) => {
        for (let i = 0; i < count; i++) s.kmem_cache_free(c, s.kmem_cache_alloc(c, GFP_KERNEL));
      });
    }
  },
};
