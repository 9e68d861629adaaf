// MIGRATE_CMA (6.1, CONFIG_CMA: armmp and arm64): cma_init_reserved_areas() hands the CMA area to the buddy allocator
// as MIGRATE_CMA pageblocks; only movable allocations (ALLOC_CMA) take from them, first when free CMA is more than
// half of the zone's free pages (__rmqueue), else once their own lists are empty (__rmqueue_cma_fallback); the
// watermarks of the others leave the free CMA pages out; ARM's atomic DMA pool is cma_alloc()'s first 64 pages.
// Against the real armhf 1G boot (test/fixtures/real-kernel) where it shows them: CmaTotal, CmaFree, and
// /proc/pagetypeinfo's CMA row and pageblock counts.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { boot } from "../../../src/kernel/kernel.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";
import { MIGRATE_CMA } from "../../../src/kernel/mm/pcp.ts";
import { KernelBootError } from "../../../src/kernel/boot_error.ts";
import { realSection } from "../real-kernel.ts";
import { runModule } from "../../../sandbox/run.ts";

const MiB = 2 ** 20;
const G = gfpFlags("6.1");
const GFP_KERNEL = G.GFP_KERNEL!;
const MOVABLE = G.GFP_HIGHUSER_MOVABLE!;
const NOWARN = G.__GFP_NOWARN!;
const kB = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)![1]);
/** Pages of the atomic DMA pools (kernel/dma/pool.c): arm64 takes them from the CMA area (cma_in_zone()). */
const dmaPoolPages = (k: ReturnType<typeof boot>) =>
  k.log
    .texts(0)
    .filter((l) => l.startsWith("DMA: preallocated"))
    .reduce((a, l) => a + Number(/(\d+) KiB/.exec(l)![1]) / 4, 0);
const cmaArea = (k: ReturnType<typeof boot>) => {
  const r = k.layout.reservations.find((x) => /\bcma\b/.test(x.what))!;
  return { start: r.start / 4096, end: r.end / 4096 };
};

describe("armhf 1G (distro): the CMA area as the real boot shows it", () => {
  const k = boot("arm-6.1-virt", { mem: 1024 * MiB, config: "distro" });
  const realMeminfo = realSection("armhf-virt-1G.log", "/proc/meminfo").join("\n");
  const log = readFileSync(new URL("../../fixtures/real-kernel/armhf-virt-1G.log", import.meta.url), "utf8").replace(/\r/g, "");
  const from = log.indexOf("BEGIN /proc/pagetypeinfo");
  const realPti = log.slice(from, log.indexOf("===== MEMDEMO-MARK", from + 30)).split("\n");
  const pti = k.proc("pagetypeinfo").split("\n");

  it("CmaTotal 16384 kB and CmaFree 16128 kB: the atomic pool's 256 KiB came from the area", () => {
    for (const f of ["CmaTotal", "CmaFree"]) expect(kB(k.proc("meminfo"), f), f).toBe(kB(realMeminfo, f));
    expect(kB(k.proc("meminfo"), "CmaFree")).toBe(16128);
  });

  it("/proc/pagetypeinfo: the CMA rows and the pageblock counts of both zones are the real boot's (2 CMA blocks in HighMem)", () => {
    const rows = (lines: string[], re: RegExp) => lines.filter((l) => re.test(l));
    expect(rows(pti, /type +CMA /)).toEqual(rows(realPti, /type +CMA /));
    expect(rows(pti, /^Node 0, zone /)).toEqual(rows(realPti, /^Node 0, zone /));
    expect(rows(pti, /^Number of blocks/)).toEqual(rows(realPti, /^Number of blocks/));
  });

  it("zoneinfo: HighMem's cma is the area's 4096 pages and nr_free_cma the 4032 on its free lists", () => {
    const hm = k
      .proc("zoneinfo")
      .split(/^Node 0, zone +/m)
      .find((s) => s.startsWith("HighMem"))!;
    expect(/^ {8}cma +(\d+)$/m.exec(hm)![1]).toBe("4096");
    expect(/^ {6}nr_free_cma +(\d+)$/m.exec(hm)![1]).toBe("4032");
  });
});

describe("the allocation rules (arm64 6.1 distro, 256 MiB: 32 MiB of CMA in the one zone)", () => {
  it("an unmovable allocation never takes a CMA page: it fails once the other pages are gone, with the CMA area still free", () => {
    const k = boot("arm64-6.1", { mem: 256 * MiB, config: "distro" });
    const pa = k.pages;
    const { start, end } = cmaArea(k);
    const cmaFreeBefore = pa.zoneFreeCma(0);
    // the three atomic DMA pools (128 KiB each at 256 MiB) came from the area's start
    expect(dmaPoolPages(k)).toBe(96);
    expect(cmaFreeBefore).toBe(end - start - dmaPoolPages(k));
    let n = 0;
    for (;;) {
      const pfn = pa.alloc_pages(GFP_KERNEL | NOWARN | G.__GFP_NORETRY!, 0);
      if (pfn < 0) break;
      expect(pfn >= start && pfn < end, `unmovable page ${pfn} in the CMA area`).toBe(false);
      n++;
    }
    expect(n).toBeGreaterThan(30000);
    // the watermark check left the free CMA pages out: MemFree is the CMA area and the reserve below min
    expect(pa.zoneFreeCma(0)).toBe(cmaFreeBefore);
    expect(kB(k.proc("meminfo"), "CmaFree")).toBe(((end - start - dmaPoolPages(k)) * 4096) >> 10);
    // a movable allocation still gets a page, from the CMA area
    const m = pa.alloc_pages(MOVABLE, 0);
    expect(m >= start && m < end).toBe(true);
  });

  it("a movable allocation takes from CMA first when free CMA is more than half of the zone's free pages, else from Movable", () => {
    const k = boot("arm64-6.1", { mem: 256 * MiB, config: "distro" });
    const pa = k.pages;
    const { start, end } = cmaArea(k);
    const inCma = (p: number) => p >= start && p < end;
    // 32 MiB of CMA against ~200 MiB free: the Movable lists serve it
    expect(pa.zoneFreeCma(0) * 2).toBeLessThan(pa.zones[0]!.free);
    expect(inCma(pa.alloc_pages(MOVABLE, 0))).toBe(false);
    // take the non-CMA memory down with unmovable allocations until CMA is more than half of what is free (the
    // per-CPU lists drained: their pages are not in the zone's free count)
    for (;;) {
      pa.drain_all_pages();
      if (pa.zoneFreeCma(0) * 2 > pa.zones[0]!.free) break;
      for (let i = 0; i < 64; i++) pa.alloc_pages(GFP_KERNEL | NOWARN, 0);
    }
    // the next refill of the per-CPU list comes from the CMA area, and the pages keep their type on the Movable list
    const p = pa.alloc_pages(MOVABLE, 0);
    expect(inCma(p)).toBe(true);
    // freed, it goes back to a CMA free list (through the per-CPU list), never to Movable's
    pa.__free_pages(p, 0);
    pa.drain_all_pages();
    expect(pa.pageblockMt(p)).toBe(MIGRATE_CMA);
    let onCma = 0;
    for (let o = 0; o < pa.maxOrder; o++) onCma += pa.freeList(0, o, MIGRATE_CMA).filter((h) => p >= h && p < h + (1 << o)).length;
    expect(onCma).toBe(1);
  });

  it("arm64's /proc/pagetypeinfo has the CMA column: 16 pageblocks of 2 MiB", () => {
    const k = boot("arm64-6.1", { mem: 256 * MiB, config: "distro" });
    const t = k.proc("pagetypeinfo");
    expect(t).toMatch(/^Number of blocks type +Unmovable +Movable +Reclaimable +HighAtomic +CMA +Isolate $/m);
    const counts = /^Node 0, zone +DMA (.*)$/m.exec(t)![1]!.trim().split(/\s+/).map(Number);
    expect(counts[4]).toBe(16);
    expect(kB(k.proc("meminfo"), "CmaTotal")).toBe(32768);
  });
});

describe("arm64 small machines (distro) with 32 MiB of CMA", () => {
  for (const mem of [88, 96]) {
    it(`${mem} MiB boots, its initramfs pages in the CMA area, and runs the memdemo example`, async () => {
      const k = boot("arm64-6.1", { mem: mem * MiB, config: "distro" });
      const mi = k.proc("meminfo");
      // the tmpfs pages of the unpacked initramfs (movable) went to CMA: free CMA was more than half of free memory;
      // the atomic DMA pools took the area's first pages before them
      expect(kB(mi, "CmaTotal") - kB(mi, "CmaFree")).toBe(kB(mi, "Shmem") + dmaPoolPages(k) * 4);
      const src = readFileSync(new URL("../../../examples/memdemo.ts", import.meta.url), "utf8");
      const r = await runModule(src, { profile: "arm64-6.1", mem: mem * MiB, config: "distro" });
      expect(r.reports).toEqual([]);
      expect(r.dmesg.some((l) => /vmallocmem addr=/.test(l))).toBe(true);
      expect(r.module).toEqual({ loaded: true, unloaded: true });
    });
  }

  it("80 MiB cannot boot: the unmovable boot needs more than the RAM outside the CMA area, which CMA never serves", () => {
    let err: unknown;
    try {
      boot("arm64-6.1", { mem: 80 * MiB, config: "distro" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelBootError);
    expect((err as Error).message).toMatch(/System is deadlocked on memory .*32768 kB of the RAM is the CMA area, which only movable allocations may use/);
    // what is left outside CMA at 88 MiB is less than the 8 MiB fewer that 80 MiB has
    const k = boot("arm64-6.1", { mem: 88 * MiB, config: "distro" });
    const mi = k.proc("meminfo");
    expect(kB(mi, "MemFree") - kB(mi, "CmaFree")).toBeLessThan(8 * 1024);
  });
});
