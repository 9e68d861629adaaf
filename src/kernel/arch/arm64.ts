// Models arch/arm64/kernel/setup.c setup_arch(), arch/arm64/mm/init.c (arm64_memblock_init, bootmem_init,
// zone_sizes_init), drivers/base/arch_numa.c (the faked node) and asm/memory.h + pgtable.h, Linux 6.1,
// 48-bit VA, 4 KiB pages, on QEMU virt (Debian's arm64 kernel; no reference transcript: formulas and
// Documentation/arm64/memory.rst only).
//
// Layout (kernel-facts §1.4): PAGE_OFFSET = -(1 << 48) = 0xffff000000000000 (linear map, 128 TB);
// MODULES_VADDR = _PAGE_END(48) = 0xffff800000000000, MODULES_VSIZE 128 MiB; VMALLOC_START = MODULES_END
// (the kernel image sits at the start of vmalloc space, KIMAGE_VADDR = MODULES_END); VMEMMAP_START =
// -(1 << (48 - 6)) = 0xfffffc0000000000; VMALLOC_END = VMEMMAP_START - 256 MiB (exclusive);
// FIXADDR_TOP = VMEMMAP_START - 32 MiB; PCI I/O 16 MiB below VMEMMAP_START - 8 MiB.
// PHYS_OFFSET = memstart_addr = memblock_start_of_DRAM() rounded down to 1 GiB (ARM64_MEMSTART_ALIGN);
// high_memory = __va(end of DRAM). Zones (6.1 zone_sizes_init): ZONE_DMA up to 4 GiB (zone_dma_bits = 32 on
// virt: no dma-ranges, no IORT), ZONE_DMA32 empty then, Normal above 4 GiB.
// Simplifications: no KASLR on arm64 (the kernel image and the linear map stay put); the fixmap's exact size
// is an estimate (4 MiB); image sizes are era-typical for Debian's arm64 6.1 build (not measured).
// Reservations: the image at 0x40200000 (QEMU loads Image 2 MiB into RAM), initrd and DTB (QEMU's placement),
// NODE_DATA, page tables for the linear map (Debian sets rodata=full, so 4 KiB pages: one PTE page per
// 2 MiB), the vmemmap mem_map (2 MiB per 128 MiB section), CMA 32 MiB below 4 GiB, percpu.

import type { ImageSection, Layout, VirtRegion, ZoneSpec } from "../types.ts";
import { presentSections } from "./x86_64.ts";
import {
  type ArchKernel,
  KERN_ERR,
  KERN_INFO,
  KERN_NOTICE,
  Memblock,
  PAGE_SIZE,
  SZ_1G,
  SZ_1M,
  alignDown,
  alignUp,
  bootError,
  checkRamSize,
  clipRanges,
  hex0x,
  sizeParam,
} from "./common.ts";

const MiB = SZ_1M;
export const PAGE_OFFSET = 0xffff000000000000n;
export const PAGE_END = 0xffff800000000000n;
export const MODULES_VADDR = 0xffff800000000000n;
export const MODULES_END = MODULES_VADDR + 128n * 1024n * 1024n;
export const VMALLOC_START = MODULES_END;
export const VMEMMAP_START = 0xfffffc0000000000n;
export const VMALLOC_END = VMEMMAP_START - 256n * 1024n * 1024n;
export const FIXADDR_TOP = VMEMMAP_START - 32n * 1024n * 1024n;
const FIXADDR_SIZE = 4n * 1024n * 1024n;
export const PCI_IO_START = VMEMMAP_START - 8n * 1024n * 1024n - 16n * 1024n * 1024n;
export const PHYS_RAM_BASE = 0x40000000;

/** Era-typical Debian arm64 6.1 image (sizes estimated), loaded at 0x40200000. */
export const ARM64_IMAGE = {
  text: [0x40200000, 0x41000000],
  rodata: [0x41000000, 0x41920000],
  init: [0x41920000, 0x41ed0000],
  data: [0x41ed0000, 0x422c6000],
  bss: [0x422c6000, 0x423d0800],
} as const;
const INITRD_SIZE = 0x10d2a4;
const DTB_SIZE = 0x100000;
const NODE_DATA_SIZE = 0x2600;
const CMA_SIZE = 32 * MiB;

export function setupArm64(k: ArchKernel): Layout {
  const p = k.profile;
  checkRamSize(p, k.opts.mem, 16 * MiB, 256 * SZ_1G, "QEMU virt places below its PCI window (the simulator's limit)");
  const mem = alignDown(k.opts.mem, PAGE_SIZE);
  k.printk(KERN_INFO + "Booting Linux on physical CPU 0x0000000000 [0x411fd070]\n");
  k.printk(KERN_NOTICE + "%s\n", p.versionString);
  k.printk(KERN_INFO + "Machine model: %s\n", p.board);
  k.printk(KERN_INFO + "efi: UEFI not found.\n");

  // arm64_memblock_init(): mem= becomes memory_limit (memblock_mem_limit_remove_map).
  let ram = [{ start: PHYS_RAM_BASE, end: PHYS_RAM_BASE + mem }];
  const physical = ram.map((r) => ({ ...r }));
  const limit = sizeParam(k.params, "mem");
  if (limit !== undefined && limit > 0) ram = clipRanges(ram, 0, PHYS_RAM_BASE + limit);
  const img = ARM64_IMAGE;
  if (ram.length === 0 || ram[0].end < img.bss[1] + 16 * MiB) bootError(`${p.name}: RAM (mem=) does not hold the kernel image`);
  const memstart = alignDown(ram[0].start, SZ_1G);
  const end = ram[ram.length - 1].end;
  const maxPfn = end / PAGE_SIZE;

  const mb = new Memblock();
  for (const r of ram) mb.add(r.start, r.end);
  mb.reserve(img.text[0], img.bss[1], "kernel image");
  // QEMU arm_load_kernel: initrd at RAM + min(RAM/2, 128 MiB), the DTB after it, 2 MiB aligned (aarch64).
  const initrd = PHYS_RAM_BASE + Math.min(Math.floor(mem / 2), 128 * MiB);
  const initrdEnd = alignUp(initrd + INITRD_SIZE, PAGE_SIZE);
  const dtb = alignUp(initrd + INITRD_SIZE, 2 * MiB);
  if (dtb + DTB_SIZE <= end) {
    mb.reserve(initrd, initrdEnd, "initrd");
    mb.reserve(dtb, dtb + DTB_SIZE, "DTB");
  }
  // paging_init(): the linear map at page granularity (rodata=full): PTE pages, PMD pages, PUD page.
  const ptPages = Math.ceil((end - ram[0].start) / (2 * MiB)) + Math.ceil((end - ram[0].start) / SZ_1G) + 1;
  mb.alloc(ptPages * PAGE_SIZE, PAGE_SIZE, "page tables");

  // bootmem_init(): numa (faked node) → sparse_init → zone_sizes_init → CMA.
  k.printk(KERN_INFO + "NUMA: No NUMA configuration found\n");
  k.printk(KERN_INFO + "NUMA: Faking a node at [mem %s-%s]\n", hex0x(ram[0].start, 18), hex0x(end - 1, 18));
  const nd = mb.alloc(NODE_DATA_SIZE, 64, "NODE_DATA");
  k.printk(KERN_INFO + "NUMA: NODE_DATA [mem %s-%s]\n", hex0x(nd, 10), hex0x(nd + NODE_DATA_SIZE - 1, 10));
  const sections = presentSections(mb.memory, 27);
  mb.alloc(sections * 2 * MiB, 2 * MiB, "mem_map");
  const dmaLimit = Math.min(end, 0x100000000);
  // dma_contiguous_reserve() -> cma_declare_contiguous_nid(): "Reserved %ld MiB at %pa" (phys_addr_t is 64-bit:
  // 16 digits), or "Failed to reserve %ld MiB" on a machine too small for it, and the boot goes on without CMA.
  const cma = mb.tryAlloc(CMA_SIZE, 4 * MiB, "cma", dmaLimit);
  if (cma >= 0) k.printk(KERN_INFO + "cma: Reserved %ld MiB at %s\n", CMA_SIZE / MiB, hex0x(cma, 18));
  else k.printk(KERN_ERR + "cma: Failed to reserve %ld MiB\n", CMA_SIZE / MiB);
  mb.alloc(31 * PAGE_SIZE * p.nrCpus, PAGE_SIZE, "percpu");

  const highMemory = PAGE_OFFSET + BigInt(end - memstart);
  const zones: ZoneSpec[] = [
    { name: "DMA", startPfn: ram[0].start / PAGE_SIZE, endPfn: Math.min(maxPfn, 0x100000) },
    { name: "DMA32", startPfn: Math.min(maxPfn, 0x100000), endPfn: Math.min(maxPfn, 0x100000) },
    { name: "Normal", startPfn: Math.min(maxPfn, 0x100000), endPfn: maxPfn },
  ];
  const regions: VirtRegion[] = [
    { name: "user", start: 0n, end: 0x1000000000000n, kind: "user" },
    { name: "linear map", start: PAGE_OFFSET, end: PAGE_END, kind: "linear" },
    { name: "modules", start: MODULES_VADDR, end: MODULES_END, kind: "modules" },
    { name: "vmalloc", start: VMALLOC_START, end: VMALLOC_END, kind: "vmalloc" },
    { name: "fixmap", start: FIXADDR_TOP - FIXADDR_SIZE, end: FIXADDR_TOP, kind: "fixmap" },
    { name: "PCI I/O", start: PCI_IO_START, end: PCI_IO_START + 16n * 1024n * 1024n, kind: "other" },
    { name: "vmemmap", start: VMEMMAP_START, end: 0xfffffe0000000000n, kind: "vmemmap" },
  ];
  // The image is mapped at KIMAGE_VADDR (= MODULES_END), inside the vmalloc range.
  const kimageVoffset = VMALLOC_START - BigInt(img.text[0]);
  const v = (phys: number) => kimageVoffset + BigInt(phys);
  const sec = (name: ImageSection["name"], r: readonly [number, number]): ImageSection => ({ name, start: v(r[0]), end: v(r[1]), phys: r[0] });
  regions.push({ name: "kernel image", start: v(img.text[0]), end: v(img.bss[1]), kind: "kernel" });
  regions.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : Number(b.end - a.end)));

  return {
    bits: 64,
    pageShift: 12,
    pageSize: PAGE_SIZE,
    pageOffset: PAGE_OFFSET,
    physOffset: memstart,
    highMemory,
    vmallocStart: VMALLOC_START,
    vmallocEnd: VMALLOC_END,
    modulesVaddr: MODULES_VADDR,
    modulesEnd: MODULES_END,
    fixaddrStart: FIXADDR_TOP - FIXADDR_SIZE,
    fixaddrTop: FIXADDR_TOP,
    vmemmapStart: VMEMMAP_START,
    regions,
    image: [sec(".text", img.text), sec(".rodata", img.rodata), sec(".init", img.init), sec(".data", img.data), sec(".bss", img.bss)],
    memMap: physical.map((r) => ({ ...r, type: "usable" as const })),
    memory: mb.memory,
    reservations: mb.reserved,
    zones,
    minLowPfn: ram[0].start / PAGE_SIZE,
    maxLowPfn: maxPfn,
    maxPfn,
  };
}
