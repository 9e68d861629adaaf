// Models the arch-independent pieces of setup_arch() that every arch/*.ts uses, Linux 6.1 (and their
// 2.6/3.4 ancestors): mm/memblock.c (memory + reserved lists, top-down memblock_alloc), the e820 table
// print of arch/x86/kernel/e820.c, and small formatting helpers for the boot lines.
// Simplifications: memblock here has one node and no flags (no hotplug, no mirror, no NOMAP); allocations
// are top-down (the default once the kernel is mapped) below an optional limit, as memblock_alloc_range_nid().

import type { ConfigKind, MemMapEntry, PhysRange, Profile, Reservation } from "../types.ts";
import { KernelBootError } from "../boot_error.ts";
import { memparse } from "../kernel/params.ts";

/** The part of the Kernel that arch setup reads: tests can pass a fake with just these. */
export interface ArchKernel {
  profile: Profile;
  opts: { mem: number; cmdline: string; seed?: number; config: ConfigKind };
  params: Map<string, string | true>;
  printk(fmt: string, ...args: (number | bigint | string)[]): number;
}

// include/linux/kern_levels.h. printk (kernel/printk.ts) renders them in the profile's style ("<N>" before 3.6).
export const KERN_EMERG = "\u00010";
export const KERN_ERR = "\u00013";
export const KERN_WARNING = "\u00014";
export const KERN_NOTICE = "\u00015";
export const KERN_INFO = "\u00016";
export const KERN_DEBUG = "\u00017";

export const SZ_1K = 1024;
export const SZ_1M = 1024 * 1024;
export const SZ_1G = 1024 * SZ_1M;
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

export function bootError(msg: string): never {
  throw new KernelBootError(msg);
}

/** `%0Nx` without the 0x: hex(0x1ffe0, 8) → "0001ffe0". Works for numbers and bigints. */
export function hex(v: number | bigint, width = 0): string {
  return v.toString(16).padStart(width, "0");
}

/** `%#018Lx`-style: "0x" + zero-padded hex, total width including the 0x. */
export function hex0x(v: number | bigint, totalWidth: number): string {
  return "0x" + hex(v, Math.max(0, totalWidth - 2));
}

export function alignDown(v: number, a: number): number {
  return Math.floor(v / a) * a;
}
export function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
export function alignDownBig(v: bigint, a: bigint): bigint {
  return v - (((v % a) + a) % a);
}
export function alignUpBig(v: bigint, a: bigint): bigint {
  return alignDownBig(v + a - 1n, a);
}

/** Human size for error messages: 512 MiB, 1 KiB, 3 GiB, ... */
export function humanSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let u = 0;
  let v = bytes;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  return `${v} ${units[u]}`;
}

/** Reject RAM sizes no machine of this profile could boot with (KernelBootError, one line). */
export function checkRamSize(profile: Profile, mem: number, min: number, max: number, why: string): void {
  if (!Number.isSafeInteger(mem) || mem <= 0) bootError(`${profile.name}: bad memory size ${mem}`);
  if (mem < min) {
    bootError(`${profile.name}: ${humanSize(mem)} of RAM is too little to boot (minimum ${humanSize(min)})`);
  }
  if (mem > max) bootError(`${profile.name}: ${humanSize(mem)} of RAM is more than ${why} (maximum ${humanSize(max)})`);
}

/**
 * mm/memblock.c in miniature: the memory and reserved lists, and top-down allocation with alignment below a
 * limit (memblock_alloc_range_nid / memblock_find_in_range_node with bottom_up == false).
 */
export class Memblock {
  memory: PhysRange[] = [];
  reserved: Reservation[] = [];
  /** memblock.current_limit (memblock_set_current_limit()): the default top of allocations (32-bit: lowmem's end). */
  limit = Infinity;

  add(start: number, end: number): void {
    if (end <= start) return;
    this.memory.push({ start, end });
    this.memory = mergeRanges(this.memory);
  }

  /** memblock_remove(): drop [start, end) from memory. */
  remove(start: number, end: number): void {
    this.memory = subtractRange(this.memory, start, end);
  }

  reserve(start: number, end: number, what: string): void {
    if (end <= start) return;
    this.reserved.push({ start, end, what });
  }

  /**
   * Free (memory minus reserved) ranges, ascending. Each allocation asks for them, so this is one sweep over the
   * reservations sorted by start (their union) per memory range, instead of subtracting them one by one (which
   * copied every free range once per reservation). It gives what the one-by-one subtraction (freeRangesBySubtraction)
   * gives: a memory range no reservation overlaps is copied whole (its own fields kept), the others are cut into
   * plain { start, end } pieces at the union's edges. A zero-length or inverted range, on either list, makes that
   * subtraction cut where a union would not: such lists take the one-by-one path (test/kernel/memblock.test.ts
   * compares the two).
   */
  freeRanges(): PhysRange[] {
    const res = this.reserved;
    const mem = this.memory;
    for (let i = 0; i < res.length; i++) if (!(res[i]!.end > res[i]!.start)) return this.freeRangesBySubtraction();
    for (let i = 0; i < mem.length; i++) if (!(mem[i]!.end > mem[i]!.start)) return this.freeRangesBySubtraction();
    // the union of the reservations: disjoint, ascending [us[j], ue[j])
    const sorted = res.slice().sort((a, b) => a.start - b.start);
    const us: number[] = [];
    const ue: number[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const r = sorted[i]!;
      const last = us.length - 1;
      if (last >= 0 && r.start <= ue[last]!) {
        if (r.end > ue[last]!) ue[last] = r.end;
      } else {
        us.push(r.start);
        ue.push(r.end);
      }
    }
    const out: PhysRange[] = [];
    for (let m = 0; m < mem.length; m++) {
      const r = mem[m]!;
      // the first union interval that ends after r.start
      let lo = 0;
      let hi = ue.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ue[mid]! > r.start) hi = mid;
        else lo = mid + 1;
      }
      if (lo >= us.length || us[lo]! >= r.end) {
        out.push({ ...r });
        continue;
      }
      let cursor = r.start;
      for (let j = lo; j < us.length && us[j]! < r.end; j++) {
        if (us[j]! > cursor) out.push({ start: cursor, end: us[j]! });
        if (ue[j]! > cursor) cursor = ue[j]!;
      }
      if (cursor < r.end) out.push({ start: cursor, end: r.end });
    }
    return out;
  }

  /** Free ranges by subtracting the reservations one by one, in list order (the reference freeRanges follows). */
  freeRangesBySubtraction(): PhysRange[] {
    let free = this.memory.map((r) => ({ ...r }));
    for (const r of this.reserved) free = subtractRange(free, r.start, r.end);
    return free;
  }

  /** memblock_alloc (top-down): the highest aligned block of `size` bytes in [min, max). */
  alloc(size: number, align: number, what: string, max = this.limit, min = 0): number {
    const at = this.tryAlloc(size, align, what, max, min);
    return at >= 0 ? at : bootError(`memblock: cannot allocate ${size} bytes for ${what}`);
  }

  /** The same, -1 where no block fits (for callers that go on without it, as cma_declare_contiguous's do). */
  tryAlloc(size: number, align: number, what: string, max = this.limit, min = 0): number {
    max = Math.min(max, this.limit);
    const free = this.freeRanges();
    for (let i = free.length - 1; i >= 0; i--) {
      const lo = Math.max(free[i].start, min);
      const hi = Math.min(free[i].end, max);
      if (hi - lo < size) continue;
      const start = alignDown(hi - size, align);
      if (start >= lo) {
        this.reserve(start, start + size, what);
        return start;
      }
    }
    return -1;
  }

  /** bootmem's alloc_bootmem (2.6): the lowest aligned block of `size` bytes at or above `goal`. */
  allocBottomUp(size: number, align: number, what: string, goal = 0, max = Infinity): number {
    for (const r of this.freeRanges()) {
      const start = alignUp(Math.max(r.start, goal), align);
      if (start + size <= Math.min(r.end, max)) {
        this.reserve(start, start + size, what);
        return start;
      }
    }
    return bootError(`bootmem: cannot allocate ${size} bytes for ${what}`);
  }

  /**
   * memblock_free() / memblock_phys_free(): give [start, end) back (memblock_remove_range on the reserved list: a
   * reservation that covers it is cut, split in two where the range lies inside it).
   */
  free(start: number, end: number): void {
    const out: Reservation[] = [];
    for (const r of this.reserved) {
      if (end <= r.start || start >= r.end) out.push(r);
      else {
        if (r.start < start) out.push({ start: r.start, end: start, what: r.what });
        if (end < r.end) out.push({ start: end, end: r.end, what: r.what });
      }
    }
    // in place: the layout holds this very array
    this.reserved.splice(0, this.reserved.length, ...out);
  }

  /** A memblock over a booted layout's lists (memory and the very reserved array), for the allocations after setup_arch. */
  static over(memory: PhysRange[], reserved: Reservation[]): Memblock {
    const mb = new Memblock();
    mb.memory = memory;
    mb.reserved = reserved;
    return mb;
  }

  /** memblock_free(): give back the tail [start, end) of a reservation made with `what`. */
  freeTail(what: string, keep: number): void {
    const r = this.reserved.find((x) => x.what === what);
    if (r) r.end = r.start + keep;
  }

  get start(): number {
    return this.memory.length ? this.memory[0].start : 0;
  }
  get end(): number {
    return this.memory.length ? this.memory[this.memory.length - 1].end : 0;
  }
}

export function mergeRanges(rs: PhysRange[]): PhysRange[] {
  const sorted = rs.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: PhysRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

export function subtractRange(rs: PhysRange[], start: number, end: number): PhysRange[] {
  const out: PhysRange[] = [];
  for (const r of rs) {
    if (end <= r.start || start >= r.end) {
      out.push({ ...r });
      continue;
    }
    if (r.start < start) out.push({ start: r.start, end: start });
    if (end < r.end) out.push({ start: end, end: r.end });
  }
  return out;
}

export function clipRanges(rs: PhysRange[], start: number, end: number): PhysRange[] {
  const out: PhysRange[] = [];
  for (const r of rs) {
    const s = Math.max(r.start, start);
    const e = Math.min(r.end, end);
    if (e > s) out.push({ start: s, end: e });
  }
  return out;
}

/** Page-align usable ranges the way e820__memblock_setup() + memblock do (round start up, end down). */
export function pageAlignRanges(rs: PhysRange[]): PhysRange[] {
  return rs.map((r) => ({ start: alignUp(r.start, PAGE_SIZE), end: alignDown(r.end, PAGE_SIZE) })).filter((r) => r.end > r.start);
}

export function totalBytes(rs: PhysRange[]): number {
  return rs.reduce((s, r) => s + (r.end - r.start), 0);
}

// ---- x86 e820 (arch/x86/kernel/e820.c) ----

/** e820_print_type() strings, 6.1: "usable", "reserved", "ACPI data", "ACPI NVS". */
export function e820Type(t: MemMapEntry["type"]): string {
  return t;
}

/** 6.1 e820__print_table(): `BIOS-e820: [mem %#018Lx-%#018Lx] usable`. */
export function printE820Modern(k: ArchKernel, who: string, map: MemMapEntry[]): void {
  for (const e of map) {
    k.printk(KERN_INFO + "%s: [mem %s-%s] %s\n", who, hex0x(e.start, 18), hex0x(e.end - 1, 18), e820Type(e.type));
  }
}

/** 2.6.2x e820_print_map(): ` BIOS-e820: %016Lx - %016Lx (usable)` (end exclusive). */
export function printE820Old(k: ArchKernel, who: string, map: MemMapEntry[]): void {
  for (const e of map) {
    k.printk(KERN_INFO + " %s: %s - %s (%s)\n", who, hex(e.start, 16), hex(e.end, 16), e820Type(e.type));
  }
}

/** e820__range_remove(mem_size, ULLONG_MAX, E820_TYPE_RAM): what mem= does to the BIOS map on x86. */
export function e820LimitRam(map: MemMapEntry[], limit: number): MemMapEntry[] {
  const out: MemMapEntry[] = [];
  for (const e of map) {
    if (e.type !== "usable" || e.end <= limit) out.push({ ...e });
    else if (e.start < limit) out.push({ ...e, end: limit });
  }
  return out;
}

export function usableRanges(map: MemMapEntry[]): PhysRange[] {
  return mergeRanges(map.filter((e) => e.type === "usable").map((e) => ({ start: e.start, end: e.end })));
}

/**
 * Parse a size-valued early parameter the way the kernel does (memparse, garbage → 0). Returns undefined
 * when the parameter is absent or given without a value.
 */
export function sizeParam(params: Map<string, string | true>, name: string): number | undefined {
  const v = params.get(name);
  if (v === undefined || v === true) return undefined;
  return memparseValue(v);
}

export function memparseValue(s: string): number {
  return memparse(s).value;
}

// ---- The QEMU/SeaBIOS PC board (both x86 profiles of the 6.1 era) ----

/**
 * The e820 map QEMU's i440FX `pc` machine and SeaBIOS 1.16 hand to the kernel for `-m mem`:
 * - QEMU (hw/i386/pc_piix.c): RAM below 4 GiB up to 3.5 GiB (max-ram-below-4g 0xe0000000); from 3.5 GiB of
 *   RAM on, gigabyte_align splits at 3 GiB and puts the rest at 4 GiB. With `amdHtHole` (x86_64 guests on an
 *   AMD host, QEMU >= 7.1, as in the reference transcript) the HyperTransport hole 0xfd00000000-0xffffffffff is
 *   listed reserved and RAM that would reach it starts at 1 TiB instead (pc_set_amd_above_4g_mem_start).
 * - SeaBIOS: EBDA at 0x9fc00 (1 KiB), BIOS ROM 0xf0000-0xfffff, its tables in the top 128 KiB of low RAM
 *   (0x1ffe0000-0x1fffffff at 512 MiB; the reservation is what SeaBIOS keeps after giving back unused
 *   high RAM), and the 256 KiB BIOS flash at 0xfffc0000.
 */
export function qemuPcE820(mem: number, amdHtHole: boolean): MemMapEntry[] {
  const below = mem >= 0xe0000000 ? 0xc0000000 : mem;
  const above = mem - below;
  const map: MemMapEntry[] = [
    { start: 0, end: 0x9fc00, type: "usable" },
    { start: 0x9fc00, end: 0xa0000, type: "reserved" },
    { start: 0xf0000, end: 0x100000, type: "reserved" },
    { start: 0x100000, end: below - SEABIOS_HIGH_TABLES, type: "usable" },
    { start: below - SEABIOS_HIGH_TABLES, end: below, type: "reserved" },
    { start: 0xfffc0000, end: 0x100000000, type: "reserved" },
  ];
  if (above > 0) {
    let start = 0x100000000;
    if (amdHtHole && start + above > AMD_HT_START) start = 0x10000000000;
    map.push({ start, end: start + above, type: "usable" });
  }
  if (amdHtHole) map.push({ start: AMD_HT_START, end: AMD_HT_END, type: "reserved" });
  return map.sort((a, b) => a.start - b.start);
}
export const SEABIOS_HIGH_TABLES = 0x20000;
export const AMD_HT_START = 0xfd00000000;
export const AMD_HT_END = 0x10000000000;
/** QEMU's acpi_data_size for pc machines: the initrd goes below it (x86_load_linux). */
export const QEMU_ACPI_DATA_SIZE = 0x20000;

/** Where QEMU's x86_load_linux() puts an initrd of `size` bytes: below min(initrd_addr_max, top of low RAM - ACPI). */
export function qemuInitrdAddr(below4g: number, size: number, initrdAddrMax: number): number {
  let max = initrdAddrMax;
  if (max >= below4g - QEMU_ACPI_DATA_SIZE) max = below4g - QEMU_ACPI_DATA_SIZE - 1;
  return alignDown(max - size, 4096);
}

/** x86 e820__range_update / trim_bios_range / e820__range_remove, with their KERN_DEBUG lines (6.1 format). */
export function x86TrimBios(k: ArchKernel, map: MemMapEntry[], modern: boolean): MemMapEntry[] {
  // e820__range_update(0, PAGE_SIZE, RAM, RESERVED): the BIOS data page is never RAM for the kernel.
  let out: MemMapEntry[] = [];
  for (const e of map) {
    if (e.type === "usable" && e.start < PAGE_SIZE) {
      out.push({ start: e.start, end: Math.min(PAGE_SIZE, e.end), type: "reserved" });
      if (e.end > PAGE_SIZE) out.push({ start: PAGE_SIZE, end: e.end, type: "usable" });
    } else out.push({ ...e });
  }
  if (modern) k.printk(KERN_DEBUG + "e820: update [mem %s-%s] usable ==> reserved\n", hex0x(0, 10), hex0x(PAGE_SIZE - 1, 10));
  // e820__range_remove(BIOS_BEGIN, BIOS_END - BIOS_BEGIN, RAM): the legacy VGA/BIOS hole 640K-1M.
  out = out.flatMap((e) => {
    if (e.type !== "usable" || e.end <= 0xa0000 || e.start >= 0x100000) return [e];
    const parts: MemMapEntry[] = [];
    if (e.start < 0xa0000) parts.push({ ...e, end: 0xa0000 });
    if (e.end > 0x100000) parts.push({ ...e, start: 0x100000 });
    return parts;
  });
  if (modern) k.printk(KERN_DEBUG + "e820: remove [mem %s-%s] usable\n", hex0x(0xa0000, 10), hex0x(0xfffff, 10));
  return out;
}

/**
 * arch/x86/kernel/setup.c reserve_initrd() + relocate_initrd(): the initrd the boot loader placed at `image`
 * stays where it is if it lies in directly mapped RAM (below `mappedEnd`), otherwise it is copied to a
 * top-down memblock allocation below `mappedEnd` ("Allocated new RAMDISK", "Move RAMDISK ...").
 */
export function x86ReserveInitrd(k: ArchKernel, mb: Memblock, image: number, size: number, mappedEnd: number): void {
  const end = alignUp(image + size, PAGE_SIZE);
  k.printk(KERN_INFO + "RAMDISK: [mem %s-%s]\n", hex0x(image, 10), hex0x(end - 1, 10));
  const inRam = mb.memory.some((r) => r.start <= image && end <= r.end);
  if (inRam && end <= mappedEnd) {
    mb.reserve(image, end, "initrd");
    return;
  }
  const moved = mb.alloc(alignUp(size, PAGE_SIZE), PAGE_SIZE, "initrd", mappedEnd);
  k.printk(KERN_INFO + "Allocated new RAMDISK: [mem %s-%s]\n", hex0x(moved, 10), hex0x(moved + size - 1, 10));
  k.printk(
    KERN_INFO + "Move RAMDISK from [mem %s-%s] to [mem %s-%s]\n",
    hex0x(image, 10),
    hex0x(image + size - 1, 10),
    hex0x(moved, 10),
    hex0x(moved + size - 1, 10),
  );
}
