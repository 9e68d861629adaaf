// States the invariant checker (debug/invariants.ts) has found clean, kept so that a later check of a machine of the
// same boot key can skip what is still exactly as it was then. No kernel file models it: a simulator facility, like
// the checker itself.
//
// Why: the fuzzer runs ~25 programs on one machine restored from one booted template (fuzz/gen.ts machineOf), and a
// program touches a few slabs of the thousands the boot made; checking every slab again after every program was most
// of the checker's time. The check stays a full check, slab for slab, except that a slab equal in everything the slab
// checks read to one a full check found clean is not checked again:
// - A record is taken only from a state a whole check found without a single violation (of any cause): then every
//   per-slab check (slabClean's closed form or its per-object loop in debug/invariants.ts) found nothing there.
// - Those checks read, of a slab: its cache's geometry (name, size, objectSize, redLeftPad), the slab's own
//   layout (pfn, order, objects, slotStart, base, objBase), its counts and flags (state, the list it is on,
//   inuse, nfree, extra, lost), its per-object arrays (absent: recorded only for Slab.uniformBoot() slabs, whose
//   reads are the closed form of the boot fill), the registration of each of its frames (objectSlabAtPfn) and the slab
//   allocator's linear-map geometry (what objectAt computes with). A slab equal to its record in all of these gives
//   the same answers to the same questions: nothing to report. Anything that differs (a field a run or a bug
//   changed, a frame registered elsewhere, a cache whose slot size moved) sends the slab to the full per-slab check.
// - So the result, violation for violation, is the full check's (test/reliability/invariants-verified.test.ts
//   compares both on fuzzed runs and on every kind of injected corruption, in touched and untouched state). Nothing
//   depends on the copy being exact (src/kernel/snapshot.ts): a copy that differed would only be checked more.
// - The checks that span the machine (frames claimed once, list lengths, /proc sums) are not skipped: they read
//   every slab's numbers, cheaply.
// - The boot's untouched full slabs that a machine still holds as shared columns (mm/slub_boot_tail.ts) need no
//   record: nothing writes them (a write makes them Slab objects of the machine first, which are then checked as
//   above), so debug/invariants.ts decides their per-slab checks from their cache's geometry and their shape alone.

import type { Kernel } from "../kernel.ts";
import type { KmemCache, Slab, SlabAllocator } from "../mm/slub.ts";

/** Which list of its cache a slab was found on: 0 the current slab, 1 partial, 2 full, 3 free. */
export type SlabList = 0 | 1 | 2 | 3;

interface CacheRecord {
  name: string;
  size: number;
  objectSize: number;
  redLeftPad: number;
}

/** The uniform boot slabs of one clean state, by head pfn, and the caches they belong to. */
export class VerifiedSlabs {
  private readonly at = new Map<number, number>();
  private readonly num: number[] = [];
  private readonly bases: bigint[] = [];
  /** Each recorded slab's state (compared as the same string, without a lookup). */
  private readonly states: Slab["state"][] = [];
  private readonly caches = new Map<number, CacheRecord>();
  private readonly geometry: [bigint, number, bigint];
  /** Per check: the caches whose geometry no longer matches their record (filled by beginCheck). */
  private changed = new Set<number>();
  static readonly FIELDS = 12;

  constructor(sa: SlabAllocator, lists: (cache: KmemCache, visit: (slab: Slab, list: SlabList) => void) => void) {
    this.geometry = linearGeometry(sa);
    for (const cache of sa.cacheList) {
      if (cache.aliasOf) continue;
      this.caches.set(cache.id, cacheRecord(cache));
      lists(cache, (slab, list) => {
        if (!slab.uniformBoot() || slab.cache !== cache || this.at.has(slab.pfn)) return;
        this.at.set(slab.pfn, this.num.length / VerifiedSlabs.FIELDS);
        this.num.push(...slabNumbers(slab, list));
        this.states.push(slab.state);
        this.bases.push(slab.base, slab.objBase);
      });
    }
  }

  /** Call once per check, before isClean: compares the caches' geometry and the allocator's with the record. */
  beginCheck(sa: SlabAllocator): boolean {
    const g = linearGeometry(sa);
    if (g[0] !== this.geometry[0] || g[1] !== this.geometry[1] || g[2] !== this.geometry[2]) return false;
    this.changed = new Set<number>();
    for (const cache of sa.cacheList) {
      const r = this.caches.get(cache.id);
      if (r && (r.name !== cache.name || r.size !== cache.size || r.objectSize !== cache.objectSize || r.redLeftPad !== cache.redLeftPad))
        this.changed.add(cache.id);
    }
    return true;
  }

  /** Whether the record can vouch for slabs of `cache` in this check (its geometry as recorded). Once per cache. */
  covers(cache: KmemCache): boolean {
    return this.caches.has(cache.id) && !this.changed.has(cache.id);
  }

  /**
   * Whether `slab`, found on `list` of `cache` (a cache covers() accepted), is in every field the slab checks read as
   * a clean state left it.
   */
  isClean(sa: SlabAllocator, slab: Slab, cache: KmemCache, list: SlabList): boolean {
    if (slab.cache !== cache || !slab.uniformBoot()) return false;
    const i = this.at.get(slab.pfn);
    if (i === undefined) return false;
    const n = this.num;
    const o = i * VerifiedSlabs.FIELDS;
    if (
      n[o] !== cache.id ||
      n[o + 1] !== slab.order ||
      n[o + 2] !== slab.objects ||
      n[o + 3] !== slab.slotStart ||
      this.states[i] !== slab.state ||
      n[o + 5] !== list ||
      n[o + 6] !== slab.inuse ||
      n[o + 7] !== slab.nfree ||
      n[o + 8] !== slab.extra ||
      n[o + 9] !== (slab.lost ? 1 : 0) ||
      n[o + 10] !== (slab.prev ? slab.prev.pfn : -1) ||
      n[o + 11] !== (slab.next ? slab.next.pfn : -1) ||
      this.bases[2 * i] !== slab.base ||
      this.bases[2 * i + 1] !== slab.objBase
    )
      return false;
    for (let p = slab.pfn, e = slab.pfn + (1 << slab.order); p < e; p++) if (sa.objectSlabAtPfn(p) !== slab) return false;
    return true;
  }
}

function slabNumbers(slab: Slab, list: SlabList): number[] {
  return [
    slab.cache.id,
    slab.order,
    slab.objects,
    slab.slotStart,
    0, // the state: kept apart (states[])
    list,
    slab.inuse,
    slab.nfree,
    slab.extra,
    slab.lost ? 1 : 0,
    slab.prev ? slab.prev.pfn : -1,
    slab.next ? slab.next.pfn : -1,
  ];
}

function cacheRecord(c: KmemCache): CacheRecord {
  return { name: c.name, size: c.size, objectSize: c.objectSize, redLeftPad: c.redLeftPad };
}

/** What objectAt() computes addresses and frames with (SlabAllocator's private copy of the layout). */
function linearGeometry(sa: SlabAllocator): [bigint, number, bigint] {
  const g = sa as unknown as { pageOffset: bigint; physOffset: number; highMemory: bigint };
  return [g.pageOffset, g.physOffset, g.highMemory];
}

/** The machine a record applies to: its profile and boot options (records of another machine would only miss). */
export function machineKey(k: Kernel): string {
  return JSON.stringify([k.profile.name, k.opts]);
}

/** The most recent clean states, one per machine: the fuzzer runs one machine's programs together. */
const KEEP = 8;
const verified = new Map<string, VerifiedSlabs>();

export function verifiedFor(k: Kernel): VerifiedSlabs | undefined {
  return verified.get(machineKey(k));
}

export function remember(k: Kernel, v: VerifiedSlabs): void {
  const key = machineKey(k);
  verified.delete(key);
  verified.set(key, v);
  while (verified.size > KEEP) verified.delete(verified.keys().next().value!);
}

/** Forget every record (tests). */
export function forgetVerified(): void {
  verified.clear();
}
