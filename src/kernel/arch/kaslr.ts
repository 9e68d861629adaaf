// Models arch/x86/boot/compressed/kaslr.c choose_random_location() of Linux 6.1 (CONFIG_RANDOMIZE_BASE): where the
// decompressor puts the kernel image, physically (both x86 flavours) and virtually (x86_64 only; on x86_32 the image
// runs at PAGE_OFFSET + its physical address).
//
// The mechanism, as the kernel does it:
// - `nokaslr` on the command line: nothing moves (the image stays at LOAD_PHYSICAL_ADDR = CONFIG_PHYSICAL_START,
//   16 MiB, and _text at __START_KERNEL_map + 16 MiB / PAGE_OFFSET + 16 MiB).
// - mem_limit = KERNEL_IMAGE_SIZE (512 MiB) on x86_32, MAXMEM (1 << MAX_PHYSMEM_BITS) on x86_64; mem= lowers it.
// - The minimum is min(output, 512 MiB) aligned to CONFIG_PHYSICAL_ALIGN (2 MiB, Debian's and Kconfig's default).
// - Every RAM entry of the firmware's e820 table is clipped to [minimum, mem_limit), and split around the unsafe
//   ranges (mem_avoid[]) in __process_mem_region(); each piece that holds the image gives
//   1 + (size - image_size) / CONFIG_PHYSICAL_ALIGN slots (store_slot_info, at most MAX_SLOT_AREA = 100 pieces).
// - slots_fetch_random(): kaslr_get_random_long("Physical") % slot_max, counted through the pieces in order.
// - x86_64's virtual offset: find_random_virt_addr(LOAD_PHYSICAL_ADDR, image_size): 1 + (KERNEL_IMAGE_SIZE (1 GiB)
//   - 16 MiB - image_size) / CONFIG_PHYSICAL_ALIGN slots, kaslr_get_random_long("Virtual") % slots.
//
// Simplifications (stated): the unsafe ranges are the decompressor's own buffer [16 MiB, 16 MiB + image size)
// (MEM_AVOID_ZO_RANGE: the compressed kernel sits at the end of the output buffer, so any slot at 16 MiB overlaps
// it) and the initrd (MEM_AVOID_INITRD); the command line, boot_params and setup_data lie below 1 MiB on QEMU, under
// the minimum, and are not listed. init_size is taken as the image's extent [_text, _end). The kernel's
// kaslr_get_random_long() mixes RDRAND, RDTSC and the i8254; here each purpose ("Physical", "Virtual", "Memory")
// draws from its own stream derived from --seed, so one seed always gives the same machine.

import type { MemMapEntry } from "../types.ts";
import { kaslrRandomLong } from "./x86_64.ts";

export const LOAD_PHYSICAL_ADDR = 0x1000000;
export const PHYSICAL_ALIGN = 0x200000;
const MAX_SLOT_AREA = 100;

interface Range {
  start: number;
  end: number;
}

export interface KaslrInput {
  /** The firmware's e820 table (boot_params.e820_table). */
  e820: MemMapEntry[];
  /** The image's extent [_text, _end) in bytes (output_size). */
  imageSize: number;
  /** mem_limit before mem=: KERNEL_IMAGE_SIZE on x86_32, MAXMEM on x86_64. */
  memLimit: number;
  /** mem=N from the command line, if any. */
  memParam?: number;
  /** The initrd where the boot loader put it. */
  initrd?: Range;
  /** x86_64: pick a virtual offset too (KERNEL_IMAGE_SIZE 1 GiB). */
  virtualWindow?: number;
}

export interface KaslrChoice {
  /** Physical address of _text. */
  phys: number;
  /** Offset of _text from __START_KERNEL_map (x86_64) — equal to phys on x86_32. */
  virtOffset: number;
  /** The number of physical slots the choice was made from (0 when physical KASLR found no room). */
  slots: number;
}

/** kaslr_get_random_long(purpose): one stream per purpose, all from the boot seed ("Memory" keeps its old stream). */
export function kaslrGetRandomLong(seed: number, purpose: "Physical" | "Virtual" | "Memory"): bigint {
  const base = kaslrRandomLong(seed);
  if (purpose === "Memory") return base;
  let h = 0xcbf29ce484222325n;
  for (const c of purpose) h = BigInt.asUintN(64, (h ^ BigInt(c.charCodeAt(0))) * 0x100000001b3n);
  return kaslrRandomLong(Number(BigInt.asUintN(52, base ^ h)));
}

/** The slot areas __process_mem_region() stores for one boot: [{addr, num}], in e820 order. */
export function kaslrSlotAreas(inp: KaslrInput, minimum = LOAD_PHYSICAL_ADDR): { addr: number; num: number }[] {
  let memLimit = inp.memLimit;
  if (inp.memParam !== undefined && inp.memParam > 0 && inp.memParam < memLimit) memLimit = inp.memParam;
  const min = Math.ceil(Math.min(minimum, 512 * 2 ** 20) / PHYSICAL_ALIGN) * PHYSICAL_ALIGN;
  if (min + inp.imageSize > memLimit) return [];
  const avoid: Range[] = [{ start: LOAD_PHYSICAL_ADDR, end: LOAD_PHYSICAL_ADDR + inp.imageSize }];
  if (inp.initrd && inp.initrd.end > inp.initrd.start) avoid.push(inp.initrd);
  const areas: { addr: number; num: number }[] = [];
  const size = inp.imageSize;
  for (const e of inp.e820) {
    if (e.type !== "usable" || areas.length >= MAX_SLOT_AREA) continue;
    let start = Math.max(e.start, min);
    const end = Math.min(e.end, memLimit);
    while (areas.length < MAX_SLOT_AREA) {
      start = Math.ceil(start / PHYSICAL_ALIGN) * PHYSICAL_ALIGN;
      if (start > end || end - start < size) break;
      // mem_avoid_overlap(): the lowest unsafe range overlapping [start, end).
      let overlap: Range | undefined;
      for (const a of avoid) if (a.start < end && a.end > start && (!overlap || a.start < overlap.start)) overlap = a;
      if (!overlap) {
        areas.push({ addr: start, num: 1 + Math.floor((end - start - size) / PHYSICAL_ALIGN) });
        break;
      }
      if (overlap.start >= start + size) areas.push({ addr: start, num: 1 + Math.floor((overlap.start - start - size) / PHYSICAL_ALIGN) });
      start = overlap.end;
    }
  }
  return areas;
}

/** choose_random_location(): undefined when KASLR is off (`nokaslr`, or no seed to draw from). */
export function chooseRandomLocation(inp: KaslrInput, seed: number | undefined, nokaslr: boolean): KaslrChoice | undefined {
  if (seed === undefined || nokaslr) return undefined;
  const areas = kaslrSlotAreas(inp);
  const slotMax = areas.reduce((s, a) => s + a.num, 0);
  let phys = LOAD_PHYSICAL_ADDR; // "Physical KASLR disabled: no suitable memory region!" keeps the output address
  if (slotMax > 0) {
    let slot = Number(kaslrGetRandomLong(seed, "Physical") % BigInt(slotMax));
    for (const a of areas) {
      if (slot >= a.num) {
        slot -= a.num;
        continue;
      }
      phys = a.addr + slot * PHYSICAL_ALIGN;
      break;
    }
  }
  let virtOffset = phys;
  if (inp.virtualWindow !== undefined) {
    const slots = 1 + Math.floor((inp.virtualWindow - LOAD_PHYSICAL_ADDR - inp.imageSize) / PHYSICAL_ALIGN);
    virtOffset = Number(kaslrGetRandomLong(seed, "Virtual") % BigInt(slots)) * PHYSICAL_ALIGN + LOAD_PHYSICAL_ADDR;
  }
  return { phys, virtOffset, slots: slotMax };
}
