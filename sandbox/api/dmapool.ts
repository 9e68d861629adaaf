// Rows: DMA pools (include/linux/dmapool.h, mm/dmapool.c of Linux 6.1 — the page-list allocator before 6.3's
// rewrite; 2.6.32 and 3.4 have the same algorithm and messages).
//
// dma_pool_create(name, dev, size, align, boundary): size is at least 4 and rounded up to align (a power of two, 0
// meaning 1), each pool page is max(size, PAGE_SIZE) bytes from dma_alloc_coherent, and no block crosses
// `boundary` (0: the page size; a boundary smaller than size or not a power of two makes create return NULL).
// pool_initialise_page() threads the free list through the page: the next block starts at offset + size unless
// `next + size >= next_boundary`, in which case it starts at the boundary — so with size 64 the block at 4032 that
// would end exactly at the page's end is never used (63 blocks a page), as in the real 6.1 allocator.
// dma_pool_alloc takes the first page with a free block (the pages in creation order), or a new page with the
// caller's gfp; dma_pool_free puts the block at the head of its page's free list; a block whose dma address is in no
// page of the pool is dev_err "dma_pool_free NAME, VADDR/DMA (bad dma)" (DMA with %pad in 6.1, %lx before 3.19) and not freed. dma_pool_destroy frees idle
// pages and, for a page with blocks still in use, prints dev_err "dma_pool_destroy NAME, VADDR busy" and leaks the
// page (the consistent memory stays allocated).
// C's dma_handle out-parameter is dma_pool_handle(pool, vaddr) here (the device address of a block).
// Simplifications: the struct dma_pool and struct dma_page bookkeeping (kmalloc'ed in the kernel) is not allocated;
// DMAPOOL_DEBUG's poisoning (CONFIG_SLUB_DEBUG_ON) is not modelled; pool pages are not in /sys's "pools" file.

import type { ApiEntry, CallEnv } from "../table.ts";
import { fn, GuestError, p } from "../table.ts";
import { detachedSlice } from "../../src/kernel/kernel/vsprintf.ts";
import { handles } from "./handles.ts";
import type { DmaDevice } from "../../src/kernel/kernel/dma.ts";
import { KERN_ERR } from "../../src/kernel/kernel/printk.ts";

interface DmaPage {
  vaddr: bigint;
  dma: bigint;
  /** Offset of the first free block (>= allocation: none free). */
  offset: number;
  inUse: number;
  /** The in-page free list: offset -> next free offset (what the kernel stores in the free block's first int). */
  next: Map<number, number>;
}
interface DmaPool {
  name: string;
  dev: DmaDevice;
  size: number;
  allocation: number;
  boundary: number;
  pages: DmaPage[];
  destroyed?: boolean;
}

const PAGE = 4096;
const DP = p("pool", "handle:dma_pool");
const isPow2 = (x: number) => x > 0 && (x & (x - 1)) === 0;

function poolOf(c: CallEnv, id: number, f: string): DmaPool {
  const pool = handles(c.k).get<DmaPool>(id, f);
  if (pool.destroyed) throw new GuestError("Error", `${f}: this pool was destroyed (dma_pool_destroy)`);
  return pool;
}

/** dev_err(dev, ...): "DRIVER DEVNAME: text". */
function devErr(c: CallEnv, dev: DmaDevice, fmt: string, ...args: unknown[]): void {
  c.k.printk(KERN_ERR + "%s %s: " + fmt, dev.driverString, dev.name, ...(args as never[]));
}

/** pool_alloc_page(): one coherent page (or more for big blocks) and its free list. */
function allocPage(c: CallEnv, pool: DmaPool, gfp: number): DmaPage | undefined {
  const r = c.k.dma.dma_alloc_coherent(pool.dev, pool.allocation, gfp);
  if (r.addr === 0n) return undefined;
  const page: DmaPage = { vaddr: r.addr, dma: r.dma, offset: 0, inUse: 0, next: new Map() };
  let offset = 0;
  let nextBoundary = pool.boundary;
  do {
    let next = offset + pool.size;
    if (next + pool.size >= nextBoundary) {
      next = nextBoundary;
      nextBoundary += pool.boundary;
    }
    page.next.set(offset, next);
    offset = next;
  } while (offset < pool.allocation);
  pool.pages.push(page);
  return page;
}

export const DMAPOOL_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "dma_pool",
    madeWith: "dma_pool_create(name, dev, size, align, boundary)",
    doc: "A pool of small coherent DMA blocks carved from whole coherent pages (struct dma_pool *).",
  },
  fn({
    name: "dma_pool_create",
    memory: { alloc: { family: "cache", size: { arg: 2 } } },
    params: [
      p("name", "string"),
      p("dev", "handle:device"),
      p("size", "size", "bytes per block"),
      p("align", "size", "a power of two, or 0"),
      p("boundary", "size", "blocks do not cross a multiple of it (a power of two >= size), or 0"),
    ],
    returns: "handle:dma_pool",
    context: "may sleep",
    doc: "A pool of size-byte coherent blocks for dev. null if align or boundary is not a power of two or boundary < size. Pages are taken only when blocks are allocated.",
    impl: (c, name: string, d: number, size: number, align: number, boundary: number) => {
      const dev = handles(c.k).get<DmaDevice>(d, "dma_pool_create");
      if (align === 0) align = 1;
      else if (!isPow2(align)) return 0;
      if (size === 0) return 0;
      if (size < 4) size = 4;
      size = Math.ceil(size / align) * align;
      if (size > 1 << 30) throw new GuestError("RangeError", `dma_pool_create: size ${size} is more than this simulator's pools hold (1 GiB)`);
      const allocation = Math.max(size, PAGE);
      if (boundary === 0) boundary = allocation;
      else if (boundary < size || !isPow2(boundary)) return 0;
      // the pool keeps its name in char name[32] (6.1 strscpy, 2.6/3.4 strlcpy): the first 31 bytes
      return handles(c.k).add("dma_pool", { name: poolName(name), dev, size, allocation, boundary, pages: [] } satisfies DmaPool);
    },
  }),
  fn({
    name: "dma_pool_alloc",
    memory: { alloc: { family: "dma-coherent", size: { cache: 0 }, gfp: 1, cache: 0 } },
    params: [DP, p("mem_flags", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL",
    doc: "A block: its CPU address (0n on failure); its device address is dma_pool_handle(pool, addr). Free with dma_pool_free.",
    impl: (c, id: number, gfp: number) => {
      const pool = poolOf(c, id, "dma_pool_alloc");
      c.k.sched.might_alloc(gfp, "include/linux/sched/mm.h", 274, ["dma_pool_alloc"]);
      const page = pool.pages.find((pg) => pg.offset < pool.allocation) ?? allocPage(c, pool, gfp);
      if (!page) return 0n;
      const off = page.offset;
      page.offset = page.next.get(off)!;
      page.inUse++;
      return page.vaddr + BigInt(off);
    },
  }),
  fn({
    name: "dma_pool_handle",
    memory: { none: "the bus address of a dma_pool block the module holds" },
    params: [DP, p("vaddr", "addr", "what dma_pool_alloc returned")],
    returns: "addr",
    context: "any",
    doc: "The dma_handle C's dma_pool_alloc(pool, gfp, &handle) writes: the block's device address (0n if vaddr is in no page of the pool).",
    impl: (c, id: number, v: bigint) => {
      const pool = poolOf(c, id, "dma_pool_handle");
      const pg = pool.pages.find((x) => v >= x.vaddr && v < x.vaddr + BigInt(pool.allocation));
      return pg ? pg.dma + (v - pg.vaddr) : 0n;
    },
  }),
  fn({
    name: "dma_pool_free",
    memory: { free: { addr: 1, families: ["dma-coherent"] } },
    params: [DP, p("vaddr", "addr"), p("dma", "addr", "the block's device address (dma_pool_handle)")],
    returns: "void",
    context: "any",
    doc: "Give a block back to its pool (the page stays in the pool). A dma address in no page of the pool is reported (bad dma) and nothing is freed.",
    impl: (c, id: number, v: bigint, dma: bigint) => {
      const pool = poolOf(c, id, "dma_pool_free");
      const page = pool.pages.find((x) => dma >= x.dma && dma < x.dma + BigInt(pool.allocation));
      if (!page) {
        // %pad since 3.19; 2.6.32 and 3.4 print the address with %lx
        if (c.k.profile.era === "6.1") devErr(c, pool.dev, "%s %s, %p/%pad (bad dma)\n", "dma_pool_free", pool.name, v, dma);
        else devErr(c, pool.dev, "dma_pool_free %s, %p/%lx (bad dma)\n", pool.name, v, dma);
        return;
      }
      const off = Number(v - page.vaddr);
      page.next.set(off, page.offset);
      page.offset = off;
      page.inUse--;
    },
  }),
  fn({
    name: "dma_pool_destroy",
    memory: { free: { addr: 0, families: ["cache"] } },
    params: [DP],
    returns: "void",
    context: "may sleep",
    doc: "Free the pool's pages. A page with blocks still allocated is reported busy and leaked.",
    impl: (c, id: number) => {
      if (id === 0) return; // dma_pool_destroy(NULL) is allowed
      const pool = poolOf(c, id, "dma_pool_destroy");
      for (const page of pool.pages) {
        if (page.inUse !== 0) devErr(c, pool.dev, "%s %s, %p busy\n", "dma_pool_destroy", pool.name, page.vaddr);
        else c.k.dma.dma_free_coherent(pool.dev, pool.allocation, page.vaddr, page.dma);
      }
      pool.pages = [];
      pool.destroyed = true;
    },
  }),
];

/** What struct dma_pool's char name[32] keeps of `name`: its first 31 bytes of UTF-8 (no character cut in half). */
function poolName(name: string): string {
  // a copy, not a slice: V8 keeps a slice's whole parent alive (a 4 MB name per pool)
  const head = name.length > 31 ? detachedSlice(name, 0, 31) : name;
  const bytes = new TextEncoder().encode(head);
  if (bytes.length <= 31) return head;
  let n = 31;
  while (n > 0 && (bytes[n]! & 0xc0) === 0x80) n--; // back to the start of the character the cut falls in
  return new TextDecoder().decode(bytes.subarray(0, n));
}
