// The size-dependent boot figures of the 6.1 profiles, swept over RAM sizes the real transcripts were not made at,
// each recomputed here from the kernel's own arithmetic (Linux 6.1) and the machine's inputs (its zones' spanned and
// present pages from /proc/zoneinfo, its memblock memory and reservations, its log), never read back from the
// simulator's computation:
// - "Built 1 zonelists ... Total pages": free_area_init_core()'s freesize summed: present - calc_memmap_size() (of the
//   spanned pages, of the present ones on a SPARSEMEM kernel whose zone has holes of more than 1/16 of it: x86_64's
//   DMA32 from 3.5 GiB of RAM on, where QEMU leaves the PCI hole in it) for lowmem zones, less x86_64's dma_reserve
//   (memblock_find_dma_reserve(): pages below 16 MiB not wholly free in memblock);
// - alloc_large_system_hash(): every hash table line (entries, order, bytes) from nr_kernel_pages / nr_all_pages and
//   each caller's bucket size, scale and limits (64-bit: the scale grows by one per factor of 4 above 64 GiB, 80G) (fs/dcache.c, fs/inode.c, fs/namespace.c, net/ipv4/route.c,
//   net/ipv4/tcp.c, net/mptcp/token.c, net/ipv4/udp.c);
// - "On node 0, zone Z: N pages in unavailable ranges": memmap_init()'s holes (SPARSEMEM: pfn_valid by present section,
//   and the tail up to the section boundary; FLATMEM: every pfn from ARCH_PFN_OFFSET);
// - kernel/dma/pool.c: 128 KiB per GiB of totalram at postcore, at least 128 KiB, at most MAX_ORDER_NR_PAGES, printed
//   as the power-of-two block that holds it;
// - swiotlb: 64 MiB below 4 GiB when RAM reaches above 4 GiB (x86 pci_swiotlb_detect() on amd64 and 686-pae, whose
//   X86_PAE selects SWIOTLB, there below lowmem's end; arm64 mem_init()), never on the 686 and armmp kernels; x86
//   prints it at rootfs_initcall (pci_iommu_init), arm64 at mem_init;
// - min_free_kbytes (int_sqrt(lowmem_kbytes * 16) at postcore, raised by khugepaged's set_recommended_min_free_kbytes()
//   where THP stays on: totalram >= 512 MiB on amd64, 686 and arm64), every zone's min watermark, lowmem_reserve and
//   the per-CPU lists' batch and high.
// The real boots (x86_64 512M, i386 1G, armhf 1G) are in the sweep: the same arithmetic gives their printed lines.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import "../../src/kernel/fs/all.ts";
import { readProc } from "../../src/kernel/fs/proc.ts";
import { PageOwner } from "../../src/kernel/mm/page_flags.ts";
import { realSection } from "./real-kernel.ts";

const MiB = 2 ** 20;
const PAGE = 4096;
type K = ReturnType<typeof boot>;

const isqrt = (x: number) => {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
};
const pow2up = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const getOrder = (bytes: number) => Math.max(0, Math.ceil(Math.log2(bytes / PAGE)));

interface ZoneInfo {
  name: string;
  startPfn: number;
  spanned: number;
  present: number;
  managed: number;
  min: number;
  low: number;
  protection: number[];
  high: number;
  batch: number;
}

function zoneinfo(k: K): ZoneInfo[] {
  const text = readProc(k, "zoneinfo");
  return text
    .split(/^(?=Node 0, zone)/m)
    .filter((s) => s.startsWith("Node 0, zone"))
    .map((s) => {
      const f = (name: string) => Number(new RegExp(`^\\s+${name}\\s+(\\d+)`, "m").exec(s)?.[1] ?? 0);
      return {
        name: /^Node 0, zone\s+(\S+)/.exec(s)![1]!,
        startPfn: Number(/start_pfn:\s+(\d+)/.exec(s)?.[1] ?? 0),
        spanned: f("spanned"),
        present: f("present"),
        managed: f("managed"),
        min: f("min"),
        low: f("low"),
        protection: (/protection: \(([^)]*)\)/.exec(s)?.[1] ?? "").split(", ").filter(Boolean).map(Number),
        high: Number(/^\s+high:\s+(\d+)/m.exec(s)?.[1] ?? 0),
        batch: Number(/^\s+batch:\s+(\d+)/m.exec(s)?.[1] ?? 0),
      };
    });
}

/** The Debian 6.1 builds' properties the arithmetic takes (each the build's, not the RAM's). */
function build(profile: string, config = "distro") {
  const arch = profile.startsWith("x86_64") ? "x86_64" : profile.startsWith("i386") ? "i386" : profile.startsWith("arm64") ? "arm64" : "arm";
  const bits = arch === "x86_64" || arch === "arm64" ? 64 : 32;
  return {
    arch,
    bits,
    // sizeof(struct page), as the real transcripts print it (i386 40, armmp 36)
    spage: bits === 64 ? 64 : arch === "arm" ? 36 : 40,
    // CONFIG_SPARSEMEM (amd64, arm64) or FLATMEM (686, 686-pae, armmp): the real configs
    sparse: bits === 64,
    thp: arch !== "arm",
    // pageblock_nr_pages: HUGETLB_PAGE_ORDER, or MAX_ORDER - 1 without HUGETLB (armmp; the debug config follows the custom
    // 6.1 debug build, which has none)
    pageblock: arch === "arm" || (arch === "x86_64" && config === "debug") ? 1024 : arch === "i386" && !profile.endsWith("pae") ? 1024 : 512,
    maxOrder: arch === "arm" ? 12 : 11,
  };
}

const isHigh = (z: ZoneInfo, zones: ZoneInfo[]) => z.name === "HighMem" || (z.name === "Movable" && zones.some((h) => h.name === "HighMem" && h.present > 0));

/** x86_64 memblock_find_dma_reserve(): memory pages below 16 MiB less the whole pages of its free ranges. */
function dmaReserve(k: K): number {
  const LIMIT = 16 * MiB;
  let pages = 0;
  for (const m of k.layout.memory) pages += Math.max(0, Math.floor(Math.min(m.end, LIMIT) / PAGE) - Math.ceil(Math.min(m.start, LIMIT) / PAGE));
  const res = [...k.layout.reservations].filter((r) => r.start < LIMIT).sort((a, b) => a.start - b.start);
  let free = 0;
  for (const m of k.layout.memory) {
    let at = m.start;
    for (const r of [...res.filter((r) => r.end > m.start && r.start < m.end), { start: m.end, end: m.end }]) {
      if (r.start > at) {
        const a = Math.min(Math.ceil(at / PAGE), LIMIT / PAGE);
        const b = Math.min(Math.floor(Math.min(r.start, m.end) / PAGE), LIMIT / PAGE);
        if (b > a) free += b - a;
      }
      at = Math.max(at, r.end);
    }
  }
  return pages - free;
}

/** free_area_init_core(): each zone's freesize, nr_kernel_pages and nr_all_pages. */
function freeAreaInit(k: K, profile: string, zones: ZoneInfo[]) {
  const b = build(profile);
  const reserve = b.arch === "x86_64" ? dmaReserve(k) : 0;
  let nrKernel = 0;
  let nrAll = 0;
  zones.forEach((z, j) => {
    const pages = b.sparse && z.spanned > z.present + (z.present >> 4) ? z.present : z.spanned;
    const memmap = Math.ceil((pages * b.spage) / PAGE);
    let free = z.present;
    const high = isHigh(z, zones);
    if (!high && free >= memmap) free -= memmap;
    if (j === 0 && free > reserve) free -= reserve;
    if (!high) nrKernel += free;
    else if (nrKernel > memmap * 2) nrKernel -= memmap;
    nrAll += free;
  });
  return { nrKernel, nrAll };
}

interface Hash {
  name: string;
  bucket: number;
  scale: number;
  low?: number;
  high?: number;
  entries?: number;
}

/** alloc_large_system_hash() without a boot parameter: the entries. */
function hashEntries(h: Hash, nrKernel: number, nrAll: number, bits: number): number {
  let n = h.entries ?? 0;
  if (!n) {
    n = Math.ceil(nrKernel / 256) * 256; // round up to a MiB of pages
    // 64-bit without a high limit: one more bit of scale per factor of 4 above 64 GiB of pages (ADAPT_SCALE_*)
    let scale = h.scale;
    if (bits === 64 && !h.high) for (let adapt = 2 ** 24; adapt < n; adapt *= 4) scale++;
    n = scale > 12 ? Math.floor(n / 2 ** (scale - 12)) : n * 2 ** (12 - scale);
    if (n * h.bucket < PAGE) n = Math.floor(PAGE / h.bucket);
  }
  n = pow2up(n);
  const max = Math.min(h.high || Math.floor((nrAll * PAGE) / 16 / h.bucket), 0x80000000);
  if (n < (h.low ?? 0)) n = h.low!;
  if (n > max) n = max;
  return 2 ** Math.floor(Math.log2(n));
}

function hashes(profile: string): Hash[] {
  const { bits } = build(profile);
  const ptr = bits / 8;
  const lockHead = bits === 64 ? 16 : 8;
  return [
    { name: "Dentry cache", bucket: ptr, scale: 13 },
    { name: "Inode-cache", bucket: ptr, scale: 14 },
    { name: "Mount-cache", bucket: ptr, scale: 19 },
    { name: "Mountpoint-cache", bucket: ptr, scale: 19 },
    { name: "IP idents", bucket: 8, scale: 16, low: 2048, high: 256 * 1024 },
    { name: "tcp_listen_portaddr_hash", bucket: lockHead, scale: 21, high: 64 * 1024 },
    { name: "TCP established", bucket: ptr, scale: 17, high: 512 * 1024 },
    { name: "MPTCP token", bucket: bits === 64 ? 24 : 16, scale: 20, high: 64 * 1024 },
    { name: "UDP", bucket: 32, scale: 21, low: 256, high: 64 * 1024 },
    { name: "UDP-Lite", bucket: 32, scale: 21, low: 256, high: 64 * 1024 },
  ];
}

const SWEEP: Record<string, number[]> = {
  "x86_64-6.1": [84, 128, 256, 384, 512, 768, 1000, 1024, 1536, 2048, 3000, 3072, 4096, 6144, 8192, 81920],
  "i386-6.1": [36, 128, 384, 768, 896, 1024, 1536, 3000, 4096],
  "i386-6.1-pae": [36, 256, 1024, 2048, 4096, 8192],
  "arm-6.1-virt": [52, 128, 256, 768, 1024, 2048, 3000],
  "arm64-6.1": [88, 256, 1024, 1536, 3000, 4096, 8192],
  "x86_64-6.1-la57": [88, 512, 3584, 4096],
  "x86_64-6.1 debug": [512, 1024, 2048, 4096],
};

const machines = new Map<string, K>();
const machine = (name: string, mem: number) => {
  const [profile, config = "distro"] = name.split(" ") as [string, "distro" | "debug" | undefined];
  const key = `${name}/${mem}`;
  let k = machines.get(key);
  if (!k) machines.set(key, (k = boot(profile, { mem: mem * MiB, config })));
  return k;
};
const kb = (l: string) => Number(/: (\d+)K$/.exec(l)![1]);

for (const [name, sizes] of Object.entries(SWEEP)) {
  const [profile, config] = name.split(" ") as [string, string | undefined];
  describe(`${name}: boot figures at ${sizes.map((s) => s + "M").join(", ")}`, () => {
    for (const mem of sizes) {
      it(`${mem}M`, () => {
        const b = build(profile, config);
        const k = machine(name, mem);
        const log = k.log.texts(0);
        const zones = zoneinfo(k);
        const fail: string[] = [];
        const eq = (what: string, got: unknown, want: unknown) => {
          if (JSON.stringify(got) !== JSON.stringify(want)) fail.push(`${what}: simulated ${JSON.stringify(got)}, kernel arithmetic ${JSON.stringify(want)}`);
        };

        // Total pages and the hash tables
        const { nrKernel, nrAll } = freeAreaInit(k, profile, zones);
        eq(
          "Total pages",
          log.find((l) => l.startsWith("Built 1 zonelists")),
          `Built 1 zonelists, mobility grouping on.  Total pages: ${nrAll}`,
        );
        const want: string[] = [];
        let ehash = 0;
        for (const h of hashes(profile)) {
          const n = hashEntries(h, nrKernel, nrAll, b.bits);
          if (h.name === "TCP established") ehash = n;
          want.push(`${h.name} hash table entries: ${n} (order: ${getOrder(n * h.bucket)}, ${n * h.bucket} bytes, linear)`);
          if (h.name === "TCP established") {
            // tcp_init(): the bind table (bhash and bhash2 in one: two inet_bind_hashbuckets) as large as ehash
            const bind = { name: "TCP bind", bucket: 2 * (b.bits === 64 ? 16 : 8), scale: 17, high: 64 * 1024, entries: ehash };
            const nb = hashEntries(bind, nrKernel, nrAll, b.bits);
            want.push(`TCP bind hash table entries: ${nb} (order: ${getOrder(nb * bind.bucket)}, ${nb * bind.bucket} bytes, linear)`);
          }
        }
        const names = new Set(want.map((l) => l.split(" hash table")[0]));
        eq(
          "hash tables",
          log.filter((l) => names.has(l.split(" hash table")[0]!)),
          want.sort((x, y) => log.findIndex((l) => l.startsWith(x.split(" entries")[0]!)) - log.findIndex((l) => l.startsWith(y.split(" entries")[0]!))),
        );

        // memmap_init()'s unavailable ranges
        const unavailable: string[] = [];
        const mem0 = k.layout.memory.map((m) => ({ start: Math.floor(m.start / PAGE), end: Math.floor(m.end / PAGE) }));
        const SECTION = 32768;

        // CONFIG_DEFERRED_STRUCT_PAGE_INIT (amd64): defer_init() stops the node's last zone at the first section-aligned
        // pfn past its first PAGES_PER_SECTION frames (first_deferred_pfn), and memblock_free_all() frees nothing from
        // there on until page_alloc_init_late(): ftrace_init()'s record pages, allocated before it, lie below
        if (b.arch === "x86_64" && config !== "debug") {
          const last = zones.filter((z) => z.present > 0).at(-1)!;
          let seen = 0;
          let fd = Infinity;
          for (const m of mem0) {
            const a = Math.max(m.start, last.startPfn);
            const e = Math.min(m.end, last.startPfn + last.spanned);
            if (e <= a) continue;
            const p = Math.ceil((a + SECTION - seen) / SECTION) * SECTION;
            if (p < e) {
              fd = p;
              break;
            }
            seen += e - a;
          }
          const ftrace = k.pages.allocations(PageOwner.Kernel).filter((x) => x.caller === "ftrace_process_locs");
          eq("ftrace's record pages above first_deferred_pfn", ftrace.filter((x) => x.pfn + (1 << x.order) > fd).length, 0);
          if (!ftrace.length) fail.push("no ftrace record pages");
        }
        // SPARSEMEM: a present section's pfn; FLATMEM: ARCH_PFN_OFFSET (x86 0, ARM the start of RAM) to max_mapnr
        const pfnOffset = b.arch === "arm" ? mem0[0]!.start : 0;
        const valid = (pfn: number) =>
          b.sparse
            ? mem0.some((m) => Math.floor(m.start / SECTION) <= Math.floor(pfn / SECTION) && Math.floor((m.end - 1) / SECTION) >= Math.floor(pfn / SECTION))
            : pfn >= pfnOffset && pfn < mem0[mem0.length - 1]!.end;
        const count = (a: number, e: number) => {
          let n = 0;
          for (let p = a; p < e; p++) if (valid(p)) n++;
          return n;
        };
        let hole = 0;
        let last = "";
        for (const m of mem0)
          for (const z of zones) {
            if (!z.present) continue;
            const a = Math.max(m.start, z.startPfn);
            const e = Math.min(m.end, z.startPfn + z.spanned);
            if (a >= e) continue;
            if (hole < a) {
              const n = count(hole, a);
              if (n) unavailable.push(`On node 0, zone ${z.name}: ${n} pages in unavailable ranges`);
            }
            hole = e;
            last = z.name;
          }
        const end = b.sparse ? Math.ceil(hole / SECTION) * SECTION : hole;
        if (hole < end) unavailable.push(`On node 0, zone ${last}: ${count(hole, end)} pages in unavailable ranges`);
        eq(
          "unavailable ranges",
          log.filter((l) => l.includes("pages in unavailable ranges")),
          unavailable,
        );

        // totalram at postcore/subsys time: MemTotal less the frees rootfs_initcall and kernel_init make after them
        // (initrd, decrypted, initmem, the image's gaps), all in the zone that holds the kernel image
        const memTotalKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readProc(k, "meminfo"))![1]);
        const lateKb = log
          .filter((l) => /^Freeing (initrd memory|unused decrypted memory|unused kernel (image|memory))/.test(l))
          .reduce((a, l) => a + kb(l), 0);
        const totalram = (memTotalKb - lateKb) / 4;

        // the atomic DMA pools
        if (b.arch === "x86_64" || b.arch === "arm64") {
          const pages = Math.min(Math.floor(totalram / 8192), 2 ** (b.maxOrder - 1));
          const size = PAGE << Math.min(getOrder(Math.max(pages * PAGE, 128 * 1024)), b.maxOrder - 1);
          const pools = log.filter((l) => l.startsWith("DMA: preallocated"));
          eq("DMA pools", pools.length, 3);
          for (const l of pools) eq("DMA pool", l.replace(/ GFP_KERNEL.* pool/, " pool"), `DMA: preallocated ${size >> 10} KiB pool for atomic allocations`);
        } else if (b.arch === "arm")
          eq(
            "DMA pool",
            log.filter((l) => l.startsWith("DMA: preallocated")),
            ["DMA: preallocated 256 KiB pool for atomic coherent allocations"],
          );

        // swiotlb
        const above4g = k.layout.memory.some((m) => m.end > 2 ** 32);
        const tlb = log.filter((l) => l.startsWith("software IO TLB"));
        const pae = profile.endsWith("pae");
        eq("swiotlb lines", tlb.length, above4g && (b.bits === 64 || pae) ? 1 : 0);
        if (tlb.length) {
          const [, a, e] = /\[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] \(64MB\)$/.exec(tlb[0]!)!.map((x) => parseInt(x, 16));
          // memblock_alloc_low(): below 4 GiB, and below memblock.current_limit (lowmem's end) on 686-pae
          const limit = b.bits === 64 ? 2 ** 32 : k.layout.maxLowPfn * PAGE;
          eq("swiotlb below its limit, 64 MiB", [e! - a!, e! <= limit], [64 * MiB, true]);
          // x86 (no SWIOTLB_VERBOSE) says it at rootfs_initcall pci_iommu_init(), after PCI-DMA's line and the fs_initcalls'
          // hash tables, before the initrd's free; arm64 at mem_init(), before "Memory:"
          const at = log.indexOf(tlb[0]!);
          if (b.arch === "arm64") eq("swiotlb at mem_init", log[at + 1]?.startsWith("Memory: "), true);
          else {
            eq("PCI-DMA line", log[at - 1], "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)");
            eq("swiotlb after the fs_initcalls", at > log.findIndex((l) => l.startsWith("UDP-Lite hash table")), true);
            eq("swiotlb before the initrd's free", at < log.findIndex((l) => l.startsWith("Freeing initrd memory")), true);
          }
        }

        // workingset_init() (device initcall, before the initrd's free): timestamp_bits = BITS_PER_LONG - EVICTION_SHIFT
        // (1 + WORKINGSET_SHIFT 1 + NODES_SHIFT: amd64 10, 686/armmp 0 + MEM_CGROUP_ID_SHIFT 16; the debug build neither),
        // max_order = fls_long(totalram_pages - 1)
        if (b.arch !== "arm64") {
          const tsBits = b.bits - (2 + (config === "debug" ? 0 : (b.arch === "x86_64" ? 10 : 0) + 16));
          const maxOrder = Math.floor(Math.log2(totalram - 1)) + 1;
          eq(
            "workingset",
            log.filter((l) => l.startsWith("workingset: ")),
            [`workingset: timestamp_bits=${tsBits} max_order=${maxOrder} bucket_order=${Math.max(0, maxOrder - tsBits)}`],
          );
          eq(
            "workingset before the initrd's free",
            log.findIndex((l) => l.startsWith("workingset: ")) < log.findIndex((l) => l.startsWith("Freeing initrd memory")),
            true,
          );
        }

        // min_free_kbytes, watermarks, lowmem_reserve, pcp
        const imageZone = zones.findIndex((z) => {
          const pfn = Math.floor(k.layout.image[0]!.phys / PAGE);
          return z.present && pfn >= z.startPfn && pfn < z.startPfn + z.spanned;
        });
        const managedAt = zones.map((z, i) => z.managed - (i === imageZone ? lateKb / 4 : 0));
        const lowIdx = zones.map((z, i) => i).filter((i) => ["DMA", "DMA32", "Normal"].includes(zones[i]!.name));
        const lowmemPages = lowIdx.reduce((a, i) => a + managedAt[i]!, 0);
        const wmarks = (mfk: number) =>
          zones.map((z, i) => {
            const tmp = Math.floor(((mfk >> 2) * managedAt[i]!) / lowmemPages);
            const min = isHigh(z, zones) ? Math.min(Math.max(Math.floor(managedAt[i]! / 1024), 32), 128) : lowIdx.includes(i) ? tmp : 0;
            const step = Math.max(tmp >> 2, Math.floor((managedAt[i]! * 10) / 10000));
            return { min, low: min + step, high: min + 2 * step };
          });
        let mfk = Math.min(Math.max(isqrt(lowmemPages * 4 * 16), 128), 262144);
        if (b.thp && totalram >= (512 * MiB) / PAGE) {
          const nz = lowIdx.filter((i) => zones[i]!.present > 0).length;
          const w = wmarks(mfk);
          const buffer = lowIdx.reduce((a, i) => a + Math.max(0, managedAt[i]! - w[i]!.high), 0);
          const rec = Math.min(b.pageblock * nz * 2 + b.pageblock * nz * 9, Math.floor(buffer / 20)) * 4;
          if (rec > mfk) mfk = rec;
        }
        eq("min_free_kbytes", k.pages.minFreeKbytes, mfk);
        const w = wmarks(mfk);
        const ratio: Record<string, number> = { DMA: 256, DMA32: 256, Normal: 32 };
        zones.forEach((z, i) => {
          if (!z.present) return;
          eq(`${z.name} min, low`, [z.min, z.low], [w[i]!.min, w[i]!.low]);
          const r = ratio[z.name] ?? 0;
          const prot = zones.map((_, j) =>
            j <= i || !r || !managedAt[i] ? 0 : Math.floor(zones.slice(i + 1, j + 1).reduce((a, _z, jj) => a + managedAt[i + 1 + jj]!, 0) / r),
          );
          eq(`${z.name} protection`, z.protection, prot);
          // zone_pcp_update() after the last watermarks: max(1, zone_batchsize()) on the managed pages of then
          let batch = Math.max(1, Math.floor(Math.min(managedAt[i]! >> 10, 256) / 4));
          batch = Math.max(1, 2 ** Math.floor(Math.log2(batch + (batch >> 1))) - 1);
          eq(`${z.name} pcp batch, high`, [z.batch, z.high], [batch, Math.max(w[i]!.low, batch * 4)]);
        });

        expect(fail).toEqual([]);
      });
    }
  });
}

describe("the sweep's arithmetic against the real boots", () => {
  it("gives the real lines at the real sizes (x86_64 512M, i386 1G, armhf 1G)", () => {
    for (const [profile, mem, file] of [
      ["x86_64-6.1", 512, "x86_64-512M-nokaslr.log"],
      ["i386-6.1", 1024, "i386-1G.log"],
      ["arm-6.1-virt", 1024, "armhf-virt-1G.log"],
    ] as const) {
      const real = realSection(file, "dmesg (boot, full)").map((l) => l.replace(/^\[[ \d.]+\] /, ""));
      const k = machine(profile, mem);
      const { nrAll } = freeAreaInit(k, profile, zoneinfo(k));
      expect(real).toContain(`Built 1 zonelists, mobility grouping on.  Total pages: ${nrAll}`);
      expect(real).toContain(k.log.texts(0).find((l) => l.startsWith("workingset: ")));
      for (const l of real.filter((l) => / hash table entries: .*linear\)$/.test(l) && !/^(futex|Table-perturb|TCP bind)/.test(l)))
        expect(k.log.texts(0)).toContain(l);
    }
  });
});

// 2.6.26 (i386-2.6) and 3.4 (arm-3.4-msm8x25): free_area_init_core() sets zone->present_pages to realsize (the zone's
// pages less PAGE_ALIGN(spanned * sizeof(struct page)) of memmap, 32-byte struct page, highmem included) and prints
// "  %s zone: %lu pages used for memmap" and "  %s zone: %lu pages, LIFO batch:%u" (zone_batchsize(): present / 1024,
// at most 512 KiB, / 4, 2^n - 1); "Total pages" is their sum; init_per_zone_pages_min() (module_init, watermarks still
// 0) takes min_free_kbytes = int_sqrt(16 * lowmem realsize in kB) within [128, 65536]; setup_per_zone_pages_min():
// min = pages_min * present / lowmem (highmem: clamp(present / 1024, 32, 128)), low = min + tmp/4, high = min + tmp/2;
// lowmem_reserve[j] = present of the zones above up to j / ratio (DMA 256, Normal 32); setup_pageset(): high = 6 * batch
// with batch = zone_batchsize() (0 for a zone under 4096 pages: high 0), pcp->batch = max(1, batch).
describe("2.6.26 and 3.4: the zone arithmetic of their era at other sizes", () => {
  const zbs = (present: number) => {
    let b = Math.min(Math.floor(present / 1024), 128);
    b = Math.max(1, Math.floor(b / 4));
    return 2 ** Math.floor(Math.log2(b + (b >> 1))) - 1;
  };
  for (const [profile, sizes] of [
    ["i386-2.6", [64, 160, 512, 1024, 2048]],
    ["arm-3.4-msm8x25", [256, 512, 1024]],
  ] as const) {
    for (const mem of sizes) {
      it(`${profile} ${mem}M`, () => {
        const k = machine(profile, mem);
        const log = k.log.texts(0);
        const zi = zoneinfo(k);
        const zones = k.pages.zones.filter((z) => z.present > 0);
        const want: string[] = [];
        let total = 0;
        const real = zones.map((z) => {
          const memmap = Math.ceil((z.spanned * 32) / PAGE);
          const realsize = z.present - memmap;
          want.push(`  ${z.name} zone: ${memmap} pages used for memmap`, `  ${z.name} zone: ${realsize} pages, LIFO batch:${zbs(realsize)}`);
          total += realsize;
          return realsize;
        });
        expect(log.filter((l) => / zone: \d+ pages( used for memmap|, LIFO batch)/.test(l))).toEqual(want);
        expect(log.find((l) => l.includes("Total pages:"))).toMatch(new RegExp(`Total pages: ${total}$`));
        const lowIdx = zones.map((_, i) => i).filter((i) => zones[i]!.name !== "HighMem");
        const lowmem = lowIdx.reduce((a, i) => a + real[i]!, 0);
        const mfk = Math.min(Math.max(isqrt(lowmem * 4 * 16), 128), 65536);
        expect(k.pages.minFreeKbytes).toBe(mfk);
        zones.forEach((z, i) => {
          const info = zi.find((x) => x.name === z.name)!;
          const tmp = Math.floor(((mfk >> 2) * real[i]!) / lowmem);
          const min = z.name === "HighMem" ? Math.min(Math.max(Math.floor(real[i]! / 1024), 32), 128) : tmp;
          expect([info.present, info.min, info.low], z.name).toEqual([real[i], min, min + (tmp >> 2)]);
          const ratio = z.name === "DMA" ? 256 : 32;
          const above = zones.slice(i + 1).reduce((a, _z, j) => a + real[i + 1 + j]!, 0);
          if (i < zones.length - 1) expect(Math.max(...info.protection), `${z.name} protection`).toBe(Math.floor(above / ratio));
          expect([info.high, info.batch], `${z.name} pcp`).toEqual([6 * zbs(real[i]!), Math.max(1, zbs(real[i]!))]);
        });
      });
    }
  }
});
