// Models arch/x86/kernel/setup.c + arch/x86/mm/init_32.c (find_low_pfn_range, initmem_init) and
// arch/x86/include/asm/pgtable_32_areas.h of Linux 6.1 (Debian's non-PAE 686 kernel on QEMU pc), and the
// 2.6.26 ancestors: arch/x86/kernel/setup_32.c (find_max_low_pfn, setup_memory), include/asm-x86/pgtable_32.h.
//
// Formulas (kernel-facts §1.1):
// - 6.1: VMALLOC_END = PKMAP_BASE - 2*PAGE_SIZE; PKMAP_BASE = (LDT_BASE_ADDR - PAGE_SIZE) & PMD_MASK;
//   LDT_BASE_ADDR = (CPU_ENTRY_AREA_BASE - PAGE_SIZE) & PMD_MASK; MAXMEM = VMALLOC_END - PAGE_OFFSET -
//   __VMALLOC_RESERVE (128 MiB, or vmalloc=N + 8 MiB); VMALLOC_START = high_memory + VMALLOC_OFFSET (8 MiB).
//   CPU_ENTRY_AREA_BASE (0xff400000) and FIXADDR_START (0xffdb8000) are Debian's config (NR_CPUS=32),
//   taken from the reference boot; PMD_SIZE is 4 MiB (2-level paging, no PAE).
// - 2.6.26: MAXMEM = -PAGE_OFFSET - __VMALLOC_RESERVE (exactly 896 MiB); vmalloc=N sets __VMALLOC_RESERVE = N;
//   VMALLOC_START = (high_memory + 2*VMALLOC_OFFSET - 1) & ~(VMALLOC_OFFSET - 1); VMALLOC_END = PKMAP_BASE -
//   2*PAGE_SIZE; PKMAP_BASE = (FIXADDR_BOOT_START - PAGE_SIZE*(LAST_PKMAP + 1)) & PMD_MASK; the fixmap has
//   177 permanent pages (708 kB, as the era's boot logs print) and 256 boot-time ones (FIX_BTMAPS).
// - highmem=N (both eras) and the lowmem/highmem split with their messages; RAM beyond 4 GiB: the 6.1 kernel's
//   e820_end_pfn() stops at max_arch_pfn (QEMU puts RAM above 4 GiB only from 3.5 GiB of RAM on, split at
//   3 GiB, so that RAM is silently unused); the 2.6 kernel counts it and prints "Warning only 4GB will be
//   used." (the 2.6 board is QEMU 0.9's pc, which splits at 3.5 GiB).
// PAE (Debian's 686-pae flavour, CONFIG_X86_PAE + HIGHMEM64G): PMD_SIZE is 2 MiB (3-level paging: PGD of 4
//   entries, PMD, PTE, 8-byte entries) and LAST_PKMAP 512, so LDT_BASE_ADDR, PKMAP_BASE and VMALLOC_END are
//   aligned to 2 MiB instead of 4: with the same CPU_ENTRY_AREA_BASE (0xff400000: the fixmap is the same size and
//   (FIXADDR_TOT_START - PAGE_SIZE*(CPU_ENTRY_AREA_PAGES+1)) lies in [0xff400000, 0xff600000), so both masks give
//   it), LDT_BASE_ADDR = 0xff200000, PKMAP_BASE = 0xff000000, VMALLOC_END = 0xfeffe000, and lowmem grows by 4 MiB
//   (879 MB). MAX_ARCH_PFN is 1 << (36 - PAGE_SHIFT): RAM above 4 GiB is highmem. QEMU's default CPU has no NX,
//   so the PAE kernel prints the same "NX ... missing in CPU!" notice and its PTEs carry no NX bit.
// Boards: 6.1 = QEMU pc + SeaBIOS (common.ts), initrd 0x11c045 bytes as in the reference (QEMU loads it at the
// top of low RAM; above lowmem the kernel moves it down). 2.6 = QEMU 0.9 pc + Bochs BIOS: EBDA at 0x9fc00,
// BIOS at 0xe8000, ACPI tables in the top 64 KiB of RAM, no initrd (root=/dev/hda1).
// KASLR (6.1, CONFIG_RANDOMIZE_BASE=y in Debian's 686 config; arch/kaslr.ts): with a seed and without `nokaslr` the
// decompressor moves the image to a random 2 MiB-aligned slot below KERNEL_IMAGE_SIZE (512 MiB); on x86_32 the
// virtual address follows (PAGE_OFFSET + physical). 2.6.26 had no KASLR (it came in 3.14).
// Reservations: 6.1 reserves the first 1 MiB, the image [16 MiB, __end_of_kernel_reserve), the brk area (head32.c's
// early page tables, DMI's strings, the 6-page early page-table buffer), the initrd, mem_map (FLATMEM, 40-byte struct
// page, top-down in lowmem) with the zones' usemaps, setup_arch()'s resources, the command line copies and percpu (33
// pages) with its metadata, all below the lowmem limit (arch/early_memblock.ts has each one's size); 2.6's bootmem
// reserves page 0, the EBDA page, the image, head.S page tables, the bootmem bitmap and mem_map (32-byte
// struct page, bottom-up from 16 MiB).

import type { ImageSection, Layout, MemMapEntry, VirtRegion, ZoneSpec } from "../types.ts";
import { chooseRandomLocation, LOAD_PHYSICAL_ADDR } from "./kaslr.ts";
import { i386EarlyPtePages, pcpuEmbedFirstChunk, setupCommandLine, x86BrkPages, x86E820Allocs } from "./early_memblock.ts";
import { pcpuFirstChunk } from "../mm/percpu_first_chunk.ts";
import { shiftImage, type ImagePhys } from "./x86_64.ts";
import {
  type ArchKernel,
  KERN_ERR,
  KERN_INFO,
  KERN_NOTICE,
  KERN_WARNING,
  Memblock,
  PAGE_SIZE,
  SZ_1G,
  SZ_1M,
  alignDown,
  alignUp,
  bootError,
  checkRamSize,
  e820LimitRam,
  hex,
  pageAlignRanges,
  printE820Modern,
  printE820Old,
  qemuInitrdAddr,
  qemuPcE820,
  sizeParam,
  usableRanges,
  x86ReserveInitrd,
  x86TrimBios,
} from "./common.ts";

const MiB = SZ_1M;
/**
 * SMP_CACHE_BYTES of Debian's 686 build: CONFIG_X86_GENERIC makes X86_L1_CACHE_SHIFT 6 (the CPU's own cache alignment,
 * SLUB's HWalign, is 32 on QEMU's CPU; memblock_alloc(..., SMP_CACHE_BYTES) uses the build's).
 */
const CACHE = 64;
export const PAGE_OFFSET = 0xc0000000;
export const VMALLOC_OFFSET = 8 * MiB;
const PMD_SIZE = 4 * MiB; // non-PAE: the PMD is folded into the 4 MiB PGD
export const LAST_PKMAP = 1024;
export const FIXADDR_TOP = 0xfffff000;
const MAX_NONPAE_PFN = 1 << 20;
const MAX_PAE_PFN = 1 << 24;
/** KERNEL_IMAGE_SIZE on x86_32 (page_32_types.h): the decompressor's mem_limit for KASLR. */
const KERNEL_IMAGE_SIZE = 512 * MiB;

// 6.1 (Debian 686, NR_CPUS=32)
export const CPU_ENTRY_AREA_BASE_61 = 0xff400000;
export const FIXADDR_START_61 = 0xffdb8000;
export const LDT_BASE_ADDR_61 = (CPU_ENTRY_AREA_BASE_61 - PAGE_SIZE) & ~(PMD_SIZE - 1);
export const PKMAP_BASE_61 = ((LDT_BASE_ADDR_61 - PAGE_SIZE) & ~(PMD_SIZE - 1)) >>> 0;
export const VMALLOC_END_61 = PKMAP_BASE_61 - 2 * PAGE_SIZE;
// 6.1 PAE (Debian 686-pae): the same CPU_ENTRY_AREA_BASE, 2 MiB PMDs.
const PMD_SIZE_PAE = 2 * MiB;
export const LAST_PKMAP_PAE = 512;
export const LDT_BASE_ADDR_PAE = (CPU_ENTRY_AREA_BASE_61 - PAGE_SIZE) & ~(PMD_SIZE_PAE - 1);
export const PKMAP_BASE_PAE = ((LDT_BASE_ADDR_PAE - PAGE_SIZE) & ~(PMD_SIZE_PAE - 1)) >>> 0;
export const VMALLOC_END_PAE = PKMAP_BASE_PAE - 2 * PAGE_SIZE;

// 2.6.26
const FIX_PERMANENT_26 = 177;
const FIX_BOOT_26 = 256;
export const FIXADDR_START_26 = FIXADDR_TOP - FIX_PERMANENT_26 * PAGE_SIZE;
const FIXADDR_BOOT_START_26 = FIXADDR_START_26 - FIX_BOOT_26 * PAGE_SIZE;
export const PKMAP_BASE_26 = ((FIXADDR_BOOT_START_26 - PAGE_SIZE * (LAST_PKMAP + 1)) & ~(PMD_SIZE - 1)) >>> 0;
export const VMALLOC_END_26 = PKMAP_BASE_26 - 2 * PAGE_SIZE;

/** Debian 6.1.0-50-686's image (physical), from the reference /proc/iomem and Memory: line. */
export const I386_61_IMAGE = {
  text: [0x1000000, 0x191bc80],
  rodata: [0x191c000, 0x1c39000],
  data: [0x1c39000, 0x1d70bc0],
  init: 912 * 1024,
  bss: [0x1e72000, 0x1ee6000],
} as const;
export const I386_61_INITRD_SIZE = 0x11c045;
/** An era-typical 2.6.26 i386 image at 1 MiB (sizes as in the era's boot logs). */
export const I386_26_IMAGE = {
  text: [0x100000, 0x2fa8a4],
  rodata: [0x2fb000, 0x352000],
  data: [0x352000, 0x3a4f84],
  init: 236 * 1024,
  bss: [0x3e0000, 0x452de8],
} as const;

export function setupI386(k: ArchKernel): Layout {
  const p = k.profile;
  const old = p.era === "2.6";
  const pae = !old && p.pae === true;
  const maxArchPfn = pae ? MAX_PAE_PFN : MAX_NONPAE_PFN;
  const pmdSize = pae ? PMD_SIZE_PAE : PMD_SIZE;
  const lastPkmap = pae ? LAST_PKMAP_PAE : LAST_PKMAP;
  const ldtBase = pae ? LDT_BASE_ADDR_PAE : LDT_BASE_ADDR_61;
  // below this the image check refuses anyway; between it and a bootable size the allocators decide (mm/oom_boot.ts)
  const minRam = 16 * MiB;
  checkRamSize(p, k.opts.mem, minRam, 64 * SZ_1G, "a 32-bit PC can hold (36-bit physical addresses)");
  const mem = alignDown(k.opts.mem, PAGE_SIZE);

  k.printk(KERN_NOTICE + "%s\n", p.versionString);
  const bios = old ? bochsE820(mem) : qemuPcE820(mem, false);
  k.printk(KERN_INFO + "BIOS-provided physical RAM map:\n");
  if (old) printE820Old(k, "BIOS-e820", bios);
  else printE820Modern(k, "BIOS-e820", bios);

  // parse_early_param(): mem=, highmem=, vmalloc=.
  let map: MemMapEntry[] = bios;
  let userdef = false;
  const memLimit = sizeParam(k.params, "mem");
  if (memLimit !== undefined) {
    if (memLimit === 0) k.printk(KERN_WARNING + "Malformed early option 'mem'\n");
    else {
      map = e820LimitRam(map, memLimit);
      userdef = true;
    }
  }
  const hm = sizeParam(k.params, "highmem");
  let highmemPages = hm === undefined ? -1 : Math.floor(hm / PAGE_SIZE);
  const vm = sizeParam(k.params, "vmalloc");
  // 6.1 parse_vmalloc(): memparse + VMALLOC_OFFSET; 2.6.26: memparse alone. Default 128 MiB.
  const vmallocReserve = vm === undefined ? 128 * MiB : old ? vm : vm + VMALLOC_OFFSET;

  if (!old) k.printk(KERN_NOTICE + "Notice: NX (Execute Disable) protection missing in CPU!\n");
  if (userdef) {
    k.printk(KERN_INFO + "user-defined physical RAM map:\n");
    if (old) printE820Old(k, "user", map);
    else printE820Modern(k, "user", map);
  }
  if (!old) {
    k.printk(KERN_INFO + "SMBIOS 2.8 present.\n");
    k.printk(KERN_INFO + "DMI: %s\n", p.board);
    map = x86TrimBios(k, map, true);
  }

  // max_pfn: 6.1 e820_end_pfn(max_arch_pfn) skips RAM starting at or above 4 GiB; 2.6.26 counts all of it.
  const usable = usableRanges(map);
  let maxPfn: number;
  if (old) maxPfn = Math.floor(usable[usable.length - 1].end / PAGE_SIZE);
  else {
    maxPfn = 0;
    for (const r of usable) {
      const s = Math.floor(r.start / PAGE_SIZE);
      const e = Math.floor(r.end / PAGE_SIZE);
      if (s >= maxArchPfn) continue;
      maxPfn = Math.max(maxPfn, Math.min(e, maxArchPfn));
    }
    k.printk(KERN_INFO + "last_pfn = 0x%s max_arch_pfn = 0x%s\n", hex(maxPfn), hex(maxArchPfn));
  }

  // find_low_pfn_range() (6.1) / find_max_low_pfn() (2.6.26).
  const vmallocEnd = old ? VMALLOC_END_26 : pae ? VMALLOC_END_PAE : VMALLOC_END_61;
  const maxmem = old ? 0x100000000 - PAGE_OFFSET - vmallocReserve : vmallocEnd - PAGE_OFFSET - vmallocReserve;
  if (maxmem < 32 * MiB) {
    bootError(`${p.name}: vmalloc=${k.params.get("vmalloc")} leaves ${Math.max(0, maxmem) >> 20} MB of lowmem, too little to boot`);
  }
  const maxmemPfn = Math.floor(maxmem / PAGE_SIZE);
  const mb = (pages: number) => Math.floor(pages / 256); // pages_to_mb
  let maxLowPfn: number;
  if (maxPfn <= maxmemPfn) {
    // lowmem_pfn_init(): all RAM fits; highmem=N carves highmem out of it on request.
    maxLowPfn = maxPfn;
    if (highmemPages === -1) highmemPages = 0;
    if (highmemPages >= maxPfn) {
      if (old) k.printk(KERN_ERR + "highmem size specified (%uMB) is bigger than pages available (%luMB)!.\n", mb(highmemPages), mb(maxPfn));
      else k.printk(KERN_ERR + "highmem size (%luMB) is bigger than pages available (%luMB)!\n", mb(highmemPages), mb(maxPfn));
      highmemPages = 0;
    }
    if (highmemPages) {
      if (maxLowPfn - highmemPages < (64 * MiB) / PAGE_SIZE) {
        if (old) k.printk(KERN_ERR + "highmem size %uMB results in smaller than 64MB lowmem, ignoring it.\n", mb(highmemPages));
        else k.printk(KERN_ERR + "highmem size (%luMB) results in <64MB lowmem, ignoring it!\n", mb(highmemPages));
        highmemPages = 0;
      }
      maxLowPfn -= highmemPages;
    }
  } else {
    // highmem_pfn_init(): lowmem is MAXMEM, the rest is highmem (trimmed by highmem=N, and to 4 GiB).
    maxLowPfn = maxmemPfn;
    if (highmemPages === -1) highmemPages = maxPfn - maxmemPfn;
    if (highmemPages + maxmemPfn < maxPfn) maxPfn = maxmemPfn + highmemPages;
    if (highmemPages + maxmemPfn > maxPfn) {
      if (old) k.printk(KERN_WARNING + "only %luMB highmem pages available, ignoring highmem size of %uMB.\n", mb(maxPfn - maxmemPfn), mb(highmemPages));
      else k.printk(KERN_WARNING + "only %luMB highmem pages available, ignoring highmem size of %luMB!\n", mb(maxPfn - maxmemPfn), mb(highmemPages));
      highmemPages = 0; // eslint-disable-line no-useless-assignment -- highmem_pfn_init() resets the global highmem_pages
    }
    if (maxPfn > maxArchPfn) {
      maxPfn = maxArchPfn;
      if (old) {
        k.printk(KERN_WARNING + "Warning only 4GB will be used.\n");
        k.printk(KERN_WARNING + "Use a PAE enabled kernel.\n");
      } else k.printk(KERN_WARNING + "Warning: only 4GB will be used. Use a HIGHMEM64G enabled kernel!\n");
    }
  }

  // memblock (6.1) / bootmem (2.6): RAM the kernel can address (a non-PAE kernel has 32-bit physical addresses).
  const memory = pageAlignRanges(usable)
    .map((r) => ({ start: r.start, end: Math.min(r.end, maxPfn * PAGE_SIZE) }))
    .filter((r) => r.end > r.start);
  // 6.1 e820__memblock_setup() adds every RAM entry whose end fits resource_size_t (u32 without PAE: QEMU's RAM above
  // 4 GiB starts there, so it is left out; u64 with PAE) and nothing trims memblock to max_pfn afterwards (6.15's
  // memblock_remove(PFN_PHYS(MAX_NONPAE_PFN), -1) is not in 6.1): a highmem= below the RAM, or PAE RAM beyond 64 GiB,
  // stays in memblock.memory, which free_area_init() prints, while the zones end at max_pfn.
  const memblockMemory = old ? undefined : pageAlignRanges(usable.filter((r) => pae || r.end <= 0x100000000));
  const blk = new Memblock();
  for (const r of memory) blk.add(r.start, r.end);
  const below4g = mem >= 0xe0000000 ? 0xc0000000 : mem;
  const initrdAt = qemuInitrdAddr(below4g, I386_61_INITRD_SIZE, 0x7fffffff);
  const kaslr = old
    ? undefined
    : chooseRandomLocation(
        {
          e820: bios,
          imageSize: I386_61_IMAGE.bss[1] - I386_61_IMAGE.text[0],
          memLimit: KERNEL_IMAGE_SIZE,
          memParam: memLimit,
          initrd: { start: initrdAt, end: initrdAt + I386_61_INITRD_SIZE },
        },
        k.opts.seed,
        k.params.has("nokaslr"),
      );
  const img: ImagePhys = old ? I386_26_IMAGE : kaslr ? shiftImage(I386_61_IMAGE, kaslr.phys - LOAD_PHYSICAL_ADDR) : I386_61_IMAGE;
  const lowEnd = maxLowPfn * PAGE_SIZE;
  if (img.bss[1] + 4 * MiB > lowEnd) bootError(`${p.name}: lowmem ends at ${lowEnd >> 20} MB, below the kernel image`);

  if (old) {
    blk.reserve(0, PAGE_SIZE, "BIOS data page");
    blk.reserve(0x9f000, 0xa0000, "EBDA");
    blk.reserve(img.text[0], img.bss[1], "kernel image");
    const pg0End = alignUp(img.bss[1], PAGE_SIZE) + 2 * PAGE_SIZE; // head.S pg0: two PTE pages after _end
    blk.reserve(alignUp(img.bss[1], PAGE_SIZE), pg0End, "page tables");
    blk.reserve(pg0End, pg0End + alignUp(Math.ceil(maxLowPfn / 8), PAGE_SIZE), "bootmem bitmap");
  } else {
    blk.reserve(0, SZ_1M, "first 1 MiB (BIOS, real-mode trampoline)");
    blk.reserve(img.text[0], img.bss[1], "kernel image");
    // reserve_brk(): head32.c's early PTE pages, DMI's strings, early_alloc_pgt_buf()'s 6 pages (early_memblock.ts);
    // init_mem_mapping(), the fixmap, pkmap and CPU entry area tables come from that buffer.
    blk.limit = lowEnd; // memblock_set_current_limit(get_max_mapped()) after init_mem_mapping()
    const brk = x86BrkPages({ earlyPtePages: i386EarlyPtePages(img.bss[1], pae), la57Config: false, randomizeMemory: false });
    blk.reserve(img.bss[1], img.bss[1] + brk * PAGE_SIZE, "brk");
    x86ReserveInitrd(k, blk, initrdAt, I386_61_INITRD_SIZE, lowEnd);
  }

  // initmem_init() (6.1) / setup_memory() (2.6): the split, and high_memory.
  const highstartPfn = maxPfn > maxLowPfn ? maxLowPfn : maxPfn;
  k.printk(KERN_NOTICE + "%ldMB HIGHMEM available.\n", mb(maxPfn - highstartPfn));
  k.printk(KERN_NOTICE + "%ldMB LOWMEM available.\n", mb(maxLowPfn));
  if (!old) {
    k.printk(KERN_INFO + "  mapped low ram: 0 - %s\n", hex(lowEnd, 8));
    k.printk(KERN_INFO + "  low ram: 0 - %s\n", hex(lowEnd, 8));
  }
  const highMemory = PAGE_OFFSET + highstartPfn * PAGE_SIZE;

  // free_area_init(): FLATMEM mem_map over the node, MAX_ORDER aligned; percpu.
  const firstPfn = memory[0].start / PAGE_SIZE;
  const mapPages = alignUp(maxPfn, 1 << (p.maxOrder - 1)) - alignDown(firstPfn, 1 << (p.maxOrder - 1));
  if (old) {
    blk.allocBottomUp(mapPages * 32, PAGE_SIZE, "mem_map", 16 * MiB, lowEnd);
    blk.allocBottomUp(5 * PAGE_SIZE * p.nrCpus, PAGE_SIZE, "percpu", 16 * MiB, lowEnd);
  } else {
    blk.alloc(mapPages * 40, 64, "mem_map", lowEnd);
    // free_area_init_core() → setup_usemap(): each zone's pageblock flags (4 bits a pageblock, in longs)
    const pageblock = pae ? 512 : 1024;
    const zoneSpans = [
      [firstPfn, Math.min(4096, maxLowPfn)],
      [Math.min(4096, maxLowPfn), maxLowPfn],
      [maxLowPfn, Math.max(maxPfn, maxLowPfn)],
    ];
    for (const [zs, ze] of zoneSpans) {
      if (ze <= zs) continue;
      const blocks = alignUp(ze - zs + (zs & (pageblock - 1)), pageblock) / pageblock;
      blk.alloc(alignUp(blocks * 4, 32) / 8, CACHE, "usemap", lowEnd);
    }
    // acpi_boot_init()'s HPET resource, io_apic_init_mappings(), the e820 resources and nosave regions
    const res = pae ? 40 : 32;
    blk.alloc(res + 9, CACHE, "hpet resource", lowEnd);
    blk.alloc(res + 11, CACHE, "ioapic resources", lowEnd);
    x86E820Allocs(blk, { table: map, firmware: bios, maxPfn, bits: 32, cache: CACHE, resourceSize: res });
    // start_kernel(): setup_command_line(), setup_per_cpu_areas() (embedded first chunk, page atoms, above 16 MiB)
    setupCommandLine(blk, k.opts.cmdline, CACHE);
    pcpuEmbedFirstChunk(blk, pcpuFirstChunk("i386", p.nrCpus), { nrCpus: p.nrCpus, bits: 32, cache: CACHE }, () => {
      blk.alloc(33 * PAGE_SIZE * p.nrCpus, PAGE_SIZE, "percpu", lowEnd, 16 * MiB);
    });
  }

  const vmallocStart = old ? (highMemory + 2 * VMALLOC_OFFSET - 1) & ~(VMALLOC_OFFSET - 1) : highMemory + VMALLOC_OFFSET;
  const pkmapBase = old ? PKMAP_BASE_26 : pae ? PKMAP_BASE_PAE : PKMAP_BASE_61;
  const fixaddrStart = old ? FIXADDR_START_26 : FIXADDR_START_61;
  if (vmallocStart >= vmallocEnd) bootError(`${p.name}: no room left for vmalloc (VMALLOC_START >= VMALLOC_END)`);

  const B = (n: number) => BigInt(n >>> 0);
  const regions: VirtRegion[] = [
    { name: "user", start: 0n, end: B(PAGE_OFFSET), kind: "user" },
    { name: "lowmem", start: B(PAGE_OFFSET), end: B(highMemory), kind: "linear" },
    { name: "vmalloc gap", start: B(highMemory), end: B(vmallocStart), kind: "gap" },
    { name: "vmalloc", start: B(vmallocStart), end: B(vmallocEnd), kind: "vmalloc" },
    { name: "vmalloc guard", start: B(vmallocEnd), end: B(pkmapBase), kind: "gap" },
    { name: "pkmap", start: B(pkmapBase), end: B(pkmapBase + lastPkmap * PAGE_SIZE), kind: "pkmap" },
  ];
  if (old) {
    regions.push({ name: "boot-time fixmap", start: B(pkmapBase + LAST_PKMAP * PAGE_SIZE), end: B(fixaddrStart), kind: "other" });
  } else {
    regions.push({ name: "LDT remap", start: B(ldtBase), end: B(ldtBase + pmdSize), kind: "other" });
    regions.push({ name: "cpu_entry_area", start: B(CPU_ENTRY_AREA_BASE_61), end: B(fixaddrStart), kind: "other" });
  }
  regions.push({ name: "fixmap", start: B(fixaddrStart), end: B(FIXADDR_TOP), kind: "fixmap" });

  const zones: ZoneSpec[] = [
    { name: "DMA", startPfn: firstPfn, endPfn: Math.min(4096, maxLowPfn) },
    { name: "Normal", startPfn: Math.min(4096, maxLowPfn), endPfn: maxLowPfn },
    { name: "HighMem", startPfn: maxLowPfn, endPfn: Math.max(maxPfn, maxLowPfn) },
  ];

  return {
    bits: 32,
    pageShift: 12,
    pageSize: PAGE_SIZE,
    pageOffset: B(PAGE_OFFSET),
    physOffset: 0,
    highMemory: B(highMemory),
    vmallocStart: B(vmallocStart),
    vmallocEnd: B(vmallocEnd),
    modulesVaddr: B(vmallocStart), // MODULES_VADDR = VMALLOC_START on x86_32
    modulesEnd: B(vmallocEnd),
    pkmapBase: B(pkmapBase),
    lastPkmap,
    pgtableLevels: pae ? 3 : 2,
    fixaddrStart: B(fixaddrStart),
    fixaddrTop: B(FIXADDR_TOP),
    regions,
    image: imageSections(img),
    memMap: map,
    memory: blk.memory,
    memblockMemory,
    reservations: blk.reserved,
    zones,
    minLowPfn: firstPfn,
    maxLowPfn,
    maxPfn,
  };
}

/** The Bochs BIOS e820 of QEMU 0.9's pc machine (2008): ACPI tables in the top 64 KiB of low RAM. */
export function bochsE820(mem: number): MemMapEntry[] {
  const below = mem >= 0xe0000000 ? 0xe0000000 : mem;
  const map: MemMapEntry[] = [
    { start: 0, end: 0x9fc00, type: "usable" },
    { start: 0x9fc00, end: 0xa0000, type: "reserved" },
    { start: 0xe8000, end: 0x100000, type: "reserved" },
    { start: 0x100000, end: below - 0x10000, type: "usable" },
    { start: below - 0x10000, end: below, type: "ACPI data" },
    { start: 0xfffc0000, end: 0x100000000, type: "reserved" },
  ];
  if (mem > below) map.push({ start: 0x100000000, end: 0x100000000 + (mem - below), type: "usable" });
  return map;
}

function imageSections(img: ImagePhys): ImageSection[] {
  const v = (phys: number) => BigInt(PAGE_OFFSET + phys);
  const initStart = alignUp(img.data[1], PAGE_SIZE);
  const sec = (name: ImageSection["name"], s: number, e: number): ImageSection => ({ name, start: v(s), end: v(e), phys: s });
  return [
    sec(".text", img.text[0], img.text[1]),
    sec(".rodata", img.rodata[0], img.rodata[1]),
    sec(".data", img.data[0], img.data[1]),
    sec(".init", initStart, initStart + img.init),
    sec(".bss", img.bss[0], img.bss[1]),
  ];
}
