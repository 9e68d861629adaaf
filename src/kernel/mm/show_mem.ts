// Models lib/show_mem.c + mm/page_alloc.c __show_free_areas() of Linux 6.1 (and 2.6.32's show_free_areas): the
// "Mem-Info:" block that follows an allocation-failure warning.
//
// Faithful subset: every line the 6.1 kernel prints, in its order and format, with the simulator's values. The node
// counters are the ones /proc/meminfo prints (global_node_page_state(): the LRU lists, slab, mapped, shmem, NR_PAGETABLE,
// the kernel stacks and the page cache, fs/meminfo.ts), and each zone's LRU pages are the user pages it holds, split as
// meminfo splits them; counters the simulator has no source for (dirty, writeback, swap, hugepages) print 0; free_pcp and
// local_pcp are the pages on the per-CPU lists (mm/pcp.ts; CPU 0 holds them all, so local_pcp = free_pcp). "Node 0 " prefixes appear only on
// NUMA kernels (x86_64), and zones above gfp_zone(gfp) are skipped, as in the kernel. Each order's free blocks name
// the migratetypes whose lists hold them ("(UME)": show_migration_types, with C for CMA on CONFIG_CMA kernels;
// HighAtomic and Isolate lists stay empty, see mm/page_alloc.ts). 2.6.32's variant is printed for era 2.6
// and 3.4 (its per-cpu lines show each CPU's pcp high, batch and count).

import type { PageAllocator } from "./page_alloc.ts";
import { MIGRATE_CMA } from "./pcp.ts";
import { PageOwner } from "./page_flags.ts";
import { KERN_INFO, KERN_WARNING } from "./page_alloc_deps.ts";
import { hugepageKb, presentPages } from "./zone.ts";
import { lruSplit, renderMeminfo } from "../fs/meminfo.ts";

const K = (pages: number) => pages * 4;

export function showMem(pa: PageAllocator, maxZoneIdx: number): void {
  if (pa.era === "6.1") showMem61(pa, maxZoneIdx);
  else showMem26(pa, maxZoneIdx);
}

function populatedUpTo(pa: PageAllocator, maxZoneIdx: number) {
  return pa.zones.filter((z) => z.present > 0 && z.idx <= maxZoneIdx);
}

function buddyLine(pa: PageAllocator, zoneIdx: number, withTypes: boolean): string {
  let s = "";
  let total = 0;
  for (let o = 0; o < pa.maxOrder; o++) {
    const n = pa.nrFreeAt(zoneIdx, o);
    s += `${n}*${4 << o}kB `;
    if (n && withTypes) {
      // show_migration_types(): the letters of the migratetypes whose free_list[] of this order is not empty
      let t = "";
      for (const [mt, c] of [
        [0, "U"],
        [1, "M"],
        [2, "E"],
        [MIGRATE_CMA, "C"],
      ] as const)
        if (pa.nrFreeMtAt(zoneIdx, o, mt) > 0) t += c;
      s += `(${t}) `;
    }
    total += n << o;
  }
  return `${s}= ${K(total)}kB`;
}

/** The node counters /proc/meminfo prints, in pages (KernelStack in kB, as the kernel counts it). */
function nodeCounters(pa: PageAllocator): (field: string) => number {
  const mi = new Map([...renderMeminfo(pa.k).matchAll(/^([\w()]+):\s+(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  return (f) => Math.floor((mi.get(f) ?? 0) / (f === "KernelStack" ? 1 : 4));
}

/**
 * Each zone's share of the LRU pages (zone_page_state(NR_ZONE_ACTIVE_ANON)...): the user pages the zone holds (6.1's
 * initramfs page cache is shmem, on the anon LRU), split active/inactive as meminfo splits the node's, so that the
 * zones add up to the node's counters.
 */
function zoneLru(pa: PageAllocator): Map<number, { active: number; inactive: number }> {
  const out = new Map<number, { active: number; inactive: number }>();
  let total = 0;
  for (const z of pa.zones) total += pa.zoneOwnerPages(PageOwner.Anon, z.idx) + pa.zoneOwnerPages(PageOwner.PageCache, z.idx);
  const share = total ? lruSplit(pa.k, total, 0).activeAnon / total : 0;
  let before = 0;
  for (const z of pa.zones) {
    const n = pa.zoneOwnerPages(PageOwner.Anon, z.idx) + pa.zoneOwnerPages(PageOwner.PageCache, z.idx);
    const a = Math.round((before + n) * share) - Math.round(before * share);
    out.set(z.idx, { active: a, inactive: n - a });
    before += n;
  }
  return out;
}

function showMem61(pa: PageAllocator, maxZoneIdx: number): void {
  const k = pa.k;
  const arch = k.profile.arch;
  const numa = arch === "x86_64" || arch === "arm64";
  const node = numa ? "Node 0 " : "";
  const thp = arch !== "arm";
  const c = nodeCounters(pa);
  const p = (fmt: string, ...a: (string | number)[]) => k.printk(KERN_WARNING + fmt, ...a);
  k.printk(KERN_WARNING + "Mem-Info:\n");
  p(
    "active_anon:%d inactive_anon:%d isolated_anon:0\n active_file:%d inactive_file:%d isolated_file:0\n unevictable:0 dirty:0 writeback:0\n slab_reclaimable:%d slab_unreclaimable:%d\n mapped:%d shmem:%d pagetables:%d\n sec_pagetables:0 bounce:0\n kernel_misc_reclaimable:0\n free:%d free_pcp:%d free_cma:%d\n",
    c("Active(anon)"),
    c("Inactive(anon)"),
    c("Active(file)"),
    c("Inactive(file)"),
    c("SReclaimable"),
    c("SUnreclaim"),
    c("Mapped"),
    c("Shmem"),
    c("PageTables"),
    pa.nrFreePages(),
    pa.pcpPages(),
    pa.zones.reduce((a, z) => a + pa.zoneFreeCma(z.idx), 0),
  );
  p(
    "Node 0 active_anon:%dkB inactive_anon:%dkB active_file:%dkB inactive_file:%dkB unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:%dkB dirty:0kB writeback:0kB shmem:%dkB%s writeback_tmp:0kB kernel_stack:%dkB pagetables:%dkB sec_pagetables:0kB all_unreclaimable? no\n",
    K(c("Active(anon)")),
    K(c("Inactive(anon)")),
    K(c("Active(file)")),
    K(c("Inactive(file)")),
    K(c("Mapped")),
    K(c("Shmem")),
    thp ? " shmem_thp: 0kB shmem_pmdmapped: 0kB anon_thp: 0kB" : "",
    c("KernelStack"),
    K(c("PageTables")),
  );
  const zones = populatedUpTo(pa, maxZoneIdx);
  const lru = zoneLru(pa);
  for (const z of zones) {
    p(
      "%s%s free:%dkB boost:0kB min:%dkB low:%dkB high:%dkB reserved_highatomic:0KB active_anon:%dkB inactive_anon:%dkB active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB present:%dkB managed:%dkB mlocked:0kB bounce:0kB free_pcp:%dkB local_pcp:%dkB free_cma:%dkB\n",
      node,
      z.name,
      K(z.free),
      K(z.wmark[0]),
      K(z.wmark[1]),
      K(z.wmark[2]),
      K(lru.get(z.idx)?.active ?? 0),
      K(lru.get(z.idx)?.inactive ?? 0),
      K(z.present),
      K(z.managed),
      K(pa.pcpPages(z.idx)),
      K(pa.pagesets(z.idx)[0]?.count ?? 0),
      K(pa.zoneFreeCma(z.idx)),
    );
    p("lowmem_reserve[]:%s\n", z.lowmemReserve.map((r) => " " + r).join(""));
  }
  for (const z of zones) p("%s%s: %s\n", node, z.name, buddyLine(pa, z.idx, true));
  if (arch !== "arm") {
    p("Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=%dkB\n", hugepageKb(k.profile));
  }
  // global_node_page_state(NR_FILE_PAGES): Cached + Buffers + SwapCached
  p("%d total pagecache pages\n", c("Cached") + c("Buffers") + c("SwapCached"));
  p("0 pages in swap cache\n");
  p("Free swap  = 0kB\n");
  p("Total swap = 0kB\n");
  let total = 0;
  let high = 0;
  let reserved = 0;
  for (const z of pa.zones) {
    total += z.present;
    if (z.highmem) high += z.present;
    reserved += z.present - z.managed;
  }
  p("%d pages RAM\n", total);
  p("%d pages HighMem/MovableOnly\n", high);
  p("%d pages reserved\n", reserved);
  if (pa.hasCma) p("%d pages cma reserved\n", pa.totalcmaPages);
  if (arch !== "arm") p("0 pages hwpoisoned\n");
}

function showMem26(pa: PageAllocator, maxZoneIdx: number): void {
  const k = pa.k;
  const p = (fmt: string, ...a: (string | number)[]) => k.printk(KERN_INFO + fmt, ...a);
  const zones = pa.zones.filter((z) => z.present > 0);
  const c = nodeCounters(pa);
  p("Mem-Info:\n");
  for (const z of zones) {
    p("%s per-cpu:\n", z.name);
    for (const [cpu, ps] of pa.pagesets(z.idx).entries()) p("CPU %4d: hi:%5d, btch:%4d usd:%4d\n", cpu, ps.high, ps.batch, ps.count);
  }
  p(
    "active_anon:%d inactive_anon:%d isolated_anon:0\n active_file:%d inactive_file:%d isolated_file:0\n unevictable:0 dirty:0 writeback:0 unstable:0\n free:%d slab_reclaimable:%d slab_unreclaimable:%d\n mapped:%d shmem:%d pagetables:%d bounce:0\n",
    c("Active(anon)"),
    c("Inactive(anon)"),
    c("Active(file)"),
    c("Inactive(file)"),
    pa.nrFreePages(),
    c("SReclaimable"),
    c("SUnreclaim"),
    c("Mapped"),
    c("Shmem"),
    c("PageTables"),
  );
  for (const z of zones) {
    if (z.idx > maxZoneIdx && pa.era === "3.4") continue;
    p(
      "%s free:%dkB min:%dkB low:%dkB high:%dkB active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB isolated(anon):0kB isolated(file):0kB present:%dkB mlocked:0kB dirty:0kB writeback:0kB mapped:0kB shmem:0kB slab_reclaimable:0kB slab_unreclaimable:0kB kernel_stack:0kB pagetables:0kB unstable:0kB bounce:0kB writeback_tmp:0kB pages_scanned:0 all_unreclaimable? no\n",
      z.name,
      K(z.free),
      K(z.wmark[0]),
      K(z.wmark[1]),
      K(z.wmark[2]),
      K(presentPages(k.profile.era, z)),
    );
    p("lowmem_reserve[]:%s\n", z.lowmemReserve.map((r) => " " + r).join(""));
  }
  for (const z of zones) p("%s: %s\n", z.name, buddyLine(pa, z.idx, false));
  p("%d total pagecache pages\n", c("Cached") + c("Buffers") + c("SwapCached"));
  p("0 pages in swap cache\n");
  p("Swap cache stats: add 0, delete 0, find 0/0\n");
  p("Free swap  = 0kB\n");
  p("Total swap = 0kB\n");
  let high = 0;
  let reserved = 0;
  for (const z of pa.zones) {
    if (z.highmem) high += z.present;
    reserved += z.present - z.managed;
  }
  p("%d pages RAM\n", k.layout.maxPfn);
  p("%d pages HighMem\n", high);
  p("%d pages reserved\n", reserved);
}
