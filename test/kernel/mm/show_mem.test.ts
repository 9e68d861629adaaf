// Mem-Info (mm/show_mem.ts, lib/show_mem.c __show_free_areas()): the node counters are global_node_page_state(), the
// same counters /proc/meminfo prints, and each zone's LRU pages add up to the node's. The real x86_64 boot's Mem-Info
// (during its insmod, test/fixtures/real-kernel) prints "shmem:575" and "575 total pagecache pages": its initramfs.
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { showMem } from "../../../src/kernel/mm/show_mem.ts";
import "../../../src/kernel/fs/all.ts";
import { realSection } from "../real-kernel.ts";

const M = 2 ** 20;

function memInfo(k: ReturnType<typeof boot>): string[] {
  const from = k.log.records.length;
  showMem(k.pages, k.pages.zones.length - 1);
  return k.log.records.slice(from).flatMap((r) => r.text.split("\n"));
}
const meminfoPages = (k: ReturnType<typeof boot>) => {
  const m = new Map([...k.proc("meminfo").matchAll(/^([\w()]+):\s+(\d+)/gm)].map((x) => [x[1]!, Number(x[2])]));
  return (f: string) => m.get(f)! / 4;
};
const field = (lines: string[], name: string) => Number(new RegExp(`(?:^|\\s)${name.replace(/[()]/g, "\\$&")}:(\\d+)`).exec(lines.join("\n"))![1]);

describe("Mem-Info's node counters are /proc/meminfo's", () => {
  for (const [profile, mib] of [
    ["x86_64-6.1", 512],
    ["i386-6.1", 1024],
    ["arm-6.1-virt", 1024],
    ["i386-2.6", 160],
  ] as const) {
    it(`${profile} ${mib}M: the LRU, slab, mapped, shmem and pagetables lines and the page cache total as meminfo counts them (they printed 0, and every page-table page)`, () => {
      const k = boot(profile, { mem: mib * M, config: "distro" });
      const mi = meminfoPages(k);
      const lines = memInfo(k);
      const top = lines.filter((l) => !/^(Node 0 )?\w+ free:/.test(l) && !l.startsWith("Node 0 active_anon"));
      for (const [f, m] of [
        ["active_anon", "Active(anon)"],
        ["inactive_anon", "Inactive(anon)"],
        ["active_file", "Active(file)"],
        ["inactive_file", "Inactive(file)"],
        ["slab_reclaimable", "SReclaimable"],
        ["slab_unreclaimable", "SUnreclaim"],
        ["mapped", "Mapped"],
        ["pagetables", "PageTables"],
      ])
        expect(field(top, f), `${profile} ${f}`).toBe(mi(m));
      expect(lines).toContain(`${mi("Cached")} total pagecache pages`);
      if (profile.endsWith("6.1") || profile.endsWith("virt")) {
        expect(field(top, "shmem")).toBe(mi("Shmem"));
        const node = lines.find((l) => l.startsWith("Node 0 active_anon:"))!;
        expect(node).toContain(` kernel_stack:${mi("KernelStack") * 4}kB `);
        expect(node).toContain(` pagetables:${mi("PageTables") * 4}kB `);
        // the zones' LRU pages add up to the node's
        const zoneAnon = lines.filter((l) => / free:\d+kB boost:/.test(l)).reduce((a, l) => a + Number(/ active_anon:(\d+)kB/.exec(l)![1]), 0);
        expect(zoneAnon).toBe(mi("Active(anon)") * 4);
      }
    });
  }

  it("x86_64 512M: the initramfs's page cache, as the real boot's Mem-Info prints it (shmem:575, 575 total pagecache pages)", () => {
    const real = realSection("x86_64-512M-nokaslr.log", "dmesg after insmod (full ring since clear)");
    const k = boot("x86_64-6.1", { mem: 512 * M, config: "distro" });
    const lines = memInfo(k);
    expect(field(lines, "shmem")).toBe(field(real, "shmem"));
    const total = (ls: string[]) => ls.find((l) => / total pagecache pages$/.test(l))!.replace(/^\[\s*\d+\.\d+\] /, "");
    expect(total(lines)).toBe(total(real));
  });
});
