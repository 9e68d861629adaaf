// Models mm/percpu.c of Linux 6.1 (and 3.4, which has the same chunk allocator): __alloc_percpu / free_percpu /
// per_cpu_ptr for a module, over the chunks the boot left (mm/percpu_boot.ts) and the chunks it creates.
//
// A percpu allocation is one area at the same offset in every unit of a chunk (one unit per possible CPU): the
// __percpu pointer names the area, per_cpu_ptr(p, cpu) is the address in CPU cpu's unit. The first chunk is the
// memblock "percpu" block in the linear map (static variables, the reserved module area, a small dynamic area); the
// later chunks are vmalloc space from pcpu_get_vm_areas() (one "pcpu_get_vm_areas+0x0/..." line in vmallocinfo,
// nr_units x unit_size at the top of the vmalloc area), whose pages are populated (allocated in every unit and
// mapped) as allocations reach them: meminfo's Percpu counts every populated page of every unit.
//   - pcpu_alloc(): size rounded up to PCPU_MIN_ALLOC_SIZE (4), align at least 4; size 0, size > PCPU_MIN_UNIT_SIZE
//     (32 KiB), align > PAGE_SIZE or not a power of two: WARN "illegal size (%zu) or align (%zu) for percpu
//     allocation" and NULL. The first fit in the first chunk with room, else a new chunk.
//   - population: the pages an allocation touches are populated before it returns; then pcpu_balance_populated()
//     (the balance work) keeps PCPU_EMPTY_POP_PAGES_LOW (2) populated pages with nothing in them.
//   - a new chunk (pcpu_create_chunk): its metadata from pcpu_mem_zalloc() (kzalloc up to a page, vmalloc above:
//     alloc_map = unit_size/4 bits, bound_map one bit more, md_blocks 32 bytes per page, and 6.1's obj_cgroups, a
//     pointer per 4 bytes, for memcg accounting), which is what the real boots' vmallocinfo shows as the
//     pcpu_create_chunk areas (x86_64: 16, 17, 4 and 1024 pages; armmp: 18 pages), then the VM area.
//   - free_percpu(): the area is free again; its pages stay populated (6.1 depopulates only chunks the balance work
//     isolates as mostly empty, not modelled), so Percpu does not go down.
//   - kmemleak: 6.1 scans percpu objects but never reports them (kmemleak_alloc_percpu gives them min_count 0; percpu
//     leak reports came in 6.7): a module that forgets free_percpu is not reported, its pages just stay.
// Simplifications: the boot's use of the chunks is not in the references: the first chunk is taken as full (the
// x86_64 and armmp boots needed a second chunk, so their first one had no room left for it), and the boot's second
// chunk as using its first page; the small kzalloc'ed metadata (the chunk struct, maps up to a page) is not
// allocated; the __percpu pointer is the x86_64 form (the address in unit 0 minus __per_cpu_offset[0], with
// __per_cpu_start 0) on x86_64 and the unit-0 address on the 32-bit and arm64 machines; the 2.6.26 allocator
// (mm/allocpercpu.c, a kmalloc per CPU) is not modelled.

import type { Kernel } from "../kernel.ts";
import { SideTable } from "../snapshot.ts";
import { PCPU_EMPTY_POP_PAGES_LOW, pcpuPopulate, percpuDynamicFrames } from "./percpu_boot.ts";
import { warn } from "../debug/splat.ts";
import { KERN_WARNING } from "../kernel/printk.ts";

const PAGE = 4096;
/** The WARN's line in mm/percpu.c: not from a 6.1 listing (the references have none); the message is the kernel's. */
const PCPU_ALLOC_WARN_LINE = 1753;
/** PCPU_MIN_ALLOC_SIZE (4 since 4.14's bitmap allocator; 3.4 aligned to 2: the simulator uses 4 everywhere). */
export const PCPU_MIN_ALLOC_SIZE = 4;
/** PCPU_MIN_UNIT_SIZE: the largest allocation pcpu_alloc accepts. */
export const PCPU_MIN_UNIT_SIZE = 32 * 1024;

interface Chunk {
  /** Unit 0's start (a linear-map address for the first chunk, vmalloc for the others). */
  base: bigint;
  /** Allocated areas [off, off + size), sorted by offset. */
  areas: { off: number; size: number }[];
  /** Populated page indices. */
  populated: Set<number>;
  /** Pages the boot uses (never handed out here). */
  bootUsed: number;
}

interface PercpuState {
  unitSize: number;
  chunks: Chunk[];
  /** __percpu pointer -> [chunk index, offset, size]. */
  live: Map<bigint, { chunk: number; off: number; size: number }>;
  /** pcpu_base_addr: the first chunk's base. */
  baseAddr: bigint;
}

const states = new SideTable<object, PercpuState>();

/** pcpu_unit_size per profile (the "percpu: Embedded ... u%zu" of the real boots: x86_64 2 MiB, i386 33 pages, armmp 18). */
export function pcpuUnitSize(k: Kernel): number {
  const { arch, era } = k.profile;
  if (arch === "x86_64") return 2 * 1024 * 1024;
  if (arch === "i386") return era === "6.1" ? 33 * PAGE : 5 * PAGE;
  if (arch === "arm") return era === "6.1" ? 18 * PAGE : 8 * PAGE;
  return 31 * PAGE;
}

function state(k: Kernel): PercpuState {
  let s = states.get(k);
  if (s) return s;
  const first = k.layout.reservations.find((r) => /percpu/i.test(r.what));
  const baseAddr = first ? k.layout.pageOffset + BigInt(first.start) - BigInt(k.layout.physOffset ?? 0) : 0n;
  s = { unitSize: pcpuUnitSize(k), chunks: [], live: new Map(), baseAddr };
  // The boot's second chunk (6.1 x86_64, armmp): its VM area, its populated pages (percpu_boot.ts, mapped by
  // pcpu_map_boot_chunk() at boot).
  const vm = k.vmalloc.areas().find((a) => a.caller.startsWith("pcpu_get_vm_areas"));
  if (vm) {
    const chunk: Chunk = { base: vm.start, areas: [], populated: new Set(), bootUsed: 1 };
    percpuDynamicFrames(k).forEach((_units, page) => chunk.populated.add(page));
    s.chunks.push(chunk);
  }
  states.set(k, s);
  return s;
}

/**
 * pcpu_populate_chunk() -> pcpu_map_pages() for the boot's second chunk (6.1): the pages pcpu_boot_balance() populated,
 * mapped in every unit while the kernel boots, as the real balance work does. The tables the mapping needs are the
 * kernel's own (x86_64: a PMD page for the top gigabyte of the vmalloc area, which NR_PAGETABLE counts, and a PTE page).
 */
export function pcpu_map_boot_chunk(k: Kernel): void {
  const vm = k.vmalloc.areas().find((a) => a.caller.startsWith("pcpu_get_vm_areas"));
  if (!vm) return;
  const unitSize = pcpuUnitSize(k);
  percpuDynamicFrames(k).forEach((units, page) => units.forEach((pfn, u) => mapUnitPage(k, vm.start, u * unitSize + page * PAGE, pfn)));
}

/** pcpu_map_pages() for one unit's page: map it and record it in the chunk's vm_struct (the vmalloc invariants read it). */
function mapUnitPage(k: Kernel, chunkBase: bigint, off: number, pfn: number): void {
  k.pgtable.mapKernelPage(chunkBase + BigInt(off), pfn);
  const vm = k.vmalloc.find_vm_area(chunkBase);
  if (!vm) return;
  (vm.ownerMapped ??= new Map()).set(off / PAGE, pfn);
}

function nrUnits(k: Kernel): number {
  return k.profile.nrCpus;
}

/** The caller texts of the chunk metadata's vmalloc areas, per arch (the real boots' vmallocinfo). */
function chunkCaller(k: Kernel, which: "alloc_map" | "bound_map" | "md_blocks" | "obj_cgroups" | "vm"): string {
  const { arch } = k.profile;
  if (which === "vm")
    return (
      k.vmalloc.areas().find((a) => a.caller.startsWith("pcpu_get_vm_areas"))?.caller ??
      (arch === "arm" ? "pcpu_get_vm_areas+0x0/0x1214" : "pcpu_get_vm_areas+0x0/0x1080")
    );
  if (arch === "arm") return "pcpu_create_chunk+0x16c/0x1ac";
  return {
    alloc_map: "pcpu_create_chunk+0x4e/0x1b0",
    bound_map: "pcpu_create_chunk+0x75/0x1b0",
    md_blocks: "pcpu_create_chunk+0x92/0x1b0",
    obj_cgroups: "pcpu_create_chunk+0x167/0x1b0",
  }[which];
}

/** A vmalloc area the percpu allocator holds for the kernel (not the module's: no leak at rmmod), with its page array's. */
export function kernelOwnedArea(k: Kernel, addr: bigint): void {
  const vm = k.vmalloc.find_vm_area(addr);
  if (!vm) return;
  vm.owner = "boot";
  const arr = vm.pagesArrayAddr ? k.vmalloc.find_vm_area(vm.pagesArrayAddr) : null;
  if (arr) arr.owner = "boot";
}

/** pcpu_create_chunk(): metadata (pcpu_mem_zalloc: vmalloc above a page) and the VM area. Null when it cannot. */
function createChunk(k: Kernel, s: PercpuState): Chunk | null {
  const v = k.vmalloc;
  const bits = s.unitSize / PCPU_MIN_ALLOC_SIZE;
  const long = k.layout.bits / 8;
  const meta: [number, Parameters<typeof chunkCaller>[1]][] = [
    [Math.ceil(bits / (8 * long)) * long, "alloc_map"],
    [Math.ceil((bits + 1) / (8 * long)) * long, "bound_map"],
    [(s.unitSize / PAGE) * 32, "md_blocks"],
  ];
  if (k.profile.era === "6.1") meta.push([bits * long, "obj_cgroups"]); // CONFIG_MEMCG_KMEM: an obj_cgroup pointer per slot
  if (k.profile.era === "6.1")
    for (const [size, which] of meta)
      if (size > PAGE) kernelOwnedArea(k, v.__vmalloc_node_range(size, 1, v.vmallocStart, v.vmallocEnd, v.GFP_KERNEL, "kernel", 0, chunkCaller(k, which)));
  const atom = k.profile.arch === "x86_64" ? 2 * 1024 * 1024 : PAGE;
  const vm = v.pcpu_get_vm_area(s.unitSize * nrUnits(k), atom, chunkCaller(k, "vm"));
  if (!vm) return null;
  vm.owner = "boot";
  const chunk: Chunk = { base: vm.addr, areas: [], populated: new Set(), bootUsed: 0 };
  s.chunks.push(chunk);
  return chunk;
}

/** First fit of size/align in a chunk's unit, after the boot's pages; -1 if none. */
function fit(s: PercpuState, c: Chunk, size: number, align: number): number {
  let off = c.bootUsed * PAGE;
  for (const a of c.areas) {
    const at = Math.ceil(off / align) * align;
    if (at + size <= a.off) return at;
    off = Math.max(off, a.off + a.size);
  }
  const at = Math.ceil(off / align) * align;
  return at + size <= s.unitSize ? at : -1;
}

/** Populate pages [from, to] of a chunk in every unit (pcpu_populate_chunk + pcpu_map_pages). False if out of memory. */
function populate(k: Kernel, s: PercpuState, c: Chunk, pages: number[]): boolean {
  const want = pages.filter((p) => !c.populated.has(p));
  if (!want.length) return true;
  const got = pcpuPopulate(k, want.length);
  got.forEach((units, i) => {
    c.populated.add(want[i]!);
    units.forEach((pfn, u) => mapUnitPage(k, c.base, u * s.unitSize + want[i]! * PAGE, pfn));
  });
  return got.length === want.length;
}

/** Populated pages with no allocation in them (the boot's pages count as used). */
function emptyPopulated(c: Chunk): number[] {
  return [...c.populated].filter((p) => p >= c.bootUsed && !c.areas.some((a) => a.off < (p + 1) * PAGE && a.off + a.size > p * PAGE));
}

/** pcpu_balance_populated(): keep PCPU_EMPTY_POP_PAGES_LOW empty populated pages, filling the last chunk in order. */
function balance(k: Kernel, s: PercpuState): void {
  const empty = s.chunks.reduce((n, c) => n + emptyPopulated(c).length, 0);
  let need = PCPU_EMPTY_POP_PAGES_LOW - empty;
  for (const c of s.chunks) {
    for (let p = c.bootUsed; need > 0 && p < s.unitSize / PAGE; p++) {
      if (c.populated.has(p) || c.areas.some((a) => a.off < (p + 1) * PAGE && a.off + a.size > p * PAGE)) continue;
      if (!populate(k, s, c, [p])) return;
      need--;
    }
  }
}

/** The __percpu pointer of unit-0 address a (see the header). */
function toPcpuPtr(k: Kernel, s: PercpuState, a: bigint): bigint {
  return k.profile.arch === "x86_64" ? BigInt.asUintN(64, a - s.baseAddr) : a;
}
function fromPcpuPtr(k: Kernel, s: PercpuState, p: bigint): bigint {
  return k.profile.arch === "x86_64" ? BigInt.asUintN(64, p + s.baseAddr) : p;
}

/** __alloc_percpu(size, align) (GFP_KERNEL): the __percpu pointer, 0n on failure (with the kernel's message). */
export function __alloc_percpu(k: Kernel, size: number, align: number): bigint {
  // the minimum first, then the check (as pcpu_alloc does: the WARN prints the rounded size)
  if (align < PCPU_MIN_ALLOC_SIZE) align = PCPU_MIN_ALLOC_SIZE;
  size = Math.ceil(size / PCPU_MIN_ALLOC_SIZE) * PCPU_MIN_ALLOC_SIZE;
  if (size === 0 || size > PCPU_MIN_UNIT_SIZE || align > PAGE || (align & (align - 1)) !== 0) {
    warn(k, {
      file: "mm/percpu.c",
      line: PCPU_ALLOC_WARN_LINE,
      fn: "pcpu_alloc",
      kernelFrames: ["__alloc_percpu"],
      message: `illegal size (${size}) or align (${align}) for percpu allocation`,
    });
    return 0n;
  }
  k.sched.might_sleep("kernel/locking/mutex.c", 0, ["mutex_lock_killable", "pcpu_alloc", "__alloc_percpu"]); // pcpu_alloc_mutex
  const s = state(k);
  let ci = -1;
  let off = -1;
  for (let i = 0; i < s.chunks.length && off < 0; i++) {
    off = fit(s, s.chunks[i]!, size, align);
    if (off >= 0) ci = i;
  }
  if (off < 0) {
    const c = createChunk(k, s);
    if (c) {
      ci = s.chunks.length - 1;
      off = fit(s, c, size, align);
    }
  }
  const fail = (err: string) => {
    k.printk(KERN_WARNING + "percpu: allocation failed, size=%zu align=%zu atomic=%d, %s\n", size, align, 0, err);
    return 0n;
  };
  if (off < 0) return fail("failed to allocate new chunk");
  const c = s.chunks[ci]!;
  const pages: number[] = [];
  for (let p = Math.floor(off / PAGE); p <= Math.floor((off + size - 1) / PAGE); p++) pages.push(p);
  if (!populate(k, s, c, pages)) return fail("failed to populate");
  c.areas.push({ off, size });
  c.areas.sort((a, b) => a.off - b.off);
  balance(k, s);
  const ptr = toPcpuPtr(k, s, c.base + BigInt(off));
  s.live.set(ptr, { chunk: ci, off, size });
  // pcpu_alloc() returns zeroed memory (the pages came zeroed; a reused area is memset in every unit)
  for (let u = 0; u < nrUnits(k); u++) k.mem.memset(c.base + BigInt(u * s.unitSize + off), 0, size);
  return ptr;
}

/** free_percpu(ptr): NULL is fine; a pointer alloc_percpu never returned is the kernel's WARN (here: an error). */
export function free_percpu(k: Kernel, ptr: bigint): boolean {
  if (ptr === 0n) return true;
  const s = state(k);
  const a = s.live.get(ptr);
  if (!a) return false;
  s.live.delete(ptr);
  const c = s.chunks[a.chunk]!;
  c.areas = c.areas.filter((x) => x.off !== a.off);
  return true;
}

/** per_cpu_ptr(ptr, cpu): the address of CPU cpu's copy. Undefined for a pointer alloc_percpu never returned. */
export function per_cpu_ptr(k: Kernel, ptr: bigint, cpu: number): bigint | undefined {
  const s = state(k);
  if (!s.live.has(ptr)) return undefined;
  return fromPcpuPtr(k, s, ptr) + BigInt(cpu * s.unitSize);
}

/** Bytes a module holds in percpu areas now (per unit), for the tests and views. */
export function percpuLiveBytes(k: Kernel): number {
  let n = 0;
  for (const a of state(k).live.values()) n += a.size;
  return n;
}
