// CONFIG_SLAB_FREELIST_RANDOM (mm/slab_random.ts, mm/slub.ts): on in the 6.1 distro config (Debian's configs have
// it), off in the debug config and the old eras; deterministic per --seed; every object of a new slab handed out
// once; the boot's churn leaves the kmalloc caches' cpu slabs with free objects, so a module's first kmalloc comes
// from a slab the boot left, as in the real logs (kmalloc(100) at ffff8880060d2500 below __get_free_page's
// ffff888006222000, test/fixtures/real-kernel SUMMARY).
import { describe, expect, it } from "vitest";
import { boot as kboot } from "../../../src/kernel/kernel.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";
import { FreelistRandom, freelistRandomize, randomSeqFromSeed } from "../../../src/kernel/mm/slab_random.ts";
import { PrandomState } from "../../../src/kernel/arch/x86_64.ts";
import type { KmemCache } from "../../../src/kernel/mm/slub.ts";
import { provokeSlubBugs } from "./slub_bugs.ts";

const G = gfpFlags("6.1").GFP_KERNEL!;
const PAGE = 4096n;
/** x86_64's default command line, plus slub_nomerge: a module cache must not be merged into a boot cache here. */
const NOMERGE = "console=ttyS0 loglevel=8 nokaslr slub_nomerge";

function boot(profile: string, opts: Parameters<typeof kboot>[1] = {}) {
  const k = kboot(profile, opts);
  k.current = { pid: 108, comm: "insmod" };
  return k;
}

/** Allocate every object of the cache's next new slab; the object indices in the order they were handed out. */
function drainNewSlab(k: ReturnType<typeof boot>, c: KmemCache): { order: number[]; objects: number; next: bigint } {
  const first = k.slab.kmem_cache_alloc(c, G);
  const slab = k.slab.slabOf(first)!;
  const order = [Number(first - slab.objBase) / c.size];
  while (order.length < slab.objects) {
    const p = k.slab.kmem_cache_alloc(c, G);
    expect(k.slab.slabOf(p), `object ${order.length} of ${slab.objects} comes from the same slab`).toBe(slab);
    order.push(Number(p - slab.objBase) / c.size);
  }
  const next = k.slab.kmem_cache_alloc(c, G);
  return { order, objects: slab.objects, next: next === 0n ? 0n : BigInt(k.slab.slabOf(next)!.pfn) };
}

describe("CONFIG_SLAB_FREELIST_RANDOM: the module's first kmalloc (6.1 distro)", () => {
  for (const profile of ["x86_64-6.1", "i386-6.1", "arm-6.1-virt", "arm64-6.1"]) {
    it(`${profile}: kmalloc(100) after __get_free_page comes from a kmalloc-128 slab the boot left, never offset 0 of the next page`, () => {
      const offsets = new Set<bigint>();
      for (const seed of [undefined, 1, 2, 3, 4, 5, 6, 7]) {
        const k = boot(profile, { config: "distro", seed });
        const c = k.slab.kmallocCaches.get("normal")!.get(128)!;
        const slabs = c.nrSlabs;
        const page = k.pages.__get_free_page(G);
        const p = k.slab.kmalloc(100, G);
        expect(p, `seed ${seed}`).not.toBe(page + PAGE);
        // The boot's cpu slab had free objects: no new slab, and the object's neighbours are the boot's.
        expect(c.nrSlabs, `seed ${seed}: no new kmalloc-128 slab`).toBe(slabs);
        const slab = k.slab.slabOf(p)!;
        expect(
          slab.bootMask.some((b) => b === 1),
          `seed ${seed}: the slab holds boot objects`,
        ).toBe(true);
        offsets.add((p - slab.base) % PAGE);
      }
      expect(offsets.size, "the object's offset in its page varies with the seed").toBeGreaterThan(3);
    });
  }

  it("the debug config (no CONFIG_SLAB_FREELIST_RANDOM) keeps its in-order placement: object 7 of the boot's slab", () => {
    // The real custom debug kernel: kmalloc(100) = ffff888002200380, object 7 of a kmalloc-128 slab in order.
    const k = boot("x86_64-6.1", { config: "debug" });
    expect(k.slab.freelistRandom).toBeUndefined();
    const p = k.slab.kmalloc(100, G);
    expect((p - k.slab.slabOf(p)!.base) % PAGE).toBe(0x380n);
  });
});

describe("CONFIG_SLAB_FREELIST_RANDOM: deterministic per --seed", () => {
  function trace(seed: number | undefined): string {
    const k = boot("x86_64-6.1", { config: "distro", seed });
    const c = k.slab.kmem_cache_create("sr_item", 200, 0, 0)!;
    const out: string[] = [];
    for (let i = 0; i < 60; i++) out.push(k.slab.kmalloc(64 + (i % 5) * 100, G).toString(16), k.slab.kmem_cache_alloc(c, G).toString(16));
    return `${out.join(" ")}\n${k.log.records.map((r) => r.text).join("")}\n${k.proc("slabinfo")}`;
  }

  it("the same seed gives byte-identical addresses, log and slabinfo", () => {
    expect(trace(11)).toBe(trace(11));
    expect(trace(undefined)).toBe(trace(undefined));
  });

  it("without --seed the stream is seeded as --seed 0 (deterministic, still shuffled)", () => {
    expect(trace(undefined)).toBe(trace(0));
  });

  it("a different seed gives a different object order in a new slab", () => {
    const orders = [1, 2, 3].map((seed) => {
      const k = boot("x86_64-6.1", { config: "distro", seed, userspace: false, cmdline: NOMERGE });
      return drainNewSlab(k, k.slab.kmem_cache_create("sr_order", 96, 0, 0)!).order.join(",");
    });
    expect(new Set(orders).size).toBe(3);
  });

  it("the boot's slabinfo (objects, active objects, slabs) does not depend on the seed", () => {
    const a = boot("i386-6.1", { config: "distro", seed: 1 }).proc("slabinfo");
    const b = boot("i386-6.1", { config: "distro", seed: 99 }).proc("slabinfo");
    expect(a).toBe(b);
  });
});

describe("CONFIG_SLAB_FREELIST_RANDOM: every object of a new slab once, before the slab is full", () => {
  // Object sizes from 512 objects per slab (8 bytes) to one (a 20000-byte object in an order-3 slab).
  const sizes = [8, 24, 96, 200, 700, 3000, 5000, 20000];
  it("for many seeds and object sizes (1 to 512 objects per slab); the order is shuffled where a slab has 2+ objects", () => {
    let shuffled = 0;
    let oneObject = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const k = boot("x86_64-6.1", { config: "distro", seed, userspace: false, cmdline: NOMERGE });
      for (const size of sizes) {
        const c = k.slab.kmem_cache_create(`sr_${size}`, size, 0, 0)!;
        const { order, objects, next } = drainNewSlab(k, c);
        expect(
          [...order].sort((x, y) => x - y),
          `seed ${seed} size ${size}`,
        ).toEqual([...Array(objects).keys()]);
        expect(next, "the next object comes from a new slab").not.toBe(0n);
        if (objects === 1) oneObject++;
        if (order.some((v, i) => v !== i)) shuffled++;
        else expect(objects, `seed ${seed} size ${size}: in order`).toBeLessThan(4);
      }
      expect(k.slab.checkInvariants()).toEqual([]);
    }
    expect(oneObject).toBe(12);
    expect(shuffled).toBeGreaterThan(12 * (sizes.length - 2));
  });

  it("next_freelist_entry skips the indices a smaller (fallback-order) slab does not have", () => {
    const r = new FreelistRandom(5);
    for (const count of [2, 7, 32, 512]) {
      const seq = r.cacheRandomSeqCreate(count)!;
      expect([...seq].sort((a, b) => a - b)).toEqual([...Array(count).keys()]);
      for (const objects of [1, Math.max(1, count >> 1), count]) {
        const got: number[] = [];
        r.shuffleOrder(seq, objects, (j, idx) => (got[j] = idx));
        expect(got.sort((a, b) => a - b)).toEqual([...Array(objects).keys()]);
      }
    }
    expect(r.cacheRandomSeqCreate(1)).toBeUndefined();
  });

  it("a sequence made when a slab first needs it is the one cache_random_seq_create makes at creation", () => {
    const eager = new FreelistRandom(8);
    const lazy = new FreelistRandom(8);
    for (const count of [2, 42, 512]) {
      const seed = lazy.cacheRandomSeed(count)!;
      expect([...randomSeqFromSeed(seed, count)]).toEqual([...eager.cacheRandomSeqCreate(count)!]);
    }
  });

  it("freelist_randomize is a Fisher-Yates shuffle over prandom_u32_state (identity for one element)", () => {
    const one = new Uint32Array(1);
    freelistRandomize(new PrandomState(1n), one);
    expect([...one]).toEqual([0]);
    const a = new Uint32Array(64);
    freelistRandomize(new PrandomState(42n), a);
    const b = new Uint32Array(64);
    freelistRandomize(new PrandomState(42n), b);
    expect([...a]).toEqual([...b]);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(64).keys()]);
    expect([...a]).not.toEqual([...Array(64).keys()]);
  });

  it("the free pointers in memory follow the shuffled freelist, and the ctor runs on each object once, in freelist order", () => {
    const k = boot("x86_64-6.1", { config: "distro", seed: 3, userspace: false });
    const constructed: bigint[] = [];
    const c = k.slab.kmem_cache_create("sr_ctor", 48, 0, 0, (p) => constructed.push(p))!;
    const first = k.slab.kmem_cache_alloc(c, G);
    const slab = k.slab.slabOf(first)!;
    expect(new Set(constructed).size).toBe(slab.objects);
    expect(constructed[0]).toBe(first);
    // Walk the freelist through memory: each free object's pointer at s->offset names the next one.
    const handedOut = [first];
    let fp = k.physmem.read64(k.slab.phys(first) + c.offset); // still the link written at slab creation
    while (fp !== 0n) {
      handedOut.push(fp);
      fp = k.physmem.read64(k.slab.phys(fp) + c.offset);
    }
    expect(handedOut).toEqual(constructed);
    for (let i = 1; i < slab.objects; i++) expect(k.slab.kmem_cache_alloc(c, G)).toBe(constructed[i]);
  });

  it("the debug config and the 2.6 / 3.4 eras hand out a new slab's objects in address order", () => {
    for (const [profile, config] of [
      ["x86_64-6.1", "debug"],
      ["arm-3.4-msm8x25", "distro"],
      ["i386-2.6", "distro"],
    ] as const) {
      const k = boot(profile, { config, seed: 9, userspace: false, cmdline: `${kboot(profile, { userspace: false }).opts.cmdline} slub_nomerge` });
      expect(k.slab.freelistRandom).toBeUndefined();
      const { order } = drainNewSlab(k, k.slab.kmem_cache_create("sr_plain", 64, 0, 0)!);
      expect(order, profile).toEqual([...Array(order.length).keys()]);
    }
  });
});

describe("CONFIG_SLAB_FREELIST_RANDOM with slub_debug (6.1 distro, slub_debug=FZPU)", () => {
  it("red zones, poisoning, double-free and invalid-pointer detection still find each bug once", () => {
    const k = boot("x86_64-6.1", { config: "distro", seed: 4, userspace: false, cmdline: "console=ttyS0 loglevel=8 nokaslr slub_debug=FZPU" });
    k.captureModuleStack = () => [{ fn: "leaky_init", module: "cell", line: 12 }];
    provokeSlubBugs(k, G);
    expect(k.reports.map((r) => r.kind)).toEqual(["double-free", "slub", "slub", "invalid-free"]);
    expect(k.reports[1].text).toContain("Right Redzone overwritten");
    expect(k.reports[2].text).toContain("Poison overwritten");
    expect(k.slab.checkInvariants()).toEqual([]);
  });
});
