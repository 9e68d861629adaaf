// Models mm/slub.c and the kmalloc family of mm/slab_common.c of Linux 6.1 (3.4's SLUB where it differs); the 2.6
// profile's SLAB (mm/slab.c 2.6.26, arithmetic in slab.ts) runs through the same engine with SLAB's list policy.
//
// k.slab is the allocator a module meets: kmalloc/kzalloc/kcalloc/kmalloc_array/krealloc/kfree/ksize/kstrdup and
// kmem_cache_create/alloc/zalloc/free/destroy/shrink, plus the inspection API the views, the grader, KASAN and
// kmemleak read (liveObjects, caches, objectAt, checkInvariants).
//
// What is modelled as the kernel does it:
// - Layout: calculate_sizes() (word-rounded object, free pointer in the middle of the object in 6.1 / at offset 0
//   in 3.4, moved after the object for ctor/poison/RCU; right red zone, 2 x struct track for SLAB_STORE_USER, left
//   red zone red_left_pad in 6.1; alignment by calculate_alignment(), natural alignment of power-of-two kmalloc
//   caches in 6.1) and calculate_order() with min_objects = 4 * (fls(nr_cpus) + 1), slub_max_order 3.
// - Slabs are real page blocks from the buddy allocator (owner Slab, __GFP_COMP above order 0, GFP_DMA for dma
//   caches); the preferred order is tried with __GFP_NOWARN|__GFP_NORETRY, then the minimum order, and a failure
//   prints slab_out_of_memory()'s lines. Empty slabs go back to the buddy allocator: SLUB keeps at most
//   min_partial empty slabs on the partial list (6.1 set_min_partial: ilog2(size)/2 clamped to 5..10), SLAB keeps
//   free slabs up to free_limit; kmem_cache_shrink() returns every empty slab.
// - Object bytes are real bytes in physical memory (k.physmem): a new slab keeps whatever its pages held, the free
//   pointer is written into each free object at s->offset (plain pointer, as without CONFIG_SLAB_FREELIST_HARDENED),
//   so a fresh kmalloc shows stale data and the freelist link unless zeroed. kzalloc/__GFP_ZERO zero the object;
//   6.1 distro kernels run with init_on_alloc=1 (Debian's CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y, real config excerpt),
//   so every kmalloc there is zeroed unless the cache has a ctor or poisoning; the debug kernel (the real custom
//   config) has it off; `init_on_alloc=0|1` on the command line overrides. Constructors run on every object of a
//   new slab (SLUB setup_object / SLAB cache_init_objs), not on each allocation.
// - kmalloc > KMALLOC_MAX_CACHE_SIZE (8 KiB) goes to the page allocator as a compound page (owner KmallocLarge);
//   above KMALLOC_MAX_SIZE the order check of __alloc_pages WARNs (page_alloc.ts prints it) and kmalloc returns NULL.
//   2.6 SLAB returns NULL silently above size-131072 (see slab.ts).
// - 6.1/3.4 SLUB merges a new cache into an older compatible one (find_mergeable(): no ctor, no debug flags,
//   SLAB_MERGE_SAME flags equal, size within a word, alignment compatible; kmalloc caches never, they have a
//   usersize) unless `slub_nomerge`/`slab_nomerge`. A merged cache is an alias: kmem_cache_create returns a
//   handle whose objects live in the older cache, and /proc/slabinfo does not list it. With slub_debug on (the
//   debug profiles) nothing merges, so a module's own cache appears under its own name.
//
// Simplifications (say them to the learner):
// - Per-CPU slabs are folded into one CPU: SLUB's "cpu slab" is one current slab per cache (objects are taken from
//   it until it is full, then from the head of the partial list, then from a new slab), and freed objects go
//   straight back to their slab (no per-CPU freelist, no cpu partial list). SLAB's per-CPU array caches are
//   folded away the same way. Free objects in the current slab count as active in slabinfo, as in the kernel.
// - The freelist a slab hands out from is kept by the simulator (a stack of free object indices: the kernel's LIFO
//   order); the free pointers written into memory mirror it for what a learner reads, but a stray write over a
//   free pointer does not redirect the allocator (KASAN and slub_debug report such writes; nothing crashes).
// - A double free without slub_debug corrupts the freelist as the kernel's would: the object is pushed again and a
//   later allocation hands the same object out twice (Slab.extra counts such entries, so that the allocator's
//   own books still balance: nfree + inuse = objects + extra). Simplification: the kernel's inuse counter drops
//   one lower at the second free; here inuse stays the number of objects handed out. The 6.1 distro kernel's
//   CONFIG_SLAB_FREELIST_HARDENED naive check, BUG_ON(object == fp) in set_freepointer(), catches an object freed
//   twice in a row (it is the freelist head): kernel BUG, the task dies, nothing is pushed. The 2.6 debug
//   kernel's DEBUG_SLAB finds both red zones inactive: "slab error in verify_redzone_free(): cache `size-N':
//   double free detected", dump_stack, the red zone words, and then frees the object anyway (the corruption
//   follows, as in the kernel); the rest of DEBUG_SLAB (red zones in the layout, poisoning) is not modelled.
// - Boot caches: 6.1 replays the rest of boot's slab state (mm/slab_boot.ts): every cache the real boot of each
//   architecture lists, in its order, with that architecture's own object sizes and full object counts, plus the
//   boot's large kmallocs and one kmem_cache/kmem_cache_node object per cache, filled with objects owned by "boot"
//   (whole slabs at once: the bulk path keeps this to a few ms per boot); a quarter of RAM caps it. The 2.6 and 3.4
//   profiles get a smaller representative set of their era's names (capped at ~3% of RAM). Objects the kernel itself
//   allocates later (SLAB's off-slab management) are marked the same way. 6.1's boot churn (bootFill): a cache whose
//   boot objects end on a full slab keeps that slab as its cpu slab with a seed-drawn number of its objects free
//   again, so a module's first kmalloc comes from a slab the boot left (as in the real logs) and slabinfo's counts
//   stay the boot's (a cpu slab's free objects count as active).
// - CONFIG_SLAB_FREELIST_RANDOM (6.1 distro config only, mm/slab_random.ts): every cache has a random permutation
//   of its objects, made at creation, and each new slab links its freelist along it from a random start, so a new
//   slab hands its objects out in a shuffled order (ctors run in that order, as setup_object() does). Elsewhere a new
//   slab hands out object 0 first. The random_seq array itself (kcalloc'd by the kernel) is not allocated here, as a
//   module cache's struct kmem_cache and kmem_cache_node are not.
// - KASAN's and kmemleak's own metadata do not change the layout here.
//
// Storage only (no behaviour, nothing for the learner): when the boot ends, the untouched full slabs it left at the end
// of each cache's full list are kept as columns shared by every copy of the machine (mm/slub_boot_tail.ts), made Slab
// objects again the first time a run needs one of that cache; the slabs it left partly used share their per-object
// arrays with the copies until written (Slab.sharedArrays). Nothing a run, /proc or a view shows depends on it.

import { SideTable, immutable } from "../snapshot.ts";
import type { Kernel } from "../kernel.ts";
import type { Era } from "../types.ts";
import { KERN_DEFAULT, KERN_ERR, KERN_INFO, KERN_WARNING } from "../kernel/printk.ts";
import { gfpFlags } from "../gfp.ts";
import { PageOwner } from "./page_flags.ts";
import { bug, dump_stack, recordSplat } from "../debug/splat.ts";

/**
 * mm/slub.c line of set_freepointer()'s BUG_ON(object == fp): 379 is the line public reports show for 5.15/5.16
 * kernels; 6.1's own line is not checked against its source (kmodlab has no 6.1 mm/slub.c in shared/reference).
 */
const SET_FREEPOINTER_BUG_LINE = 379;
/** 2.6.26 include/linux/poison.h RED_INACTIVE: the red zone word of a free object under DEBUG_SLAB. */
const RED_INACTIVE_26 = 0x09f911029d74e35bn;
import {
  ALIGN,
  PAGE_SHIFT,
  PAGE_SIZE,
  POISON_INUSE,
  SLAB_ACCOUNT,
  SLAB_CACHE_DMA,
  SLAB_DEBUG_FLAGS,
  SLAB_HWCACHE_ALIGN,
  SLAB_KMALLOC,
  SLAB_MERGE_SAME,
  SLAB_NEVER_MERGE,
  SLAB_PANIC,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
  SLUB_RED_ACTIVE,
  SLUB_RED_INACTIVE,
  ZERO_SIZE_PTR,
  __OBJECT_POISON,
  calculate_alignment,
  fls,
  get_order,
  kmallocClassSize,
  kmallocEra,
  kmallocName,
  kmallocType,
  type KmallocEra,
  type KmallocType,
} from "./slab_common.ts";
import { slabFreeLimit, slabLayout, type SlabLayout } from "./slab.ts";
import { bootSlab61, bootTasks } from "./slab_boot.ts";
import { hasMemoryBlocks, memoryBlockIds } from "../drivers/memory_blocks.ts";
import { FreelistRandom, randomSeqFromSeed } from "./slab_random.ts";
import { PrandomState, kaslrRandomLong } from "../arch/x86_64.ts";
import { SlubDebug, parseSlubDebug, type DebugOptions, type Track } from "../debug/slub_debug.ts";
import { BootTail, BootTailIndex } from "./slub_boot_tail.ts";

// ---------------------------------------------------------------------------------------------------------------
// Modelled costs (simulated ns): the fast paths of the real allocators are tens of nanoseconds.
const COST_ALLOC = 40;
/** The allocation entry frames ("__kmem_cache_alloc_node", "__kmalloc") of the allocation in progress, per allocator. */
const k_slabFrames = new SideTable<object, string[]>(); // a kernel snapshot copies it (snapshot.ts)
const COST_FREE = 30;
const COST_NEW_SLAB = 400;

const MAX_OBJS_PER_PAGE = 32767;
const SLUB_MAX_ORDER = 3; // PAGE_ALLOC_COSTLY_ORDER
const MIN_PARTIAL = 5;
const MAX_PARTIAL = 10;

/** A function pointer a cache was created with: called with each new object's address. */
export type Ctor = (obj: bigint) => void;

// ---- layout ----------------------------------------------------------------------------------------------------

export interface SlubLayout {
  objectSize: number;
  size: number;
  align: number;
  flags: number;
  inuse: number;
  offset: number;
  redLeftPad: number;
  order: number;
  objects: number;
  minOrder: number;
  minObjects: number;
}

export interface SlubMachine {
  era: Era;
  wordSize: number;
  nrCpus: number;
  maxOrder: number;
}

/** sizeof(struct track): 6.1 {addr, depot handle, cpu, pid, when}; 3.4 {addr, addrs[16], cpu, pid, when}. */
export function trackSize(era: Era, wordSize: number): number {
  if (era === "6.1") return wordSize === 8 ? 32 : 20;
  return wordSize * 17 + 8 + wordSize;
}

function order_objects(order: number, size: number): number {
  return Math.floor((PAGE_SIZE << order) / size);
}

/** calc_slab_order() (6.1 = slab_order() of 3.4 with reserved 0). */
export function calc_slab_order(size: number, minObjects: number, maxOrder: number, fract: number): number {
  const minOrder = 0; // slub_min_order
  if (order_objects(minOrder, size) > MAX_OBJS_PER_PAGE) return get_order(size * MAX_OBJS_PER_PAGE) - 1;
  let order = Math.max(minOrder, get_order(minObjects * size));
  for (; order <= maxOrder; order++) {
    const slabSize = PAGE_SIZE << order;
    const rem = slabSize % size;
    if (rem <= slabSize / fract) break;
  }
  return order;
}

/** min_objects when slub_min_objects is 0: 4 * (fls(nr_cpus) + 1). */
export function slubMinObjects(nrCpus: number): number {
  return 4 * (fls(nrCpus) + 1);
}

/** calculate_order() of 6.1 (and 3.4: the same algorithm). Returns -1 for -ENOSYS. */
export function calculate_order(size: number, nrCpus: number, maxOrder: number, minObjectsParam = 0): number {
  let minObjects = minObjectsParam || slubMinObjects(nrCpus);
  const maxObjects = order_objects(SLUB_MAX_ORDER, size);
  minObjects = Math.min(minObjects, maxObjects);
  while (minObjects > 1) {
    for (let fraction = 16; fraction >= 4; fraction /= 2) {
      const order = calc_slab_order(size, minObjects, SLUB_MAX_ORDER, fraction);
      if (order <= SLUB_MAX_ORDER) return order;
    }
    minObjects--;
  }
  let order = calc_slab_order(size, 1, SLUB_MAX_ORDER, 1);
  if (order <= SLUB_MAX_ORDER) return order;
  order = calc_slab_order(size, 1, maxOrder, 1);
  if (order < maxOrder) return order;
  return -1;
}

/** calculate_sizes() of SLUB (6.1; 3.4 where noted). `align` is the already calculated s->align. */
export function slubLayout(m: SlubMachine, objectSize: number, align: number, flags: number, hasCtor: boolean, minObjects = 0): SlubLayout {
  const word = m.wordSize;
  let size = ALIGN(objectSize, word);
  if (flags & SLAB_POISON && !(flags & SLAB_TYPESAFE_BY_RCU) && !hasCtor) flags |= __OBJECT_POISON;
  else flags &= ~__OBJECT_POISON;
  if (flags & SLAB_RED_ZONE && size === objectSize) size += word;
  const inuse = size;
  let offset: number;
  const relocate = flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON) || hasCtor || (m.era === "6.1" && flags & SLAB_RED_ZONE && objectSize < word);
  if (relocate) {
    offset = size;
    size += word;
  } else {
    // 6.1: "Store freelist pointer near middle of object"; 3.4: at the start.
    offset = m.era === "6.1" ? Math.floor(objectSize / 2 / word) * word : 0;
  }
  if (flags & SLAB_STORE_USER) size += 2 * trackSize(m.era, word);
  let redLeftPad = 0;
  if (flags & SLAB_RED_ZONE) {
    size += word; // catch overwrites from the previous object
    if (m.era === "6.1") {
      redLeftPad = ALIGN(word, align);
      size += redLeftPad;
    }
  }
  size = ALIGN(size, align);
  const order = calculate_order(size, m.nrCpus, m.maxOrder, minObjects);
  const minOrder = get_order(size);
  return {
    objectSize,
    size,
    align,
    flags: flags >>> 0,
    inuse,
    offset,
    redLeftPad,
    order,
    objects: order < 0 ? 0 : Math.min(order_objects(order, size), MAX_OBJS_PER_PAGE),
    minOrder,
    minObjects: order_objects(minOrder, size),
  };
}

// ---- slabs and caches -------------------------------------------------------------------------------------------

type SlabState = "cur" | "partial" | "full" | "free";

/** Intrusive doubly linked list of slabs (the kernel's list_head lists: O(1) moves). */
export class SlabList {
  head: Slab | null = null;
  tail: Slab | null = null;
  count = 0;
  pushHead(s: Slab): void {
    s.prev = null;
    s.next = this.head;
    if (this.head) this.head.prev = s;
    else this.tail = s;
    this.head = s;
    this.count++;
  }
  pushTail(s: Slab): void {
    s.next = null;
    s.prev = this.tail;
    if (this.tail) this.tail.next = s;
    else this.head = s;
    this.tail = s;
    this.count++;
  }
  remove(s: Slab): void {
    if (s.prev) s.prev.next = s.next;
    else this.head = s.next;
    if (s.next) s.next.prev = s.prev;
    else this.tail = s.prev;
    s.prev = s.next = null;
    this.count--;
  }
  *[Symbol.iterator](): IterableIterator<Slab> {
    for (let s = this.head; s; s = s.next) yield s;
  }
}

/** struct slab: one block of 2^order pages cut into objects. */
export class Slab {
  prev: Slab | null = null;
  next: Slab | null = null;
  state: SlabState = "free";
  inuse = 0;
  nfree = 0;
  /** Every object was taken at once by the boot model (the per-object arrays are created only when needed). */
  allBoot = false;
  /**
   * The per-object arrays below are immutable(), shared with every copy of the machine (shareArrays, at the end of
   * the boot): each getter, the only way to write them, first gives this slab copies of its own (ownArrays). Reads
   * that do not go through a getter (liveAt, requestedAt) read the shared values, which are this slab's.
   */
  private sharedArrays = false;
  private _allocTrack?: (Track | undefined)[];
  private _freeTrack?: (Track | undefined)[];
  /** SLAB_STORE_USER caches: the alloc track of each object (created on first use); undefined for other caches. */
  get allocTrack(): (Track | undefined)[] | undefined {
    if (this.sharedArrays) this.ownArrays();
    return this.cache.flags & SLAB_STORE_USER ? (this._allocTrack ??= new Array(this.objects)) : undefined;
  }
  /** SLAB_STORE_USER caches: the free track of each object (created on first use); undefined for other caches. */
  get freeTrack(): (Track | undefined)[] | undefined {
    if (this.sharedArrays) this.ownArrays();
    return this.cache.flags & SLAB_STORE_USER ? (this._freeTrack ??= new Array(this.objects)) : undefined;
  }
  /** slub_debug marked every object used after a corrupted freelist: the slab's free objects are lost. */
  lost = false;
  /**
   * Freelist entries pushed by a double free nobody caught (no slub_debug): the freelist holds an object that is
   * already on it, and a later allocation hands it out a second time. nfree + inuse = objects + extra.
   */
  extra = 0;
  /** SLAB off-slab management object (from slabp_cache). */
  mgmt = 0n;
  readonly objBase: bigint;
  readonly objPhys: number;
  private _free?: Int32Array;
  private _live?: Uint8Array;
  private _req?: Int32Array;
  private _callers?: (string | undefined)[];
  private _boot?: Uint8Array;

  constructor(
    readonly cache: KmemCache,
    readonly pfn: number,
    readonly order: number,
    readonly base: bigint,
    readonly phys: number,
    /** Offset of the first slot in the slab (SLAB: colour + on-slab management). */
    readonly slotStart: number,
    readonly objects: number,
  ) {
    this.objBase = base + BigInt(slotStart + cache.redLeftPad);
    this.objPhys = phys + slotStart + cache.redLeftPad;
  }

  /** Free object indices; the top of the stack is the freelist head. May hold an index twice after a double free. */
  get freeStack(): Int32Array {
    if (this.sharedArrays) this.ownArrays();
    return (this._free ??= new Int32Array(this.objects * 2 + 1));
  }
  /** How many times each object is currently handed out (1 normally; 2 after a silent double free reuse). */
  get live(): Uint8Array {
    if (this.sharedArrays) this.ownArrays();
    if (!this._live) {
      this._live = new Uint8Array(this.objects);
      if (this.allBoot) this._live.fill(1);
    }
    return this._live;
  }
  /** live[i] of an index of the slab, without creating the array (reads must not: a boot slab stays uniformBoot). */
  liveAt(i: number): number {
    return this._live ? this._live[i]! : this.allBoot ? 1 : 0;
  }
  /** requested[i] of an index of the slab, without creating the array. */
  requestedAt(i: number): number {
    return this._req ? this._req[i]! : this.allBoot ? this.cache.objectSize : 0;
  }
  /** freeStack[j], without creating the array (nor giving this slab copies of shared ones). */
  freeAt(j: number): number {
    return this._free ? this._free[j]! : 0;
  }
  /** bootMask[i] of an index of the slab, without creating the array (nor giving this slab copies of shared ones). */
  bootAt(i: number): number {
    return this._boot ? this._boot[i]! : this.allBoot ? 1 : 0;
  }
  /** callers[i] of an index of the slab, without creating the array (nor giving this slab copies of shared ones). */
  callerAt(i: number): string | undefined {
    return this._callers?.[i];
  }
  /** Size the caller asked for, per object. */
  get requested(): Int32Array {
    if (this.sharedArrays) this.ownArrays();
    if (!this._req) {
      this._req = new Int32Array(this.objects);
      if (this.allBoot) this._req.fill(this.cache.objectSize);
    }
    return this._req;
  }
  /** The module function that allocated each object. */
  get callers(): (string | undefined)[] {
    if (this.sharedArrays) this.ownArrays();
    return (this._callers ??= new Array(this.objects));
  }
  /** Objects taken by the boot model (not the module). */
  get bootMask(): Uint8Array {
    if (this.sharedArrays) this.ownArrays();
    if (!this._boot) {
      this._boot = new Uint8Array(this.objects);
      if (this.allBoot) this._boot.fill(1);
    }
    return this._boot;
  }
  hasBootMask(): boolean {
    return this._boot !== undefined || this.allBoot;
  }
  /** Untouched since the boot model filled it: every object live, requested = object size, taken by the boot. */
  untouchedBoot(): boolean {
    return this.allBoot && this._boot === undefined;
  }
  /**
   * None of the per-object arrays of a boot-filled slab exists yet, so each reads as its getter defines it: every
   * object live once, requested = the cache's object size, taken by the boot. The consistency checks evaluate their
   * per-object predicates in closed form over such a slab (debug/invariants.ts) instead of materialising the arrays.
   */
  uniformBoot(): boolean {
    return this.allBoot && this._live === undefined && this._req === undefined && this._boot === undefined;
  }
  /**
   * Exactly as the boot model's bulk fill left it, on a full list: what SlabAllocator.compactBootSlabs turns into a
   * BootTail entry, and what materialising the entry builds again (no field differs from a Slab made that way).
   */
  pristineBoot(): boolean {
    return (
      this.uniformBoot() &&
      this.state === "full" &&
      this.inuse === this.objects &&
      this.nfree === 0 &&
      this.extra === 0 &&
      !this.lost &&
      this.mgmt === 0n &&
      this._free === undefined &&
      this._callers === undefined &&
      this._allocTrack === undefined &&
      this._freeTrack === undefined
    );
  }

  /** Share the per-object arrays with every copy of the machine from now on (see sharedArrays). */
  shareArrays(): void {
    for (const a of [this._free, this._live, this._req, this._callers, this._boot, this._allocTrack, this._freeTrack]) if (a) immutable(a);
    this.sharedArrays = true;
    let bootOnly = true;
    for (let i = 0; i < this.objects && bootOnly; i++) if (this.liveAt(i) && this.bootAt(i) !== 1) bootOnly = false;
    this.sharedBootOnly = bootOnly;
  }
  /**
   * Every live object is the boot's, read from arrays still shared with the template (none of this machine's writes
   * reached them: a write gives the slab its own arrays first). liveObjects({ boot: false }) skips such a slab, as it
   * skips an untouchedBoot() one, without reading its objects.
   */
  holdsOnlySharedBootObjects(): boolean {
    return this.sharedArrays && this.sharedBootOnly;
  }
  /** Set by shareArrays: whether the shared arrays hold only boot objects. */
  private sharedBootOnly = false;

  /** Copies of the shared per-object arrays, this slab's own from now on. */
  private ownArrays(): void {
    this.sharedArrays = false;
    if (this._free) this._free = this._free.slice();
    if (this._live) this._live = this._live.slice();
    if (this._req) this._req = this._req.slice();
    if (this._callers) this._callers = this._callers.slice();
    if (this._boot) this._boot = this._boot.slice();
    if (this._allocTrack) this._allocTrack = this._allocTrack.slice();
    if (this._freeTrack) this._freeTrack = this._freeTrack.slice();
  }

  /** The object address of index i. */
  addr(i: number): bigint {
    return this.objBase + BigInt(i * this.cache.size);
  }
}

/**
 * checkInvariants' overlap check: the slabs' and large kmallocs' page ranges sorted by first page (ties in list order:
 * Slab objects, then tail entries, then large blocks, each in the order given), each compared with the one before it.
 * The Slab objects and large blocks are sorted as numbers, first page * 2^22 + index in a Float64Array (a few thousand
 * arrays and a comparator per check before); ranges that do not fit that key take the array sort, which orders them
 * the same way. The boot's tails (mm/slub_boot_tail.ts) come sorted and disjoint from their shared index: merged in,
 * the live ones only (`tails`: a tail's cache name where the tail is this machine's, else undefined).
 */
function pageRangeOverlaps(slabs: Slab[], ix: BootTailIndex | undefined, tails: (string | undefined)[], large: LargeAlloc[], errs: string[]): void {
  const ns = slabs.length;
  const n = ns + large.length;
  const start = (i: number) => (i < ns ? slabs[i]!.pfn : large[i - ns]!.pfn);
  const end = (i: number) => (i < ns ? slabs[i]!.pfn + (1 << slabs[i]!.order) : large[i - ns]!.pfn + (1 << large[i - ns]!.order));
  const name = (i: number) => (i < ns ? slabs[i]!.cache.name : "kmalloc-large");
  const IDX = 1 << 22;
  let order: ArrayLike<number> | undefined;
  if (n < IDX) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = start(i);
      if (!(Number.isInteger(p) && p >= 0 && p < 2 ** 30)) break;
      if (i < ns) void slabs[i]!.cache.name; // read as the array form reads it
      keys[i] = p * IDX + i;
      if (i === n - 1) order = keys.sort().map((k) => k % IDX);
    }
    if (n === 0) order = [];
  }
  if (!order) {
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => start(a) - start(b));
    order = idx;
  }
  // merge: [start, end, name] of the previous range in page order
  let prevEnd = -Infinity;
  let prevName = "";
  const visit = (s: number, e: number, nm: string) => {
    if (s < prevEnd) errs.push(`page ranges overlap: ${prevName} and ${nm} at pfn ${s}`);
    prevEnd = e;
    prevName = nm;
  };
  let t = 0;
  const nTail = ix ? ix.start.length : 0;
  const nextTail = () => {
    while (t < nTail && tails[ix!.tail[t]!] === undefined) t++;
  };
  nextTail();
  for (let j = 0; j < n; j++) {
    const a = order[j]!;
    const s = start(a);
    // tail entries first where they start earlier (or at the same page, before a large block: the index order)
    while (t < nTail && (ix!.start[t]! < s || (ix!.start[t]! === s && a >= ns))) {
      visit(ix!.start[t]!, ix!.end[t]!, tails[ix!.tail[t]!]!);
      t++;
      nextTail();
    }
    visit(s, end(a), name(a));
  }
  while (t < nTail) {
    visit(ix!.start[t]!, ix!.end[t]!, tails[ix!.tail[t]!]!);
    t++;
    nextTail();
  }
}

/** KmemCache.aliases of a cache nothing was merged into. */
const NO_ALIASES: readonly string[] = immutable(Object.freeze([] as string[]));

/** struct kmem_cache. */
export class KmemCache {
  /** The handle a module holds; stable for the cache's life. */
  readonly id: number;
  name: string;
  objectSize: number;
  size: number;
  align: number;
  flags: number;
  inuse: number;
  offset: number;
  redLeftPad: number;
  order: number;
  objects: number;
  minOrder: number;
  minObjects: number;
  ctor?: Ctor;
  /** Slabs whose objects the ctor is constructing right now (the ctor is module code and may re-enter). */
  constructing = 0;
  refcount = 1;
  /** Names of the caches merged into this one (SLUB aliases). Replaced, never written in place: most caches keep the
   *  one shared empty list (a copy of the machine shares it). */
  aliases: readonly string[] = NO_ALIASES;
  /** For an alias handle: the cache that really holds the objects. */
  aliasOf?: KmemCache;
  kmalloc?: { type: KmallocType; classSize: number };
  /** Created by the boot model (not a module). */
  boot = false;
  /** usersize != 0 (kmalloc caches): never a merge target. */
  usersize = 0;
  destroyed = false;
  /** SLAB (2.6) geometry and tunables. */
  slabGeo?: SlabLayout;
  colourNext = 0;
  slabpCache?: KmemCache;
  freeLimit = 0;
  minPartial = MIN_PARTIAL;
  /** Creation sequence number: /proc/slabinfo lists the newest first. */
  seq = 0;
  /** CONFIG_SLAB_FREELIST_RANDOM: the get_random_long() draw that seeds s->random_seq (taken at creation). */
  randomSeed?: bigint;
  /** s->random_seq, a permutation of the object indices of a full-order slab: made from randomSeed when a slab
   *  first needs it (slab_random.ts cacheRandomSeed). */
  randomSeq?: Uint32Array;

  // state
  cur: Slab | null = null;
  readonly partial = new SlabList();
  /** The full list's Slab objects; when bootTail is set, the list goes on with its entries (mm/slub_boot_tail.ts). */
  readonly full = new SlabList();
  /** The untouched full boot slabs at the end of the full list, as columns shared with every copy of the machine;
   *  undefined once materialised (SlabAllocator.materialiseTail) or when the boot left none. */
  bootTail: BootTail | undefined = undefined;
  readonly free = new SlabList();
  nrSlabs = 0;
  totalObjects = 0;
  inuseObjects = 0;
  /** Free objects sitting in free (SLAB) or partial slabs. */
  freeInLists = 0;

  constructor(id: number, name: string, l: { objectSize: number; size: number; align: number; flags: number }) {
    this.id = id;
    this.name = name;
    this.objectSize = l.objectSize;
    this.size = l.size;
    this.align = l.align;
    this.flags = l.flags;
    this.inuse = l.size;
    this.offset = 0;
    this.redLeftPad = 0;
    this.order = 0;
    this.objects = 0;
    this.minOrder = 0;
    this.minObjects = 0;
  }

  /** The cache that holds the objects (itself, or the one it was merged into). */
  get root(): KmemCache {
    let c: KmemCache = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the start of the alias chain walk
    while (c.aliasOf) c = c.aliasOf;
    return c;
  }
}

// ---- inspection records -----------------------------------------------------------------------------------------

export interface LiveObject {
  addr: bigint;
  cache: string;
  /** Bytes the caller asked for (kmalloc's size; the object size for kmem_cache_alloc). */
  requested: number;
  /** The slot it occupies (s->size; 2^order pages for a large kmalloc). */
  slot: number;
  /** s->object_size: the usable object (ksize without debug). */
  objectSize: number;
  /** The module function that allocated it, when known. */
  caller?: string;
  pfn: number;
  /** "slab" or "page" (kmalloc above KMALLOC_MAX_CACHE_SIZE). */
  via: "slab" | "page";
  /** Allocated by the boot model, not by a module. */
  boot: boolean;
  /** Handed out more than once (freelist corrupted by a double free). */
  duplicate?: boolean;
}

export interface CacheInfo {
  id: number;
  name: string;
  objectSize: number;
  size: number;
  align: number;
  flags: number;
  objectsPerSlab: number;
  pagesPerSlab: number;
  activeObjs: number;
  numObjs: number;
  numSlabs: number;
  kmalloc: boolean;
  boot: boolean;
  aliases: string[];
  aliasOf?: string;
  refcount: number;
}

export interface ObjectAt {
  cache: string;
  /** Start of the object (the address kmalloc returned for a live object). */
  start: bigint;
  /** Requested size (live objects); the object size for free slots. */
  requested: number;
  slot: number;
  objectSize: number;
  live: boolean;
  /** Offset of the address inside the object (may be >= objectSize: red zone, metadata, padding). */
  offset: number;
  via: "slab" | "page";
  pfn: number;
}

interface LargeAlloc {
  pfn: number;
  order: number;
  requested: number;
  caller?: string;
  addr: bigint;
  /** Allocated by the boot model (never the module's). */
  boot?: boolean;
}

// ---- the allocator -----------------------------------------------------------------------------------------------

interface GfpBits {
  DMA: number;
  HIGHMEM: number;
  DMA32: number;
  ZERO: number;
  NOWARN: number;
  NORETRY: number;
  NOFAIL: number;
  COMP: number;
  RECLAIMABLE: number;
  ACCOUNT: number;
  NOMEMALLOC: number;
  RECLAIM: number;
}

export interface BootCacheSpec {
  name: string;
  size: number;
  flags?: number;
  objs: number;
}

/** A representative set of boot caches per era (names and sizes from real slabinfo; see the header). */
function bootCaches(era: Era): { caches: BootCacheSpec[]; kmalloc: Record<number, number> } {
  switch (era) {
    case "6.1":
      // From x86_64-512M-nokaslr.log /proc/slabinfo (before insmod), oldest first.
      return {
        kmalloc: { 8: 1535, 16: 1024, 32: 625, 64: 1600, 96: 420, 128: 352, 192: 294, 256: 416, 512: 240, 1024: 248, 2048: 120, 4096: 24, 8192: 12 },
        caches: [
          { name: "vmap_area", size: 64, objs: 128 },
          { name: "mm_struct", size: 1152, flags: SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, objs: 14 },
          { name: "radix_tree_node", size: 584, flags: SLAB_RECLAIM_ACCOUNT, objs: 238 },
          { name: "maple_node", size: 256, flags: SLAB_HWCACHE_ALIGN, objs: 64 },
          { name: "ftrace_event_field", size: 56, flags: SLAB_ACCOUNT, objs: 438 },
          { name: "trace_event_file", size: 96, flags: SLAB_ACCOUNT, objs: 168 },
          { name: "Acpi-State", size: 80, objs: 51 },
          { name: "Acpi-Operand", size: 72, objs: 448 },
          { name: "pid", size: 128, flags: SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, objs: 64 },
          { name: "anon_vma", size: 104, flags: SLAB_ACCOUNT | SLAB_TYPESAFE_BY_RCU, objs: 39 },
          { name: "anon_vma_chain", size: 64, flags: SLAB_ACCOUNT, objs: 64 },
          { name: "cred_jar", size: 192, flags: SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, objs: 63 },
          { name: "task_struct", size: 6208, flags: SLAB_ACCOUNT, objs: 60 },
          { name: "sighand_cache", size: 2112, flags: SLAB_ACCOUNT | SLAB_TYPESAFE_BY_RCU, objs: 60 },
          { name: "signal_cache", size: 1152, flags: SLAB_ACCOUNT, objs: 70 },
          { name: "files_cache", size: 704, flags: SLAB_ACCOUNT, objs: 11 },
          { name: "vm_area_struct", size: 152, flags: SLAB_ACCOUNT, objs: 52 },
          { name: "nsproxy", size: 72, flags: SLAB_ACCOUNT, objs: 56 },
          { name: "names_cache", size: 4096, flags: SLAB_HWCACHE_ALIGN, objs: 8 },
          { name: "dentry", size: 192, flags: SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT, objs: 1302 },
          { name: "inode_cache", size: 640, flags: SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT, objs: 1236 },
          { name: "filp", size: 256, flags: SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, objs: 16 },
          { name: "kernfs_node_cache", size: 128, flags: SLAB_HWCACHE_ALIGN, objs: 1312 },
          { name: "shmem_inode_cache", size: 784, flags: SLAB_ACCOUNT, objs: 380 },
          { name: "proc_inode_cache", size: 712, flags: SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT, objs: 22 },
          { name: "proc_dir_entry", size: 192, flags: SLAB_HWCACHE_ALIGN, objs: 273 },
          { name: "skbuff_head_cache", size: 256, flags: SLAB_HWCACHE_ALIGN, objs: 16 },
          { name: "sock_inode_cache", size: 832, flags: SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT, objs: 19 },
          { name: "biovec-max", size: 4096, flags: SLAB_HWCACHE_ALIGN, objs: 48 },
          { name: "bio-256", size: 320, flags: SLAB_HWCACHE_ALIGN, objs: 36 },
          { name: "TCP", size: 2304, flags: SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, objs: 0 },
          { name: "RAW", size: 1024, flags: SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, objs: 8 },
          { name: "mqueue_inode_cache", size: 960, flags: SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, objs: 8 },
          { name: "RAWv6", size: 1216, flags: SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, objs: 13 },
          { name: "fsverity_info", size: 256, objs: 0 },
        ],
      };
    case "3.4":
      return {
        kmalloc: { 8: 1024, 16: 512, 32: 512, 64: 896, 96: 126, 128: 192, 192: 105, 256: 240, 512: 136, 1024: 88, 2048: 48, 4096: 24, 8192: 8 },
        caches: [
          { name: "vm_area_struct", size: 88, objs: 460 },
          { name: "task_struct", size: 1024, flags: SLAB_HWCACHE_ALIGN, objs: 60 },
          { name: "anon_vma", size: 40, flags: SLAB_TYPESAFE_BY_RCU, objs: 204 },
          { name: "dentry", size: 136, flags: SLAB_RECLAIM_ACCOUNT, objs: 2320 },
          { name: "inode_cache", size: 344, flags: SLAB_RECLAIM_ACCOUNT, objs: 1104 },
          { name: "sysfs_dir_cache", size: 72, objs: 5824 },
          { name: "proc_inode_cache", size: 384, flags: SLAB_RECLAIM_ACCOUNT, objs: 231 },
          { name: "buffer_head", size: 64, flags: SLAB_RECLAIM_ACCOUNT, objs: 63 },
        ],
      };
    case "2.6":
      return {
        kmalloc: { 32: 1864, 64: 590, 128: 450, 256: 135, 512: 264, 1024: 124, 2048: 38, 4096: 31, 8192: 5, 16384: 1, 32768: 1 },
        caches: [
          { name: "vm_area_struct", size: 88, objs: 1196 },
          { name: "task_struct", size: 1392, flags: SLAB_HWCACHE_ALIGN, objs: 55 },
          { name: "anon_vma", size: 12, flags: SLAB_TYPESAFE_BY_RCU, objs: 483 },
          { name: "buffer_head", size: 56, flags: SLAB_RECLAIM_ACCOUNT, objs: 1380 },
          { name: "dentry", size: 132, flags: SLAB_RECLAIM_ACCOUNT, objs: 3885 },
          { name: "inode_cache", size: 336, flags: SLAB_RECLAIM_ACCOUNT, objs: 1716 },
          { name: "sysfs_dir_cache", size: 44, objs: 3440 },
          { name: "radix_tree_node", size: 288, flags: SLAB_RECLAIM_ACCOUNT, objs: 1105 },
        ],
      };
  }
}

/** One cache's (or one large kmalloc's) part of the 6.1 boot's slab replay (SlabAllocator.planBoot61). */
interface BootSlabJob {
  cache?: KmemCache;
  /** The size of `objs` kmallocs above KMALLOC_MAX_CACHE_SIZE, instead of a cache. */
  large?: number;
  objs: number;
  done: number;
  /** A kmalloc class whose short-lived burst the boot freed after its last live objects (mm/slab_boot.ts). */
  burst?: boolean;
}

export class SlabAllocator {
  readonly k: Kernel;
  readonly era: Era;
  readonly allocator: "SLUB" | "SLAB";
  readonly km: KmallocEra;
  readonly wordSize: number;
  readonly cacheLine: number;
  readonly debug: SlubDebug;
  readonly debugOptions: DebugOptions;
  readonly initOnAlloc: boolean;
  readonly nomerge: boolean;
  /** Every cache ever created and not destroyed, in creation order. */
  readonly cacheList: KmemCache[] = [];
  /** kmalloc caches: type -> class size -> cache. */
  readonly kmallocCaches = new Map<KmallocType, Map<number, KmemCache>>();
  private readonly byId = new Map<number, KmemCache>();
  /** The Slab object of each frame of each slab held as an object (a BootTail's frames: bootIndex). */
  private byPfn = new Map<number, Slab>();
  /** The boot's tails (compactBootSlabs), by frame; shared by every copy of the machine. A tail entry is this
   *  machine's only while its cache still points at its tail (tailAt). */
  private bootIndex: BootTailIndex | undefined = undefined;
  private readonly large = new Map<number, LargeAlloc>();
  private nextId = 1;
  private nextSeq = 1;
  private readonly g: GfpBits;
  private readonly pageOffset: bigint;
  private readonly physOffset: number;
  private readonly highMemory: bigint;
  private bootPhase = false;
  private oomWarned = 0;
  /** The boot's churn (bootFill): how many objects of a cache's last boot slab are free again, per seed. */
  private readonly bootChurn: PrandomState;
  /** CONFIG_SLAB_FREELIST_RANDOM's randomness; undefined where the config does not have it. */
  readonly freelistRandom?: FreelistRandom;
  /** slab_state >= UP: a new cache gets its random sequence when it is created (init_cache_random_seq()). */
  private randomSeqUp = false;

  constructor(k: Kernel) {
    this.k = k;
    const p = k.profile;
    this.era = p.era;
    this.allocator = p.slab;
    this.km = kmallocEra(p.era, p.kmallocMinSize, p.maxOrder);
    this.wordSize = p.arch === "x86_64" || p.arch === "arm64" ? 8 : 4;
    // cache_line_size(): L1_CACHE_BYTES where the arch defines no other; x86's is the CPU's own
    // boot_cpu_data.x86_cache_alignment, 32 on QEMU's 32-bit CPU (the real 6.1 686 boot's "SLUB: HWalign=32", while
    // the build's SMP_CACHE_BYTES is 64: init/vfs_hash.ts); 2.6.26's 686 build 128; the others 64.
    this.cacheLine = p.era === "2.6" && p.arch === "i386" ? 128 : p.era === "6.1" && p.arch === "i386" ? 32 : 64;
    const f = gfpFlags(p.era);
    const v = (n: string) => f[n] ?? 0;
    this.g = {
      DMA: v("__GFP_DMA"),
      HIGHMEM: v("__GFP_HIGHMEM"),
      DMA32: v("__GFP_DMA32"),
      ZERO: v("__GFP_ZERO"),
      NOWARN: v("__GFP_NOWARN"),
      NORETRY: v("__GFP_NORETRY"),
      NOFAIL: v("__GFP_NOFAIL"),
      COMP: v("__GFP_COMP"),
      RECLAIMABLE: v("__GFP_RECLAIMABLE"),
      ACCOUNT: v("__GFP_ACCOUNT"),
      NOMEMALLOC: v("__GFP_NOMEMALLOC"),
      RECLAIM: v("__GFP_RECLAIM") || v("__GFP_WAIT"),
    };
    this.pageOffset = k.layout.pageOffset;
    this.physOffset = k.layout.physOffset;
    this.highMemory = k.layout.highMemory;
    const params = k.params;
    this.debugOptions = parseSlubDebug(params.get("slub_debug"), this.allocator === "SLUB" && k.debug);
    this.debug = new SlubDebug(this);
    this.initOnAlloc = wantInitOnAlloc(k);
    this.nomerge = params.has("slub_nomerge") || params.has("slab_nomerge");
    // CONFIG_SLAB_FREELIST_RANDOM=y in Debian's 6.1 configs (amd64, 686, 686-pae, armmp); unset in the debug build.
    if (p.era === "6.1" && this.allocator === "SLUB" && k.opts.config === "distro") this.freelistRandom = new FreelistRandom(k.opts.seed);
    this.bootChurn = new PrandomState(kaslrRandomLong(k.opts.seed ?? 0) ^ 0x636875726en); // "churn"
  }

  // ---- boot ---------------------------------------------------------------------------------------------------

  /** kmem_cache_init(): the bootstrap caches, the kmalloc caches and the boot line (the objects: kmem_cache_populate_boot). */
  kmem_cache_init(): void {
    const k = this.k;
    this.bootPhase = true;
    if (this.allocator === "SLUB") {
      // create_boot_cache(kmem_cache_node), create_boot_cache(kmem_cache), then bootstrap() re-adds kmem_cache
      // and kmem_cache_node to slab_caches in that order: kmem_cache_node ends up the newer of the two.
      // sizeof(struct kmem_cache) / sizeof(struct kmem_cache_node) on 6.1's 32-bit kernels, from the real slots:
      // kmem_cache 160 on i386 (HWalign 32) and 192 on armmp (HWalign 64): 129..160 bytes, 136 here; kmem_cache_node
      // 32 on i386 (lock, nr_partial, partial, and SLUB_DEBUG's nr_slabs, total_objects, full) and 64 on armmp, whose
      // HWalign would have made a 32-byte structure a 32-byte slot: more than 32 there (its lock: 36 here). 3.4: 128, 44.
      const node32 = this.era !== "6.1" ? 44 : this.k.profile.arch === "arm" ? 36 : 32;
      this.createBootCache("kmem_cache", this.wordSize === 8 ? 256 : this.era === "6.1" ? 136 : 128, SLAB_HWCACHE_ALIGN);
      this.createBootCache("kmem_cache_node", this.wordSize === 8 ? 64 : node32, SLAB_HWCACHE_ALIGN);
    } else {
      this.createBootCache("kmem_cache", this.wordSize === 8 ? 256 : 132, SLAB_HWCACHE_ALIGN);
    }
    this.createKmallocCaches();
    if (this.freelistRandom) {
      // init_freelist_randomization(): every cache so far, walking slab_caches (newest first); later caches get
      // theirs in kmem_cache_open().
      for (const c of this.slabinfoOrder()) this.initCacheRandomSeq(c);
      this.randomSeqUp = true;
    }
    if (this.allocator === "SLUB") {
      if (this.era === "6.1") {
        k.printk(KERN_INFO + "SLUB: HWalign=%d, Order=%u-%u, MinObjects=%u, CPUs=%u, Nodes=%u\n", this.cacheLine, 0, SLUB_MAX_ORDER, 0, k.profile.nrCpus, 1);
      } else {
        // 3.4: "Genslabs" counts the kmalloc caches plus kmem_cache and kmem_cache_node.
        const genslabs = this.km.classes.length + 2;
        k.printk(
          KERN_INFO + "SLUB: Genslabs=%d, HWalign=%d, Order=%d-%d, MinObjects=%d, CPUs=%d, Nodes=%d\n",
          genslabs,
          this.cacheLine,
          0,
          SLUB_MAX_ORDER,
          0,
          k.profile.nrCpus,
          1,
        );
      }
    }
  }

  /**
   * The objects the rest of boot and early user space leave in the caches, from the point start_kernel has come past
   * mm_init(), ftrace_init() and setup_per_cpu_pageset() (kernel.ts): the real kernel allocates them later, through
   * the per-CPU page lists. 6.1: the caches are created here and their objects replayed in time order with the
   * boot's other allocations (bootSlabTick, bootSlabFinish); the older eras fill them here, at once.
   */
  kmem_cache_populate_boot(ticks = 0): void {
    this.bootPhase = true;
    try {
      if (this.era === "6.1") this.planBoot61(ticks);
      else this.populateBoot();
    } finally {
      this.bootPhase = false;
    }
  }

  /**
   * One step of the boot's work done (kernel.ts, mm/vmalloc_boot.ts: an initcall's vmalloc, a kernel thread's stack,
   * a hash table, the initramfs, the first processes...): every boot cache is filled up to its share of the boot so
   * far (see planBoot61).
   */
  bootSlabTick(): void {
    const plan = this.bootPlan;
    if (!plan) return;
    plan.done = Math.min(plan.ticks, plan.done + 1);
    this.advanceBoot61(plan.done / plan.ticks);
  }

  /** The end of the boot (insmod): every boot object is allocated, and the plan is dropped. */
  bootSlabFinish(): void {
    if (!this.bootPlan) return;
    this.advanceBoot61(1);
    this.bootPlan = undefined;
  }

  /**
   * The end of the boot (kernel.ts): the longest run of untouched full boot slabs (Slab.pristineBoot) at the end of
   * each cache's full list becomes the cache's BootTail (mm/slub_boot_tail.ts), and leaves the list and the frame
   * map. Nothing a run sees changes: the full list reads on into the tail, and any path that needs a Slab object
   * materialises the tail first.
   */
  compactBootSlabs(): void {
    if (this.bootIndex) return;
    // the slabs the boot left partly used: their per-object arrays shared with the copies, copy on write (Slab)
    for (const slab of new Set(this.byPfn.values())) slab.shareArrays();
    const tails: BootTail[] = [];
    const gone = new Set<Slab>();
    for (const c of this.cacheList) {
      if (c.aliasOf || c.bootTail) continue;
      let first = c.full.tail;
      let n = 0;
      while (first && first.pristineBoot() && first.cache === c) {
        n++;
        first = first.prev;
      }
      if (n === 0) continue;
      const pfn = new Int32Array(n);
      const order = new Uint8Array(n);
      const objects = new Int32Array(n);
      const slotStart = new Int32Array(n);
      let s = first ? first.next : c.full.head;
      for (let j = 0; s; j++, s = s.next) {
        pfn[j] = s.pfn;
        order[j] = s.order;
        objects[j] = s.objects;
        slotStart[j] = s.slotStart;
        gone.add(s);
      }
      // cut the list after `first`
      const list = c.full as { head: Slab | null; tail: Slab | null; count: number };
      if (first) first.next = null;
      else list.head = null;
      list.tail = first;
      list.count -= n;
      c.bootTail = new BootTail(c.id, pfn, order, objects, slotStart);
      tails.push(c.bootTail);
    }
    if (!tails.length) return;
    this.bootIndex = new BootTailIndex(tails);
    // the frame map without the tails' frames, in its order (one new map: cheaper than a delete per frame)
    const left = new Map<number, Slab>();
    for (const [pfn, slab] of this.byPfn) if (!gone.has(slab)) left.set(pfn, slab);
    this.byPfn = left;
  }

  /**
   * The sorted index (BootTailIndex) of the tail entry of this machine that holds pfn, or -1: a frame of a slab still
   * held as columns. An entry is this machine's while its cache still points at its tail.
   */
  tailAt(pfn: number): number {
    const ix = this.bootIndex;
    if (!ix) return -1;
    const i = ix.find(pfn);
    if (i < 0) return -1;
    return this.byId.get(ix.tails[ix.tail[i]!]!.cacheId)?.bootTail === ix.tails[ix.tail[i]!] ? i : -1;
  }

  /** The cache of a tail entry (tailAt's index). */
  tailCache(i: number): KmemCache {
    return this.byId.get(this.bootIndex!.tails[this.bootIndex!.tail[i]!]!.cacheId)!;
  }

  /** Every tail still held as columns: [its cache, its tail]. */
  liveTails(): [KmemCache, BootTail][] {
    const out: [KmemCache, BootTail][] = [];
    for (const t of this.bootIndex?.tails ?? []) {
      const c = this.byId.get(t.cacheId);
      if (c && c.bootTail === t) out.push([c, t]);
    }
    return out;
  }

  /** The shared index of the boot's tails (the consistency checks' range queries); undefined when the boot left none. */
  tailIndex(): BootTailIndex | undefined {
    return this.bootIndex;
  }

  /**
   * The cache's tail as Slab objects of this machine: each built as the boot built it, appended to the full list in
   * order and registered in the frame map. Whoever is about to hand a tail slab out or register one of its frames
   * calls this (see mm/slub_boot_tail.ts).
   */
  materialiseTail(c: KmemCache): void {
    const t = c.bootTail;
    if (!t) return;
    c.bootTail = undefined;
    const pages = this.k.pages;
    for (let j = 0; j < t.length; j++) {
      const pfn = t.pfn[j]!;
      const order = t.order[j]!;
      const slab = new Slab(c, pfn, order, pages.page_address(pfn), pfn * PAGE_SIZE, t.slotStart[j]!, t.objects[j]!);
      slab.allBoot = true;
      slab.inuse = slab.objects;
      slab.state = "full";
      c.full.pushTail(slab);
      for (let i = 0; i < 1 << order; i++) this.byPfn.set(pfn + i, slab);
    }
  }

  /**
   * Entry j of cache c's tail t as a Slab object that belongs to no list and no frame: what objectAt and the
   * consistency checks' slow path read (its per-object reads are the boot fill's, as the materialised slab's are).
   */
  tailSlabView(c: KmemCache, t: BootTail, j: number): Slab {
    const pfn = t.pfn[j]!;
    const slab = new Slab(c, pfn, t.order[j]!, this.k.pages.page_address(pfn), pfn * PAGE_SIZE, t.slotStart[j]!, t.objects[j]!);
    slab.allBoot = true;
    slab.inuse = slab.objects;
    slab.state = "full";
    return slab;
  }

  /** The 6.1 boot's slab replay in progress (planBoot61). */
  private bootPlan: { ticks: number; done: number; gfp: number; cap: number; used: number; jobs: BootSlabJob[] } | undefined;

  /** init_cache_random_seq(): the cache's random sequence over oo_objects(s->oo) objects (its draw; see randomSeqOf). */
  private initCacheRandomSeq(c: KmemCache): void {
    if (!this.freelistRandom || c.randomSeed !== undefined) return;
    c.randomSeed = this.freelistRandom.cacheRandomSeed(c.objects);
  }

  /** s->random_seq, made from the cache's draw the first time a slab is shuffled. */
  private randomSeqOf(c: KmemCache): Uint32Array {
    return (c.randomSeq ??= randomSeqFromSeed(c.randomSeed!, c.objects));
  }

  private createBootCache(name: string, size: number, flags: number): KmemCache {
    const c = this.createCache(name, size, 0, flags, undefined, true)!;
    c.refcount = -1; // unmergeable bootstrap caches
    return c;
  }

  private createKmallocCaches(): void {
    const km = this.km;
    for (const type of km.types) {
      const m = new Map<number, KmemCache>();
      this.kmallocCaches.set(type, m);
      for (const cls of km.classes) {
        let flags = SLAB_KMALLOC;
        if (type === "dma") flags |= SLAB_CACHE_DMA;
        if (type === "reclaim") flags |= SLAB_RECLAIM_ACCOUNT;
        if (type === "cgroup") flags |= SLAB_ACCOUNT;
        if (this.allocator === "SLAB") flags |= SLAB_HWCACHE_ALIGN; // ARCH_KMALLOC_FLAGS
        let align = 8; // ARCH_KMALLOC_MINALIGN
        if (this.era === "6.1" && (cls.size & (cls.size - 1)) === 0) align = Math.max(align, cls.size);
        if (km.minSize > align) align = km.minSize;
        const c = this.createCache(kmallocName(this.era, cls.size, type), cls.size, align, flags, undefined, true, true)!;
        c.kmalloc = immutable({ type, classSize: cls.size }); // never written: a copy of the machine shares it
        c.usersize = cls.size;
        m.set(cls.size, c);
      }
    }
    if (this.allocator === "SLAB") {
      // Off-slab management comes from the general cache that fits it (kmem_find_general_cachep()).
      for (const c of this.cacheList) {
        if (c.slabGeo?.offSlab) c.slabpCache = this.kmallocCaches.get("normal")!.get(kmallocClassSize(km, c.slabGeo.mgmtSize));
      }
    }
  }

  /** The boot model: a realistic population of boot caches, allocated through the ordinary slab path. */
  private populateBoot(): void {
    const spec = bootCaches(this.era);
    const gfpK = this.gfpKernel();
    const fill = (c: KmemCache, n: number) => this.bootFill(c, n, gfpK | this.g.NOWARN);
    for (const cs of spec.caches) {
      // spec.size is the slot the real slabinfo shows; an RCU cache's free pointer sits after the object.
      const flags = cs.flags ?? 0;
      const objSize = flags & SLAB_TYPESAFE_BY_RCU ? cs.size - this.wordSize : cs.size;
      const c = this.createCache(cs.name, objSize, 0, flags, undefined, true);
      if (c) fill(c, Math.min(cs.objs, this.bootBudget(c, cs.objs)));
    }
    const normal = this.kmallocCaches.get("normal")!;
    for (const [sz, n] of Object.entries(spec.kmalloc)) {
      const c = normal.get(Number(sz));
      if (c) fill(c, Math.min(n, this.bootBudget(c, n)));
    }
  }

  /**
   * 6.1: the caches the initcalls create and the objects the rest of boot and early user space leave in them
   * (mm/slab_boot.ts), the boot's large kmallocs, and SLUB's own struct kmem_cache / kmem_cache_node per cache.
   * Each cache gets its slot size as the object size, so its layout (and calculate_order()'s objects and pages per
   * slab) is the real one. There is no cap: the boot's objects do not shrink with RAM (the bulk is tracefs's pinned
   * dentries and inodes, which no shrinker frees), so a machine too small for them runs out of memory during the boot
   * and panics as 6.1 does (mm/oom_boot.ts); the plan's `cap` stays unlimited.
   *
   * Time order: the caches are created now (their struct kmem_cache and kmem_cache_node are allocated at once), and
   * their objects over the rest of the boot, at an even rate: the boot's `ticks` steps (bootSlabTick) each bring every
   * cache to that fraction of its objects, whole slabs at a time, in the caches' creation order, and the last, partly
   * used slab of a cache (with the churn's free objects: bootFill) comes when its last objects do. So a cache's newest
   * slab is as old as the boot's 1/n-th last part for a cache of n slabs, and the boot's other allocations of that
   * part (initcalls' vmallocs and stacks, hash tables, the first processes' page tables) lie above it, in the same
   * stolen pageblocks, as on the real machines: the module's first kmalloc(100) lands in the kmalloc-128 slab the boot
   * left, some hundreds of kB below the page its first __get_free_page gets.
   * Simplification: a cache's objects come at an even rate from start_kernel to /init's shell (the real kernel
   * allocates them in bursts: trace events at fs_initcall, kernfs nodes as devices register, tasks at each fork).
   */
  private planBoot61(ticks: number): void {
    const k = this.k;
    const gfp = (this.gfpKernel() | this.g.NOWARN) >>> 0;
    const plan = { ticks: Math.max(1, ticks), done: 0, gfp, cap: Infinity, used: 0, jobs: [] as BootSlabJob[] };
    this.bootPlan = plan;
    const blocks = hasMemoryBlocks(k.profile.arch, k.profile.era) ? memoryBlockIds(k.layout) : undefined;
    const spec = bootSlab61(k.profile.arch, bootTasks(k.profile.arch, k.profile.nrCpus, true).total, blocks);
    const kmallocs = spec.kmalloc.map((km) => this.kmallocCaches.get(km.type)?.get(kmallocClassSize(this.km, km.size)));
    const burst = new Set(spec.burst.map((b) => this.kmallocCaches.get(b.type)?.get(kmallocClassSize(this.km, b.size))));
    kmallocs.forEach((c, i) => {
      // (arm64 folds several classes into one cache: one job per cache, its churn after its last objects.)
      if (!c) return;
      const j = plan.jobs.find((x) => x.cache === c);
      if (j) j.objs += spec.kmalloc[i].objs;
      else plan.jobs.push({ cache: c, objs: spec.kmalloc[i].objs, done: 0, burst: burst.has(c) });
    });
    for (const cs of spec.caches) {
      const c = this.createCache(cs.name, cs.size, 0, cs.flags, undefined, true);
      if (!c) continue;
      if (cs.unmergeable) c.refcount = -1;
      const j = plan.jobs.find((x) => x.cache === c);
      if (j) j.objs += cs.objs;
      else plan.jobs.push({ cache: c, objs: cs.objs, done: 0 });
    }
    if (spec.large.length) plan.jobs.push({ large: spec.large[0], objs: spec.large.length, done: 0 });
    // One struct kmem_cache and one kmem_cache_node (1 node) per cache, allocated as each cache is created.
    const nCaches = this.cacheList.length;
    for (const name of ["kmem_cache", "kmem_cache_node"]) {
      const c = this.cacheList.find((x) => x.name === name);
      if (c) this.bootFill(c, nCaches, gfp, true);
    }
    if (ticks <= 0) this.bootSlabFinish();
  }

  /**
   * A stage of the boot that allocates all of some caches' objects at once (mm/vmalloc_boot.ts "burst" steps): their
   * jobs reach their full count now, the others keep their pace.
   */
  bootSlabBurst(names: readonly string[]): void {
    if (!this.bootPlan) return;
    this.advanceBoot61(1, (j) => !!j.cache && names.includes(j.cache.name));
  }

  /** Every job of the plan up to `frac` of its objects (whole slabs until the last one: see planBoot61). */
  private advanceBoot61(frac: number, only?: (j: BootSlabJob) => boolean): void {
    const plan = this.bootPlan!;
    const k = this.k;
    this.bootPhase = true;
    try {
      for (const j of plan.jobs) {
        if (j.done >= j.objs) continue;
        if (only && !only(j)) continue;
        // slab i of a cache (object i * perSlab on) is allocated when its first object is: by `frac` of the boot, the
        // first ceil(objs * frac / perSlab) slabs (taken whole: boot objects are never freed, and the last one's
        // churn is drawn with it)
        const perSlab = j.cache ? j.cache.objects || 1 : 1;
        const slabs = frac >= 1 ? Infinity : Math.ceil((j.objs * frac) / perSlab - 1e-9);
        const target = Math.min(j.objs, slabs * perSlab);
        if (target <= j.done) continue;
        if (j.large !== undefined) {
          // the boot's kmallocs above KMALLOC_MAX_CACHE_SIZE (page allocator, counted in Slab)
          for (; j.done < target; j.done++) {
            if (plan.used + j.large > plan.cap) continue;
            const order = get_order(j.large);
            const pfn = k.pages.alloc_pages((plan.gfp | this.g.COMP) >>> 0, order, PageOwner.KmallocLarge);
            if (pfn < 0) continue;
            // never written (a free deletes it): shared with every copy of the machine (immutable())
            this.large.set(pfn, immutable({ pfn, order, requested: j.large, addr: k.pages.page_address(pfn), boot: true }));
            plan.used += PAGE_SIZE << order;
          }
          continue;
        }
        const c = j.cache!;
        const bytesPerObj = (PAGE_SIZE << c.order) / perSlab;
        const n = Math.max(0, Math.min(target - j.done, Math.floor((plan.cap - plan.used) / bytesPerObj)));
        this.bootFill(c, n, plan.gfp, target === j.objs);
        plan.used += Math.ceil(n / perSlab) * (PAGE_SIZE << c.order);
        j.done = n === target - j.done ? target : j.objs; // past the cap: the rest is never allocated
        if (j.done === j.objs && j.burst) this.bootBurstFree(c);
      }
    } finally {
      this.bootPhase = false;
    }
  }

  /**
   * The end of a burst of short-lived objects (mm/slab_boot.ts bootBurstClasses: x86's ftrace_free_init_mem()
   * frees one struct ftrace_init_func per __init ftrace record): every object of the cache's
   * min_partial newest full slabs is freed, newest slab first, each slab's objects in index order. A full slab's first
   * free puts it on the CPU's partial list (put_cpu_partial: frozen, off the node's lists), so its later frees change
   * no list; when that list overflows, __unfreeze_partials() hands its slabs to the node: an empty one is discarded if
   * the node already has min_partial partial slabs, else it joins the node's partial list at the tail. (The
   * simulator's ordinary free path has no CPU partial list: releaseObject() moves a slab to the node's list at its
   * first free, where the slab counts itself against min_partial.)
   */
  private bootBurstFree(c: KmemCache): void {
    if (this.allocator !== "SLUB" || c.flags & SLAB_DEBUG_FLAGS) return;
    const slabs: Slab[] = [];
    for (const slab of c.full) {
      if (slabs.length >= c.minPartial) break;
      slabs.push(slab);
    }
    for (const slab of slabs) {
      c.full.remove(slab);
      slab.state = "cur"; // frozen on the CPU partial list: releaseObject() leaves the lists alone
      for (let i = 0; i < slab.objects; i++) if (slab.liveAt(i)) this.releaseObject(slab, i);
    }
    for (const slab of slabs) {
      if (slab.inuse === 0 && c.partial.count >= c.minPartial) this.discardSlab(slab);
      else {
        slab.state = "partial";
        c.partial.pushTail(slab);
        c.freeInLists += slab.nfree;
      }
    }
  }

  /**
   * Bulk allocation for the boot model: whole slabs taken at once with their objects marked in use (boot objects
   * are never freed or checked, so their bytes are left alone); the last, partly used slab goes through the
   * ordinary initialisation so that its free objects are poisoned / red-zoned like any other.
   *
   * churn (6.1): the boot's short-lived objects. The boot allocates and frees objects all along; what it leaves
   * behind in a cache that ends on a full slab is a cpu slab with free objects (the real first kmalloc(100) of each
   * reference log comes from an older kmalloc-128 slab, not a new one). How many is not in the logs (slabinfo
   * counts a cpu slab's free objects as active either way), so it is drawn from the boot's seed: 0 .. objects-1 of
   * the last slab's objects, the last ones it handed out, are free again. Not for slub_debug caches, which keep
   * no cpu slab (their free objects would sit on the partial list and show in slabinfo).
   */
  private bootFill(c: KmemCache, n: number, gfp: number, churn = false): void {
    while (n > 0) {
      let take = Math.min(n, c.objects);
      if (churn && take === n && take === c.objects && take >= 2 && this.allocator === "SLUB" && !(c.flags & SLAB_DEBUG_FLAGS)) {
        take -= this.bootChurn.u32() % take;
        n -= c.objects - take;
      }
      const slab = take === c.objects ? this.newSlab(c, gfp, true) : this.newSlab(c, gfp);
      if (!slab) return;
      if (take === c.objects) {
        slab.allBoot = true;
        slab.nfree = 0;
      } else {
        // Take the top `take` entries of the freelist (index 0 first, or the shuffled order's head first).
        const live = slab.live;
        const bootMask = slab.bootMask;
        const requested = slab.requested;
        for (let j = 0; j < take; j++) {
          const i = slab.freeStack[--slab.nfree];
          live[i] = 1;
          bootMask[i] = 1;
          requested[i] = c.objectSize;
        }
      }
      slab.inuse = take;
      c.inuseObjects += take;
      if (this.allocator === "SLUB") {
        if (c.cur) {
          c.cur.state = c.cur.nfree ? "partial" : "full";
          if (c.cur.nfree) {
            c.partial.pushHead(c.cur);
            c.freeInLists += c.cur.nfree;
          } else c.full.pushHead(c.cur);
        }
        slab.state = "cur";
        c.cur = slab;
      } else if (slab.nfree === 0) {
        slab.state = "full";
        c.full.pushHead(slab);
      } else {
        slab.state = "partial";
        c.partial.pushHead(slab);
        c.freeInLists += slab.nfree;
      }
      n -= take;
    }
  }

  /**
   * Kernel objects that user space caused before the module was loaded (init/userspace.ts): `n` objects of the
   * kmalloc class for `size`, kept for good and marked as boot objects (never reported as the module's).
   */
  populateUserspaceKmalloc(size: number, n: number): void {
    const c = this.kmallocCaches.get("normal")?.get(kmallocClassSize(this.km, size));
    if (c && n > 0) this.bootFill(c, n, this.gfpKernel() | this.g.NOWARN);
  }

  /** Keep the boot population below ~3% of RAM on small machines. */
  private bootBudget(c: KmemCache, want: number): number {
    const budgetBytes = Math.floor(this.k.opts.mem / 32);
    const used = this.cacheList.reduce((a, x) => a + x.nrSlabs * (PAGE_SIZE << x.order), 0);
    const left = Math.max(0, budgetBytes - used);
    const perObj = c.objects ? (PAGE_SIZE << c.order) / c.objects : c.size;
    return Math.min(want, Math.floor(left / perObj));
  }

  private gfpKernel(): number {
    return gfpFlags(this.era)["GFP_KERNEL"]!;
  }

  // ---- cache creation -------------------------------------------------------------------------------------------

  /** The layout of a new cache for this era; null when no order fits. */
  private layoutFor(name: string, size: number, align: number, flags: number, ctor: boolean, kmalloc: boolean, early: boolean) {
    if (this.allocator === "SLAB") {
      const geo = slabLayout(
        { wordSize: this.wordSize, cacheLine: this.cacheLine, nrCpus: this.k.profile.nrCpus, totalPages: Math.floor(this.k.opts.mem / PAGE_SIZE) },
        size,
        align,
        flags,
        early,
      );
      return {
        geo,
        objectSize: size,
        size: geo.size,
        align: geo.align,
        flags: geo.flags,
        inuse: geo.size,
        offset: 0,
        redLeftPad: 0,
        order: geo.order,
        objects: geo.objects,
        minOrder: geo.order,
        minObjects: geo.objects,
      };
    }
    const dflags = this.debugOptions.flagsFor(name, flags);
    const a = calculate_alignment(flags, kmalloc ? align : align, size, this.cacheLine, this.wordSize);
    const l = slubLayout(
      { era: this.era, wordSize: this.wordSize, nrCpus: this.k.profile.nrCpus, maxOrder: this.k.profile.maxOrder },
      size,
      a,
      flags | dflags,
      ctor,
    );
    return { geo: undefined, ...l };
  }

  private createCache(name: string, size: number, align: number, flags: number, ctor: Ctor | undefined, boot: boolean, kmalloc = false): KmemCache | null {
    const early = this.allocator === "SLAB" && this.cacheList.length < 3; // kmem_cache, size-32, size-32(DMA): slab_early_init
    const l = this.layoutFor(name, size, align, flags, !!ctor, kmalloc, early);
    if (l.objects <= 0) return null;
    const c = new KmemCache(this.nextId++, name, { objectSize: size, size: l.size, align: l.align, flags: l.flags });
    c.inuse = l.inuse;
    c.offset = l.offset;
    c.redLeftPad = l.redLeftPad;
    c.order = l.order;
    c.objects = l.objects;
    c.minOrder = l.minOrder;
    c.minObjects = l.minObjects;
    c.ctor = ctor;
    c.boot = boot;
    c.seq = this.nextSeq++;
    if (l.geo) {
      c.slabGeo = l.geo;
      c.freeLimit = slabFreeLimit(l.geo, this.k.profile.nrCpus);
      if (l.geo.offSlab && this.kmallocCaches.size) {
        c.slabpCache = this.kmallocCaches.get("normal")!.get(kmallocClassSize(this.km, l.geo.mgmtSize));
      }
    } else {
      // set_min_partial(s, ilog2(s->size) / 2)
      c.minPartial = Math.min(MAX_PARTIAL, Math.max(MIN_PARTIAL, Math.floor((fls(c.size) - 1) / 2)));
    }
    this.cacheList.push(c);
    this.byId.set(c.id, c);
    if (this.randomSeqUp) this.initCacheRandomSeq(c);
    return c;
  }

  /** find_mergeable() (mm/slab_common.c 6.1; 3.4 alike). */
  private findMergeable(name: string, size: number, align: number, flags: number, ctor?: Ctor): KmemCache | undefined {
    if (this.allocator !== "SLUB" || this.nomerge || ctor) return undefined;
    size = ALIGN(size, this.wordSize);
    align = calculate_alignment(flags, align, size, this.cacheLine, this.wordSize);
    size = ALIGN(size, align);
    flags |= this.debugOptions.flagsFor(name, flags);
    if (flags & SLAB_NEVER_MERGE) return undefined;
    for (const s of this.cacheList) {
      if (s.aliasOf || s.flags & SLAB_NEVER_MERGE || s.ctor || s.usersize || s.refcount < 0) continue;
      if (size > s.size) continue;
      if ((flags & SLAB_MERGE_SAME) !== (s.flags & SLAB_MERGE_SAME)) continue;
      if ((s.size & ~(align - 1)) !== s.size) continue;
      if (s.size - size >= this.wordSize) continue;
      return s;
    }
    return undefined;
  }

  // ---- kmem_cache API -------------------------------------------------------------------------------------------

  /** kmem_cache_create(name, size, align, flags, ctor): a cache handle, or null. */
  kmem_cache_create(name: string, size: number, align: number, flags: number, ctor?: Ctor): KmemCache | null {
    const k = this.k;
    k.clock.advance(COST_NEW_SLAB);
    flags = flags >>> 0;
    const maxSize = this.era === "2.6" ? this.km.maxSize : this.km.maxSize;
    if (!name || !Number.isInteger(size) || size < this.wordSize || size > maxSize || !Number.isInteger(align) || align < 0) {
      if (this.era === "6.1") {
        k.printk(KERN_WARNING + "kmem_cache_create(%s) failed with error %d\n", String(name), -22);
        this.debug.dumpStack(["kmem_cache_create_usercopy", "kmem_cache_create"]);
      }
      if (flags & SLAB_PANIC) this.debug.panic(this.slabPanicMessage(name));
      return null;
    }
    // The name's copy. SLUB (6.1 kstrdup_const, 3.4 kstrdup) keeps one for a new cache (not for an alias): a kmalloc of
    // its bytes + 1, which fails past KMALLOC_MAX_SIZE, and the cache is not made (6.1: -ENOMEM, its warning and
    // stack; 3.4: NULL, silently). SLAB (2.6.26) keeps the caller's pointer. Simplified: the copy itself is not
    // allocated (no kmalloc-N object, no __alloc_pages WARN for the failing one). Its bytes are charged to the RAM
    // budget (physmem.chargeMetadata) as the host memory they are: the host keeps the name of every cache a run made,
    // and a loop of kmem_cache_create with 4 Mi-character names held ~300 MB of the host in 2 s.
    const nameBytes = utf8Length(name);
    const copyFails = this.allocator !== "SLAB" && nameBytes + 1 > this.km.maxSize;
    if (!copyFails) k.physmem?.chargeMetadata(nameBytes);
    if (copyFails && !this.findMergeable(name, size, align, flags, ctor)) {
      if (this.era === "6.1") {
        k.printk(KERN_WARNING + "kmem_cache_create(%s) failed with error %d\n", name, -12);
        this.debug.dumpStack(["kmem_cache_create_usercopy", "kmem_cache_create"]);
      }
      if (flags & SLAB_PANIC) this.debug.panic(this.slabPanicMessage(name, -12));
      return null;
    }
    if (this.allocator === "SLAB") {
      for (const c of this.cacheList) {
        if (c.name === name) {
          k.printk(KERN_ERR + "kmem_cache_create: duplicate cache %s\n", name);
          this.debug.dumpStack(["kmem_cache_create"]);
          return null;
        }
      }
    }
    const target = this.findMergeable(name, size, align, flags, ctor);
    if (target) {
      target.refcount++;
      target.aliases = [...target.aliases, name];
      // __kmem_cache_alias(): the alias keeps the larger object size.
      target.objectSize = Math.max(target.objectSize, size);
      target.inuse = Math.max(target.inuse, ALIGN(size, this.wordSize));
      const alias = new KmemCache(this.nextId++, name, { objectSize: size, size: target.size, align: target.align, flags: target.flags });
      alias.aliasOf = target;
      alias.objects = target.objects;
      alias.order = target.order;
      this.byId.set(alias.id, alias);
      return alias;
    }
    const c = this.createCache(name, size, align, flags, ctor, false);
    if (!c && flags & SLAB_PANIC) this.debug.panic(this.slabPanicMessage(name));
    return c;
  }

  /** kmem_cache_create()'s panic text with SLAB_PANIC: 6.1 slab_common.c, 3.4 slub.c, 2.6.26 slab.c. */
  private slabPanicMessage(name: string, err = -22): string {
    if (this.era === "6.1") return `kmem_cache_create: Failed to create slab '${name}'. Error ${err}`;
    if (this.era === "3.4") return `Cannot create slabcache ${name}`;
    return `kmem_cache_create(): failed to create slab \`${name}'`;
  }

  /** Look up a cache by its handle id. */
  cacheById(id: number): KmemCache | undefined {
    return this.byId.get(id);
  }

  kmem_cache_alloc(cache: KmemCache, gfp: number): bigint {
    return this.cacheAlloc(cache, gfp, "kmem_cache_alloc");
  }

  kmem_cache_zalloc(cache: KmemCache, gfp: number): bigint {
    return this.cacheAlloc(cache, gfp | this.g.ZERO, "kmem_cache_alloc");
  }

  private cacheAlloc(cache: KmemCache, gfp: number, fn: string): bigint {
    const s = cache.root;
    if (cache.destroyed || s.destroyed) throw new RangeError(`kmem_cache_alloc: cache ${cache.name} was destroyed`);
    this.mightAlloc(gfp, fn);
    if (this.shouldFailslab(s, gfp >>> 0, fn)) return 0n;
    return this.slabAllocRaw(s, gfp >>> 0, cache.objectSize, this.callerFn(), false);
  }

  kmem_cache_free(cache: KmemCache, obj: bigint): void {
    const k = this.k;
    k.clock.advance(COST_FREE);
    if (obj === 0n) return; // 6.1 kmem_cache_free(s, NULL) is fine
    const slab = this.slabOf(obj);
    const s = cache.root;
    if (!slab) {
      this.debug.badFree(obj, "kmem_cache_free");
      return;
    }
    if (slab.cache !== s) {
      // cache_from_obj(): CONFIG_SLAB_FREELIST_HARDENED or consistency checks notice a wrong cache and free the
      // object to the cache it really belongs to.
      this.debug.wrongCache(s, slab.cache, obj);
    }
    this.slabFree(slab, obj, "kmem_cache_free");
  }

  /** kmem_cache_destroy(): refuses (and reports) while objects remain; the cache stays. */
  kmem_cache_destroy(cache: KmemCache | null | undefined): void {
    if (!cache || cache.destroyed) return;
    const k = this.k;
    k.clock.advance(COST_NEW_SLAB);
    if (cache.aliasOf) {
      const t = cache.root;
      t.refcount--;
      const i = t.aliases.indexOf(cache.name);
      if (i >= 0) t.aliases = t.aliases.filter((_, j) => j !== i);
      cache.destroyed = true;
      this.byId.delete(cache.id);
      if (t.refcount === 0) this.destroyRoot(t);
      return;
    }
    cache.refcount--;
    if (cache.refcount > 0) return;
    this.destroyRoot(cache);
  }

  private destroyRoot(s: KmemCache): void {
    this.flush(s);
    this.shrinkEmpty(s);
    if (s.inuseObjects > 0 || s.constructing > 0) {
      s.refcount++;
      this.debug.destroyWithObjects(s);
      if (this.allocator === "SLAB") {
        // kmem_cache_destroy() re-adds the cache at the head of cache_chain: it becomes the newest.
        s.seq = this.nextSeq++;
      }
      return;
    }
    s.destroyed = true;
    this.byId.delete(s.id);
    const i = this.cacheList.indexOf(s);
    if (i >= 0) this.cacheList.splice(i, 1);
  }

  /** kmem_cache_shrink(): give every empty slab back to the page allocator. Returns 0. */
  kmem_cache_shrink(cache: KmemCache): number {
    const s = cache.root;
    this.flush(s);
    this.shrinkEmpty(s);
    return 0;
  }

  /** Shrink every cache (drop_slab-like): the property tests use it to check that all pages go back. */
  shrinkAll(): void {
    for (const c of this.cacheList) {
      this.flush(c);
      this.shrinkEmpty(c);
    }
  }

  /** flush_all(): deactivate the current slab into the lists. */
  private flush(s: KmemCache): void {
    const c = s.cur;
    if (!c) return;
    s.cur = null;
    if (c.nfree > 0 || c.inuse < c.objects) {
      c.state = "partial";
      s.partial.pushHead(c);
      s.freeInLists += c.nfree;
    } else {
      c.state = "full";
      s.full.pushHead(c);
    }
  }

  private shrinkEmpty(s: KmemCache): void {
    for (const list of [s.partial, s.free]) {
      let sl = list.head;
      while (sl) {
        const nx = sl.next;
        if (sl.inuse === 0) {
          list.remove(sl);
          s.freeInLists -= sl.nfree;
          this.discardSlab(sl);
        }
        sl = nx;
      }
    }
  }

  // ---- the kmalloc family ---------------------------------------------------------------------------------------

  /** kmalloc(size, gfp) */
  kmalloc(size: number, gfp: number): bigint {
    return this.__kmalloc(size, gfp >>> 0, "__kmalloc");
  }

  /** kzalloc(size, gfp) = kmalloc(size, gfp | __GFP_ZERO) */
  kzalloc(size: number, gfp: number): bigint {
    return this.__kmalloc(size, (gfp | this.g.ZERO) >>> 0, "__kmalloc");
  }

  /** kmalloc_array(n, size, gfp): NULL when n * size overflows size_t. */
  kmalloc_array(n: number, size: number, gfp: number): bigint {
    const bytes = n * size;
    const limit = this.wordSize === 8 ? 2 ** 64 : 2 ** 32;
    if (!Number.isFinite(bytes) || bytes >= limit || n < 0 || size < 0) return 0n;
    return this.__kmalloc(bytes, gfp >>> 0, "__kmalloc");
  }

  /** kcalloc(n, size, gfp) = kmalloc_array(n, size, gfp | __GFP_ZERO) */
  kcalloc(n: number, size: number, gfp: number): bigint {
    return this.kmalloc_array(n, size, (gfp | this.g.ZERO) >>> 0);
  }

  private __kmalloc(size: number, gfp: number, fn: string): bigint {
    const k = this.k;
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`kmalloc: bad size ${size}`);
    if (size > this.km.maxCacheSize) {
      if (!this.km.largeToPageAllocator) {
        // 2.6 SLAB: __find_general_cachep() reaches the sentinel, cachep is NULL: kmalloc returns NULL, silently.
        k.clock.advance(COST_ALLOC);
        return 0n;
      }
      return this.kmallocLarge(size, gfp);
    }
    if (size === 0) {
      k.clock.advance(COST_ALLOC);
      if (this.km.zeroSizePtr) return ZERO_SIZE_PTR;
    }
    const type = kmallocType(this.km.types, gfp, { dma: this.g.DMA, reclaimable: this.g.RECLAIMABLE, account: this.g.ACCOUNT });
    const cls = kmallocClassSize(this.km, Math.max(size, 1));
    const s = this.kmallocCaches.get(type)!.get(cls)!;
    this.mightAlloc(gfp, fn);
    if (this.shouldFailslab(s, gfp, fn)) return 0n;
    return this.slabAllocRaw(s, gfp, size, this.callerFn(), false);
  }

  /**
   * __kmalloc_large_node() (6.1) / kmalloc_large() -> kmalloc_order() (3.4): a compound page block straight from the
   * buddy lists. 6.1 first strips GFP_SLAB_BUG_MASK (__GFP_DMA32 | __GFP_HIGHMEM | bits above __GFP_BITS_SHIFT)
   * with kmalloc_fix_flags()'s warning. 3.4 passes the flags on: with __GFP_HIGHMEM a 32-bit machine may hand out
   * a highmem block, page_address() of it is NULL, kmalloc returns NULL and the block is lost for good (nobody
   * holds its address); the simulator keeps it allocated and owned by the kernel (PageOwner.Kernel), as lost.
   */
  private kmallocLarge(size: number, gfp: number): bigint {
    const k = this.k;
    this.mightAlloc(gfp, "__kmalloc");
    if (this.era === "6.1") {
      // __GFP_BITS_SHIFT is 26, 27 with CONFIG_LOCKDEP (the debug kernel): ___GFP_NOLOCKDEP is a valid bit there.
      const bitsMask = k.opts.config === "debug" ? 0x7ffffff : 0x3ffffff;
      const bad = ((gfp & (this.g.HIGHMEM | this.g.DMA32)) | (gfp & ~bitsMask)) >>> 0;
      if (bad) gfp = this.kmallocFixFlags(gfp, bad);
    }
    const order = get_order(size);
    // The page allocator's splats (the order >= MAX_ORDER WARNING, warn_alloc) show the path they came by.
    const saved = k.pages.callFrames;
    if (this.era === "6.1") k.pages.callFrames = ["__kmalloc_large_node", "__kmalloc"];
    let pfn: number;
    try {
      pfn = k.pages.alloc_pages((gfp | this.g.COMP) >>> 0, order, PageOwner.KmallocLarge, this.callerFn());
    } finally {
      k.pages.callFrames = saved;
    }
    if (pfn < 0) return 0n;
    const addr = k.pages.page_address(pfn);
    if (addr === 0n) {
      // kmalloc_order(): page ? page_address(page) : NULL: a highmem block has no address, and is leaked.
      k.pages.setOwner(pfn, 1 << order, PageOwner.Kernel);
      return 0n;
    }
    const phys = pfn * PAGE_SIZE;
    if (this.initOnAlloc && !(gfp & this.g.ZERO)) k.physmem.fill(phys, PAGE_SIZE << order, 0);
    this.large.set(pfn, { pfn, order, requested: size, caller: this.callerFn(), addr });
    return addr;
  }

  /** mm/slab_common.c kmalloc_fix_flags() (6.1): pr_warn, dump_stack, and the flags without the invalid bits. */
  private kmallocFixFlags(gfp: number, invalid: number): number {
    const k = this.k;
    const flags = (gfp & ~invalid) >>> 0;
    const mark = k.log.mark();
    k.printk(KERN_WARNING + "Unexpected gfp: %#x (%pGg). Fixing up to gfp: %#x (%pGg). Fix your code!\n", invalid, invalid, flags, flags);
    const title = k.log.texts(mark)[0] ?? "Unexpected gfp";
    dump_stack(k, ["kmalloc_fix_flags", "__kmalloc_large_node", "kmalloc_large"], {
      level: KERN_WARNING,
      report: {
        kind: "warn",
        title,
        explain: "kmalloc() memory must have a kernel address: __GFP_HIGHMEM and __GFP_DMA32 make no sense for it. The kernel removes them and warns.",
      },
    });
    return flags;
  }

  /** kfree(p): NULL and ZERO_SIZE_PTR are fine. */
  kfree(p: bigint): void {
    const k = this.k;
    k.clock.advance(COST_FREE);
    if (p <= ZERO_SIZE_PTR) return;
    if (p >= this.pageOffset && p < this.highMemory) {
      const pa = Number(p - this.pageOffset) + this.physOffset;
      const slab = this.slabAtPfn(Math.floor(pa / PAGE_SIZE));
      if (slab) {
        this.slabFreeAt(slab, pa - slab.objPhys, "kfree");
        return;
      }
    }
    if (!this.isLinear(p)) {
      this.debug.badFree(p, "kfree");
      return;
    }
    const pfn = this.pfnOf(p);
    const big = this.large.get(pfn);
    if (big && big.addr === p) {
      this.large.delete(pfn);
      k.pages.__free_pages(pfn, big.order);
      return;
    }
    // free_large_kmalloc() on a page that kmalloc did not hand out: WARN_ON_ONCE(order == 0), then __free_pages().
    this.debug.freeNonSlabPage(p, pfn);
  }

  /** ksize(p): the usable size of the object p (0 for NULL / ZERO_SIZE_PTR). */
  ksize(p: bigint): number {
    if (p <= ZERO_SIZE_PTR) return 0;
    const slab = this.slabOf(p);
    if (slab) {
      const s = slab.cache;
      // slab_ksize(): object_size with red zoning or poisoning, inuse with store_user/RCU, else the slot.
      if (this.allocator === "SLAB") return s.size;
      if (s.flags & (SLAB_RED_ZONE | SLAB_POISON)) return s.objectSize;
      if (s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER)) return s.inuse;
      return s.size;
    }
    if (this.isLinear(p)) {
      const big = this.large.get(this.pfnOf(p));
      if (big) return PAGE_SIZE << big.order;
    }
    return 0;
  }

  /** kmalloc_size_roundup(size) (6.1): what ksize() of kmalloc(size) would give, without allocating. */
  kmalloc_size_roundup(size: number): number {
    if (size === 0) return 0;
    if (size > this.km.maxCacheSize) return this.km.largeToPageAllocator ? PAGE_SIZE << get_order(size) : 0;
    const s = this.kmallocCaches.get("normal")!.get(kmallocClassSize(this.km, size))!;
    if (this.allocator === "SLAB") return s.size;
    if (s.flags & (SLAB_RED_ZONE | SLAB_POISON)) return s.objectSize;
    return s.size;
  }

  /** krealloc(p, new_size, gfp) */
  krealloc(p: bigint, newSize: number, gfp: number): bigint {
    const k = this.k;
    if (newSize === 0) {
      this.kfree(p);
      return this.km.zeroSizePtr ? ZERO_SIZE_PTR : 0n;
    }
    let ks = 0;
    if (p > ZERO_SIZE_PTR) ks = this.ksize(p);
    if (ks >= newSize && p > ZERO_SIZE_PTR) {
      // __do_krealloc(): fits in place; with __GFP_ZERO the grown part is zeroed (6.1 zeroes ks - new_size? no:
      // it memsets from new_size... only on shrink for KASAN); record the new requested size.
      const at = this.objectAt(p);
      if (at && at.via === "slab") this.setRequested(p, newSize);
      k.clock.advance(COST_ALLOC);
      return p;
    }
    const n = this.__kmalloc(newSize, gfp >>> 0, "__kmalloc");
    if (n === 0n) return 0n;
    if (p > ZERO_SIZE_PTR && ks) k.physmem.copy(this.phys(n), this.phys(p), Math.min(ks, newSize));
    this.kfree(p);
    return n;
  }

  /** kstrdup(s, gfp): a kmalloc'ed copy with the terminating NUL (UTF-8 bytes). */
  kstrdup(s: string, gfp: number): bigint {
    const bytes = new TextEncoder().encode(s);
    const p = this.__kmalloc(bytes.length + 1, gfp >>> 0, "__kmalloc");
    if (p === 0n) return 0n;
    const pa = this.phys(p);
    this.k.physmem.writeBytes(pa, bytes);
    this.k.physmem.write8(pa + bytes.length, 0);
    return p;
  }

  // ---- the engine -----------------------------------------------------------------------------------------------

  private callerFn(): string | undefined {
    return this.k.allocCaller();
  }

  private mightAlloc(gfp: number, fn: string): void {
    const sched = (this.k as unknown as { sched?: { might_alloc?: (g: number, f: string, l: number, top?: string[]) => void } }).sched;
    if (!sched?.might_alloc) return;
    switch (this.era) {
      case "6.1":
        sched.might_alloc(gfp, "include/linux/sched/mm.h", 274, [
          "slab_pre_alloc_hook.constprop.0",
          fn === "__kmalloc" ? "__kmem_cache_alloc_node" : "kmem_cache_alloc",
          ...(fn === "__kmalloc" ? ["__kmalloc"] : []),
        ]);
        break;
      case "3.4":
        sched.might_alloc(gfp, "mm/slub.c", 926, ["slab_pre_alloc_hook", fn === "__kmalloc" ? "__kmalloc" : "kmem_cache_alloc"]);
        break;
      case "2.6":
        sched.might_alloc(gfp, "mm/slab.c", 3034, ["cache_alloc_debugcheck_before", "__kmalloc"]);
        break;
    }
  }

  /**
   * should_failslab() where the era calls it (6.1/3.4 slab_pre_alloc_hook, right after might_alloc; 2.6 SLAB's
   * __cache_alloc): an injected failure returns NULL before the allocator does anything (debug/fault_inject.ts).
   */
  private shouldFailslab(s: KmemCache, gfp: number, fn: string): boolean {
    const fault = this.k.fault;
    if (!fault?.armed) return false;
    const kmalloc = fn === "__kmalloc";
    const entry =
      this.era === "6.1"
        ? [kmalloc ? "__kmem_cache_alloc_node" : "kmem_cache_alloc", ...(kmalloc ? ["__kmalloc"] : [])]
        : [kmalloc ? "__kmalloc" : "kmem_cache_alloc"];
    // A new slab's pages below this allocation are fail_page_alloc call sites too: their stack for fail_dump().
    k_slabFrames.set(this, entry);
    if (!fault.should_failslab(s.objectSize, gfp, this.era === "6.1" ? ["slab_pre_alloc_hook.constprop.0", ...entry] : entry, s.name)) return false;
    this.k.clock.advance(COST_ALLOC);
    return true;
  }

  /** Allocate one object of s. requested = the caller's size. */
  slabAllocRaw(s: KmemCache, gfp: number, requested: number, caller: string | undefined, boot: boolean): bigint {
    const k = this.k;
    k.clock.advance(COST_ALLOC);
    for (;;) {
      const slab = this.allocSlabFor(s, gfp);
      if (!slab) return 0n;
      const i = slab.freeStack[--slab.nfree];
      if (this.allocator === "SLAB") this.slabListsAfterAlloc(s, slab);
      if (s.flags & SLAB_DEBUG_FLAGS) {
        if (!this.debug.allocDebug(s, slab, i)) continue; // corrupted: slab abandoned, take another
      }
      slab.live[i]++;
      slab.inuse++;
      s.inuseObjects++;
      slab.requested[i] = requested;
      slab.callers[i] = caller;
      if (boot) slab.bootMask[i] = 1;
      else if (slab.hasBootMask()) slab.bootMask[i] = 0;
      // 6.1 ___slab_alloc(): a debug cache never keeps a cpu slab ("return_single": deactivate_slab() at once),
      // so its free objects sit on the partial list and slabinfo's active_objs is exactly the objects in use.
      if (s.flags & SLAB_DEBUG_FLAGS && this.allocator === "SLUB") this.flush(s);
      const addr = slab.addr(i);
      if (!boot) {
        const zero = gfp & this.g.ZERO || (this.initOnAlloc && !s.ctor && !(s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON)));
        if (zero) k.physmem.fill(slab.objPhys + i * s.size, s.objectSize, 0);
      }
      return addr;
    }
  }

  /** The slab to take the next object from (SLUB: the current slab, then partial, then new; SLAB: partial, free, new). */
  private allocSlabFor(s: KmemCache, gfp: number): Slab | null {
    if (this.allocator === "SLUB") {
      const c = s.cur;
      if (c && c.nfree > 0) return c;
      if (c) {
        c.state = "full";
        s.full.pushHead(c);
        s.cur = null;
      }
      let p = s.partial.head;
      while (p && p.nfree === 0) p = p.next; // (lost slabs have nfree 0)
      if (p) {
        s.partial.remove(p);
        s.freeInLists -= p.nfree;
        p.state = "cur";
        s.cur = p;
        return p;
      }
      const n = this.newSlab(s, gfp);
      if (!n) return null;
      n.state = "cur";
      s.cur = n;
      return n;
    }
    // SLAB
    let p = s.partial.head;
    if (p) return p;
    p = s.free.head;
    if (p) {
      s.free.remove(p);
      p.state = "partial";
      s.partial.pushHead(p);
      return p;
    }
    const n = this.newSlab(s, gfp);
    if (!n) return null;
    n.state = "partial";
    s.partial.pushHead(n);
    s.freeInLists += n.nfree;
    return n;
  }

  private slabListsAfterAlloc(s: KmemCache, slab: Slab): void {
    s.freeInLists--;
    if (slab.nfree === 0) {
      s.partial.remove(slab);
      slab.state = "full";
      s.full.pushHead(slab);
    }
  }

  /** allocate_slab() / cache_grow(): pages from the buddy allocator, objects initialised, freelist built. */
  private newSlab(s: KmemCache, gfp: number, bootFull = false): Slab | null {
    const k = this.k;
    const g = this.g;
    k.clock.advance(COST_NEW_SLAB);
    // GFP_RECLAIM_MASK-ish: keep the reclaim/IO/FS/NOWARN... bits, drop zone modifiers and __GFP_ZERO.
    let flags = gfp & ~(g.DMA | g.HIGHMEM | g.ZERO | 0x4 | 0x8);
    if (s.flags & SLAB_CACHE_DMA) flags |= g.DMA;
    if (s.flags & SLAB_RECLAIM_ACCOUNT) flags |= g.RECLAIMABLE;
    let order = s.order;
    let objects = s.objects;
    let pfn: number;
    // The frames between the page allocator and the module, for fail_dump()'s stack if fault injection fails it
    // (only read when fault injection is armed: not built for the ~3,500 slabs of a 6.1 boot otherwise).
    const entry = k.fault?.armed ? (k_slabFrames.get(this) ?? []) : undefined;
    k.pages.faultFrames = !entry
      ? undefined
      : this.era === "6.1"
        ? ["allocate_slab", "___slab_alloc", "__slab_alloc.constprop.0", ...entry]
        : this.era === "3.4"
          ? ["new_slab", "__slab_alloc", ...entry]
          : ["cache_grow", "cache_alloc_refill", ...entry];
    if (this.allocator === "SLUB") {
      if (order > 0) flags |= g.COMP;
      let first = ((flags | g.NOWARN | g.NORETRY) & ~g.NOFAIL) >>> 0;
      if (order > s.minOrder && gfp & g.RECLAIM) first = ((first | g.NOMEMALLOC) & ~g.RECLAIM) >>> 0;
      pfn = order > s.minOrder ? k.pages.alloc_pages(first, order, PageOwner.Slab) : -1;
      if (pfn < 0) {
        order = s.minOrder;
        objects = s.minObjects;
        if (s.minOrder > 0) flags |= g.COMP;
        pfn = k.pages.alloc_pages(flags >>> 0, order, PageOwner.Slab);
      }
    } else {
      pfn = k.pages.alloc_pages(flags >>> 0, order, PageOwner.Slab);
    }
    k.pages.faultFrames = undefined;
    if (pfn < 0) {
      this.debug.slabOutOfMemory(s, gfp);
      return null;
    }
    const base = k.pages.page_address(pfn);
    const phys = pfn * PAGE_SIZE;
    let slotStart = 0;
    let mgmt = 0n;
    const geo = s.slabGeo;
    if (geo) {
      // SLAB: colour the slab, place the management (on-slab before the objects, or off-slab from slabp_cache).
      const colour = geo.colour ? s.colourNext : 0;
      if (geo.colour) s.colourNext = (s.colourNext + 1) % geo.colour;
      slotStart = colour * geo.colourOff;
      if (geo.offSlab) {
        if (s.slabpCache) {
          // The kernel's own object: marked like the boot model's, so it is not counted as the module's.
          mgmt = this.slabAllocRaw(s.slabpCache, (gfp & ~g.ZERO & ~g.DMA) >>> 0, geo.mgmtSize, undefined, true);
          if (mgmt === 0n) {
            k.pages.setOwner(pfn, 1 << order, PageOwner.Kernel);
            k.pages.__free_pages(pfn, order);
            return null;
          }
        }
      } else {
        slotStart += geo.mgmtSize;
      }
    }
    const slab = new Slab(s, pfn, order, base, phys, slotStart, objects);
    slab.mgmt = mgmt;
    for (let i = 0; i < 1 << order; i++) {
      // a frame some tail still holds (freed behind the slab allocator's back): that slab becomes an object first, so
      // that the frame map ends as it would have with every slab an object (this one registered over it)
      if (this.bootIndex) this.materialiseAt(pfn + i);
      this.byPfn.set(pfn + i, slab);
    }
    s.nrSlabs++;
    s.totalObjects += objects;
    // shuffle_freelist(): a slab of two or more objects of a cache with a random sequence draws its start position
    // (also when the boot model takes the whole slab at once, so the stream does not depend on that shortcut).
    const shuffle = objects >= 2 && s.randomSeed !== undefined;
    if (bootFull) {
      if (shuffle) this.freelistRandom!.getRandomU32();
      return slab;
    }
    // Objects: debug init, the freelist (the top of freeStack is its head: index 0, or the shuffled order's first),
    // free pointers in memory along it, ctor in freelist order.
    const fs = slab.freeStack;
    if (shuffle) this.freelistRandom!.shuffleOrder(this.randomSeqOf(s), objects, (j, idx) => (fs[objects - 1 - j] = idx));
    else for (let i = objects - 1; i >= 0; i--) fs[objects - 1 - i] = i;
    slab.nfree = objects;
    if (s.flags & SLAB_POISON) k.physmem.fill(phys, PAGE_SIZE << order, POISON_INUSE);
    if (s.flags & (SLAB_RED_ZONE | SLAB_STORE_USER | __OBJECT_POISON)) {
      for (let i = 0; i < objects; i++) this.debug.initObject(s, slab, i, SLUB_RED_INACTIVE);
    }
    if (this.allocator === "SLUB" && !this.bootPhase) {
      for (let j = objects - 1; j >= 0; j--) this.writeFreePointer(slab, fs[j], j > 0 ? slab.addr(fs[j - 1]) : 0n);
    }
    if (s.ctor) {
      // The ctor is module code: it may re-enter this cache (allocate from it, destroy it) or stop the run. While
      // it runs the slab counts as the cache's (slabs_node() != 0, so kmem_cache_destroy() from the ctor finds
      // objects, as the real one does); if it throws, the half-built slab goes back so no page is left orphaned.
      s.constructing++;
      try {
        for (let j = objects - 1; j >= 0; j--) {
          const obj = slab.addr(fs[j]);
          // KASAN unpoisons the object for its ctor (setup_object); a ctor that allocates from the cache nests
          const kasan = k.kasan;
          const outer = kasan?.ctorObject;
          if (kasan) kasan.ctorObject = { addr: obj, size: s.objectSize };
          try {
            s.ctor(obj);
          } finally {
            if (kasan) kasan.ctorObject = outer;
          }
        }
      } catch (e) {
        this.discardSlab(slab);
        throw e;
      } finally {
        s.constructing--;
      }
    }
    return slab;
  }

  /** Write object i's free pointer (s->offset) as the kernel's set_freepointer() does. */
  private writeFreePointer(slab: Slab, i: number, next: bigint): void {
    const pa = slab.objPhys + i * slab.cache.size + slab.cache.offset;
    if (this.wordSize === 8) this.k.physmem.write64(pa, next);
    else this.k.physmem.write32(pa, Number(next & 0xffffffffn));
  }

  /** Give a slab's pages back (discard_slab / slab_destroy). */
  private discardSlab(slab: Slab): void {
    const s = slab.cache;
    for (let i = 0; i < 1 << slab.order; i++) this.byPfn.delete(slab.pfn + i);
    s.nrSlabs--;
    s.totalObjects -= slab.objects;
    slab.state = "free";
    if (slab.mgmt && s.slabpCache) {
      const ms = this.slabOf(slab.mgmt);
      if (ms) this.slabFree(ms, slab.mgmt, "slab_destroy");
    }
    // __free_slab(): __folio_clear_slab() before the pages go back, or free_pages_check() would object.
    this.k.pages.setOwner(slab.pfn, 1 << slab.order, PageOwner.Kernel);
    this.k.pages.__free_pages(slab.pfn, slab.order);
  }

  /** Free object p of slab (kfree / kmem_cache_free). */
  private slabFree(slab: Slab, p: bigint, fn: string): void {
    this.slabFreeAt(slab, Number(p - slab.objBase), fn);
  }

  /** Free the object at byte offset `off` from the slab's first object (may be misaligned: a bad pointer). */
  private slabFreeAt(slab: Slab, off: number, fn: string): void {
    const s = slab.cache;
    const p = slab.objBase + BigInt(off);
    const i = Math.floor(off / s.size);
    if (s.flags & SLAB_DEBUG_FLAGS) {
      if (!this.debug.freeDebug(s, slab, p, i, off, fn)) return;
    } else if (off < 0 || off % s.size !== 0 || i >= slab.objects) {
      // Without debugging the kernel trusts the pointer: model the damage as a free of the containing object.
      if (i < 0 || i >= slab.objects) return;
    }
    this.releaseObject(slab, i);
  }

  /**
   * kfree of an object that is already free, with no slub_debug to catch it (see the header): the 6.1 hardened
   * freelist BUGs when it is the freelist head; 2.6 DEBUG_SLAB prints its slab error; then (except after the BUG)
   * the object goes on the freelist a second time.
   */
  private uncheckedDoubleFree(slab: Slab, i: number): void {
    const k = this.k;
    const s = slab.cache;
    const head = slab.nfree > 0 ? slab.freeStack[slab.nfree - 1] : -1;
    if (this.era === "6.1" && this.allocator === "SLUB" && head === i) {
      // set_freepointer(): BUG_ON(object == fp) /* naive detection of double free or corruption */
      bug(k, {
        file: "mm/slub.c",
        line: SET_FREEPOINTER_BUG_LINE,
        fn: "kfree",
        kind: "double-free",
        explain: `This ${s.name} object was freed twice in a row: it is already the first free object of its slab, and the hardened freelist (CONFIG_SLAB_FREELIST_HARDENED) refuses to link it to itself.`,
      });
      return;
    }
    if (this.era === "2.6" && k.opts.config === "debug") {
      // verify_redzone_free(): both red zones RED_INACTIVE -> slab_error(cache, "double free detected").
      const mark = k.log.mark();
      k.printk(KERN_ERR + "slab error in %s(): cache `%s': %s\n", "verify_redzone_free", s.name, "double free detected");
      dump_stack(k, ["__slab_error", "cache_free_debugcheck", "kfree"], { level: KERN_DEFAULT });
      k.printk(KERN_ERR + "%p: redzone 1:0x%llx, redzone 2:0x%llx.\n", slab.addr(i), RED_INACTIVE_26, RED_INACTIVE_26);
      recordSplat(k, "double-free", mark, {
        title: `slab error in verify_redzone_free(): cache \`${s.name}': double free detected`,
        explain: "The object was already free: the debug kernel's red zones say so. The kernel frees it again anyway, and its freelist now holds it twice.",
      });
    }
    if (slab.nfree >= slab.freeStack.length) return; // (a freelist already corrupted beyond the model's room)
    if (this.allocator === "SLUB") this.writeFreePointer(slab, i, head >= 0 ? slab.addr(head) : 0n);
    slab.freeStack[slab.nfree++] = i;
    slab.extra++;
    if (this.allocator === "SLUB") {
      if (slab.state === "partial") s.freeInLists++;
      return;
    }
    // SLAB: the slab had a free object (this one), so it is on the partial or free list already.
    if (slab.state !== "full") s.freeInLists++;
  }

  private releaseObject(slab: Slab, i: number): void {
    const s = slab.cache;
    const wasLive = slab.live[i] > 0;
    if (!wasLive) {
      this.uncheckedDoubleFree(slab, i);
      return;
    }
    slab.live[i]--;
    if (slab.live[i] === 0) {
      slab.callers[i] = undefined;
      if (slab.hasBootMask()) slab.bootMask[i] = 0;
    }
    if (slab.nfree < slab.freeStack.length) {
      if (this.allocator === "SLUB") {
        const next = slab.nfree ? slab.addr(slab.freeStack[slab.nfree - 1]) : 0n;
        this.writeFreePointer(slab, i, next);
      }
      slab.freeStack[slab.nfree++] = i;
    }
    if (slab.inuse > 0) {
      slab.inuse--;
      s.inuseObjects--;
    }
    if (this.allocator === "SLUB") {
      if (slab.state === "cur") return;
      if (slab.state === "full") {
        s.full.remove(slab);
        slab.state = "partial";
        s.partial.pushHead(slab);
        s.freeInLists += slab.nfree;
      } else {
        s.freeInLists++;
      }
      if (slab.inuse === 0 && s.partial.count >= s.minPartial) {
        s.partial.remove(slab);
        s.freeInLists -= slab.nfree;
        this.discardSlab(slab);
      }
      return;
    }
    // SLAB free_block(): the slab moves to the tail of partial, or to slabs_free / is destroyed when empty.
    s.freeInLists++;
    if (slab.state === "full") s.full.remove(slab);
    else if (slab.state === "partial") s.partial.remove(slab);
    else s.free.remove(slab);
    if (slab.inuse === 0) {
      if (s.freeInLists > s.freeLimit) {
        s.freeInLists -= slab.nfree;
        this.discardSlab(slab);
      } else {
        slab.state = "free";
        s.free.pushHead(slab);
      }
    } else {
      slab.state = "partial";
      s.partial.pushTail(slab);
    }
  }

  /** slub_debug gave up on a slab ("Marking all objects used"): its free objects are lost until it is destroyed. */
  markAllUsed(slab: Slab): void {
    const s = slab.cache;
    slab.lost = true;
    if (slab.state === "partial") s.freeInLists -= slab.nfree;
    slab.nfree = 0;
  }

  private setRequested(p: bigint, n: number): void {
    const slab = this.slabOf(p);
    if (!slab) return;
    const i = Math.floor(Number(p - slab.objBase) / slab.cache.size);
    if (i >= 0 && i < slab.objects) slab.requested[i] = n;
  }

  // ---- address helpers ------------------------------------------------------------------------------------------

  isLinear(addr: bigint): boolean {
    return addr >= this.pageOffset && addr < this.highMemory;
  }

  /** __pa() of a linear-map address. */
  phys(addr: bigint): number {
    return Number(addr - this.pageOffset) + this.physOffset;
  }

  pfnOf(addr: bigint): number {
    return Math.floor(this.phys(addr) / PAGE_SIZE);
  }

  /** The slab registered for a frame (the map slabOf reads); a tail's frame materialises its cache's tail. */
  slabAtPfn(pfn: number): Slab | undefined {
    return this.byPfn.get(pfn) ?? (this.bootIndex ? this.materialiseAt(pfn) : undefined);
  }

  /** The slab a linear address lies in (a tail's: materialised, see slabAtPfn). */
  slabOf(addr: bigint): Slab | undefined {
    if (!this.isLinear(addr)) return undefined;
    return this.slabAtPfn(this.pfnOf(addr));
  }

  /** The Slab object registered for a frame, without materialising a tail (undefined for a tail's frame). */
  objectSlabAtPfn(pfn: number): Slab | undefined {
    return this.byPfn.get(pfn);
  }

  /** The slab holding a frame as objectAt reads it: the registered Slab, or a view of the tail entry (tailSlabView). */
  private peekSlab(pfn: number): Slab | undefined {
    const slab = this.byPfn.get(pfn);
    if (slab || !this.bootIndex) return slab;
    const i = this.tailAt(pfn);
    if (i < 0) return undefined;
    const ix = this.bootIndex;
    return this.tailSlabView(this.tailCache(i), ix.tails[ix.tail[i]!]!, ix.entry[i]!);
  }

  /** If a tail of this machine holds pfn, materialise it; the slab now registered for pfn. */
  private materialiseAt(pfn: number): Slab | undefined {
    const i = this.tailAt(pfn);
    if (i < 0) return undefined;
    this.materialiseTail(this.tailCache(i));
    return this.byPfn.get(pfn);
  }

  // ---- inspection -----------------------------------------------------------------------------------------------

  /** Every live object (slab objects and large kmallocs). opts.boot=false leaves out the boot model's objects. */
  liveObjects(opts: { boot?: boolean } = {}): LiveObject[] {
    const out: LiveObject[] = [];
    const wantBoot = opts.boot ?? true;
    const seen = new Set<Slab>();
    for (const slab of this.byPfn.values()) {
      // A slab the boot model filled and nobody touched since holds only boot objects (the common case: skip it
      // without materialising its per-object arrays, and without the set: skipped again at each of its pages).
      // (A slab still reading the template's arrays with only boot objects in them likewise.) The reads below go
      // through liveAt/bootAt/requestedAt/callerAt: a reader must not give a slab its own arrays (Slab.sharedArrays).
      if (!wantBoot && (slab.untouchedBoot() || slab.holdsOnlySharedBootObjects())) continue;
      if (seen.has(slab)) continue;
      seen.add(slab);
      const s = slab.cache;
      for (let i = 0; i < slab.objects; i++) {
        const n = slab.liveAt(i);
        if (!n) continue;
        const boot = slab.bootAt(i) === 1;
        if (boot && !wantBoot) continue;
        const addr = slab.addr(i);
        out.push({
          addr,
          cache: s.name,
          requested: slab.requestedAt(i),
          slot: s.size,
          objectSize: s.objectSize,
          caller: slab.callerAt(i),
          pfn: slab.pfn + Math.floor((slab.slotStart + s.redLeftPad + i * s.size) / PAGE_SIZE),
          via: "slab",
          boot,
          ...(n > 1 ? { duplicate: true } : {}),
        });
      }
    }
    // The tails' objects: every one live, the boot's, requested = the object size (what a materialised slab reads).
    if (wantBoot) {
      for (const [s, t] of this.liveTails()) {
        for (let j = 0; j < t.length; j++) {
          const objBase = this.k.pages.page_address(t.pfn[j]!) + BigInt(t.slotStart[j]! + s.redLeftPad);
          for (let i = 0; i < t.objects[j]!; i++) {
            out.push({
              addr: objBase + BigInt(i * s.size),
              cache: s.name,
              requested: s.objectSize,
              slot: s.size,
              objectSize: s.objectSize,
              caller: undefined,
              pfn: t.pfn[j]! + Math.floor((t.slotStart[j]! + s.redLeftPad + i * s.size) / PAGE_SIZE),
              via: "slab",
              boot: true,
            });
          }
        }
      }
    }
    for (const b of this.large.values()) {
      if (b.boot && !wantBoot) continue;
      out.push({
        addr: b.addr,
        cache: "",
        requested: b.requested,
        slot: PAGE_SIZE << b.order,
        objectSize: PAGE_SIZE << b.order,
        caller: b.caller,
        pfn: b.pfn,
        via: "page",
        boot: b.boot === true,
      });
    }
    out.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    return out;
  }

  /** Counts per cache, in /proc/slabinfo order (newest first). Aliases are listed with aliasOf. */
  caches(): CacheInfo[] {
    const out: CacheInfo[] = [];
    for (const c of this.slabinfoOrder()) out.push(this.cacheInfo(c));
    for (const a of this.byId.values())
      if (a.aliasOf) out.push({ ...this.cacheInfo(a.root), id: a.id, name: a.name, objectSize: a.objectSize, aliasOf: a.root.name, aliases: [] });
    return out;
  }

  cacheInfo(c: KmemCache): CacheInfo {
    const { active, num } = this.objCounts(c);
    return {
      id: c.id,
      name: c.name,
      objectSize: c.objectSize,
      size: c.size,
      align: c.align,
      flags: c.flags,
      objectsPerSlab: c.objects,
      pagesPerSlab: 1 << c.order,
      activeObjs: active,
      numObjs: num,
      numSlabs: c.nrSlabs,
      kmalloc: !!c.kmalloc,
      boot: c.boot,
      aliases: [...c.aliases],
      refcount: c.refcount,
    };
  }

  /** Caches as /proc/slabinfo lists them: newest created first. */
  slabinfoOrder(): KmemCache[] {
    return [...this.cacheList].sort((a, b) => b.seq - a.seq);
  }

  /**
   * slabinfo's counts. SLUB: num_objs = objects in all slabs, active = num - free objects on the partial lists
   * (the current slab's free objects count as active, as the per-CPU slab's do). SLAB: active = objects in use.
   */
  objCounts(c: KmemCache): { active: number; num: number; activeSlabs: number; numSlabs: number } {
    if (this.allocator === "SLUB") {
      return { active: c.totalObjects - c.freeInLists, num: c.totalObjects, activeSlabs: c.nrSlabs, numSlabs: c.nrSlabs };
    }
    return { active: c.inuseObjects, num: c.totalObjects, activeSlabs: c.nrSlabs - c.free.count, numSlabs: c.nrSlabs };
  }

  /** What lies at addr: the object (live or free) of a slab, or a large kmalloc block. */
  objectAt(addr: bigint): ObjectAt | undefined {
    // (a tail's slab is read through a view: a question about an address writes nothing)
    const slab = this.isLinear(addr) ? this.peekSlab(this.pfnOf(addr)) : undefined;
    if (slab) {
      const s = slab.cache;
      const rel = Number(addr - slab.base) - slab.slotStart;
      if (rel < 0) return undefined; // SLAB colour / management area
      const i = Math.floor(rel / s.size);
      if (i >= slab.objects) return undefined; // slab tail padding
      const start = slab.addr(i);
      const live = slab.liveAt(i) > 0;
      return {
        cache: s.name,
        start,
        requested: live ? slab.requestedAt(i) : s.objectSize,
        slot: s.size,
        objectSize: s.objectSize,
        live,
        offset: Number(addr - start),
        via: "slab",
        pfn: slab.pfn,
      };
    }
    if (!this.isLinear(addr)) return undefined;
    const pfn = this.pfnOf(addr);
    for (const b of this.large.values()) {
      if (pfn >= b.pfn && pfn < b.pfn + (1 << b.order)) {
        return {
          cache: "",
          start: b.addr,
          requested: b.requested,
          slot: PAGE_SIZE << b.order,
          objectSize: PAGE_SIZE << b.order,
          live: true,
          offset: Number(addr - b.addr),
          via: "page",
          pfn: b.pfn,
        };
      }
    }
    return undefined;
  }

  /** Consistency of every cache and slab; an empty array when all is well. */
  checkInvariants(): string[] {
    const errs: string[] = [];
    const seen = new Set<Slab>();
    for (const [pfn, slab] of this.byPfn) {
      if (pfn < slab.pfn || pfn >= slab.pfn + (1 << slab.order)) errs.push(`pfn ${pfn} maps to a slab that does not cover it`);
      // a tail's frames are its own (mm/slub_boot_tail.ts): a Slab registered there hides the tail's slab
      const ti = this.bootIndex ? this.tailAt(pfn) : -1;
      if (ti >= 0) errs.push(`pfn ${pfn} of a ${this.tailCache(ti).name} boot slab maps to another slab`);
      seen.add(slab);
    }
    for (const c of this.cacheList) {
      let slabs = 0;
      let total = 0;
      let inuse = 0;
      let freeInLists = 0;
      const lists: [SlabList, SlabState][] = [
        [c.partial, "partial"],
        [c.full, "full"],
        [c.free, "free"],
      ];
      const all: Slab[] = [];
      if (c.cur) {
        if (c.cur.state !== "cur") errs.push(`${c.name}: current slab in state ${c.cur.state}`);
        all.push(c.cur);
      }
      for (const [list, st] of lists) {
        let n = 0;
        for (let sl = list.head; sl; sl = sl.next) {
          n++;
          if (sl.state !== st) errs.push(`${c.name}: slab on ${st} list in state ${sl.state}`);
          all.push(sl);
          if (st !== "full") freeInLists += sl.nfree;
        }
        if (n !== list.count) errs.push(`${c.name}: ${st} list count ${list.count} but ${n} slabs`);
      }
      for (const sl of all) {
        slabs++;
        total += sl.objects;
        inuse += sl.inuse;
        if (!seen.has(sl)) errs.push(`${c.name}: slab at pfn ${sl.pfn} not registered`);
        // live[i] counts hand-outs (2 when a corrupted freelist gave the object out twice): inuse is their sum.
        // A uniform boot slab's live[] reads 1 everywhere (Slab.uniformBoot): its sum is the object count.
        const uniform = sl.uniformBoot();
        let live = 0;
        if (uniform) live = sl.objects;
        else for (let i = 0; i < sl.objects; i++) live += sl.liveAt(i);
        if (live !== sl.inuse) errs.push(`${c.name}: slab pfn ${sl.pfn} inuse ${sl.inuse} but ${live} live objects`);
        if (!sl.lost) {
          if (sl.nfree + sl.inuse !== sl.objects + sl.extra)
            errs.push(`${c.name}: slab pfn ${sl.pfn} free ${sl.nfree} + inuse ${sl.inuse} != ${sl.objects}${sl.extra ? ` + ${sl.extra} double-freed` : ""}`);
          // An empty freelist over a uniform boot slab (every object live): the two loops below would find nothing.
          if (!uniform || sl.nfree !== 0) {
            const mark = new Uint8Array(sl.objects);
            for (let j = 0; j < sl.nfree; j++) {
              const i = sl.freeAt(j); // (a check reads: it must not give a shared boot slab its own arrays)
              if (i < 0 || i >= sl.objects) errs.push(`${c.name}: freelist index ${i} out of range`);
              // After an unchecked double free (extra > 0) an object may be on the freelist twice, or live and on it.
              else if (mark[i]++ && !sl.extra) errs.push(`${c.name}: object ${i} twice on the freelist of slab pfn ${sl.pfn}`);
              else if (sl.liveAt(i) && !sl.extra) errs.push(`${c.name}: live object ${i} on the freelist of slab pfn ${sl.pfn}`);
            }
            for (let i = 0; i < sl.objects; i++)
              if (!mark[i] && !sl.liveAt(i)) errs.push(`${c.name}: object ${i} of slab pfn ${sl.pfn} is neither free nor live`);
          }
        }
        if (sl.state === "full" && sl.nfree !== 0) errs.push(`${c.name}: full slab with free objects`);
      }
      // The tail (mm/slub_boot_tail.ts): full slabs, every object in use, none free, registered by the shared index;
      // each entry's own checks above hold by construction (the columns are never written).
      const t = c.bootTail;
      if (t) {
        if (this.byId.get(t.cacheId) !== c) errs.push(`${c.name}: holds the boot tail of cache id ${t.cacheId}`);
        slabs += t.length;
        total += t.objectsTotal;
        inuse += t.objectsTotal;
      }
      if (slabs !== c.nrSlabs) errs.push(`${c.name}: nr_slabs ${c.nrSlabs} but ${slabs} slabs on lists`);
      if (total !== c.totalObjects) errs.push(`${c.name}: total_objects ${c.totalObjects} but ${total}`);
      if (inuse !== c.inuseObjects) errs.push(`${c.name}: inuse ${c.inuseObjects} but ${inuse}`);
      if (freeInLists !== c.freeInLists) errs.push(`${c.name}: free objects on lists ${c.freeInLists} but ${freeInLists}`);
    }
    // No two live objects overlap (slab slots are disjoint by construction; check slabs and large blocks).
    const ix = this.bootIndex;
    const tailNames = ix ? ix.tails.map((t) => (this.byId.get(t.cacheId)?.bootTail === t ? this.byId.get(t.cacheId)!.name : undefined)) : [];
    pageRangeOverlaps([...seen], ix, tailNames, [...this.large.values()], errs);
    return errs;
  }

  /** Pages held by slabs and large kmallocs (for /proc/meminfo's Slab line and the views). */
  pagesUsed(): { slab: number; reclaimable: number; large: number } {
    let slab = 0;
    let rec = 0;
    for (const c of this.cacheList) {
      const n = c.nrSlabs << c.order;
      slab += n;
      if (c.flags & SLAB_RECLAIM_ACCOUNT) rec += n;
    }
    let large = 0;
    for (const b of this.large.values()) large += 1 << b.order;
    return { slab, reclaimable: rec, large };
  }

  /** True for a cache with any slub_debug flag. */
  static debugged(c: KmemCache): boolean {
    return (c.flags & SLAB_DEBUG_FLAGS) !== 0;
  }
}

export { PAGE_SHIFT, SLUB_RED_ACTIVE };

/** The bytes of `s` in UTF-8 (strlen of the kernel's copy), without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else n += 2;
  }
  return n;
}

/**
 * want_init_on_alloc(GFP_KERNEL) (6.1): CONFIG_INIT_ON_ALLOC_DEFAULT_ON (Debian's distro builds; not the debug
 * build) unless `init_on_alloc=` on the command line says otherwise; the old eras have no such option.
 */
export function wantInitOnAlloc(k: Kernel): boolean {
  const ioa = k.params.get("init_on_alloc");
  return k.profile.era === "6.1" && (ioa === undefined ? k.opts.config === "distro" : ioa === true || ioa === "1" || ioa === "on");
}

/**
 * mm_init() -> report_meminit() (init/main.c, 6.1), before mem_init()'s "Memory:" line: the stack is "all(zero)"
 * (CONFIG_INIT_STACK_ALL_ZERO, in every real 6.1 boot's log, the debug build's too), the heap's alloc side is
 * wantInitOnAlloc(). Heap free is "off": init_on_free is not modelled (a freed object keeps its bytes), so the line
 * does not claim it whatever the command line says.
 */
export function report_meminit(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  k.printk(KERN_INFO + "mem auto-init: stack:%s, heap alloc:%s, heap free:%s\n", "all(zero)", wantInitOnAlloc(k) ? "on" : "off", "off");
}
