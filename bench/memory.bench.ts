// The memory access path on x86_64-6.1 (distro, no KASAN, and debug, with KASAN): memset of a 1 MiB vmalloc buffer
// and of a 1 MiB page-allocator buffer natively, bytes per second of 4-byte loads through each path, and the dTLB
// misses each path costs per 1 MiB touched.
import type { Suite } from "./harness.ts";
import { boot } from "../src/kernel/kernel.ts";

const MiB = 1 << 20;
const GFP_KERNEL = 0xcc0;

export const suite: Suite = {
  name: "memory",
  async run(ctx) {
    for (const config of ["distro", "debug"] as const) {
      const k = boot("x86_64-6.1", { config });
      const v = k.vmalloc.vmalloc(MiB, { caller: "bench+0x10/0x40 [bench]" });
      const lin = k.pages.__get_free_pages(GFP_KERNEL, 8); // 1 MiB from the page allocator (kmalloc_large's path)
      const tag = `(x86_64-6.1 ${config})`;
      const setV = await ctx.rate(`memset 1 MiB vmalloc buffer ${tag}`, 200, (n) => {
        for (let i = 0; i < n; i++) k.mem.memset(v, i & 0xff, MiB);
      });
      const setL = await ctx.rate(`memset 1 MiB page-allocator buffer ${tag}`, 200, (n) => {
        for (let i = 0; i < n; i++) k.mem.memset(lin, i & 0xff, MiB);
      });
      ctx.ratio(`memset 1 MiB: linear map vs vmalloc ${tag}`, setL, setV);
      const loads = 1 << 18; // 1 MiB of 4-byte loads
      for (const [name, base] of [
        ["vmalloc", v],
        ["linear map", lin],
      ] as const) {
        const m = await ctx.rate(`4-byte loads through the ${name} ${tag}`, loads, (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s ^= k.mem.readl(base + BigInt((i & (loads - 1)) << 2));
          if (s === 0x12345678) console.log(s);
        });
        ctx.record(
          `bytes/s of 4-byte loads through the ${name} ${tag}`,
          "MB/s",
          [m.min, m.median, m.max].map((x) => (x * 4) / 1e6),
        );
        k.mem.tlb.flushAll();
        k.mem.tlb.reset();
        for (let off = 0n; off < BigInt(MiB); off += 4n) k.mem.readl(base + off);
        ctx.record(`dTLB misses per 1 MiB of 4-byte loads, ${name} ${tag}`, "misses", [k.mem.tlb.stats().misses], k.mem.tlb.geometry);
      }
    }
  },
};
