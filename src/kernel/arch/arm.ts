// Models arch/arm/kernel/setup.c setup_arch(), arch/arm/mm/mmu.c (early_vmalloc, adjust_lowmem_bounds in 6.1;
// sanity_check_meminfo in 3.4), arch/arm/mm/init.c (arm_memblock_init, mem_init) and asm/memory.h, pgtable.h,
// highmem.h, fixmap.h of Linux 6.1 (Debian armmp on QEMU virt) and 3.4.0 (a Qualcomm MSM8x25 phone).
//
// Common formulas: PAGE_OFFSET 0xc0000000 (3G/1G); MODULES_VADDR = PAGE_OFFSET - 16 MiB; with HIGHMEM,
// PKMAP_BASE = MODULES_END = PAGE_OFFSET - PMD_SIZE (2 MiB), LAST_PKMAP 512; VMALLOC_OFFSET 8 MiB;
// VMALLOC_START = (high_memory + VMALLOC_OFFSET) & ~(VMALLOC_OFFSET - 1); high_memory = __va(lowmem_limit - 1) + 1.
//
// 6.1 (Debian armmp, QEMU virt): VMALLOC_END 0xff800000; vmalloc_size 240 MiB (vmalloc=N clamped to
// [16 MiB, VMALLOC_END - (PAGE_OFFSET + 32 MiB + VMALLOC_OFFSET)] with the "MiB" warnings);
// lowmem limit = VMALLOC_END - vmalloc_size - VMALLOC_OFFSET - PAGE_OFFSET + PHYS_OFFSET. RAM is one DT
// memory node at PHYS_OFFSET 0x40000000; the non-LPAE kernel ignores RAM beyond 4 GiB (drivers/of/fdt.c).
// The image is Debian's (TEXT_OFFSET 0x208000 because multiplatform includes MSM8960; sizes from the real
// Memory: line and /proc/iomem). Reservations: swapper_pg_dir (16 KiB below _text), the image from _stext (the
// 1 MiB-aligned .text: .head.text below it is not reserved), the initrd at PHYS_OFFSET + min(RAM/2, 128 MiB) (QEMU's
// arm_load_kernel; 956K as the reference initramfs), the DTB after it (QEMU's 1 MiB fdt_totalsize), CMA 16 MiB
// (highmem first, as cma_declare_contiguous_nid does), paging_init()'s vectors, PTE tables and zero page, mem_map
// (FLATMEM, 36-byte struct page, top-down in lowmem) with the usemaps, the RAM resource, the unflattened device tree,
// the command line copies and percpu (18 pages) with its metadata.
//
// 3.4 (MSM8x25): VMALLOC_END 0xff000000; vmalloc_min = VMALLOC_END - 240 MiB - VMALLOC_OFFSET by default,
// VMALLOC_END - N with vmalloc=N (clamped to [16 MiB, VMALLOC_END - (PAGE_OFFSET + 32 MiB)] with the era's
// "MB" warnings); lowmem is RAM below __pa(vmalloc_min). The board (invented, typical of MSM7x27A/8x25):
// PHYS_OFFSET 0x00200000 (the modem owns the first 2 MiB), RAM in two EBI banks from 0, with the modem/ADSP
// firmware carve-out 0x0c000000-0x0fffffff absent from the ATAG memory banks. Derivation of the numbers in the
// brief: with 1 GiB and vmalloc=200M, vmalloc_min = 0xff000000 - 200 MiB = 0xf2800000, so lowmem is
// __va(0x00200000)..0xf2800000 = 808 MB (phys 0x00200000-0x32a00000, bank 1 split there, the rest highmem),
// VMALLOC_START = (0xf2800000 + 8 MiB) & ~(8 MiB - 1) = 0xf3000000: vmalloc 0xf3000000-0xff000000 = 192 MB.
// 3.4 ARM still used bootmem (bottom-up) for mem_map (32-byte struct page) and percpu. fixmap 0xfff00000-0xfffe0000.
// Simplification: the MSM board's ion/pmem carve-outs, which its board file removes from memblock, are not modelled.

import type { ImageSection, Layout, PhysRange, VirtRegion, ZoneSpec } from "../types.ts";
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
  clipRanges,
  hex,
  memparseValue,
} from "./common.ts";
import { memparse } from "../kernel/params.ts";
import { pcpuEmbedFirstChunk, setupCommandLine } from "./early_memblock.ts";
import { pcpuFirstChunk } from "../mm/percpu_first_chunk.ts";

const MiB = SZ_1M;
export const PAGE_OFFSET = 0xc0000000;
export const VMALLOC_OFFSET = 8 * MiB;
const PMD_SIZE = 2 * MiB;
export const LAST_PKMAP = 512;
export const MODULES_VADDR = PAGE_OFFSET - 16 * MiB;
export const MODULES_END = PAGE_OFFSET - PMD_SIZE; // CONFIG_HIGHMEM
export const PKMAP_BASE = PAGE_OFFSET - PMD_SIZE;
export const VECTORS_BASE = 0xffff0000;

export const VMALLOC_END_61 = 0xff800000;
export const FIXADDR_START_61 = 0xffc80000;
export const FIXADDR_END_61 = 0xfff00000;
export const VMALLOC_END_34 = 0xff000000;
export const FIXADDR_START_34 = 0xfff00000;
export const FIXADDR_TOP_34 = 0xfffe0000;

export const VIRT_PHYS_OFFSET = 0x40000000;
export const MSM_PHYS_OFFSET = 0x00200000;
/** The MSM8x25 modem/ADSP firmware carve-out, not in the memory banks the boot loader passes. */
export const MSM_CARVEOUT: PhysRange = { start: 0x0c000000, end: 0x10000000 };

/** Debian 6.1.0-50-armmp's image (physical; sizes from the reference Memory: line and /proc/iomem). */
export const ARM_61_IMAGE = {
  text: [0x40208000, 0x40d08000],
  rodata: [0x40e00000, 0x411a5000],
  init: [0x41200000, 0x41400000],
  data: [0x41400000, 0x415a9000],
  bss: [0x415a9040, 0x41607588],
} as const;
export const ARM_61_INITRD_SIZE = 0xeed9c; // page-aligned 956K, "Freeing initrd memory: 956K"
/**
 * fdt_totalsize() of the DTB QEMU's virt board builds: create_device_tree() opens it at FDT_MAX_SIZE (1 MiB) and
 * arm_load_dtb() loads it whole; early_init_fdt_reserve_self() reserves that much.
 */
const ARM_61_DTB_SIZE = 0x100000;

/** _stext of the 6.1 build: .text starts on the 1 MiB section after .head.text (CONFIG_STRICT_KERNEL_RWX). */
export function armStext(text: number): number {
  return alignUp(text + 1, MiB);
}

/**
 * The nodes of the tree QEMU's virt board builds for a 32-bit guest with one CPU and no -device (hw/arm/virt.c, QEMU
 * 7.2 as in Debian bookworm: create_fdt, the psci, memory, platform-bus, fw-cfg, 32 virtio-mmio transports, gpio-keys,
 * pl061, pcie, pl031, pl011, GICv2 with its v2m frame, flash, the cpus with their cpu-map, timer, apb-pclk and chosen
 * nodes), each with its number of properties. The kernel drops /chosen's rng-seed (fdt_nop_property) before unflattening.
 */
const VIRT_DT_NODES: readonly (readonly [string, number])[] = [
  ["", 5],
  ["psci", 6],
  ["memory@40000000", 2],
  ["platform-bus@c000000", 5],
  ["fw-cfg@9020000", 3],
  ...Array.from({ length: 32 }, (_, i) => [`virtio_mmio@a00${(i * 0x200).toString(16).padStart(4, "0")}`, 4] as const),
  ["gpio-keys", 1],
  ["poweroff", 3],
  ["pl061@9030000", 8],
  ["pcie@10000000", 13],
  ["pl031@9010000", 5],
  ["pl011@9000000", 5],
  ["intc@8000000", 8],
  ["v2m@8020000", 4],
  ["flash@0", 3],
  ["cpus", 2],
  ["cpu@0", 4],
  ["cpu-map", 0],
  ["socket0", 0],
  ["cluster0", 0],
  ["core0", 1],
  ["timer", 3],
  ["apb-pclk", 5],
  ["chosen", 5],
];

/**
 * The bytes unflatten_device_tree() takes from memblock for that tree (drivers/of/fdt.c, 6.1): per node a struct
 * device_node (108 bytes on 32-bit ARM, with the OF_KOBJ kobject) followed by its name, a struct property (52 bytes:
 * OF_DYNAMIC's flags, OF_KOBJ's bin_attribute) per property, and the "name" property populate_properties() makes from
 * the unit name, all 4-byte aligned; plus the 4-byte end marker.
 */
function unflattenedDtSize(): number {
  const a4 = (v: number) => alignUp(v, 4);
  let size = 0;
  for (const [name, props] of VIRT_DT_NODES) {
    size += a4(108 + name.length + 1) + props * 52 + a4(52 + name.split("@")[0]!.length + 1);
  }
  return size + 4;
}
const ARM_61_CMA = 16 * MiB;
/**
 * The msm8x25 3.4 image at PHYS_OFFSET + TEXT_OFFSET (0x8000): the seed's "Virtual kernel memory layout" gives
 * _text-_etext 0xc0008000-0xc0893034, .init 0xc0894000-0xc08cdc00, .data 0xc08ce000-0xc09f8eb8 and .bss
 * 0xc0a78eec-0xc0f427a8. Where code ends and rodata starts inside _text-_etext the seed does not say: 7 MiB of code
 * is assumed.
 */
export const ARM_34_IMAGE = {
  text: [0x00208000, 0x00908000],
  rodata: [0x00908000, 0x00a93034],
  init: [0x00a94000, 0x00acdc00],
  data: [0x00ace000, 0x00bf8eb8],
  bss: [0x00c78eec, 0x011427a8],
} as const;
export const ARM_34_INITRD = { start: 0x01200000, size: 0x5a3c0 }; // Android boot.img ramdisk at base + 16 MiB

export function setupArm(k: ArchKernel): Layout {
  const p = k.profile;
  const old = p.era !== "6.1";
  const physOffset = old ? MSM_PHYS_OFFSET : VIRT_PHYS_OFFSET;
  if (old) checkRamSize(p, k.opts.mem, 64 * MiB, 2 * SZ_1G, "the MSM8x25's two EBI chip selects address");
  else checkRamSize(p, k.opts.mem, 16 * MiB, 16 * SZ_1G, "QEMU virt gives a 32-bit guest (the simulator's limit)");
  const mem = alignDown(k.opts.mem, PAGE_SIZE);

  k.printk(KERN_INFO + "Booting Linux on physical CPU %s\n", old ? "0" : "0x0");
  k.printk(KERN_NOTICE + "%s\n", p.versionString);
  if (old) {
    k.printk(KERN_INFO + "CPU: ARMv7 Processor [410fc051] revision 1 (ARMv7), cr=10c53c7d\n");
    k.printk(KERN_INFO + "CPU: PIPT / VIPT nonaliasing data cache, VIPT aliasing instruction cache\n");
    k.printk(KERN_INFO + "Machine: %s\n", p.board);
  } else {
    k.printk(KERN_INFO + "CPU: ARMv7 Processor [414fc0f0] revision 0 (ARMv7), cr=10c5387d\n");
    k.printk(KERN_INFO + "CPU: div instructions available: patching division code\n");
    k.printk(KERN_INFO + "CPU: PIPT / VIPT nonaliasing data cache, PIPT instruction cache\n");
    k.printk(KERN_INFO + "OF: fdt: Machine model: %s\n", p.board);
  }

  // The board's RAM: ATAG banks (3.4 MSM) or the DT memory node (virt), then early_init_dt_add_memory_arch.
  let ram: PhysRange[];
  if (old) {
    ram = [{ start: MSM_PHYS_OFFSET, end: Math.min(mem, MSM_CARVEOUT.start) }];
    if (mem > MSM_CARVEOUT.end) ram.push({ start: MSM_CARVEOUT.end, end: mem });
  } else {
    let end = VIRT_PHYS_OFFSET + mem;
    if (end - 1 > 0xffffffff) {
      k.printk(KERN_WARNING + "OF: fdt: Ignoring memory range 0x%s - 0x%s\n", hex(0x100000000), hex(end));
      end = 0x100000000;
    }
    // memblock_add() -> memblock_cap_size(): size = min(size, PHYS_ADDR_MAX - base). armmp (no LPAE) has a 32-bit
    // phys_addr_t, so RAM reaching 4 GiB (3 GiB from 0x40000000) ends at 0xffffffff and its last page is lost to every
    // page-granular user (PFN_DOWN: max_pfn 0xfffff, the zones, the Memory: line, /proc/iomem's System RAM).
    if (end > 0xffffffff) end = alignDown(0xffffffff, PAGE_SIZE);
    ram = [{ start: VIRT_PHYS_OFFSET, end }];
  }
  const physical = ram.map((r) => ({ ...r }));

  // parse_early_param(): mem=size[@start] replaces the memory list (early_mem); vmalloc=.
  const memParam = k.params.get("mem");
  if (typeof memParam === "string") {
    const { value: size, rest } = memparse(memParam);
    const start = rest.startsWith("@") ? memparseValue(rest.slice(1)) : physOffset;
    // Simplification: the kernel trusts mem= blindly; here it is kept within the board's RAM.
    const limited = clipRanges(physical, start, start + size);
    if (limited.length) ram = limited;
  }

  const vmallocEnd = old ? VMALLOC_END_34 : VMALLOC_END_61;
  let lowmemLimit: number; // physical
  const vmParam = k.params.get("vmalloc");
  if (old) {
    let vmallocMin = VMALLOC_END_34 - 240 * MiB - VMALLOC_OFFSET;
    if (typeof vmParam === "string") {
      // memparse garbage gives 0 → clamped up to 16 MB with the warning, as the kernel does.
      let reserve = memparseValue(vmParam);
      if (reserve < 16 * MiB) {
        reserve = 16 * MiB;
        k.printk(KERN_WARNING + "vmalloc area too small, limiting to %luMB\n", reserve >> 20);
      }
      if (reserve > VMALLOC_END_34 - (PAGE_OFFSET + 32 * MiB)) {
        reserve = VMALLOC_END_34 - (PAGE_OFFSET + 32 * MiB);
        k.printk(KERN_WARNING + "vmalloc area is too big, limiting to %luMB\n", Math.floor(reserve / MiB));
      }
      vmallocMin = VMALLOC_END_34 - reserve;
    }
    lowmemLimit = vmallocMin - PAGE_OFFSET + physOffset;
  } else {
    let size = 240 * MiB;
    if (typeof vmParam === "string") {
      let reserve = memparseValue(vmParam);
      if (reserve < 16 * MiB) {
        reserve = 16 * MiB;
        k.printk(KERN_WARNING + "vmalloc area is too small, limiting to %luMiB\n", reserve >> 20);
      }
      const vmallocMax = VMALLOC_END_61 - (PAGE_OFFSET + 32 * MiB + VMALLOC_OFFSET);
      if (reserve > vmallocMax) {
        reserve = vmallocMax;
        k.printk(KERN_WARNING + "vmalloc area is too big, limiting to %luMiB\n", Math.floor(reserve / MiB));
      }
      size = reserve;
    }
    lowmemLimit = VMALLOC_END_61 - size - VMALLOC_OFFSET - PAGE_OFFSET + physOffset;
  }

  // build_mem_type_table()
  if (old) k.printk(KERN_INFO + "Memory policy: ECC disabled, Data cache writeback\n");
  else {
    k.printk(KERN_INFO + "Memory policy: Data cache writealloc\n");
    k.printk(KERN_INFO + "efi: UEFI not found.\n");
  }

  // adjust_lowmem_bounds() / sanity_check_meminfo(): lowmem = RAM below the limit; the rest is highmem.
  let armLowmemLimit = 0;
  for (const r of ram) if (r.start < lowmemLimit) armLowmemLimit = Math.max(armLowmemLimit, Math.min(lowmemLimit, r.end));
  if (armLowmemLimit === 0) bootError(`${p.name}: no lowmem (RAM starts above the vmalloc area)`);
  const maxLowPfn = armLowmemLimit / PAGE_SIZE;
  const maxPfn = ram[ram.length - 1].end / PAGE_SIZE;
  const highMemory = PAGE_OFFSET + (armLowmemLimit - physOffset);
  const vmallocStart = (highMemory + VMALLOC_OFFSET) & ~(VMALLOC_OFFSET - 1);

  // arm_memblock_init() and paging_init().
  const mb = new Memblock();
  for (const r of ram) mb.add(r.start, r.end);
  const img = old ? ARM_34_IMAGE : ARM_61_IMAGE;
  if (img.bss[1] + 4 * MiB > armLowmemLimit || !ram.some((r) => r.start <= img.text[0] && img.bss[1] <= r.end)) {
    bootError(`${p.name}: RAM (mem=${k.params.get("mem") ?? ""}) does not hold the kernel image`);
  }
  // arm_memblock_init(): memblock_reserve(__pa(KERNEL_START), KERNEL_END - KERNEL_START) with KERNEL_START = _stext. The
  // 6.1 build's .text starts on the next 1 MiB section after .head.text (CONFIG_STRICT_KERNEL_RWX; the real boot's
  // "static identity map for 0x40300000"), so [_text, _stext) is not reserved and goes to the buddy allocator.
  mb.reserve(old ? img.text[0] : armStext(img.text[0]), img.bss[1], "kernel image");
  mb.reserve(img.text[0] - 0x4000, img.text[0], "swapper_pg_dir");
  if (old) {
    const s = ARM_34_INITRD.start;
    if (ram.some((r) => r.start <= s && s + ARM_34_INITRD.size <= r.end)) mb.reserve(s, alignUp(s + ARM_34_INITRD.size, PAGE_SIZE), "initrd");
  } else {
    const initrd = VIRT_PHYS_OFFSET + Math.min(Math.floor(mem / 2), 128 * MiB);
    const end = alignUp(initrd + ARM_61_INITRD_SIZE, PAGE_SIZE);
    if (ram.some((r) => r.start <= initrd && end + ARM_61_DTB_SIZE <= r.end)) {
      mb.reserve(initrd, end, "initrd");
      mb.reserve(end, end + ARM_61_DTB_SIZE, "DTB");
    }
    // dma_contiguous_reserve(arm_dma_limit): highmem first if the range straddles lowmem's end, 8 MiB aligned
    // (max(MAX_ORDER_NR_PAGES, pageblock) pages). cma_declare_contiguous_nid(): limit = arm_dma_limit (0xffffffff: virt
    // has no dma_zone_size) & ~(alignment - 1) = 0xff800000, or memblock_end_of_DRAM() if that is lower, so a 3 GiB
    // machine's area ends 8 MiB below its RAM.
    const align = (1 << (p.maxOrder - 1)) * PAGE_SIZE;
    const ramEnd = ram[ram.length - 1].end;
    const cmaLimit = Math.min(alignDown(0xffffffff, align), ramEnd);
    let cma = -1;
    if (cmaLimit > armLowmemLimit) cma = mb.tryAlloc(ARM_61_CMA, align, "cma", cmaLimit, armLowmemLimit);
    if (cma < 0) cma = mb.tryAlloc(ARM_61_CMA, align, "cma", Math.min(cmaLimit, armLowmemLimit));
    // a machine too small for the area: cma_declare_contiguous_nid()'s error, and the boot goes on without CMA
    if (cma >= 0) k.printk(KERN_INFO + "cma: Reserved %ld MiB at 0x%s\n", ARM_61_CMA / MiB, hex(cma, 8));
    else k.printk(KERN_ERR + "cma: Failed to reserve %ld MiB\n", ARM_61_CMA / MiB);
  }
  if (old) {
    const lowPages = maxLowPfn - physOffset / PAGE_SIZE;
    mb.alloc(alignUp(Math.ceil(lowPages / 8), PAGE_SIZE), 32, "bootmem bitmap", armLowmemLimit);
    mb.allocBottomUp(2 * PAGE_SIZE, PAGE_SIZE, "vectors", 0, armLowmemLimit);
    mb.allocBottomUp(PAGE_SIZE, PAGE_SIZE, "page tables", 0, armLowmemLimit);
    const mapPages = alignUp(maxPfn, 1 << (p.maxOrder - 1)) - alignDown(physOffset / PAGE_SIZE, 1 << (p.maxOrder - 1));
    mb.allocBottomUp(mapPages * 32, 32, "mem_map", 0, armLowmemLimit);
    mb.allocBottomUp(8 * PAGE_SIZE * p.nrCpus, PAGE_SIZE, "percpu", 0, armLowmemLimit);
  } else {
    // paging_init(), after memblock_set_current_limit(arm_lowmem_limit): early_alloc(sz) is memblock_alloc(sz, sz).
    mb.limit = armLowmemLimit;
    // devicemaps_init(): the vector pages, the PTE table for the vectors at 0xffff0000 (the early fixmap's table was
    // cleared by early_fixmap_shutdown()), pci_reserve_io()'s struct static_vm; kmap_init(): the pkmap and fixmap PTE
    // tables (arm_pte_alloc: PTE_HWTABLE_OFF + PTE_HWTABLE_SIZE, a page); then the zero page.
    mb.alloc(2 * PAGE_SIZE, 2 * PAGE_SIZE, "vectors");
    mb.alloc(PAGE_SIZE, PAGE_SIZE, "page tables");
    mb.alloc(40, 4, "static_vm");
    mb.alloc(PAGE_SIZE, PAGE_SIZE, "page tables");
    mb.alloc(PAGE_SIZE, PAGE_SIZE, "page tables");
    mb.alloc(PAGE_SIZE, PAGE_SIZE, "empty_zero_page");
    // bootmem_init() → free_area_init(): FLATMEM mem_map, then setup_usemap() per populated zone (pageblock_order =
    // MAX_ORDER - 1 without HUGETLB_PAGE: 4 bits a 2048-page block, in longs)
    const first = ram[0].start / PAGE_SIZE;
    const mapPages = alignUp(maxPfn, 1 << (p.maxOrder - 1)) - alignDown(first, 1 << (p.maxOrder - 1));
    mb.alloc(mapPages * 36, 64, "mem_map");
    const pageblock = 1 << (p.maxOrder - 1);
    for (const [zs, ze] of [
      [first, maxLowPfn],
      [maxLowPfn, Math.max(maxPfn, maxLowPfn)],
    ]) {
      if (ze <= zs) continue;
      const blocks = alignUp(ze - zs + (zs & (pageblock - 1)), pageblock) / pageblock;
      mb.alloc(alignUp(blocks * 4, 32) / 8, 64, "usemap");
    }
    // request_standard_resources(): a struct resource per memblock memory region; unflatten_device_tree()
    for (let i = 0; i < mb.memory.length; i++) mb.alloc(32, 64, "System RAM resource");
    mb.alloc(unflattenedDtSize(), 4, "device tree"); // dt_alloc(size + 4, __alignof__(struct device_node))
    // start_kernel(): setup_command_line(), setup_per_cpu_areas() (the generic embed: page atoms)
    setupCommandLine(mb, k.opts.cmdline, 64);
    pcpuEmbedFirstChunk(mb, pcpuFirstChunk("arm", p.nrCpus), { nrCpus: p.nrCpus, bits: 32, cache: 64 }, () => {
      mb.alloc(18 * PAGE_SIZE * p.nrCpus, PAGE_SIZE, "percpu");
    });
  }

  const fixaddrStart = old ? FIXADDR_START_34 : FIXADDR_START_61;
  const fixaddrTop = old ? FIXADDR_TOP_34 : FIXADDR_END_61 - PAGE_SIZE;
  const B = (n: number) => BigInt(n >>> 0);
  const regions: VirtRegion[] = [
    { name: "user", start: 0n, end: B(MODULES_VADDR), kind: "user" },
    { name: "modules", start: B(MODULES_VADDR), end: B(MODULES_END), kind: "modules" },
    { name: "pkmap", start: B(PKMAP_BASE), end: B(PKMAP_BASE + LAST_PKMAP * PAGE_SIZE), kind: "pkmap" },
    { name: "lowmem", start: B(PAGE_OFFSET), end: B(highMemory), kind: "linear" },
    { name: "vmalloc gap", start: B(highMemory), end: B(vmallocStart), kind: "gap" },
    { name: "vmalloc", start: B(vmallocStart), end: B(vmallocEnd), kind: "vmalloc" },
  ];
  if (old) {
    regions.push({ name: "fixmap", start: B(FIXADDR_START_34), end: B(FIXADDR_TOP_34), kind: "fixmap" });
  } else {
    regions.push({ name: "DT blob", start: 0xff800000n, end: 0xffc00000n, kind: "other" });
    regions.push({ name: "fixmap", start: B(FIXADDR_START_61), end: B(FIXADDR_END_61), kind: "fixmap" });
  }
  regions.push({ name: "vectors", start: B(VECTORS_BASE), end: B(VECTORS_BASE + PAGE_SIZE), kind: "other" });

  const zones: ZoneSpec[] = old
    ? [
        // 3.4 MSM: no ZONE_DMA; Normal is lowmem.
        { name: "Normal", startPfn: ram[0].start / PAGE_SIZE, endPfn: maxLowPfn },
        { name: "HighMem", startPfn: maxLowPfn, endPfn: Math.max(maxPfn, maxLowPfn) },
      ]
    : [
        // armmp: ZONE_DMA covers all lowmem (arm_dma_limit is 4 GiB on virt), Normal is empty.
        { name: "DMA", startPfn: ram[0].start / PAGE_SIZE, endPfn: maxLowPfn },
        { name: "Normal", startPfn: maxLowPfn, endPfn: maxLowPfn },
        { name: "HighMem", startPfn: maxLowPfn, endPfn: Math.max(maxPfn, maxLowPfn) },
      ];

  return {
    bits: 32,
    pageShift: 12,
    pageSize: PAGE_SIZE,
    pageOffset: B(PAGE_OFFSET),
    physOffset,
    highMemory: B(highMemory),
    vmallocStart: B(vmallocStart),
    vmallocEnd: B(vmallocEnd),
    modulesVaddr: B(MODULES_VADDR),
    modulesEnd: B(MODULES_END),
    pkmapBase: B(PKMAP_BASE),
    lastPkmap: LAST_PKMAP,
    fixaddrStart: B(fixaddrStart),
    fixaddrTop: B(fixaddrTop),
    regions,
    image: imageSections(img, physOffset),
    memMap: physical.map((r) => ({ ...r, type: "usable" as const })),
    memory: mb.memory,
    reservations: mb.reserved,
    zones,
    minLowPfn: ram[0].start / PAGE_SIZE,
    maxLowPfn,
    maxPfn,
  };
}

function imageSections(img: typeof ARM_61_IMAGE | typeof ARM_34_IMAGE, physOffset: number): ImageSection[] {
  const v = (phys: number) => BigInt(phys - physOffset + PAGE_OFFSET);
  const sec = (name: ImageSection["name"], r: readonly [number, number]): ImageSection => ({ name, start: v(r[0]), end: v(r[1]), phys: r[0] });
  return [sec(".text", img.text), sec(".rodata", img.rodata), sec(".init", img.init), sec(".data", img.data), sec(".bss", img.bss)];
}
