// The boot's smaller memblock allocations, Linux 6.1: what setup_arch() and start_kernel() take from memblock before
// mem_init() besides the big blocks (image, initrd, mem_map, percpu, hash tables) the arch files reserve themselves.
// Each one is the kernel's own call with its size and alignment; memblock packs them top-down byte by byte
// (Memblock.alloc), so the pages they touch, and with them the "reserved" figure of the Memory: line, follow from the
// sizes and the order, as in the kernel:
// - x86 brk (arch/x86/kernel/setup.c reserve_brk()): extend_brk() users before it: i386's early page tables
//   (arch/x86/kernel/head32.c mk_early_pgtbl_32(): PTE pages mapping up to __pa(_end) + PAGE_TABLE_SIZE(LOWMEM_PAGES)
//   pages), dmi_alloc()'s copies of the SMBIOS strings (QEMU's SeaBIOS tables: less than a page), then
//   early_alloc_pgt_buf()'s INIT_PGT_BUF_SIZE, page aligned (arch/x86/mm/init.c: INIT_PGD_PAGE_COUNT =
//   INIT_PGD_PAGE_TABLES (3, 4 with CONFIG_X86_5LEVEL) times 2, times 4 with CONFIG_RANDOMIZE_MEMORY). The whole of
//   [_brk_start, _brk_end) stays reserved, used or not.
// - x86_64 sparse_init() (mm/sparse.c, SPARSEMEM_EXTREME + VMEMMAP): the mem_section root array
//   (NR_SECTION_ROOTS pointers, from MAX_PHYSMEM_BITS at run time), a page of struct mem_section per root in use,
//   the usemaps (struct mem_section_usage + pageblock bits per present section, in the pgdat's section), then the
//   vmemmap page tables (arch/x86/mm/init_64.c vmemmap_populate_hugepages: a PUD page per PGD entry, a PMD page per
//   1 GiB of vmemmap) from memblock_alloc_try_nid_raw(PAGE_SIZE, PAGE_SIZE, 16 MiB).
// - setup_arch()'s tail: the HPET resource (arch/x86/kernel/acpi/boot.c acpi_parse_hpet), the IO-APIC resources
//   (apic/io_apic.c ioapic_setup_resources), e820__reserve_resources() (a struct resource per e820 entry, then a
//   firmware_map_entry per firmware entry, drivers/firmware/memmap.c), e820__register_nosave_regions()
//   (kernel/power/snapshot.c: a struct nosave_region per region that does not extend the last one); ARM's
//   request_standard_resources() (a resource per memblock memory region).
// - start_kernel(): setup_command_line() (saved_command_line and static_command_line, strlen + 1 each);
//   setup_per_cpu_areas(): pcpu_alloc_alloc_info() and the areas array (freed again at the end), pcpu_setup_first_chunk()'s
//   group/unit arrays, the chunk slot lists and, per first chunk (reserved, dynamic), struct pcpu_chunk with its
//   allocation/boundary bitmaps and block metadata (mm/percpu.c pcpu_alloc_first_chunk); x86_64's off-stack cpumasks
//   (setup_node_to_cpumask_map, setup_cpu_local_masks: CONFIG_CPUMASK_OFFSTACK with NR_CPUS 8192).
// - trap_init() on x86_64: setup_cpu_entry_areas() maps the CPU entry area with set_pte_vaddr(), whose spp_getpage()
//   takes each new table page (P4D with LA57, PUD, PMD, PTE) from memblock before mem_init.
// Struct sizes are those of the Debian builds (64-bit: amd64; 32-bit: 686 and armmp).
// Simplification: print_unknown_bootoptions()'s buffer (allocated and freed at once) is left out: it changes nothing.

import type { MemMapEntry, PhysRange } from "../types.ts";
import { KERN_DEBUG, KERN_ERR, KERN_INFO, Memblock, PAGE_SIZE, alignUp, hex0x, type ArchKernel } from "./common.ts";
import type { FirstChunk } from "../mm/percpu_first_chunk.ts";

const longs = (bits: number, longBits: number) => Math.ceil(bits / longBits);

/** x86 brk pages reserved by reserve_brk(): i386's early PTE pages, DMI's strings (one page), the early page-table buffer. */
export function x86BrkPages(opts: { earlyPtePages: number; la57Config: boolean; randomizeMemory: boolean }): number {
  const initPgdPageTables = opts.la57Config ? 4 : 3;
  const pgtBuf = initPgdPageTables * 2 * (opts.randomizeMemory ? 2 : 1);
  return opts.earlyPtePages + 1 + pgtBuf;
}

/**
 * mk_early_pgtbl_32(): the PTE pages head32.c fills from __brk_base, mapping [0, __pa(_end) + PAGE_TABLE_SIZE(LOWMEM_PAGES)
 * pages) a page table at a time. `_end` is __brk_base plus the .brk section (64 KiB slop, then the RESERVE_BRK()s:
 * pagetables INIT_MAP_SIZE, dmi_alloc 64 KiB, early_pgt_alloc), page aligned.
 */
export function i386EarlyPtePages(brkBase: number, pae: boolean): number {
  const lowmemPages = (2 ** 32 - 0xc0000000) / PAGE_SIZE;
  const ptrsPerPte = pae ? 512 : 1024;
  const pageTableSize = pae ? lowmemPages / 512 + 4 : lowmemPages / 1024; // PAGE_TABLE_SIZE(), in pages
  const pgtBuf = 3 * 2;
  const end = alignUp(brkBase + 64 * 1024 + pageTableSize * PAGE_SIZE + 64 * 1024 + pgtBuf * PAGE_SIZE, PAGE_SIZE);
  const limit = end + pageTableSize * PAGE_SIZE;
  const span = ptrsPerPte * PAGE_SIZE;
  return Math.ceil(limit / span);
}

/** mm/sparse.c sparse_init() for x86_64 (SPARSEMEM_EXTREME, VMEMMAP), the allocations before and after the memmap buffer. */
export function sparseInitX86_64(
  mb: Memblock,
  o: { memory: PhysRange[]; pgdat: number; physmemBits: number; memSectionSize: number; la57: boolean; vmemmapBase: bigint },
  allocBuffer: () => void,
): void {
  const SECTION_SHIFT = 27;
  const sectionsPerRoot = PAGE_SIZE / o.memSectionSize;
  const nrRoots = Math.ceil(2 ** (o.physmemBits - SECTION_SHIFT) / sectionsPerRoot);
  const present: number[] = [];
  for (const r of o.memory) {
    for (let s = Math.floor(r.start / 2 ** SECTION_SHIFT); s * 2 ** SECTION_SHIFT < r.end; s++) if (present[present.length - 1] !== s) present.push(s);
  }
  // memory_present(): the root array on first use, then sparse_index_init() a page of mem_sections per new root
  mb.alloc(8 * nrRoots, 64, "mem_section roots");
  const roots = new Set<number>();
  for (const s of present) {
    const root = Math.floor(s / sectionsPerRoot);
    if (roots.has(root)) continue;
    roots.add(root);
    mb.alloc(PAGE_SIZE, 64, "mem_section");
  }
  // sparse_early_usemaps_alloc_pgdat_section(): mem_section_usage_size() per section, in the pgdat's section first
  const usage = 8 /* subsection_map */ + 32; /* usemap: 64 pageblocks x 4 bits */
  const goal = Math.floor(o.pgdat / 2 ** SECTION_SHIFT) * 2 ** SECTION_SHIFT;
  if (mb.tryAlloc(usage * present.length, 64, "usemap", goal + 2 ** SECTION_SHIFT, goal) < 0) mb.alloc(usage * present.length, 64, "usemap");
  allocBuffer();
  // vmemmap_populate_hugepages(): the tables above the 2 MiB memmap blocks, section by section
  const made = new Set<string>();
  for (const s of present) {
    const va = o.vmemmapBase + BigInt(s) * 2n * 1024n * 1024n;
    const levels: [string, bigint][] = o.la57 ? [["p4d", 48n]] : [];
    levels.push(["pud", 39n], ["pmd", 30n]);
    for (const [name, shift] of levels) {
      const key = `${name}:${va >> shift}`;
      if (made.has(key)) continue;
      made.add(key);
      mb.alloc(PAGE_SIZE, PAGE_SIZE, "vmemmap page tables", Infinity, 16 * 1024 * 1024);
    }
  }
}

/** The e820 side of setup_arch()'s tail: e820__reserve_resources() and e820__register_nosave_regions(). */
export function x86E820Allocs(
  mb: Memblock,
  o: { table: MemMapEntry[]; firmware: MemMapEntry[]; maxPfn: number; bits: 32 | 64; cache: number; resourceSize?: number },
): void {
  const ptr = o.bits / 8;
  // struct resource: start, end (resource_size_t), name, flags, desc, parent, sibling, child
  const resourceSize = o.resourceSize ?? (o.bits === 64 ? 64 : 32);
  mb.alloc(resourceSize * o.table.length, o.cache, "e820 resources");
  // struct firmware_map_entry: u64 start, end; const char *type; struct list_head; struct kobject
  const kobject = o.bits === 64 ? 64 : 36;
  for (let i = 0; i < o.firmware.length; i++) mb.alloc(16 + ptr + 2 * ptr + kobject, o.cache, "firmware_map_entry");
  // register_nosave_region(): list_head + two unsigned longs, one per region that does not extend the previous
  for (const r of e820NosaveRegions(o.table, o.maxPfn)) if (!r.extends) mb.alloc(4 * ptr, o.cache, "nosave_region");
}

/**
 * 6.1's e820__register_nosave_regions(max_pfn) (arch/x86/kernel/e820.c, as the 6.1.1xx stable kernels have it since
 * "x86/e820: Fix handling of subpage regions when calculating nosave ranges"): the holes between the RAM entries,
 * from PFN_DOWN of the last RAM end to PFN_UP of the next RAM start, then from the last RAM end to limit_pfn. Each
 * register_nosave_region() call that is not empty prints its own range; one that starts where the previous region
 * ends extends it (kernel/power/snapshot.c) instead of taking a new struct nosave_region. The real boots' two lines
 * (0-0xfff and 0x9f000-0xfffff: the 0x9fc00 and 0xf0000 reserved entries make no line of their own) are this rule's.
 */
export function e820NosaveRegions(table: MemMapEntry[], limitPfn: number): { start: number; end: number; extends: boolean }[] {
  const out: { start: number; end: number; extends: boolean }[] = [];
  const reg = (start: number, end: number) => {
    if (start >= end) return;
    out.push({ start, end, extends: out.length > 0 && out[out.length - 1]!.end === start });
  };
  let last = 0;
  for (const e of [...table].sort((a, b) => a.start - b.start)) {
    if (e.type !== "usable") continue;
    if (last < e.start) reg(Math.floor(last / PAGE_SIZE), Math.ceil(e.start / PAGE_SIZE));
    last = e.end;
  }
  reg(Math.floor(last / PAGE_SIZE), limitPfn);
  return out;
}

/**
 * e820__setup_pci_gap() -> e820_search_gap() (6.1): the largest gap of at least 4 MiB below 4 GiB between e820
 * entries, searched from the top (the lower of two equal gaps wins); x86_64 without one: 1 MiB above the end of RAM.
 */
export function e820PciGap(table: MemMapEntry[], maxPfn: number, bits: 32 | 64): { start: number; size: number; found: boolean } {
  let gapSize = 0x400000;
  let gapStart = -1;
  let last = 2 ** 32; // MAX_GAP_END
  const sorted = [...table].sort((a, b) => a.start - b.start);
  for (let i = sorted.length - 1; i >= 0; i--) {
    const { start, end } = sorted[i]!;
    if (last > end && last - end >= gapSize) {
      gapSize = last - end;
      gapStart = end;
    }
    if (start < last) last = start;
  }
  const found = gapStart >= 0;
  if (!found) gapStart = bits === 64 ? maxPfn * PAGE_SIZE + 2 ** 20 : 0x10000000;
  return { start: gapStart, size: gapSize, found };
}

/**
 * The tail of setup_arch() on 6.1 x86 after paging_init() and the ACPI/SMP setup: e820__register_nosave_regions()'s
 * "PM: hibernation: Registered nosave memory" lines (CONFIG_HIBERNATION, Debian's amd64 and 686) and
 * e820__setup_pci_gap()'s "available for PCI devices" line.
 */
export function x86SetupArchTail(k: ArchKernel, layout: { memMap: MemMapEntry[]; maxPfn: number; bits: number }): void {
  for (const r of e820NosaveRegions(layout.memMap, layout.maxPfn))
    k.printk(KERN_INFO + "PM: hibernation: Registered nosave memory: [mem %s-%s]\n", hex0x(r.start * PAGE_SIZE, 10), hex0x(r.end * PAGE_SIZE - 1, 10));
  const gap = e820PciGap(layout.memMap, layout.maxPfn, layout.bits === 64 ? 64 : 32);
  if (!gap.found && layout.bits === 64) {
    k.printk(KERN_ERR + "Cannot find an available gap in the 32-bit address range\n");
    k.printk(KERN_ERR + "PCI devices with unassigned 32-bit BARs may not work!\n");
  }
  k.printk(KERN_INFO + "[mem %s-%s] available for PCI devices\n", hex0x(gap.start, 10), hex0x(gap.start + gap.size - 1, 10));
}

/**
 * e820__reserve_resources_late() (pcibios_resource_survey(), subsys_initcall, 6.1 x86): each RAM entry's end rounded
 * up to ram_alignment() (64 KiB in the first MiB, 1 MiB below 16 MiB, 64 MiB above) is reserved as "RAM buffer",
 * with a KERN_DEBUG line when the rounding leaves a gap.
 */
export function e820ReserveResourcesLate(k: ArchKernel, memMap: MemMapEntry[]): void {
  for (const e of [...memMap].sort((a, b) => a.start - b.start)) {
    if (e.type !== "usable") continue;
    const start = e.end;
    const mb = Math.floor(start / 2 ** 20);
    const align = mb === 0 ? 64 * 1024 : mb < 16 ? 2 ** 20 : 64 * 2 ** 20;
    const end = Math.ceil(start / align) * align - 1;
    if (start >= end) continue;
    k.printk(KERN_DEBUG + "e820: reserve RAM buffer [mem %s-%s]\n", hex0x(start, 10), hex0x(end, 10));
  }
}

/** setup_command_line(): saved_command_line and static_command_line (no bootconfig, no extra init args). */
export function setupCommandLine(mb: Memblock, cmdline: string, cache: number): void {
  const len = new TextEncoder().encode(cmdline).length + 1; // strlen + NUL (UTF-8 bytes); no Node Buffer: the kernel runs in the browser too
  mb.alloc(len, cache, "saved_command_line");
  mb.alloc(len, cache, "static_command_line");
}

/**
 * pcpu_embed_first_chunk() around the chunk itself: pcpu_alloc_alloc_info() and the areas array before it (both freed at
 * the end), pcpu_setup_first_chunk()'s tables after it. `allocChunk` makes the group's allocation (and gives back the
 * unused tail, as the arch does).
 */
export function pcpuEmbedFirstChunk(mb: Memblock, fc: FirstChunk, o: { nrCpus: number; bits: 32 | 64; cache: number }, allocChunk: () => void): void {
  const ptr = o.bits / 8;
  const nrGroups = 1;
  const nrUnits = Math.ceil(o.nrCpus / fc.upa) * fc.upa;
  // struct pcpu_alloc_info: 7 size_t and an int, then groups[] of { int nr_units; unsigned long base_offset; unsigned int *cpu_map }
  const aiBase = alignUp(7 * ptr + 4, ptr) + nrGroups * 3 * ptr;
  const aiSize = alignUp(alignUp(aiBase, 4) + nrUnits * 4, PAGE_SIZE);
  const ai = mb.alloc(aiSize, PAGE_SIZE, "pcpu_alloc_info");
  const areasSize = alignUp(nrGroups * ptr, PAGE_SIZE);
  const areas = mb.alloc(areasSize, o.cache, "pcpu areas");
  allocChunk();
  // pcpu_setup_first_chunk()
  mb.alloc(nrGroups * ptr, o.cache, "pcpu group_offsets");
  mb.alloc(nrGroups * ptr, o.cache, "pcpu group_sizes");
  mb.alloc(o.nrCpus * 4, o.cache, "pcpu unit_map");
  mb.alloc(o.nrCpus * ptr, o.cache, "pcpu unit_off");
  const fls = (v: number) => Math.floor(Math.log2(v)) + 1;
  const nrSlots = Math.max(fls(fc.unit) - 5 + 2, 1) + 4; // __pcpu_size_to_slot(unit) + sidelined, free, to_depopulate
  mb.alloc(nrSlots * 2 * ptr, o.cache, "pcpu_chunk_lists");
  const staticSize = alignUp(fc.staticSize, 4); // PCPU_MIN_ALLOC_SIZE
  const dyn = fc.dyn - (staticSize - fc.staticSize);
  const chunkStruct = o.bits === 64 ? 192 : 128; // sizeof(struct pcpu_chunk): base_addr is cacheline aligned
  const firstChunk = (offset: number, mapSize: number) => {
    const start = offset % PAGE_SIZE;
    const nrPages = alignUp(start + mapSize, PAGE_SIZE) / PAGE_SIZE;
    const regionBits = nrPages * (PAGE_SIZE / 4);
    mb.alloc(chunkStruct + longs(nrPages, o.bits) * ptr, o.cache, "pcpu_chunk");
    mb.alloc(longs(regionBits, o.bits) * ptr, o.cache, "pcpu alloc_map");
    mb.alloc(longs(regionBits + 1, o.bits) * ptr, o.cache, "pcpu bound_map");
    mb.alloc(nrPages * 32, o.cache, "pcpu md_blocks");
  };
  if (fc.reserved) firstChunk(staticSize, fc.reserved);
  firstChunk(staticSize + fc.reserved, dyn);
  // pcpu_free_alloc_info(), memblock_free(areas)
  mb.free(ai, ai + aiSize);
  mb.free(areas, areas + areasSize);
}

/** What the steps after setup_arch() read: the booted layout's lists, the profile and the command line. */
export interface EarlyHost {
  profile: { arch: string; era: string };
  layout: { memory: PhysRange[]; reservations: import("../types.ts").Reservation[]; maxPfn: number; pgtableLevels?: number };
  printk(fmt: string, ...args: (number | bigint | string)[]): number;
}

/**
 * trap_init() → setup_cpu_entry_areas() (arch/x86/mm/cpu_entry_area.c, x86_64 6.1): set_pte_vaddr() maps the read-only
 * IDT and CPU 0's entry area (well under 2 MiB from CPU_ENTRY_AREA_BASE) under a PGD entry of their own; spp_getpage()
 * takes the PUD, PMD and PTE pages from memblock (after_bootmem is still 0). Simplification: the per-CPU entry area
 * offset is not randomised (the nokaslr layout), so the three tables are all there is.
 */
export function trap_init_memblock(k: EarlyHost): void {
  if (k.profile.arch !== "x86_64" || k.profile.era !== "6.1") return;
  const mb = Memblock.over(k.layout.memory, k.layout.reservations);
  for (let i = 0; i < 3; i++) mb.alloc(PAGE_SIZE, PAGE_SIZE, "cpu_entry_area page tables");
}

/** 64 MiB of bounce buffer in 2 KiB slabs (IO_TLB_SHIFT 11, default_nslabs). */
const IO_TLB_NSLABS = (64 << 20) >> 11;

/** Whether the 6.1 kernel has CONFIG_SWIOTLB: x86_64 and arm64 always; 686-pae because X86_PAE selects it (until 6.14). */
function hasSwiotlb(p: { arch: string; era: string; pae?: boolean }): boolean {
  return p.era === "6.1" && (p.arch === "x86_64" || p.arch === "arm64" || (p.arch === "i386" && p.pae === true));
}

/**
 * mem_init() → swiotlb_init() (6.1, kernel/dma/swiotlb.c swiotlb_init_remap()) where the kernel decides it needs bounce
 * buffers: x86's pci_iommu_alloc() when RAM reaches above 4 GiB (pci_swiotlb_detect(): max_possible_pfn >
 * MAX_DMA32_PFN), on x86_64 and on 686-pae (arch/x86/Kconfig: X86_PAE selects SWIOTLB, dropped in 6.14 with HIGHMEM64G;
 * the 686 non-PAE kernel has none); arm64's mem_init() likewise, swiotlb_init(max_pfn > PFN_DOWN(arm64_dma_phys_limit)),
 * the DMA zone's limit being 4 GiB on QEMU virt (zone_dma_bits 32, RAM from 1 GiB). The bounce buffer comes from
 * memblock_alloc_low() (below ARCH_LOW_ADDRESS_LIMIT, 4 GiB on x86, arm64_dma_phys_limit on arm64, and
 * memblock_alloc_internal() clamps it to memblock.current_limit: the top of lowmem on 686-pae, so the 64 MiB come out
 * of LowFree), then its slot array (struct io_tlb_slot { phys_addr_t orig_addr; size_t alloc_size; unsigned int list; }:
 * 24 bytes a slab on 64-bit, 16 with PAE's 64-bit phys_addr_t, page aligned) and one io_tlb_area { unsigned long used;
 * unsigned int index; spinlock_t lock; } (16 bytes, 12 on 32-bit) per possible CPU, rounded up to a power of two.
 * swiotlb_print_info() says where: arm64 at once (SWIOTLB_VERBOSE); x86 passes no flags and says it at
 * rootfs_initcall pci_iommu_init() (swiotlbInitcallLines). ARM (armmp) does not call it at boot.
 */
export function pci_iommu_alloc(k: EarlyHost & { profile: { nrCpus: number; pae?: boolean }; layout: { maxLowPfn?: number } }): void {
  const arch = k.profile.arch;
  if (!hasSwiotlb(k.profile) || k.layout.maxPfn <= 0x100000) return;
  const mb = Memblock.over(k.layout.memory, k.layout.reservations);
  const bytes = IO_TLB_NSLABS << 11;
  const bits64 = arch !== "i386";
  const limit = bits64 ? 0x100000000 : Math.min(0x100000000, (k.layout.maxLowPfn || k.layout.maxPfn) * PAGE_SIZE);
  const tlb = mb.alloc(bytes, PAGE_SIZE, "swiotlb", limit);
  mb.alloc(alignUp((bits64 ? 24 : 16) * IO_TLB_NSLABS, PAGE_SIZE), PAGE_SIZE, "swiotlb slots", limit);
  const nareas = 2 ** Math.ceil(Math.log2(Math.max(1, k.profile.nrCpus)));
  mb.alloc((bits64 ? 16 : 12) * nareas, bits64 ? 64 : 32 /* 686's SMP_CACHE_BYTES */, "swiotlb areas", limit);
  if (arch === "arm64") swiotlb_print_info(k, tlb);
}

/** swiotlb_print_info() (pr_fmt "software IO TLB: "; %pa of a 64-bit phys_addr_t). */
function swiotlb_print_info(k: EarlyHost, start: number): void {
  const pa = (v: number) => "0x" + v.toString(16).padStart(16, "0");
  const bytes = IO_TLB_NSLABS << 11;
  k.printk("\u00016software IO TLB: mapped [mem %s-%s] (%luMB)\n", pa(start), pa(start + bytes), bytes >> 20);
}

/**
 * x86's rootfs_initcall pci_iommu_init() (arch/x86/kernel/pci-dma.c, 6.1): with the bounce buffer in use, "PCI-DMA: Using
 * software bounce buffering for IO (SWIOTLB)" and swiotlb_print_info()'s line (else swiotlb_exit(), which frees nothing
 * that was never allocated).
 */
export function pci_iommu_init(k: EarlyHost): void {
  if (k.profile.arch !== "x86_64" && k.profile.arch !== "i386") return;
  const tlb = k.layout.reservations.find((r) => r.what === "swiotlb");
  if (!tlb) return;
  k.printk("\u00016PCI-DMA: Using software bounce buffering for IO (SWIOTLB)\n");
  swiotlb_print_info(k, tlb.start);
}

/**
 * mem_init() → preallocate_vmalloc_pages() (arch/x86/mm/init_64.c, x86_64 6.1), after memblock_free_all() and before
 * mem_init_print_info(): a PUD page (a P4D page with LA57) under every PGD entry of [VMALLOC_START, VMEMORY_END], from
 * the page allocator. The count; the page tables (mm/pgtable.ts) take these very pages when they are built.
 */
export function vmallocPreallocCount(k: {
  profile: { arch: string; era: string };
  layout: { vmallocStart: bigint; vmallocEnd: bigint; pgtableLevels?: number };
}): number {
  if (k.profile.arch !== "x86_64" || k.profile.era !== "6.1") return 0;
  const shift = k.layout.pgtableLevels === 5 ? 48n : 39n;
  return Number((k.layout.vmallocEnd >> shift) - (k.layout.vmallocStart >> shift)) + 1;
}
