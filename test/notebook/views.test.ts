import { describe, expect, it } from "vitest";
import type { RunResult } from "../../sandbox/result.ts";
import { addressesInDmesg, allocationsOfRun, buildAddrModel, fraction, parseVmallocinfo, regionsOf } from "../../src/notebook/views/addrspace.ts";
import { digestForPage } from "../../src/notebook/digest.ts";
import { API } from "../../sandbox/api.ts";
import { memoryRoles } from "../../sandbox/memrecords.ts";
import { diffTable, rowKey, splitRow } from "../../src/notebook/views/proc.ts";

const layout = {
  bits: 64,
  regions: [
    { name: "user", kind: "user", start: "0x0", end: "0x800000000000" },
    { name: "direct map", kind: "linear", start: "0xffff888000000000", end: "0xffffc88000000000" },
    { name: "vmalloc", kind: "vmalloc", start: "0xffffc90000000000", end: "0xffffe90000000000" },
    { name: "bad", kind: "other", start: "0x10", end: "0x10" },
  ],
};

function result(over: Partial<RunResult> = {}): RunResult {
  return {
    profile: "x86_64-6.1",
    initReturn: 0,
    dmesg: [],
    bootLog: [],
    reports: [],
    proc: {},
    procAfterExit: {},
    stats: { kernelCalls: 0, simTimeNs: 0, tlbHits: 0, tlbMisses: 0, wallMs: 0 },
    kernel: { layout },
    ...over,
  };
}

describe("address-space model", () => {
  it("reads regions from hex strings, sorted, dropping empty ones", () => {
    const r = regionsOf(layout);
    expect(r.map((x) => x.name)).toEqual(["user", "direct map", "vmalloc"]);
    expect(r[1].start).toBe(0xffff888000000000n);
  });

  it("labels each printed address with the variable that printed it", () => {
    const got = addressesInDmesg([
      "[    0.512345] pagemem addr=ffff888003a4c000",
      "[    0.512350] kmallocmem addr=0xffff888003b1e080",
      "[    0.512360] vmallocmem addr=ffffc90000085000",
      "[    0.512370] buf at ffffc90000185000, size 42",
    ]);
    expect(got.map((g) => [g.label, g.addr])).toEqual([
      ["pagemem", 0xffff888003a4c000n],
      ["kmallocmem", 0xffff888003b1e080n],
      ["vmallocmem", 0xffffc90000085000n],
      ["buf", 0xffffc90000185000n],
    ]);
  });

  it("a number before an address names nothing: the line's earlier name, or the address's own first name (lessons 02, 03)", () => {
    const got = addressesInDmesg([
      "[  183.527105] page 0xc991d000 is physical 0x991d000 = 0xc991d000 - PAGE_OFFSET",
      "[    6.154649] three pages: ffff8880069ae000 ffff8880069b0000 ffff8880069b4000",
      "[    6.154649] 42 ffff8880069b8000",
      "[    6.154648] kmalloc(100) -> ffff888006993380, usable size 128",
    ]);
    expect(got.map((g) => g.label)).toEqual(["page", "page", "pages", "pages", "pages", "dmesg line 3", "kmalloc(100)"]);
    // the first name stays: the page's second print on its line does not rename it "x991d000"
    const m = buildAddrModel(
      result({
        kernel: { layout: { bits: 32, regions: [{ name: "lowmem", kind: "linear", start: "0xc0000000", end: "0xc9ff0000" }] } },
        dmesg: ["[  183.527105] page 0xc991d000 is physical 0x991d000 = 0xc991d000 - PAGE_OFFSET"],
      }),
    )!;
    expect(m.marks.map((x) => x.label)).toEqual(["page"]);
  });

  it("an address inside one of the cell's buffers is that buffer's, at its offset (lesson 05's eight pages)", () => {
    const calls = [{ fn: "vmalloc", args: [32768], ret: "0xffffc900006e1000" }];
    const m = buildAddrModel(
      digestForPage(
        result({
          kernel: { layout, calls },
          dmesg: ["[    6.1] page 0: virtual ffffc900006e1000 -> pfn 0x69ae", "[    6.1] page 1: virtual ffffc900006e2000 -> pfn 0x69b0"],
          proc: { vmallocinfo: "0xffffc900006e1000-0xffffc900006ea000   36864 cell_line_5+0x6c/0x120 [cell] pages=8 vmalloc N0=8\n" },
        }),
        [],
        memoryRoles(API),
      ),
    )!;
    expect(m.marks.map((x) => [x.label, x.kind, x.size])).toEqual([
      ["virtual", "vmalloc", 32768n],
      ["virtual", "vmalloc, +0x1000", undefined],
    ]);
  });

  it("an address in a vmap area the cell did not make is that area's caller and type, not the cell's vmalloc", () => {
    const m = buildAddrModel(
      result({
        dmesg: ["[    0.5] VMALLOC_START = 0xffffc90000000000", "[    0.5] vmallocmem addr=ffffc90000085000"],
        proc: {
          vmallocinfo:
            "0xffffc90000000000-0xffffc90000009000   36864 irq_init_percpu_irqstack+0xf0/0x120 vmap\n" +
            "0xffffc90000085000-0xffffc9000017b000  1007616 mem_module_init+0x6c/0x120 [cell] pages=245 vmalloc N0=245\n",
        },
      }),
      ["mem_module_init"],
    )!;
    expect(m.marks.map((x) => [x.label, x.kind, x.size])).toEqual([
      ["VMALLOC_START", "irq_init_percpu_irqstack (vmap)", 36864n],
      ["vmallocmem", "vmalloc", 1007616n],
    ]);
  });

  it("places addresses in their regions and ignores numbers outside the layout", () => {
    const m = buildAddrModel(
      result({
        dmesg: ["[    0.5] pagemem addr=ffff888003a4c000", "[    0.5] vmallocmem addr=ffffc90000085000", "[    0.5] hashed 00000000deadbeef"],
        proc: { vmallocinfo: "0xffffc90000085000-0xffffc9000017b000  1007616 mem_module_init+0x6c/0x120 [cell] pages=245 vmalloc N0=245\n" },
      }),
      ["mem_module_init"],
    )!;
    // the hashed %p value would fall in user space: a module's memory never does, so it is not marked
    expect(m.marks.map((x) => [x.label, x.region?.name])).toEqual([
      ["pagemem", "direct map"],
      ["vmallocmem", "vmalloc"],
    ]);
    const vm = m.marks.find((x) => x.label === "vmallocmem")!;
    expect(vm.size).toBe(1007616n);
    expect(m.vmap[0]).toMatchObject({ mine: true, pages: 245 });
  });

  it("takes allocations and their sizes from the one memory record model (the worker's digest); printed names win", () => {
    const calls = [
      { fn: "MODULE_LICENSE", args: ["GPL"], ret: null },
      { fn: "__get_free_page", args: [3264], ret: "0xffff8880050e5000" },
      { fn: "kmalloc", args: [100, 3264], ret: "0xffff888004656380" },
      { fn: "vmalloc", args: [1000000], ret: "0xffffc90000621000" },
      { fn: "__get_free_pages", args: [3264, 3], ret: "0xffff888005100000" },
      { fn: "kmalloc", args: [1 << 30, 3264], ret: "0x0" },
    ];
    // as the page gets a run: digested by the worker with the table's memory roles
    const paged = (over: Partial<RunResult>) => digestForPage(result(over), [], memoryRoles(API));
    expect(allocationsOfRun(paged({ kernel: { layout, calls } })).map((m) => [m.kind, m.size])).toEqual([
      ["__get_free_page", 4096n],
      ["kmalloc", 100n],
      ["vmalloc", 1000000n],
      ["__get_free_pages", 32768n],
    ]);
    const m = buildAddrModel(paged({ kernel: { layout, calls }, dmesg: ["[    0.5] kmallocmem addr=ffff888004656380"] }))!;
    const km = m.marks.find((x) => x.kind === "kmalloc")!;
    expect([km.label, km.size, km.region?.name]).toEqual(["kmallocmem", 100n, "direct map"]);
    expect(m.marks.find((x) => x.kind === "vmalloc")!.label).toBe("vmalloc 977 KiB");
  });

  it("no layout, no model", () => {
    expect(buildAddrModel(result({ kernel: {} }))).toBeNull();
  });

  it("fraction is exact enough for 64-bit spans", () => {
    expect(fraction(0xffffc90000000000n, 0xffffc90000000000n, 0xffffe90000000000n)).toBe(0);
    expect(fraction(0xffffd90000000000n, 0xffffc90000000000n, 0xffffe90000000000n)).toBe(0.5);
  });

  it("parses vmallocinfo and finds the module's areas", () => {
    const v = parseVmallocinfo(
      "0xffffc90000000000-0xffffc90000002000    8192 acpi_os_map_iomem+0x1ba/0x1e0 phys=0x00000000fed00000 ioremap\n" +
        "0xffffc90000085000-0xffffc9000017b000 1007616 mem_module_init+0x6c/0x120 [cell] pages=245 vmalloc N0=245\n",
    );
    expect(v.map((a) => a.mine)).toEqual([false, true]);
    expect(v[0].end - v[0].start).toBe(8192n);
  });
});

describe("/proc diff", () => {
  it("row keys are the words before the numbers", () => {
    expect(rowKey(splitRow("Node 0, zone   Normal    3    4    5"))).toBe("Node 0, zone Normal");
    expect(rowKey(splitRow("kmalloc-128  32 32 128 32 1"))).toBe("kmalloc-128");
  });

  it("buddyinfo: changed counts show their delta", () => {
    const loaded = "Node 0, zone      DMA      1      0\nNode 0, zone   Normal     10      5\n";
    const after = "Node 0, zone      DMA      1      0\nNode 0, zone   Normal     12      4\n";
    const d = diffTable(loaded, after);
    expect(d[0].status).toBe("same");
    expect(d[1].status).toBe("changed");
    expect(d[1].delta.filter((x) => x !== undefined)).toEqual([-2, 1]);
  });

  it("vmallocinfo: rows only present while loaded, or only after, are marked", () => {
    const loaded = "0xa-0xb 4096 x\n0xc-0xd 8192 mem_module_init+0x1/0x2 [cell]\n";
    const after = "0xa-0xb 4096 x\n0xe-0xf 4096 y\n";
    const d = diffTable(loaded, after);
    expect(d.map((r) => r.status)).toEqual(["same", "added", "removed"]);
  });

  it("without a comparison every row is plain", () => {
    expect(diffTable("a 1\nb 2", undefined).map((r) => r.status)).toEqual(["same", "same"]);
  });
});

import { buildFrameModel, bucketZone, BUCKETS_PER_ZONE } from "../../src/notebook/views/frames.ts";

describe("frame map model", () => {
  const layoutZones = {
    zones: [
      { name: "DMA", startPfn: 1, endPfn: 4096 },
      { name: "DMA32", startPfn: 4096, endPfn: 32768 },
    ],
    reservations: [{ start: 0x1000000, end: 0x1200000, what: "Kernel code" }],
  };

  it("from allocations: the cell's pages and its vmalloc pages are marked, reservations kept", () => {
    const m = buildFrameModel({
      layout: layoutZones,
      allocations: [
        { pfn: 5000, order: 0, ownerName: "Module" },
        { pfn: 6000, order: 2, ownerName: "Slab" },
      ],
      vmalloc: {
        areas: [
          { owner: "module", pages: [7001, 9005, 12000] },
          { owner: "boot", pages: [100] },
        ],
      },
    })!;
    expect(m.zones.map((z) => z.name)).toEqual(["DMA", "DMA32"]);
    expect([...m.mine].sort((a, b) => a - b)).toEqual([5000, 7001, 9005, 12000]);
    expect(m.runs).toContainEqual([6000, 4, "Slab"]);
    expect(m.runs).toContainEqual([4096, 512, "KernelImage"]);
  });

  it("from run-length frames with owner names", () => {
    const m = buildFrameModel({ zones: [{ name: "Normal", startPfn: 0, endPfn: 100 }], frames: { ownerNames: ["Free", "Reserved"], runs: [[0, 10, 1]] } })!;
    expect(m.runs).toEqual([[0, 10, "Reserved"]]);
  });

  it("nothing to draw without zones or allocations", () => {
    expect(buildFrameModel({})).toBeNull();
    expect(buildFrameModel({ layout: layoutZones })).toBeNull();
  });

  it("a 4 GiB zone is at most BUCKETS_PER_ZONE squares, and a scattered buffer's frames colour their squares", () => {
    const zone = { name: "DMA32", startPfn: 4096, endPfn: 1 << 20 };
    const m = buildFrameModel({
      zones: [zone],
      frames: {
        ownerNames: ["Free", "Slab", "KernelImage"],
        runs: [
          [4096, 512, 2],
          [8192, 64, 1],
        ],
      },
      cellMemory: [
        {
          fn: "vmalloc",
          addr: "0xffffc90000001000",
          kind: "vmalloc",
          pfnRuns: [
            [100000, 1],
            [500000, 1],
            [900000, 1],
          ],
        },
        { fn: "kmalloc", addr: "0xffff888001000000", kind: "kmalloc", pfnRuns: [[8200, 1]] },
      ],
    })!;
    expect(m.buffers.map((b) => [b.kind, b.frames])).toEqual([
      ["vmalloc", 3],
      ["kmalloc", 1],
    ]);
    const zb = bucketZone(m, zone); // how fast: npm run bench -- views
    expect(zb.owner.length).toBeLessThanOrEqual(BUCKETS_PER_ZONE);
    expect(zb.per).toBe(256);
    const sq = (pfn: number) => zb.owner[Math.floor((pfn - zone.startPfn) / zb.per)];
    expect([sq(100000), sq(500000), sq(900000)]).toEqual(["cell: vmalloc buffer", "cell: vmalloc buffer", "cell: vmalloc buffer"]);
    // the kmalloc object's frame is in a slab page: the cell's buffer wins the square over the slab
    expect(sq(8200)).toBe("cell: kmalloc / page buffer");
    expect(sq(4096)).toBe("KernelImage");
    expect(sq(700000)).toBe("Free");
    expect(zb.cellFrames).toBe(4);
    expect(zb.totals.get("Free")).toBe((1 << 20) - 4096 - 512 - 64);
  });
});
