// Random alloc/free sequences: no overlap, consistent slabs, every page back in the buddy allocator at the end.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { boot } from "../../../src/kernel/kernel.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";

type Op = { kind: "kmalloc"; size: number } | { kind: "cache"; which: number } | { kind: "free"; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("kmalloc" as const), size: fc.oneof(fc.integer({ min: 1, max: 512 }), fc.integer({ min: 513, max: 20000 })) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cache" as const), which: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
);

function noOverlap(objs: { addr: bigint; objectSize: number; cache: string }[]): string | undefined {
  const s = [...objs].sort((a, b) => (a.addr < b.addr ? -1 : 1));
  for (let i = 1; i < s.length; i++)
    if (s[i - 1].addr + BigInt(s[i - 1].objectSize) > s[i].addr)
      return `${s[i - 1].cache} ${s[i - 1].addr.toString(16)} overlaps ${s[i].cache} ${s[i].addr.toString(16)}`;
  return undefined;
}

for (const [profile, config] of [
  ["x86_64-6.1", "distro"],
  ["x86_64-6.1", "debug"],
  ["i386-2.6", "distro"],
  ["arm-3.4-msm8x25", "debug"],
] as const) {
  describe(`random kmalloc/kmem_cache sequences on ${profile} (${config})`, () => {
    it("never overlap live objects, keep every slab consistent, and return all pages after free + shrink", () => {
      const k = boot(profile, { config });
      k.current = { pid: 108, comm: "insmod" };
      const gk = gfpFlags(k.profile.era).GFP_KERNEL!;
      const caches = [k.slab.kmem_cache_create("prop_a", 72, 0, 0)!, k.slab.kmem_cache_create("prop_b", 600, 64, 0x2000)!];
      k.slab.shrinkAll();
      // free pages in the buddy lists and on the per-CPU lists (mm/pcp.ts): a freed slab page may sit on either
      const freeBefore = k.pages.nrFreePages() + k.pages.pcpPages();
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 50, maxLength: 250 }), (ops) => {
          const live: { p: bigint; cache?: number }[] = [];
          for (const op of ops) {
            if (op.kind === "kmalloc") {
              const p = k.slab.kmalloc(op.size, gk);
              if (p > 16n) live.push({ p });
            } else if (op.kind === "cache") {
              const p = k.slab.kmem_cache_alloc(caches[op.which], gk);
              if (p) live.push({ p, cache: op.which });
            } else if (live.length) {
              const [o] = live.splice(op.pick % live.length, 1);
              if (o.cache === undefined) k.slab.kfree(o.p);
              else k.slab.kmem_cache_free(caches[o.cache], o.p);
            }
          }
          const mine = k.slab.liveObjects({ boot: false });
          expect(mine.length).toBe(live.length);
          expect(noOverlap(k.slab.liveObjects())).toBeUndefined();
          expect(k.slab.checkInvariants()).toEqual([]);
          for (const o of live) {
            if (o.cache === undefined) k.slab.kfree(o.p);
            else k.slab.kmem_cache_free(caches[o.cache], o.p);
          }
          k.slab.shrinkAll();
          expect(k.slab.checkInvariants()).toEqual([]);
          expect(k.slab.liveObjects({ boot: false })).toEqual([]);
          expect(k.pages.nrFreePages() + k.pages.pcpPages()).toBe(freeBefore);
        }),
        { numRuns: 25, seed: 42 },
      );
      expect(k.reports).toEqual([]);
      expect(k.pages.checkInvariants()).toEqual([]);
    });
  });
}
