// The page-table walks' cache of decoded table frames (mm/pgtable.ts nonzeroEntries, PhysMem.frozenBytes): a frame
// shared by a booted machine and its restored copies is decoded once for all of them; a frame a copy wrote is its
// own, decoded again. The walks must see exactly what the copy's tables hold.

import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { SnapshotPlan } from "../../../src/kernel/snapshot.ts";
import { checkKernelInvariants } from "../../../src/kernel/debug/invariants.ts";
import type { Kernel } from "../../../src/kernel/kernel.ts";

/** Every mapping in the vmalloc ranges, as "vpn:pfn" lines. */
function vmallocMappings(k: Kernel): string[] {
  const out: string[] = [];
  for (const r of k.vmalloc.ranges) k.pgtable.forEachMapped(r.start, r.end, (vpn, pfn) => out.push(`${vpn}:${pfn}`));
  return out;
}

describe("page-table walks over frames shared with a snapshot", () => {
  for (const [profile, config] of [
    ["x86_64-6.1", "debug"],
    ["arm-6.1-virt", "distro"],
    ["i386-2.6", "distro"],
  ] as const) {
    it(`${profile} ${config}: a copy's walks see the copy's own table writes, the template's and other copies' do not`, () => {
      const t = boot(profile, { config, mem: 128 << 20, seed: 5 });
      const plan = new SnapshotPlan(t);
      const a = plan.copy();
      const before = vmallocMappings(t);
      expect(vmallocMappings(a)).toEqual(before); // decoded from the shared frames
      expect(checkKernelInvariants(a)).toEqual([]);
      const addr = a.vmalloc.vmalloc(3 * 4096); // writes PTEs into a's own copy of a table frame
      const vpn = Number(addr >> 12n);
      const mapped = vmallocMappings(a);
      for (let i = 0; i < 3; i++) expect(mapped.some((m) => m.startsWith(`${vpn + i}:`))).toBe(true);
      expect(mapped.length).toBe(before.length + 3);
      expect(checkKernelInvariants(a)).toEqual([]);
      // the template and a new copy still read the old tables
      expect(vmallocMappings(t)).toEqual(before);
      const b = plan.copy();
      expect(vmallocMappings(b)).toEqual(before);
      expect(checkKernelInvariants(b)).toEqual([]);
      // a stray mapping written straight into a copy's table (next to the area, outside it) is found by the check
      const w = b.pgtable.walk(BigInt(vpn) << 12n);
      const pte = w.steps[w.steps.length - 1]!;
      expect(pte.present).toBe(false);
      b.physmem.write32(pte.entryPhys, profile === "arm-6.1-virt" ? 0x1000 | 2 : 0x1000 | 1);
      expect(checkKernelInvariants(b).some((v) => /mapped .*outside any busy area|should be mapped/.test(v.message))).toBe(true);
      expect(checkKernelInvariants(plan.copy())).toEqual([]);
    });
  }
});
