// The per-CPU page lists (src/kernel/mm/pcp.ts, PageAllocator's "per-CPU page lists"): sizes from the kernel's
// formulas, refill and LIFO order, what MemFree / buddyinfo / zoneinfo say about pages on the lists, drains, the
// old eras, and determinism.
import { describe, expect, it } from "vitest";
import { smallX86 } from "./helpers.ts";
import { boot } from "../../../src/kernel/kernel.ts";
import "../../../src/kernel/fs/buddyinfo.ts";
import "../../../src/kernel/fs/zoneinfo.ts";
import "../../../src/kernel/fs/meminfo.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";
import { zoneBatchsize, zoneHighsize } from "../../../src/kernel/mm/pcp.ts";
import { checkKernelInvariants } from "../../../src/kernel/debug/invariants.ts";
import { showMem } from "../../../src/kernel/mm/show_mem.ts";
import type { Kernel } from "../../../src/kernel/kernel.ts";

const G = gfpFlags("6.1") as Record<string, number>;
const GFP_KERNEL = G.GFP_KERNEL!;
const GFP_ATOMIC = G.GFP_ATOMIC!;
const NOWARN = G.__GFP_NOWARN!;
const MOVABLE = G.GFP_HIGHUSER_MOVABLE!;
const M = 2 ** 20;

/** A 256 MiB x86_64 page allocator (DMA32 batch 15) with its lists set up and the postcore watermarks. */
/** Every page GFP_ATOMIC can still get (down to its reserves), one order-0 allocation at a time. */
function takeAll(pa: Kernel["pages"]): number[] {
  const taken: number[] = [];
  for (;;) {
    const p = pa.alloc_pages(GFP_ATOMIC | NOWARN, 0);
    if (p < 0) return taken;
    taken.push(p);
  }
}

function pcpMachine(): Kernel {
  const k = smallX86({ config: "distro", mib: 256 });
  k.pages.setup_per_cpu_pageset();
  k.pages.init_per_zone_wmark_min(false);
  k.current = { pid: 108, comm: "insmod" } as never;
  return k;
}

const memFreeKb = (k: Kernel) => Number(/MemFree:\s+(\d+)/.exec(k.proc("meminfo"))![1]);

describe("per-CPU page lists: sizes", () => {
  it("zone_batchsize: ~0.1% of the zone, at most 1 MiB (6.1) or 512 KiB (2.6/3.4), rounded down to 2^n - 1", () => {
    expect(zoneBatchsize("6.1", 113264)).toBe(31); // the real x86_64 512M DMA32
    expect(zoneBatchsize("6.1", 3840)).toBe(0); // its DMA zone: 0, which zone_set_pageset_high_and_batch makes 1
    expect(zoneBatchsize("6.1", 213777)).toBe(63); // i386 1G Normal
    expect(zoneBatchsize("6.1", 4 << 20)).toBe(63); // capped at 256 pages: 64 + 32 -> 63
    expect(zoneBatchsize("3.4", 4 << 20)).toBe(31); // capped at 128 pages: 32 + 16 -> 31
    expect(zoneHighsize(817, 31, 1)).toBe(817);
    expect(zoneHighsize(27, 1, 1)).toBe(27);
    expect(zoneHighsize(10, 31, 1)).toBe(124); // at least 4 * batch
    expect(zoneHighsize(817, 31, 2)).toBe(408); // split over the node's CPUs
  });

  it("6.1 boots: high is the zone's low watermark (one CPU), batch comes from managed pages, as the real zoneinfo's low shows", () => {
    const k = boot("x86_64-6.1", { mem: 512 * M, config: "distro" });
    for (const z of k.pages.zones.filter((z) => z.present)) {
      const [p] = k.pages.pagesets(z.idx);
      expect(p!.high).toBe(Math.max(z.wmark[1], p!.batch * 4));
    }
    const dma32 = k.pages.pagesets(1)[0]!;
    expect(dma32).toMatchObject({ high: 817, batch: 31 }); // real: low 817, managed 113264
    const zi = k.proc("zoneinfo");
    expect(zi).toMatch(
      new RegExp(`zone    DMA32[\\s\\S]*?pagesets\\n    cpu: 0\\n              count: ${dma32.count}\\n              high:  817\\n              batch: 31\\n`),
    );
  });

  it("setup_per_cpu_pageset: before the postcore watermarks, high is 4 * batch; init_per_zone_wmark_min raises it to the low watermark", () => {
    const k = smallX86({ config: "distro" });
    k.pages.setup_per_cpu_pageset();
    const b = k.pages.pagesets(1)[0]!.batch;
    expect(k.pages.pagesets(1)[0]!.high).toBe(4 * b);
    k.pages.init_per_zone_wmark_min(false);
    expect(k.pages.pagesets(1)[0]!.high).toBe(Math.max(k.pages.zones[1]!.wmark[1], 4 * b));
  });

  it("x86_64 with deferred struct pages (512 MiB): setup_per_cpu_pageset's batch is from the pages below first_deferred_pfn, the postcore update's from every managed page", () => {
    const k = smallX86({ config: "distro", mib: 512 });
    const dma32 = k.pages.zones[1]!;
    // defer_init(): one section (32768 pages) of DMA32 initialised, up to the next section boundary (pfn 65536, 256 MiB)
    const early = dma32.managed - (dma32.endPfn - 65536);
    k.pages.setup_per_cpu_pageset();
    expect(k.pages.pagesets(1)[0]!.batch).toBe(zoneBatchsize("6.1", early));
    expect(k.pages.pagesets(1)[0]!.batch).toBe(15);
    k.pages.init_per_zone_wmark_min(false);
    expect(k.pages.pagesets(1)[0]!.batch).toBe(zoneBatchsize("6.1", dma32.managed));
    expect(k.pages.pagesets(1)[0]!.batch).toBe(31);
    // at 256 MiB nothing is deferred (the zone ends before the first section boundary past its first section)
    const small = smallX86({ config: "distro", mib: 256 });
    small.pages.setup_per_cpu_pageset();
    expect(small.pages.pagesets(1)[0]!.batch).toBe(zoneBatchsize("6.1", small.pages.zones[1]!.managed));
  });
});

describe("per-CPU page lists: refill and LIFO", () => {
  it("an empty list is refilled with batch pages in ascending PFN order; the next allocations take them in that order", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const batch = pa.pagesets(1)[0]!.batch;
    const first = pa.alloc_pages(GFP_KERNEL, 0);
    expect(pa.pcpPages(1)).toBe(batch - 1);
    const next = [pa.alloc_pages(GFP_KERNEL, 0), pa.alloc_pages(GFP_KERNEL, 0), pa.alloc_pages(GFP_KERNEL, 0)];
    expect(next).toEqual([first + 1, first + 2, first + 3]);
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("a freed page goes to the head of its list: the next allocation of that migratetype gets it back (LIFO)", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const a = pa.alloc_pages(GFP_KERNEL, 0);
    const b = pa.alloc_pages(GFP_KERNEL, 0);
    pa.__free_pages(a, 0);
    pa.__free_pages(b, 0);
    expect(pa.alloc_pages(GFP_KERNEL, 0)).toBe(b);
    expect(pa.alloc_pages(GFP_KERNEL, 0)).toBe(a);
  });

  it("each migratetype has its own list: a Movable allocation does not take the Unmovable page just freed", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const a = pa.alloc_pages(GFP_KERNEL, 0);
    pa.__free_pages(a, 0);
    expect(pa.alloc_pages(MOVABLE, 0)).not.toBe(a);
    expect(pa.alloc_pages(GFP_KERNEL, 0)).toBe(a);
  });

  it("orders 1..3 have lists too (refill of max(batch >> order, 2) blocks); order 4 goes straight to the buddy lists", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const batch = pa.pagesets(1)[0]!.batch;
    pa.alloc_pages(GFP_KERNEL, 2);
    expect(pa.pcpPages(1)).toBe((Math.max(batch >> 2, 2) - 1) * 4);
    const before = pa.pcpPages(1);
    const p4 = pa.alloc_pages(GFP_KERNEL, 4);
    expect(pa.pcpPages(1)).toBe(before);
    pa.__free_pages(p4, 4);
    expect(pa.pcpPages(1)).toBe(before);
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("count reaching high gives nr_pcp_free() pages back from the tails (the oldest first), the rest stay", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const { high, batch } = pa.pagesets(1)[0]!;
    const pages: number[] = [];
    for (let i = 0; i < high + batch; i++) pages.push(pa.alloc_pages(GFP_KERNEL | NOWARN, 0));
    const held = pa.pcpPages(1);
    for (const p of pages) pa.__free_pages(p, 0);
    expect(pa.pcpPages(1)).toBeLessThan(high);
    expect(pa.pcpPages(1)).toBeGreaterThanOrEqual(batch);
    // the page freed last is still at the head
    expect(pa.alloc_pages(GFP_KERNEL, 0)).toBe(pages.at(-1));
    expect(held).toBeLessThan(batch);
    expect(pa.checkInvariants()).toEqual([]);
  });
});

describe("per-CPU page lists: what the counters say", () => {
  it("pages on the lists are not in NR_FREE_PAGES: a free to the list leaves MemFree and buddyinfo as they were", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const p = pa.alloc_pages(GFP_KERNEL, 0);
    const mf = memFreeKb(k);
    const bi = k.proc("buddyinfo");
    pa.__free_pages(p, 0);
    expect(memFreeKb(k)).toBe(mf);
    expect(k.proc("buddyinfo")).toBe(bi);
    const onLists = pa.pcpPages();
    expect(pa.drain_all_pages()).toBe(onLists);
    expect(pa.pcpPages()).toBe(0);
    expect(memFreeKb(k)).toBe(mf + 4 * onLists);
    expect(k.proc("buddyinfo")).not.toBe(bi);
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("zoneinfo's pagesets count and Mem-Info's free_pcp/local_pcp are the pages on the lists", () => {
    const k = boot("i386-6.1", { mem: 1024 * M, config: "distro" });
    const pa = k.pages;
    const zi = k.proc("zoneinfo");
    for (const z of pa.zones.filter((z) => z.present)) {
      const block = zi.split(/^Node 0, zone /m).find((b) => b.startsWith(z.name.padStart(8)))!;
      expect(Number(/count: (\d+)/.exec(block)![1])).toBe(pa.pcpPages(z.idx));
      expect(Number(/pages free\s+(\d+)/.exec(block)![1])).toBe(z.free);
    }
    expect(pa.pcpPages()).toBeGreaterThan(0);
    // the Mem-Info block an allocation failure prints
    const m = k.log.mark();
    showMem(pa, pa.zones.length - 1);
    const t = k.log.texts(m).join("\n");
    expect(t).toContain(` free_pcp:${pa.pcpPages()} free_cma:0`);
    const n = pa.zones.find((z) => z.name === "Normal")!;
    expect(t).toContain(`free_pcp:${pa.pcpPages(n.idx) * 4}kB local_pcp:${pa.pcpPages(n.idx) * 4}kB`);
    expect(checkKernelInvariants(k)).toEqual([]);
  });

  it("MemFree at the real boots' sizes drops by what the lists hold and comes closer to the real logs", () => {
    // real /proc/meminfo before insmod: x86_64 512M 439032 kB, i386 1G 1004796 kB, armhf 1G 1002544 kB
    for (const [p, mem, real] of [
      ["x86_64-6.1", 512, 439032],
      ["i386-6.1", 1024, 1004796],
      ["arm-6.1-virt", 1024, 1002544],
    ] as const) {
      const k = boot(p, { mem: mem * M, config: "distro" });
      const mf = memFreeKb(k);
      expect(mf).toBe(k.pages.nrFreePages() * 4);
      expect(k.pages.pcpPages()).toBeGreaterThan(0);
      // (without the lists: 0.83 %, 0.46 % and 0.54 % high; with them 0.72 %, 0.18 %, 0.14 %)
      expect(Math.abs(mf - real) / real).toBeLessThan(0.008);
    }
  });
});

describe("per-CPU page lists: drains", () => {
  it("a blocking allocation that finds only pcp pages drains them (drain_all_pages) and succeeds, without the OOM killer", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const taken = takeAll(pa);
    const high = pa.pagesets(1)[0]!.high;
    // give back fewer than high DMA32 pages: they all stay on its list, the buddy lists stay below the watermarks
    for (const p of taken.filter((p) => pa.zoneIdxOf(p) === 1).slice(-(high - 1))) pa.__free_pages(p, 0);
    expect(pa.pcpPages()).toBeGreaterThan(pa.zones[1]!.wmark[0]);
    // GFP_ATOMIC may not enter reclaim: no drain, but it is served from the list
    const m = k.log.mark();
    const p = pa.alloc_pages(GFP_KERNEL, 1); // order 1: its list is empty, the buddy lists are below min
    expect(p).toBeGreaterThanOrEqual(0);
    expect(k.log.texts(m).join("\n")).not.toContain("oom-killer");
    expect(pa.pcpPages(1)).toBeLessThan(high - 1);
    expect(pa.checkInvariants()).toEqual([]);
  });

  it("GFP_ATOMIC does not drain: it fails while pages sit on another order's list", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const taken = takeAll(pa);
    for (const p of taken.splice(-20)) pa.__free_pages(p, 0);
    const held = pa.pcpPages();
    expect(pa.alloc_pages(GFP_ATOMIC | NOWARN, 1)).toBe(-1);
    expect(pa.pcpPages()).toBe(held);
  });
});

describe("per-CPU page lists: double free (distro 6.1, no CONFIG_DEBUG_VM)", () => {
  it("an order-0 page freed twice while on a pcp list comes back silently (no check when handed out from the list)", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const p = pa.alloc_pages(GFP_KERNEL, 0);
    pa.__free_pages(p, 0);
    pa.__free_pages(p, 0);
    expect(pa.pageRefcount(p)).toBe(-1);
    const m = k.log.mark();
    expect(pa.alloc_pages(GFP_KERNEL, 0)).toBe(p);
    expect(k.log.texts(m)).toEqual([]);
    expect(pa.pageRefcount(p)).toBe(1);
  });

  it("an order-4 block (no pcp list) freed twice: Bad page state when the buddy lists hand it out again", () => {
    const k = pcpMachine();
    const pa = k.pages;
    const p = pa.alloc_pages(GFP_KERNEL, 4);
    pa.__free_pages(p, 4);
    pa.__free_pages(p, 4);
    const m = k.log.mark();
    pa.alloc_pages(GFP_KERNEL, 4);
    expect(k.log.texts(m)).toContain("page dumped because: nonzero _refcount");
  });
});

describe("per-CPU page lists: placement, eras, determinism", () => {
  it("vmalloc after a vfree takes the freed pages head first: a descending PFN run, as the real logs' vmalloc pages", () => {
    const k = boot("x86_64-6.1", { mem: 512 * M, config: "distro" });
    const v = k.vmalloc;
    const a = v.vmalloc(64 * 4096);
    const pages = [...v.find_vm_area(a)!.pages!];
    v.vfree(a);
    const b = v.vmalloc(32 * 4096);
    const got = [...v.find_vm_area(b)!.pages!];
    expect(got).toEqual(pages.slice(-32).reverse());
  });

  it("3.4: order-0 lists per migratetype, batch from present pages capped at 512 KiB, high = 6 * batch; 2.6.26: one list", () => {
    const k34 = boot("arm-3.4-msm8x25", { config: "distro" });
    for (const z of k34.pages.zones.filter((z) => z.present)) {
      const ps = k34.pages.pagesets(z.idx);
      expect(ps).toHaveLength(2); // two CPUs; CPU 1 never ran anything
      expect(ps[0]!.batch).toBe(Math.max(1, zoneBatchsize("3.4", z.initialManaged)));
      expect(ps[0]!.high).toBe(6 * ps[0]!.batch);
      expect(ps[1]!.count).toBe(0);
    }
    expect(k34.proc("zoneinfo")).toContain("\n    cpu: 1\n              count: 0\n");
    expect(checkKernelInvariants(k34)).toEqual([]);
    const k26 = boot("i386-2.6", { config: "distro" });
    const pa = k26.pages;
    expect(pa.pcp[1]![0]!.lists).toHaveLength(1);
    const a = pa.alloc_pages(gfpFlags("2.6").GFP_KERNEL as number, 0);
    pa.__free_pages(a, 0);
    expect(pa.alloc_pages(gfpFlags("2.6").GFP_KERNEL as number, 0)).toBe(a);
    expect(checkKernelInvariants(k26)).toEqual([]);
  });

  it("the same boot gives the same lists and the same /proc files, byte for byte", () => {
    const a = boot("arm-6.1-virt", { mem: 1024 * M, config: "distro" });
    const b = boot("arm-6.1-virt", { mem: 1024 * M, config: "distro" });
    expect(a.pages.pcpBlocks()).toEqual(b.pages.pcpBlocks());
    for (const f of ["zoneinfo", "buddyinfo", "meminfo"]) expect(a.proc(f)).toBe(b.proc(f));
  });
});
