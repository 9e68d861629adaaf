// Models arch/x86/kernel/setup.c setup_arch(), arch/x86/kernel/e820.c, arch/x86/mm/kaslr.c, arch/x86/mm/numa.c
// and the layout of arch/x86/include/asm/page_64_types.h + pgtable_64_types.h, Linux 6.1 (4-level paging).
//
// 5-level paging (profile cpuLa57, Debian's CONFIG_X86_5LEVEL=y, unless `no5lvl`): the _L5 bases of mm.rst
// (direct map 0xff11000000000000, vmalloc 0xffa0000000000000 for 12800 TB, vmemmap 0xffd4000000000000), MAXMEM
// 2^52 (max_arch_pfn 0x10000000000), KASLR's memory regions aligned to P4D_SIZE; the rest (kernel text, modules,
// fixmap, cpu_entry_area) is where 4-level paging has it.
//
// The machine is QEMU's i440FX `pc` with SeaBIOS (common.ts qemuPcE820) running Debian's 6.1.0-56-amd64,
// the kernel of test/fixtures/real-kernel/x86_64-512M-nokaslr.log. Everything is computed from the RAM
// size, the command line (mem=, nokaslr) and the seed:
// - e820: QEMU/SeaBIOS map, then e820__range_update(first page → reserved) and the 640K–1M removal;
//   mem=N removes RAM above N (e820__range_remove) and prints the user-defined map.
// - max_pfn = end of the last usable e820 range (capped at max_arch_pfn = 2^(46-12)); high_memory =
//   __va(max_pfn << PAGE_SHIFT); all RAM is direct-mapped (no highmem): maxLowPfn = maxPfn here.
// - KASLR (CONFIG_RANDOMIZE_MEMORY): with a seed and without `nokaslr`, kernel_randomize_memory() moves
//   page_offset_base, vmalloc_base and vmemmap_base in that order with PUD (1 GiB) aligned random offsets.
//   Its prandom state is seeded from a 64-bit value derived from the seed (the kernel takes RDRAND/RDTSC).
//   kaslr_memory_enabled() is kaslr_enabled() && !CONFIG_KASAN: the debug kernel (KASAN) keeps the fixed bases.
// - CONFIG_RANDOMIZE_BASE (arch/kaslr.ts, the decompressor's choose_random_location()): with a seed and without
//   `nokaslr`, the image moves physically to a random 2 MiB slot of RAM and, independently, virtually within the
//   1 GiB kernel image window; phys_base = physical _text - (virtual _text - __START_KERNEL_map). /proc/iomem's
//   Kernel code/rodata/data/bss and the memblock reservation move with it. Without KASLR: 16 MiB /
//   0xffffffff81000000, phys_base 0.
// - memblock reservations, in setup_arch order: the first 1 MiB (6.1 reserves it whole for the BIOS and the real-mode
//   trampoline), the kernel image [_text, __end_of_kernel_reserve), the brk area (DMI's strings and the 16-page early
//   page-table buffer), the initrd where QEMU loads it, NODE_DATA (0x2b000 bytes for Debian's NR_CPUS=8192 config),
//   sparse_init()'s section roots, usemaps, memmap buffer (one 2 MiB block per present 128 MiB section, 64-byte struct
//   page) and vmemmap tables, setup_arch()'s resources, the command line copies, the percpu first chunk (62 pages kept of
//   a 2 MiB atom) with its metadata, then (kernel.ts) the dentry/inode hash tables, the CPU entry area's tables and
//   swiotlb's 64 MiB bounce buffer when RAM reaches above 4 GiB: arch/early_memblock.ts has each one's size and source.
//   mem_init() takes preallocate_vmalloc_pages()'s PUD pages from the buddy lists before the Memory: line, and with
//   CONFIG_DEFERRED_STRUCT_PAGE_INIT its "available" counts only the frames below first_deferred_pfn (mm/page_alloc.ts).
// - Image section sizes are Debian's (the real Memory: line and /proc/iomem); .init is placed right after
//   .data (page aligned) — the real build has percpu and other sections in between.

import type { Layout, MemMapEntry, PhysRange, VirtRegion, ZoneSpec, ImageSection } from "../types.ts";
import { chooseRandomLocation, LOAD_PHYSICAL_ADDR } from "./kaslr.ts";
import { pcpuEmbedFirstChunk, setupCommandLine, sparseInitX86_64, x86BrkPages, x86E820Allocs } from "./early_memblock.ts";
import { pcpuFirstChunk } from "../mm/percpu_first_chunk.ts";
import {
  type ArchKernel,
  KERN_DEBUG,
  KERN_INFO,
  KERN_WARNING,
  bootError,
  x86ReserveInitrd,
  KERN_NOTICE,
  Memblock,
  PAGE_SIZE,
  SZ_1G,
  SZ_1M,
  checkRamSize,
  e820LimitRam,
  hex0x,
  pageAlignRanges,
  printE820Modern,
  qemuInitrdAddr,
  qemuPcE820,
  sizeParam,
  usableRanges,
  x86TrimBios,
  alignUp,
} from "./common.ts";

const TB = 1n << 40n;
export const PAGE_OFFSET_BASE_L4 = 0xffff888000000000n;
export const VMALLOC_BASE_L4 = 0xffffc90000000000n;
export const VMEMMAP_BASE_L4 = 0xffffea0000000000n;
export const VMALLOC_SIZE_TB = 32n;
// 5-level paging (page_64_types.h, pgtable_64_types.h: the _L5 constants).
export const PAGE_OFFSET_BASE_L5 = 0xff11000000000000n;
export const VMALLOC_BASE_L5 = 0xffa0000000000000n;
export const VMEMMAP_BASE_L5 = 0xffd4000000000000n;
export const VMALLOC_SIZE_TB_L5 = 12800n;
export const START_KERNEL_MAP = 0xffffffff80000000n;
/** KERNEL_IMAGE_SIZE is 1 GiB with CONFIG_RANDOMIZE_BASE (Debian), so modules start at -1 GiB. */
export const MODULES_VADDR = 0xffffffffc0000000n;
export const MODULES_END = 0xffffffffff000000n;
/** FIXADDR_TOP = round_up(VSYSCALL_ADDR + PAGE_SIZE, PMD_SIZE) - PAGE_SIZE. */
export const FIXADDR_TOP = 0xffffffffff7ff000n;
/** __end_of_permanent_fixed_addresses for Debian's config: an estimate (~0.5 MiB, as mm.rst says). */
const FIX_PERMANENT_PAGES = 135n;
/** CPU_ENTRY_AREA_BASE: the end of the KASLR window (vaddr_end). */
export const CPU_ENTRY_AREA_BASE = 0xfffffe0000000000n;
/** MAX_PHYSMEM_BITS: pgtable_l5_enabled() ? 52 : 46. */
const MAX_PHYSMEM_BITS = 46;
const MAX_PHYSMEM_BITS_L5 = 52;
const P4D_SIZE = 1n << 39n;
/** CONFIG_RANDOMIZE_MEMORY_PHYSICAL_PADDING default (TB). */
const PHYSICAL_PADDING_TB = 0xan;
const PUD_SIZE = 1n << 30n;
const STRUCT_PAGE = 64;

const MiB = SZ_1M;
/**
 * The smallest RAM the simulator sets up: the Debian image alone ends at 68 MiB physical, and below 80 MiB the memmap
 * and the early memblock allocations (percpu with LA57) no longer fit beside it (the simulator's limit: the real
 * kernel would stop there with memblock's own panic, not modelled). From 80 MiB on, the machine's own allocators
 * decide: too little for the boot ends in out_of_memory()'s panic (mm/oom_boot.ts), as on the real kernel.
 */
export const MIN_RAM = 80 * MiB;
export const MAX_RAM = 1024 * SZ_1G; // 1 TiB

/** The image's physical section bounds, [start, end) each. */
export interface ImagePhys {
  text: readonly [number, number];
  rodata: readonly [number, number];
  data: readonly [number, number];
  init: number;
  bss: readonly [number, number];
}

/** The image moved by delta bytes (the decompressor's relocation: every section keeps its offset from _text). */
export function shiftImage(img: ImagePhys, delta: number): ImagePhys {
  const m = (r: readonly [number, number]) => [r[0] + delta, r[1] + delta] as const;
  return { text: m(img.text), rodata: m(img.rodata), data: m(img.data), init: img.init, bss: m(img.bss) };
}

/** Debian 6.1.0-56-amd64's image, physical, from /proc/iomem and the Memory: line of the real boot. */
export const X86_64_IMAGE = {
  text: [0x1000000, 0x1e01d32],
  rodata: [0x2000000, 0x28eb000],
  data: [0x2a00000, 0x2c48980],
  init: 2824 * 1024,
  bss: [0x3310000, 0x4400000],
} as const;
/** Size of the reference initramfs (page-aligned: 1120K, "Freeing initrd memory: 1120K"). */
export const X86_64_INITRD_SIZE = 0x117d44;
const NODE_DATA_SIZE = 0x2b000;
const PERCPU_PAGES = 62;
/**
 * sizeof(struct mem_section): section_mem_map and usage, plus page_ext and a pad with CONFIG_PAGE_EXTENSION, which
 * Debian's amd64 build has (it comes with CONFIG_PAGE_OWNER): 32 bytes, so the section root array is 32 KiB with
 * 4-level paging. The reference boot's "reserved" figure needs exactly these 16 KiB over the 16-byte layout.
 */
const MEM_SECTION_SIZE = 32;

export interface KaslrBases {
  pageOffsetBase: bigint;
  vmallocBase: bigint;
  vmemmapBase: bigint;
  /** kaslr_regions[0].size_tb: the direct map's size in TB after adapting to RAM. */
  directMapTb: bigint;
}

/** lib/random32.c TAUSWORTHE(s, a, b, c, d): one component step (a module function: u32() runs per slab and per
 *  Fisher-Yates step of CONFIG_SLAB_FREELIST_RANDOM, so no closure per call). */
function taus(x: number, a: number, b: number, c: number, d: number): number {
  return ((((x & c) << d) >>> 0) ^ ((((x << a) >>> 0) ^ x) >>> b)) >>> 0;
}

/** include/linux/prandom.h + lib/random32.c: the LFSR113 generator kernel_randomize_memory() uses. */
export class PrandomState {
  private s = new Uint32Array(4);
  constructor(seed: bigint) {
    // prandom_seed_state(): i = (seed >> 32) ^ (seed << 10) ^ seed, each s_k = __seed(i, m_k), then warm up.
    const i = Number(((seed >> 32n) ^ (seed << 10n) ^ seed) & 0xffffffffn) >>> 0;
    const sd = (x: number, m: number) => (x < m ? x + m : x) >>> 0;
    this.s[0] = sd(i, 2);
    this.s[1] = sd(i, 8);
    this.s[2] = sd(i, 16);
    this.s[3] = sd(i, 128);
    for (let n = 0; n < 10; n++) this.u32();
  }
  u32(): number {
    const s = this.s;
    s[0] = taus(s[0], 6, 13, 4294967294, 18);
    s[1] = taus(s[1], 2, 27, 4294967288, 2);
    s[2] = taus(s[2], 13, 21, 4294967280, 7);
    s[3] = taus(s[3], 3, 12, 4294967168, 13);
    return (s[0] ^ s[1] ^ s[2] ^ s[3]) >>> 0;
  }
  /** prandom_bytes_state() into an unsigned long (little-endian u32 pairs). */
  u64(): bigint {
    const lo = BigInt(this.u32());
    const hi = BigInt(this.u32());
    return (hi << 32n) | lo;
  }
}

/** A 64-bit seed for KASLR from the boot seed (stands in for kaslr_get_random_long("Memory")): splitmix64. */
export function kaslrRandomLong(seed: number): bigint {
  const M = (1n << 64n) - 1n;
  let z = (BigInt.asUintN(64, BigInt(Math.trunc(seed))) + 0x9e3779b97f4a7c15n) & M;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  return z ^ (z >> 31n);
}

/** arch/x86/mm/kaslr.c kernel_randomize_memory() for 4-level (or, with l5, 5-level) paging. */
export function kernelRandomizeMemory(maxPfn: number, seed: number | undefined, l5 = false): KaslrBases {
  const physBits = l5 ? MAX_PHYSMEM_BITS_L5 : MAX_PHYSMEM_BITS;
  const vmallocTb = l5 ? VMALLOC_SIZE_TB_L5 : VMALLOC_SIZE_TB;
  const fixed: KaslrBases = {
    pageOffsetBase: l5 ? PAGE_OFFSET_BASE_L5 : PAGE_OFFSET_BASE_L4,
    vmallocBase: l5 ? VMALLOC_BASE_L5 : VMALLOC_BASE_L4,
    vmemmapBase: l5 ? VMEMMAP_BASE_L5 : VMEMMAP_BASE_L4,
    directMapTb: 1n << BigInt(physBits - 40),
  };
  if (seed === undefined) return fixed;
  const align = l5 ? P4D_SIZE : PUD_SIZE;
  const sizes = [1n << BigInt(physBits - 40), vmallocTb, 0n];
  const memoryTb = (BigInt(maxPfn) * BigInt(PAGE_SIZE) + TB - 1n) / TB + PHYSICAL_PADDING_TB;
  if (memoryTb < sizes[0]) sizes[0] = memoryTb;
  const vmemmapSize = (sizes[0] << 28n) * BigInt(STRUCT_PAGE); // (size_tb << (TB_SHIFT - PAGE_SHIFT)) * sizeof(struct page)
  sizes[2] = (vmemmapSize + TB - 1n) / TB;
  let vaddr = fixed.pageOffsetBase;
  let remain = CPU_ENTRY_AREA_BASE - vaddr;
  for (const s of sizes) remain -= s * TB;
  const rnd = new PrandomState(kaslrRandomLong(seed));
  const bases: bigint[] = [];
  for (let i = 0; i < 3; i++) {
    let entropy = remain / BigInt(3 - i);
    const r = rnd.u64();
    entropy = (r % (entropy + 1n)) & ~(align - 1n);
    vaddr += entropy;
    bases.push(vaddr);
    vaddr += sizes[i] * TB;
    vaddr = ((vaddr + 1n + align - 1n) / align) * align; // round_up(vaddr + 1, PUD_SIZE or P4D_SIZE)
    remain -= entropy;
  }
  return { pageOffsetBase: bases[0], vmallocBase: bases[1], vmemmapBase: bases[2], directMapTb: sizes[0] };
}

export function setupX86_64(k: ArchKernel): Layout {
  const p = k.profile;
  // 5-level paging: CONFIG_X86_5LEVEL=y (Debian) on a CPU with LA57, unless `no5lvl` (check_la57_support()).
  const l5 = p.cpuLa57 === true && !k.params.has("no5lvl");

  checkRamSize(p, k.opts.mem, MIN_RAM, MAX_RAM, "this profile supports (the simulator's limit for x86_64)");
  const mem = Math.floor(k.opts.mem / PAGE_SIZE) * PAGE_SIZE;

  k.printk(KERN_NOTICE + "%s\n", p.versionString);
  k.printk(KERN_INFO + "Command line: %s\n", k.opts.cmdline);

  // e820__memory_setup(): the firmware's map as it is, printed.
  const bios = qemuPcE820(mem, true);
  k.printk(KERN_INFO + "BIOS-provided physical RAM map:\n");
  printE820Modern(k, "BIOS-e820", bios);

  // parse_early_param(): mem= (parse_memopt). memparse garbage gives 0, which the kernel rejects (-EINVAL).
  let map: MemMapEntry[] = bios;
  const memLimit = sizeParam(k.params, "mem");
  let userdef = false;
  if (memLimit !== undefined) {
    if (memLimit === 0) k.printk(KERN_WARNING + "Malformed early option 'mem'\n");
    else {
      const lim = Math.min(memLimit, Number.MAX_SAFE_INTEGER);
      k.printk(KERN_DEBUG + "e820: remove [mem %s-0xfffffffffffffffe] usable\n", hex0x(lim, 10));
      map = e820LimitRam(map, lim);
      userdef = true;
    }
  }
  k.printk(KERN_INFO + "NX (Execute Disable) protection: active\n");
  if (userdef) {
    k.printk(KERN_INFO + "user-defined physical RAM map:\n");
    printE820Modern(k, "user", map);
  }
  k.printk(KERN_INFO + "SMBIOS 2.8 present.\n");
  k.printk(KERN_INFO + "DMI: %s\n", p.board);

  map = x86TrimBios(k, map, true);
  const usable = usableRanges(map);
  if (usable.length === 0 || usable[usable.length - 1].end <= 0x100000) {
    return bootErrorNoRam(p.name);
  }

  // max_pfn = e820__end_of_ram_pfn(); on > 4 GiB also max_low_pfn = e820__end_of_low_ram_pfn().
  const maxArchPfn = 2 ** ((l5 ? MAX_PHYSMEM_BITS_L5 : MAX_PHYSMEM_BITS) - 12); // MAXMEM >> PAGE_SHIFT
  const memory = pageAlignRanges(usable);
  const maxPfn = Math.min(Math.floor(usable[usable.length - 1].end / PAGE_SIZE), maxArchPfn);
  k.printk(KERN_INFO + "last_pfn = %s max_arch_pfn = %s\n", "0x" + maxPfn.toString(16), "0x" + maxArchPfn.toString(16));
  if (maxPfn > 0x100000) {
    const low = usable.filter((r) => r.start < 0x100000000);
    const lowPfn = Math.floor(Math.min(low[low.length - 1].end, 0x100000000) / PAGE_SIZE);
    k.printk(KERN_INFO + "last_pfn = %s max_arch_pfn = %s\n", "0x" + lowPfn.toString(16), "0x" + maxArchPfn.toString(16));
  }

  // The decompressor ran before all this: KASLR's choice of where the image lives (arch/kaslr.ts).
  const below4g = mem >= 0xe0000000 ? 0xc0000000 : mem;
  const initrdAt = qemuInitrdAddr(below4g, X86_64_INITRD_SIZE, 0xffffffff);
  const kaslr = chooseRandomLocation(
    {
      e820: bios,
      imageSize: X86_64_IMAGE.bss[1] - X86_64_IMAGE.text[0],
      memLimit: 2 ** (l5 ? MAX_PHYSMEM_BITS_L5 : MAX_PHYSMEM_BITS),
      memParam: memLimit,
      initrd: { start: initrdAt, end: initrdAt + X86_64_INITRD_SIZE },
      virtualWindow: Number(MODULES_VADDR - START_KERNEL_MAP),
    },
    k.opts.seed,
    k.params.has("nokaslr"),
  );
  const img = kaslr ? shiftImage(X86_64_IMAGE, kaslr.phys - LOAD_PHYSICAL_ADDR) : X86_64_IMAGE;
  const physBase = kaslr ? kaslr.phys - kaslr.virtOffset : 0;

  // memblock: memory = usable e820 RAM (page aligned), then setup_arch's reservations in order.
  const mb = new Memblock();
  for (const r of memory) mb.add(r.start, r.end);
  mb.reserve(0, SZ_1M, "first 1 MiB (BIOS, real-mode trampoline)");
  mb.reserve(img.text[0], img.bss[1], "kernel image");
  // reserve_brk(): DMI's strings and early_alloc_pgt_buf()'s buffer (CONFIG_X86_5LEVEL and CONFIG_RANDOMIZE_MEMORY: 16
  // pages), right after .bss (early_memblock.ts). init_mem_mapping() takes the direct map's tables from the buffer, and
  // from memblock once it is used up.
  const brkPages = x86BrkPages({ earlyPtePages: 0, la57Config: true, randomizeMemory: true });
  mb.reserve(img.bss[1], img.bss[1] + brkPages * PAGE_SIZE, "brk");
  const pgtBuf = brkPages - 1;
  const ptPages = 1 + Math.ceil(maxPfn / (512 * 512 * 512)) + Math.ceil(maxPfn / (512 * 512)); // PTE for 0-2M, PUDs, PMDs

  // The initrd, where QEMU put it (x86_load_linux; the 6.1 x86_64 header lets it go anywhere below 4 GiB).
  x86ReserveInitrd(k, mb, initrdAt, X86_64_INITRD_SIZE, maxPfn * PAGE_SIZE);
  if (ptPages > pgtBuf) mb.alloc((ptPages - pgtBuf) * PAGE_SIZE, PAGE_SIZE, "page tables");

  // x86_numa_init() → dummy_numa_init() → alloc_node_data().
  k.printk(KERN_INFO + "No NUMA configuration found\n");
  k.printk(KERN_INFO + "Faking a node at [mem %s-%s]\n", hex0x(0, 18), hex0x(maxPfn * PAGE_SIZE - 1, 18));
  const nd = mb.alloc(NODE_DATA_SIZE, 64, "NODE_DATA");
  k.printk(KERN_INFO + "NODE_DATA(0) allocated [mem %s-%s]\n", hex0x(nd, 10), hex0x(nd + NODE_DATA_SIZE - 1, 10));

  // kaslr_memory_enabled(): kaslr_enabled() && !IS_ENABLED(CONFIG_KASAN) (the debug kernel has KASAN on 6.1).
  // (kasan=off does not count: CONFIG_KASAN stays built in.)
  const kasan = k.opts.config === "debug";
  const bases = kernelRandomizeMemory(maxPfn, kaslr && !kasan ? k.opts.seed : undefined, l5);

  // paging_init() → sparse_init(): the section roots and usemaps, then one memmap buffer (a 2 MiB block per present
  // 128 MiB section, 2 MiB aligned, above 16 MiB), then the vmemmap page tables over it.
  const sections = presentSections(mb.memory, 27);
  sparseInitX86_64(
    mb,
    {
      memory: mb.memory,
      pgdat: nd,
      physmemBits: l5 ? MAX_PHYSMEM_BITS_L5 : MAX_PHYSMEM_BITS,
      memSectionSize: MEM_SECTION_SIZE,
      la57: l5,
      vmemmapBase: bases.vmemmapBase,
    },
    () => mb.alloc(sections * 2 * SZ_1M, 2 * SZ_1M, "mem_map", Infinity, 16 * SZ_1M),
  );
  // The rest of setup_arch(): acpi_boot_init()'s HPET resource (struct resource + "HPET %u"), io_apic_init_mappings()'s
  // IO-APIC resource (struct resource + IOAPIC_RESOURCE_NAME_SIZE), the e820 resources and nosave regions.
  mb.alloc(64 + 9, 64, "hpet resource");
  mb.alloc(64 + 11, 64, "ioapic resources");
  x86E820Allocs(mb, { table: map, firmware: bios, maxPfn, bits: 64, cache: 64 });
  // start_kernel(): setup_command_line(), then setup_per_cpu_areas() → pcpu_embed_first_chunk(): a 2 MiB atom, the
  // unused tail given back; then the off-stack cpumasks (one per node, and setup_cpu_local_masks()'s four).
  setupCommandLine(mb, k.opts.cmdline, 64);
  pcpuEmbedFirstChunk(mb, pcpuFirstChunk("x86_64", p.nrCpus), { nrCpus: p.nrCpus, bits: 64, cache: 64 }, () => {
    mb.alloc(2 * SZ_1M * p.nrCpus, 2 * SZ_1M, "percpu", Infinity, 16 * SZ_1M);
    mb.freeTail("percpu", PERCPU_PAGES * PAGE_SIZE * p.nrCpus);
  });
  for (let i = 0; i < 1 + 4; i++) mb.alloc(8 * Math.ceil(p.nrCpus / 64), 64, "cpumask");

  const highMemory = bases.pageOffsetBase + BigInt(maxPfn) * BigInt(PAGE_SIZE);
  const vmallocEnd = bases.vmallocBase + ((l5 ? VMALLOC_SIZE_TB_L5 : VMALLOC_SIZE_TB) << 40n) - 1n;
  const fixaddrStart = FIXADDR_TOP - FIX_PERMANENT_PAGES * 4096n;
  const image = imageSections(img, physBase);

  const zones: ZoneSpec[] = [
    { name: "DMA", startPfn: Math.min(memory[0].start / PAGE_SIZE, 0x1000), endPfn: Math.min(0x1000, maxPfn) },
    { name: "DMA32", startPfn: Math.min(0x1000, maxPfn), endPfn: Math.min(0x100000, maxPfn) },
    { name: "Normal", startPfn: Math.min(0x100000, maxPfn), endPfn: maxPfn },
  ];

  const regions: VirtRegion[] = [
    // TASK_SIZE stays 47-bit with LA57 too (a process asks for the upper half with an mmap hint above 47 bits).
    { name: "user", start: 0n, end: 0x800000000000n, kind: "user" },
    ...(l5
      ? [
          { name: "guard hole (hypervisor)", start: 0xff00000000000000n, end: 0xff10000000000000n, kind: "other" as const },
          { name: "LDT remap for PTI", start: 0xff10000000000000n, end: 0xff11000000000000n, kind: "other" as const },
        ]
      : [
          { name: "guard hole (hypervisor)", start: 0xffff800000000000n, end: 0xffff880000000000n, kind: "other" as const },
          { name: "LDT remap for PTI", start: 0xffff880000000000n, end: 0xffff888000000000n, kind: "other" as const },
        ]),
    { name: "direct map", start: bases.pageOffsetBase, end: bases.pageOffsetBase + bases.directMapTb * TB, kind: "linear" },
    { name: "vmalloc", start: bases.vmallocBase, end: vmallocEnd + 1n, kind: "vmalloc" },
    { name: "vmemmap", start: bases.vmemmapBase, end: bases.vmemmapBase + (l5 ? 512n : 1n) * TB, kind: "vmemmap" },
    { name: "cpu_entry_area", start: CPU_ENTRY_AREA_BASE, end: 0xfffffe8000000000n, kind: "other" },
    { name: "%esp fixup stacks", start: 0xffffff0000000000n, end: 0xffffff8000000000n, kind: "other" },
    { name: "EFI region", start: 0xffffffef00000000n, end: 0xffffffff00000000n, kind: "other" },
    { name: "kernel text", start: START_KERNEL_MAP, end: MODULES_VADDR, kind: "kernel" },
    { name: "modules", start: MODULES_VADDR, end: MODULES_END, kind: "modules" },
    { name: "fixmap", start: fixaddrStart, end: FIXADDR_TOP, kind: "fixmap" },
    { name: "vsyscall", start: 0xffffffffff600000n, end: 0xffffffffff601000n, kind: "other" },
  ];
  regions.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));

  return {
    bits: 64,
    pageShift: 12,
    pageSize: PAGE_SIZE,
    pageOffset: bases.pageOffsetBase,
    physOffset: 0,
    highMemory,
    vmallocStart: bases.vmallocBase,
    vmallocEnd,
    modulesVaddr: MODULES_VADDR,
    modulesEnd: MODULES_END,
    fixaddrStart,
    fixaddrTop: FIXADDR_TOP,
    vmemmapStart: bases.vmemmapBase,
    startKernelMap: START_KERNEL_MAP,
    physBase,
    pgtableLevels: l5 ? 5 : 4,
    regions,
    image,
    memMap: map,
    memory: mb.memory,
    reservations: mb.reserved,
    zones,
    minLowPfn: memory[0].start / PAGE_SIZE,
    maxLowPfn: maxPfn,
    maxPfn,
  };
}

function bootErrorNoRam(name: string): never {
  return bootError(`${name}: no usable RAM above 1 MiB (mem= too small?)`);
}

/** Number of 2^shift-byte sections with any memory in them (SPARSEMEM present sections). */
export function presentSections(memory: PhysRange[], shift: number): number {
  const seen = new Set<number>();
  const size = 2 ** shift;
  for (const r of memory) {
    for (let s = Math.floor(r.start / size); s * size < r.end; s++) seen.add(s);
  }
  return seen.size;
}

function imageSections(img: ImagePhys, physBase: number): ImageSection[] {
  const v = (phys: number) => START_KERNEL_MAP + BigInt(phys - physBase);
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
