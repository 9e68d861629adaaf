// Models struct zone setup of mm/page_alloc.c (Linux 6.1; 2.6.32 and 3.4 where they differ): zone spans, present and
// managed pages, memmap accounting, min_free_kbytes, __setup_per_zone_wmarks, setup_per_zone_lowmem_reserve.
//
// Simplifications: one node (node 0); the zone set per architecture is Debian's configuration (x86_64: DMA, DMA32,
// Normal, Movable, Device; i386/arm: DMA, Normal, HighMem, Movable; 2.6/3.4 have no Device zone); the watermarks and
// lowmem_reserve are computed once, at the end of mem_init() from the simulator's managed counts (the real kernel
// computes them in a postcore initcall, after initcalls have freed or reserved a little more — so real min/low/high
// differ from ours by the few percent that managed differs; the formulas are the kernel's).

import type { Arch, Era, ZoneName } from "../types.ts";

export type ZoneKind = ZoneName | "Device";

export const ZONE_RANK: Record<ZoneKind, number> = { DMA: 0, DMA32: 1, Normal: 2, HighMem: 3, Movable: 4, Device: 5 };

/** The zones the profile's kernel is configured with, in enum zone_type order. */
export function configuredZones(arch: Arch, era: Era): ZoneKind[] {
  const z: ZoneKind[] = [];
  if (arch === "x86_64" || arch === "arm64") z.push("DMA", "DMA32", "Normal", "Movable");
  else z.push("DMA", "Normal", "HighMem", "Movable");
  if (era === "6.1" && (arch === "x86_64" || arch === "arm64")) z.push("Device");
  return z;
}

/** sizeof(struct page) of the modelled kernel (6.1 Debian: as the real transcripts print it). */
export function structPageSize(arch: Arch, era: Era): number {
  if (arch === "x86_64" || arch === "arm64") return era === "6.1" ? 64 : 56;
  if (arch === "arm") return era === "6.1" ? 36 : 32;
  return era === "6.1" ? 40 : 32; // i386
}

/**
 * Whether the modelled kernel is built with CONFIG_SPARSEMEM: Debian's 6.1 amd64 and arm64 kernels (SPARSEMEM_VMEMMAP);
 * its 686, 686-pae and armmp kernels are FLATMEM (the real configs), as are the 2.6 and 3.4 boards modelled here.
 */
export function sparsemem(arch: Arch, era: Era): boolean {
  return era === "6.1" && (arch === "x86_64" || arch === "arm64");
}

/**
 * The memmap pages free_area_init_core() charges a zone. 6.1 calc_memmap_size(): PAGE_ALIGN(pages * sizeof(struct
 * page)) >> PAGE_SHIFT of the zone's spanned pages, but of its present pages when SPARSEMEM is on and the zone has holes
 * of more than a sixteenth of its present pages ("spanned_pages > present_pages + (present_pages >> 4)": x86_64's DMA32
 * once QEMU moves RAM above 4 GiB and leaves the 3-4 GiB PCI hole in it). 2.6/3.4: always the spanned pages.
 */
export function calcMemmapSize(spanned: number, present: number, arch: Arch, era: Era): number {
  const pages = era === "6.1" && sparsemem(arch, era) && spanned > present + (present >> 4) ? present : spanned;
  return Math.ceil((pages * structPageSize(arch, era)) / 4096);
}

/** sysctl_lowmem_reserve_ratio[] for a zone (6.1: DMA 256, DMA32 256, Normal 32, HighMem/Movable 0). */
export function lowmemReserveRatio(era: Era, kind: ZoneKind): number {
  switch (kind) {
    case "DMA":
    case "DMA32":
      return 256;
    case "Normal":
      return 32;
    case "HighMem":
      return era === "6.1" ? 0 : 32;
    default:
      return era === "6.1" ? 0 : 32;
  }
}

/**
 * pageblock_nr_pages (include/linux/pageblock-flags.h, 6.1): with CONFIG_HUGETLB_PAGE, HUGETLB_PAGE_ORDER =
 * HPAGE_SHIFT - PAGE_SHIFT (x86: HPAGE_SHIFT = PMD_SHIFT, 2 MiB on x86_64 and PAE, 4 MiB on non-PAE i386; arm64 4K
 * pages: 2 MiB); without it (armmp without LPAE, and the x86_64 custom debug build of the real transcript, whose
 * /proc/pagetypeinfo reads "Page block order: 10") MAX_ORDER - 1. The real logs: amd64 9, 686 10, armmp 11.
 */
export function pageblockNrPages(p: { arch: Arch; era: Era; pae?: boolean; maxOrder: number }, debug: boolean): number {
  const noHugetlb = p.arch === "arm" || (p.arch === "x86_64" && debug);
  if (noHugetlb) return 1 << (p.maxOrder - 1);
  if (p.arch === "i386") return p.pae ? 512 : 1024;
  return 512;
}

/** Hugepagesize (HPAGE_SIZE) in kB: PMD_SIZE, 4 MiB on non-PAE i386, 2 MiB elsewhere (x86_64, PAE, arm64, ARM LPAE). */
export function hugepageKb(p: { arch: Arch; pae?: boolean }): number {
  return p.arch === "i386" && !p.pae ? 4096 : 2048;
}

export function int_sqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** init_per_zone_wmark_min(): min_free_kbytes from the lowmem size (6.1 clamp [128, 262144]; 2.6/3.4 [128, 65536]). */
export function minFreeKbytes(era: Era, lowmemKbytes: number): number {
  const v = int_sqrt(lowmemKbytes * 16);
  const hi = era === "6.1" ? 262144 : 65536;
  return Math.min(Math.max(v, 128), hi);
}

export interface Zone {
  /** Index in PageAllocator.zones (== zone_idx() of the modelled kernel). */
  idx: number;
  name: ZoneKind;
  startPfn: number;
  /** zone_start_pfn + spanned_pages */
  endPfn: number;
  spanned: number;
  present: number;
  /** Pages the buddy allocator manages (present minus reserved); live. */
  managed: number;
  /** NR_FREE_PAGES; live. */
  free: number;
  highmem: boolean;
  /** _watermark[WMARK_MIN..WMARK_HIGH] */
  wmark: [number, number, number];
  /** lowmem_reserve[j] for every zone index j. */
  lowmemReserve: number[];
  /** Pages of memmap charged to the zone in free_area_init_core. */
  memmapPages: number;
  /** Managed estimate free_area_init_core set (present - memmap - dma_reserve), for "Total pages". */
  initialManaged: number;
}

/**
 * zone->present_pages as the era's kernel keeps it. 6.1: the pages of RAM in the zone. 2.6.26 and 3.4:
 * free_area_init_core()'s realsize, the pages less the zone's memmap and (zone 0) dma_reserve ("zone->present_pages =
 * realsize"): what their zoneinfo and show_free_areas() print as present and what their watermarks, lowmem_reserve,
 * nr_free_buffer_pages() (so min_free_kbytes), pcp batch, vm stats threshold and inactive_ratio are computed from.
 */
export function presentPages(era: Era, z: Zone): number {
  return era === "6.1" ? z.present : z.initialManaged;
}

export function populated(z: Zone): boolean {
  return z.present > 0;
}

/**
 * __setup_per_zone_wmarks(). 6.1: per lowmem zone min = pages_min * managed / lowmem_pages; highmem (and a
 * Movable zone that is highmem) clamp(managed/1024, 32, 128); low = min + max(tmp/4, managed*10/10000); high = low +
 * same. 2.6.32/3.4: the same on present_pages (realsize: presentPages()), low = min + tmp/4, high = min + tmp/2.
 */
export function setupPerZoneWmarks(era: Era, zones: Zone[], minFreeKb: number): void {
  const pagesMin = minFreeKb >> 2;
  const size = (z: Zone) => (era === "6.1" ? z.managed : presentPages(era, z));
  let lowmemPages = 0;
  for (const z of zones) if (!z.highmem) lowmemPages += size(z);
  for (const z of zones) {
    const tmp = lowmemPages ? Math.floor((pagesMin * size(z)) / lowmemPages) : 0;
    let min: number;
    if (z.highmem) min = Math.min(Math.max(Math.floor(size(z) / 1024), 32), 128);
    else min = tmp;
    if (era === "6.1") {
      const t = Math.max(tmp >> 2, Math.floor((size(z) * 10) / 10000));
      z.wmark = [min, min + t, min + 2 * t];
    } else {
      z.wmark = [min, min + (tmp >> 2), min + (tmp >> 1)];
    }
  }
}

/** setup_per_zone_lowmem_reserve(): lowmem_reserve[j] of zone i = pages of zones i+1..j / ratio[i]. */
export function setupPerZoneLowmemReserve(era: Era, zones: Zone[]): void {
  for (const z of zones) z.lowmemReserve = zones.map(() => 0);
  for (let i = 0; i < zones.length - 1; i++) {
    const zi = zones[i]!;
    let ratio = lowmemReserveRatio(era, zi.name);
    const size = (z: Zone) => (era === "6.1" ? z.managed : presentPages(era, z));
    const clear = era === "6.1" && (ratio === 0 || size(zi) === 0);
    if (ratio < 1) ratio = 1;
    let sum = 0;
    for (let j = i + 1; j < zones.length; j++) {
      sum += size(zones[j]!);
      zi.lowmemReserve[j] = clear ? 0 : Math.floor(sum / ratio);
    }
  }
}

/** calculate_totalreserve_pages(): per zone max(lowmem_reserve) + high watermark, capped at managed. */
export function totalReservePages(zones: Zone[]): number {
  let total = 0;
  for (const z of zones) {
    let max = 0;
    for (const r of z.lowmemReserve) if (r > max) max = r;
    max += z.wmark[2];
    if (max > z.managed) max = z.managed;
    total += max;
  }
  return total;
}
