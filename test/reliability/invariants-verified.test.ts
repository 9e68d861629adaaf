// The invariant check of a run (k.checkInvariants(), `--check-invariants`, the fuzzer) skips the per-slab checks of the
// slabs still exactly as a clean check of the same machine found them (src/kernel/debug/verified.ts). It must report
// what the full check reports, violation for violation: after fuzzed programs on restored machines, and after every
// kind of corruption the full check finds, put into state the run touched and into state it never touched (where
// the record would let a check skip it, if the record were not compared field by field). The untouched full boot
// slabs a machine still holds as its boot's shared columns (mm/slub_boot_tail.ts) are skipped too, by construction:
// a corruption of one of them is a write, which first makes the slabs of its cache objects of their own (here:
// materialiseTail), or a change elsewhere (its frames, its cache) that the check reads each time.

import { beforeEach, describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { checkKernelInvariants, type Violation } from "../../src/kernel/debug/invariants.ts";
import { forgetVerified, verifiedFor } from "../../src/kernel/debug/verified.ts";
import type { KmemCache, Slab } from "../../src/kernel/mm/slub.ts";
import { PageOwner } from "../../src/kernel/mm/page_flags.ts";
import { gfpFlags } from "../../src/kernel/gfp.ts";
import { busyVmallocArea, firstFreePfn } from "./corrupt_targets.ts";
import { runModule, loadKernelDeps, type KernelDeps } from "../../sandbox/run.ts";
import { API } from "../../sandbox/api.ts";
import { FUZZ_TARGETS, fuzzOrder, generate, machineOf } from "../../fuzz/gen.ts";
import { runOptions } from "../../fuzz/oracle.ts";

const lines = (vs: Violation[]) => vs.map((v) => `${v.check}: ${v.message} (${v.cause})`);
const GFP_KERNEL = (k: Kernel) => gfpFlags(k.profile.era).GFP_KERNEL!;
const MACHINE = { config: "debug", mem: 128 << 20, seed: 11 } as const;
const byPfn = (k: Kernel) => (k.slab as unknown as { byPfn: Map<number, Slab> }).byPfn;
type PagesPriv = { owner: { set(pfn: number, v: number): void }; nrFree: Int32Array };
const priv = (k: Kernel) => k.pages as unknown as PagesPriv;

function slabsWithList(c: KmemCache): [Slab, 0 | 1 | 2 | 3][] {
  const out: [Slab, 0 | 1 | 2 | 3][] = [];
  if (c.cur) out.push([c.cur, 0]);
  for (const [l, i] of [
    [c.partial, 1],
    [c.full, 2],
    [c.free, 3],
  ] as const)
    for (let s = l.head; s; s = s.next) out.push([s, i]);
  return out;
}

/** How many slabs of k the check does not check one by one (a test where none is skipped would prove nothing): those
 *  the record lets it skip, and the entries of the boot's tails k still holds. */
function skippable(k: Kernel): number {
  let n = 0;
  for (const [, t] of k.slab.liveTails()) n += t.length;
  const v = verifiedFor(k);
  if (!v || !v.beginCheck(k.slab)) return n;
  for (const c of k.slab.cacheList) if (!c.aliasOf && v.covers(c)) for (const [s, l] of slabsWithList(c)) if (v.isClean(k.slab, s, c, l)) n++;
  return n;
}

/**
 * A boot slab nobody wrote since the boot filled it, with more than one object: a Slab object the record covers, or
 * else one of a tail, whose cache's tail becomes objects first (as any write to it does).
 */
function untouchedSlab(k: Kernel, pred: (s: Slab, list: number) => boolean = () => true): Slab {
  const find = () => {
    for (const c of k.slab.cacheList) {
      if (c.aliasOf) continue;
      for (const [s, l] of slabsWithList(c)) if (s.uniformBoot() && s.objects > 1 && pred(s, l)) return s;
    }
    return undefined;
  };
  let s = find();
  for (const [c] of k.slab.liveTails()) {
    if (s) break;
    k.slab.materialiseTail(c);
    s = find();
  }
  if (!s) throw new Error("no untouched boot slab");
  return s;
}

/** A tail entry k still holds as columns, with more than one object: [its cache, its first frame, its frames]. */
function tailEntry(k: Kernel, pred: (c: KmemCache) => boolean = () => true): [KmemCache, number, number] {
  for (const [c, t] of k.slab.liveTails()) {
    if (!pred(c)) continue;
    for (let j = 0; j < t.length; j++) if (t.objects[j]! > 1) return [c, t.pfn[j]!, 1 << t.order[j]!];
  }
  throw new Error("no boot tail");
}

/** A slab the machine allocated from after the record (its per-object arrays exist). */
function touchedSlab(k: Kernel): Slab {
  const s = k.slab.slabOf(k.slab.kmalloc(64, GFP_KERNEL(k)))!;
  expect(s.uniformBoot()).toBe(false);
  return s;
}

/** Each kind of corruption the full check finds (test/reliability/invariants*.test.ts), by the check that finds it. */
const CORRUPTIONS: Record<string, (k: Kernel) => void> = {
  "frames: a free frame owned by Slab": (k) => priv(k).owner.set(firstFreePfn(k), PageOwner.Slab),
  "frames: a vmalloc area forgets a page": (k) => {
    const { vm } = busyVmallocArea(k);
    vm.pages!.pop();
    vm.nr_pages--;
  },
  "frames: a page-table page linked nowhere": (k) => void k.pages.alloc_pages(GFP_KERNEL(k), 0, PageOwner.PageTable),
  "frames: a reservation on the free lists": (k) => {
    const pfn = firstFreePfn(k);
    k.layout.reservations.push({ start: pfn * 4096, end: pfn * 4096 + 4096, what: "moved" });
  },
  "buddy: nr_free out of step": (k) => {
    const z = k.pages.zones.find((x) => x.free > 0)!;
    priv(k).nrFree[z.idx * k.pages.maxOrder]! += 1;
  },
  "proc: a zone's free counter drifts": (k) => {
    k.pages.zones.find((x) => x.free > 0)!.free += 3;
  },
  "vmalloc: a guard page mapped": (k) => {
    const { n, vm } = busyVmallocArea(k);
    k.pgtable.mapPages(n.start + vm.size / 4096 - 1, 1, [vm.pages![0]!]);
  },
  "pgtable: a linear-map page pointing at another frame": (k) => k.pgtable.mapPages(Number(k.layout.pageOffset >> 12n) + 0x50, 1, [0x51]),
  "slab: a large kmalloc freed behind the slab allocator's back": (k) => {
    const a = k.slab.kmalloc(1 << 20, GFP_KERNEL(k));
    k.pages.__free_pages(k.pages.virt_to_pfn(a), 8);
  },
  // the slabs: each field the record compares, in a slab the run never touched and in one it allocated from
  ...slabCorruptions("untouched", (k) => untouchedSlab(k)),
  ...slabCorruptions("touched", touchedSlab),
  "slab (untouched): a frame registered to another slab": (k) => {
    const victim = untouchedSlab(k);
    const other = untouchedSlab(k, (s) => s.cache !== victim.cache);
    byPfn(k).set(victim.pfn, other);
  },
  "slab (untouched): the cache's slot size grew under its slabs": (k) => {
    const s = untouchedSlab(k, (x) => x.objects > 4);
    (s.cache as { size: number }).size *= 2;
  },
  "slab (untouched): a slab moved to another list without its state": (k) => {
    const s = untouchedSlab(k, (_, l) => l === 2);
    s.cache.full.remove(s);
    s.cache.partial.pushTail(s);
  },
  // the tails themselves: nothing a run does writes their columns; what it can change is checked at every check
  "slab (tail): a tail slab's frame freed behind the slab allocator's back": (k) => {
    const [, pfn] = tailEntry(k);
    priv(k).owner.set(pfn, PageOwner.Kernel);
    k.pages.__free_pages(pfn, 0);
  },
  "slab (tail): a Slab object registered over a tail slab's frame": (k) => {
    const [, pfn, pages] = tailEntry(k);
    byPfn(k).set(pfn + pages - 1, touchedSlab(k));
  },
  "slab (tail): the cache's slot size grew under its tail": (k) => {
    const [c] = tailEntry(k);
    (c as { size: number }).size *= 2;
  },
  "slab (tail): the cache's objects start a slot late (its left red zone grew)": (k) => {
    const [c] = tailEntry(k);
    (c as { redLeftPad: number }).redLeftPad += c.size;
  },
  "slab (tail): the cache's slab count forgets the tail": (k) => {
    const [c, , pages] = tailEntry(k);
    c.nrSlabs -= 1;
    void pages;
  },
  "slab (untouched): a list link skips a slab": (k) => {
    const s = untouchedSlab(k, (x, l) => l === 2 && !!x.next && !!x.next.next);
    s.next = s.next!.next;
  },
};

function slabCorruptions(where: string, pick: (k: Kernel) => Slab): Record<string, (k: Kernel) => void> {
  return {
    [`slab (${where}): inuse off by one`]: (k) => void (pick(k).inuse += 1),
    [`slab (${where}): nfree off by one`]: (k) => void (pick(k).nfree += 1),
    [`slab (${where}): a double free nobody counted (extra)`]: (k) => void (pick(k).extra += 1),
    [`slab (${where}): state says free`]: (k) => void (pick(k).state = "free"),
    [`slab (${where}): a live object on the freelist`]: (k) => {
      const s = pick(k);
      s.freeStack[s.nfree++] = 0;
    },
    [`slab (${where}): objects start one slot late`]: (k) => {
      const s = pick(k);
      (s as { objBase: bigint }).objBase += BigInt(s.cache.size);
    },
  };
}

describe("the check since a verified state reports what the full check reports", () => {
  beforeEach(() => forgetVerified());

  for (const profile of ["x86_64-6.1", "i386-2.6"] as const) {
    for (const [name, corrupt] of Object.entries(CORRUPTIONS)) {
      // 2.6's kmalloc has no large (page allocator) kmallocs: its largest sizes are slab caches
      if (profile === "i386-2.6" && /large kmalloc/.test(name)) continue;
      it(`${profile}: ${name}`, () => {
        // the record: a clean check of the same machine (same profile and boot options)
        const clean = boot(profile, MACHINE);
        expect(checkKernelInvariants(clean, { sinceVerified: true })).toEqual([]);
        const k = boot(profile, MACHINE);
        expect(skippable(k)).toBeGreaterThan(100);
        corrupt(k);
        const full = lines(checkKernelInvariants(k));
        expect(full.length).toBeGreaterThan(0);
        expect(lines(checkKernelInvariants(k, { sinceVerified: true }))).toEqual(full);
      });
    }
  }

  it("a corrupted state is never recorded: the next check of the machine is whole", () => {
    const k = boot("x86_64-6.1", MACHINE);
    untouchedSlab(k).inuse += 1;
    expect(checkKernelInvariants(k, { sinceVerified: true }).length).toBeGreaterThan(0);
    expect(verifiedFor(k)).toBeUndefined();
  });

  it("a run's k.checkInvariants() catches a corruption of a slab no run ever touched, on a restored machine", async () => {
    const real = await loadKernelDeps();
    const cell = `import { module_init } from "linux"; module_init(() => 0);`;
    let corrupt = false;
    const deps: KernelDeps = {
      ...real,
      boot: (p, o) => {
        const k = real.boot(p, o);
        const check = k.checkInvariants.bind(k);
        k.checkInvariants = () => {
          if (corrupt) {
            expect(skippable(k)).toBeGreaterThan(100);
            untouchedSlab(k).inuse += 1;
          }
          return check();
        };
        return k;
      },
    };
    for (let i = 0; i < 3; i++)
      expect((await runModule(cell, { checkInvariants: true, ...MACHINE }, deps)).reports.filter((r) => r.kind === "bug")).toEqual([]);
    corrupt = true;
    const r = await runModule(cell, { checkInvariants: true, ...MACHINE }, deps);
    expect(r.reports.filter((x) => x.kind === "bug")[0]?.text).toMatch(/^slab\.checkInvariants: \S+: slab pfn \d+ inuse \d+ but \d+ live objects$/m);
  });

  it("fuzzed programs on their restored machines: the same violations (none) as the full check, with most slabs skipped", async () => {
    const real = await loadKernelDeps();
    let k: Kernel | undefined;
    const deps: KernelDeps = { ...real, boot: (p, o) => (k = real.boot(p, o)) };
    let skipped = 0;
    // three targets, one machine each, the programs in the order a fuzz run takes them
    const seeds = fuzzOrder(1, 800).filter((s) => [0, 4, 5].includes(s % FUZZ_TARGETS.length) && machineOf(s).index === 0 && s % 3 === 0);
    expect(seeds.length).toBeGreaterThan(20);
    for (const s of seeds) {
      const g = generate(API, s);
      await runModule(g.source, { ...runOptions(g.program), checkInvariants: true }, deps);
      skipped += skippable(k!);
      const full = lines(checkKernelInvariants(k!));
      expect(lines(checkKernelInvariants(k!, { sinceVerified: true })), `seed ${s}`).toEqual(full);
    }
    expect(skipped).toBeGreaterThan(seeds.length * 100);
  }, 120_000);
});
