// Models kernel/dma/pool.c dma_atomic_pool_init() of Linux 6.1: the pools dma_alloc_coherent() draws on in atomic
// context, filled at postcore_initcall time from the page allocator, one per zone the DMA API may need.
//
// Built where CONFIG_DMA_COHERENT_POOL is: Debian's amd64 kernel selects it (AMD_MEM_ENCRYPT); its 686 kernel does
// not (the real i386 boot prints no "DMA: preallocated" line). ARM's own atomic pool (arch/arm/mm/dma-mapping.c,
// "DMA: preallocated 256 KiB pool for atomic coherent allocations") comes from CMA and its remap is replayed in
// mm/vmalloc_boot.ts; arm64 6.1 (DMA_DIRECT_REMAP) has this file's pools too.
//
// Size: 128 KiB per GiB of RAM, at least 128 KiB, at most MAX_ORDER_NR_PAGES pages:
//   pages = min(totalram_pages() / (SZ_1G / SZ_128K), MAX_ORDER_NR_PAGES); size = max(pages << PAGE_SHIFT, SZ_128K)
// Pools: GFP_KERNEL; GFP_KERNEL|GFP_DMA when the DMA zone has managed pages (has_managed_dma()); GFP_KERNEL|GFP_DMA32
// with CONFIG_ZONE_DMA32. Each is one alloc_pages(gfp, get_order(size)) (atomic_pool_expand), and each prints
// "DMA: preallocated %zu KiB %pGg pool for atomic allocations" with the block's size. The real allocation passes
// __GFP_NOWARN only on its retries; here boot cannot fail that way, so every try is quiet.
// arm64 takes its pools from the default CMA area (cma_in_zone()), as ARM's own pool does.
// Simplification: the pool's gen_pool metadata (a kmalloc'ed chunk) is not allocated.

import type { Kernel } from "../kernel.ts";
import { KERN_INFO } from "./printk.ts";
import { formatGfp, gfp } from "../gfp.ts";
import { PageOwner } from "../mm/page_flags.ts";

const PAGE = 4096;

/** ARM's DEFAULT_DMA_COHERENT_POOL_SIZE: SZ_256K. */
export const ARM_COHERENT_POOL = 256 * 1024;

/** The physical start of the CMA area ARM's atomic pool comes from (6.1 armmp), or -1 without one. */
export function armCoherentPoolCma(k: Kernel): number {
  if (k.profile.era !== "6.1" || k.profile.arch !== "arm") return -1;
  return k.layout.reservations.find((r) => /\bcma\b/.test(r.what))?.start ?? -1;
}

export function dma_atomic_pool_init(k: Kernel): void {
  const arch = k.profile.arch;
  if (k.profile.era === "6.1" && arch === "arm") {
    // arch/arm/mm/dma-mapping.c atomic_pool_init() (postcore): DEFAULT_DMA_COHERENT_POOL_SIZE (coherent_pool=) from
    // CMA (__alloc_from_contiguous: cma_alloc() of the area's first 64 pages, so CmaFree reads 16128 kB of 16384),
    // remapped: the boot's dma_common_contiguous_remap area (mm/vmalloc_boot.ts) maps those pages
    const cma = armCoherentPoolCma(k);
    if (cma >= 0) k.pages.cma_alloc(cma, ARM_COHERENT_POOL / PAGE, PageOwner.Boot);
    k.printk(KERN_INFO + "DMA: preallocated %zu KiB pool for atomic coherent allocations\n", ARM_COHERENT_POOL >> 10);
    return;
  }
  if (k.profile.era !== "6.1" || (arch !== "x86_64" && arch !== "arm64")) return;
  const maxOrderNrPages = 2 ** (k.profile.maxOrder - 1);
  const pages = Math.min(Math.floor(k.pages.totalramPages / ((1 << 30) / (128 << 10))), maxOrderNrPages);
  const size = Math.max(pages * PAGE, 128 << 10);
  // atomic_pool_expand(): order = min(get_order(size), MAX_ORDER - 1), one block, falling back to smaller orders; the
  // line prints gen_pool_size(), the block's size (a 488 KiB request at 4 GiB prints 512 KiB)
  const top = Math.min(Math.ceil(Math.log2(size / PAGE)), k.profile.maxOrder - 1);
  const era = k.profile.era;
  const GFP_KERNEL = gfp(era, "GFP_KERNEL");
  const zoneManaged = (name: string) => k.pages.zones.find((z) => z.name === name)?.managed ?? 0;
  const pools = [GFP_KERNEL];
  if (zoneManaged("DMA") > 0) pools.push(GFP_KERNEL | gfp(era, "GFP_DMA"));
  if (k.pages.zones.some((z) => z.name === "DMA32")) pools.push(GFP_KERNEL | gfp(era, "GFP_DMA32"));
  // cma_in_zone(): with a default CMA area wholly inside the pool's zone (arm64's 32 MiB below 4 GiB: every pool), the
  // pool comes from CMA first (dma_alloc_from_contiguous(): cma_alloc() of 1 << order pages aligned to the order, the
  // bitmap's first free range: one after the other from the area's base), from the buddy allocator when that fails
  const cma = arch === "arm64" ? (k.layout.reservations.find((r) => /\bcma\b/.test(r.what))?.start ?? -1) : -1;
  let cmaUsed = 0;
  for (const g of pools) {
    let order = top;
    if (cma >= 0) {
      const pfn = k.pages.cma_alloc(cma + cmaUsed, 1 << order, PageOwner.Kernel);
      if (pfn >= 0) {
        cmaUsed += PAGE << order;
        k.printk(KERN_INFO + "DMA: preallocated %lu KiB %s pool for atomic allocations\n", (PAGE << order) >> 10, formatGfp(era, g));
        continue;
      }
    }
    let pfn = k.pages.alloc_pages(g | gfp(era, "__GFP_NOWARN"), order, PageOwner.Kernel);
    while (pfn < 0 && order > 0) pfn = k.pages.alloc_pages(g | gfp(era, "__GFP_NOWARN"), --order, PageOwner.Kernel);
    if (pfn < 0) continue; // the pool stays empty: no line
    k.printk(KERN_INFO + "DMA: preallocated %lu KiB %s pool for atomic allocations\n", (PAGE << order) >> 10, formatGfp(era, g));
  }
}
