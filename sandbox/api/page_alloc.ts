// Rows: the page allocator (include/linux/gfp.h, mm/page_alloc.c) and the memory layout constants a module reads
// (asm/page.h, pgtable.h). Addresses are bigint; orders and flags are numbers.
// alloc_pages/__free_pages/page_address/virt_to_page take or return a struct page *: a bigint, the address of the
// page's struct page in vmemmap (64-bit) or mem_map (32-bit), computed as the kernel computes it (pfn_to_page /
// page_to_pfn of mm/page_alloc.ts). kmap/kunmap/kmap_local_page give highmem pages a temporary kernel address.

import type { ApiEntry } from "../table.ts";
import { fn, p } from "../table.ts";
import { oopsEndsTask } from "./handles.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";

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
  layoutConst(
    "high_memory",
    "addr",
    (k) => k.layout.highMemory,
    "The end of the linear map (lowmem): the first virtual address that is not directly mapped RAM.",
  ),
  layoutConst("VMALLOC_START", "addr", (k) => k.layout.vmallocStart, "Start of the vmalloc area."),
  layoutConst(
    "VMALLOC_END",
    "addr",
    (k) => k.layout.vmallocEnd,
    "End of the vmalloc area, as this architecture defines it (inclusive on x86_64, exclusive on 32-bit).",
  ),
  layoutConst(
    "MAX_ORDER",
    "number",
    (k) => k.profile.maxOrder,
    "Orders 0..MAX_ORDER-1 are valid for the page allocator in these eras (6.4 made it inclusive).",
  ),
  fn({
    name: "__get_free_pages",
    memory: { alloc: { family: "page", order: { arg: 1 }, gfp: 0 } },
    params: [p("gfp_mask", "gfp"), p("order", "order")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL; any with GFP_ATOMIC",
    doc: "Allocate 2^order contiguous pages and return their kernel virtual address (0n on failure). Not from highmem.",
    impl: (c, gfp: number, order: number) => c.k.pages.__get_free_pages(gfp, order),
  }),
  fn({
    name: "__get_free_page",
    memory: { alloc: { family: "page", order: { fixed: 0 }, gfp: 0 } },
    params: [p("gfp_mask", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL; any with GFP_ATOMIC",
    doc: "__get_free_pages(gfp_mask, 0): one page.",
    impl: (c, gfp: number) => c.k.pages.__get_free_pages(gfp, 0),
  }),
  fn({
    name: "get_zeroed_page",
    memory: { alloc: { family: "page", order: { fixed: 0 }, gfp: 0, zeroed: true } },
    params: [p("gfp_mask", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL; any with GFP_ATOMIC",
    doc: "One page, zeroed: __get_free_pages(gfp_mask | __GFP_ZERO, 0).",
    impl: (c, gfp: number) => c.k.pages.get_zeroed_page(gfp),
  }),
  fn({
    name: "get_free_page",
    memory: { alloc: { family: "page", order: { fixed: 0 }, gfp: 0, zeroed: true } },
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
    memory: { free: { addr: 0, families: ["page"], order: { arg: 1 } } },
    params: [p("addr", "addr"), p("order", "order")],
    returns: "void",
    context: "any",
    doc: "Free 2^order pages at the kernel address addr (from __get_free_pages). The order must be the one they were allocated with.",
    impl: (c, addr: bigint, order: number) => oopsEndsTask(c.k, () => c.k.pages.free_pages(addr, order)),
  }),
  fn({
    name: "free_page",
    memory: { free: { addr: 0, families: ["page"], order: { fixed: 0 } } },
    params: [p("addr", "addr")],
    returns: "void",
    context: "any",
    doc: "free_pages(addr, 0).",
    impl: (c, addr: bigint) => oopsEndsTask(c.k, () => c.k.pages.free_pages(addr, 0)),
  }),
  fn({
    name: "virt_to_phys",
    memory: { none: "a physical address: a translation" },
    params: [p("addr", "addr")],
    returns: "addr",
    context: "any",
    doc: "The physical address of a linear-map (lowmem) address. Meaningless for vmalloc addresses.",
    impl: (c, addr: bigint) => BigInt(Math.max(0, c.k.pages.virt_to_phys(addr))),
  }),
  fn({
    name: "phys_to_virt",
    memory: { none: "a virtual address: a translation" },
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
  fn({
    name: "alloc_pages",
    memory: { alloc: { family: "page", order: { arg: 1 }, gfp: 0, page: true } },
    params: [p("gfp_mask", "gfp"), p("order", "order")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL; any with GFP_ATOMIC",
    doc: "Allocate 2^order contiguous pages and return the first one's struct page * (0n on failure). With __GFP_HIGHMEM it may be a highmem page with no kernel address: kmap() it. Free with __free_pages(page, order).",
    impl: (c, gfp: number, order: number) => {
      const pfn = c.k.pages.alloc_pages(gfp, order);
      return pfn < 0 ? 0n : c.k.pages.pfn_to_page(pfn);
    },
  }),
  fn({
    name: "alloc_page",
    memory: { alloc: { family: "page", order: { fixed: 0 }, gfp: 0, page: true } },
    params: [p("gfp_mask", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL; any with GFP_ATOMIC",
    doc: "alloc_pages(gfp_mask, 0).",
    impl: (c, gfp: number) => {
      const pfn = c.k.pages.alloc_pages(gfp, 0);
      return pfn < 0 ? 0n : c.k.pages.pfn_to_page(pfn);
    },
  }),
  fn({
    name: "__free_pages",
    memory: { free: { addr: 0, families: ["page"], order: { arg: 1 }, page: true } },
    params: [p("page", "addr", "a struct page * from alloc_pages"), p("order", "order")],
    returns: "void",
    context: "any",
    doc: "Free 2^order pages starting at page (the order they were allocated with).",
    impl: (c, page: bigint, order: number) => oopsEndsTask(c.k, () => c.k.pages.moduleFreePages(c.k.pages.page_to_pfn(page), order, "__free_pages")),
  }),
  fn({
    name: "__free_page",
    memory: { free: { addr: 0, families: ["page"], order: { fixed: 0 }, page: true } },
    params: [p("page", "addr")],
    returns: "void",
    context: "any",
    doc: "__free_pages(page, 0).",
    impl: (c, page: bigint) => oopsEndsTask(c.k, () => c.k.pages.moduleFreePages(c.k.pages.page_to_pfn(page), 0, "__free_pages")),
  }),
  fn({
    name: "page_address",
    memory: { alias: { of: 0, page: "to-virt" } },
    params: [p("page", "addr", "a struct page *")],
    returns: "addr",
    context: "any",
    doc: "The kernel virtual address of the page: its linear-map address for lowmem; for highmem the kmap address while it is kmap'ed, else 0n.",
    impl: (c, page: bigint) => c.k.pages.page_address(c.k.pages.page_to_pfn(page)),
  }),
  fn({
    name: "virt_to_page",
    memory: { alias: { of: 0, page: "to-page" } },
    params: [p("addr", "addr", "a linear-map (lowmem) address")],
    returns: "addr",
    context: "any",
    doc: "The struct page * of a linear-map address: pfn_to_page(__pa(addr) >> PAGE_SHIFT). Meaningless for vmalloc addresses (use vmalloc_to_page).",
    impl: (c, addr: bigint) => c.k.pages.pfn_to_page(Math.floor(Math.max(0, c.k.pages.virt_to_phys(addr)) / c.k.layout.pageSize)),
  }),
  fn({
    name: "page_to_pfn",
    params: [p("page", "addr")],
    returns: "uint",
    context: "any",
    doc: "The page frame number of a struct page *: (page - vmemmap) / sizeof(struct page).",
    impl: (c, page: bigint) => Math.max(0, c.k.pages.page_to_pfn(page)),
  }),
  fn({
    name: "get_order",
    params: [p("size", "size")],
    returns: "uint",
    context: "any",
    doc: "The smallest order whose block holds size bytes: (PAGE_SIZE << get_order(size)) >= size, as __get_free_pages(gfp, get_order(size)) is written. get_order(0) is BITS_PER_LONG - PAGE_SHIFT, as the kernel's is (size - 1 wraps).",
    impl: (c, size: number) => {
      const bits = c.k.profile.arch === "x86_64" || c.k.profile.arch === "arm64" ? 64 : 32;
      if (size === 0) return bits - 12;
      let order = 0;
      while (4096 * 2 ** order < size) order++;
      return order;
    },
  }),
  fn({
    name: "pfn_to_page",
    memory: { none: "the struct page of a frame: names memory, allocates none" },
    params: [p("pfn", "uint")],
    returns: "addr",
    context: "any",
    doc: "The struct page * of a page frame number: vmemmap + pfn (64-bit), mem_map + (pfn - ARCH_PFN_OFFSET) (32-bit).",
    impl: (c, pfn: number) => c.k.pages.pfn_to_page(pfn),
  }),
  fn({
    name: "kmap",
    memory: { alias: { of: 0, page: "to-virt" } },
    params: [p("page", "addr", "a struct page *")],
    returns: "addr",
    context: "may sleep (waits for a free pkmap slot)",
    doc: "A kernel address for the page: page_address() for lowmem; for a highmem page (32-bit) a slot in the pkmap area until kunmap(page).",
    impl: (c, page: bigint) => c.k.pages.kmap(c.k.pages.page_to_pfn(page)),
  }),
  fn({
    name: "kunmap",
    memory: { none: "ends a kmap: the page stays the module's" },
    params: [p("page", "addr")],
    returns: "void",
    context: "may sleep",
    doc: "Release the kmap() of page.",
    impl: (c, page: bigint) => c.k.pages.kunmap(c.k.pages.page_to_pfn(page)),
  }),
  fn({
    name: "kmap_local_page",
    memory: { alias: { of: 0, page: "to-virt" } },
    since: "6.1",
    absentNote: "added in 5.11 — use kmap_atomic(page) or kmap(page)",
    params: [p("page", "addr")],
    returns: "addr",
    context: "any (the mapping is local to this CPU and context: unmap in reverse order)",
    doc: "A short-lived kernel address for the page (a per-CPU fixmap slot for highmem). Release with kunmap_local(addr), innermost first.",
    impl: (c, page: bigint) => c.k.pages.kmap_local_page(c.k.pages.page_to_pfn(page)),
  }),
  fn({
    name: "kunmap_local",
    memory: { none: "ends a kmap_local_page: the page stays the module's" },
    since: "6.1",
    absentNote: "added in 5.11 — use kunmap_atomic(addr) or kunmap(page)",
    params: [p("addr", "addr", "what kmap_local_page returned")],
    returns: "void",
    context: "any",
    doc: "Release a kmap_local_page() mapping.",
    impl: (c, addr: bigint) => c.k.pages.kunmap_local(addr),
  }),
];
