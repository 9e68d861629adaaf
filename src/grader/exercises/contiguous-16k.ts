// Exercise contiguous-16k: four physically contiguous pages from the buddy allocator, filled, freed with the same order.

import type { Exercise } from "../types.ts";
import { allocatedAs, check, contentsWhenFreed, fail, findAlloc, isOutcome, loads, noReports, nothingLeaked, ok } from "../checks.ts";

export const contiguous16k: Exercise = {
  id: "contiguous-16k",
  title: "16 KiB in one piece",
  lesson: "page-allocator",
  settings: { profile: "x86_64-6.1", proc: ["buddyinfo"] },
  statement: `Take 16 KiB of physically contiguous memory straight from the page allocator (not kmalloc, not vmalloc),
fill every byte with 0xAB, and give it back correctly on unload.`,
  starter: `import { __get_free_pages, free_pages, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function c16_init(): number {
  // TODO: which order is 16 KiB? Fill the block with 0xAB (memset).
  buf = __get_free_pages(GFP_KERNEL, 0);
  if (buf === 0n) return -12;
  return 0;
}

function c16_exit(): void {
  free_pages(buf, 0);
}

module_init(c16_init);
module_exit(c16_exit);
`,
  solution: `import { __get_free_pages, free_pages, memset, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const ORDER = 2; // 2^2 pages = 16 KiB
let buf = 0n;

function c16_init(): number {
  buf = __get_free_pages(GFP_KERNEL, ORDER);
  if (buf === 0n) return -ENOMEM;
  memset(buf, 0xab, 16384);
  return 0;
}

function c16_exit(): void {
  free_pages(buf, ORDER);
}

module_init(c16_init);
module_exit(c16_exit);
`,
  checks: [
    loads(),
    allocatedAs({
      id: "order-2",
      message: "One order-2 block (4 pages, 16 KiB) from the page allocator",
      hint: "__get_free_pages(gfp, order) gives 2^order pages: 16 KiB is 4 pages of 4 KiB, so order 2.",
      fns: ["__get_free_pages"],
      order: 2,
      region: "linear",
      count: 1,
    }),
    check("filled-ab", "All 16384 bytes hold 0xAB when the block is freed", "memset(buf, 0xab, 16384) after a successful allocation fills every byte.", (c) => {
      const as = findAlloc(c, ["__get_free_pages"], (a) => a.order === 2);
      if (isOutcome(as)) return as;
      if (!as.length) return fail("there is no order-2 block to look at");
      if (!as[0].free) return fail("the block was never freed");
      return contentsWhenFreed(c, as[0], 0xab);
    }),
    check("freed-order-2", "The block is freed with free_pages(addr, 2)", "Free with the order you allocated with: free_pages(buf, 2). The buddy allocator does not remember it for you.", (c) => {
      const as = findAlloc(c, ["__get_free_pages"], (a) => a.order === 2);
      if (isOutcome(as)) return as;
      if (!as.length) return fail("there is no order-2 block");
      const f = as[0].free;
      if (!f) return fail("the block was never freed");
      if (f.fn !== "free_pages") return fail(`freed with ${f.fn}, not free_pages`);
      if (f.order !== 2) return fail(`freed with order ${f.order}: ${f.order! < 2 ? `${4 - (1 << f.order!)} of its pages were never given back` : "that frees pages the module never had"}`);
      return ok();
    }),
    nothingLeaked(),
    noReports(),
  ],
};
