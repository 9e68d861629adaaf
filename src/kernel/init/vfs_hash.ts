// Models fs/dcache.c dcache_init_early() and fs/inode.c inode_init_early() of Linux 6.1 (vfs_caches_init_early(),
// from start_kernel before mm_init): the dentry and inode hash tables, allocated from memblock by
// alloc_large_system_hash() (mm/page_alloc.c) on a one-node machine (hashdist off: "linear"), and their lines.
//
// alloc_large_system_hash(): numentries = nr_kernel_pages rounded up to a MiB of pages, one bucket per 2^scale
// bytes of lowmem (dentry: scale 13, inode: 14), rounded up to a power of two, at most 1/16 of all memory; a bucket
// is one pointer (struct hlist_bl_head / hlist_head); "%s hash table entries: %ld (order: %d, %lu bytes, linear)".
// nr_kernel_pages is the lowmem zones' present pages minus their memmap (free_area_init_core's freesize), less the
// highmem zones' memmap (hashPageCounts).
// The tables are memblock reservations (memblock_alloc(size, SMP_CACHE_BYTES), top-down below the lowmem limit): they never reach the
// buddy allocator, as in the real kernel. Simplification: the 2.6 and 3.4 eras are not modelled here.

import type { Kernel } from "../kernel.ts";
import { KERN_INFO } from "../kernel/printk.ts";
import { calcMemmapSize } from "../mm/zone.ts";
import { Memblock } from "../arch/common.ts";

const PAGE = 4096;

/**
 * SMP_CACHE_BYTES (L1_CACHE_BYTES) of the 6.1 builds: 64 on all of them. Debian's 686 build sets CONFIG_X86_GENERIC, so
 * X86_L1_CACHE_SHIFT is 6 although the CPU's cache alignment (SLUB's "HWalign", cache_line_size()) is 32 there.
 */
export const SMP_CACHE_BYTES = 64;

/**
 * nr_kernel_pages and nr_all_pages as free_area_init_core() (6.1) counts them, zone by zone: every zone's freesize
 * adds to nr_all_pages; a lowmem zone's to nr_kernel_pages, and a highmem zone's memmap (calc_memmap_size(), which
 * lives in lowmem) is charged to nr_kernel_pages "if there are enough kernel pages" (more than twice the memmap).
 */
export function hashPageCounts(k: Kernel): { nrKernelPages: number; nrAllPages: number } {
  let nrKernelPages = 0;
  let nrAllPages = 0;
  for (const z of k.pages.zones) {
    nrAllPages += z.initialManaged;
    if (!z.highmem) nrKernelPages += z.initialManaged;
    else if (z.present) {
      const memmap = calcMemmapSize(z.spanned, z.present, k.profile.arch, k.profile.era);
      if (nrKernelPages > memmap * 2) nrKernelPages -= memmap;
    }
  }
  return { nrKernelPages, nrAllPages };
}

/**
 * alloc_large_system_hash()'s scale adaptation on 64-bit kernels without a high limit: one more bit of scale (half the
 * buckets) for each factor of 4 (ADAPT_SCALE_SHIFT) that the MiB-rounded nr_kernel_pages exceeds 64 GiB of pages
 * (ADAPT_SCALE_BASE): for adapt = 64 GiB >> PAGE_SHIFT; adapt < numentries; adapt <<= 2: scale++.
 */
export function adaptScale(k: { layout: { bits: number } }, numentries: number, highLimit: number): number {
  if (k.layout.bits !== 64 || highLimit) return 0;
  let n = 0;
  for (let adapt = (64 * 2 ** 30) / PAGE; adapt < numentries; adapt *= 4) n++;
  return n;
}

export function vfs_caches_init_early(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  const L = k.layout;
  const ptr = L.bits === 64 ? 8 : 4;
  const { nrKernelPages, nrAllPages } = hashPageCounts(k);
  const limit = (L.maxLowPfn || L.maxPfn) * PAGE;
  for (const [name, scale] of [
    ["Dentry cache", 13],
    ["Inode-cache", 14],
  ] as const) {
    let n = Math.ceil(nrKernelPages / ((1 << 20) / PAGE)) * ((1 << 20) / PAGE);
    const sc = scale + adaptScale(k, n, 0);
    n = sc > 12 ? Math.floor(n / 2 ** (sc - 12)) : n * 2 ** (12 - sc);
    if (n * ptr < PAGE) n = PAGE / ptr;
    n = 2 ** Math.ceil(Math.log2(n));
    const max = Math.floor((nrAllPages * PAGE) / 16 / ptr);
    while (n > max) n /= 2; // log2qty = ilog2(min(numentries, max))
    const size = n * ptr;
    // alloc_large_system_hash(HASH_EARLY): memblock_alloc(size, SMP_CACHE_BYTES), top-down below the lowmem limit
    const at = Memblock.over(L.memory, L.reservations).tryAlloc(size, SMP_CACHE_BYTES, `${name} hash table`, limit);
    if (at < 0) continue; // the real kernel panics ("Failed to allocate %s hash table"); a tiny machine skips it
    k.printk(KERN_INFO + "%s hash table entries: %ld (order: %d, %lu bytes, linear)\n", name, n, Math.log2(size) - 12, size);
  }
}
