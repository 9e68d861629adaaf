// PageAllocator.allocationRuns() (the notebook's allocations view, sandbox/kview.ts): allocations() with consecutive
// blocks of one kind merged. Held to that definition, computed here from allocations(), on booted machines and after
// allocations of several orders, owners, GFP flags and callers, with frees leaving gaps between them.
import { describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../../src/kernel/kernel.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";

type Row = { pfn: number; order: number; ownerName: string; zone: string; gfp: number; caller?: string; n?: number };

/** allocations(), consecutive blocks of the same order, owner, gfp, caller and zone merged into one row with n. */
function reference(k: Kernel): Row[] {
  const out: Row[] = [];
  let last: Row | undefined;
  let lastEnd = -1;
  for (const a of k.pages.allocations()) {
    if (
      last &&
      lastEnd === a.pfn &&
      last.order === a.order &&
      last.ownerName === a.ownerName &&
      last.gfp === a.gfp &&
      last.caller === a.caller &&
      last.zone === a.zone
    )
      last.n = (last.n ?? 1) + 1;
    else {
      last = { pfn: a.pfn, order: a.order, ownerName: a.ownerName, zone: a.zone, gfp: a.gfp };
      if (a.caller) last.caller = a.caller;
      out.push(last);
    }
    lastEnd = a.pfn + 2 ** a.order;
  }
  return out;
}

describe("allocationRuns() is allocations() with consecutive blocks of one kind merged", () => {
  for (const [profile, config] of [
    ["x86_64-6.1", "debug"],
    ["x86_64-6.1", "distro"],
    ["i386-6.1", "debug"],
    ["arm-6.1-virt", "distro"],
    ["arm64-6.1", "debug"],
    ["i386-2.6", "distro"],
    ["arm-3.4-msm8x25", "distro"],
  ] as const) {
    it(`${profile} ${config}: after boot, and after allocations and frees of several orders and flags`, () => {
      const k = boot(profile, { config, mem: 128 << 20, seed: 5 });
      expect(k.pages.allocationRuns()).toEqual(reference(k));
      k.current = { pid: 110, comm: "insmod" };
      const g = gfpFlags(k.profile.era);
      const held: [bigint, number][] = [];
      for (let i = 0; i < 40; i++) {
        const order = i % 4;
        const gfp = i % 3 === 0 ? g.GFP_ATOMIC! : g.GFP_KERNEL!;
        held.push([k.pages.__get_free_pages(gfp, order), order]);
        if (i % 5 === 0) k.slab.kmalloc(8192 * (1 + (i % 3)), g.GFP_KERNEL!);
      }
      for (let i = 0; i < held.length; i += 3) k.pages.free_pages(held[i]![0], held[i]![1]);
      const runs = k.pages.allocationRuns();
      expect(runs).toEqual(reference(k));
      expect(runs.some((r) => (r.n ?? 1) > 1)).toBe(true);
    });
  }
});
