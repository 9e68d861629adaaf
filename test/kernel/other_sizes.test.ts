// Figures at RAM sizes the real transcripts were not made at, each recomputed here from its formula (mm/page_alloc.c
// 6.1) and the machine's own inputs, not read back from the simulator's computation:
// - the Memory: line's arithmetic (mem_init_print_info: available = nr_free_pages(), reserved = physpages -
//   totalram_pages - totalcma_pages; without deferred struct page init every managed page is free at that point);
// - min_free_kbytes = int_sqrt(lowmem_kbytes * 16) where THP is off, lowmem_kbytes being the lowmem managed pages at
//   init_per_zone_wmark_min() (postcore: MemTotal less the initrd/initmem/gap frees the log prints after it);
// - __setup_per_zone_wmarks(): ARM's single lowmem zone takes all of pages_min; a highmem zone clamp(managed/1024,
//   32, 128); low - min = high - low = max(tmp/4, managed/1000);
// - setup_per_zone_lowmem_reserve(): protection[j] of a lowmem zone = managed pages of the zones above it up to j /
//   sysctl_lowmem_reserve_ratio (256 for DMA).
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import "../../src/kernel/fs/all.ts";
import { readProc } from "../../src/kernel/fs/proc.ts";

const MiB = 2 ** 20;
const isqrt = (x: number) => {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
};
const zoneField = (zi: string, zone: string, f: string) => {
  const at = zi.indexOf(`zone ${zone.padStart(8)}\n`);
  if (at < 0) return undefined;
  return Number(new RegExp(`\\n\\s+${f}\\s+(\\d+)`).exec(zi.slice(at))![1]);
};
const protection = (zi: string, zone: string) => {
  const at = zi.indexOf(`zone ${zone.padStart(8)}\n`);
  return /protection: \(([^)]*)\)/.exec(zi.slice(at))![1].split(", ").map(Number);
};
const memKb = (mi: string, f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, "m").exec(mi)![1]);

describe("the Memory: line at other sizes", () => {
  for (const [profile, mem] of [
    ["i386-6.1", 256],
    ["i386-6.1", 2048],
    ["i386-6.1-pae", 4096],
    ["arm-6.1-virt", 512],
    ["arm-6.1-virt", 2048],
  ] as const) {
    it(`${profile} ${mem}M: available + reserved + cma-reserved = the physical pages; highmem = the HighMem zone's present pages less a CMA area there`, () => {
      const k = boot(profile, { mem: mem * MiB, config: "distro" });
      const line = k.log.texts(0).find((l) => l.startsWith("Memory: "))!;
      const [, avail, phys, reserved, cma, high] = /^Memory: (\d+)K\/(\d+)K available \(.*, (\d+)K reserved, (\d+)K cma-reserved(?:, (\d+)K highmem)?\)$/
        .exec(line)!
        .map(Number);
      expect(avail + reserved + cma).toBe(phys);
      // physpages: memblock's memory, the e820/DT RAM the kernel uses
      const physPages = k.layout.memory.reduce((a, r) => a + Math.floor(r.end / 4096) - Math.ceil(r.start / 4096), 0);
      expect(phys).toBe(physPages * 4);
      const zi = readProc(k, "zoneinfo");
      // totalhigh_pages at mem_init: the CMA area (ARM: at the top of RAM, so in highmem when there is some) is given
      // to the buddy allocator only at core_initcall
      const highPresentKb = (zoneField(zi, "HighMem", "present") ?? 0) * 4;
      expect(high || 0).toBe(highPresentKb > 0 ? highPresentKb - cma : 0);
    });
  }
});

describe("min_free_kbytes, watermarks and lowmem_reserve at other sizes", () => {
  const lateFreesKb = (log: string[]) =>
    log.filter((l) => /^Freeing (initrd memory|unused decrypted memory|unused kernel image)/.test(l)).reduce((a, l) => a + Number(/: (\d+)K$/.exec(l)![1]), 0);

  for (const [profile, mem] of [
    ["x86_64-6.1", 128],
    ["x86_64-6.1", 384],
    ["arm-6.1-virt", 256],
    ["arm-6.1-virt", 768],
    ["arm-6.1-virt", 3072],
  ] as const) {
    it(`${profile} ${mem}M (THP off): min_free_kbytes = int_sqrt(lowmem_kbytes * 16) at postcore time`, () => {
      const k = boot(profile, { mem: mem * MiB, config: "distro" });
      const mi = readProc(k, "meminfo");
      const lowKb = memKb(mi, "MemTotal") - (k.profile.arch === "arm" ? memKb(mi, "HighTotal") : 0) - lateFreesKb(k.log.texts(0));
      expect(k.pages.minFreeKbytes).toBe(Math.min(262144, Math.max(128, isqrt(lowKb * 16))));
    });
  }

  for (const mem of [256, 768, 2048, 3072]) {
    it(`arm-6.1-virt ${mem}M: DMA (the only lowmem zone) min = pages_min; HighMem min = clamp(managed/1024, 32, 128); the steps; DMA's protection = HighMem managed / 256; memblock's PHYS_ADDR_MAX cap and the CMA area's place`, () => {
      const k = boot("arm-6.1-virt", { mem: mem * MiB, config: "distro" });
      const zi = readProc(k, "zoneinfo");
      const pagesMin = k.pages.minFreeKbytes >> 2;
      const min = zoneField(zi, "DMA", "min")!;
      expect(min).toBe(pagesMin);
      // DMA's managed at watermark time: today's, less the late frees (all in lowmem)
      const lateKb = k.log
        .texts(0)
        .filter((l) => /^Freeing (initrd memory|unused kernel image)/.test(l))
        .reduce((a, l) => a + Number(/: (\d+)K$/.exec(l)![1]), 0);
      const dmaManaged = zoneField(zi, "DMA", "managed")! - lateKb / 4;
      const step = Math.max(min >> 2, Math.floor((dmaManaged * 10) / 10000));
      expect(zoneField(zi, "DMA", "low")! - min).toBe(step);
      expect(zoneField(zi, "DMA", "high")! - zoneField(zi, "DMA", "low")!).toBe(step);
      const hm = zoneField(zi, "HighMem", "managed") ?? 0;
      if (hm > 0) {
        expect(zoneField(zi, "HighMem", "min")).toBe(Math.min(128, Math.max(32, Math.floor(hm / 1024))));
        const hstep = Math.max(Math.floor((pagesMin * hm) / dmaManaged) >> 2, Math.floor((hm * 10) / 10000));
        expect(zoneField(zi, "HighMem", "low")! - zoneField(zi, "HighMem", "min")!).toBe(hstep);
        // protection: (DMA, Normal, HighMem, Movable) indices; Normal is empty on armmp
        const p = protection(zi, "DMA");
        expect(p[2]).toBe(Math.floor(hm / 256));
      }
      // RAM from 0x40000000: memblock_add() caps the region at PHYS_ADDR_MAX (armmp: 32-bit phys_addr_t), so 3 GiB
      // ends at 0xffffffff and loses its last page
      const ramEnd = Math.min(0x40000000 + mem * MiB, 0xffffffff);
      const endPfn = Math.floor(ramEnd / 4096);
      expect(k.layout.maxPfn).toBe(endPfn);
      expect(k.log.texts(0)).toContain(`  node   0: [mem 0x0000000040000000-0x${(endPfn * 4096 - 1).toString(16).padStart(16, "0")}]`);
      // cma_declare_contiguous_nid(): limit = arm_dma_limit (0xffffffff) & ~(8 MiB - 1), or memblock_end_of_DRAM() if
      // lower; 16 MiB top-down from there in highmem when the range straddles high_memory, else in lowmem
      const limit = Math.min(0xff800000, ramEnd);
      const lowEnd = k.layout.maxLowPfn * 4096;
      const cmaAt = limit - 16 * MiB >= lowEnd ? limit - 16 * MiB : Math.floor((lowEnd - 16 * MiB) / (8 * MiB)) * 8 * MiB;
      expect(k.log.texts(0).filter((l) => l.startsWith("cma: "))).toEqual([`cma: Reserved 16 MiB at 0x${cmaAt.toString(16)}`]);
    });
  }

  for (const mem of [2048, 3072, 4096]) {
    it(`x86_64-6.1 ${mem}M: DMA's protection against DMA32 (and Normal above 4 GiB) is their managed pages / 256`, () => {
      const k = boot("x86_64-6.1", { mem: mem * MiB, config: "distro" });
      const zi = readProc(k, "zoneinfo");
      const dma32 = zoneField(zi, "DMA32", "managed")!;
      const normal = zoneField(zi, "Normal", "managed") ?? 0;
      // setup_per_zone_lowmem_reserve() ran at postcore (and again with khugepaged's watermarks, subsys_initcall),
      // before populate_rootfs frees the initrd and kernel_init the image's memory: the frees after it are in DMA32
      // (the image and initrd live there). The real i386 1G boot's protection (0, 833, 980, 980) is this rule's.
      const late = k.log
        .texts(0)
        .filter((l) => /^Freeing (initrd memory|unused decrypted memory|unused kernel image)/.test(l))
        .reduce((a, l) => a + Number(/: (\d+)K$/.exec(l)![1]), 0);
      const p = protection(zi, "DMA");
      expect(p[1]).toBe(Math.floor((dma32 - late / 4) / 256));
      expect(p[2]).toBe(Math.floor((dma32 - late / 4 + normal) / 256));
    });
  }
});

describe("arm64's CMA reservation (dma_contiguous_reserve -> cma_declare_contiguous_nid)", () => {
  it("reserves 32 MiB below 4 GiB and says where; a machine too small for it says so and boots without it", () => {
    const big = boot("arm64-6.1", { mem: 512 * MiB, config: "distro" });
    const line = big.log.texts(0).find((l) => l.startsWith("cma: "))!;
    const at = /^cma: Reserved 32 MiB at 0x([0-9a-f]{16})$/.exec(line);
    expect(at).not.toBeNull();
    expect(BigInt("0x" + at![1]) % (4n * 1024n * 1024n)).toBe(0n);
    expect(BigInt("0x" + at![1]) + 32n * BigInt(MiB)).toBeLessThanOrEqual(2n ** 32n);
    // 64 MiB: no aligned 32 MiB left after the image, the memmap and the tables; the real kernel prints pr_err and goes on
    const small = boot("arm64-6.1", { mem: 64 * MiB, config: "distro" });
    expect(small.log.texts(0).filter((l) => l.startsWith("cma: "))).toEqual(["cma: Failed to reserve 32 MiB"]);
    expect(readProc(small, "meminfo")).toMatch(/^MemFree:\s+[1-9]\d* kB$/m);
  });
});

// The "reserved" and "available" figures at other sizes, from the kernel's rules, each recomputed here:
// - memblock_free_all() hands over only whole pages of memblock.memory minus memblock.reserved (PFN_UP(start) ..
//   PFN_DOWN(end) of every free range), so reserved = physpages - those pages - totalcma_pages;
// - x86 reserve_brk(): x86_64 keeps one page of DMI strings and INIT_PGT_BUF_SIZE = 4 * INIT_PGD_PAGE_TABLES (4 with
//   CONFIG_X86_5LEVEL) pages; i386 adds mk_early_pgtbl_32()'s page tables up to __pa(_end) + PAGE_TABLE_SIZE(LOWMEM_PAGES)
//   pages (a PTE page per 4 MiB) and has a 6-page buffer;
// - x86_64 sparse_init(): a 32 KiB section root array (2^19 sections / 128 a root, 8-byte pointers), 40 bytes of usemap per
//   present 128 MiB section, a PUD and a PMD page over the vmemmap; trap_init's three CPU entry area tables; above
//   4 GiB swiotlb's 64 MiB and its 24-byte-per-slab slot array (768 KiB);
// - x86_64 "available": the free frames below first_deferred_pfn (the last zone's memory, one 32768-frame section in,
//   rounded up to a section) less preallocate_vmalloc_pages()'s 64 PUD pages (32 TiB of vmalloc / 512 GiB);
// - ARM: memblock_reserve(__pa(_stext), ...) with _stext the 1 MiB section after .head.text; QEMU's 1 MiB DTB.
describe("the Memory: line's reserved pages follow from memblock, at other sizes", () => {
  const PAGE = 4096;
  const memLine = (k: ReturnType<typeof boot>) => {
    const line = k.log.texts(0).find((l) => l.startsWith("Memory: "))!;
    const [, avail, phys, reserved, cma] = /^Memory: (\d+)K\/(\d+)K available \(.*, (\d+)K reserved, (\d+)K cma-reserved/.exec(line)!.map(Number);
    return { avail: avail / 4, phys: phys / 4, reserved: reserved / 4, cma: cma / 4 };
  };
  /** Whole pages of memory outside every reservation, as memblock_free_all() frees them; below `limitPfn` if given. */
  const freePages = (k: ReturnType<typeof boot>, limitPfn = Infinity) => {
    const res = [...k.layout.reservations].sort((a, b) => a.start - b.start);
    let n = 0;
    for (const m of k.layout.memory) {
      let at = m.start;
      const edges = res.filter((r) => r.end > m.start && r.start < m.end);
      for (const r of [...edges, { start: m.end, end: m.end }]) {
        if (r.start > at) n += Math.max(0, Math.min(Math.floor(r.start / PAGE), limitPfn) - Math.ceil(at / PAGE));
        at = Math.max(at, r.end);
      }
    }
    return n;
  };
  const sizeOf = (k: ReturnType<typeof boot>, what: string) => k.layout.reservations.filter((r) => r.what === what).reduce((a, r) => a + r.end - r.start, 0);
  const bssEnd = (k: ReturnType<typeof boot>) =>
    k.layout.image.find((s) => s.name === ".bss")!.phys +
    Number(k.layout.image.find((s) => s.name === ".bss")!.end - k.layout.image.find((s) => s.name === ".bss")!.start);

  for (const mem of [256, 2048, 4096]) {
    it(`x86_64-6.1 ${mem}M: reserved = physpages less memblock's whole free pages; brk 17 pages, section roots 32 KiB, usemaps, vmemmap and CPU entry area tables, swiotlb above 4 GiB; available = free frames below first_deferred_pfn less 64 PUDs`, () => {
      const k = boot("x86_64-6.1", { mem: mem * MiB, config: "distro", userspace: false });
      const m = memLine(k);
      expect(m.reserved).toBe(m.phys - freePages(k) - m.cma);
      const brk = k.layout.reservations.find((r) => r.what === "brk")!;
      expect([brk.start, brk.end - brk.start]).toEqual([bssEnd(k), 17 * PAGE]);
      expect(sizeOf(k, "mem_section roots")).toBe(8 * (2 ** (46 - 27) / (PAGE / 32)));
      const sections = new Set<number>();
      for (const r of k.layout.memory) for (let s = Math.floor(r.start / 2 ** 27); s * 2 ** 27 < r.end; s++) sections.add(s);
      expect(sizeOf(k, "usemap")).toBe(40 * sections.size);
      expect(sizeOf(k, "mem_map")).toBe(sections.size * 2 * MiB);
      expect(sizeOf(k, "vmemmap page tables")).toBe(2 * PAGE);
      expect(sizeOf(k, "cpu_entry_area page tables")).toBe(3 * PAGE);
      const above4g = k.layout.maxPfn > 0x100000;
      expect(sizeOf(k, "swiotlb")).toBe(above4g ? 64 * MiB : 0);
      expect(sizeOf(k, "swiotlb slots")).toBe(above4g ? 24 * 32768 : 0);
      if (above4g) {
        const tlb = k.layout.reservations.find((r) => r.what === "swiotlb")!;
        expect(tlb.end).toBeLessThanOrEqual(2 ** 32);
        const hex = (v: number) => "0x" + v.toString(16).padStart(16, "0");
        expect(k.log.texts(0)).toContain(`software IO TLB: mapped [mem ${hex(tlb.start)}-${hex(tlb.end)}] (64MB)`);
      }
      // defer_init(): the last populated zone's memory, counted from its start; the first section-aligned frame past
      // PAGES_PER_SECTION of them
      const last = k.layout.zones
        .filter((z) => z.endPfn > z.startPfn && k.layout.memory.some((r) => r.end / PAGE > z.startPfn && r.start / PAGE < z.endPfn))
        .pop()!;
      let seen = 0;
      let firstDeferred = Infinity;
      for (const r of k.layout.memory) {
        const a = Math.max(r.start / PAGE, last.startPfn);
        const b = Math.min(r.end / PAGE, last.endPfn);
        for (let p = a; p < b && firstDeferred === Infinity; p++) if (++seen > 32768 && p % 32768 === 0) firstDeferred = p;
      }
      expect(m.avail).toBe(freePages(k, firstDeferred) - (32 * 2 ** 40) / 2 ** 39);
    });
  }

  for (const [profile, mem] of [
    ["i386-6.1", 256],
    ["i386-6.1", 2048],
    ["i386-6.1", 3072],
  ] as const) {
    it(`${profile} ${mem}M: reserved = physpages less memblock's whole free pages, every reservation in lowmem; brk = the early PTE pages to _end + 1 MiB, DMI's page and 6`, () => {
      const k = boot(profile, { mem: mem * MiB, config: "distro", userspace: false });
      const m = memLine(k);
      expect(m.reserved).toBe(m.phys - freePages(k) - m.cma);
      expect(m.avail).toBe(m.phys - m.reserved - m.cma);
      for (const r of k.layout.reservations) if (r.start >= 1 * MiB) expect(r.end, r.what).toBeLessThanOrEqual(k.layout.maxLowPfn * PAGE);
      const brk = k.layout.reservations.find((r) => r.what === "brk")!;
      const end = Math.ceil((bssEnd(k) + 64 * 1024 + MiB + 64 * 1024 + 6 * PAGE) / PAGE) * PAGE;
      expect([brk.start, (brk.end - brk.start) / PAGE]).toEqual([bssEnd(k), Math.ceil((end + MiB) / (4 * MiB)) + 1 + 6]);
    });
  }

  for (const mem of [256, 512, 2048]) {
    it(`arm-6.1-virt ${mem}M: reserved = physpages less memblock's whole free pages and CMA; the image reserved from _stext, the DTB 1 MiB`, () => {
      const k = boot("arm-6.1-virt", { mem: mem * MiB, config: "distro", userspace: false });
      const m = memLine(k);
      expect(m.reserved).toBe(m.phys - freePages(k) - m.cma);
      const text = k.layout.image.find((s) => s.name === ".text")!;
      const img = k.layout.reservations.find((r) => r.what === "kernel image")!;
      expect(img.start).toBe(Math.ceil((text.phys + 1) / MiB) * MiB);
      expect(sizeOf(k, "DTB")).toBe(MiB);
    });
  }
});
