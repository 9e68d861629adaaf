// /proc/zoneinfo, /proc/meminfo and the boot lines of the older eras, byte for byte in shape.
import { describe, expect, it } from "vitest";
import { machine, smallX86 } from "./helpers.ts";
import { renderZoneinfo } from "../../../src/kernel/fs/zoneinfo.ts";
import { renderMeminfo } from "../../../src/kernel/fs/meminfo.ts";
import { renderBuddyinfo } from "../../../src/kernel/fs/buddyinfo.ts";

function i386_26_160M() {
  return machine("i386-2.6", {
    memory: [
      [0, 0x9f000],
      [0x100000, 160 << 20],
    ],
    reservations: [[0x100000, 0x600000, "kernel image"]],
    zones: [
      { name: "DMA", startPfn: 0, endPfn: 4096 },
      { name: "Normal", startPfn: 4096, endPfn: 40960 },
      { name: "HighMem", startPfn: 40960, endPfn: 40960 },
    ],
    maxLowPfn: 40960,
    maxPfn: 40960,
    image: [
      { name: ".text", start: 0xc0100000n, end: 0xc02f6000n, phys: 0x100000 },
      { name: ".rodata", start: 0xc02f6000n, end: 0xc0380000n, phys: 0x2f6000 },
      { name: ".data", start: 0xc0380000n, end: 0xc03e5000n, phys: 0x380000 },
      { name: ".init", start: 0xc03e5000n, end: 0xc0422000n, phys: 0x3e5000 },
      { name: ".bss", start: 0xc0422000n, end: 0xc0480000n, phys: 0x422000 },
    ],
  });
}

describe("6.1 /proc/zoneinfo", () => {
  const k = smallX86();
  const z = renderZoneinfo(k);
  it("rendered from a meminfo text the caller has (the invariant checker's way): the same bytes as /proc/zoneinfo", () => {
    expect(renderZoneinfo(k, renderMeminfo(k))).toBe(z);
    expect(k.proc("zoneinfo")).toBe(z);
  });
  it("lists every zone; the first populated one carries the per-node stats; unpopulated ones stop at protection", () => {
    const heads = z.split("\n").filter((l) => l.startsWith("Node "));
    expect(heads).toEqual(["Node 0, zone      DMA", "Node 0, zone    DMA32", "Node 0, zone   Normal", "Node 0, zone  Movable", "Node 0, zone   Device"]);
    const lines = z.split("\n");
    expect(lines[1]).toBe("  per-node stats");
    expect(lines[2]).toBe("      nr_inactive_anon 0");
    expect(lines).toContain("      nr_mapped    0");
    const pf = lines.indexOf("  pages free     " + k.pages.zones[0]!.free);
    expect(lines.slice(pf + 1, pf + 9).map((l) => l.slice(0, 17))).toEqual([
      "        boost    ",
      "        min      ",
      "        low      ",
      "        high     ",
      "        spanned  ",
      "        present  ",
      "        managed  ",
      "        cma      ",
    ]);
    expect(lines[pf + 9]).toMatch(/^        protection: \(0, \d+, \d+, \d+, \d+\)$/);
    expect(lines[pf + 10]).toBe(`      nr_free_pages ${k.pages.zones[0]!.free}`);
    expect(z).toContain("\n  pagesets\n    cpu: 0\n              count: 0\n              high:  ");
    expect(z).toContain("\n  node_unreclaimable:  0\n  start_pfn:           1\n");
    expect(z.endsWith("        managed  0\n        cma      0\n        protection: (0, 0, 0, 0, 0)\n")).toBe(true);
  });
});

describe("2.6.26 boot lines and /proc", () => {
  const k = i386_26_160M();
  const lines = k.log.texts(0);
  it("Zone PFN ranges print decimal PFNs, early_node_map, totalpages, memmap and LIFO batch lines", () => {
    const i = lines.indexOf("Zone PFN ranges:");
    expect(lines.slice(i, i + 8)).toEqual([
      "Zone PFN ranges:",
      "  DMA             0 ->     4096",
      "  Normal       4096 ->    40960",
      "  HighMem     40960 ->    40960",
      "Movable zone start PFN for each node",
      "early_node_map[2] active PFN ranges",
      "    0:        0 ->      159",
      "    0:      256 ->    40960",
    ]);
    expect(lines).toContain("On node 0 totalpages: 40863");
    expect(lines).toContain("  DMA zone: 32 pages used for memmap");
    expect(lines).toContain("  DMA zone: 0 pages reserved");
    expect(lines).toContain("  DMA zone: 3967 pages, LIFO batch:0");
    expect(lines.some((l) => /^Built 1 zonelists in Zone order, mobility grouping on\.  Total pages: \d+$/.test(l))).toBe(true);
  });
  it("the Memory: line has the 2.6 i386 layout with numbers from the layout", () => {
    const mem = lines.find((l) => l.startsWith("Memory: "))!;
    expect(mem).toMatch(/^Memory: \d+k\/163840k available \(2008k kernel code, \d+k reserved, 956k data, 244k init, 0k highmem\)$/);
  });
  it("meminfo has the 2.6.32-era field list (no MemAvailable, HighTotal..LowFree, DirectMap4k/4M)", () => {
    const m = renderMeminfo(k);
    const labels = m
      .trimEnd()
      .split("\n")
      .map((l) => l.split(":")[0]);
    expect(labels.slice(0, 3)).toEqual(["MemTotal", "MemFree", "Buffers"]);
    expect(labels).toContain("HighTotal");
    expect(labels).not.toContain("MemAvailable");
    expect(labels).not.toContain("Percpu");
    expect(labels.slice(-2)).toEqual(["DirectMap4k", "DirectMap4M"]);
    expect(m).toMatch(/\nVmallocChunk: {3}[ \d]{8} kB\n/);
  });
  it("buddyinfo and zoneinfo list populated zones only (2.6.32 zoneinfo layout)", () => {
    expect(
      renderBuddyinfo(k)
        .split("\n")
        .filter(Boolean)
        .map((l) => l.slice(0, 21)),
    ).toEqual(["Node 0, zone      DMA", "Node 0, zone   Normal"]);
    const z = renderZoneinfo(k);
    // present: zone->present_pages, which 2.6.26 sets to realsize (3999 pages less 32 of memmap), as its
    // "DMA zone: 3967 pages, LIFO batch:0" boot line says
    expect(z).toContain("\n        scanned  0\n        spanned  4096\n        present  3967\n    nr_free_pages ");
    expect(z).toContain("\n  all_unreclaimable: 0\n  prev_priority:     12\n  start_pfn:         0\n  inactive_ratio:    1\n");
  });
});
