import { describe, expect, it } from "vitest";
import fc from "fast-check";

// The arch code throws the kernel's own KernelBootError (src/kernel/boot_error.ts, which imports nothing).
import { KernelBootError } from "../../../src/kernel/boot_error.ts";
import { fakeBoot, realBootLines, realSection, realZoneLines, zoneLine } from "./fake.ts";
import { iomemResources, renderIomem } from "../../../src/kernel/fs/iomem.ts";
import { kernelRandomizeMemory, CPU_ENTRY_AREA_BASE, PAGE_OFFSET_BASE_L4 } from "../../../src/kernel/arch/x86_64.ts";

const LOG = "x86_64-512M-nokaslr.log";
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("x86_64-6.1 at 512 MiB matches the real Debian boot", () => {
  const b = fakeBoot("x86_64-6.1");
  it("prints the boot lines of setup_arch byte for byte (banner to e820, NUMA)", () => {
    const real = realBootLines(LOG, /^Zone ranges:/);
    const wanted = (l: string) =>
      /^(Linux version|Command line|BIOS-provided|BIOS-e820|NX |SMBIOS|DMI:|e820: |last_pfn|RAMDISK|No NUMA|Faking a node|NODE_DATA)/.test(l);
    expect(b.lines).toEqual(real.filter(wanted));
  });
  it("computes the direct map, vmalloc, vmemmap, modules and high_memory of the transcript", () => {
    const l = b.layout;
    expect(l.pageOffset).toBe(0xffff888000000000n);
    expect(l.highMemory).toBe(0xffff88801ffe0000n);
    expect(l.vmallocStart).toBe(0xffffc90000000000n);
    expect(l.vmallocEnd).toBe(0xffffe8ffffffffffn);
    expect((l.vmallocEnd - l.vmallocStart) >> 10n).toBe(34359738367n); // VmallocTotal in /proc/meminfo
    expect(l.vmemmapStart).toBe(0xffffea0000000000n);
    expect(l.modulesVaddr).toBe(0xffffffffc0000000n);
    expect(l.modulesEnd).toBe(0xffffffffff000000n);
    expect(l.startKernelMap).toBe(0xffffffff80000000n);
    expect(l.image.find((s) => s.name === ".text")!.start).toBe(0xffffffff81000000n);
    expect(l.maxPfn).toBe(0x1ffe0);
  });
  it("zones print as the real Zone ranges: DMA, DMA32, Normal empty", () => {
    const real = realZoneLines(LOG);
    expect(b.layout.zones.map((z) => zoneLine(z.name, z.startPfn, z.endPfn))).toEqual(real);
  });
  it("memory (memblock) is the real Early memory node ranges", () => {
    expect(b.layout.memory).toEqual([
      { start: 0x1000, end: 0x9f000 },
      { start: 0x100000, end: 0x1ffe0000 },
    ]);
  });
  it("reserves the image, initrd, NODE_DATA, mem_map and percpu close to the real 64516K", () => {
    const present = (s: number, e: number) => b.layout.memory.reduce((acc, r) => acc + Math.max(0, Math.min(e, r.end) - Math.max(s, r.start)), 0);
    const reservedK = b.layout.reservations.reduce((a, r) => a + present(r.start, r.end), 0) / 1024;
    expect(reservedK).toBeGreaterThan(64516 * 0.97);
    expect(reservedK).toBeLessThanOrEqual(64516);
    const what = b.layout.reservations.map((r) => r.what);
    // "brk": reserve_brk()'s area, which holds the early page-table buffer the direct map's tables come from
    for (const w of ["kernel image", "initrd", "NODE_DATA", "mem_map", "percpu", "brk"]) expect(what).toContain(w);
  });
  it("/proc/iomem is the real one", () => {
    expect(
      renderIomem(iomemResources({ profile: b.profile, layout: b.layout }))
        .split("\n")
        .slice(0, -1),
    ).toEqual(realSection(LOG, "/proc/iomem"));
  });
});

describe("x86_64-6.1 other RAM sizes (QEMU pc layout)", () => {
  it("below 3.5 GiB all RAM sits below 4 GiB; the top 128 KiB is SeaBIOS's", () => {
    const b = fakeBoot("x86_64-6.1", { mem: 3 * GiB });
    expect(b.lines).toContain("BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable");
    expect(b.layout.zones.find((z) => z.name === "Normal")!.endPfn).toBe(b.layout.zones.find((z) => z.name === "Normal")!.startPfn);
  });
  it("from 3.5 GiB QEMU splits at 3 GiB and puts the rest at 4 GiB: Normal zone above 4 GiB", () => {
    const b = fakeBoot("x86_64-6.1", { mem: 8 * GiB });
    expect(b.lines).toContain("BIOS-e820: [mem 0x0000000100000000-0x000000023fffffff] usable");
    expect(b.lines).toContain("last_pfn = 0x240000 max_arch_pfn = 0x400000000");
    expect(b.lines).toContain("last_pfn = 0xbffe0 max_arch_pfn = 0x400000000");
    const normal = b.layout.zones.find((z) => z.name === "Normal")!;
    expect([normal.startPfn, normal.endPfn]).toEqual([0x100000, 0x240000]);
    // swiotlb's bounce buffer comes later, in mem_init()'s pci_iommu_alloc() (other_sizes.test.ts checks it at 4 GiB)
    expect(b.layout.reservations.some((r) => r.what === "swiotlb")).toBe(false);
  });
  it("mem= trims RAM and prints the user-defined map", () => {
    const b = fakeBoot("x86_64-6.1", { cmdline: "console=ttyS0 mem=256M" });
    expect(b.lines).toContain("e820: remove [mem 0x10000000-0xfffffffffffffffe] usable");
    expect(b.lines).toContain("user-defined physical RAM map:");
    expect(b.lines).toContain("user: [mem 0x0000000000100000-0x000000000fffffff] usable");
    expect(b.layout.maxPfn).toBe(0x10000);
    // The initrd QEMU put at the top of the real RAM lies beyond mem=: the kernel moves it down.
    expect(b.lines.some((l) => l.startsWith("Move RAMDISK from [mem 0x1fec8000-"))).toBe(true);
  });
  it("rejects absurd RAM sizes with a one-line KernelBootError", () => {
    for (const mem of [1024, 16 * MiB, 2 ** 50]) {
      expect(() => fakeBoot("x86_64-6.1", { mem })).toThrow(KernelBootError);
    }
    expect(() => fakeBoot("x86_64-6.1", { mem: 1024 })).toThrow(/too little/);
    expect(() => fakeBoot("x86_64-6.1", { mem: 2 ** 50 })).toThrow(/maximum 1 TiB/);
  });
});

describe("x86_64 KASLR (kernel_randomize_memory)", () => {
  // The distro build: kaslr_memory_enabled() is false with CONFIG_KASAN, which the debug kernel has.
  const kaslr = (seed?: number, cmdline = "console=ttyS0") => fakeBoot("x86_64-6.1", { seed, cmdline, config: "distro" }).layout;
  it("the debug kernel (CONFIG_KASAN) keeps the fixed bases even with a seed and no nokaslr", () => {
    const l = fakeBoot("x86_64-6.1", { seed: 1, cmdline: "console=ttyS0", config: "debug" }).layout;
    expect([l.pageOffset, l.vmallocStart, l.vmemmapStart]).toEqual([0xffff888000000000n, 0xffffc90000000000n, 0xffffea0000000000n]);
  });
  it("without a seed the bases are the fixed 4-level ones", () => {
    expect(kaslr(undefined).pageOffset).toBe(0xffff888000000000n);
  });
  it("the same seed gives the same bases; different seeds differ", () => {
    const a = kaslr(1);
    const b = kaslr(1);
    const c = kaslr(2);
    expect([a.pageOffset, a.vmallocStart, a.vmemmapStart]).toEqual([b.pageOffset, b.vmallocStart, b.vmemmapStart]);
    expect([a.pageOffset, a.vmallocStart, a.vmemmapStart]).not.toEqual([c.pageOffset, c.vmallocStart, c.vmemmapStart]);
  });
  it("nokaslr wins over a seed", () => {
    const l = kaslr(7, "console=ttyS0 nokaslr");
    expect(l.pageOffset).toBe(0xffff888000000000n);
    expect(l.vmallocStart).toBe(0xffffc90000000000n);
  });
  it("moves high_memory and VMALLOC_END with the bases", () => {
    const l = kaslr(3);
    expect(l.highMemory - l.pageOffset).toBe(0x1ffe0000n);
    expect(l.vmallocEnd - l.vmallocStart).toBe((32n << 40n) - 1n);
  });
  it("keeps the order, 1 GiB alignment, region sizes and the window for any seed and RAM size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 1 << 28 }), (seed, maxPfn) => {
        const r = kernelRandomizeMemory(maxPfn, seed);
        const TB = 1n << 40n;
        const PUD = 1n << 30n;
        expect(r.pageOffsetBase % PUD).toBe(0n);
        expect(r.vmallocBase % PUD).toBe(0n);
        expect(r.vmemmapBase % PUD).toBe(0n);
        expect(r.pageOffsetBase).toBeGreaterThanOrEqual(PAGE_OFFSET_BASE_L4);
        expect(r.vmallocBase).toBeGreaterThanOrEqual(r.pageOffsetBase + r.directMapTb * TB);
        expect(r.vmemmapBase).toBeGreaterThanOrEqual(r.vmallocBase + 32n * TB);
        expect(r.vmemmapBase + TB).toBeLessThanOrEqual(CPU_ENTRY_AREA_BASE);
      }),
      { numRuns: 200 },
    );
  });
});
