// What one /proc file says about another on a real 6.1 kernel, at RAM sizes the real transcripts were not made at.
// Each relation is the kernel's own code, so it holds on any machine; here it is checked from the files alone (not
// from the simulator's internals), at sizes across each profile's range:
// - meminfo_proc_show(): MemTotal = totalram_pages() = the zones' managed pages; MemFree = NR_FREE_PAGES = the buddy
//   lists' blocks (/proc/buddyinfo: nr_free of each order times 2^order; pages on the per-CPU lists are not in it),
//   per zone too (zoneinfo's nr_free_pages); HighTotal/HighFree the HighMem zone's, LowTotal/LowFree the rest;
//   SReclaimable, SUnreclaim, KernelStack, PageTables and Shmem the node counters zoneinfo prints under "per-node
//   stats" (nr_kernel_stack in kB);
// - si_mem_available(): MemFree - totalreserve_pages (each zone's largest lowmem_reserve plus its high watermark,
//   capped at its managed pages: calculate_totalreserve_pages()) + the page cache less min(half, the low watermarks'
//   sum) + KReclaimable less min(half, the same);
// - free_area_init(): spanned >= present >= managed in every zone;
// - __setup_per_zone_wmarks(): a highmem zone's min is clamp(managed / 1024, SWAP_CLUSTER_MAX, 128), and every zone's
//   low - min = high - low (the same tmp added twice);
// - /proc/slabinfo (SLUB): num_objs = num_slabs * objperslab, active_objs <= num_objs, active_slabs <= num_slabs; the
//   slabs' pages are part of Slab (which also counts kmalloc_large pages);
// - /proc/vmallocinfo: VmallocUsed = vmalloc_nr_pages() = the pages= fields summed;
// - 32-bit VmallocTotal = VMALLOC_END - VMALLOC_START, with VMALLOC_START from high_memory (the end of lowmem, read from
//   the "Zone ranges:" lines): x86_32 high_memory + VMALLOC_OFFSET (8 MiB), not aligned
//   (arch/x86/include/asm/pgtable_32_areas.h), ARM (high_memory + VMALLOC_OFFSET) & ~(VMALLOC_OFFSET - 1)
//   (arch/arm/include/asm/pgtable.h); x86_32's lowmem ends at MAXMEM = VMALLOC_END - PAGE_OFFSET - __VMALLOC_RESERVE
//   (128 MiB) when RAM reaches it, ARM's at vmalloc_min = VMALLOC_END - (240 << 20) - VMALLOC_OFFSET
//   (arch/arm/mm/mmu.c); VMALLOC_END is a build constant: 0xfebfe000 on the 686 kernel (the real i386 transcript's
//   memdemo line), 0xff800000 on ARM;
// - /proc/iomem's System RAM (x86: e820's RAM, the first page reserved; ARM: memblock's memory) page-rounded is the
//   "Early memory node ranges" memblock prints, less (x86) the entries above iomem_resource.end;
// - nothing reads NaN, undefined, Infinity or a negative count.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import "../../src/kernel/fs/all.ts";
import { readProc } from "../../src/kernel/fs/proc.ts";

const MiB = 2 ** 20;

const SIZES: Record<string, number[]> = {
  "x86_64-6.1": [96, 300, 1000, 3500, 5120, 16384],
  "x86_64-6.1 debug": [200, 3072],
  "i386-6.1": [64, 511, 877, 2048, 5120],
  "i386-6.1-pae": [96, 1000, 5120, 65536],
  "arm-6.1-virt": [64, 511, 767, 1000, 3072, 4096],
  "arm64-6.1": [256, 5120],
};

interface Zone {
  name: string;
  free: number;
  spanned: number;
  present: number;
  managed: number;
  min: number;
  low: number;
  high: number;
  protection: number[];
}

const zonesOf = (zi: string): Zone[] =>
  zi
    .split(/^(?=Node 0, zone)/m)
    .filter((s) => s.startsWith("Node 0, zone"))
    .map((s) => {
      const f = (name: string) => Number(new RegExp(`^\\s+${name}\\s+(\\d+)`, "m").exec(s)?.[1] ?? NaN);
      return {
        name: /^Node 0, zone\s+(\S+)/.exec(s)![1]!,
        free: Number(/^\s+pages free\s+(\d+)/m.exec(s)![1]),
        spanned: f("spanned"),
        present: f("present"),
        managed: f("managed"),
        min: f("min"),
        low: f("low"),
        high: f("high"),
        protection: /protection: \(([^)]*)\)/.exec(s)![1]!.split(", ").map(Number),
      };
    });

/** Each zone's free pages as /proc/buddyinfo counts them. */
const buddyOf = (bi: string): Map<string, number> =>
  new Map(
    bi
      .trim()
      .split("\n")
      .map((l) => {
        const m = /zone\s+(\S+)\s+(.*)$/.exec(l)!;
        const counts = m[2]!.trim().split(/\s+/).map(Number);
        return [m[1]!, counts.reduce((a, n, order) => a + n * 2 ** order, 0)] as const;
      }),
  );

function check(profile: string, config: "distro" | "debug", mib: number): string[] {
  const k = boot(profile, { mem: mib * MiB, config });
  const fail: string[] = [];
  const eq = (what: string, got: unknown, want: unknown) => {
    if (got !== want) fail.push(`${what}: ${String(got)}, want ${String(want)}`);
  };
  const files = Object.fromEntries(["meminfo", "zoneinfo", "buddyinfo", "slabinfo", "vmallocinfo", "iomem"].map((f) => [f, readProc(k, f)]));
  const log = k.log.texts(0);
  for (const [name, text] of [...Object.entries(files), ["boot log", log.join("\n")] as const]) {
    const bad = /NaN|undefined|Infinity|(?:^|[\s(:=])-\d/m.exec(text.replace(/^\[\s*[\d.]+\] /gm, ""));
    // the log's own minus signs: none of the 6.1 boot lines has one
    if (bad) fail.push(`${name}: "${text.slice(Math.max(0, bad.index - 40), bad.index + 20)}"`);
  }
  const mi = files.meminfo!;
  const M = (f: string) => Number(new RegExp(`^${f.replace(/[()]/g, "\\$&")}:\\s+(\\d+) kB`, "m").exec(mi)?.[1] ?? NaN);
  const zones = zonesOf(files.zoneinfo!);
  const buddy = buddyOf(files.buddyinfo!);

  // MemTotal, MemFree, the zones' free pages
  eq("MemTotal", M("MemTotal"), zones.reduce((a, z) => a + z.managed, 0) * 4);
  eq("MemFree", M("MemFree"), [...buddy.values()].reduce((a, b) => a + b, 0) * 4);
  for (const z of zones) {
    if (buddy.has(z.name)) eq(`${z.name} nr_free`, z.free, buddy.get(z.name));
    if (!(z.spanned >= z.present && z.present >= z.managed)) fail.push(`${z.name}: spanned ${z.spanned} present ${z.present} managed ${z.managed}`);
    if (z.managed > 0) eq(`${z.name} low - min = high - low`, z.low - z.min, z.high - z.low);
  }
  const high = zones.find((z) => z.name === "HighMem");
  if (high && high.present > 0) eq("HighMem min", high.min, Math.min(128, Math.max(32, Math.floor(high.managed / 1024))));
  if (/^HighTotal:/m.test(mi)) {
    eq("HighTotal", M("HighTotal"), (high?.managed ?? 0) * 4);
    eq("HighFree", M("HighFree"), (buddy.get("HighMem") ?? 0) * 4);
    eq("LowTotal", M("LowTotal"), M("MemTotal") - M("HighTotal"));
    eq("LowFree", M("LowFree"), M("MemFree") - M("HighFree"));
  }

  // the node counters
  const zi = files.zoneinfo!;
  const node = (f: string) => Number(new RegExp(`^\\s+${f}\\s+(\\d+)`, "m").exec(zi)![1]);
  eq("SReclaimable", M("SReclaimable"), node("nr_slab_reclaimable") * 4);
  eq("SUnreclaim", M("SUnreclaim"), node("nr_slab_unreclaimable") * 4);
  eq("Slab", M("Slab"), M("SReclaimable") + M("SUnreclaim"));
  eq("KernelStack", M("KernelStack"), node("nr_kernel_stack"));
  eq("PageTables", M("PageTables"), node("nr_page_table_pages") * 4);
  eq("Shmem", M("Shmem"), node("nr_shmem") * 4);

  // si_mem_available()
  let reserve = 0;
  let wmarkLow = 0;
  for (const z of zones) {
    reserve += Math.min(z.managed, Math.max(0, ...z.protection) + z.high);
    wmarkLow += z.low;
  }
  let available = M("MemFree") / 4 - reserve;
  const pagecache = (M("Active(file)") + M("Inactive(file)")) / 4;
  available += pagecache - Math.min(Math.floor(pagecache / 2), wmarkLow);
  const reclaimable = M("KReclaimable") / 4;
  available += reclaimable - Math.min(Math.floor(reclaimable / 2), wmarkLow);
  eq("MemAvailable", M("MemAvailable"), Math.max(0, available) * 4);

  // slabinfo
  let slabPages = 0;
  for (const l of files.slabinfo!.split("\n").slice(2).filter(Boolean)) {
    const f = l.split(/\s+/);
    const [active, num, per, pps] = [1, 2, 4, 5].map((i) => Number(f[i]));
    const at = f.indexOf("slabdata");
    const [activeSlabs, slabs] = [Number(f[at + 1]), Number(f[at + 2])];
    if (!(active! <= num! && num === slabs * per! && activeSlabs <= slabs)) fail.push(`slabinfo ${l}`);
    slabPages += slabs * pps!;
  }
  if (slabPages * 4 > M("Slab")) fail.push(`slabinfo's ${slabPages * 4} kB of slabs above Slab ${M("Slab")} kB`);

  // vmallocinfo
  const vpages = [...files.vmallocinfo!.matchAll(/ pages=(\d+) /g)].reduce((a, m) => a + Number(m[1]), 0);
  eq("VmallocUsed", M("VmallocUsed"), vpages * 4);

  // iomem's System RAM against memblock's node ranges
  const nodeRanges = log.flatMap((l) => {
    const m = /^\s+node\s+0: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\]/.exec(l);
    return m ? [`${parseInt(m[1]!, 16) / 4096}-${(parseInt(m[2]!, 16) + 1) / 4096}`] : [];
  });
  const ram = files.iomem!.split("\n").flatMap((l) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) : System RAM$/.exec(l);
    return m ? [`${Math.ceil(parseInt(m[1]!, 16) / 4096)}-${Math.floor((parseInt(m[2]!, 16) + 1) / 4096)}`] : [];
  });
  // insert_resource() refuses an e820 entry ending above iomem_resource.end = 2^x86_phys_bits - 1 (36 bits on QEMU's
  // 32-bit CPUs, 40 on qemu64), which memblock still holds
  const physPfns = profile.startsWith("i386") ? 2 ** 24 : Infinity;
  eq("iomem System RAM (pfns)", ram.join(" "), nodeRanges.filter((r) => Number(r.split("-")[1]) <= physPfns).join(" "));

  // 32-bit: VmallocTotal from high_memory
  if (profile.startsWith("i386") || profile.startsWith("arm-")) {
    const zr = (name: string) => {
      const m = new RegExp(`^\\s+${name}\\s+\\[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\\]`).exec(log.find((l) => new RegExp(`^\\s+${name}\\s+\\[mem`).test(l)) ?? "");
      return m ? [parseInt(m[1]!, 16), parseInt(m[2]!, 16) + 1] : undefined;
    };
    const lowZone = profile.startsWith("arm") ? zr("DMA") : (zr("Normal") ?? zr("DMA"));
    const lowEnd = zr("HighMem")?.[0] ?? lowZone![1]!;
    const PAGE_OFFSET = 0xc0000000;
    const PHYS_OFFSET = profile.startsWith("arm") ? 0x40000000 : 0;
    const highMemory = PAGE_OFFSET + lowEnd - PHYS_OFFSET;
    const VMALLOC_OFFSET = 8 * MiB;
    const start = profile.startsWith("arm") ? Math.floor((highMemory + VMALLOC_OFFSET) / VMALLOC_OFFSET) * VMALLOC_OFFSET : highMemory + VMALLOC_OFFSET;
    const end = start + M("VmallocTotal") * 1024;
    vmallocEnds.set(profile, [...(vmallocEnds.get(profile) ?? []), end]);
    if (profile === "i386-6.1") eq("VMALLOC_END", end.toString(16), "febfe000");
    if (profile.startsWith("arm")) eq("VMALLOC_END", end.toString(16), "ff800000");
    // lowmem's limit where RAM reaches it
    if (zr("HighMem")) {
      if (profile.startsWith("arm"))
        eq("arm_lowmem_limit", lowEnd.toString(16), (0xff800000 - (240 << 20) - VMALLOC_OFFSET - PAGE_OFFSET + PHYS_OFFSET).toString(16));
      else eq("MAXMEM", lowEnd.toString(16), (end - PAGE_OFFSET - 128 * MiB).toString(16));
    }
  }
  return fail;
}

const vmallocEnds = new Map<string, number[]>();

for (const [name, sizes] of Object.entries(SIZES)) {
  const [profile, config = "distro"] = name.split(" ") as [string, "distro" | "debug" | undefined];
  describe(`${name}: /proc's files agree with each other`, () => {
    for (const mib of sizes) {
      it(`${mib}M`, () => {
        expect(check(profile, config, mib)).toEqual([]);
      });
    }
    if (profile.startsWith("i386") || profile.startsWith("arm-"))
      it("VMALLOC_END is the same at every size (a build constant)", () => {
        expect(new Set(vmallocEnds.get(profile)).size).toBe(1);
      });
  });
}

// 6.1 x86_32 leaves RAM above max_pfn in memblock (6.15 added the memblock_remove()): free_area_init() prints it in
// "Early memory node ranges" and "Initmem setup node" while the zones stop at max_pfn; /proc/iomem lists e820's RAM
// only up to iomem_resource.end (36 physical address bits).
describe("x86_32: memblock keeps the RAM above max_pfn", () => {
  const lines = (profile: string, mib: number, cmdline?: string) => {
    const k = boot(profile, { mem: mib * MiB, config: "distro", ...(cmdline ? { cmdline } : {}) });
    const log = k.log.texts(0);
    return {
      nodes: log.filter((l) => /^\s+node\s+0: /.test(l) || l.startsWith("Initmem setup")).map((l) => l.trim()),
      highmem: log.find((l) => /^\s+HighMem\s/.test(l))?.trim(),
      ram: readProc(k, "iomem")
        .split("\n")
        .filter((l) => l.endsWith(": System RAM")),
      memTotal: Number(/MemTotal:\s+(\d+)/.exec(readProc(k, "meminfo"))![1]),
    };
  };
  it("highmem=64M on 1 GiB (686 and 686-pae): the node ranges reach the RAM's end, HighMem ends 64 MiB above lowmem", () => {
    for (const [profile, lowEnd] of [
      ["i386-6.1", 0x36bfe000],
      ["i386-6.1-pae", 0x36ffe000],
    ] as const) {
      const l = lines(profile, 1024, "console=ttyS0 loglevel=8 nokaslr highmem=64M");
      expect(l.nodes, profile).toEqual([
        "node   0: [mem 0x0000000000001000-0x000000000009efff]",
        "node   0: [mem 0x0000000000100000-0x000000003ffdffff]",
        "Initmem setup node 0 [mem 0x0000000000001000-0x000000003ffdffff]",
      ]);
      expect(l.highmem, profile).toBe(`HighMem  [mem 0x${lowEnd.toString(16).padStart(16, "0")}-0x${(lowEnd + 64 * MiB - 1).toString(16).padStart(16, "0")}]`);
      expect(l.ram, profile).toEqual(["00001000-0009fbff : System RAM", "00100000-3ffdffff : System RAM"]);
    }
  });
  it("686-pae at 64 GiB (RAM up to 65 GiB): memblock prints it all, the zones and /proc/iomem stop at 64 GiB", () => {
    const l = lines("i386-6.1-pae", 65536);
    expect(l.nodes.slice(-2)).toEqual([
      "node   0: [mem 0x0000000100000000-0x000000103fffffff]",
      "Initmem setup node 0 [mem 0x0000000000001000-0x000000103fffffff]",
    ]);
    expect(l.highmem).toMatch(/-0x0000000fffffffff\]$/);
    expect(l.ram).toEqual(["00001000-0009fbff : System RAM", "00100000-bffdffff : System RAM"]);
    // of the 61 GiB above 4 GiB, 60 are used: 2 GiB more than a 61 GiB machine's 58 (less their struct pages)
    const l61 = lines("i386-6.1-pae", 61 * 1024);
    expect(l61.ram.at(-1)).toBe("100000000-f7fffffff : System RAM");
    expect(l.memTotal - l61.memTotal).toBeGreaterThan(1.9 * 1024 * 1024);
    expect(l.memTotal - l61.memTotal).toBeLessThan(2 * 1024 * 1024);
  });
  it("686 (no PAE) at 5 GiB: the RAM above 4 GiB is in neither memblock nor /proc/iomem (resource_size_t is 32 bits)", () => {
    const l = lines("i386-6.1", 5120);
    expect(l.nodes.at(-1)).toBe("Initmem setup node 0 [mem 0x0000000000001000-0x00000000bffdffff]");
    expect(l.ram.at(-1)).toBe("00100000-bffdffff : System RAM");
  });
});
