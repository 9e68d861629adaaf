// Exercise contiguous-16k: four physically contiguous pages from the buddy allocator, filled, freed with the same order.
// Any page-allocator entry point counts (__get_free_pages, alloc_pages + page_address): the records know them all.

import type { Exercise } from "../types.ts";
import { allocatedAs, check, fail, findAlloc, isOutcome, loads, noReports, nothingLeaked, ok, survivesFaultInjection, valueInMemory } from "../checks.ts";
import type { Allocation } from "../records.ts";
import type { CheckContext, CheckOutcome } from "../types.ts";

const PAGE_FNS = ["__get_free_pages", "alloc_pages"];

function block(c: CheckContext): Allocation | CheckOutcome {
  const as = findAlloc(c, PAGE_FNS, (a) => a.order === 2);
  if (isOutcome(as)) return as;
  return as[0] ?? fail("there is no order-2 block from the page allocator");
}

export const contiguous16k: Exercise = {
  id: "contiguous-16k",
  title: "16 KiB in one piece",
  lesson: "page-allocator",
  settings: {
    profile: "x86_64-6.1",
    proc: ["buddyinfo"],
    // the block's bytes, read from simulated memory just before module_exit frees it
    probes: [{ id: "block", at: "unloading", alloc: { family: ["page"], size: 16384 }, stride: 1, count: 16384, width: 1 }],
  },
  statement: `Take 16 KiB of physically contiguous memory straight from the page allocator (\`__get_free_pages\` or
\`alloc_pages\`: not kmalloc, not vmalloc) as one block of the right order, fill every byte with 0xAB, and give it
back on unload with the same order. If the allocation fails, init returns -ENOMEM.`,
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
      family: ["page"],
      order: 2,
      region: "linear",
      count: 1,
      requires: ["16 KiB", "page allocator", "order"],
    }),
    valueInMemory({
      id: "filled-ab",
      probe: "block",
      message: "All 16384 bytes of the block hold 0xAB while the module is loaded (read from memory just before module_exit)",
      hint: "memset(buf, 0xab, 16384) after a successful allocation fills every byte.",
      expected: () => 0xab,
      unit: "byte",
      hex: true,
      requires: ["0xAB", "every byte"],
    }),
    check(
      "freed-order-2",
      "The block is freed with its order (free_pages(addr, 2) or __free_pages(page, 2))",
      "Free with the order you allocated with: free_pages(buf, 2). The buddy allocator does not remember it for you.",
      (c) => {
        const a = block(c);
        if (isOutcome(a)) return a;
        const f = a.free;
        if (!f) return fail("the block was never freed");
        if (f.fn !== "free_pages" && f.fn !== "__free_pages") return fail(`freed with ${f.fn}${f.line ? ` (line ${f.line})` : ""}, not free_pages`);
        if (f.order !== 2)
          return fail(
            `freed with order ${f.order}: ${f.order! < 2 ? `${4 - (1 << f.order!)} of its 4 pages were never given back` : "that frees pages the module never had"}`,
          );
        if (f.fn === "__free_pages" && f.named !== "page")
          return fail("__free_pages takes the block's struct page (from alloc_pages or virt_to_page), not its address: use free_pages(addr, 2)");
        if (f.fn === "free_pages" && f.named !== "virt")
          return fail("free_pages takes the block's kernel address, not its struct page: use __free_pages(page, 2)");
        return ok();
      },
    ),
    nothingLeaked(),
    survivesFaultInjection(),
    noReports(),
  ],
};
