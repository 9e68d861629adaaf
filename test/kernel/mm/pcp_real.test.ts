// The per-CPU page lists' sizes of the three reference boots, from the 6.1 formulas on the real kernels' own figures
// (mm/pcp.ts zoneBatchsize / zoneHighsize): each zone's Mem-Info line in the real logs (test/fixtures/real-kernel,
// printed during memdemo's failed vmalloc(1 GiB), GFP_KERNEL: the zones up to Normal) gives its low watermark and
// managed pages; with one CPU, high = low watermark (zone_highsize: percpu_pagelist_high_fraction 0, one CPU of the
// node, at least 4 * batch) and batch = zone_batchsize(managed). The simulator's lists must have those sizes, and the
// pages the real lists held then (free_pcp, out of the zone's "free") must fit under that high.
//
// Why it matters for MemFree: pages on these lists are not in NR_FREE_PAGES. i386's lowmem list may hold 13242 pages
// (52 MiB) before it drains, so every lowmem page the boot and /init's short-lived processes free at order <= 3 stays
// off MemFree until the same list hands it out again: the real i386 boot's lists held 2831 pages during insmod, the
// x86_64 one's (high 817) 578, armhf's (high 1085) 993.
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { zoneBatchsize, zoneHighsize } from "../../../src/kernel/mm/pcp.ts";
import { realLog } from "../real-kernel.ts";
import "../../../src/kernel/fs/all.ts";

const M = 2 ** 20;

/** The first Mem-Info's zone lines of a real log: name, low watermark, managed and free_pcp (pages). */
function realZones(file: string) {
  const out: { zone: string; low: number; managed: number; freePcp: number }[] = [];
  for (const l of realLog(file)) {
    const m = /^\[\s*[\d.]+\] (?:Node 0 )?(\w+) free:\d+kB .* low:(\d+)kB .* managed:(\d+)kB .* free_pcp:(\d+)kB/.exec(l);
    if (!m) continue;
    if (out.some((z) => z.zone === m[1])) break;
    out.push({ zone: m[1]!, low: Number(m[2]) / 4, managed: Number(m[3]) / 4, freePcp: Number(m[4]) / 4 });
  }
  return out;
}

describe("per-CPU list sizes of the reference boots, from their own Mem-Info lines (6.1)", () => {
  for (const [file, profile, mib, expected] of [
    ["x86_64-512M-nokaslr.log", "x86_64-6.1", 512, { DMA32: [817, 31, 578] }],
    ["i386-1G.log", "i386-6.1", 1024, { Normal: [13242, 63, 2831] }],
    ["armhf-virt-1G.log", "arm-6.1-virt", 1024, { DMA: [1085, 63, 993] }],
  ] as const) {
    it(`${profile} ${mib}M: high = the real low watermark, batch = zone_batchsize(real managed), and the real lists' pages fit under high`, () => {
      const zones = realZones(file);
      const k = boot(profile, { mem: mib * M, config: "distro" });
      const checked: string[] = [];
      for (const z of zones) {
        const batch = Math.max(1, zoneBatchsize("6.1", z.managed));
        const high = zoneHighsize(z.low, batch, 1);
        const sim = k.pages.zones.find((x) => x.name === z.zone)!;
        const [set] = k.pages.pagesets(sim.idx);
        expect(sim.managed, z.zone).toBe(z.managed);
        expect({ high: set!.high, batch: set!.batch }, `${profile} ${z.zone}`).toEqual({ high, batch });
        expect(z.freePcp, z.zone).toBeLessThanOrEqual(high);
        if (z.freePcp) checked.push(z.zone);
        const e = (expected as Record<string, readonly number[]>)[z.zone];
        if (e) expect([high, batch, z.freePcp]).toEqual(e);
      }
      expect(checked).toEqual(Object.keys(expected));
    });
  }
});
