// The order of the 6.1 boot's work, and what it leaves in the free lists, against the real Debian boots
// (test/fixtures/real-kernel): memmap_init's pageblock migratetypes (a pageblock whose first pfn is not the zone's
// memory stays MIGRATE_UNMOVABLE, per zone on FLATMEM), and the GFP_DMA atomic pool that lives in x86's first DMA
// pageblock.
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { realLog, realSection } from "../real-kernel.ts";

const M = 2 ** 20;

/** The real /proc/pagetypeinfo rows (before insmod) of a zone: its free blocks per type, and its pageblock counts. */
function realPagetype(file: string): string[] {
  const lines = realLog(file);
  const i = lines.findIndex((l) => l.includes("MEMDEMO-MARK: BEGIN /proc/pagetypeinfo"));
  const out: string[] = [];
  for (let j = i + 1; j < lines.length && !lines[j]!.includes("MEMDEMO-MARK"); j++) if (lines[j]) out.push(lines[j]!);
  return out;
}
const rows = (text: string[], re: RegExp) => text.filter((l) => re.test(l));
const simPagetype = (k: ReturnType<typeof boot>) => k.proc("pagetypeinfo").split("\n").filter(Boolean);

describe("memmap_init's pageblock types: a zone's pageblock that starts outside it stays Unmovable", () => {
  it("x86_64 512M distro: DMA starts at pfn 1, so its first pageblock is Unmovable and the GFP_DMA atomic pool (32 pages) takes it: buddyinfo's DMA line, the DMA type rows and block counts are the real ones", () => {
    const file = "x86_64-512M-nokaslr.log";
    const k = boot("x86_64-6.1", { mem: 512 * M, config: "distro" });
    const realBuddy = realSection(file, "/proc/buddyinfo");
    const buddy = k.proc("buddyinfo").split("\n").filter(Boolean);
    expect(buddy[0]).toBe(realBuddy[0]); // Node 0, zone      DMA      0 0 0 0 0 1 1 1 0 1 3
    const real = realPagetype(file);
    const sim = simPagetype(k);
    for (const re of [/zone {6}DMA, type {4}Unmovable/, /zone {6}DMA, type {6}Movable/, /^Node 0, zone {6}DMA {12}/])
      expect(rows(sim, re), String(re)).toEqual(rows(real, re));
    expect(k.pages.checkInvariants()).toEqual([]);
  });

  it("x86_64 at other sizes: DMA has one Unmovable pageblock, holding the DMA pool (128 KiB per GiB, at least 128 KiB) cut from its free 1-2 MiB", () => {
    for (const mib of [256, 2048, 4096]) {
      const k = boot("x86_64-6.1", { mem: mib * M, config: "distro", userspace: false });
      expect(k.pages.pageblockCounts(0).slice(0, 3), `${mib}M`).toEqual([1, 7, 0]);
      const pool = Math.max(Math.min(Math.floor(k.pages.totalramPages / 8192), 1024), 32);
      const order = Math.ceil(Math.log2(pool));
      // [1 MiB, 2 MiB) is one free order-8 block on the Unmovable list before the pool splits it
      let unmovable = 0;
      for (let o = 0; o < k.pages.maxOrder; o++) unmovable += k.pages.nrFreeMtAt(0, o, 0) << o;
      expect(unmovable, `${mib}M`).toBe(256 - (1 << order));
    }
  });

  it("i386 1G distro (FLATMEM): DMA's first pageblock is Unmovable, and HighMem's first, partial pageblock (max_low_pfn 0x36bfe is not aligned) is HighMem's own and Unmovable: the real block counts", () => {
    const file = "i386-1G.log";
    const k = boot("i386-6.1", { mem: 1024 * M, config: "distro" });
    const real = realPagetype(file);
    const sim = simPagetype(k);
    for (const re of [/^Node 0, zone {6}DMA {12}/, /^Node 0, zone {2}HighMem {12}/, /^Node 0, zone {3}Normal {12}/])
      expect(rows(sim, re), String(re)).toEqual(rows(real, re));
    // the two HighMem pages of that pageblock are a free order-1 block on HighMem's Unmovable list, as in the real row
    const hm = k.pages.zones.findIndex((z) => z.name === "HighMem");
    const start = k.pages.zones[hm]!.startPfn;
    expect(start % 1024).toBe(0x3fe);
    expect(k.pages.pageblockMt(start)).toBe(0);
    expect(k.pages.pageblockMt(start - 1)).toBe(1); // Normal's part of the same pageblock: Movable
    expect(k.pages.checkInvariants()).toEqual([]);
  });

  it("armhf 1G: zones start on pageblock boundaries, so only the boot's stealing makes Unmovable blocks (DMA's real 1/94/1)", () => {
    const real = realPagetype("armhf-virt-1G.log");
    const sim = simPagetype(boot("arm-6.1-virt", { mem: 1024 * M, config: "distro" }));
    expect(rows(sim, /^Node 0, zone {6}DMA {12}/)).toEqual(rows(real, /^Node 0, zone {6}DMA {12}/));
  });
});
