// The invariant checker over the slabs (src/kernel/debug/invariants.ts slabClean, slub.ts checkInvariants): the
// checks evaluate their per-object predicates in closed form instead of one objectAt() per object, and over a slab
// the boot model filled whole and nobody wrote since (Slab.uniformBoot: no per-object arrays) without reading or
// creating any array. That must not weaken them: a corruption inside such a slab (state the run never touched)
// is caught as it is inside a slab the run allocated from, with the same lines the per-object loop prints, and
// checking a kernel leaves its boot slabs as they were.

import { describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { checkKernelInvariants, type Violation } from "../../src/kernel/debug/invariants.ts";
import type { KmemCache, Slab } from "../../src/kernel/mm/slub.ts";
import { gfpFlags } from "../../src/kernel/gfp.ts";
import { runModule, loadKernelDeps, type KernelDeps } from "../../sandbox/run.ts";

const lines = (vs: Violation[]) => vs.map((v) => `${v.check}: ${v.message}`);
const GFP_KERNEL = (k: Kernel) => gfpFlags(k.profile.era).GFP_KERNEL!;
/** The slab allocator's private pfn -> slab map (what slabOf and objectAt read). */
const byPfn = (k: Kernel) => (k.slab as unknown as { byPfn: Map<number, Slab> }).byPfn;

function slabsOf(c: KmemCache): Slab[] {
  return [c.cur, ...c.partial, ...c.full, ...c.free].filter((s): s is Slab => !!s);
}

/** A boot slab nobody wrote since the boot filled it, of `pages` pages or more. */
function untouchedBootSlab(k: Kernel, pages = 1): Slab {
  for (const c of k.slab.cacheList) {
    if (c.aliasOf) continue;
    for (const s of slabsOf(c)) if (s.uniformBoot() && 1 << s.order >= pages && s.objects > 1) return s;
  }
  throw new Error("no untouched boot slab");
}

/** A slab the module allocated from: its per-object arrays exist. */
function touchedSlab(k: Kernel, size: number): Slab {
  const a = k.slab.kmalloc(size, GFP_KERNEL(k));
  const s = k.slab.slabOf(a)!;
  expect(s.uniformBoot()).toBe(false);
  return s;
}

/** Every slab's per-object arrays made (reading them creates them): with everyObject, the checks take the per-object
 *  loops everywhere (the reference). */
function materialise(k: Kernel): void {
  for (const c of k.slab.cacheList) for (const s of slabsOf(c)) void [s.live, s.requested, s.bootMask];
}

/** The same machine twice (same profile, options, seed): boots are deterministic. */
const twin = (profile: string, config: "debug" | "distro") => [0, 1].map(() => boot(profile, { config, mem: 128 << 20, seed: 7 })) as [Kernel, Kernel];

describe("boot slabs nobody touched are checked in closed form, with the per-object loop's result", () => {
  for (const [profile, config] of [
    ["x86_64-6.1", "debug"],
    ["x86_64-6.1", "distro"],
    ["i386-2.6", "debug"],
    ["arm-3.4-msm8x25", "distro"],
  ] as const) {
    it(`${profile} ${config}: a clean boot is clean, and checking it creates no per-object arrays`, () => {
      const k = boot(profile, { config, mem: 128 << 20, seed: 7 });
      const untouched = k.slab.cacheList.flatMap(slabsOf).filter((s) => s.uniformBoot()).length;
      expect(untouched).toBeGreaterThan(0);
      expect(lines(checkKernelInvariants(k))).toEqual([]);
      expect(k.slab.cacheList.flatMap(slabsOf).filter((s) => s.uniformBoot()).length).toBe(untouched);
    });
  }

  it("a frame of an untouched boot slab registered to another slab: objectAt misses its objects, as in a touched slab, line for line", () => {
    const [fast, slow] = twin("x86_64-6.1", "debug");
    for (const k of [fast, slow]) {
      const s = untouchedBootSlab(k, 2);
      const other = touchedSlab(k, 64);
      byPfn(k).set(s.pfn + 1, other); // the simulator loses track of one frame of a slab the run never touched
      // and the same in the slab the run allocated from, when it spans two frames
      const t = touchedSlab(k, 2048);
      if (1 << t.order > 1) byPfn(k).set(t.pfn + 1, other);
    }
    materialise(slow);
    const got = lines(checkKernelInvariants(fast));
    expect(got.some((l) => /^slab: \S+: live object at 0x[0-9a-f]+ is not found there by objectAt \(/.test(l))).toBe(true);
    expect(got.some((l) => /^slab\.checkInvariants: pfn \d+ maps to a slab that does not cover it$/.test(l))).toBe(true);
    expect(got).toEqual(lines(checkKernelInvariants(slow, { everyObject: true })));
  });

  it("an untouched boot slab's inuse count off by one: slub's check says so, as for a touched slab", () => {
    const [fast, slow] = twin("x86_64-6.1", "distro");
    for (const k of [fast, slow]) {
      untouchedBootSlab(k).inuse--;
      touchedSlab(k, 96).inuse++;
    }
    materialise(slow);
    const got = lines(checkKernelInvariants(fast));
    expect(got.filter((l) => /^slab\.checkInvariants: \S+: slab pfn \d+ inuse \d+ but \d+ live objects$/.test(l))).toHaveLength(2);
    expect(got).toEqual(lines(checkKernelInvariants(slow, { everyObject: true })));
  });

  it("an untouched boot slab with a freelist entry (a free object that is also live): found, as in the loop", () => {
    const [fast, slow] = twin("i386-2.6", "debug");
    for (const k of [fast, slow]) {
      const s = untouchedBootSlab(k);
      s.freeStack[0] = 0;
      s.nfree = 1;
    }
    materialise(slow);
    const got = lines(checkKernelInvariants(fast));
    expect(got.some((l) => /^slab\.checkInvariants: \S+: live object 0 on the freelist of slab pfn \d+$/.test(l))).toBe(true);
    expect(got).toEqual(lines(checkKernelInvariants(slow, { everyObject: true })));
  });

  it("a cache whose slot size grew under its slabs: objects of untouched boot slabs no longer fit, line for line", () => {
    const [fast, slow] = twin("x86_64-6.1", "debug");
    for (const k of [fast, slow]) {
      const s = untouchedBootSlab(k);
      s.cache.size += 4096; // every slab of the cache, touched or not
    }
    materialise(slow);
    const got = lines(checkKernelInvariants(fast));
    expect(got.some((l) => /^slab: \S+: object \d+ at 0x[0-9a-f]+ does not fit in its slab$/.test(l))).toBe(true);
    expect(got).toEqual(lines(checkKernelInvariants(slow, { everyObject: true })));
  });

  it("slabs a workload allocated from and freed into: clean as the loop finds them, and each corruption found line for line", () => {
    const [fast, slow] = twin("x86_64-6.1", "debug");
    const work = (k: Kernel) => {
      const live: bigint[] = [];
      for (let i = 0; i < 300; i++) live.push(k.slab.kmalloc(8 + ((i * 37) % 3000), GFP_KERNEL(k)));
      for (let i = 0; i < live.length; i += 3) k.slab.kfree(live[i]!);
      return live.filter((_, i) => i % 3 !== 0);
    };
    const [a, b] = [work(fast), work(slow)];
    materialise(slow);
    expect(lines(checkKernelInvariants(fast))).toEqual([]);
    expect(lines(checkKernelInvariants(slow, { everyObject: true }))).toEqual([]);
    for (const [k, live] of [
      [fast, a],
      [slow, b],
    ] as const) {
      const s1 = k.slab.slabOf(live[5]!)!;
      s1.requested[Number(live[5]! - s1.objBase) / s1.cache.size] = s1.cache.size + 8; // a live object holding too much
      const s2 = k.slab.slabOf(live[150]!)!;
      byPfn(k).set(k.slab.pfnOf(live[150]!), s1); // the frame of a live object of a touched slab registered to another
      expect(s2).not.toBe(s1);
    }
    const got = lines(checkKernelInvariants(fast));
    expect(got.some((l) => /^slab: \S+: object \d+ at 0x[0-9a-f]+ holds \d+ bytes in a \d+-byte object$/.test(l))).toBe(true);
    expect(got.some((l) => /^slab: \S+: live object at 0x[0-9a-f]+ is not found there by objectAt/.test(l))).toBe(true);
    expect(got).toEqual(lines(checkKernelInvariants(slow, { everyObject: true })));
  });

  it("a run's --check-invariants catches a corruption of a boot slab the module never touched, and one of a slab it allocated from", async () => {
    const real = await loadKernelDeps();
    // the object stays allocated (a leak kmemleak reports), so its slab is still the module's at the check
    const cell = `import { kmalloc, GFP_KERNEL, module_init, module_exit } from "linux";
module_init(() => { kmalloc(64, GFP_KERNEL); return 0; });
module_exit(() => {});`;
    for (const where of ["untouched", "touched"] as const) {
      const seen: string[] = [];
      const deps: KernelDeps = {
        ...real,
        boot: (p, o) => {
          const k = real.boot(p, o);
          // untouched: a boot slab the module never allocated from; touched: the slab of the module's kmalloc(64)
          // (kept live: the module does not free it). Corrupted after the run's own work, just before the check.
          const check = k.checkInvariants.bind(k);
          k.checkInvariants = () => {
            const mine = k.slab.liveObjects({ boot: false }).find((o) => o.cache === "kmalloc-64")!;
            const victim = where === "untouched" ? untouchedBootSlab(k) : k.slab.slabOf(mine.addr)!;
            expect(victim.uniformBoot()).toBe(where === "untouched");
            victim.inuse += 1;
            const v = check();
            seen.push(...lines(v));
            return v;
          };
          return k;
        },
      };
      const r = await runModule(cell, { checkInvariants: true, seed: 3 }, deps);
      expect(seen.some((l) => /^slab\.checkInvariants: \S+: slab pfn \d+ inuse \d+ but \d+ live objects$/.test(l))).toBe(true);
      expect(r.reports.filter((x) => x.kind === "bug")[0]?.title).toMatch(/^kmodlab internal error: the simulated kernel is inconsistent/);
    }
  });
});
