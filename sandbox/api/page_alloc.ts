// Rows: the page allocator (include/linux/gfp.h, mm/page_alloc.c) and the memory layout constants a module reads
// (asm/page.h, pgtable.h). Addresses are bigint; orders and flags are numbers.
// alloc_pages/__free_pages/page_address/virt_to_page take or return a struct page *: they join when the page
// allocator exposes the struct page address of a PFN and back (its structPageAddr is private for now).

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { p } from "../table.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";

const fn = (e: Omit<FunctionEntry, "kind" | "module">): FunctionEntry => ({ kind: "function", module: "linux", ...e });

const layoutConst = (name: string, type: "addr" | "number", value: (k: Kernel) => bigint | number, doc: string): ApiEntry => ({
  kind: "constant",
  module: "linux",
  name,
  type,
  value,
  doc,
});

export const PAGE_ALLOC_ROWS: ApiEntry[] = [
  layoutConst("PAGE_SIZE", "number", (k) => k.layout.pageSize, "Bytes in a page (4096 here)."),
  layoutConst("PAGE_SHIFT", "number", (k) => k.layout.pageShift, "log2(PAGE_SIZE)."),
  layoutConst("PAGE_OFFSET", "addr", (k) => k.layout.pageOffset, "Where the kernel's linear map of RAM starts: virtual PAGE_OFFSET is physical PHYS_OFFSET."),
  layoutConst("high_memory", "addr", (k) => k.layout.highMemory, "The end of the linear map (lowmem): the first virtual address that is not directly mapped RAM."),
  layoutConst("VMALLOC_START", "addr", (k) => k.layout.vmallocStart, "Start of the vmalloc area."),
  layoutConst("VMALLOC_END", "addr", (k) => k.layout.vmallocEnd, "End of the vmalloc area, as this architecture defines it (inclusive on x86_64, exclusive on 32-bit)."),
  layoutConst("MAX_ORDER", "number", (k) => k.profile.maxOrder, "Orders 0..MAX_ORDER-1 are valid for the page allocator in these eras (6.4 made it inclusive)."),
  fn({
    name: "__get_free_pages",
    params: [p("gfp_mask", "gfp"), p("order", "order")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL; any with GFP_ATOMIC",
    doc: "Allocate 2^order contiguous pages and return their kernel virtual address (0n on failure). Not from highmem.",
    impl: (c, gfp: number, order: number) => c.k.pages.__get_free_pages(gfp, order),
  }),
  fn({
    name: "__get_free_page",
    params: [p("gfp_mask", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL; any with GFP_ATOMIC",
    doc: "__get_free_pages(gfp_mask, 0): one page.",
    impl: (c, gfp: number) => c.k.pages.__get_free_pages(gfp, 0),
  }),
  fn({
    name: "get_zeroed_page",
    params: [p("gfp_mask", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL; any with GFP_ATOMIC",
    doc: "One page, zeroed: __get_free_pages(gfp_mask | __GFP_ZERO, 0).",
    impl: (c, gfp: number) => c.k.pages.get_zeroed_page(gfp),
  }),
  fn({
    name: "get_free_page",
    params: [p("gfp_mask", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL",
    until: "2.6",
    absentNote: "removed in 2.6.x — use get_zeroed_page, or __get_free_page when it need not be zeroed",
    doc: "The old name of get_zeroed_page (a zeroed page); it did not survive the 2.6 series.",
    impl: (c, gfp: number) => c.k.pages.get_zeroed_page(gfp),
  }),
  fn({
    name: "free_pages",
    params: [p("addr", "addr"), p("order", "order")],
    returns: "void",
    context: "any",
    doc: "Free 2^order pages at the kernel address addr (from __get_free_pages). The order must be the one they were allocated with.",
    impl: (c, addr: bigint, order: number) => c.k.pages.free_pages(addr, order),
  }),
  fn({
    name: "free_page",
    params: [p("addr", "addr")],
    returns: "void",
    context: "any",
    doc: "free_pages(addr, 0).",
    impl: (c, addr: bigint) => c.k.pages.free_pages(addr, 0),
  }),
  fn({
    name: "virt_to_phys",
    params: [p("addr", "addr")],
    returns: "addr",
    context: "any",
    doc: "The physical address of a linear-map (lowmem) address. Meaningless for vmalloc addresses.",
    impl: (c, addr: bigint) => BigInt(Math.max(0, c.k.pages.virt_to_phys(addr))),
  }),
  fn({
    name: "phys_to_virt",
    params: [p("phys", "addr")],
    returns: "addr",
    context: "any",
    doc: "The linear-map address of a physical address in lowmem.",
    impl: (c, pa: bigint) => c.k.pages.phys_to_virt(Number(pa)),
  }),
  fn({
    name: "virt_addr_valid",
    params: [p("addr", "addr")],
    returns: "bool",
    context: "any",
    doc: "True if addr is a linear-map address of real RAM (so virt_to_page() is valid for it).",
    impl: (c, addr: bigint) => c.k.pages.virt_addr_valid(addr),
  }),
];
