// Models include/linux/page-flags.h, include/linux/page-flags-layout.h and mm/debug.c (%pGp) of Linux 6.1 (2.6/3.4 alike
// for the flags modelled here).
//
// Who owns a physical frame (PageOwner: the simulator's own bookkeeping, one byte per PFN), and the subset of
// struct page->flags that a learner sees printed in "flags: 0x...(slab|node=0|zone=1|lastcpupid=0x1fffff)".
//
// Simplifications: only the flags the simulated kernel can set are modelled (reserved, slab, head, buddy is a page
// *type* in 6.1, not a flag). The upper "section|node|zone|lastcpupid" fields use Debian 6.1's layouts as the real
// logs show them: x86_64 0xfffffc0000000 = zone<<51 | lastcpupid 0x1fffff<<30 (node 0); 32-bit (i386, armmp) zone<<30
// with no node or lastcpupid field.

import type { Arch } from "../types.ts";

/** Who holds a frame. Plain object (isolatedModules: no const enum). */
export const PageOwner = {
  /** In the buddy allocator's free lists. */
  Free: 0,
  /** Firmware, memory holes, memblock reservations that never reach the buddy allocator. */
  Reserved: 1,
  /** The kernel image (.text, .rodata, .data, .init, .bss). */
  KernelImage: 2,
  /** memblock allocations of the boot: mem_map, NODE_DATA, percpu first chunk, linear-map page tables, initrd... */
  Boot: 3,
  /** Page-table pages allocated from the buddy allocator after boot. */
  PageTable: 4,
  /** Slab pages (kmem_cache backing store). */
  Slab: 5,
  /** Pages backing vmalloc areas. */
  Vmalloc: 6,
  /** Pages a module got from alloc_pages / __get_free_pages. */
  Module: 7,
  /** kmalloc() above KMALLOC_MAX_CACHE_SIZE, served straight by the page allocator. */
  KmallocLarge: 8,
  /** dma_alloc_coherent and friends. */
  Dma: 9,
  /** Taken out of circulation after "BUG: Bad page state" (the kernel leaks such pages on purpose). */
  Bad: 10,
  /** Allocated by the kernel itself after boot (other subsystems, with no more specific owner). */
  Kernel: 11,
  /** Page cache (file pages, tmpfs/shmem) filled by user space before the module was loaded (init/userspace.ts). */
  PageCache: 12,
  /** Anonymous user memory of the processes running before the module was loaded (init/userspace.ts). */
  Anon: 13,
} as const;
export type PageOwner = (typeof PageOwner)[keyof typeof PageOwner];
export const NR_PAGE_OWNERS = 14;

export const pageOwnerNames: readonly string[] = [
  "Free",
  "Reserved",
  "KernelImage",
  "Boot",
  "PageTable",
  "Slab",
  "Vmalloc",
  "Module",
  "KmallocLarge",
  "Dma",
  "Bad",
  "Kernel",
  "PageCache",
  "Anon",
];

/** Owners whose frames never entered the buddy allocator (not counted in managed pages). */
export function isUnmanagedOwner(o: number): boolean {
  return o === PageOwner.Reserved || o === PageOwner.KernelImage || o === PageOwner.Boot;
}

// enum pageflags (6.1, x86_64/i386/arm: the same low bits). Only the ones printed here.
export const PG_locked = 0;
export const PG_referenced = 1;
export const PG_uptodate = 2;
export const PG_dirty = 3;
export const PG_lru = 4;
export const PG_active = 5;
export const PG_slab = 9;
export const PG_reserved = 12;
export const PG_head = 16;

/** pageflag_names[] order of include/trace/events/mmflags.h (the subset that can be set here). */
const FLAG_NAMES: Array<[number, string]> = [
  [PG_locked, "locked"],
  [PG_referenced, "referenced"],
  [PG_uptodate, "uptodate"],
  [PG_dirty, "dirty"],
  [PG_lru, "lru"],
  [PG_active, "active"],
  [PG_slab, "slab"],
  [PG_reserved, "reserved"],
  [PG_head, "head"],
];

/** The full page->flags word (as a bigint, 64-bit on x86_64) for the given low flag bits and zone index. */
export function pageFlagsWord(arch: Arch, lowFlags: number, zoneIdx: number): bigint {
  if (arch === "x86_64" || arch === "arm64") {
    return (BigInt(zoneIdx) << 51n) | (0x1fffffn << 30n) | BigInt(lowFlags >>> 0);
  }
  return BigInt(((zoneIdx << 30) | lowFlags) >>> 0);
}

/** %pGp: "0x...(name|name|node=0|zone=1|lastcpupid=0x1fffff)" as 6.1's format_page_flags prints it. */
export function formatPageFlags(arch: Arch, lowFlags: number, zoneIdx: number): string {
  const word = pageFlagsWord(arch, lowFlags, zoneIdx);
  const parts: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (lowFlags & (1 << bit)) parts.push(name);
  if (arch === "x86_64" || arch === "arm64") {
    parts.push("node=0", `zone=${zoneIdx}`, "lastcpupid=0x1fffff");
  } else {
    parts.push(`zone=${zoneIdx}`);
  }
  return `0x${word.toString(16)}(${parts.join("|")})`;
}
