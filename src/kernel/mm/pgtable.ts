// Models the kernel page tables of Linux 6.1 / 3.4 / 2.6 (arch/x86/mm/init_{32,64}.c, arch/arm/mm/mmu.c,
// arch/arm64/mm/mmu.c, mm/vmalloc.c vmap_range_noflush / vunmap_range_noflush, mm/memory.c p?d_alloc_track).
//
// The tables live in simulated page frames: every entry is real little-endian bytes in k.physmem, so a view or a
// debugger can read them, and walk() reads them back exactly as the MMU would.
//
// Geometry per architecture:
// - x86_64: four levels (PGD 512 x 8 bytes, P4D folded into the PGD as in 4-level paging, PUD, PMD, PTE); entries
//   carry present/RW/USER/PCD/A/D/PSE/G/NX bits. Tables point down with _PAGE_TABLE (0x067); vmalloc PTEs are
//   PAGE_KERNEL (0x8000000000000163), ioremap PTEs PAGE_KERNEL_IO_NOCACHE (...173), the direct map uses 2 MiB
//   pages (PAGE_KERNEL_LARGE, ...1e3) and the kernel text mapping 2 MiB pages without NX.
//   With LA57 (layout.pgtableLevels 5: x86_64 6.1 on a CPU with la57 and no `no5lvl`) five levels: the PGD
//   (shift 48) over a real P4D (shift 39); ARCH_PAGE_TABLE_SYNC_MASK is then PGTBL_PGD_MODIFIED and
//   preallocate_vmalloc_pages() stops at P4D pages.
// - i386 (non-PAE, as the Debian 686 kernel and the 2.6 textbook PC): two levels, PGD 1024 x 4 bytes and PTE
//   1024 x 4 bytes; lowmem with 4 MiB PSE pages (0x1e3).
// - i386 PAE (Debian 686-pae, layout.pgtableLevels 3): the PGD is the 4-entry PDPT (entries are the PMD page's
//   address | _PAGE_PRESENT, as pud_populate writes them), P4D and PUD folded, PMD 512 x 8 bytes, PTE 512 x 8 bytes;
//   lowmem with 2 MiB PSE pages. No NX bit: QEMU's default 32-bit CPU has no NX (the boot says so).
// - 32-bit ARM (short descriptors): a 16 KiB first-level table of 4096 words, each a 1 MiB section or a pointer
//   to a 256-entry hardware table. As Linux does, one 4 KiB page holds two Linux "shadow" PTE tables (+0, +1024)
//   and the two hardware tables (+2048, +3072) for a 2 MiB pair of first-level entries; walk() reports the
//   hardware descriptors (what the MMU uses) and the Linux shadow PTE alongside. swapper_pg_dir sits at
//   PHYS_OFFSET + 0x4000 (virtual 0xc0004000, the "pgd = c0004000" of every ARM Oops). Lowmem uses sections.
// - arm64 (48-bit VA, 4 KiB pages): four levels (PGD, P4D folded, PUD, PMD, PTE), table 0b11, block 0b01,
//   page 0b11 with AF/SH/PXN/UXN; the linear map uses 2 MiB blocks.
// - x86_64 6.1 pre-allocates a PUD page under every vmalloc PGD entry at boot (preallocate_vmalloc_pages, 5.8+), so
//   vmalloc never modifies the top level afterwards and arch_sync_kernel_mappings() never runs for it: syncEvents
//   stays 0 there. On 32-bit 6.1 kernels ARCH_PAGE_TABLE_SYNC_MASK is PGTBL_PMD_MODIFIED: each new PTE page under
//   the vmalloc area is synchronised into every process page table, and syncEvents counts it. The 2.6 and 3.4 eras
//   had no such call (a vmalloc fault copied the entry lazily), so they count none.
//
// Simplifications (stated):
// - The linear map (and x86_64's kernel text map) is built eagerly at boot with the architecture's large mappings
//   (x86_64 and arm64 2 MiB, i386 4 MiB, ARM 1 MiB sections) and 4 KiB PTEs where a memory range is not aligned.
//   No 1 GiB pages (QEMU's default CPU has no pdpe1gb). On x86 the ISA range [0, 1 MiB) is always mapped, holes
//   included, and nothing else outside RAM (no PCI hole above 4 GiB's RAM), as init_mem_mapping() does.
// - x86 set_memory_*() (changeAttr(), arch/x86/mm/pat/set_memory.c): a change covering a whole large page keeps it
//   large (try_preserve_large_page), a partial one splits it into a PTE table first (split_large_page), and the
//   direct-map alias of a kernel-image or vmalloc page changes with it (cpa_process_alias: RW only, the direct map
//   stays NX). directPages is direct_pages_count[], what /proc/meminfo's DirectMap lines print; a split of the
//   kernel's high mapping counts there too (split_large_page counts any virt_addr_valid() address). Splits are
//   never merged back (6.1 has no collapse).
// - The top-level table comes from the buddy allocator (owner PageTable) except on ARM; the boot-time linear-map
//   tables also come from the buddy allocator (the real kernel takes them from memblock): all are counted in
//   pageTablePagesAllocated. meminfo's PageTables counts only what 6.1's NR_PAGETABLE counts (accountedKernelTable():
//   kernel PMD pages allocated after boot, but for x86_64's two in the image, and a process's tables);
//   unaccountedPages holds the rest.
// - Kernel page-table pages are never freed (like the kernel's vunmap, which leaves empty tables in place).
// - Protection bits are those of kernel mappings, plus a process's user PTEs (prot "user_rw"/"user_ro": x86
//   P|RW|US|A|D with NX, arm64 AP[1]|AF|SH|nG with PXN/UXN, ARM AP=11/10 with nG and XN) in a process's own table
//   (PageTables with { user: true }: mm/mmap.ts). A process table holds the user half only: the kernel half is
//   k.pgtable (what pgd_alloc's copy of the kernel entries gives on x86 and 32-bit ARM, and TTBR1 on arm64).
// - No TLB here (mm/memory.ts models it).

import type { Arch, Era, Layout } from "../types.ts";
import { PageOwner } from "./page_flags.ts";

/** __START_KERNEL_map (x86_64) as a page number: level3_kernel_pgt's two static PMD tables map from here up. */
const START_KERNEL_MAP_VPN = Number(0xffffffff80000000n >> 12n);

/** A frozen frame's decoded nonzero entries (PageTables.nonzeroEntries), per table slice of it: a cache only, shared by
 *  every machine that shares the frame (its bytes never change), dropped with the frame. */
const frozenEntries = new WeakMap<Uint8Array, Map<number, number[]>>(); // snapshot: cache (what the frozen bytes decode to)
const NO_ENTRIES: readonly number[] = [];

/** The error a page-table page the allocator cannot give raises (callers that can fail cleanly catch it). */
export const PGTABLE_OOM = "page tables: out of memory for a page-table page";

/** Whether e is that error: a table page could not be had, which the caller turns into its own -ENOMEM. */
export function isPgtableOom(e: unknown): boolean {
  return e instanceof Error && e.message === PGTABLE_OOM;
}

export type LevelName = "PGD" | "P4D" | "PUD" | "PMD" | "PTE";

/** PGTBL_*_MODIFIED (include/linux/pgtable.h). */
export const PGTBL_PGD_MODIFIED = 1 << 0;
export const PGTBL_P4D_MODIFIED = 1 << 1;
export const PGTBL_PUD_MODIFIED = 1 << 2;
export const PGTBL_PMD_MODIFIED = 1 << 3;
export const PGTBL_PTE_MODIFIED = 1 << 4;

/** One level of a walk, top first. */
export interface WalkStep {
  level: LevelName;
  /** Index of the entry in its table (ARM first level: the hardware index addr >> 20). */
  index: number;
  /** The entry's raw value (for a folded level, the value of the level above, as the kernel prints it). */
  entry: bigint;
  /** Physical address of the table holding the entry, and of the entry itself. */
  tablePhys: number;
  entryPhys: number;
  folded: boolean;
  present: boolean;
  /** The entry maps memory directly (PSE page, ARM section, arm64 block, or any PTE). */
  leaf: boolean;
  /** Next table's physical address (when the entry points to a table). */
  nextTablePhys?: number;
  /** ARM only: the Linux view (pgd_val = first word of the pair at the PGD; the shadow PTE at the PTE). */
  linuxEntry?: bigint;
}

export interface Walk {
  addr: bigint;
  steps: WalkStep[];
  /** Physical address the address translates to, or -1. */
  pa: number;
  /** Size of the mapping that translated it (4096, 2 MiB, 4 MiB, 1 MiB...), 0 when not mapped. */
  pageSize: number;
  /** The level where the walk stopped on a non-present entry (undefined when it translated). */
  stoppedAt?: LevelName;
  writable: boolean;
  executable: boolean;
}

export type Prot = "kernel" | "io" | "kernel_exec" | "user_rw" | "user_ro";

interface Level {
  name: LevelName;
  shift: number; // log2 of the span one entry covers
  ptrs: number; // entries per table
  folded: boolean;
}

export interface PgtableCounters {
  /** PTE (4 KiB leaf) entries written by vmap/ioremap/kmap users since boot finished. */
  ptesWritten: number;
  ptesCleared: number;
  /** Page-table pages taken from the buddy allocator (boot included). */
  pageTablePagesAllocated: number;
  /** arch_sync_kernel_mappings() calls (ARCH_PAGE_TABLE_SYNC_MASK hit). */
  syncEvents: number;
  /** New entries populated per level (PGTBL_*_MODIFIED events), since boot finished. */
  populated: Record<LevelName, number>;
}

/** What the page tables need of the kernel: kept structural so tests can use small fakes. */
export interface PgtableHost {
  profile: { arch: Arch; era: Era };
  layout: Layout;
  physmem: {
    read32(pa: number): number;
    write32(pa: number, v: number): void;
    zeroPage(pfn: number): void;
    /** A frame's bytes as one DataView (PhysMem.pageView): the loops over one table's entries. */
    pageView(pfn: number, write: boolean): DataView | undefined;
    /** The frame's bytes when they never change again (PhysMem.frozenBytes); absent: nothing is cached. */
    frozenBytes?(pfn: number): Uint8Array | undefined;
  };
  pages: {
    alloc_pages(gfp: number, order: number, owner?: number): number;
    __free_pages?(pfn: number, order: number): void;
    /** x86_64 6.1: the PUD (LA57: P4D) pages mem_init()'s preallocate_vmalloc_pages() took, in order (mm/page_alloc.ts). */
    preallocatedPgtables?: number[];
  };
}

const TWO32 = 4294967296;
const PAGE = 4096;

function levelsFor(arch: Arch, levels?: number): Level[] {
  if (arch === "x86_64" && levels === 5) {
    return [
      { name: "PGD", shift: 48, ptrs: 512, folded: false },
      { name: "P4D", shift: 39, ptrs: 512, folded: false },
      { name: "PUD", shift: 30, ptrs: 512, folded: false },
      { name: "PMD", shift: 21, ptrs: 512, folded: false },
      { name: "PTE", shift: 12, ptrs: 512, folded: false },
    ];
  }
  if (arch === "i386" && levels === 3) {
    return [
      { name: "PGD", shift: 30, ptrs: 4, folded: false },
      { name: "P4D", shift: 30, ptrs: 1, folded: true },
      { name: "PUD", shift: 30, ptrs: 1, folded: true },
      { name: "PMD", shift: 21, ptrs: 512, folded: false },
      { name: "PTE", shift: 12, ptrs: 512, folded: false },
    ];
  }
  switch (arch) {
    case "x86_64":
    case "arm64":
      return [
        { name: "PGD", shift: 39, ptrs: 512, folded: false },
        { name: "P4D", shift: 39, ptrs: 1, folded: true },
        { name: "PUD", shift: 30, ptrs: 512, folded: false },
        { name: "PMD", shift: 21, ptrs: 512, folded: false },
        { name: "PTE", shift: 12, ptrs: 512, folded: false },
      ];
    case "i386":
      return [
        { name: "PGD", shift: 22, ptrs: 1024, folded: false },
        { name: "PTE", shift: 12, ptrs: 1024, folded: false },
      ];
    case "arm":
      // Hardware view: 4096 first-level words, 256-entry second-level tables.
      return [
        { name: "PGD", shift: 20, ptrs: 4096, folded: false },
        { name: "PTE", shift: 12, ptrs: 256, folded: false },
      ];
  }
}

// Entry bits.
const X86_TABLE = 0x067;
const X86_PTE_KERNEL = 0x163;
const X86_PTE_IO = 0x173;
const X86_LARGE = 0x1e3;
const X86_NX_HI = 0x80000000;
const A64_TABLE = 0x3;
const A64_PAGE = 0x703;
const A64_PAGE_IO = 0x713;
const A64_BLOCK = 0x701;
const A64_HI_XN = 0x00680000; // UXN | PXN | DBM (PTE_WRITE)
const A64_HI_RO_X = 0x00400000; // UXN only (kernel text)
const ARM_L1_TABLE = 0x11;
const ARM_HW_KERNEL = 0x45f;
const ARM_HW_IO = 0x53;
const ARM_LINUX_KERNEL = 0x65f;
const ARM_LINUX_IO = 0x253;
// User PTEs: x86 P|RW|US|A|D (0x67) or P|US|A (0x25), NX in the high word except on non-PAE i386; arm64 page with
// AP[1] (EL0), AP[2] (read-only), SH, AF, nG (0xf43 / 0xfc3) and PXN|UXN (+DBM when writable); ARM small page
// with XN, C, B, TEX=1, S, nG and AP=11 (user rw) / AP=10 (user ro), Linux shadow PTE L_PTE_VALID|YOUNG|MT|DIRTY|
// USER|XN|SHARED (|RDONLY).
const X86_PTE_USER_RW = 0x067;
const X86_PTE_USER_RO = 0x025;
const A64_PAGE_USER_RW = 0xf43;
const A64_PAGE_USER_RO = 0xfc3;
const A64_HI_USER_RW = 0x00680000;
const A64_HI_USER_RO = 0x00600000;
const ARM_HW_USER_RW = 0xc7f;
const ARM_HW_USER_RO = 0xc6f;
const ARM_LINUX_USER_RW = 0x75f;
const ARM_LINUX_USER_RO = 0x7df;

/** Pages (4 KiB units) per entry at a shift: 2^(shift-12). */
const pagesAt = (shift: number) => 2 ** (shift - 12);

export class PageTables {
  readonly arch: Arch;
  readonly era: Era;
  readonly levels: Level[];
  /** The non-folded levels, top to bottom. */
  private readonly real: Level[];
  readonly entrySize: 4 | 8;
  /** i386 with PAE (3 levels, 8-byte entries). */
  readonly pae: boolean;
  /** x86_64 with LA57 (5 levels). */
  readonly la57: boolean;
  /** Physical address of the kernel's top-level table (swapper_pg_dir / init_top_pgt). */
  readonly pgdPhys: number;
  /** ARCH_PAGE_TABLE_SYNC_MASK of this arch and era. */
  readonly syncMask: number;
  readonly counters: PgtableCounters = {
    ptesWritten: 0,
    ptesCleared: 0,
    pageTablePagesAllocated: 0,
    syncEvents: 0,
    populated: { PGD: 0, P4D: 0, PUD: 0, PMD: 0, PTE: 0 },
  };
  private readonly host: PgtableHost;
  private readonly gfpPgtable: number;
  /** Counting starts when boot is done, so a lesson sees its own updates only. */
  private booting = true;
  /** Kernel table pages held in PageOwner.PageTable frames that NR_PAGETABLE does not count (accountedKernelTable()). */
  unaccountedPages = 0;
  /** direct_pages_count[]: pages the direct map maps with 4 KiB PTEs and with large pages (x86's DirectMap lines). */
  readonly directPages = { small: 0, large: 0 };
  /** Counting direct-map pages (the boot's linear map). */
  private countingDirect = false;
  /** Every frame holding a table (the top level's frames included), for frozen(). */
  private readonly tableFrames: number[] = [];

  /** A process's table (user half only): no linear map; its frames go back to the buddy allocator at exit. */
  readonly user: boolean;

  constructor(host: PgtableHost, opts: { user?: boolean } = {}) {
    this.host = host;
    this.user = opts.user === true;
    this.arch = host.profile.arch;
    this.era = host.profile.era;
    const n = host.layout.pgtableLevels;
    this.levels = levelsFor(this.arch, n);
    this.real = this.levels.filter((l) => !l.folded);
    this.pae = this.arch === "i386" && n === 3;
    this.la57 = this.arch === "x86_64" && n === 5;
    this.entrySize = this.arch === "x86_64" || this.arch === "arm64" || this.pae ? 8 : 4;
    // GFP_KERNEL | __GFP_ZERO (GFP_PGTABLE_KERNEL) in the era's bits; the frame is zeroed here in any case.
    this.gfpPgtable = this.era === "6.1" ? 0xcc0 | 0x100 : 0xd0 | 0x8000;
    this.syncMask =
      this.era !== "6.1" ? 0 : this.arch === "x86_64" ? (this.la57 ? PGTBL_PGD_MODIFIED : PGTBL_P4D_MODIFIED) : this.arch === "arm64" ? 0 : PGTBL_PMD_MODIFIED;
    if (this.user) {
      // pgd_alloc(): one page (x86, arm64), 16 KiB on 32-bit ARM (PGD_ORDER 2). Counted like any table page.
      this.booting = false;
      this.pgdPhys = this.allocTablePage(this.arch === "arm" ? 2 : 0);
      try {
        this.preallocatePaePmds();
      } catch (e) {
        this.freeUserTables(); // pgd_alloc() failed part way: what it took goes back (mm_alloc() returns NULL)
        throw e;
      }
      return;
    }
    this.pgdPhys = this.allocTopLevel();
    this.preallocatePaePmds();
    this.buildLinearMap();
    if (this.arch === "x86_64" && this.era === "6.1") this.preallocateVmalloc();
    this.booting = false;
  }

  /**
   * PAE: all four PDPT entries are present from the start (PREALLOCATED_PMDS = PTRS_PER_PGD in pgd_alloc(), and the
   * boot's swapper_pg_dir), so a fault's dump always shows a present *pdpt.
   */
  private preallocatePaePmds(): void {
    if (!this.pae) return;
    const pmd = this.levels.find((l) => l.name === "PMD")!;
    for (let i = 0; i < 4; i++) this.tableAbove(i * pagesAt(30), pmd);
  }

  // ---------------------------------------------------------------- table pages

  /** Pages already taken for this table (preallocate_vmalloc_pages() ran in mem_init()), used before the allocator. */
  private pool: number[] = [];

  private allocTablePage(order = 0, accounted = false): number {
    const pfn = order === 0 && this.pool.length ? this.pool.shift()! : this.host.pages.alloc_pages(this.gfpPgtable, order, PageOwner.PageTable);
    if (pfn < 0) throw new Error(PGTABLE_OOM);
    for (let i = 0; i < 1 << order; i++) {
      this.host.physmem.zeroPage(pfn + i);
      this.tableFrames.push(pfn + i);
    }
    this.counters.pageTablePagesAllocated += 1 << order;
    if (!accounted && !this.user) this.unaccountedPages += 1 << order;
    return pfn * PAGE;
  }

  /**
   * Whether a new kernel table page for `level` counts in NR_PAGETABLE (meminfo's PageTables), as 6.1 does it: only
   * pmd_alloc_one() runs pgtable_pmd_page_ctor(), so a PMD page allocated after boot counts (x86_64, arm64); the
   * kernel's PTE pages (pte_alloc_one_kernel, no ctor), PUD pages (pud_alloc_one) and the top level do not, nor do
   * the boot's linear-map tables (memblock in the real kernel) and the preallocated vmalloc PUDs. A process's
   * tables all count (simplification: the real pgd_alloc() does not account the top level).
   * x86_64's two PMD tables under level3_kernel_pgt, level2_kernel_pgt (the kernel text, PUD entry 510) and
   * level2_fixmap_pgt (PUD entry 511: the modules area from MODULES_VADDR 0xffffffffc0000000, bpf_prog_pack's and
   * the fixmap), are in the image (arch/x86/kernel/head_64.S), never pmd_alloc_one()'s: they do not count.
   */
  private accountedKernelTable(level: Level, vpn: number): boolean {
    if (this.booting || level.name !== "PMD") return false;
    return !(this.arch === "x86_64" && vpn >= START_KERNEL_MAP_VPN);
  }

  private allocTopLevel(): number {
    const L = this.host.layout;
    if (this.arch === "arm") {
      // swapper_pg_dir = PAGE_OFFSET + TEXT_OFFSET - 0x4000: reserved with the kernel in arm_mm_memblock_reserve().
      // The arch's memblock reservation says where (6.1 virt: 0x40204000, below the kernel at 0x40208000; 3.4 msm:
      // PHYS_OFFSET + 0x4000); PHYS_OFFSET + 0x4000 is the classic place when the layout names none.
      const pa = L.reservations?.find((r) => r.what === "swapper_pg_dir")?.start ?? L.physOffset + 0x4000;
      for (let i = 0; i < 4; i++) {
        this.host.physmem.zeroPage(pa / PAGE + i);
        this.tableFrames.push(pa / PAGE + i);
      }
      return pa;
    }
    return this.allocTablePage(0);
  }

  // ---------------------------------------------------------------- raw entries

  private readLo(pa: number): number {
    return this.host.physmem.read32(pa);
  }
  private readHi(pa: number): number {
    return this.entrySize === 8 ? this.host.physmem.read32(pa + 4) : 0;
  }
  /**
   * The entries of the table at physical address `table` (`ptrs` entries) that are not zero, in index order, as flat
   * [index, lo, hi] triples: what reading every entry with readLo/readHi and skipping the zeros gives. A frame that
   * can never change again (shared with a snapshot: PhysMem.frozenBytes) is decoded once for every machine that
   * shares it, so the walks of a restored copy read only the tables its run wrote.
   */
  private nonzeroEntries(table: number, ptrs: number): readonly number[] {
    const es = this.entrySize;
    let out: number[] | undefined;
    for (let i = 0; i < ptrs;) {
      const pa = table + i * es;
      const pfn = Math.floor(pa / PAGE);
      const off = pa - pfn * PAGE;
      const n = Math.min(ptrs - i, Math.floor((PAGE - off) / es)); // the entries of this frame (a table may span frames)
      const seg = this.frameEntries(pfn, off, n);
      if (n === ptrs) return seg;
      out ??= [];
      for (let k = 0; k < seg.length; k += 3) out.push(i + seg[k]!, seg[k + 1]!, seg[k + 2]!);
      i += n;
    }
    return out ?? NO_ENTRIES;
  }

  /** nonzeroEntries() of n entries at byte `off` of frame pfn (indexes from 0). */
  private frameEntries(pfn: number, off: number, n: number): readonly number[] {
    const es = this.entrySize;
    const pm = this.host.physmem;
    const frozen = pm.frozenBytes?.(pfn);
    const key = (off * 4096 + n) * 2 + (es === 8 ? 1 : 0);
    let memo: Map<number, number[]> | undefined;
    if (frozen) {
      memo = frozenEntries.get(frozen);
      const hit = memo?.get(key);
      if (hit) return hit;
    }
    const out: number[] = [];
    const dv = pm.pageView(pfn, false);
    if (dv) {
      for (let j = 0, o = off; j < n; j++, o += es) {
        const lo = dv.getUint32(o, true);
        const hi = es === 8 ? dv.getUint32(o + 4, true) : 0;
        if (lo !== 0 || hi !== 0) out.push(j, lo, hi);
      }
    }
    if (frozen) {
      if (!memo) frozenEntries.set(frozen, (memo = new Map()));
      memo.set(key, out);
    }
    return out;
  }

  private write(pa: number, lo: number, hi: number): void {
    this.host.physmem.write32(pa, lo >>> 0);
    if (this.entrySize === 8) this.host.physmem.write32(pa + 4, hi >>> 0);
  }

  /** Physical address an entry points to (table or leaf frame), for a present entry. */
  private entryAddr(lo: number, hi: number, level: Level, leaf: boolean): number {
    switch (this.arch) {
      case "x86_64": {
        const loMask = leaf && level.shift > 12 ? (level.shift === 21 ? 0xffe00000 : 0xc0000000) : 0xfffff000;
        return ((lo & loMask) >>> 0) + (hi & 0xfffff) * TWO32;
      }
      case "i386":
        if (this.pae) return ((lo & (leaf && level.shift === 21 ? 0xffe00000 : 0xfffff000)) >>> 0) + (hi & 0xfffff) * TWO32;
        return (lo & (leaf && level.shift === 22 ? 0xffc00000 : 0xfffff000)) >>> 0;
      case "arm64": {
        const loMask = leaf && level.shift > 12 ? (level.shift === 21 ? 0xffe00000 : 0xc0000000) : 0xfffff000;
        return ((lo & loMask) >>> 0) + (hi & 0xffff) * TWO32;
      }
      case "arm":
        if (level.name === "PGD") return (lo & (leaf ? 0xfff00000 : 0xfffffc00)) >>> 0;
        return (lo & 0xfffff000) >>> 0;
    }
  }

  private isPresent(lo: number, level: Level): boolean {
    if (this.arch === "arm") return level.name === "PGD" ? (lo & 3) !== 0 : (lo & 2) !== 0;
    return (lo & 1) !== 0;
  }

  /** Whether isLeaf() says yes for every entry of a table of this level (a walk looking for tables below need not
   *  read it): the PTE level, where every present entry maps a page. */
  private allLeaves(level: Level): boolean {
    return level.name === "PTE";
  }

  private isLeaf(lo: number, level: Level): boolean {
    if (this.allLeaves(level)) return true;
    switch (this.arch) {
      case "x86_64":
      case "i386":
        return (lo & 0x80) !== 0 && level.name !== "PGD" ? true : this.arch === "i386" && (lo & 0x80) !== 0;
      case "arm64":
        return (lo & 3) === 1;
      case "arm":
        return (lo & 3) === 2;
    }
  }

  private tableEntry(tablePa: number, level?: Level): [number, number] {
    switch (this.arch) {
      case "x86_64":
        return [((tablePa % TWO32) | X86_TABLE) >>> 0, Math.floor(tablePa / TWO32)];
      case "i386":
        // PAE's PDPT entries take only _PAGE_PRESENT (the other low bits are reserved there).
        if (this.pae) return [((tablePa % TWO32) | (level?.name === "PGD" ? 1 : X86_TABLE)) >>> 0, Math.floor(tablePa / TWO32)];
        return [(tablePa | X86_TABLE) >>> 0, 0];
      case "arm64":
        return [((tablePa % TWO32) | A64_TABLE) >>> 0, Math.floor(tablePa / TWO32)];
      case "arm":
        return [(tablePa | ARM_L1_TABLE) >>> 0, 0];
    }
  }

  private leafEntry(pa: number, level: Level, prot: Prot): [number, number] {
    const lo = pa % TWO32;
    const hi = Math.floor(pa / TWO32);
    const large = level.name !== "PTE";
    if (prot === "user_rw" || prot === "user_ro") {
      const rw = prot === "user_rw";
      switch (this.arch) {
        case "x86_64":
          return [(lo | (rw ? X86_PTE_USER_RW : X86_PTE_USER_RO)) >>> 0, (hi | X86_NX_HI) >>> 0];
        case "i386":
          return [(lo | (rw ? X86_PTE_USER_RW : X86_PTE_USER_RO)) >>> 0, this.pae ? hi : 0];
        case "arm64":
          return [(lo | (rw ? A64_PAGE_USER_RW : A64_PAGE_USER_RO)) >>> 0, (hi | (rw ? A64_HI_USER_RW : A64_HI_USER_RO)) >>> 0];
        case "arm":
          return [(lo | (rw ? ARM_HW_USER_RW : ARM_HW_USER_RO)) >>> 0, 0];
      }
    }
    switch (this.arch) {
      case "x86_64": {
        const bits = large ? X86_LARGE : prot === "io" ? X86_PTE_IO : X86_PTE_KERNEL;
        return [(lo | bits) >>> 0, (hi | (prot === "kernel_exec" ? 0 : X86_NX_HI)) >>> 0];
      }
      case "i386":
        return [(lo | (large ? X86_LARGE : prot === "io" ? X86_PTE_IO : X86_PTE_KERNEL)) >>> 0, this.pae ? hi : 0];
      case "arm64":
        return [(lo | (large ? A64_BLOCK : prot === "io" ? A64_PAGE_IO : A64_PAGE)) >>> 0, (hi | (prot === "kernel_exec" ? A64_HI_RO_X : A64_HI_XN)) >>> 0];
      case "arm":
        // Section: SECT | B | C | AP_WRITE | TEX(1) | S, plus XN (bit 4) for 6.1's MT_MEMORY_RW.
        if (large) return [(lo | 0x1140e | (this.era === "6.1" ? 0x10 : 0)) >>> 0, 0];
        return [(lo | (prot === "io" ? ARM_HW_IO : ARM_HW_KERNEL)) >>> 0, 0];
    }
  }

  // ---------------------------------------------------------------- index helpers (vpn = addr >> 12, a number)

  private indexOf(vpn: number, level: Level): number {
    if (level.folded) return 0;
    return Math.floor(vpn / pagesAt(level.shift)) % level.ptrs;
  }

  private modifiedBit(level: Level): number {
    // Populating an entry at level L with a new lower table marks L as modified (pud_alloc_track marks P4D when
    // the P4D entry was none; with a folded P4D that is the PGD entry).
    switch (level.name) {
      case "PGD":
        // The top level's own bit with a real P4D below (LA57); with folded levels, the first real level below's.
        if (this.la57) return PGTBL_PGD_MODIFIED;
        if (this.pae) return PGTBL_PUD_MODIFIED;
        return this.arch === "x86_64" || this.arch === "arm64" ? PGTBL_P4D_MODIFIED : PGTBL_PMD_MODIFIED;
      case "P4D":
        return PGTBL_P4D_MODIFIED;
      case "PUD":
        return PGTBL_PUD_MODIFIED;
      case "PMD":
        return PGTBL_PMD_MODIFIED;
      default:
        return PGTBL_PTE_MODIFIED;
    }
  }

  /**
   * The PTE table's physical address for page `vpn`, allocating tables on the way when `alloc` (pte_alloc_kernel_track).
   * Returns -1 when a level is missing (and !alloc) or is a large leaf.
   */
  private pteTable(vpn: number, alloc: boolean, mask: { m: number }): number {
    const lv = this.real;
    let table = this.pgdPhys;
    for (let i = 0; i < lv.length - 1; i++) {
      const level = lv[i]!;
      const idx = this.indexOf(vpn, level);
      const epa = table + idx * this.entrySize;
      const lo = this.readLo(epa);
      if (this.isPresent(lo, level)) {
        if (this.isLeaf(lo, level)) return -1;
        table = this.arm() ? (lo & 0xfffffc00) >>> 0 : this.entryAddr(lo, this.readHi(epa), level, false);
        continue;
      }
      if (!alloc) return -1;
      const accounted = this.user || this.accountedKernelTable(lv[i + 1]!, vpn);
      if (this.arm()) {
        // One page: Linux shadow tables at +0/+1024, hardware tables at +2048/+3072, for the 2 MiB pair.
        const page = this.allocTablePage(0, accounted);
        const even = idx & ~1;
        this.write(table + even * 4, page + 2048 + ARM_L1_TABLE, 0);
        this.write(table + (even + 1) * 4, page + 3072 + ARM_L1_TABLE, 0);
        table = page + 2048 + (idx & 1) * 1024;
      } else {
        const page = this.allocTablePage(0, accounted);
        const [elo, ehi] = this.tableEntry(page, level);
        this.write(epa, elo, ehi);
        table = page;
      }
      mask.m |= this.modifiedBit(level);
      if (!this.booting) this.counters.populated[level.name]++;
    }
    return table;
  }

  private arm(): boolean {
    return this.arch === "arm";
  }

  // ---------------------------------------------------------------- mapping (vmap_range_noflush and friends)

  /**
   * Map `n` pages at `vpn`: page i to pfns[i] (vmap_pages_range), or, with a number, to consecutive frames from it
   * (ioremap_page_range). Returns the PGTBL_*_MODIFIED mask; calls arch_sync_kernel_mappings() (counted) when the
   * mask hits ARCH_PAGE_TABLE_SYNC_MASK.
   */
  mapPages(vpn: number, n: number, pfns: ArrayLike<number> | number, prot: Prot = "kernel", tick?: () => void): number {
    const mask = { m: 0 };
    const pteLevel = this.real[this.real.length - 1]!;
    const span = pteLevel.ptrs;
    let table = -1;
    // A PTE is the frame's address with the same bits for every page of one call: leafEntry() of address 0.
    const [bitsLo, bitsHi] = this.leafEntry(0, pteLevel, prot);
    const arm = this.arm();
    const linuxBits = prot === "io" ? ARM_LINUX_IO : prot === "user_rw" ? ARM_LINUX_USER_RW : prot === "user_ro" ? ARM_LINUX_USER_RO : ARM_LINUX_KERNEL;
    const consecutive = typeof pfns === "number";
    // the current PTE table's page, written through one DataView (the ARM Linux shadow entry is on the same page)
    let dv: DataView | undefined;
    const wide = this.entrySize === 8;
    for (let i = 0; i < n; i++) {
      const v = vpn + i;
      const idx = v % span;
      if (table < 0 || idx === 0) {
        // `tick` (the watchdog, for an ioremap of gigabytes) may stop the run: the PTEs written so far go first.
        if (tick && i > 0) {
          try {
            tick();
          } catch (e) {
            this.unmapPages(vpn, i);
            throw e;
          }
        }
        table = this.pteTable(v, true, mask);
        if (table < 0) throw new Error(`page tables: 0x${(v * PAGE).toString(16)} is inside a large mapping`);
        dv = this.host.physmem.pageView(Math.floor(table / PAGE), true);
      }
      const pa = (consecutive ? (pfns as number) + i : (pfns as ArrayLike<number>)[i]!) * PAGE;
      const off = (table % PAGE) + idx * this.entrySize;
      dv!.setUint32(off, ((pa % TWO32) | bitsLo) >>> 0, true);
      if (wide) dv!.setUint32(off + 4, (Math.floor(pa / TWO32) | bitsHi) >>> 0, true);
      if (arm) dv!.setUint32(off - 2048, (pa + linuxBits) >>> 0, true);
      if (!this.booting) this.counters.ptesWritten++;
    }
    mask.m |= n > 0 ? PGTBL_PTE_MODIFIED : 0;
    if (mask.m & this.syncMask && !this.booting) this.counters.syncEvents++;
    return mask.m;
  }

  /** Clear `n` PTEs from `vpn` (vunmap_range_noflush). Empty tables stay allocated, as in the kernel. */
  unmapPages(vpn: number, n: number): void {
    const mask = { m: 0 };
    const pteLevel = this.real[this.real.length - 1]!;
    const span = pteLevel.ptrs;
    let table = -1;
    for (let i = 0; i < n; i++) {
      const v = vpn + i;
      const idx = v % span;
      if (table < 0 || idx === 0) table = this.pteTable(v, false, mask);
      if (table < 0) {
        // No table here: skip to the next table boundary.
        const skip = span - idx - 1;
        i += skip;
        continue;
      }
      const epa = table + idx * this.entrySize;
      if (this.readLo(epa) !== 0 || this.readHi(epa) !== 0) this.counters.ptesCleared++;
      this.write(epa, 0, 0);
      if (this.arm()) this.host.physmem.write32(epa - 2048, 0);
    }
  }

  /** Map one kernel page (kmap/fixmap users). */
  mapKernelPage(addr: bigint, pfn: number, prot: Prot = "kernel"): void {
    this.mapPages(Number(addr >> 12n), 1, [pfn], prot);
  }

  unmapKernelPage(addr: bigint): void {
    this.unmapPages(Number(addr >> 12n), 1);
  }

  /** Map [vpn, vpn+n) to frames from pfn with the largest leaves the arch uses; PTEs at unaligned edges (boot only). */
  private mapLinear(vpn: number, pfn: number, n: number, prot: Prot): void {
    const lv = this.real;
    const large = (this.arch === "i386" && !this.pae) || this.arch === "arm" ? lv[0]! : lv.find((l) => l.name === "PMD")!;
    const step = pagesAt(large.shift);
    // The table of `large` entries is the same for every entry of one table's span (step * ptrs pages): walked to
    // (and its upper tables allocated) at the span's first large entry, then reused. Nothing here changes the
    // entries above it: mapPages below fills the entries of `large` and the tables beneath.
    const span = step * large.ptrs;
    let spanKey = -1;
    let spanTable = 0;
    let i = 0;
    while (i < n) {
      const v = vpn + i;
      const p = pfn + i;
      if (v % step === 0 && p % step === 0 && n - i >= step) {
        const key = large.folded ? -1 : Math.floor(v / span);
        if (key < 0 || key !== spanKey) {
          spanTable = this.tableAbove(v, large);
          spanKey = key;
        }
        const table = spanTable;
        const [lo, hi] = this.leafEntry(p * PAGE, large, prot);
        this.write(table + this.indexOf(v, large) * this.entrySize, lo, hi);
        if (this.countingDirect) this.directPages.large++;
        i += step;
      } else {
        const run = Math.min(n - i, step - (v % step));
        this.mapPages(v, run, p, prot);
        if (this.countingDirect) this.directPages.small += run;
        i += run;
      }
    }
  }

  /** The table holding `level`'s entry for vpn, allocating upper tables (boot). */
  private tableAbove(vpn: number, level: Level): number {
    const lv = this.real;
    let table = this.pgdPhys;
    for (const l of lv) {
      if (l === level) return table;
      const epa = table + this.indexOf(vpn, l) * this.entrySize;
      const lo = this.readLo(epa);
      if (this.isPresent(lo, l)) {
        table = this.entryAddr(lo, this.readHi(epa), l, false);
        continue;
      }
      const page = this.allocTablePage(0, this.user || this.accountedKernelTable(lv[lv.indexOf(l) + 1]!, vpn));
      const [elo, ehi] = this.tableEntry(page, l);
      this.write(epa, elo, ehi);
      table = page;
    }
    throw new Error("page tables: level not found");
  }

  private buildLinearMap(): void {
    const L = this.host.layout;
    const physOff = L.physOffset;
    const lowEnd = L.maxLowPfn * PAGE;
    const base = Number(L.pageOffset >> 12n);
    // x86 init_mem_mapping(): "the ISA range is always mapped regardless of memory holes", then memblock's RAM.
    const x86 = this.arch === "x86_64" || this.arch === "i386";
    const isaEnd = x86 && !this.user ? 0x100000 : 0;
    const ranges = isaEnd ? [{ start: 0, end: isaEnd }, ...L.memory.map((r) => ({ start: Math.max(r.start, isaEnd), end: r.end }))] : L.memory;
    this.countingDirect = x86;
    for (const r of ranges) {
      const start = Math.ceil(r.start / PAGE) * PAGE;
      const end = Math.min(Math.floor(r.end / PAGE) * PAGE, lowEnd);
      if (end <= start) continue;
      this.mapLinear(base + (start - physOff) / PAGE, start / PAGE, (end - start) / PAGE, "kernel");
    }
    this.countingDirect = false;
    if (L.startKernelMap !== undefined && L.image.length) {
      // x86_64: the kernel text mapping at __START_KERNEL_map + (phys - phys_base), 2 MiB pages.
      const lo = Math.floor(Math.min(...L.image.map((s) => s.phys)) / 0x200000) * 0x200000;
      const hiEnd = Math.max(...L.image.map((s) => s.phys + Number(s.end - s.start)));
      const hi = Math.ceil(hiEnd / 0x200000) * 0x200000;
      const vlo = (lo - (L.physBase ?? 0)) / PAGE;
      this.mapLinear(Number(L.startKernelMap >> 12n) + vlo, lo / PAGE, (hi - lo) / PAGE, "kernel_exec");
    }
  }

  // ---------------------------------------------------------------- x86 set_memory_*() (change_page_attr)

  /**
   * change_page_attr_set_clr() on [vaddr, vaddr + npages pages) of one mapping: `rw` sets or clears _PAGE_RW, `nx`
   * sets or clears _PAGE_NX (a no-op without NX: i386 on QEMU's CPU). A large page the range covers whole keeps its
   * size; one it covers in part, where the bits really change, is split first. `alias` also changes the direct-map
   * alias of each page (RW only), as cpa_process_alias() does for the kernel image's and vmalloc's pages.
   */
  changeAttr(vaddr: bigint, npages: number, change: { rw?: boolean; nx?: boolean }, alias = false): void {
    if (this.arch !== "x86_64" && this.arch !== "i386") return;
    const nxOk = this.arch === "x86_64";
    const c = { rw: change.rw, nx: nxOk ? change.nx : undefined };
    if (c.rw === undefined && c.nx === undefined) return;
    const L = this.host.layout;
    const lowEnd = L.pageOffset + BigInt(L.maxLowPfn) * 4096n;
    let vpn = Number(vaddr >> 12n);
    const endVpn = vpn + npages;
    while (vpn < endVpn) {
      const step = this.changeOne(vpn, endVpn, c);
      if (alias && c.rw !== undefined) {
        const a = BigInt(vpn) << 12n;
        const isDirect = a >= L.pageOffset && a < lowEnd;
        if (!isDirect) {
          // the step's frames in one walk (the alias changes below touch only direct-map entries, never these)
          const pas = this.translateRun(vpn, step);
          for (let i = 0; i < step; i++) {
            const pa = pas[i]!;
            if (pa < 0 || pa >= L.maxLowPfn * PAGE) continue;
            const dv = Number(L.pageOffset >> 12n) + (pa - L.physOffset) / PAGE;
            // consecutive frames share one call (the alias cpa covers them as a range)
            let run = 1;
            while (i + run < step && pas[i + run] === pa + run * PAGE) run++;
            let d = dv;
            while (d < dv + run) d += this.changeOne(d, dv + run, { rw: c.rw });
            i += run - 1;
          }
        }
      }
      vpn += step;
    }
  }

  /**
   * One mapping unit of changeAttr from vpn: the pages handled (to the end of a large page, or of the range's run in
   * one PTE table: its entries are changed in one pass, each as a walk to it would).
   */
  private changeOne(vpn: number, endVpn: number, c: { rw?: boolean; nx?: boolean }): number {
    let table = this.pgdPhys;
    for (const level of this.real) {
      const idx = this.indexOf(vpn, level);
      const epa = table + idx * this.entrySize;
      if (level.name === "PTE") {
        // x86 only (changeAttr): entries are 4 or 8 bytes, present is bit 0, read and written through the table's page
        const n = Math.min(level.ptrs - idx, endVpn - vpn);
        const pm = this.host.physmem;
        const pfn = Math.floor(epa / PAGE);
        let dv = pm.pageView(pfn, false);
        if (!dv) return n;
        let own = false;
        const wide = this.entrySize === 8;
        // withAttr() inline: the bits to set and clear in each half
        const loSet = c.rw === true ? 2 : 0;
        const loClr = c.rw === false ? 2 : 0;
        const hiSet = wide && c.nx === true ? X86_NX_HI : 0;
        const hiClr = wide && c.nx === false ? X86_NX_HI : 0;
        for (let j = 0, off = epa % PAGE; j < n; j++, off += this.entrySize) {
          const lo = dv.getUint32(off, true);
          if ((lo & 1) === 0) continue;
          const hi = wide ? dv.getUint32(off + 4, true) : 0;
          const nlo = ((lo | loSet) & ~loClr) >>> 0;
          const nhi = ((hi | hiSet) & ~hiClr) >>> 0;
          if (nlo === lo && nhi === hi) continue;
          if (!own) {
            dv = pm.pageView(pfn, true)!;
            own = true;
          }
          dv.setUint32(off, nlo >>> 0, true);
          if (wide) dv.setUint32(off + 4, nhi >>> 0, true);
        }
        return n;
      }
      const lo = this.readLo(epa);
      const span = pagesAt(level.shift);
      const toEnd = span - (vpn % span);
      if (!this.isPresent(lo, level)) return Math.min(toEnd, endVpn - vpn);
      const hi = this.readHi(epa);
      if (!this.isLeaf(lo, level)) {
        table = this.entryAddr(lo, hi, level, false);
        continue;
      }
      const [nlo, nhi] = this.withAttr(lo, hi, c);
      if (nlo === lo && nhi === hi) return Math.min(toEnd, endVpn - vpn);
      const whole = vpn % span === 0 && endVpn - vpn >= span;
      if (whole) {
        this.write(epa, nlo, nhi);
        return span;
      }
      this.splitLarge(epa, lo, hi, level, vpn - (vpn % span));
      return this.changeOne(vpn, endVpn, c);
    }
    return 1;
  }

  private withAttr(lo: number, hi: number, c: { rw?: boolean; nx?: boolean }): [number, number] {
    let nlo = lo;
    let nhi = hi;
    if (c.rw !== undefined) nlo = c.rw ? (lo | 2) >>> 0 : (lo & ~2) >>> 0;
    if (c.nx !== undefined && this.entrySize === 8) nhi = c.nx ? (hi | X86_NX_HI) >>> 0 : (hi & ~X86_NX_HI) >>> 0;
    return [nlo, nhi];
  }

  /**
   * vm_reset_perms() at vfree of a VM_FLUSH_RESET_PERMS area (module text, bpf_prog_pack): each page's direct-map
   * alias is made invalid then default again (set_direct_map_invalid/default_noflush, 4 KiB at a time), which splits
   * the large page holding it and leaves it RW.
   */
  resetDirectMap(pfns: ArrayLike<number>): void {
    if (this.arch !== "x86_64" && this.arch !== "i386") return;
    const L = this.host.layout;
    const base = Number(L.pageOffset >> 12n);
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i]!;
      if (pfn >= L.maxLowPfn) continue;
      const vpn = base + pfn - L.physOffset / PAGE;
      const lv = this.real;
      let table = this.pgdPhys;
      for (const level of lv) {
        const epa = table + this.indexOf(vpn, level) * this.entrySize;
        const lo = this.readLo(epa);
        if (!this.isPresent(lo, level)) break;
        const hi = this.readHi(epa);
        if (!this.isLeaf(lo, level)) {
          table = this.entryAddr(lo, hi, level, false);
          continue;
        }
        if (level.name !== "PTE") this.splitLarge(epa, lo, hi, level, vpn - (vpn % pagesAt(level.shift)));
        this.changeOne(vpn, vpn + 1, { rw: true });
        break;
      }
    }
  }

  /** split_large_page(): a PTE table of 4 KiB entries with the large page's protections, then the entry points to it. */
  private splitLarge(epa: number, lo: number, hi: number, level: Level, baseVpn: number): void {
    const below = this.real[this.real.indexOf(level) + 1]!;
    const page = this.allocTablePage(0);
    const frame = this.entryAddr(lo, hi, level, true);
    const bits = (lo & 0xfff & ~0x80) >>> 0; // _PAGE_PSE off (a PTE's bit 7 is PAT)
    // the new table's entries written through its page (page-aligned, from allocTablePage)
    const dv = this.host.physmem.pageView(page / PAGE, true)!;
    const wide = this.entrySize === 8;
    for (let i = 0; i < below.ptrs; i++) {
      const pa = frame + i * PAGE;
      dv.setUint32(i * this.entrySize, ((pa % TWO32) | bits) >>> 0, true);
      if (wide) dv.setUint32(i * this.entrySize + 4, (Math.floor(pa / TWO32) | (hi & X86_NX_HI)) >>> 0, true);
    }
    const [tlo, thi] = this.tableEntry(page, level);
    this.write(epa, tlo, thi);
    // split_page_count(): any virt_addr_valid() address (the direct map, x86_64's kernel image mapping)
    const a = BigInt(baseVpn) << 12n;
    const L = this.host.layout;
    const direct = a >= L.pageOffset && a < L.pageOffset + BigInt(L.maxLowPfn) * 4096n;
    const image = L.startKernelMap !== undefined && a >= L.startKernelMap && a < L.modulesVaddr;
    if (direct || image) {
      this.directPages.large--;
      this.directPages.small += below.ptrs;
    }
  }

  /** preallocate_vmalloc_pages() (x86_64, 5.8+): a PUD page (LA57: a P4D page) under every PGD entry of the vmalloc area. */
  private preallocateVmalloc(): void {
    const L = this.host.layout;
    const pgd = this.levels[0]!;
    const pud = this.levels.find((l) => l.name === (this.la57 ? "P4D" : "PUD"))!;
    const first = Number(L.vmallocStart >> 12n);
    const last = Number(L.vmallocEnd >> 12n);
    const step = pagesAt(pgd.shift);
    // mem_init() took the pages before the Memory: line (arch/early_memblock.ts vmallocPreallocCount)
    this.pool = this.host.pages.preallocatedPgtables?.splice(0) ?? [];
    for (let v = Math.floor(first / step) * step; v <= last; v += step) this.tableAbove(v, pud);
    this.pool = [];
  }

  /**
   * free_pgtables() + pgd_free() at a process's exit: every table frame back to the buddy allocator. Only for a
   * process's table (the kernel's own tables are never freed).
   */
  freeUserTables(): number {
    if (!this.user) throw new Error("page tables: only a process's tables are freed");
    const free = this.host.pages.__free_pages;
    if (!free) throw new Error("page tables: this host cannot free pages");
    const frames = this.tableFrames.splice(0);
    // The top level first (one block), then every lower table page.
    const topPfn = this.pgdPhys / PAGE;
    const topOrder = this.arch === "arm" ? 2 : 0;
    free.call(this.host.pages, topPfn, topOrder);
    for (const pfn of frames) if (pfn < topPfn || pfn >= topPfn + (1 << topOrder)) free.call(this.host.pages, pfn, 0);
    return frames.length;
  }

  /** The number of table frames (top level included): VmPTE's pages for a process's table. */
  tablePages(): number {
    return this.tableFrames.length;
  }

  /**
   * A read-only copy of the tables as they are now: walk() and translate() of the copy read copies of the table
   * frames, so a view can still show "while the module was loaded" after module_exit unmapped its buffers.
   * Mapping through the copy throws.
   */
  frozen(): PageTables {
    const copy = new Map<number, Uint32Array>();
    const mem = this.host.physmem;
    for (const pfn of this.tableFrames) {
      const words = new Uint32Array(PAGE / 4);
      for (let i = 0; i < words.length; i++) words[i] = mem.read32(pfn * PAGE + i * 4);
      copy.set(pfn, words);
    }
    const ro = () => {
      throw new Error("page tables: a frozen copy cannot be changed");
    };
    const physmem = { read32: (pa: number) => copy.get(Math.floor(pa / PAGE))?.[(pa % PAGE) >>> 2] ?? 0, write32: ro, zeroPage: ro };
    const f = Object.create(PageTables.prototype) as PageTables;
    Object.assign(f, this, { host: { ...this.host, physmem, pages: { alloc_pages: ro } } });
    return f;
  }

  // ---------------------------------------------------------------- walking

  /** Walk the kernel page tables for `addr` as the MMU does, reporting every level (folded ones included). */
  walk(addr: bigint): Walk {
    const a = BigInt.asUintN(64, addr);
    const vpn = Number(a >> 12n);
    const off = Number(a & 0xfffn);
    const steps: WalkStep[] = [];
    const res: Walk = { addr, steps, pa: -1, pageSize: 0, writable: false, executable: false };
    if (!this.canonical(a)) {
      res.stoppedAt = "PGD";
      return res;
    }
    let table = this.pgdPhys;
    let prev: WalkStep | undefined;
    for (const level of this.levels) {
      if (level.folded) {
        const s: WalkStep = { ...prev!, level: level.name, folded: true };
        steps.push(s);
        continue;
      }
      const idx = this.indexOf(vpn, level);
      const epa = table + idx * this.entrySize;
      const lo = this.readLo(epa);
      const hi = this.readHi(epa);
      const entry = BigInt(lo) | (BigInt(hi) << 32n);
      const present = this.isPresent(lo, level);
      const leaf = present && this.isLeaf(lo, level);
      const s: WalkStep = { level: level.name, index: idx, entry, tablePhys: table, entryPhys: epa, folded: false, present, leaf };
      if (this.arm()) {
        if (level.name === "PGD") s.linuxEntry = BigInt(this.readLo(table + (idx & ~1) * 4));
        else s.linuxEntry = BigInt(this.readLo(epa - 2048));
      }
      steps.push(s);
      prev = s;
      if (!present) {
        res.stoppedAt = level.name;
        return res;
      }
      const target = this.entryAddr(lo, hi, level, leaf);
      if (leaf) {
        const span = pagesAt(level.shift);
        res.pageSize = span * PAGE;
        res.pa = target + (vpn % span) * PAGE + off;
        this.protOf(lo, hi, res);
        // Levels below a leaf are not walked (the kernel's dump_pagetable stops at a large page too).
        return res;
      }
      s.nextTablePhys = target;
      table = target;
    }
    return res;
  }

  private protOf(lo: number, hi: number, res: Walk): void {
    switch (this.arch) {
      case "x86_64":
      case "i386":
        res.writable = (lo & 2) !== 0;
        res.executable = this.arch === "i386" || (hi & X86_NX_HI) === 0;
        break;
      case "arm64":
        res.writable = (hi & 0x00080000) !== 0 || (lo & 0x80) === 0;
        res.executable = (hi & 0x00200000) === 0;
        break;
      case "arm":
        res.writable = true;
        res.executable = (lo & 0x3) === 2 ? (lo & 0x10) === 0 : (lo & 1) === 0;
        break;
    }
  }

  private canonical(a: bigint): boolean {
    if (this.arch === "x86_64") {
      const top = a >> (this.la57 ? 56n : 47n);
      return top === 0n || top === (this.la57 ? 0xffn : 0x1ffffn);
    }
    if (this.arch === "arm64") return a >> 48n === (this.user ? 0n : 0xffffn); // TTBR0 (user) or TTBR1 (kernel) half
    return a <= 0xffffffffn;
  }

  /** Fast translation: the physical address of `addr`, or -1 when nothing maps it. */
  translate(addr: bigint): number {
    const a = BigInt.asUintN(64, addr);
    if (!this.canonical(a)) return -1;
    const vpn = Number(a >> 12n);
    const off = Number(a & 0xfffn);
    return this.translateVpn(vpn, off);
  }

  /** translate() for a page number and offset (no bigint work: the TLB model's miss path). */
  translateVpn(vpn: number, off = 0): number {
    let table = this.pgdPhys;
    const lv = this.real;
    for (let i = 0; i < lv.length; i++) {
      const level = lv[i]!;
      const epa = table + this.indexOf(vpn, level) * this.entrySize;
      const lo = this.readLo(epa);
      if (!this.isPresent(lo, level)) return -1;
      const hi = this.readHi(epa);
      if (this.isLeaf(lo, level)) {
        const span = pagesAt(level.shift);
        return this.entryAddr(lo, hi, level, true) + (vpn % span) * PAGE + off;
      }
      table = this.entryAddr(lo, hi, level, false);
    }
    return -1;
  }

  /** translateVpn(vpn + i, 0) for i in [0, n): one walk per table or large page the run crosses, not one per page. */
  private translateRun(vpn: number, n: number): number[] {
    const out = new Array<number>(n);
    const lv = this.real;
    let i = 0;
    while (i < n) {
      const v = vpn + i;
      let table = this.pgdPhys;
      let done = 0;
      for (let d = 0; d < lv.length && !done; d++) {
        const level = lv[d]!;
        const idx = this.indexOf(v, level);
        const epa = table + idx * this.entrySize;
        const span = pagesAt(level.shift);
        if (level.name === "PTE") {
          // x86 only (changeAttr): present is bit 0, the frame is the entry's bits 12 and up
          done = Math.min(level.ptrs - idx, n - i);
          const dv = this.host.physmem.pageView(Math.floor(epa / PAGE), false);
          const wide = this.entrySize === 8;
          for (let j = 0, off = epa % PAGE; j < done; j++, off += this.entrySize) {
            const lo = dv ? dv.getUint32(off, true) : 0;
            out[i + j] = lo & 1 ? this.entryAddr(lo, wide ? dv!.getUint32(off + 4, true) : 0, level, true) : -1;
          }
          break;
        }
        const lo = this.readLo(epa);
        done = Math.min(span - (v % span), n - i);
        if (!this.isPresent(lo, level)) {
          for (let j = 0; j < done; j++) out[i + j] = -1;
          break;
        }
        const hi = this.readHi(epa);
        if (this.isLeaf(lo, level)) {
          const base = this.entryAddr(lo, hi, level, true) + (v % span) * PAGE;
          for (let j = 0; j < done; j++) out[i + j] = base + j * PAGE;
          break;
        }
        done = 0;
        table = this.entryAddr(lo, hi, level, false);
      }
      if (!done) {
        out[i] = -1;
        done = 1;
      }
      i += done;
    }
    return out;
  }

  /** PFN mapped at `vpn` by a 4 KiB PTE (vmalloc_to_pfn's answer), or -1. */
  pfnAt(vpn: number): number {
    const pa = this.translateVpn(vpn, 0);
    return pa < 0 ? -1 : Math.floor(pa / PAGE);
  }

  /**
   * Every 4 KiB leaf mapped in [startVpn, endVpn): callback(vpn, pfn). Walks the tables (skipping empty subtrees),
   * so it is cheap even over x86_64's 32 TiB vmalloc area. Large leaves are reported page by page only when the
   * caller asks (includeLarge).
   */
  forEachMapped(startVpn: number, endVpn: number, cb: (vpn: number, pfn: number) => void): void {
    const lv = this.real;
    const rec = (table: number, depth: number, baseVpn: number): void => {
      const level = lv[depth]!;
      const span = pagesAt(level.shift);
      const first = Math.max(0, Math.floor((startVpn - baseVpn) / span));
      const last = Math.min(level.ptrs - 1, Math.floor((endVpn - 1 - baseVpn) / span));
      // the table's nonzero entries (an entry that reads zero is not present at any level of any arch)
      const ents = this.nonzeroEntries(table, level.ptrs);
      for (let e = 0; e < ents.length; e += 3) {
        const i = ents[e]!;
        if (i < first || i > last) continue;
        const lo = ents[e + 1]!;
        if (!this.isPresent(lo, level)) continue;
        const hi = ents[e + 2]!;
        const v = baseVpn + i * span;
        if (this.isLeaf(lo, level)) {
          const pa = this.entryAddr(lo, hi, level, true);
          for (let j = 0; j < span; j++) if (v + j >= startVpn && v + j < endVpn) cb(v + j, pa / PAGE + j);
          continue;
        }
        rec(this.entryAddr(lo, hi, level, false), depth + 1, v);
      }
    };
    // Top-level base: the address space start (sign-extended halves on 64-bit).
    const top = lv[0]!;
    const topSpan = pagesAt(top.shift) * top.ptrs;
    const base = Math.floor(startVpn / topSpan) * topSpan;
    rec(this.pgdPhys, 0, base);
  }
}

/** The kernel's dump_pagetable() line on x86_64 ("PGD 1a01067 P4D 1a01067 PUD 1a02067 PMD 100fa067 PTE 0"). */
export function formatX86Walk(w: Walk): string {
  return w.steps.map((s) => `${s.level} ${s.entry.toString(16)}`).join(" ");
}
