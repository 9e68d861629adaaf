// i386's HighMem after boot, against the real 686 boot at 1 GiB (test/fixtures/real-kernel/i386-1G.log): the boot
// replay's vmalloc frees come after the initcalls (mm/vmalloc_boot.ts "afterInitcalls"), when the per-CPU lists'
// high follows the watermarks (HighMem: 506), so the 69 pages they free stay on the Unmovable per-CPU list. Before,
// they ran at the boot pageset's high (4 x batch: 28) and went back to the buddy lists in fragments, and the 711-page
// range below n_tty_open held HighMem pages of its own; the real pagetypeinfo has room for neither.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { boot } from "../../../src/kernel/kernel.ts";
import "../../../src/kernel/fs/all.ts";

const MiB = 2 ** 20;
// the log's one /proc/pagetypeinfo dump, before insmod
const realLog = readFileSync(new URL("../../fixtures/real-kernel/i386-1G.log", import.meta.url), "utf8").replace(/\r/g, "");
const MEMDEMO_BYTES = readFileSync(new URL("../../fixtures/real-kernel/memdemo.c", import.meta.url)).length;

/** pagetypeinfo's free-block counts of one zone and type, by order. */
const typeRow = (pagetypeinfo: string, zone: string, type: string) =>
  new RegExp(`zone\\s+${zone}, type\\s+${type}\\s+([\\d ]+)`).exec(pagetypeinfo)![1]!.trim().split(/\s+/).map(Number);
const pages = (row: number[]) => row.reduce((a, n, order) => a + n * 2 ** order, 0);

describe("i386-6.1 1G: HighMem's Unmovable pages after boot", () => {
  const k = boot("i386-6.1", { mem: 1024 * MiB, config: "distro" });
  const realRow = typeRow(realLog, "HighMem", "Unmovable");
  const row = typeRow(k.proc("pagetypeinfo"), "HighMem", "Unmovable");

  it("the Unmovable free lists are one pageblock's tail above a used prefix: the real orders from 5 up, and a prefix of the real size within 10 %", () => {
    // real: 0 1 1 1 0 1 1 0 1 1 0 (the pageblock at 0x3f800: 148 frames out of the buddy lists, the rest free)
    expect(row.slice(5)).toEqual(realRow.slice(5));
    const blocks = 2; // HighMem's partial first pageblock (2 frames) and the stolen one (1024)
    const out = (r: number[]) => 1024 + blocks - pages(r);
    expect(Math.abs(out(row) - out(realRow))).toBeLessThan(0.1 * out(realRow));
  });

  it("the 69 pages the boot freed sit on the Unmovable per-CPU list (high 506), not back in the buddy lists", () => {
    const zi = k.pages.zones.findIndex((z) => z.name === "HighMem");
    const [set] = k.pages.pagesets(zi);
    expect(set!.high).toBe(506);
    expect(set!.count).toBeGreaterThanOrEqual(69);
    expect(set!.count).toBeLessThan(set!.high);
  });

  it("a memdemo-sized module's vmalloc(1000000) starts with one ascending run of its .ko copy's pages (taken from the list's head, freed back in page order), as the real module's pages ascend", () => {
    const m = boot("i386-6.1", { mem: 1024 * MiB, config: "distro" });
    m.current = { pid: 108, comm: "insmod" } as never;
    m.modules.load("cell", "OE");
    m.modules.loadImage(MEMDEMO_BYTES);
    const v = m.vmalloc.vmalloc(1000000);
    const pfns = Array.from({ length: 245 }, (_, i) => m.vmalloc.vmalloc_to_pfn(v + BigInt(i) * 4096n));
    // the real one: 0x3f84b, 0x3f84c, ... 245 frames in a row
    let run = 1;
    while (run < pfns.length && pfns[run] === pfns[run - 1]! + 1) run++;
    const copyPages = Math.ceil((MEMDEMO_BYTES * 14) / 4096);
    expect(run).toBeGreaterThanOrEqual(copyPages);
    expect(pfns.every((p) => p >= 0x36bfe && p < 0x3ffe0)).toBe(true);
  });
});

// armhf: the crypto self-test's 65-page scratch range is freed before zswap's pair is allocated (mm/vmalloc_boot.ts
// arm61Steps), so that pair takes its pages back and the Unmovable per-CPU list is near empty at insmod: the module's
// .ko copy comes from the buddy lists in ascending order, its vfree() leaves the last page at the list's head, and
// the module's vmalloc walks down it. The real armhf module's pages descend from 0x7e8f0 (0x7e8f0, 0x7e8ef, ...).
describe("arm-6.1-virt 1G: a memdemo-sized module's vmalloc(1000000)", () => {
  it("starts with a descending run of the .ko copy's pages in HighMem, near the real module's first page", () => {
    const m = boot("arm-6.1-virt", { mem: 1024 * MiB, config: "distro" });
    m.current = { pid: 108, comm: "insmod" } as never;
    m.modules.load("cell", "OE");
    m.modules.loadImage(MEMDEMO_BYTES);
    const v = m.vmalloc.vmalloc(1000000);
    const pfns = Array.from({ length: 245 }, (_, i) => m.vmalloc.vmalloc_to_pfn(v + BigInt(i) * 4096n));
    let run = 1;
    while (run < pfns.length && pfns[run] === pfns[run - 1]! - 1) run++;
    expect(run).toBeGreaterThanOrEqual(40);
    expect(Math.abs(pfns[0]! - 0x7e8f0)).toBeLessThan(64);
  });
});
