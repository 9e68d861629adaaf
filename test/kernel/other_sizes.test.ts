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
    it(`arm-6.1-virt ${mem}M: DMA (the only lowmem zone) min = pages_min; HighMem min = clamp(managed/1024, 32, 128); the steps; DMA's protection = HighMem managed / 256`, () => {
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
    });
  }

  for (const mem of [2048, 3072, 4096]) {
    it(`x86_64-6.1 ${mem}M: DMA's protection against DMA32 (and Normal above 4 GiB) is their managed pages / 256`, () => {
      const k = boot("x86_64-6.1", { mem: mem * MiB, config: "distro" });
      const zi = readProc(k, "zoneinfo");
      const dma32 = zoneField(zi, "DMA32", "managed")!;
      const normal = zoneField(zi, "Normal", "managed") ?? 0;
      // setup_per_zone_lowmem_reserve() ran with khugepaged's watermarks (late_initcall), before kernel_init's frees:
      // the frees after it are in DMA32 (the image and initrd live there)
      const late = k.log
        .texts(0)
        .filter((l) => /^Freeing (unused decrypted memory|unused kernel image)/.test(l))
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
