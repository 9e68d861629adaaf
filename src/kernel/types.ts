// Shared shapes of the simulated kernel: profiles, the boot-time memory layout, reports.
// Data only; no behaviour. Every other file in src/kernel/ reads these.

export type Arch = "i386" | "arm" | "x86_64" | "arm64";
/** Kernel era a profile pins. Behaviour that changed between versions switches on this. */
export type Era = "2.6" | "3.4" | "6.1";
/** debug: the developer's kernel of the era (might_sleep, KASAN, kmemleak, lockdep, DMA-API debug, slub_debug);
 *  distro: the distribution's own configuration (none of those checkers). */
export type ConfigKind = "debug" | "distro";

/** A boot profile: architecture x kernel era x board. Pure data (src/kernel/profiles.ts). */
export interface Profile {
  name: string; // "x86_64-6.1"
  arch: Arch;
  era: Era;
  description: string; // one line, for `kmodlab profiles`
  /** uname -r, e.g. "6.1.0-56-amd64" */
  release: string;
  /** The full /proc/version text (without trailing newline): "Linux version 6.1.0-56-amd64 (...) #1 SMP ..." */
  versionString: string;
  board: string; // "QEMU Standard PC (i440FX + PIIX, 1996)"
  defaultMem: number; // bytes
  defaultCmdline: string;
  defaultConfig: ConfigKind;
  hz: number;
  slab: "SLAB" | "SLUB";
  /** MAX_ORDER as the era defines it (6.1 and older: exclusive, orders 0..MAX_ORDER-1). */
  maxOrder: number;
  /** KMALLOC_MIN_SIZE (8 on x86, 64 on armmp 6.1 ...). */
  kmallocMinSize: number;
  nrCpus: number;
  /** printk levels as "<N>" strings (before 3.6) or "\001N" (3.6 and later). */
  printkLevelStyle: "angle" | "soh";
  /** %p prints a hashed value (4.15 and later) or the raw pointer. */
  hashedPointers: boolean;
  /** i386 only: CONFIG_X86_PAE + HIGHMEM64G (Debian's 686-pae): 3-level paging, 64-bit PTEs and phys_addr_t. */
  pae?: boolean;
  /** x86_64 only: the machine's CPU has LA57 (QEMU -cpu max), so the 6.1 kernel (CONFIG_X86_5LEVEL=y) runs 5-level
   *  paging unless the command line says `no5lvl`. */
  cpuLa57?: boolean;
}

export interface BootOptions {
  /** RAM in bytes; defaults to the profile's. */
  mem?: number;
  /** Kernel command line; defaults to the profile's. */
  cmdline?: string;
  /** Seed for everything random in the kernel (KASLR, %p hashing key). Without one, KASLR is off. */
  seed?: number;
  config?: ConfigKind;
  /**
   * Run init and the user-space model up to the learner's insmod (default true). false stops at the end of
   * start_kernel(): no page cache, the clock near 0 — for kernel tests that pin exact addresses and timings.
   */
  userspace?: boolean;
}

/** A range of physical addresses [start, end). Physical addresses are numbers (< 2^53). */
export interface PhysRange {
  start: number;
  end: number; // exclusive
}

/** One entry of the board's physical memory map (BIOS-e820 on x86, memory nodes of the DT on ARM). */
export interface MemMapEntry extends PhysRange {
  type: "usable" | "reserved" | "ACPI data" | "ACPI NVS";
}

/** A memblock reservation made before the buddy allocator starts (kernel image, initrd, mem_map, ...). */
export interface Reservation extends PhysRange {
  what: string; // "Kernel code", "initrd", "mem_map", "page tables", "percpu", ...
}

export type ZoneName = "DMA" | "DMA32" | "Normal" | "HighMem" | "Movable";

/** A zone's spanned PFN range as free_area_init() computes it. */
export interface ZoneSpec {
  name: ZoneName;
  startPfn: number;
  endPfn: number; // exclusive; startPfn === endPfn means empty
}

/** A named region of the kernel's virtual address space [start, end). */
export interface VirtRegion {
  name: string; // "user", "lowmem", "direct map", "vmalloc", "vmalloc gap", "pkmap", "fixmap", "modules", "vmemmap", "kernel text", ...
  start: bigint;
  end: bigint; // exclusive
  kind: "user" | "linear" | "vmalloc" | "gap" | "pkmap" | "fixmap" | "modules" | "vmemmap" | "kernel" | "other";
}

/** A section of the kernel image: virtual [start, end) and its physical start. */
export interface ImageSection {
  name: ".text" | ".rodata" | ".data" | ".init" | ".bss";
  start: bigint;
  end: bigint;
  phys: number;
}

/**
 * What arch setup computes at boot (arch/*.ts): the virtual layout, the physical memory map and the zones.
 * Constants carry the kernel's own meaning: vmallocEnd is the kernel's VMALLOC_END (inclusive on x86_64,
 * exclusive on 32-bit, as the source defines them); `regions` always use exclusive ends.
 */
export interface Layout {
  bits: 32 | 64;
  pageShift: number; // 12
  pageSize: number; // 4096
  pageOffset: bigint;
  /** ARM's PHYS_OFFSET (0x40000000 on virt); 0 on x86. */
  physOffset: number;
  highMemory: bigint;
  vmallocStart: bigint;
  vmallocEnd: bigint;
  modulesVaddr: bigint;
  modulesEnd: bigint;
  pkmapBase?: bigint;
  lastPkmap?: number;
  fixaddrStart: bigint;
  fixaddrTop: bigint;
  vmemmapStart?: bigint;
  /** x86_64 __START_KERNEL_map (kernel text mapping); undefined on 32-bit where the image is in lowmem. */
  startKernelMap?: bigint;
  /** Page-table levels the kernel runs with (2 non-PAE i386 and ARM, 3 PAE, 4, 5 with LA57); undefined = the arch's usual. */
  pgtableLevels?: 2 | 3 | 4 | 5;
  /** x86_64 phys_base: physical _text minus (virtual _text - __START_KERNEL_map); non-zero only with KASLR. */
  physBase?: number;
  regions: VirtRegion[];
  image: ImageSection[];

  memMap: MemMapEntry[];
  /** Memory the kernel actually uses (memblock.memory), after mem= and arch limits. */
  memory: PhysRange[];
  /**
   * memblock.memory as free_area_init() prints it ("Early memory node ranges", "Initmem setup node") where it holds
   * RAM the kernel does not use: 6.1 x86_32 keeps the e820 RAM above max_pfn (highmem=, PAE beyond 64 GiB) in
   * memblock (only 6.15 removes it), and the zones, memblock_free_all() and the highmem init stop at max_pfn.
   * Undefined: the same as memory.
   */
  memblockMemory?: PhysRange[];
  reservations: Reservation[];
  zones: ZoneSpec[];
  minLowPfn: number;
  maxLowPfn: number; // end of lowmem (exclusive)
  maxPfn: number; // end of RAM (exclusive)
}

/** A structured kernel report (one per splat), the unit the grader and the notebook read. */
export type ReportKind =
  | "sleep-in-atomic"
  | "scheduling-while-atomic"
  | "page-alloc-failure"
  | "vmalloc-failure"
  | "kasan"
  | "slub"
  | "double-free"
  | "invalid-free"
  | "bad-page"
  | "leak"
  | "oops"
  | "dma-api"
  | "lockdep"
  | "warn"
  | "bug"
  | "timeout"
  | "out-of-memory"
  | "exception"
  | "compile-error"
  | "limit";

export interface ReportFrame {
  /** The module (cell) function, as in the call trace: "mem_module_init". */
  fn: string;
  /** Cell line (1-based) when known. */
  line?: number;
  column?: number;
}

export interface Report {
  kind: ReportKind;
  title: string; // the splat's first line, e.g. "BUG: sleeping function called from invalid context at mm/slab.h:722"
  text: string; // the full text as it appears in dmesg (without timestamps)
  /** Cell line of the innermost module frame, when known. */
  line?: number;
  /** Module functions on the call chain, innermost first. */
  frames?: ReportFrame[];
  /** A plain-words sentence for the learner (not kernel text). */
  explain?: string;
  /**
   * Set only by the sandbox, when one of the run's own limits stopped the module (sandbox/run.ts limitReport):
   * "cpu" is the CPU deadline (kind "timeout", worded as the watchdog's soft lockup). A hang the kernel models
   * (wait_event that never comes true, a mutex or spinlock deadlock) has kind "timeout" too, and no `limit`.
   */
  limit?: "cpu" | "memory" | "stack" | "kernel-calls" | "log" | "ram";
}
