// The page allocator at scale ("big memory is cheap": struct page in typed arrays, O(1) order-0 alloc/free).
// - free_area_init + mem_init of a 4 GiB x86_64 machine alone (a PageAllocator built over a booted kernel's layout),
//   and mem_init alone: an O(pages x something) regression (a per-page Map or object) would take seconds here;
// - order-0 alloc_pages + __free_pages pairs per second with 100,000 pages live at the peak, on 1 GiB.
// Moved from test/kernel/mm (a time limit inside a test fails on a loaded machine; here it is a figure).
import type { Suite } from "./harness.ts";
import { boot } from "../src/kernel/kernel.ts";
import { PageAllocator } from "../src/kernel/mm/page_alloc.ts";

const GiB = 2 ** 30;
const GFP_KERNEL = 0xcc0;

export const suite: Suite = {
  name: "page_alloc",
  async run(ctx) {
    const k4 = boot("x86_64-6.1", { mem: 4 * GiB, config: "distro" });
    await ctx.time(
      "page allocator free_area_init + mem_init, 4 GiB x86_64",
      () => new PageAllocator(k4).mem_init(),
      9,
      2,
      "typed arrays zero-filled, every free page into the buddy lists",
    );
    const alone: number[] = [];
    for (let i = 0; i < 11; i++) {
      const pa = new PageAllocator(k4);
      const t0 = performance.now();
      pa.mem_init();
      if (i >= 2) alone.push(performance.now() - t0); // two warm-up runs
    }
    ctx.record("page allocator mem_init alone, 4 GiB x86_64", "ms", alone);
    const k1 = boot("x86_64-6.1", { mem: 1 * GiB, config: "distro" });
    const pfns = new Int32Array(100_000);
    await ctx.rate("order-0 alloc_pages + __free_pages pairs, 1 GiB x86_64 (100k live at the peak)", pfns.length, (n) => {
      for (let i = 0; i < n; i++) pfns[i] = k1.pages.alloc_pages(GFP_KERNEL, 0);
      for (let i = n - 1; i >= 0; i--) k1.pages.__free_pages(pfns[i]!, 0);
    });
    if (k1.pages.checkInvariants().length) throw new Error("bench page_alloc: invariants broken after the order-0 run");
  },
};
