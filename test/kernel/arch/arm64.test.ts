import { describe, expect, it } from "vitest";

// The arch code throws the kernel's own KernelBootError (src/kernel/boot_error.ts, which imports nothing).
import { KernelBootError } from "../../../src/kernel/boot_error.ts";
import { fakeBoot, zoneLine } from "./fake.ts";
import { iomemResources, renderIomem } from "../../../src/kernel/fs/iomem.ts";

const GiB = 1024 * 1024 * 1024;

describe("arm64-6.1 (48-bit VA, 4K pages, QEMU virt)", () => {
  const b = fakeBoot("arm64-6.1");
  it("has the 6.1 flipped layout: linear map, 128 MiB modules, vmalloc, vmemmap", () => {
    const l = b.layout;
    expect(l.pageOffset).toBe(0xffff000000000000n);
    expect([l.modulesVaddr, l.modulesEnd]).toEqual([0xffff800000000000n, 0xffff800008000000n]);
    expect(l.vmallocStart).toBe(0xffff800008000000n);
    expect(l.vmallocEnd - 1n).toBe(0xfffffbffefffffffn);
    expect((l.vmallocEnd - l.vmallocStart) >> 10n).toBe(133143592960n); // VmallocTotal
    expect(l.vmemmapStart).toBe(0xfffffc0000000000n);
    expect(l.physOffset).toBe(0x40000000);
    expect(l.highMemory).toBe(0xffff000040000000n);
  });
  it("puts the kernel image at the start of vmalloc space (KIMAGE_VADDR = MODULES_END)", () => {
    expect(b.layout.image[0].start).toBe(0xffff800008000000n);
    expect(b.layout.image[0].phys).toBe(0x40200000);
  });
  it("ZONE_DMA covers RAM up to 4 GiB; DMA32 is empty; Normal above", () => {
    expect(b.layout.zones.map((z) => zoneLine(z.name, z.startPfn, z.endPfn))).toEqual([
      "  DMA      [mem 0x0000000040000000-0x000000007fffffff]",
      "  DMA32    empty",
      "  Normal   empty",
    ]);
    const big = fakeBoot("arm64-6.1", { mem: 8 * GiB });
    expect(big.layout.zones.map((z) => zoneLine(z.name, z.startPfn, z.endPfn))).toEqual([
      "  DMA      [mem 0x0000000040000000-0x00000000ffffffff]",
      "  DMA32    empty",
      "  Normal   [mem 0x0000000100000000-0x000000023fffffff]",
    ]);
  });
  it("prints the arm64 boot lines", () => {
    expect(b.lines[0]).toBe("Booting Linux on physical CPU 0x0000000000 [0x411fd070]");
    expect(b.lines[1]).toBe(b.profile.versionString);
    expect(b.lines).toContain("Machine model: linux,dummy-virt");
    expect(b.lines).toContain("NUMA: Faking a node at [mem 0x0000000040000000-0x000000007fffffff]");
    expect(b.lines.find((l) => l.startsWith("NUMA: NODE_DATA [mem 0x7f"))).toBeDefined();
  });
  it("/proc/iomem nests the image and the memblock reservations under System RAM", () => {
    const text = renderIomem(iomemResources({ profile: b.profile, layout: b.layout }));
    expect(text).toContain("40000000-7fffffff : System RAM\n  40200000-4191ffff : Kernel code\n");
    expect(text).toMatch(/\n {2}[0-9a-f]{8}-[0-9a-f]{8} : reserved\n/);
  });
  it("mem= limits RAM; absurd sizes are refused", () => {
    expect(fakeBoot("arm64-6.1", { cmdline: "mem=512M" }).layout.maxPfn).toBe(0x60000);
    expect(() => fakeBoot("arm64-6.1", { mem: 1024 })).toThrow(KernelBootError);
    expect(() => fakeBoot("arm64-6.1", { mem: 2 ** 50 })).toThrow(KernelBootError);
  });
});
