// A run's invariant check (sinceVerified) replays a walk of the page tables (the table pages claimed, the linear map)
// when every table frame a recorded walk read is still the same frame (src/kernel/debug/invariants.ts tableWalk,
// PhysMem.frameIdentity). On restored copies of a booted machine, where the records apply, it must report what the
// full check reports, violation for violation, whatever was corrupted: a table the run rewrote, a table page's owner,
// the layout, a table freed behind the page tables' back.

import { beforeEach, describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { checkKernelInvariants, forgetTableWalks, tableWalkStats, type Violation } from "../../src/kernel/debug/invariants.ts";
import { forgetVerified } from "../../src/kernel/debug/verified.ts";
import { SnapshotPlan } from "../../src/kernel/snapshot.ts";
import { PageOwner } from "../../src/kernel/mm/page_flags.ts";
import { busyVmallocArea } from "./corrupt_targets.ts";

const lines = (vs: Violation[]) => vs.map((v) => `${v.check}: ${v.message} (${v.cause})`);
type PagesPriv = { owner: { set(pfn: number, v: number): void } };
const priv = (k: Kernel) => k.pages as unknown as PagesPriv;
const tablePages = (k: Kernel) => k.pages.allocations(PageOwner.PageTable).map((a) => a.pfn);
const linearVpn = (k: Kernel, off: number) => Number(k.layout.pageOffset >> 12n) + off;

const CORRUPTIONS: Record<string, (k: Kernel) => void> = {
  "a linear-map page pointing at another frame (a table written)": (k) => k.pgtable.mapPages(linearVpn(k, 0x50), 1, [0x51]),
  "a table page owned by the kernel (no table written)": (k) => {
    const t = tablePages(k);
    priv(k).owner.set(t[t.length >> 1]!, PageOwner.Kernel);
  },
  "a table page freed behind the page tables' back": (k) => {
    const t = tablePages(k);
    k.pages.__free_pages(t[t.length - 1]!, 0);
  },
  "a guard page mapped": (k) => {
    const { n, vm } = busyVmallocArea(k);
    k.pgtable.mapPages(n.start + vm.size / 4096 - 1, 1, [vm.pages![0]!]);
  },
  "lowmem shrinks under the linear map (layout)": (k) => {
    const m = k.layout.memory[k.layout.memory.length - 1]!;
    (m as { end: number }).end -= 5 * 4096;
  },
};

describe("the page-table walks a run's check replays report what the full check reports", () => {
  beforeEach(() => {
    forgetVerified();
    forgetTableWalks();
  });
  for (const [profile, opts] of [
    ["x86_64-6.1", { config: "debug", mem: 128 << 20 }],
    ["arm-6.1-virt", { config: "distro", mem: 256 << 20 }],
    ["i386-2.6", { mem: 128 << 20 }],
  ] as const) {
    const plan = new SnapshotPlan(boot(profile, opts));
    it(`${profile}: a clean copy's walks are recorded, and replayed for the next copy`, () => {
      expect(checkKernelInvariants(plan.copy(), { sinceVerified: true })).toEqual([]);
      const before = { ...tableWalkStats };
      expect(checkKernelInvariants(plan.copy(), { sinceVerified: true })).toEqual([]);
      expect(tableWalkStats.replayed - before.replayed).toBe(2);
      expect(tableWalkStats.walked).toBe(before.walked);
      // a run that maps new vmalloc pages writes tables: the table-pages walk runs again
      const k = plan.copy();
      k.vmalloc.vmalloc(4 << 20);
      const mid = { ...tableWalkStats };
      expect(checkKernelInvariants(k, { sinceVerified: true })).toEqual([]);
      expect(tableWalkStats.walked - mid.walked).toBeGreaterThanOrEqual(1);
    });
    for (const [name, corrupt] of Object.entries(CORRUPTIONS)) {
      // 32-bit ARM maps lowmem with 1 MiB sections: no 4 KiB page of it can be pointed elsewhere
      if (profile === "arm-6.1-virt" && /linear-map page/.test(name)) continue;
      it(`${profile}: ${name}`, () => {
        expect(checkKernelInvariants(plan.copy(), { sinceVerified: true })).toEqual([]);
        const k = plan.copy();
        corrupt(k);
        const full = lines(checkKernelInvariants(k));
        expect(full.length).toBeGreaterThan(0);
        expect(lines(checkKernelInvariants(k, { sinceVerified: true }))).toEqual(full);
      });
    }
  }
});
