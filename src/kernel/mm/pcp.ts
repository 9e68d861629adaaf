// Models the per-CPU page lists of mm/page_alloc.c (struct per_cpu_pages, "pcp") of Linux 6.1, 3.4 and 2.6.26:
// their sizes (zone_batchsize, zone_highsize), which allocations they serve (pcp_allowed_order) and which list a
// page goes on (order_to_pindex). The lists themselves live in PageAllocator (mm/page_alloc.ts, "per-CPU page
// lists"), next to the buddy lists they take from and give back to.
//
// The mechanism, as the simulator runs it:
// - 6.1: per zone and CPU, NR_PCP_LISTS lists: one per migratetype (Unmovable, Movable, Reclaimable) for each order
//   0..PAGE_ALLOC_COSTLY_ORDER (3), plus one for the pageblock order (THP) on kernels with
//   CONFIG_TRANSPARENT_HUGEPAGE (Debian amd64, 686, 686-pae, arm64; not armmp). rmqueue_pcplist() takes the list's
//   head; an empty list is refilled by rmqueue_bulk() with max(batch >> order, 2) blocks taken one by one from the
//   buddy lists (__rmqueue_smallest: ascending PFNs from a split block) and added at its tail. free_unref_page() puts
//   a freed block at the head (LIFO: the next allocation gets the page freed last), and when pcp->count reaches
//   high, free_pcppages_bulk() gives nr_pcp_free() pages back from the lists' tails (the oldest), round-robin from
//   the freeing list, doubling with pcp->free_factor while frees go on without allocations; a high-order free
//   after such frees (free_high) empties the lists. batch = zone_batchsize() on managed pages (~0.1 % of the zone,
//   at most 1 MiB, 2^n - 1); high = zone_highsize() with percpu_pagelist_high_fraction 0: the zone's low watermark
//   split over the node's CPUs, at least 4 * batch. Both are computed by setup_per_cpu_pageset() (the watermarks are
//   still 0 then, so high = 4 * batch; on x86_64 the deferred struct pages are not freed yet, so the last zone's
//   batch is that of its pages below first_deferred_pfn) and again whenever setup_per_zone_wmarks() runs
//   (zone_pcp_update(): init_per_zone_wmark_min at postcore, khugepaged's raise).
// - 3.4: order 0 only, one list per migratetype; batch = zone_batchsize() on present pages (at most 512 KiB),
//   high = 6 * batch; __GFP_COLD takes and frees at the tail; free_pcppages_bulk() frees batch pages when count
//   reaches high, round-robin over the lists with a growing batch_free.
// - 2.6.26: order 0 only, one list per CPU (the cold list was merged into it in 2.6.25: cold pages go to the tail),
//   each page tagged with its migratetype; buffered_rmqueue() takes the first page of the wanted migratetype from the
//   head (the tail for __GFP_COLD), refilling by batch when there is none; free_pages_bulk() frees batch pages from
//   the tail when count reaches high (6 * batch).
// Pages on these lists are free but not in NR_FREE_PAGES (rmqueue_bulk subtracts them): MemFree, buddyinfo and
// zoneinfo's "pages free" do not count them; zoneinfo's pagesets and Mem-Info's free_pcp do.
//
// Simplifications (each one a statement to the learner):
// - One CPU runs everything (CPU 0, the CPU the simulated kernel runs modules and boot on); the other CPUs of a
//   multi-CPU profile have their lists, empty (nothing ran there).
// - The buddy lists keep one migratetype per zone (page_alloc.ts). A freed page goes on the list of the
//   migratetype it was allocated with, which stands in for its pageblock's migratetype
//   (get_pfnblock_migratetype): an Unmovable allocation claims its pageblock in the real kernel. Frees of boot
//   memory (free_reserved_area) go on the Movable list, the migratetype memmap_init gave every pageblock.
// - No vmstat refresh drains (drain_zone_pages of remote nodes, decay of free_factor's leftovers), no CPU hotplug,
//   no memory offlining. drain_all_pages() runs where the kernel calls it on allocation: in the direct-reclaim step
//   of a blocking allocation that found nothing (the simulator has no reclaim, and drains as if reclaim had made
//   progress, which the boots' reclaimable slab would give), before the OOM killer.
// - A distribution 6.1 kernel (no CONFIG_DEBUG_VM, no debug_pagealloc) checks a page's state when rmqueue_bulk()
//   takes it from the buddy lists (check_pcp_refill), not when it is handed out from a pcp list (check_new_pcp):
//   a page freed twice while on a pcp list comes back silently with its refcount reset to 1. 2.6/3.4 check every page
//   handed out (prep_new_page).

import type { Era } from "../types.ts";

/** PAGE_ALLOC_COSTLY_ORDER */
export const PCP_COSTLY_ORDER = 3;
/** MIGRATE_PCPTYPES: Unmovable, Movable, Reclaimable */
export const MIGRATE_PCPTYPES = 3;
/** MIGRATE_CMA (CONFIG_CMA), after MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES: CMA pageblocks (mm/page_alloc.ts). */
export const MIGRATE_CMA = 4;
export const MIGRATE_UNMOVABLE = 0;
export const MIGRATE_MOVABLE = 1;
export const MIGRATE_RECLAIMABLE = 2;

const fls = (x: number) => (x === 0 ? 0 : 32 - Math.clz32(x));
const rounddownPow2 = (x: number) => (x <= 0 ? 0 : 1 << (fls(x) - 1));

/**
 * zone_batchsize(): 6.1 on managed pages, at most 1 MiB of pages; 2.6/3.4 on present pages, at most 512 KiB (the
 * "LIFO batch" of the old boot lines). A quarter, then rounded down to 2^n - 1.
 */
export function zoneBatchsize(era: Era, pages: number): number {
  const capBytes = era === "6.1" ? 1024 * 1024 : 512 * 1024;
  let batch = Math.min(Math.floor(pages / 1024), capBytes / 4096);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  return rounddownPow2(batch + (batch >> 1)) - 1;
}

/** zone_highsize() (6.1, percpu_pagelist_high_fraction = 0): the low watermark over the node's CPUs, >= 4 * batch. */
export function zoneHighsize(lowWmark: number, batch: number, nrCpus: number): number {
  return Math.max(Math.floor(lowWmark / Math.max(1, nrCpus)), batch << 2);
}

/** The pageblock order (HUGETLB_PAGE_ORDER capped at MAX_ORDER - 1): 4 MiB pages on non-PAE i386, 2 MiB elsewhere. */
export function pageblockOrder(arch: string, pae: boolean, maxOrder: number): number {
  return Math.min(arch === "i386" && !pae ? 10 : 9, maxOrder - 1);
}

/** Geometry of one era's pcp lists. */
export interface PcpGeometry {
  /** NR_PCP_LISTS */
  nrLists: number;
  /** The THP list's order (6.1 with CONFIG_TRANSPARENT_HUGEPAGE), or -1. */
  thpOrder: number;
}

export function pcpGeometry(era: Era, arch: string, pae: boolean, maxOrder: number): PcpGeometry {
  if (era === "2.6") return { nrLists: 1, thpOrder: -1 };
  if (era === "3.4") return { nrLists: MIGRATE_PCPTYPES, thpOrder: -1 };
  const thp = arch === "x86_64" || arch === "i386" || arch === "arm64";
  return { nrLists: MIGRATE_PCPTYPES * (PCP_COSTLY_ORDER + 1) + (thp ? 1 : 0), thpOrder: thp ? pageblockOrder(arch, pae, maxOrder) : -1 };
}

/** pcp_allowed_order(): which orders the lists serve. */
export function pcpAllowedOrder(era: Era, g: PcpGeometry, order: number): boolean {
  if (era !== "6.1") return order === 0;
  return order <= PCP_COSTLY_ORDER || order === g.thpOrder;
}

/** order_to_pindex() (6.1); the migratetype's list (3.4); the one list (2.6). */
export function orderToPindex(era: Era, g: PcpGeometry, mt: number, order: number): number {
  if (era === "2.6") return 0;
  if (era === "3.4") return mt;
  if (order > PCP_COSTLY_ORDER) return MIGRATE_PCPTYPES * (PCP_COSTLY_ORDER + 1);
  return MIGRATE_PCPTYPES * order + mt;
}

/** pindex_to_order() (6.1). */
export function pindexToOrder(era: Era, g: PcpGeometry, pindex: number): number {
  if (era !== "6.1") return 0;
  const base = Math.floor(pindex / MIGRATE_PCPTYPES);
  return base > PCP_COSTLY_ORDER ? g.thpOrder : base;
}

/** nr_pcp_free() (6.1): how many pages free_pcppages_bulk() gives back; may raise free_factor. */
export function nrPcpFree(pcp: PerCpuPages, high: number, batch: number, freeHigh: boolean): number {
  if (freeHigh) return pcp.count;
  if (high < batch) return 1;
  const minNr = batch;
  const maxNr = high - batch;
  let b = batch * 2 ** pcp.freeFactor;
  if (b < maxNr) pcp.freeFactor++;
  b = Math.min(Math.max(b, minNr), maxNr);
  return b;
}

/**
 * struct per_cpu_pages of one zone on one CPU. Each list is an array of PFNs with its HEAD AT THE END (list_add is a
 * push, list_first_entry a pop; the tail, list_last_entry, is index 0); `mts` holds each entry's migratetype
 * (page->index, get_pcppage_migratetype), which 2.6.26's single list searches.
 */
export interface PerCpuPages {
  count: number;
  high: number;
  batch: number;
  freeFactor: number;
  lists: number[][];
  mts: number[][];
}

export function newPerCpuPages(nrLists: number, high: number, batch: number): PerCpuPages {
  return {
    count: 0,
    high,
    batch,
    freeFactor: 0,
    lists: Array.from({ length: nrLists }, () => []),
    mts: Array.from({ length: nrLists }, () => []),
  };
}
