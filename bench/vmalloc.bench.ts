// vmalloc + vfree of 1 MiB per second on x86_64-6.1, with the page-table work it costs (PTEs written per call,
// page-table pages allocated), and page-table walks per second (the memory-access path's TLB-miss cost).
import type { Suite } from "./harness.ts";
import { boot } from "../src/kernel/kernel.ts";

const MiB = 1 << 20;

export const suite: Suite = {
  name: "vmalloc",
  async run(ctx) {
    const k = boot("x86_64-6.1");
    const v = k.vmalloc;
    const c0 = v.counters();
    const N = 200;
    await ctx.rate("vmalloc+vfree 1 MiB (x86_64-6.1)", N, (n) => {
      for (let i = 0; i < n; i++) v.vfree(v.vmalloc(MiB, { caller: "bench+0x10/0x40 [bench]" }));
    });
    const c1 = v.counters();
    const calls = c1.allocs - c0.allocs;
    ctx.record("PTEs written per 1 MiB vmalloc", "PTEs", [(c1.ptesWritten - c0.ptesWritten) / calls], "256 pages, no page array (2 KiB < PAGE_SIZE)");
    ctx.record(
      "page-table pages allocated over the run",
      "pages",
      [c1.pageTablePagesAllocated - c0.pageTablePagesAllocated],
      "tables stay allocated after vunmap, as in the kernel",
    );
    ctx.record("arch_sync_kernel_mappings calls", "calls", [c1.syncEvents - c0.syncEvents], "0 on 4-level x86_64: vmalloc PGD entries are preallocated");
    const a = v.vmalloc(4 * MiB, { caller: "bench+0x10/0x40 [bench]" });
    await ctx.rate("page-table walk translate() of a vmalloc address", 200_000, (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += k.pgtable.translate(a + BigInt((i & 1023) << 12));
      if (s === 42) console.log(s);
    });
    v.vfree(a);
  },
};
