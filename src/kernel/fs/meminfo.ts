// Models fs/proc/meminfo.c meminfo_proc_show() of Linux 6.1 (and 2.6.32's field list for eras 2.6 and 3.4), with
// mm/page_alloc.c si_mem_available(), mm/hugetlb.c hugetlb_report_meminfo() and arch/x86/mm/pat/set_memory.c
// arch_report_meminfo().
//
// User space is a model (init/userspace.ts): Cached, AnonPages, Shmem and the LRU lines come from the page cache and
// anonymous pages it took, the LRU split by a fixed ratio; Mapped is the model's busybox pages on 6.1 (a fixed share
// of the file cache on the old machines). There is no swap; Buffers, Dirty... are 0 — a
// documented model, not a measurement — so that
// MemTotal = MemFree + every page the kernel's allocators hold (Slab, PageTables, vmalloc, module pages...).
// Sources: MemTotal = totalram (managed pages); MemFree = free pages of all zones; Slab/SUnreclaim = slab pages +
// large-kmalloc pages (6.1 accounts kmalloc_large as NR_SLAB_UNRECLAIMABLE_B); SReclaimable = KReclaimable = the
// pages of the SLAB_RECLAIM_ACCOUNT caches (mm/slab_boot.ts's dentry, inodes, radix_tree_node, kmalloc-rcl-*);
// PageTables = what 6.1's NR_PAGETABLE counts (mm/pgtable.ts accountedKernelTable(), the boot processes' and a run's
// process tables); KernelStack = tasks x THREAD_SIZE (init/boot_tasks.ts: 6.1, and the old eras' documented task sets);
// Committed_AS = vm_committed_as (the boot's tmpfs pages and processes, init/boot_tasks.ts, then a run's
// VM_ACCOUNT mappings); Percpu = mm/percpu_boot.ts percpuMeminfoKb(); VmallocUsed/Chunk from k.vmalloc.meminfo() when it
// exists (6.1: Used = pages, Chunk = 0; before 4.4 Used = address space in use, Chunk = largest free hole), else
// from Vmalloc-owned pages (Chunk = the whole area). MemAvailable is si_mem_available() on these numbers (free,
// less totalreserve, plus the reclaimable slab less min(half of it, the low watermarks)).
// DirectMap (x86): direct_pages_count[] from the page tables (mm/pgtable.ts): the ISA range and RAM (no PCI hole)
// with large pages where aligned, then the splits of set_memory_*() (init/free_initmem.ts: the image's permissions;
// module and BPF text made read-only through their direct-map alias). CMA (CONFIG_CMA: armmp, arm64): CmaTotal is the
// CMA reservation (totalcma_pages), CmaFree the pages on the MIGRATE_CMA free lists (NR_FREE_CMA_PAGES); the area is
// the buddy allocator's from cma_init_reserved_areas() on (mm/page_alloc.ts init_cma_reserved_area).

import type { Kernel } from "../kernel.ts";
import { PageOwner } from "../mm/page_flags.ts";
import { registerProc } from "./proc.ts";
import { threadSize } from "../mm/slab_boot.ts";
import { percpuMeminfoKb } from "../mm/percpu_boot.ts";
import { hugepageKb } from "../mm/zone.ts";
import { userspaceModel } from "../init/userspace.ts";

function kb(label: string, kbytes: number): string {
  return label.padEnd(16) + String(kbytes).padStart(8) + " kB\n";
}

interface VmallocMeminfo {
  used: number;
  chunk: number;
}

function vmallocInfo(k: Kernel): VmallocMeminfo | undefined {
  const v = (k as unknown as { vmalloc?: { meminfo?: () => VmallocMeminfo } }).vmalloc;
  return v?.meminfo ? v.meminfo() : undefined;
}

function directMap(k: Kernel): string {
  const arch = k.profile.arch;
  if (arch !== "x86_64" && arch !== "i386") return "";
  const pae = k.profile.pae === true;
  const largeKb = arch === "x86_64" || pae ? 2048 : 4096; // 2M pages (x86_64, PAE) or 4M (i386 non-PAE)
  const label = largeKb === 2048 ? "DirectMap2M:" : "DirectMap4M:";
  // arch_report_meminfo(): direct_pages_count[] as the page tables keep it (mm/pgtable.ts: the boot's linear map, then
  // every split set_memory_*() made).
  const d = (k as unknown as { pgtable?: { directPages: { small: number; large: number } } }).pgtable?.directPages;
  if (d) return kb("DirectMap4k:", d.small * 4) + kb(label, d.large * largeKb);
  const L = k.layout;
  const endPfn = arch === "x86_64" ? L.maxPfn : L.maxLowPfn;
  const large = largeKb / 4;
  const largeMapped = Math.max(0, Math.floor(endPfn / large) - 1); // the first large page stays 4k (ISA / first MB)
  return kb("DirectMap4k:", (endPfn - largeMapped * large) * 4) + kb(label, largeMapped * large * 4);
}

/**
 * The LRU lists' active part of the user pages (anon LRU: anonymous and, on 6.1's initramfs, shmem pages; file LRU:
 * the old machines' file cache). 6.1 without reclaim: new anonymous and shmem pages go to the inactive list
 * (lru_cache_add_inactive_or_unevictable(), shmem_get_folio_gfp()), and a shmem page moves to the active list on its
 * second touch (folio_mark_accessed() of a referenced page): written twice by the initramfs unpack, read from its
 * first byte (shmem_file_read_iter()), or unmapped while young by an exiting process (zap_pte_range()). Which busybox
 * pages the boot's commands touched is the binary's and the script's, not the machine's: a fixed share, 0.76 of the
 * list's pages before insmod (the real boots: 451 of 591 on x86_64, 439 of 573 on i386, 291 of 388 on armhf), the
 * same at every RAM size. Then insmod's read of its .ko activates the file's pages (k.lruActivatedPages), which were
 * inactive until then. The old machines' desktops: a fixed share of each list.
 */
export function lruSplit(k: Kernel, onAnon: number, onFile: number): { activeAnon: number; activeFile: number } {
  const base = Math.round(onAnon * 0.76);
  return { activeAnon: Math.min(onAnon, base + Math.min(k.lruActivatedPages ?? 0, onAnon - base)), activeFile: Math.round(onFile * 0.6) };
}

export function renderMeminfo(k: Kernel): string {
  const pa = k.pages;
  const era = k.profile.era;
  const arch = k.profile.arch;
  const K = (pages: number) => pages * 4;
  const totalram = pa.totalramPages;
  const free = pa.nrFreePages();
  const slab = pa.ownerPages(PageOwner.Slab) + (era === "6.1" ? pa.ownerPages(PageOwner.KmallocLarge) : 0);
  // NR_SLAB_RECLAIMABLE_B: the slab pages of SLAB_RECLAIM_ACCOUNT caches (dentry, inodes, radix_tree_node, kmalloc-rcl-*).
  const sReclaimable = k.slab ? Math.min(slab, k.slab.pagesUsed().reclaimable) : 0;
  // NR_PAGETABLE: every page-table frame but the kernel's own that 6.1 does not account (mm/pgtable.ts).
  const pt = pa.ownerPages(PageOwner.PageTable) - (k.pgtable?.unaccountedPages ?? 0);
  const kernelStackKb = (k.nrTasks * threadSize(arch, k.profile.era, !!k.kasan)) / 1024;
  const highmem = arch === "i386" || arch === "arm";
  let highTotal = 0;
  let highFree = 0;
  for (const z of pa.zones) {
    if (z.highmem) {
      highTotal += z.managed;
      highFree += z.free;
    }
  }
  const L = k.layout;
  const vmTotalKb = Number((L.vmallocEnd - L.vmallocStart) >> 10n);
  const vi = vmallocInfo(k);
  let vmUsedKb: number;
  let vmChunkKb: number;
  if (era === "6.1") {
    vmUsedKb = vi ? Math.floor(vi.used / 1024) : K(pa.ownerPages(PageOwner.Vmalloc));
    vmChunkKb = 0;
  } else {
    vmUsedKb = vi ? Math.floor(vi.used / 1024) : K(pa.ownerPages(PageOwner.Vmalloc));
    vmChunkKb = vi ? Math.floor(vi.chunk / 1024) : vmTotalKb;
  }
  const percpuKb = percpuMeminfoKb(k);

  let s = kb("MemTotal:", K(totalram));
  s += kb("MemFree:", K(free));
  if (era === "6.1") {
    // si_mem_available(): free - totalreserve + the page cache part (0: the initramfs's pages are shmem) + the
    // reclaimable slab less what keeping the low watermarks needs (reclaimable - min(reclaimable / 2, sum of wmark_low)).
    let wmarkLow = 0;
    for (const z of pa.zones) wmarkLow += z.wmark[1] ?? 0;
    const avail = Math.max(0, free - pa.totalreservePages() + sReclaimable - Math.min(Math.floor(sReclaimable / 2), wmarkLow));
    s += kb("MemAvailable:", K(avail));
  }
  // User space before insmod (init/userspace.ts): the page cache and anonymous memory, split over the LRU lists
  // by a fixed model. 6.1's QEMU profiles run from an initramfs, so their page cache is shmem on the anon LRU
  // (the real transcripts: Cached = Shmem, Active(file) = Inactive(file) = 0); the old machines cache files.
  // The split is made in pages, as the kernel counts them (every kB figure is a multiple of the page size).
  const cachePages = pa.ownerPages(PageOwner.PageCache);
  const cacheKb = K(cachePages);
  const anonKb = K(pa.ownerPages(PageOwner.Anon));
  const shmemLru = era === "6.1";
  const onAnon = pa.ownerPages(PageOwner.Anon) + (shmemLru ? cachePages : 0);
  const onFile = shmemLru ? 0 : cachePages;
  const { activeAnon, activeFile } = lruSplit(k, onAnon, onFile);
  const lru: Record<string, number> = {
    "Active:": K(activeAnon + activeFile),
    "Inactive:": K(onAnon - activeAnon + (onFile - activeFile)),
    "Active(anon):": K(activeAnon),
    "Inactive(anon):": K(onAnon - activeAnon),
    "Active(file):": K(activeFile),
    "Inactive(file):": K(onFile - activeFile),
  };
  s += kb("Buffers:", 0);
  s += kb("Cached:", cacheKb);
  s += kb("SwapCached:", 0);
  for (const l of ["Active:", "Inactive:", "Active(anon):", "Inactive(anon):", "Active(file):", "Inactive(file):", "Unevictable:", "Mlocked:"])
    s += kb(l, lru[l] ?? 0);
  if (highmem) {
    s += kb("HighTotal:", K(highTotal));
    s += kb("HighFree:", K(highFree));
    s += kb("LowTotal:", K(totalram - highTotal));
    s += kb("LowFree:", K(free - highFree));
  }
  s += kb("SwapTotal:", 0);
  s += kb("SwapFree:", 0);
  if (era === "6.1") {
    s += kb("Zswap:", 0);
    s += kb("Zswapped:", 0);
  }
  s += kb("Dirty:", 0);
  s += kb("Writeback:", 0);
  s += kb("AnonPages:", anonKb);
  // 6.1: the busybox pages the live shell and reader map (init/userspace.ts mappedKb), never more than is cached; the
  // old machines' desktops: a fixed share of their file cache.
  const mappedKb = shmemLru ? userspaceModel(k.profile.name).mappedKb : undefined;
  const mappedPages =
    mappedKb !== undefined ? Math.min(cachePages, Math.floor(mappedKb / (k.layout.pageSize >> 10))) : Math.round(cachePages * (shmemLru ? 0.75 : 0.3));
  s += kb("Mapped:", K(mappedPages));
  s += kb("Shmem:", shmemLru ? cacheKb : 0);
  if (era === "6.1") s += kb("KReclaimable:", K(sReclaimable));
  s += kb("Slab:", K(slab));
  s += kb("SReclaimable:", K(sReclaimable));
  s += kb("SUnreclaim:", K(slab - sReclaimable));
  s += kb("KernelStack:", kernelStackKb);
  s += kb("PageTables:", K(pt));
  if (era === "6.1") s += kb("SecPageTables:", 0);
  s += kb("NFS_Unstable:", 0);
  s += kb("Bounce:", 0);
  s += kb("WritebackTmp:", 0);
  s += kb("CommitLimit:", K(Math.floor(totalram / 2)));
  // vm_committed_as: the accountable mappings of the processes a run starts (mm/mmap.ts); the boot-time user
  // space model charges none.
  s += kb("Committed_AS:", K(k.vmCommittedPages ?? 0));
  s += "VmallocTotal:   " + String(vmTotalKb).padStart(8) + " kB\n";
  s += kb("VmallocUsed:", vmUsedKb);
  s += kb("VmallocChunk:", vmChunkKb);
  if (era === "6.1") s += kb("Percpu:", percpuKb);
  if (arch !== "arm") s += "HardwareCorrupted: " + String(0).padStart(5) + " kB\n";
  if (era === "6.1" && arch !== "arm") {
    for (const l of ["AnonHugePages:", "ShmemHugePages:", "ShmemPmdMapped:", "FileHugePages:", "FilePmdMapped:"]) s += kb(l, 0);
  } else if (era === "3.4" && arch !== "arm") {
    s += kb("AnonHugePages:", 0);
  }
  if (pa.hasCma) {
    // CONFIG_CMA: totalcma_pages and NR_FREE_CMA_PAGES (the MIGRATE_CMA free lists)
    s += kb("CmaTotal:", K(pa.totalcmaPages));
    s += kb("CmaFree:", K(pa.zones.reduce((a, z) => a + pa.zoneFreeCma(z.idx), 0)));
  }
  if (arch !== "arm") {
    s += "HugePages_Total:   " + String(0).padStart(5) + "\n";
    s += "HugePages_Free:    " + String(0).padStart(5) + "\n";
    s += "HugePages_Rsvd:    " + String(0).padStart(5) + "\n";
    s += "HugePages_Surp:    " + String(0).padStart(5) + "\n";
    s += kb("Hugepagesize:", hugepageKb(k.profile));
    if (era === "6.1") s += kb("Hugetlb:", 0);
  }
  s += directMap(k);
  return s;
}

registerProc("meminfo", renderMeminfo);
