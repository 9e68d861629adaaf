// The boot log after the SLUB line (init/ftrace.ts, init/large_hash.ts, mm/page_alloc.ts printHighmemInit, the bounce pool of init/uncounted_pages.ts,
// kernel/dma_pool.ts): ftrace's record pages, pid_max, the page-allocator hash tables of mnt_init, futex_init,
// dquot_init and the network stack, the DMA pools and i386's "Initializing HighMem". At the real boots' sizes: the
// real lines, byte for byte and in order. At other sizes: each table's entry count as alloc_large_system_hash()
// computes it, recomputed here from nr_kernel_pages (the log's "Total pages" less the highmem zone's pages and memmap),
// not read back from the simulator's sizing.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import "../../src/kernel/fs/all.ts";
import { readProc } from "../../src/kernel/fs/proc.ts";

const MiB = 2 ** 20;
const PAGE = 4096;
const real = (name: string) => readFileSync(new URL(`../fixtures/real-kernel/${name}`, import.meta.url), "utf8");
const section = (log: string, title: string) => {
  const i = log.indexOf("===== MEMDEMO-MARK: BEGIN " + title);
  const s = log.indexOf("\n", i) + 1;
  return log.slice(s, log.indexOf("===== MEMDEMO-MARK:", s));
};
const strip = (l: string) => l.replace(/^\[\s*\d+\.\d+\] /, "").replace(/\r$/, "");
const WANTED =
  /hash table entries|^ftrace: |^pid_max: |^DMA: preallocated|^Initializing (HighMem|Movable) |^TCP: Hash tables configured|^setup_percpu: |^percpu: |^pcpu-alloc: |^node \d+ deferred pages initialised in |^bounce: |^PM: hibernation: Registered nosave memory: |available for PCI devices$|^e820: reserve RAM buffer |^x86\/mm: Memory block size: |^mem auto-init: |^HugeTLB: |^zswap: /;
// deferred_init_memmap()'s line says how long it took (jiffies_to_msecs): wall time on the real machine, not compared
const pick = (lines: string[]) =>
  lines
    .map(strip)
    .filter((l) => WANTED.test(l))
    .map((l) => l.replace(/^(node \d+ deferred pages initialised in )\d+ms$/, "$1Nms"));

describe("the boot log after SLUB: the real boots' lines", () => {
  for (const b of [
    { log: "x86_64-512M-nokaslr.log", profile: "x86_64-6.1", mem: 512 },
    { log: "i386-1G.log", profile: "i386-6.1", mem: 1024 },
    { log: "armhf-virt-1G.log", profile: "arm-6.1-virt", mem: 1024 },
  ]) {
    it(`${b.profile} ${b.mem}M: x86's nosave regions, PCI gap and RAM buffers, the percpu first chunk, ftrace, pid_max, every hash table, x86_64's deferred struct page init and memory block size, the DMA pools, mem auto-init, HugeTLB and Initializing HighMem as ${b.log}, in order`, () => {
      const want = pick(section(real(b.log), "dmesg (boot, full)").split("\n"));
      expect(want.length).toBeGreaterThan(14);
      const k = boot(b.profile, { mem: b.mem * MiB, config: "distro" });
      expect(pick(k.log.texts(0))).toEqual(want);
    });
  }
});

describe("hugetlb_init()'s report (mm/hugetlb.c report_hugepages, 6.1)", () => {
  it("QEMU -cpu max has GBPAGES: the la57 profile registers the 1 GiB hstate first (an arch_initcall), its 262144 struct pages less one vmemmap page freeable; the default 2 MiB one after", () => {
    const k = boot("x86_64-6.1-la57", { mem: 1024 * MiB, config: "distro", userspace: false });
    expect(
      k.log
        .texts(0)
        .map(strip)
        .filter((l) => l.startsWith("HugeTLB: "))
        .map((l) => l.trim()),
    ).toEqual([
      "HugeTLB: registered 1.00 GiB page size, pre-allocated 0 pages",
      "HugeTLB: 16380 KiB vmemmap can be freed for a 1.00 GiB page",
      "HugeTLB: registered 2.00 MiB page size, pre-allocated 0 pages",
      "HugeTLB: 28 KiB vmemmap can be freed for a 2.00 MiB page",
    ]);
  });
});

describe("x86's e820 lines at a size the real boots were not made at (arch/x86/kernel/e820.c, 6.1)", () => {
  it("6 GiB on QEMU pc: the hole below 4 GiB is a third nosave region and the PCI gap starts at 3 GiB; the RAM above 4 GiB ends 64 MiB aligned, so it has no RAM buffer", () => {
    const k = boot("x86_64-6.1", { mem: 6144 * MiB, config: "distro", userspace: false });
    expect(
      k.log
        .texts(0)
        .map(strip)
        .filter((l) => /nosave|available for PCI|RAM buffer/.test(l))
        .map((l) => l.trim()),
    ).toEqual([
      "PM: hibernation: Registered nosave memory: [mem 0x00000000-0x00000fff]",
      "PM: hibernation: Registered nosave memory: [mem 0x0009f000-0x000fffff]",
      "PM: hibernation: Registered nosave memory: [mem 0xbffe0000-0xffffffff]",
      "[mem 0xc0000000-0xfffbffff] available for PCI devices",
      "e820: reserve RAM buffer [mem 0x0009fc00-0x0009ffff]",
      "e820: reserve RAM buffer [mem 0xbffe0000-0xbfffffff]",
    ]);
  });
});

/** alloc_large_system_hash()'s entry count (mm/page_alloc.c, 6.1), written out again for the test. */
function entries(nrKernel: number, nrAll: number, bucket: number, scale: number, low: number, high: number, fixed = 0): number {
  let n = fixed;
  if (!n) {
    n = Math.ceil(nrKernel / 256) * 256; // round_up to 1 MiB of pages
    n = scale > 12 ? n >> (scale - 12) : n << (12 - scale);
    if (n * bucket < PAGE) n = PAGE / bucket;
  }
  n = 1 << Math.ceil(Math.log2(n));
  const max = high || Math.floor((nrAll * PAGE) / 16 / bucket);
  n = Math.max(n, low);
  n = Math.min(n, max);
  return 1 << Math.floor(Math.log2(n));
}

describe("the hash tables at sizes the real boots were not made at", () => {
  const cases: [string, number][] = [
    ["x86_64-6.1", 128],
    ["x86_64-6.1", 2048],
    ["x86_64-6.1", 3072],
    ["x86_64-6.1", 8192],
    ["x86_64-6.1-la57", 4096],
    ["i386-6.1", 256],
    ["i386-6.1", 2048],
    ["i386-6.1", 4096],
    ["i386-6.1-pae", 8192],
    ["arm-6.1-virt", 256],
    ["arm-6.1-virt", 2048],
  ];
  for (const [profile, mem] of cases) {
    it(`${profile} ${mem}M: Dentry, Inode, Mount, IP idents, TCP, MPTCP and UDP entries follow nr_kernel_pages`, () => {
      const k = boot(profile, { mem: mem * MiB, config: "distro" });
      const log = k.log.texts(0);
      const total = Number(/Total pages: (\d+)/.exec(log.join("\n"))![1]);
      const w = k.layout.bits === 64 ? 8 : 4;
      const spage = k.profile.arch === "x86_64" ? 64 : k.profile.arch === "arm" ? 36 : 40; // the real logs' sizeof(struct page)
      // nr_kernel_pages: Total pages (nr_all_pages) less the highmem zone's freesize (its present pages: no memmap
      // charged there) and, when lowmem is large enough, less that zone's memmap
      const zi = readProc(k, "zoneinfo");
      const hm = /zone\s+HighMem\n(?:.*\n)*?\s+spanned\s+(\d+)\n\s+present\s+(\d+)/.exec(zi);
      let nrKernel = total;
      if (hm && Number(hm[2]) > 0) {
        nrKernel -= Number(hm[2]);
        const memmap = Math.ceil((Number(hm[1]) * spage) / PAGE);
        if (nrKernel > 2 * memmap) nrKernel -= memmap;
      }
      const got = (name: string) => Number(new RegExp(`^${name} hash table entries: (\\d+) `).exec(log.find((l) => l.startsWith(name + " hash table"))!)![1]);
      const lockHead = w === 8 ? 16 : 8;
      expect(got("Dentry cache")).toBe(entries(nrKernel, total, w, 13, 0, 0));
      expect(got("Inode-cache")).toBe(entries(nrKernel, total, w, 14, 0, 0));
      expect(got("Mount-cache")).toBe(entries(nrKernel, total, w, 19, 0, 0));
      expect(got("Mountpoint-cache")).toBe(entries(nrKernel, total, w, 19, 0, 0));
      expect(got("futex")).toBe(256 * k.profile.nrCpus);
      expect(got("IP idents")).toBe(entries(nrKernel, total, 8, 16, 2048, 256 * 1024));
      expect(got("tcp_listen_portaddr_hash")).toBe(entries(nrKernel, total, lockHead, 21, 0, 64 * 1024));
      const est = entries(nrKernel, total, w, 17, 0, 512 * 1024);
      expect(got("TCP established")).toBe(est);
      expect(got("TCP bind")).toBe(entries(nrKernel, total, 2 * lockHead, 17, 0, 64 * 1024, est));
      expect(log).toContain(`TCP: Hash tables configured (established ${est} bind ${got("TCP bind")})`);
      expect(got("MPTCP token")).toBe(entries(nrKernel, total, w === 8 ? 24 : 16, 20, 0, 64 * 1024));
      expect(got("UDP")).toBe(entries(nrKernel, total, 32, 21, 256, 64 * 1024));
      expect(got("UDP-Lite")).toBe(got("UDP"));
      // bytes and order as alloc_large_system_hash prints them
      for (const l of log.filter((x) => / hash table entries: \d+ \(order: /.test(x))) {
        const [, n, order, bytes] = /entries: (\d+) \(order: (\d+), (\d+) bytes/.exec(l)!.map(Number);
        expect(Math.ceil(Math.log2(bytes / PAGE))).toBe(Math.max(0, order));
        expect(bytes % n).toBe(0);
      }
    });
  }

  it("each table is a block from the page allocator (alloc_pages_exact: get_order(size) pages), not memblock", () => {
    for (const [profile, mem] of [
      ["x86_64-6.1", 2048],
      ["i386-6.1", 256],
    ] as const) {
      const k = boot(profile, { mem: mem * MiB, config: "distro" });
      const lines = k.log.texts(0).filter((l) => / hash table entries: .*linear\)$/.test(l) && !/^(Dentry cache|Inode-cache) /.test(l));
      const want = lines.map((l) => Math.ceil(Math.log2(Number(/, (\d+) bytes/.exec(l)![1]) / PAGE)));
      const got = k.pages.allocations().filter((a) => a.caller === "alloc_large_system_hash");
      expect(got.map((a) => a.order).sort()).toEqual(want.map((o) => Math.max(0, o)).sort());
    }
  });

  it("the percpu first chunk's pages per CPU are the arch's memblock percpu reservation (pcpu_fc_alloc), at any size", () => {
    for (const [profile, mem] of [
      ["x86_64-6.1", 2048],
      ["i386-6.1", 3072],
      ["arm-6.1-virt", 256],
    ] as const) {
      const k = boot(profile, { mem: mem * MiB, config: "distro" });
      const pages = Number(/percpu: Embedded (\d+) pages\/cpu/.exec(k.log.texts(0).join("\n"))![1]);
      const resv = k.layout.reservations.filter((r) => /percpu/i.test(r.what)).reduce((a, r) => a + r.end - r.start, 0);
      expect(pages * PAGE * k.profile.nrCpus).toBe(resv);
      // s + r + d = the pages, the unit a multiple of the atom
      const [, s, r, d, u] = /s(\d+) r(\d+) d(\d+) u(\d+)$/.exec(k.log.texts(0).find((l) => l.startsWith("percpu: Embedded"))!)!.map(Number);
      expect(s + r + d).toBe(pages * PAGE);
      expect(u % PAGE).toBe(0);
    }
  });
});
