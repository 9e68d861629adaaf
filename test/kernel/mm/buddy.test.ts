// The buddy allocator's behaviour: split (expand), coalesce (__free_one_page), boot order per era, zone fallback,
// GFP zone modifiers, watermarks, MAX_ORDER, warn_alloc and its rate limit, bad frees, and the invariants under
// thousands of random allocation/free sequences.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { machine, smallX86 } from "./helpers.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";
import { PageOwner } from "../../../src/kernel/mm/page_alloc.ts";

const G = gfpFlags("6.1");
const GFP_KERNEL = G.GFP_KERNEL!;
const GFP_ATOMIC = G.GFP_ATOMIC!;
const GFP_DMA = G.GFP_DMA!;
const NOWARN = G.__GFP_NOWARN!;

describe("split and coalesce", () => {
  it("an order-0 allocation splits the lowest order-10 block and returns the upper halves to the free lists", () => {
    const k = smallX86();
    const pa = k.pages;
    const dma32 = pa.zones[1]!;
    const before = pa.zoneStats()[1]!.nrFree;
    // DMA32 [4096, 8192) minus the kernel image [4096, 5120): free is [5120, 8192) = order-10 blocks 5120, 6144, 7168
    expect(pa.freeList(1, 10)).toEqual([5120, 6144, 7168]);
    const pfn = pa.alloc_pages(GFP_KERNEL, 0);
    expect(pfn).toBe(5120); // 6.1: boot memory went to the tail, the head is the lowest block
    const after = pa.zoneStats()[1]!.nrFree;
    for (let o = 0; o < 10; o++) expect(after[o]).toBe(before[o]! + 1); // one buddy per order 0..9
    expect(after[10]).toBe(before[10]! - 1);
    expect(pa.freeList(1, 0)).toEqual([5121]);
    expect(pa.freeList(1, 9)).toEqual([5120 + 512]);
    expect(dma32.free).toBe(3072 - 1);
    pa.__free_pages(pfn, 0);
    expect(pa.zoneStats()[1]!.nrFree).toEqual(before); // merged all the way back
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("consecutive order-0 allocations walk upwards through the split block", () => {
    const k = smallX86();
    const got = [0, 1, 2, 3].map(() => k.pages.alloc_pages(GFP_KERNEL, 0));
    expect(got).toEqual([5120, 5121, 5122, 5123]);
  });

  it("2.6 frees boot memory to the head: the first page comes from the top of lowmem", () => {
    const k = machine("i386-2.6", {
      memory: [
        [0, 0x9f000],
        [0x100000, 160 << 20],
      ],
      reservations: [[0x100000, 0x800000, "kernel image"]],
      zones: [
        { name: "DMA", startPfn: 0, endPfn: 4096 },
        { name: "Normal", startPfn: 4096, endPfn: 40960 },
        { name: "HighMem", startPfn: 40960, endPfn: 40960 },
      ],
      maxLowPfn: 40960,
      maxPfn: 40960,
    });
    const pfn = k.pages.alloc_pages(gfpFlags("2.6").GFP_KERNEL!, 0);
    expect(pfn).toBe(40960 - 1024); // lowest page of the highest order-10 block
    expect(k.pages.page_address(pfn)).toBe(0xc0000000n + BigInt((40960 - 1024) * 4096));
  });

  it("6.1 highmem is freed to the head (top blocks first), lowmem to the tail (bottom blocks first)", () => {
    const k = i386_1G();
    // highest whole order-10 block below 0x3ffe0 is 0x3f800; the lowest lowmem one after the image (ends at 0x1f00) is 0x2000
    expect(k.pages.alloc_pages(G.GFP_HIGHUSER!, 10)).toBe(0x3f800);
    expect(k.pages.alloc_pages(GFP_KERNEL, 10)).toBe(0x2000);
    // a Movable order-0 request takes the smallest fragment of its lists first (__rmqueue_smallest): the unaligned
    // top of highmem, 0x3ffc0 (order 5); highmem's unaligned start 0x36bfe lies in a pageblock memmap_init never made
    // Movable (FLATMEM: HighMem's own part of it, Unmovable), so an Unmovable request finds it on its own list
    expect(k.pages.alloc_pages(G.GFP_HIGHUSER_MOVABLE!, 0)).toBe(0x3ffc0);
    expect(k.pages.alloc_pages(G.GFP_HIGHUSER!, 0)).toBe(0x36bfe);
    expect(k.pages.alloc_pages(G.GFP_HIGHUSER!, 0)).toBe(0x36bff);
    // the next Unmovable one finds its lists empty and steals the largest Movable block (__rmqueue_fallback), the
    // next order-10 block from the top
    expect(k.pages.alloc_pages(G.GFP_HIGHUSER!, 0)).toBe(0x3f400);
  });
});

function i386_1G() {
  return machine("i386-6.1", {
    memory: [
      [0x1000, 0x9f000],
      [0x100000, 0x3ffe0000],
    ],
    reservations: [
      [0, 0x100000, "first 1 MiB (BIOS)"],
      [0x1000000, 0x1f00000, "kernel image"],
    ],
    zones: [
      { name: "DMA", startPfn: 1, endPfn: 4096 },
      { name: "Normal", startPfn: 4096, endPfn: 0x36bfe },
      { name: "HighMem", startPfn: 0x36bfe, endPfn: 0x3ffe0 },
    ],
    maxLowPfn: 0x36bfe,
    maxPfn: 0x3ffe0,
    pkmapBase: 0xfec00000n,
    lastPkmap: 1024,
  });
}

describe("i386 6.1 1G (real i386-1G.log)", () => {
  const k = i386_1G();
  const lines = k.log.texts(0);
  it("Total pages 259824 (sizeof(struct page)=40, highmem memmap not charged)", () => {
    expect(lines).toContain("Built 1 zonelists, mobility grouping on.  Total pages: 259824");
    expect(lines).not.toContain("Policy zone: Normal"); // no NUMA on i386
    expect(lines.some((l) => l.startsWith("Fallback order"))).toBe(false);
  });
  it("zone lines and spans", () => {
    expect(lines).toContain("  HighMem  [mem 0x0000000036bfe000-0x000000003ffdffff]");
    const hz = k.pages.zoneStats()[2]!;
    expect([hz.startPfn, hz.spanned, hz.present, hz.managed]).toEqual([224254, 37858, 37858, 37858]);
    expect(lines.filter((l) => l.includes("unavailable ranges"))).toEqual([
      "On node 0, zone DMA: 1 pages in unavailable ranges",
      "On node 0, zone DMA: 97 pages in unavailable ranges",
    ]);
  });
  it("HighMem and Movable watermarks follow the highmem clamp (Movable: 32/32/32 as in the real zoneinfo)", () => {
    const [, , h, mv] = k.pages.zoneStats();
    expect(h!.min).toBe(36);
    expect([mv!.min, mv!.low, mv!.high]).toEqual([32, 32, 32]);
    // THP enabled=always on Debian 686: min_free_kbytes is khugepaged's recommendation (real: 43140)
    expect(k.pages.minFreeKbytes).toBeGreaterThan(40000);
  });
  it("kmap hands out pkmap slot 1 first; kmap_local uses the fixmap; page_address of unmapped highmem is NULL", () => {
    const pfn = k.pages.alloc_pages(G.GFP_HIGHUSER!, 0);
    expect(k.pages.page_address(pfn)).toBe(0n);
    expect(k.pages.kmap(pfn)).toBe(0xfec01000n);
    expect(k.pages.page_address(pfn)).toBe(0xfec01000n);
    expect(k.pages.kmapTranslate(0xfec01010n)).toBe(pfn * 4096 + 0x10);
    expect(k.pages.kmap_local_page(pfn)).toBe(0xfffbb000n);
    expect(k.pages.kmapTranslate(0xfffbb004n)).toBe(pfn * 4096 + 4);
    k.pages.kunmap_local(0xfffbb000n);
    expect(k.pages.kmapTranslate(0xfffbb004n)).toBe(-1);
    k.pages.kunmap(pfn);
  });
  it("__get_free_pages masks __GFP_HIGHMEM in 6.1", () => {
    const a = k.pages.__get_free_pages(G.GFP_HIGHUSER!, 0);
    expect(a).toBeGreaterThanOrEqual(0xc0000000n);
    expect(a).toBeLessThan(0xc0000000n + 0x36bfe000n);
  });
});

describe("zones and GFP modifiers", () => {
  it("GFP_DMA allocates from ZONE_DMA, GFP_KERNEL from DMA32 first, falling back to DMA when DMA32 is exhausted", () => {
    const k = smallX86();
    const pa = k.pages;
    const d = pa.alloc_pages(GFP_DMA, 0);
    expect(pa.zoneIdxOf(d)).toBe(0);
    expect(pa.zoneIdxOf(pa.alloc_pages(GFP_KERNEL, 0))).toBe(1);
    // drain DMA32 completely with GFP_ATOMIC|NOWARN, then GFP_KERNEL must come from DMA
    while (pa.zones[1]!.free > 0 && pa.alloc_pages(GFP_ATOMIC | NOWARN, 0) >= 0 && pa.zoneIdxOf(pa.freeList(1, 0)[0] ?? -1) !== 0) {
      if (pa.zones[1]!.free < 200) break;
    }
    const fallbackStart = pa.zones[1]!.free;
    let p = -1;
    for (let i = 0; i < 4000 && p < 0; i++) {
      const q = pa.alloc_pages(GFP_KERNEL | NOWARN, 0);
      if (q < 0) break;
      if (pa.zoneIdxOf(q) === 0) p = q;
    }
    expect(fallbackStart).toBeGreaterThan(0);
    expect(p).toBeGreaterThan(0); // some GFP_KERNEL allocation was served by DMA
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("gfp_zone: DMA32 on x86_64, Normal for GFP_KERNEL, HighMem on i386 for __GFP_HIGHMEM", () => {
    const k = smallX86();
    expect(k.pages.zones[k.pages.gfp_zone(G.GFP_DMA32!)]!.name).toBe("DMA32");
    expect(k.pages.zones[k.pages.gfp_zone(GFP_KERNEL)]!.name).toBe("Normal");
    const i = i386_1G();
    expect(i.pages.zones[i.pages.gfp_zone(G.GFP_HIGHUSER!)]!.name).toBe("HighMem");
    expect(i.pages.zones[i.pages.gfp_zone(G.GFP_DMA32!)]!.name).toBe("Normal");
  });
});

describe("watermarks", () => {
  it("near the min watermark GFP_KERNEL fails while GFP_ATOMIC still succeeds (3/8 of min is kept)", () => {
    const k = smallX86({ config: "distro" });
    const pa = k.pages;
    const dma32 = pa.zones[1]!;
    const dma = pa.zones[0]!;
    // take everything GFP_KERNEL can get (it stops at min + lowmem_reserve in each zone)
    while (pa.alloc_pages(GFP_KERNEL | NOWARN | G.__GFP_NORETRY!, 0) >= 0);
    const kernelStop32 = dma32.free;
    expect(kernelStop32).toBeLessThanOrEqual(dma32.wmark[0]);
    expect(kernelStop32).toBeGreaterThan(Math.floor(dma32.wmark[0] / 2));
    // GFP_ATOMIC dips further: it may go down to min - min/2 - min/4
    const a = pa.alloc_pages(GFP_ATOMIC, 0);
    expect(a).toBeGreaterThanOrEqual(0);
    while (pa.alloc_pages(GFP_ATOMIC | NOWARN, 0) >= 0);
    const min = dma32.wmark[0];
    const atomicFloor = min - Math.floor(min / 2) - Math.floor((min - Math.floor(min / 2)) / 4);
    expect(dma32.free).toBe(atomicFloor);
    expect(dma.free).toBeGreaterThan(0); // DMA keeps its lowmem_reserve against DMA32/Normal allocations
    expect(pa.checkInvariants()).toEqual([]);
  });
});

describe("MAX_ORDER and allocation failures", () => {
  it("order >= MAX_ORDER warns once at mm/page_alloc.c:5634 and returns NULL; __GFP_NOWARN is silent", () => {
    const k = smallX86();
    const m0 = k.log.mark();
    expect(k.pages.alloc_pages(GFP_KERNEL | NOWARN, 11)).toBe(-1);
    expect(k.log.texts(m0)).toEqual([]);
    expect(k.pages.alloc_pages(GFP_KERNEL, 11)).toBe(-1);
    const t = k.log.texts(m0);
    expect(t[0]).toBe("------------[ cut here ]------------");
    expect(t[1]).toMatch(/^WARNING: CPU: 0 PID: \d+ at mm\/page_alloc\.c:5634 __alloc_pages\+0x2a9\/0x330$/);
    expect(k.reports.at(-1)!.kind).toBe("warn");
    const m1 = k.log.mark();
    expect(k.pages.alloc_pages(GFP_KERNEL, 12)).toBe(-1); // WARN_ON_ONCE
    expect(k.log.texts(m1)).toEqual([]);
  });

  it("warn_alloc prints the 6.1 line byte for byte, then the stack and Mem-Info; rate limited to 1 per 10 s", () => {
    const k = smallX86({ config: "distro" });
    k.current = { pid: 108, comm: "insmod" };
    const pa = k.pages;
    while (pa.alloc_pages(GFP_KERNEL | NOWARN, 10) >= 0);
    const m = k.log.mark();
    expect(pa.alloc_pages(GFP_KERNEL | G.__GFP_RETRY_MAYFAIL!, 10)).toBe(-1);
    const t = k.log.texts(m);
    expect(t[0]).toBe("insmod: page allocation failure: order:10, mode:0x4cc0(GFP_KERNEL|__GFP_RETRY_MAYFAIL), nodemask=(null),cpuset=/,mems_allowed=0");
    expect(t[1]).toMatch(/^CPU: 0 PID: 108 Comm: insmod /);
    const mi = t.indexOf("Mem-Info:");
    expect(mi).toBeGreaterThan(0);
    expect(t[mi + 1]).toBe("active_anon:0 inactive_anon:0 isolated_anon:0");
    expect(t.some((l) => /^Node 0 DMA32 free:\d+kB boost:0kB min:\d+kB low:\d+kB high:\d+kB reserved_highatomic:0KB /.test(l))).toBe(true);
    expect(t.some((l) => /^Node 0 DMA: (\d+\*\d+kB (\([UME]+\) )?){11}= \d+kB$/.test(l))).toBe(true);
    expect(t).toContain("lowmem_reserve[]: 0 0 0 0 0");
    expect(t.at(-1)).toBe("0 pages hwpoisoned");
    expect(k.reports.at(-1)!.kind).toBe("page-alloc-failure");
    expect(k.reports.at(-1)!.title).toBe(t[0]);
    // within 10 s: silent
    const m2 = k.log.mark();
    expect(pa.alloc_pages(GFP_KERNEL | G.__GFP_NORETRY!, 10)).toBe(-1);
    expect(k.log.texts(m2)).toEqual([]);
    // exactly 10 s later: still within the interval (time_is_before_jiffies(begin + interval) is strict)
    const jiffy = 1e9 / k.profile.hz;
    k.clock.advance(10_000_000_000);
    expect(pa.alloc_pages(GFP_KERNEL | G.__GFP_NORETRY!, 10)).toBe(-1);
    expect(k.log.texts(m2)).toEqual([]);
    // one jiffy more: printed again, after ___ratelimit's count of the two it suppressed
    k.clock.advance(jiffy);
    const m3 = k.log.mark();
    expect(pa.alloc_pages(GFP_KERNEL | G.__GFP_NORETRY!, 10)).toBe(-1);
    expect(k.log.texts(m3)[0]).toBe("warn_alloc: 2 callbacks suppressed");
    expect(k.log.texts(m3)[1]).toMatch(/page allocation failure: order:10, mode:0x10cc0\(GFP_KERNEL\|__GFP_NORETRY\)/);
  });

  it("2.6 wording: 'page allocation failure. order:N, mode:0x..'", () => {
    const k = machine("i386-2.6", {
      memory: [[0, 40 << 20]],
      zones: [
        { name: "DMA", startPfn: 0, endPfn: 4096 },
        { name: "Normal", startPfn: 4096, endPfn: 10240 },
        { name: "HighMem", startPfn: 10240, endPfn: 10240 },
      ],
      maxLowPfn: 10240,
      maxPfn: 10240,
    });
    k.current = { pid: 1234, comm: "insmod" };
    const m = k.log.mark();
    expect(k.pages.alloc_pages(gfpFlags("2.6").GFP_KERNEL!, 11)).toBe(-1);
    expect(k.log.texts(m)[0]).toBe("insmod: page allocation failure. order:11, mode:0xd0");
    expect(k.log.texts(m)).toContain("Mem-Info:");
    // 2.6.26's __alloc_pages() asks printk_ratelimit(): 10 per 5 s, then lib/ratelimit.c's own "__ratelimit" line
    for (let i = 0; i < 15; i++) k.pages.alloc_pages(gfpFlags("2.6").GFP_KERNEL!, 11);
    expect(k.log.texts(m).filter((l) => l.startsWith("insmod: page allocation failure."))).toHaveLength(10);
    k.clock.advance(5e9 + 1e9 / k.profile.hz);
    const m2 = k.log.mark();
    k.pages.alloc_pages(gfpFlags("2.6").GFP_KERNEL!, 11);
    expect(k.log.texts(m2).slice(0, 2)).toEqual(["__ratelimit: 6 callbacks suppressed", "insmod: page allocation failure. order:11, mode:0xd0"]);
  });

  it("a blocking low-order allocation with nothing left invokes the OOM killer (reported) and then fails", () => {
    const k = smallX86();
    k.current = { pid: 108, comm: "insmod" };
    while (k.pages.alloc_pages(GFP_ATOMIC | NOWARN, 0) >= 0);
    const m = k.log.mark();
    expect(k.pages.alloc_pages(GFP_KERNEL, 0)).toBe(-1);
    const t = k.log.texts(m);
    expect(t[0]).toBe("insmod invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0");
    expect(k.reports.some((r) => r.kind === "out-of-memory")).toBe(true);
    expect(k.pages.alloc_pages(GFP_KERNEL | G.__GFP_NOFAIL!, 0)).toBe(-1);
    expect(k.reports.at(-1)!.kind).toBe("out-of-memory");
  });
});

describe("bad frees", () => {
  it("freeing a reserved page prints Bad page state (PAGE_FLAGS_CHECK_AT_FREE) and taints B", () => {
    const k = smallX86({ config: "distro" });
    k.current = { pid: 108, comm: "insmod" };
    const m = k.log.mark();
    k.pages.__free_pages(0x1000, 0); // kernel image
    const t = k.log.texts(m);
    expect(t[0]).toBe("BUG: Bad page state in process insmod  pfn:01000");
    expect(t[1]).toMatch(/^page:[0-9a-f]{16} refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1000$/);
    expect(t[2]).toBe("flags: 0xfffffc0001000(reserved|node=0|zone=1|lastcpupid=0x1fffff)");
    expect(t[3]).toMatch(/^raw: 000fffffc0001000 dead000000000100 dead000000000122 0000000000000000$/);
    expect(t).toContain("page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
    expect(k.taint.toString?.() ?? "").not.toBe(undefined);
    expect(k.reports.at(-1)!.kind).toBe("bad-page");
    expect(k.pages.ownerOf(0x1000)).toBe(PageOwner.KernelImage);
    expect(k.pages.checkInvariants()).toEqual([]);
  });

  it("a double free is silent (refcount -1) until the page is handed out again: then 'nonzero _refcount'", () => {
    const k = smallX86({ config: "distro" });
    k.current = { pid: 108, comm: "insmod" };
    const pa = k.pages;
    const p = pa.alloc_pages(GFP_KERNEL, 0);
    pa.__free_pages(p, 0);
    const m = k.log.mark();
    pa.__free_pages(p, 0);
    expect(k.log.texts(m)).toEqual([]);
    expect(pa.pageRefcount(p)).toBe(-1);
    const q = pa.alloc_pages(GFP_KERNEL, 0); // takes the same block: bad, leaked, next one returned
    const t = k.log.texts(m);
    expect(t[0]).toBe(`BUG: Bad page state in process insmod  pfn:${p.toString(16).padStart(5, "0")}`);
    expect(t).toContain("page dumped because: nonzero _refcount");
    expect(q).not.toBe(p);
    expect(pa.ownerOf(p)).toBe(PageOwner.Bad);
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("freeing with a larger order than allocated over a free buddy: nonzero mapcount (-128), block kept", () => {
    const k = smallX86({ config: "distro" });
    const pa = k.pages;
    const p = pa.alloc_pages(GFP_KERNEL, 0); // 5120; 5121 is a free order-0 buddy head
    const m = k.log.mark();
    pa.__free_pages(p, 1);
    const t = k.log.texts(m);
    expect(t[0]).toMatch(/pfn:01401$/);
    expect(t[1]).toMatch(/refcount:0 mapcount:-128 /);
    expect(t).toContain("page dumped because: nonzero mapcount");
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("free_pages() of an address outside the linear map faults reading struct page (oops report)", () => {
    const k = smallX86({ config: "distro" });
    k.pages.free_pages(0xffffc90000693000n, 0);
    expect(k.reports.at(-1)!.kind).toBe("oops");
    // virt_to_page(): vmemmap + ((addr - PAGE_OFFSET) >> 12) * sizeof(struct page), far beyond mem_map
    const sp = 0xffffea0000000000n + ((0xffffc90000693000n - 0xffff888000000000n) >> 12n) * 64n;
    expect(k.reports.at(-1)!.title).toBe(`BUG: unable to handle page fault for address: ${sp.toString(16)}`);
  });
});

describe("addresses", () => {
  it("page_address / virt_to_pfn / virt_to_phys / virt_addr_valid round trip on x86_64", () => {
    const k = smallX86();
    const pa = k.pages;
    const a = pa.__get_free_page(GFP_KERNEL);
    const pfn = pa.virt_to_pfn(a);
    expect(pa.page_address(pfn)).toBe(a);
    expect(pa.virt_to_phys(a)).toBe(pfn * 4096);
    expect(pa.phys_to_virt(pfn * 4096)).toBe(a);
    expect(pa.virt_addr_valid(a)).toBe(true);
    expect(pa.virt_addr_valid(0xffffc90000000000n)).toBe(false);
    expect(pa.virt_to_pfn(0xffffc90000000000n)).toBe(-1);
    expect(pa.virt_to_phys(0xffffffff81000000n)).toBe(0x1000000); // kernel text mapping, phys_base 0
    const z = pa.get_zeroed_page(GFP_KERNEL);
    expect(k.physmem.read64(pa.virt_to_phys(z))).toBe(0n);
  });
});

describe("invariants under random sequences (fast-check)", () => {
  it("no frame owned twice, free + allocated = managed, and freeing everything restores the boot free lists", () => {
    const k = smallX86({ config: "distro" });
    const pa = k.pages;
    const boot = pa.bootState();
    const op = fc.oneof(
      fc.record({ kind: fc.constant("alloc" as const), order: fc.integer({ min: 0, max: 10 }), zone: fc.constantFrom(0, 1, 2) }),
      fc.record({ kind: fc.constant("free" as const), idx: fc.nat() }),
    );
    const zoneGfp = [GFP_DMA, G.GFP_DMA32!, GFP_KERNEL];
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const live: [number, number][] = [];
        for (const o of ops) {
          if (o.kind === "alloc") {
            const p = pa.alloc_pages(zoneGfp[o.zone]! | NOWARN | G.__GFP_NORETRY!, o.order);
            if (p >= 0) live.push([p, o.order]);
          } else if (live.length) {
            const [p, ord] = live.splice(o.idx % live.length, 1)[0]!;
            pa.__free_pages(p, ord);
          }
        }
        const errs = pa.checkInvariants();
        for (const [p, ord] of live) pa.__free_pages(p, ord);
        const st = pa.zoneStats();
        return (
          errs.length === 0 &&
          pa.checkInvariants().length === 0 &&
          st.every((z, i) => z.free === boot.free[i] && z.nrFree.every((n, o) => n === boot.nrFree[i]![o]))
        );
      }),
      { numRuns: 300, seed: 42 },
    );
    expect(k.reports).toEqual([]); // NOWARN|NORETRY: nothing printed
  });
});

describe("determinism", () => {
  it("two boots and the same operations give identical logs and free lists", () => {
    const run = () => {
      const k = smallX86();
      const out: number[] = [];
      for (let i = 0; i < 50; i++) out.push(k.pages.alloc_pages(GFP_KERNEL, i % 4));
      for (let i = 0; i < 50; i += 3) k.pages.__free_pages(out[i]!, i % 4);
      return JSON.stringify([out, k.log.texts(0), k.pages.zoneStats(), k.clock.now()]);
    };
    expect(run()).toBe(run());
  });
});
