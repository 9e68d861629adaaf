// The range below the real n_tty_open area whose caller the transcripts do not show (mm/vmalloc_boot.ts x86_64Steps):
// what the real dumps say about it, checked on the dumps themselves (test/fixtures/real-kernel, kptr_restrict=1), and
// that the simulator leaves it where they do (i386 as a 710-page vmalloc, x86_64 as address space only).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import "../../../src/kernel/fs/all.ts";

const MiB = 2 ** 20;
const PAGE = 4096n;
const real = (name: string) => readFileSync(new URL(`../../fixtures/real-kernel/${name}`, import.meta.url), "utf8").replace(/\r/g, "");
function dump(text: string): { start: bigint; end: bigint; line: string }[] {
  const i = text.indexOf("===== MEMDEMO-MARK: BEGIN /proc/vmallocinfo (all, before insmod, kptr_restrict=1");
  const s = text.indexOf("\n", i) + 1;
  return text
    .slice(s, text.indexOf("\n\n", s))
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const m = /^0x([0-9a-f]+)-0x([0-9a-f]+) /.exec(line)!;
      return { start: BigInt("0x" + m[1]), end: BigInt("0x" + m[2]), line };
    });
}
/** The free range right below n_tty_open's area, in pages. */
function holeBelowTty(d: ReturnType<typeof dump>): { pages: bigint; start: bigint } {
  const i = d.findIndex((a) => a.line.includes(" n_tty_open+"));
  return { pages: (d[i]!.start - d[i - 1]!.end) / PAGE, start: d[i - 1]!.end };
}

describe("the range below n_tty_open in the real 6.1 dumps", () => {
  it("x86_64 and i386 have the same 711 pages free right below it, starting where the last area ends, not 8 KiB aligned (no ioremap); armmp, which keeps its lazily freed ranges unpurged, has none", () => {
    const x = holeBelowTty(dump(real("x86_64-512M-nokaslr.log")));
    const i = holeBelowTty(dump(real("i386-1G.log")));
    const a = holeBelowTty(dump(real("armhf-virt-1G.log")));
    expect([x.pages, i.pages, a.pages]).toEqual([711n, 711n, 0n]);
    for (const h of [x, i]) expect(h.start % 8192n).toBe(4096n);
    expect(real("armhf-virt-1G.log")).toContain(" unpurged vm_area");
    expect(real("x86_64-512M-nokaslr.log")).not.toContain(" unpurged vm_area");
  });

  it("the simulator puts n_tty_open above the range on both (i386: a 710-page vmalloc, x86_64: address space only), as the real dumps", () => {
    const sim = (profile: string, mem: number) =>
      dump(
        "===== MEMDEMO-MARK: BEGIN /proc/vmallocinfo (all, before insmod, kptr_restrict=1)\n" +
          boot(profile, { mem: mem * MiB, config: "distro" }).proc("vmallocinfo") +
          "\n\n",
      );
    const s386 = sim("i386-6.1", 1024);
    const sx = sim("x86_64-6.1", 512);
    expect([holeBelowTty(s386).pages, holeBelowTty(sx).pages]).toEqual([711n, 711n]);
    const tty = (d: typeof sx) => d.find((a) => a.line.includes(" n_tty_open+"))!.start;
    expect(tty(sx)).toBe(tty(dump(real("x86_64-512M-nokaslr.log"))));
    expect(tty(s386)).toBe(tty(dump(real("i386-1G.log"))));
  });
});
