// Models the percpu allocator's page accounting of Linux 6.1 (mm/percpu.c pcpu_nr_pages(), pcpu_balance_populated(),
// PCPU_EMPTY_POP_PAGES_LOW) as far as the boot leaves it: meminfo's "Percpu:" line.
//
// Percpu = pcpu_nr_populated x pcpu_nr_units pages:
// - the first chunk (static + reserved + dynamic part, from memblock: the arch's "percpu" reservation) is populated
//   whole;
// - where the boot's percpu allocations overflowed the first chunk, a second chunk exists (its VM area is the
//   "pcpu_get_vm_areas" line mm/vmalloc_boot.ts replays). The allocation that created it populated the page it took,
//   and the balance work keeps PCPU_EMPTY_POP_PAGES_LOW (2) empty populated pages: 3 pages per unit, taken from the
//   page allocator. This is the real boots' Percpu less their first chunk: x86_64 260 - 248 kB, armmp 84 - 72 kB;
//   i386 (no second chunk) is its first chunk, 132 kB.
//
// For the alloc_percpu() API (issue 19): percpuDynamicPages is the one counter of populated pages outside the first
// chunk; an allocator that populates more pages adds to it (pcpuPopulate), and percpuMeminfoKb() reads it.

import type { Kernel } from "../kernel.ts";
import { SideTable } from "../snapshot.ts";
import { gfp } from "../gfp.ts";
import { PageOwner } from "./page_flags.ts";

/** PCPU_EMPTY_POP_PAGES_LOW: the empty populated pages pcpu_balance_workfn keeps. */
export const PCPU_EMPTY_POP_PAGES_LOW = 2;

/** Populated pages outside the first chunk, per unit (a kernel snapshot copies the table). */
const dynamicPages = new SideTable<object, number>();

/** The first chunk's bytes: the arch's memblock "percpu" reservations. */
function firstChunkBytes(k: Kernel): number {
  let bytes = 0;
  for (const r of k.layout.reservations) if (/percpu/i.test(r.what)) bytes += r.end - r.start;
  return bytes;
}

/** Populated pages per unit outside the first chunk. */
export function percpuDynamicPages(k: Kernel): number {
  return dynamicPages.get(k) ?? 0;
}

/** The frames of the populated pages outside the first chunk, in population order: [page][unit] (mm/percpu.ts maps them). */
const dynamicFrames = new SideTable<object, number[][]>();

export function percpuDynamicFrames(k: Kernel): readonly (readonly number[])[] {
  return dynamicFrames.get(k) ?? [];
}

/** pcpu_populate_chunk(): `pages` more pages in every unit (one per CPU), from the page allocator; their frames. */
export function pcpuPopulate(k: Kernel, pages: number): number[][] {
  const mask = gfp(k.profile.era, "GFP_KERNEL") | gfp(k.profile.era, "__GFP_ZERO");
  const frames = dynamicFrames.get(k) ?? [];
  const out: number[][] = [];
  for (let i = 0; i < pages; i++) {
    const units: number[] = [];
    for (let u = 0; u < k.profile.nrCpus; u++) units.push(k.pages.alloc_pages(mask, 0, PageOwner.Kernel));
    if (units.some((pfn) => pfn < 0)) {
      for (const pfn of units) if (pfn >= 0) k.pages.__free_pages(pfn, 0);
      break;
    }
    out.push(units);
  }
  frames.push(...out);
  dynamicFrames.set(k, frames);
  dynamicPages.set(k, percpuDynamicPages(k) + out.length);
  return out;
}

/** After the boot's vmalloc replay (6.1): populate the second chunk if the boot created one (see the header). */
export function pcpu_boot_balance(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  let second = false;
  for (const n of k.vmalloc.busy.inorder()) if (n.data?.vm?.caller.startsWith("pcpu_get_vm_areas")) second = true;
  if (second) pcpuPopulate(k, 1 + PCPU_EMPTY_POP_PAGES_LOW);
}

/** meminfo's Percpu, kB: the first chunk's pages plus the populated pages of the other chunks, for every unit. */
export function percpuMeminfoKb(k: Kernel): number {
  const firstPages = Math.ceil(firstChunkBytes(k) / 4096);
  return (firstPages + percpuDynamicPages(k) * k.profile.nrCpus) * 4;
}
