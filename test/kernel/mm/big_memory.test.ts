// Big machines: a 16 GiB page allocator keeps its invariants, and many order-0 allocations and frees leave it as it
// was. How fast (mem_init of 4 GiB, order-0 pairs per second) is measured by npm run bench -- page_alloc
// (bench/page_alloc.bench.ts), never asserted here.
import { describe, expect, it } from "vitest";
import { machine } from "./helpers.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";

const G = gfpFlags("6.1");
const GiB = 1024 * 1024 * 1024;

function x86(memBytes: number) {
  const maxPfn = memBytes / 4096;
  return machine("x86_64-6.1", {
    memory: [
      [0x1000, 0x9f000],
      [0x100000, Math.min(memBytes, 0xc0000000)],
      ...(memBytes > 0xc0000000 ? [[0x100000000, 0x100000000 + memBytes - 0xc0000000] as [number, number]] : []),
    ],
    reservations: [
      [0, 0x100000, "first 1 MiB (BIOS)"],
      [0x1000000, 0x4000000, "kernel image"],
    ],
    zones: [
      { name: "DMA", startPfn: 1, endPfn: 4096 },
      { name: "DMA32", startPfn: 4096, endPfn: Math.min(maxPfn, 0x100000) },
      { name: "Normal", startPfn: 0x100000, endPfn: memBytes > 0xc0000000 ? 0x100000 + (memBytes - 0xc0000000) / 4096 : 0x100000 },
    ],
    maxLowPfn: memBytes > 0xc0000000 ? 0x100000 + (memBytes - 0xc0000000) / 4096 : maxPfn,
    maxPfn: memBytes > 0xc0000000 ? 0x100000 + (memBytes - 0xc0000000) / 4096 : maxPfn,
  });
}

describe("big machines", () => {
  it("a 16 GiB machine boots and its invariants hold", () => {
    const k = x86(16 * GiB);
    expect(k.pages.zones[2]!.managed).toBeGreaterThan(3_000_000);
    expect(k.pages.checkInvariants()).toEqual([]);
  });

  it("200k order-0 allocations freed in reverse leave the free count and the invariants as they were", () => {
    const k = x86(1 * GiB);
    const free0 = k.pages.nrFreePages();
    const pfns = new Int32Array(100_000);
    for (let r = 0; r < 2; r++) {
      for (let i = 0; i < pfns.length; i++) pfns[i] = k.pages.alloc_pages(G.GFP_KERNEL!, 0);
      expect(new Set(pfns).size).toBe(pfns.length);
      expect(k.pages.nrFreePages()).toBe(free0 - pfns.length);
      for (let i = pfns.length - 1; i >= 0; i--) k.pages.__free_pages(pfns[i]!, 0);
    }
    expect(k.pages.nrFreePages()).toBe(free0);
    expect(k.pages.checkInvariants()).toEqual([]);
  });
});
