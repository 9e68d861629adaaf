// Models mm/percpu.c pcpu_build_alloc_info(), pcpu_embed_first_chunk() and pcpu_dump_alloc_info(), with
// arch/x86/kernel/setup_percpu.c setup_per_cpu_areas() and the generic one ARM uses (Linux 6.1): the first chunk's
// geometry and the boot lines "setup_percpu: NR_CPUS:...", "percpu: Embedded N pages/cpu s.. r.. d.. u.." and
// "pcpu-alloc: ...", printed before build_all_zonelists() as the real boots show.
//
// What is a property of the build, taken from the real transcripts: the static per-CPU section (__per_cpu_load's size:
// amd64 217088, 686 103316, armmp 45012 bytes; arm64 86696, the Debian arm64 build's "s86696", no transcript here) and NR_CPUS (amd64 8192, 686 32, armmp 8 with no setup_percpu line).
// What is derived: reserved = PERCPU_MODULE_RESERVE (8 KiB) where the arch passes it (x86_64's
// PERCPU_FIRST_CHUNK_RESERVE, the generic code always; 0 on i386), dynamic = PERCPU_DYNAMIC_RESERVE (28 KiB on 64-bit,
// 20 KiB on 32-bit; x86 adds PERCPU_MODULE_RESERVE less what it reserved) grown to fill the page-aligned sum, the atom
// (PMD_SIZE on x86_64, a page elsewhere), units per allocation (the fewest allocations with no more than a third of
// the possible CPUs' units wasted) and the unit size. Simplification: one node, every possible CPU present.

import type { Kernel } from "../kernel.ts";
import { KERN_DEBUG, KERN_INFO } from "../kernel/printk.ts";

const PAGE = 4096;
const PERCPU_MODULE_RESERVE = 8 << 10;
const PCPU_MIN_UNIT_SIZE = 32 << 10;

export interface FirstChunk {
  staticSize: number;
  reserved: number;
  dyn: number;
  unit: number;
  atom: number;
  /** Units per allocation. */
  upa: number;
  /** PFN_DOWN(size_sum): the pages each CPU's unit uses. */
  pagesPerCpu: number;
}

const STATIC: Record<string, number> = { x86_64: 217088, i386: 103316, arm: 45012, arm64: 86696 };

/** The first chunk of a 6.1 build (see the header). */
export function pcpuFirstChunk(arch: string, nrCpus: number): FirstChunk {
  const staticSize = STATIC[arch] ?? STATIC.x86_64!;
  const x86 = arch === "x86_64" || arch === "i386";
  const dynamicReserve = arch === "x86_64" || arch === "arm64" ? 28 << 10 : 20 << 10;
  const reserved = arch === "i386" ? 0 : PERCPU_MODULE_RESERVE;
  const dynRequest = x86 ? PERCPU_MODULE_RESERVE + dynamicReserve - reserved : dynamicReserve;
  const sizeSum = Math.ceil((staticSize + reserved + dynRequest) / PAGE) * PAGE;
  const dyn = sizeSum - staticSize - reserved;
  const atom = arch === "x86_64" ? 2 << 20 : PAGE;
  const minUnit = Math.max(sizeSum, PCPU_MIN_UNIT_SIZE);
  const allocSize = Math.ceil(minUnit / atom) * atom;
  let maxUpa = Math.floor(allocSize / minUnit);
  while (allocSize % maxUpa || (allocSize / maxUpa) % PAGE) maxUpa--;
  let best = 1;
  let lastAllocs = Infinity;
  for (let upa = maxUpa; upa; upa--) {
    if (allocSize % upa || (allocSize / upa) % PAGE) continue;
    const allocs = Math.ceil(nrCpus / upa);
    const wasted = allocs * upa - nrCpus;
    if (wasted > Math.floor(nrCpus / 3)) continue;
    if (allocs > lastAllocs) break;
    lastAllocs = allocs;
    best = upa;
  }
  return { staticSize, reserved, dyn, unit: allocSize / best, atom, upa: best, pagesPerCpu: sizeSum / PAGE };
}

/** setup_per_cpu_areas()'s lines (6.1). */
export function pcpu_print_setup(k: Kernel): void {
  const { arch, era, nrCpus } = k.profile;
  if (era !== "6.1") return;
  const fc = pcpuFirstChunk(arch, nrCpus);
  if (arch === "x86_64" || arch === "i386") {
    const nrCpusBuild = arch === "x86_64" ? 8192 : 32;
    k.printk(KERN_INFO + "setup_percpu: NR_CPUS:%d nr_cpumask_bits:%d nr_cpu_ids:%u nr_node_ids:%u\n", nrCpusBuild, nrCpus, nrCpus, 1);
  }
  const u = () => `s${fc.staticSize} r${fc.reserved} d${fc.dyn} u${fc.unit}`;
  k.printk(KERN_INFO + "percpu: Embedded %zu pages/cpu %s\n", fc.pagesPerCpu, u());
  // pcpu_dump_alloc_info(KERN_DEBUG): the geometry, then "[group] cpu cpu ..." per allocation, apl to a line
  let cpuWidth = 1;
  for (let v = nrCpus; (v = Math.floor(v / 10));) cpuWidth++;
  const width = fc.upa * (cpuWidth + 1) + 1 + 3;
  const apl = 2 ** Math.floor(Math.log2(Math.max(Math.floor(60 / width), 1)));
  const allocs = Math.ceil(nrCpus / fc.upa);
  const lines: string[] = [];
  let cur = "";
  for (let a = 0; a < allocs; a++) {
    if (a % apl === 0) {
      if (a) lines.push(cur);
      cur = "";
    }
    cur += "[0] ";
    for (let i = a * fc.upa; i < (a + 1) * fc.upa; i++) cur += i < nrCpus ? String(i).padStart(cpuWidth, "0") + " " : " ".repeat(cpuWidth) + " ";
  }
  lines.push(cur);
  k.printk(KERN_DEBUG + "pcpu-alloc: %s alloc=%zu*%zu\n", u(), (fc.unit * fc.upa) / fc.atom, fc.atom);
  for (const l of lines) k.printk(KERN_DEBUG + "pcpu-alloc: %s\n", l);
}
