import { describe, expect, it } from "vitest";
import fc from "fast-check";

// The arch code throws the kernel's own KernelBootError (src/kernel/boot_error.ts, which imports nothing).
import { KernelBootError } from "../../../src/kernel/boot_error.ts";
import { fakeBoot, realBootLines, realSection, realZoneLines, zoneLine } from "./fake.ts";
import { iomemResources, renderIomem } from "../../../src/kernel/fs/iomem.ts";

const LOG = "armhf-virt-1G.log";
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("arm-6.1-virt at 1 GiB matches the real Debian armmp boot", () => {
  const b = fakeBoot("arm-6.1-virt");
  it("prints the setup_arch lines byte for byte (CPU, machine, memory policy, efi, cma)", () => {
    const real = realBootLines(LOG, /^Zone ranges:/).filter((l) => l !== "random: crng init done");
    expect(b.lines).toEqual(real);
  });
  it("240 MiB vmalloc: lowmem 768 MiB, high_memory 0xf0000000, vmalloc 0xf0800000-0xff800000", () => {
    const l = b.layout;
    expect(l.physOffset).toBe(0x40000000);
    expect(l.highMemory).toBe(0xf0000000n);
    expect(l.vmallocStart).toBe(0xf0800000n);
    expect(l.vmallocEnd).toBe(0xff800000n);
    expect((l.vmallocEnd - l.vmallocStart) >> 10n).toBe(245760n); // VmallocTotal
    expect([l.modulesVaddr, l.modulesEnd, l.pkmapBase, l.lastPkmap]).toEqual([0xbf000000n, 0xbfe00000n, 0xbfe00000n, 512]);
    expect([l.fixaddrStart, l.fixaddrTop + 4096n]).toEqual([0xffc80000n, 0xfff00000n]);
  });
  it("zones print as the real Zone ranges: DMA = all lowmem, Normal empty, HighMem", () => {
    expect(b.layout.zones.map((z) => zoneLine(z.name, z.startPfn, z.endPfn))).toEqual(realZoneLines(LOG));
  });
  it("/proc/iomem is the real one", () => {
    expect(
      renderIomem(iomemResources({ profile: b.profile, layout: b.layout }))
        .split("\n")
        .slice(0, -1),
    ).toEqual(realSection(LOG, "/proc/iomem"));
  });
  it("vmalloc=8M and vmalloc=2000M are clamped with the 6.1 MiB warnings", () => {
    const small = fakeBoot("arm-6.1-virt", { cmdline: "vmalloc=8M" });
    expect(small.lines).toContain("vmalloc area is too small, limiting to 16MiB");
    expect(small.layout.vmallocEnd - small.layout.vmallocStart).toBe(16n * 1024n * 1024n);
    const big = fakeBoot("arm-6.1-virt", { cmdline: "vmalloc=2000M" });
    expect(big.lines).toContain("vmalloc area is too big, limiting to 976MiB");
  });
  it("vmalloc=abc parses as 0 like memparse and is clamped to 16 MiB", () => {
    expect(fakeBoot("arm-6.1-virt", { cmdline: "vmalloc=abc" }).lines).toContain("vmalloc area is too small, limiting to 16MiB");
  });
  it("RAM beyond 4 GiB is ignored by the non-LPAE kernel", () => {
    const b4 = fakeBoot("arm-6.1-virt", { mem: 4 * GiB });
    expect(b4.lines).toContain("OF: fdt: Ignoring memory range 0x100000000 - 0x140000000");
    // and memblock_add() caps the rest at PHYS_ADDR_MAX (0xffffffff): the last page is lost
    expect(b4.layout.maxPfn).toBe(0xfffff);
  });
  it("rejects absurd RAM", () => {
    expect(() => fakeBoot("arm-6.1-virt", { mem: 1024 })).toThrow(KernelBootError);
    expect(() => fakeBoot("arm-6.1-virt", { mem: 2 ** 50 })).toThrow(KernelBootError);
  });
});

describe("arm-3.4-msm8x25: the Android phone", () => {
  const b = fakeBoot("arm-3.4-msm8x25");
  it("boots with vmalloc=200M on its default command line", () => {
    expect(b.opts.cmdline).toContain("vmalloc=200M");
    expect(b.opts.cmdline).toContain("console=ttyMSM0,115200n8");
    expect(b.opts.cmdline).toContain("androidboot.hardware=qcom");
  });
  it("prints the 3.4 Virtual kernel memory layout with 808 MB lowmem and 192 MB vmalloc", () => {
    const i = b.lines.indexOf("Virtual kernel memory layout:");
    expect(b.lines.slice(i, i + 7)).toEqual([
      "Virtual kernel memory layout:",
      "    vector  : 0xffff0000 - 0xffff1000   (   4 kB)",
      "    fixmap  : 0xfff00000 - 0xfffe0000   ( 896 kB)",
      "    vmalloc : 0xf3000000 - 0xff000000   ( 192 MB)",
      "    lowmem  : 0xc0000000 - 0xf2800000   ( 808 MB)",
      "    pkmap   : 0xbfe00000 - 0xc0000000   (   2 MB)",
      "    modules : 0xbf000000 - 0xbfe00000   (  14 MB)",
    ]);
    expect(b.lines[i + 7]).toMatch(/^      \.text : 0xc0008000 - 0xc0[0-9a-f]{6}   \( *\d+ kB\)$/);
    expect(b.lines[i + 8]).toMatch(/^      \.init : /);
    expect(b.lines[i + 9]).toMatch(/^      \.data : /);
    expect(b.lines[i + 10]).toMatch(/^       \.bss : /);
    expect(b.levels[i]).toBe("5");
  });
  it("the vmalloc area loses the 8 MB VMALLOC_OFFSET gap: lowmem ends 0xf2800000, vmalloc starts 0xf3000000", () => {
    const gap = b.layout.regions.find((r) => r.name === "vmalloc gap")!;
    expect([gap.start, gap.end]).toEqual([0xf2800000n, 0xf3000000n]);
    expect(b.layout.physOffset).toBe(0x00200000);
    expect(b.layout.maxLowPfn).toBe(0x32a00); // __pa(0xf2800000)
    expect(b.layout.memory[0].start).toBe(0x00200000);
  });
  it("vmalloc=8M: the era's 'vmalloc area too small, limiting to 16MB'", () => {
    const s = fakeBoot("arm-3.4-msm8x25", { cmdline: "console=ttyMSM0,115200n8 vmalloc=8M" });
    expect(s.lines).toContain("vmalloc area too small, limiting to 16MB");
    expect(s.lines).toContain("    vmalloc : 0xfe800000 - 0xff000000   (   8 MB)");
    expect(s.levels[s.lines.indexOf("vmalloc area too small, limiting to 16MB")]).toBe("4");
  });
  it("vmalloc=2000M: 'vmalloc area is too big, limiting to 976MB'", () => {
    const s = fakeBoot("arm-3.4-msm8x25", { cmdline: "vmalloc=2000M" });
    expect(s.lines).toContain("vmalloc area is too big, limiting to 976MB");
    expect(s.lines).toContain("    lowmem  : 0xc0000000 - 0xc2000000   (  32 MB)");
  });
  it("without vmalloc= the 3.4 default leaves 240 MB (vmalloc_min = VMALLOC_END - 240M - 8M)", () => {
    const s = fakeBoot("arm-3.4-msm8x25", { cmdline: "console=ttyMSM0,115200n8" });
    expect(s.lines).toContain("    vmalloc : 0xf0000000 - 0xff000000   ( 240 MB)");
    expect(s.lines).toContain("    lowmem  : 0xc0000000 - 0xef800000   ( 760 MB)");
  });
  it("uses <N> printk levels, 2 CPUs and no hashed pointers", () => {
    expect(b.profile.printkLevelStyle).toBe("angle");
    expect(b.profile.nrCpus).toBe(2);
    expect(b.profile.hashedPointers).toBe(false);
  });
});

describe("ARM lowmem/vmalloc invariants for any vmalloc= (both eras)", () => {
  it("vmalloc starts 8 MiB-aligned, 8..16 MiB above high_memory, and ends at VMALLOC_END", () => {
    fc.assert(
      fc.property(fc.constantFrom("arm-6.1-virt", "arm-3.4-msm8x25"), fc.integer({ min: 1, max: 1100 }), (name, mb) => {
        const l = fakeBoot(name, { cmdline: `vmalloc=${mb}M` }).layout;
        const gap = l.vmallocStart - l.highMemory;
        expect(l.vmallocStart % (8n << 20n)).toBe(0n);
        expect(gap).toBeGreaterThan(0n);
        expect(gap).toBeLessThanOrEqual(16n << 20n);
        expect(l.vmallocEnd).toBe(name === "arm-6.1-virt" ? 0xff800000n : 0xff000000n);
        expect(l.highMemory).toBeGreaterThan(l.pageOffset);
      }),
      { numRuns: 60 },
    );
  });
});
