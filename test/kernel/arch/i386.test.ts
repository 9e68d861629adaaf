import { describe, expect, it } from "vitest";

// The arch code throws the kernel's own KernelBootError (src/kernel/boot_error.ts, which imports nothing).
import { KernelBootError } from "../../../src/kernel/boot_error.ts";
import { fakeBoot, realBootLines, realSection, realZoneLines, zoneLine } from "./fake.ts";
import { iomemResources, renderIomem } from "../../../src/kernel/fs/iomem.ts";

const LOG = "i386-1G.log";
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("i386-6.1 at 1 GiB matches the real Debian 686 boot", () => {
  const b = fakeBoot("i386-6.1");
  it("prints the setup_arch lines byte for byte, RAMDISK move and the lowmem/highmem split included", () => {
    const real = realBootLines(LOG, /^Zone ranges:/);
    const wanted = (l: string) =>
      /^(Linux version|BIOS-provided|BIOS-e820|Notice: NX|SMBIOS|DMI:|e820: |last_pfn|RAMDISK|Allocated new RAMDISK|Move RAMDISK|\d+MB (HIGH|LOW)MEM|  mapped low ram|  low ram)/.test(
        l,
      );
    expect(b.lines).toEqual(real.filter(wanted));
    expect(b.lines).toContain("147MB HIGHMEM available.");
    expect(b.lines).toContain("875MB LOWMEM available.");
  });
  it("lowmem ends at MAXMEM = VMALLOC_END - PAGE_OFFSET - 128 MiB: high_memory 0xf6bfe000, vmalloc 0xf73fe000-0xfebfe000", () => {
    const l = b.layout;
    expect(l.highMemory).toBe(0xf6bfe000n);
    expect(l.vmallocStart).toBe(0xf73fe000n);
    expect(l.vmallocEnd).toBe(0xfebfe000n);
    expect((l.vmallocEnd - l.vmallocStart) >> 10n).toBe(122880n); // VmallocTotal
    expect(l.modulesVaddr).toBe(l.vmallocStart);
    expect(l.pkmapBase).toBe(0xfec00000n);
    expect(l.lastPkmap).toBe(1024);
    expect(l.fixaddrStart).toBe(0xffdb8000n);
    expect(l.fixaddrTop).toBe(0xfffff000n);
    expect(l.maxLowPfn).toBe(0x36bfe);
    expect(l.maxPfn).toBe(0x3ffe0);
  });
  it("zones print as the real Zone ranges: DMA, Normal, HighMem", () => {
    expect(b.layout.zones.map((z) => zoneLine(z.name, z.startPfn, z.endPfn))).toEqual(realZoneLines(LOG));
  });
  it("/proc/iomem is the real one", () => {
    expect(
      renderIomem(iomemResources({ profile: b.profile, layout: b.layout }))
        .split("\n")
        .slice(0, -1),
    ).toEqual(realSection(LOG, "/proc/iomem"));
  });
  it("the 8 MiB vmalloc gap separates lowmem from vmalloc", () => {
    const gap = b.layout.regions.find((r) => r.kind === "gap" && r.name === "vmalloc gap")!;
    expect([gap.start, gap.end]).toEqual([0xf6bfe000n, 0xf73fe000n]);
  });
});

describe("i386-6.1 command line and RAM sizes", () => {
  it("vmalloc=256M grows vmalloc by shrinking lowmem (reserve = 256M + 8M)", () => {
    const b = fakeBoot("i386-6.1", { cmdline: "vmalloc=256M" });
    expect(b.layout.vmallocEnd - b.layout.vmallocStart).toBe(256n * 1024n * 1024n);
    expect(b.lines).toContain("739MB LOWMEM available.");
  });
  it("with 512 MiB everything is lowmem and high_memory is the end of RAM", () => {
    const b = fakeBoot("i386-6.1", { mem: 512 * MiB });
    expect(b.lines).toContain("0MB HIGHMEM available.");
    expect(b.layout.highMemory).toBe(0xc0000000n + 0x1ffe0000n);
    expect(b.layout.vmallocStart).toBe(0xc0000000n + 0x1ffe0000n + 0x800000n);
  });
  it("highmem=256M on a 512 MiB machine carves highmem out of lowmem", () => {
    const b = fakeBoot("i386-6.1", { mem: 512 * MiB, cmdline: "highmem=256M" });
    expect(b.lines).toContain("256MB HIGHMEM available.");
    expect(b.layout.maxLowPfn).toBe(0x1ffe0 - 0x10000);
  });
  it("highmem= larger than RAM is refused with the 6.1 message", () => {
    const b = fakeBoot("i386-6.1", { mem: 512 * MiB, cmdline: "highmem=1G" });
    expect(b.lines).toContain("highmem size (1024MB) is bigger than pages available (511MB)!");
  });
  it("the non-PAE kernel ignores QEMU's RAM above 4 GiB (last_pfn stops at the 3 GiB split)", () => {
    const b = fakeBoot("i386-6.1", { mem: 8 * GiB });
    expect(b.lines).toContain("last_pfn = 0xbffe0 max_arch_pfn = 0x100000");
    expect(b.layout.maxPfn).toBe(0xbffe0);
  });
  it("rejects 1 KiB and 1 PiB", () => {
    expect(() => fakeBoot("i386-6.1", { mem: 1024 })).toThrow(KernelBootError);
    expect(() => fakeBoot("i386-6.1", { mem: 2 ** 50 })).toThrow(KernelBootError);
  });
});

describe("i386-2.6: the textbook 2.6.26 PC", () => {
  it("160 MB: old e820 format, all lowmem, VMALLOC_START by the old formula", () => {
    const b = fakeBoot("i386-2.6");
    expect(b.lines).toContain(" BIOS-e820: 0000000000100000 - 0000000009ff0000 (usable)");
    expect(b.lines).toContain(" BIOS-e820: 0000000009ff0000 - 000000000a000000 (ACPI data)");
    expect(b.lines).toContain("0MB HIGHMEM available.");
    expect(b.lines).toContain("159MB LOWMEM available.");
    // ((high_memory + 2*VMALLOC_OFFSET - 1) & ~(VMALLOC_OFFSET-1)) with high_memory 0xc9ff0000
    expect(b.layout.vmallocStart).toBe(0xca800000n);
    expect(b.lines).toContain("    vmalloc : 0xca800000 - 0xff7fe000   ( 847 MB)");
    expect(b.lines).toContain("    lowmem  : 0xc0000000 - 0xc9ff0000   ( 159 MB)");
  });
  it("1 GB: lowmem is exactly 896 MB and the layout print matches the era's example", () => {
    const b = fakeBoot("i386-2.6", { mem: GiB });
    expect(b.lines).toContain("127MB HIGHMEM available.");
    expect(b.lines).toContain("896MB LOWMEM available.");
    const i = b.lines.indexOf("virtual kernel memory layout:");
    expect(b.lines.slice(i, i + 5)).toEqual([
      "virtual kernel memory layout:",
      "    fixmap  : 0xfff4e000 - 0xfffff000   ( 708 kB)",
      "    pkmap   : 0xff800000 - 0xffc00000   (4096 kB)",
      "    vmalloc : 0xf8800000 - 0xff7fe000   ( 111 MB)",
      "    lowmem  : 0xc0000000 - 0xf8000000   ( 896 MB)",
    ]);
    expect(b.lines[i + 5]).toMatch(/^      \.init : 0xc0[0-9a-f]{6} - 0xc0[0-9a-f]{6}   \( *\d+ kB\)$/);
    expect(b.lines[i + 7]).toMatch(/^      \.text : 0xc0100000 - /);
    expect(b.layout.zones.map((z) => [z.name, z.startPfn, z.endPfn])).toEqual([
      ["DMA", 0, 4096],
      ["Normal", 4096, 229376],
      ["HighMem", 229376, 262128],
    ]);
  });
  it("more than 4 GB: 2.6.26 warns that only 4GB will be used", () => {
    const b = fakeBoot("i386-2.6", { mem: 6 * GiB });
    expect(b.lines).toContain("Warning only 4GB will be used.");
    expect(b.lines).toContain("Use a PAE enabled kernel.");
    expect(b.layout.maxPfn).toBe(1 << 20);
  });
  it("highmem= bigger than what is there is ignored with the 2.6 wording", () => {
    const b = fakeBoot("i386-2.6", { mem: GiB, cmdline: "highmem=512M" });
    expect(b.lines).toContain("only 127MB highmem pages available, ignoring highmem size of 512MB.");
  });
});
