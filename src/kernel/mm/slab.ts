// Models mm/slab.c of Linux 2.6.26 (the SLAB allocator: kmem_cache_create's layout, cache_estimate,
// calculate_slab_order, colouring, enable_cpucache), for the 2.6 profile.
//
// Only the arithmetic lives here; the object lifecycle is the shared engine in slub.ts (see its header), run with
// SLAB's list policy: slabs_partial / slabs_full / slabs_free, allocation from a partial slab first, then a free
// one, then cache_grow(); free slabs beyond free_limit are destroyed at once (free_block()).
//
// Decisions and simplifications (say them to the learner):
// - The general caches are kmalloc_sizes.h as it stood up to 2.6.22 on MMU machines: size-32 ... size-131072 and
//   the size-N(DMA) twins, nothing above (so kmalloc(131073) returns NULL silently, the textbook "128 KB limit").
//   NOTE: real 2.6.23+ kernels, 2.6.26 included, continued the table to size-4194304 (KMALLOC_MAX_SIZE); the
//   profile keeps the older table because that is the era the lessons teach. kmalloc(0) returns ZERO_SIZE_PTR as
//   2.6.23+ does (2.6.22 and earlier handed out a size-32 object).
// - L1_CACHE_BYTES / cache_line_size() = 128 on i386 (CONFIG_X86_GENERIC sets L1_CACHE_SHIFT 7), so there is no
//   size-96 or size-192 (kmalloc_sizes.h drops them when L1_CACHE_BYTES >= 64 / >= 128).
// - Off-slab management (CFLGS_OFF_SLAB, objects >= PAGE_SIZE/8) is real: the struct slab + bufctl array of an
//   off-slab cache is allocated from the general cache that fits it (slabp_cache), so size-512 slabs show up as
//   size-64 objects, as on a real machine.
// - Per-CPU array caches (and the shared array) are folded away: an object freed goes straight back to its slab.
//   The real SLAB keeps up to `limit` freed objects per CPU, and /proc/slabinfo counts them as active; here they
//   are not. The tunables printed (limit/batchcount/sharedfactor) are enable_cpucache()'s real values.
// - CONFIG_DEBUG_SLAB (red zones of 8 bytes, "slab error in ...", the statistics columns) is not modelled: the 2.6
//   debug profile runs its slabs like the distribution kernel.

import { ALIGN, PAGE_SIZE } from "./slab_common.ts";
import { CFLGS_OFF_SLAB, SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT } from "./slab_common.ts";

/** sizeof(struct slab) on the 32-bit machines of the era: list_head, colouroff, s_mem, inuse, free, nodeid (padded). */
export const SIZEOF_STRUCT_SLAB_32 = 28;
export const SIZEOF_STRUCT_SLAB_64 = 48;
/** sizeof(kmem_bufctl_t) (an unsigned int). */
export const SIZEOF_BUFCTL = 4;
const SLAB_LIMIT = 0xffffffff - 3;
/** BREAK_GFP_ORDER_HI: above 32 MB of RAM SLAB stops growing slabs past order 1 unless fragmentation demands it. */
const BREAK_GFP_ORDER_HI = 1;
const BREAK_GFP_ORDER_LO = 0;
const KMALLOC_MAX_ORDER = 10;

export interface SlabLayout {
  /** buffer_size: the object slot (objsize column). */
  size: number;
  objectSize: number;
  align: number;
  flags: number;
  /** num: objects per slab. */
  objects: number;
  /** gfporder. */
  order: number;
  /** Bytes left over in a slab, and the colours that spread the first object over cache lines. */
  leftOver: number;
  colour: number;
  colourOff: number;
  /** slab_size: the management area (struct slab + bufctls); on-slab it precedes the objects. */
  mgmtSize: number;
  offSlab: boolean;
  limit: number;
  batchcount: number;
  shared: number;
}

export interface SlabMachine {
  wordSize: number; // BYTES_PER_WORD
  cacheLine: number;
  nrCpus: number;
  totalPages: number; // num_physpages
}

function slab_mgmt_size(structSlab: number, nr: number, align: number): number {
  return ALIGN(structSlab + nr * SIZEOF_BUFCTL, align);
}

/** cache_estimate(): objects per slab of 2^order pages, and what is left over. */
export function cache_estimate(structSlab: number, order: number, size: number, align: number, offSlab: boolean): { num: number; leftOver: number } {
  const slabSize = PAGE_SIZE << order;
  let nr: number;
  let mgmt: number;
  if (offSlab) {
    mgmt = 0;
    nr = Math.min(Math.floor(slabSize / size), SLAB_LIMIT);
  } else {
    nr = Math.floor((slabSize - structSlab) / (size + SIZEOF_BUFCTL));
    if (slab_mgmt_size(structSlab, nr, align) + nr * size > slabSize) nr--;
    nr = Math.min(nr, SLAB_LIMIT);
    mgmt = slab_mgmt_size(structSlab, nr, align);
  }
  return { num: nr, leftOver: slabSize - nr * size - mgmt };
}

/**
 * kmem_cache_create()'s layout for SLAB (2.6.26): word-align the size, pick the alignment, decide on/off-slab
 * management, calculate_slab_order(), colour, enable_cpucache(). `early` is slab_early_init (the first two
 * general caches, which must be on-slab).
 */
export function slabLayout(m: SlabMachine, objectSize: number, align: number, flags: number, early = false): SlabLayout {
  const word = m.wordSize;
  const structSlab = word === 8 ? SIZEOF_STRUCT_SLAB_64 : SIZEOF_STRUCT_SLAB_32;
  let size = ALIGN(objectSize, word);
  let ralign: number;
  if (flags & SLAB_HWCACHE_ALIGN) {
    ralign = m.cacheLine;
    while (size <= ralign / 2) ralign /= 2;
  } else {
    ralign = word;
  }
  // ARCH_SLAB_MINALIGN is 0 on i386/ARM of the era; the caller's alignment wins if larger.
  if (ralign < align) ralign = align;
  align = ralign;

  let offSlab = size >= PAGE_SIZE >> 3 && !early;
  size = ALIGN(size, align);

  // calculate_slab_order()
  const breakOrder = m.totalPages > (32 << 20) / PAGE_SIZE ? BREAK_GFP_ORDER_HI : BREAK_GFP_ORDER_LO;
  let num = 0;
  let order = 0;
  let leftOver = 0;
  for (let o = 0; o <= KMALLOC_MAX_ORDER; o++) {
    const est = cache_estimate(structSlab, o, size, align, offSlab);
    if (!est.num) continue;
    if (offSlab) {
      const offslabLimit = Math.floor((size - structSlab) / SIZEOF_BUFCTL);
      if (est.num > offslabLimit) break;
    }
    num = est.num;
    order = o;
    leftOver = est.leftOver;
    if (flags & SLAB_RECLAIM_ACCOUNT) break;
    if (o >= breakOrder) break;
    if (leftOver * 8 <= PAGE_SIZE << o) break;
  }

  let mgmtSize = ALIGN(num * SIZEOF_BUFCTL + structSlab, align);
  // Off-slab management moves back on-slab when the leftover has room for it (at the expense of colouring).
  if (offSlab && leftOver >= mgmtSize) {
    offSlab = false;
    leftOver -= mgmtSize;
  }
  if (offSlab) mgmtSize = num * SIZEOF_BUFCTL + structSlab;

  const colourOff = Math.max(m.cacheLine, align);
  const colour = Math.floor(leftOver / colourOff);

  // enable_cpucache()
  let limit: number;
  if (size > 131072) limit = 1;
  else if (size > PAGE_SIZE) limit = 8;
  else if (size > 1024) limit = 24;
  else if (size > 256) limit = 54;
  else limit = 120;
  const shared = size <= PAGE_SIZE && m.nrCpus > 1 ? 8 : 0;

  return {
    size,
    objectSize,
    align,
    flags: offSlab ? flags | CFLGS_OFF_SLAB : flags,
    objects: num,
    order,
    leftOver,
    colour,
    colourOff,
    mgmtSize,
    offSlab,
    limit,
    batchcount: Math.floor((limit + 1) / 2),
    shared,
  };
}

/** free_limit of a cache's node: free slabs above it are destroyed when objects come back (free_block()). */
export function slabFreeLimit(l: SlabLayout, nrCpus: number): number {
  return (1 + nrCpus) * l.batchcount + l.objects;
}
