// 6.1 free lists per migratetype: pageblock migratetypes, __rmqueue_fallback()'s order and stealing, frees to the
// pageblock's list, and /proc/pagetypeinfo (its format, and its rows adding up to /proc/buddyinfo).
import { describe, expect, it } from "vitest";
import { smallX86 } from "./helpers.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";
import "../../../src/kernel/fs/buddyinfo.ts";
import "../../../src/kernel/fs/pagetypeinfo.ts";
import "../../../src/kernel/fs/zoneinfo.ts";
import "../../../src/kernel/fs/meminfo.ts";

const G = gfpFlags("6.1");
const GFP_KERNEL = G.GFP_KERNEL!;
const MOVABLE = G.GFP_HIGHUSER_MOVABLE!;
const RECLAIMABLE = GFP_KERNEL | G.__GFP_RECLAIMABLE!;
const NOWARN = G.__GFP_NOWARN!;
const [UNMOV, MOV, RECL] = [0, 1, 2];

// smallX86 (debug config: pageblock order 10 = MAX_ORDER-1): DMA32's free memory is the order-10 blocks 5120, 6144
// and 7168, all in Movable pageblocks after boot.
describe("fallback and stealing (6.1)", () => {
  it("boot leaves every DMA32 pageblock Movable and every free block of DMA32 on the Movable lists", () => {
    const pa = smallX86().pages;
    expect(pa.pageblockOrder).toBe(10);
    expect([5120, 6144, 7168].map((p) => pa.pageblockMt(p))).toEqual([MOV, MOV, MOV]);
    for (let o = 0; o < pa.maxOrder; o++) {
      expect(pa.nrFreeMtAt(1, o, UNMOV) + pa.nrFreeMtAt(1, o, RECL)).toBe(0);
      expect(pa.nrFreeMtAt(1, o, MOV)).toBe(pa.nrFreeAt(1, o));
    }
  });

  it("an unmovable allocation on a fresh zone steals one whole pageblock, and later unmovable allocations stay in it", () => {
    const pa = smallX86().pages;
    const first = pa.alloc_pages(GFP_KERNEL, 0);
    // the largest fallback block (order 10, the head of the Movable list) changes type and is split on Unmovable
    expect(first).toBe(5120);
    expect(pa.pageblockMt(5120)).toBe(UNMOV);
    expect(pa.pageblockCounts(1)).toEqual([1, 3, 0, 0]);
    const more = Array.from({ length: 300 }, () => pa.alloc_pages(GFP_KERNEL, 0));
    for (const p of more) expect(p >= 5120 && p < 6144, `unmovable page ${p} outside the stolen pageblock`).toBe(true);
    // a movable allocation does not take from the stolen block while Movable blocks have pages
    const m = pa.alloc_pages(MOVABLE, 0);
    expect(m >= 6144).toBe(true);
    expect(pa.pageblockMt(6144)).toBe(MOV);
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("a reclaimable allocation falls back to the largest block first (Unmovable, then Movable) and steals it", () => {
    const pa = smallX86().pages;
    pa.alloc_pages(GFP_KERNEL, 0); // 5120's pageblock is Unmovable, its smaller buddies on the Unmovable lists
    const r = pa.alloc_pages(RECLAIMABLE, 0);
    // fallbacks[RECLAIMABLE] = { UNMOVABLE, MOVABLE }, searched from MAX_ORDER-1 down: at order 10 only Movable has a block
    expect(r).toBe(6144);
    expect(pa.pageblockMt(6144)).toBe(RECL);
    expect(pa.pageblockCounts(1)).toEqual([1, 2, 1, 0]);
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("a movable request on empty Movable lists claims back a mostly free Unmovable pageblock; a page freed there goes to the pageblock's list, not its allocation's", () => {
    const pa = smallX86().pages;
    const u = pa.alloc_pages(GFP_KERNEL, 0); // pageblock 5120 Unmovable, 1023 of its pages free
    let inBlock = -1;
    for (let i = 0; i < 5000 && inBlock < 0; i++) {
      const p = pa.alloc_pages(MOVABLE | NOWARN, 0);
      if (p < 0) break;
      if (p >= 5120 && p < 6144) inBlock = p;
    }
    // once the Movable lists are empty, fallbacks[MOVABLE] = { RECLAIMABLE, UNMOVABLE }: the largest Unmovable block
    // (order 9 >= pageblock_order / 2, so it may steal) moves with every free block of its pageblock, and as they
    // are more than half a pageblock, the pageblock turns Movable again
    expect(inBlock).toBeGreaterThan(5120);
    expect(pa.pageblockMt(5120)).toBe(MOV);
    for (let o = 0; o < pa.maxOrder; o++) expect(pa.nrFreeMtAt(1, o, UNMOV)).toBe(0);
    expect(pa.checkInvariants()).toEqual([]);
    // the unmovable page u now lies in a Movable pageblock: freed (to the pcp list, then drained) it goes to Movable
    pa.__free_pages(u, 0);
    pa.drain_all_pages();
    const onList = (mt: number) => {
      for (let o = 0; o < pa.maxOrder; o++) if (pa.freeList(1, o, mt).some((h) => u >= h && u < h + (1 << o))) return true;
      return false;
    };
    expect(onList(MOV)).toBe(true);
    expect(onList(UNMOV)).toBe(false);
    expect(pa.checkInvariants()).toEqual([]);
  });
});

describe("/proc/pagetypeinfo (6.1)", () => {
  it("prints the pageblock order, the free blocks per zone, type and order, and the pageblock counts, in the kernel's format; its rows add up to buddyinfo", () => {
    const k = smallX86({ config: "distro" });
    const pa = k.pages;
    pa.alloc_pages(GFP_KERNEL, 0);
    pa.alloc_pages(RECLAIMABLE, 1);
    const lines = k.proc("pagetypeinfo").split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "Page block order: 9",
      "Pages per block:  512",
      "",
      "Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 ",
    ]);
    const names = ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"];
    const zones = pa.zones.filter((z) => z.present > 0);
    const buddy = k.proc("buddyinfo").split("\n").filter(Boolean);
    zones.forEach((z, zi) => {
      const sum = new Array<number>(pa.maxOrder).fill(0);
      names.forEach((name, mt) => {
        const line = lines[4 + zi * names.length + mt]!;
        const cells = Array.from({ length: pa.maxOrder }, (_, o) => String(pa.nrFreeMtAt(z.idx, o, mt)).padStart(6) + " ").join("");
        expect(line).toBe(`Node    0, zone ${z.name.padStart(8)}, type ${name.padStart(12)} ${cells}`);
        line
          .slice(44)
          .trim()
          .split(/\s+/)
          .forEach((n, o) => (sum[o] += Number(n)));
      });
      expect(`Node 0, zone ${z.name.padStart(8)} ` + sum.map((n) => String(n).padStart(6) + " ").join("")).toBe(buddy[zi]);
    });
    const at = 4 + zones.length * names.length;
    expect(lines[at]).toBe("");
    expect(lines[at + 1]).toBe("Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate ");
    // DMA [1, 4096): pageblock starts 1, 513, ... (8), the first never made Movable by memmap_init (pfn 0 is not the
    // zone's, so no pageblock-aligned pfn of it is walked): Unmovable; DMA32 [4096, 8192): 8, of which each allocation
    // above stole an order-10 block, two pageblocks of order 9 (change_pageblock_range)
    expect(lines[at + 2]).toBe("Node 0, zone      DMA            1            7            0            0            0 ");
    expect(lines[at + 3]).toBe("Node 0, zone    DMA32            2            4            2            0            0 ");
    expect(k.checkInvariants?.() ?? []).toEqual([]);
  });
});
