// pageblock_nr_pages and HPAGE_SIZE per build (mm/zone.ts): the real logs' "Page block order" (amd64 9, 686 10,
// armmp 11, the custom debug amd64 10) and PAE's 2 MiB huge pages (HPAGE_SHIFT = PMD_SHIFT = 21 with PAE).
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import "../../../src/kernel/fs/all.ts";
import { readProc } from "../../../src/kernel/fs/proc.ts";
import { PROFILES } from "../../../src/kernel/profiles.ts";
import { hugepageKb, pageblockNrPages } from "../../../src/kernel/mm/zone.ts";
import { realLog } from "../real-kernel.ts";

const prof = (name: string) => PROFILES.find((p) => p.name === name)!;
const blockOrder = (log: string) => Number(/Page block order: (\d+)/.exec(realLog(log).join("\n"))![1]);

describe("pageblock_nr_pages and Hugepagesize", () => {
  it("the real transcripts' Page block order: amd64 9, 686 10, armmp 11, custom debug amd64 10", () => {
    expect(Math.log2(pageblockNrPages(prof("x86_64-6.1"), false))).toBe(blockOrder("x86_64-512M-nokaslr.log"));
    expect(Math.log2(pageblockNrPages(prof("i386-6.1"), false))).toBe(blockOrder("i386-1G.log"));
    expect(Math.log2(pageblockNrPages(prof("arm-6.1-virt"), false))).toBe(blockOrder("armhf-virt-1G.log"));
    expect(Math.log2(pageblockNrPages(prof("x86_64-6.1"), true))).toBe(blockOrder("x86_64-custom-debugatomic-512M-nokaslr.log"));
  });
  it("686-pae: HPAGE_SHIFT is PMD_SHIFT 21, so 512-page pageblocks and Hugepagesize 2048 kB (non-PAE 4096 kB)", () => {
    expect(pageblockNrPages(prof("i386-6.1-pae"), false)).toBe(512);
    expect(hugepageKb(prof("i386-6.1-pae"))).toBe(2048);
    expect(hugepageKb(prof("i386-6.1"))).toBe(4096);
    for (const [p, kb] of [
      ["i386-6.1-pae", 2048],
      ["i386-6.1", 4096],
      ["x86_64-6.1", 2048],
    ] as const) {
      const mi = readProc(boot(p, { mem: 2048 * 2 ** 20, config: "distro" }), "meminfo");
      expect(/^Hugepagesize:\s+(\d+) kB/m.exec(mi)![1]).toBe(String(kb));
    }
  });
});
