// Models mm/slab_common.c, include/linux/slab.h and include/linux/poison.h (Linux 6.1; 3.4 SLUB and 2.6.2x SLAB as noted).
//
// The era-independent part of the slab allocators: the kmalloc size classes and their cache names per era, the
// slab flags and poison bytes, the alignment rule (calculate_alignment) and the index from a request size to a
// kmalloc cache (kmalloc_slab()/__find_general_cachep()). Pure data and pure functions; the allocator that uses
// them lives in slub.ts (SLUB, 6.1 and 3.4) and slab.ts (SLAB, 2.6).
//
// Decisions per era (checked against shared/reference/kernel-facts.md §4 and the real 6.1 transcripts):
// - 6.1 SLUB: kmalloc-8 ... kmalloc-8k (+ -96 after -64, -192 after -128), created for the types NORMAL, CGROUP
//   (kmalloc-cg-*), RECLAIM (kmalloc-rcl-*), DMA (dma-kmalloc-*) in that order, exactly as the real slabinfo lists
//   them (newest first: dma, rcl, cg, normal). KMALLOC_MIN_SIZE from the profile (64 on armmp drops 8..32 and 96).
//   KMALLOC_MAX_CACHE_SIZE = 8192; larger requests go to the page allocator; KMALLOC_MAX_SIZE = 2^(MAX_ORDER-1) pages.
// - 3.4 SLUB: the same SLUB, names kmalloc-<bytes> (kmalloc-1024, kmalloc-8192) and dma-kmalloc-<bytes>; no cg/rcl
//   types; SLUB_MAX_SIZE = 2*PAGE_SIZE = 8192 (the same KMALLOC_MAX_CACHE_SIZE); KMALLOC_MAX_SIZE = 4 MiB.
// - 2.6 SLAB: size-32 ... size-131072 and their size-N(DMA) twins (kmalloc_sizes.h of 2.6.22 and earlier, MMU,
//   L1_CACHE_BYTES >= 128 so no size-96/size-192); nothing above 131072: __find_general_cachep() runs off the end
//   of malloc_sizes[] to the ULONG_MAX sentinel whose cachep is NULL and kmalloc returns NULL *silently* (no
//   WARN, no BUG: CONFIG_DEBUG_SLAB only BUG()s when the general caches are not set up yet). From 2.6.23 on
//   kmalloc_sizes.h continued to size-4194304 (KMALLOC_MAX_SIZE); the profile models the textbook 128 KB era.

import type { Era } from "../types.ts";

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** ZERO_SIZE_PTR ((void *)16): what kmalloc(0) returns; ZERO_OR_NULL_PTR(x) is x <= 16. */
export const ZERO_SIZE_PTR = 16n;
export function ZERO_OR_NULL_PTR(p: bigint): boolean {
  return p <= ZERO_SIZE_PTR;
}

// ---- slab flags (include/linux/slab.h, 6.1 values; the same bits since 2.6 for the ones modelled) ----
export const SLAB_CONSISTENCY_CHECKS = 0x100; // "F" (SLAB_DEBUG_FREE before 4.x)
export const SLAB_RED_ZONE = 0x400; // "Z"
export const SLAB_POISON = 0x800; // "P"
export const SLAB_KMALLOC = 0x1000;
export const SLAB_HWCACHE_ALIGN = 0x2000;
export const SLAB_CACHE_DMA = 0x4000;
export const SLAB_CACHE_DMA32 = 0x8000;
export const SLAB_STORE_USER = 0x10000; // "U"
export const SLAB_RECLAIM_ACCOUNT = 0x20000;
export const SLAB_PANIC = 0x40000;
export const SLAB_TYPESAFE_BY_RCU = 0x80000;
export const SLAB_ACCOUNT = 0x4000000;
/** Internal to SLUB: the object itself is poisoned (SLAB_POISON without ctor/RCU). */
export const __OBJECT_POISON = 0x80000000;
/** SLAB (2.6): slab management kept off the slab pages. */
export const CFLGS_OFF_SLAB = 0x80000000;

export const SLAB_DEBUG_FLAGS = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
/** Flags that forbid merging (SLAB_NEVER_MERGE in mm/slab_common.c). */
export const SLAB_NEVER_MERGE = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TYPESAFE_BY_RCU;
/** Flags that must be equal for two caches to merge (SLAB_MERGE_SAME). */
export const SLAB_MERGE_SAME = SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_ACCOUNT;

// ---- poison bytes (include/linux/poison.h) ----
export const POISON_INUSE = 0x5a;
export const POISON_FREE = 0x6b;
export const POISON_END = 0xa5;
export const SLUB_RED_INACTIVE = 0xbb;
export const SLUB_RED_ACTIVE = 0xcc;

/** The kmalloc cache types, in the order create_kmalloc_caches() creates them (6.1 enum kmalloc_cache_type). */
export type KmallocType = "normal" | "cgroup" | "reclaim" | "dma";

/** One kmalloc size class: its index (log2 size, or 1 = 96, 2 = 192 as in the kernel) and object size. */
export interface KmallocClass {
  index: number;
  size: number;
}

/** Everything a slab era fixes about kmalloc. */
export interface KmallocEra {
  allocator: "SLUB" | "SLAB";
  /** KMALLOC_MIN_SIZE */
  minSize: number;
  /** Largest request served by a kmalloc cache (KMALLOC_MAX_CACHE_SIZE / the last size-N cache). */
  maxCacheSize: number;
  /** KMALLOC_MAX_SIZE: the largest request kmalloc accepts at all. */
  maxSize: number;
  /** Above maxCacheSize: straight to the page allocator (SLUB) or NULL (2.6 SLAB). */
  largeToPageAllocator: boolean;
  /** kmalloc(0) returns ZERO_SIZE_PTR (2.6.22+ SLUB / 2.6.23+ SLAB); else it is served by the smallest cache. */
  zeroSizePtr: boolean;
  types: KmallocType[];
  classes: KmallocClass[]; // creation order within one type
}

function fls(x: number): number {
  // Math.clz32 sees only the low 32 bits: a size of 16 TiB (2^32 pages) would come out as a small order.
  if (x >= 2 ** 32) return 32 + fls(Math.floor(x / 2 ** 32));
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/** get_order(size): the smallest order whose block holds size bytes. */
export function get_order(size: number): number {
  if (size <= PAGE_SIZE) return 0;
  return fls(Math.ceil(size / PAGE_SIZE) - 1);
}

/** The kmalloc era of a profile. maxOrder is the era's (exclusive) MAX_ORDER. */
export function kmallocEra(era: Era, minSize: number, maxOrder: number): KmallocEra {
  switch (era) {
    case "6.1":
    case "3.4": {
      const classes: KmallocClass[] = [];
      const low = Math.max(3, fls(minSize) - 1);
      for (let i = low; i <= PAGE_SHIFT + 1; i++) {
        classes.push({ index: i, size: 1 << i });
        // kmalloc-96 right after kmalloc-64, kmalloc-192 right after kmalloc-128 (create_kmalloc_caches()).
        if (minSize <= 32 && i === 6) classes.push({ index: 1, size: 96 });
        if (minSize <= 64 && i === 7) classes.push({ index: 2, size: 192 });
      }
      return {
        allocator: "SLUB",
        minSize,
        maxCacheSize: 2 * PAGE_SIZE,
        maxSize: 2 ** (maxOrder - 1 + PAGE_SHIFT),
        largeToPageAllocator: true,
        zeroSizePtr: true,
        types: era === "6.1" ? ["normal", "cgroup", "reclaim", "dma"] : ["normal", "dma"],
        classes,
      };
    }
    case "2.6": {
      const classes: KmallocClass[] = [];
      for (let s = 32; s <= 131072; s *= 2) classes.push({ index: fls(s) - 1, size: s });
      return {
        allocator: "SLAB",
        minSize: 32,
        maxCacheSize: 131072,
        maxSize: 131072,
        largeToPageAllocator: false,
        zeroSizePtr: true, // 2.6.23+ (the profile's 2.6.26)
        types: ["normal", "dma"],
        classes,
      };
    }
  }
}

/** The name the era gives a kmalloc cache of this size and type. */
export function kmallocName(era: Era, size: number, type: KmallocType): string {
  if (era === "2.6") return type === "dma" ? `size-${size}(DMA)` : `size-${size}`;
  let s = String(size);
  if (era === "6.1") {
    if (size >= 1 << 20) s = `${size >> 20}M`;
    else if (size >= 1024) s = `${size >> 10}k`;
  }
  switch (type) {
    case "normal":
      return `kmalloc-${s}`;
    case "cgroup":
      return `kmalloc-cg-${s}`;
    case "reclaim":
      return `kmalloc-rcl-${s}`;
    case "dma":
      return `dma-kmalloc-${s}`;
  }
}

/**
 * kmalloc_slab() / __find_general_cachep(): the size class serving a request of `size` bytes (1..maxCacheSize),
 * as a size in bytes. SLUB: size_index[] for <= 192 (with KMALLOC_MIN_SIZE's adjustments), fls(size-1) above.
 * SLAB: the first size-N with N >= size.
 */
export function kmallocClassSize(e: KmallocEra, size: number): number {
  if (e.allocator === "SLAB") {
    let s = 32;
    while (s < size) s *= 2;
    return s;
  }
  let cls: number;
  if (size <= 192) {
    if (size <= 8) cls = 8;
    else if (size <= 16) cls = 16;
    else if (size <= 32) cls = 32;
    else if (size <= 64) cls = 64;
    else if (size <= 96) cls = 96;
    else if (size <= 128) cls = 128;
    else cls = 192;
  } else {
    cls = 1 << fls(size - 1);
  }
  // setup_kmalloc_cache_index_table(): sizes below KMALLOC_MIN_SIZE use the smallest cache; no -96 when the
  // minimum is >= 64, no -192 when it is >= 128.
  if (cls < e.minSize) cls = e.minSize;
  if (cls === 96 && e.minSize >= 64) cls = 128;
  if (cls === 192 && e.minSize >= 128) cls = 256;
  return cls;
}

/** The kmalloc type a gfp selects (kmalloc_type() in 6.1: DMA > RECLAIMABLE > ACCOUNT). */
export function kmallocType(types: KmallocType[], gfp: number, bits: { dma: number; reclaimable: number; account: number }): KmallocType {
  if ((gfp & (bits.dma | bits.reclaimable | bits.account)) === 0) return "normal";
  if (gfp & bits.dma && types.includes("dma")) return "dma";
  if (types.includes("reclaim") && gfp & bits.reclaimable) return "reclaim";
  if (types.includes("cgroup") && gfp & bits.account) return "cgroup";
  return "normal";
}

/**
 * calculate_alignment() (mm/slab_common.c 6.1): SLAB_HWCACHE_ALIGN packs small objects into half, quarter...
 * cache lines; at least ARCH_SLAB_MINALIGN; a multiple of the word size.
 */
export function calculate_alignment(flags: number, align: number, size: number, cacheLine: number, wordSize: number): number {
  if (flags & SLAB_HWCACHE_ALIGN) {
    let ralign = cacheLine;
    while (size <= ralign / 2) ralign /= 2;
    align = Math.max(align, ralign);
  }
  align = Math.max(align, 8); // arch_slab_minalign() = ARCH_SLAB_MINALIGN = __alignof__(unsigned long long) = 8 (gcc, x86 and ARM EABI)
  return Math.ceil(align / wordSize) * wordSize;
}

/** ALIGN(x, a) for a power of two (or any positive) a. */
export function ALIGN(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

export { fls };
