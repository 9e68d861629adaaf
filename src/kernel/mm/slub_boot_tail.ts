// Models no kernel file by itself: how the simulator stores part of mm/slub.c's full lists (6.1, 3.4) and mm/slab.c's
// slabs_full (2.6.26), the untouched full slabs the boot model leaves, as columns instead of one Slab object each.
//
// Why: a booted 6.1 debug machine holds ~3,400 full slabs that the boot filled whole (mm/slub.ts bootFill) and that
// nothing has touched since, out of ~3,500. A restored machine (src/kernel/snapshot.ts) copied each of them as an
// object, with their frames' entries in the slab allocator's frame map: most of a restore's objects, and most of the
// garbage collection their survival caused later (issue 18). So when the boot ends (SlabAllocator.compactBootSlabs),
// the longest run of such slabs at the end of each cache's full list becomes that cache's BootTail: typed columns,
// made once, never written again, marked immutable() so that every copy of the machine shares them by identity. A
// machine's own state is only its cache's pointer to the tail (KmemCache.bootTail) and the index below.
//
// The rules that keep it exact (mm/slub.ts):
// - A cache's full list, head to tail, is its `full` Slab objects followed by its tail's entries in order. A new full
//   slab goes to the head (pushHead), as before; nothing but the materialisation below appends.
// - Nothing writes a tail. Every path that hands a Slab object out (slabOf, slabAtPfn: kfree, kmem_cache_free, ksize,
//   KASAN, slub_debug, krealloc) or registers a frame to a new slab first materialises the whole tail of the cache
//   concerned: one Slab per entry, built as the boot built it (allBoot, full, every object in use, no per-object
//   array), appended to `full` in order and registered in the frame map; then the cache's pointer is cleared. So a
//   Slab object is never shared between machines, and a write to slab state always meets a Slab of its own machine.
// - Readers that need numbers only read the columns, closed form, without materialising: slabinfo's counters (kept
//   in the cache as before), objectAt (every object of a tail slab is live, its requested size the object size),
//   liveObjects, and the consistency checks (mm/slub.ts checkInvariants, debug/invariants.ts): an entry's per-slab
//   checks hold by construction, given its cache's geometry, which is checked at each check.
// - What else a run can do to a tail slab's frames goes elsewhere and is checked there: raw writes over its bytes
//   (free pointers included) go to physical memory (mm/physmem.ts, copy-on-write per machine), KASAN's shadow is
//   KASAN's (debug/kasan.ts), and a free_pages() of one of its frames changes the page allocator's owner array,
//   which the frame checks compare with the tail's claim.

import { immutable } from "../snapshot.ts";

/** The untouched full boot slabs at the end of one cache's full list, in list order (head to tail). Immutable. */
export class BootTail {
  /** Objects in all the entries (each entry's objects are all in use). */
  readonly objectsTotal: number;
  /** Frames in all the entries. */
  readonly pagesTotal: number;

  constructor(
    /** KmemCache.id of the cache whose full list ends with these slabs. */
    readonly cacheId: number,
    /** Each slab's first frame. */
    readonly pfn: Int32Array,
    readonly order: Uint8Array,
    readonly objects: Int32Array,
    /** Offset of the first slot (SLAB: colour and on-slab management; 0 for SLUB). */
    readonly slotStart: Int32Array,
  ) {
    let objs = 0;
    let pages = 0;
    for (let j = 0; j < pfn.length; j++) {
      objs += objects[j]!;
      pages += 1 << order[j]!;
    }
    this.objectsTotal = objs;
    this.pagesTotal = pages;
    immutable(this);
  }

  get length(): number {
    return this.pfn.length;
  }
}

/** Every tail's entries sorted by first frame: which tail entry holds a frame (tails never overlap). Immutable. */
export class BootTailIndex {
  /** First frame, end frame (exclusive), tail (index into `tails`) and entry, per slab, by first frame. */
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly tail: Int32Array;
  readonly entry: Int32Array;

  constructor(readonly tails: readonly BootTail[]) {
    // sorted as numbers: first frame * 2^22 + the entry's number across the tails (both fit a double exactly)
    const IDX = 2 ** 22;
    const n = tails.reduce((a, t) => a + t.length, 0);
    if (n >= IDX) throw new RangeError(`BootTailIndex: ${n} boot slabs, more than ${IDX}`);
    const keys = new Float64Array(n);
    const tailOf = new Int32Array(n);
    const entryOf = new Int32Array(n);
    let g = 0;
    tails.forEach((t, ti) => {
      for (let j = 0; j < t.length; j++, g++) {
        keys[g] = t.pfn[j]! * IDX + g;
        tailOf[g] = ti;
        entryOf[g] = j;
      }
    });
    keys.sort();
    this.start = new Int32Array(n);
    this.end = new Int32Array(n);
    this.tail = new Int32Array(n);
    this.entry = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      const gi = k % IDX;
      const p = (k - gi) / IDX;
      const ti = tailOf[gi]!;
      const j = entryOf[gi]!;
      this.start[i] = p;
      this.end[i] = p + (1 << tails[ti]!.order[j]!);
      this.tail[i] = ti;
      this.entry[i] = j;
      // The slabs came from the buddy allocator: disjoint. The closed-form checks rely on it (checked once here).
      if (i > 0 && p < this.end[i - 1]!) throw new Error(`boot slab tails overlap at pfn ${p}`);
    }
    immutable(this);
    immutable(this.tails);
  }

  /** The sorted index of the entry whose frames include pfn, or -1. */
  find(pfn: number): number {
    const s = this.start;
    let lo = 0;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= pfn) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && pfn < this.end[hi]! ? hi : -1;
  }

  /** The sorted index of the first entry that ends after pfn (every entry from there on starts at or after it...
   *  or covers it): where a range query starts. */
  firstEndingAfter(pfn: number): number {
    const e = this.end;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (e[mid]! <= pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
