// The paging variants Debian ships beside the default profiles: the 686-pae flavour (CONFIG_X86_PAE + HIGHMEM64G:
// 3-level tables, 64-bit PTEs and phys_addr_t, 2 MiB PMDs) and 5-level paging on x86_64 (CONFIG_X86_5LEVEL on a
// CPU with LA57, Documentation/x86/x86_64/mm.rst). Figures from the kernel's formulas (kernel-facts.md §1.1, §1.3).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { boot } from "../../../src/kernel/kernel.ts";
import { makeVsprintfEnv } from "../../../src/kernel/kernel/printk.ts";
import { PGTBL_PGD_MODIFIED } from "../../../src/kernel/mm/pgtable.ts";
import { runModule } from "../../../sandbox/run.ts";
import { insmod, during } from "../memory/helpers.ts";
import { fakeBoot } from "./fake.ts";

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const meminfo = (text: string, field: string) => text.split("\n").find((l) => l.startsWith(field + ":"));

describe("i386-6.1-pae: Debian's 686-pae flavour", () => {
  it("VMALLOC_END, PKMAP_BASE and LDT_BASE_ADDR are 2 MiB (PMD_SIZE) aligned down from CPU_ENTRY_AREA_BASE, LAST_PKMAP 512", () => {
    const l = fakeBoot("i386-6.1-pae").layout;
    const PMD = 0x200000n;
    const ldt = (0xff400000n - 4096n) & ~(PMD - 1n);
    const pkmap = (ldt - 4096n) & ~(PMD - 1n);
    expect(l.pkmapBase).toBe(pkmap);
    expect(pkmap).toBe(0xff000000n);
    expect(l.vmallocEnd).toBe(pkmap - 8192n);
    expect(l.lastPkmap).toBe(512);
    expect(l.regions.find((r) => r.name === "pkmap")!.end - pkmap).toBe(512n * 4096n);
    // The non-PAE 686 kernel: 4 MiB alignment, VMALLOC_END 0xfebfe000 (the real i386-1G log); lowmem 4 MiB less.
    const np = fakeBoot("i386-6.1").layout;
    expect(np.vmallocEnd).toBe(0xfebfe000n);
    expect(l.highMemory - np.highMemory).toBe(BigInt(l.vmallocEnd - np.vmallocEnd));
    expect(l.pgtableLevels).toBe(3);
  });
  it("prints 879MB LOWMEM and max_arch_pfn 0x1000000 (36-bit physical addresses)", () => {
    const b = fakeBoot("i386-6.1-pae");
    expect(b.lines).toContain("879MB LOWMEM available.");
    expect(b.lines).toContain("last_pfn = 0x3ffe0 max_arch_pfn = 0x1000000");
    expect(b.lines).toContain("Notice: NX (Execute Disable) protection missing in CPU!");
  });
  it("uses RAM above 4 GiB as highmem, where the non-PAE kernel ignores it", () => {
    const pae = fakeBoot("i386-6.1-pae", { mem: 6 * GiB });
    const np = fakeBoot("i386-6.1", { mem: 6 * GiB });
    // QEMU pc: 3 GiB below 4 GiB (minus the BIOS tables), 3 GiB from 4 GiB.
    expect(pae.layout.maxPfn).toBe((4 * GiB + 3 * GiB) / 4096);
    expect(np.layout.maxPfn).toBeLessThanOrEqual(2 ** 20);
    expect(pae.layout.zones.find((z) => z.name === "HighMem")!.endPfn).toBe(pae.layout.maxPfn);
    const k = boot("i386-6.1-pae", { mem: 6 * GiB, userspace: false });
    expect(k.proc("iomem")).toMatch(/^100000000-1bfffffff : System RAM$/m);
    expect(Number(/HighTotal:\s+(\d+)/.exec(k.proc("meminfo"))![1])).toBeGreaterThan(5 * 1024 * 1024);
  });
  it("walks 3 levels of 8-byte entries: a PDPT entry with only _PAGE_PRESENT, lowmem in 2 MiB PSE pages, vmalloc down to a PTE", () => {
    const k = boot("i386-6.1-pae", { userspace: false });
    expect(k.pgtable.entrySize).toBe(8);
    const w = k.pgtable.walk(0xc1234567n);
    expect(w.steps.map((s) => [s.level, s.folded])).toEqual([
      ["PGD", false],
      ["P4D", true],
      ["PUD", true],
      ["PMD", false],
    ]);
    expect(w.steps[0]!.entry & 0xfffn).toBe(0x001n);
    expect(w.steps[3]!.entry).toBe(0x12001e1n); // kernel text: read-only after mark_rodata_ro
    expect(w.pageSize).toBe(2 * MiB);
    expect(w.pa).toBe(0x1234567);
    const v = k.vmalloc.vmalloc(8192);
    const wv = k.pgtable.walk(v);
    expect(wv.steps.map((s) => s.level)).toEqual(["PGD", "P4D", "PUD", "PMD", "PTE"]);
    expect(wv.steps[3]!.entry & 0xfffn).toBe(0x067n);
    expect(wv.steps[4]!.entry & 0xfffn).toBe(0x163n);
    expect(wv.pa).toBe(k.vmalloc.vmalloc_to_pfn(v) * 4096);
  });
  it("phys_addr_t and dma_addr_t are 64-bit: %pa prints 16 digits", () => {
    expect(makeVsprintfEnv(boot("i386-6.1-pae", { userspace: false })).physAddrBytes).toBe(8);
    expect(makeVsprintfEnv(boot("i386-6.1", { userspace: false })).physAddrBytes).toBe(4);
  });
  it("/proc/meminfo's direct map is in 2 MiB pages (DirectMap2M, no DirectMap4M)", () => {
    const m = boot("i386-6.1-pae", { userspace: false }).proc("meminfo");
    expect(meminfo(m, "DirectMap2M")).toBeDefined();
    expect(meminfo(m, "DirectMap4M")).toBeUndefined();
  });
  it("a NULL write prints dump_pagetable's PAE form (*pdpt, *pde as 16 digits) and a PTI Oops header", () => {
    const k = insmod("i386-6.1-pae", "distro");
    const { lines } = during(k, () => k.mem.writeb(1, 0x10n));
    expect(lines.slice(0, 3)).toEqual([
      "BUG: kernel NULL pointer dereference, address: 00000010",
      "#PF: supervisor write access in kernel mode",
      "#PF: error_code(0x0002) - not-present page",
    ]);
    expect(lines[3]).toMatch(/^\*pdpt = [0-9a-f]{13}001 \*pde = 0000000000000000 $/);
    expect(lines[4]).toBe("Oops: 0002 [#1] PREEMPT SMP PTI");
  });
  it("runs memdemo with no report", async () => {
    const r = await runModule(readFileSync(new URL("../../../examples/memdemo.ts", import.meta.url), "utf8"), {
      profile: "i386-6.1-pae",
      checkInvariants: true,
    });
    expect(r.reports).toEqual([]);
  });
});

describe("x86_64-6.1-la57: 5-level paging", () => {
  it("has mm.rst's 5-level bases, VmallocTotal 13743895347199 kB and max_arch_pfn 2^40", () => {
    const b = fakeBoot("x86_64-6.1-la57");
    const l = b.layout;
    expect(l.pgtableLevels).toBe(5);
    expect(l.pageOffset).toBe(0xff11000000000000n);
    expect(l.vmallocStart).toBe(0xffa0000000000000n);
    expect(l.vmallocEnd).toBe(0xffd1ffffffffffffn);
    expect(l.vmemmapStart).toBe(0xffd4000000000000n);
    expect(l.highMemory).toBe(0xff11000000000000n + BigInt(l.maxPfn) * 4096n);
    expect(b.lines).toContain("last_pfn = 0x1ffe0 max_arch_pfn = 0x10000000000");
    // The image, modules and fixmap do not move.
    expect(l.modulesVaddr).toBe(0xffffffffc0000000n);
    expect(l.image.find((s) => s.name === ".text")!.start).toBe(0xffffffff81000000n);
    const k = boot("x86_64-6.1-la57", { userspace: false });
    expect(meminfo(k.proc("meminfo"), "VmallocTotal")).toBe("VmallocTotal:   13743895347199 kB");
  });
  it("no5lvl on the command line boots 4-level paging, the x86_64-6.1 layout", () => {
    const a = fakeBoot("x86_64-6.1-la57", { cmdline: "console=ttyS0 loglevel=8 nokaslr no5lvl" }).layout;
    const b = fakeBoot("x86_64-6.1").layout;
    expect(a.pgtableLevels).toBe(4);
    expect([a.pageOffset, a.vmallocStart, a.vmallocEnd, a.vmemmapStart]).toEqual([b.pageOffset, b.vmallocStart, b.vmallocEnd, b.vmemmapStart]);
  });
  it("walks five real levels (the P4D is no longer the PGD entry) down to a vmalloc PTE", () => {
    const k = boot("x86_64-6.1-la57", { userspace: false });
    const v = k.vmalloc.vmalloc(4096);
    const w = k.pgtable.walk(v);
    expect(w.steps.map((s) => [s.level, s.folded])).toEqual([
      ["PGD", false],
      ["P4D", false],
      ["PUD", false],
      ["PMD", false],
      ["PTE", false],
    ]);
    expect(w.steps[0]!.entry).not.toBe(w.steps[1]!.entry);
    expect(w.steps[0]!.index).toBe(Number((v >> 48n) & 511n));
    expect(w.pa).toBe(k.vmalloc.vmalloc_to_pfn(v) * 4096);
    expect(k.pgtable.syncMask).toBe(PGTBL_PGD_MODIFIED);
    const d = k.pgtable.walk(0xff11000001234000n);
    expect(d.pa).toBe(0x1234000);
    expect(d.pageSize).toBe(2 * MiB);
  });
  it("KASLR (distro, no nokaslr) moves the regions in P4D_SIZE (512 GiB) steps, in order, inside the window", () => {
    for (let seed = 0; seed < 8; seed++) {
      const l = fakeBoot("x86_64-6.1-la57", { seed, cmdline: "console=ttyS0", config: "distro" }).layout;
      const P4D = 1n << 39n;
      for (const base of [l.pageOffset, l.vmallocStart, l.vmemmapStart!]) expect(base % P4D).toBe(0n);
      expect(l.pageOffset).toBeGreaterThanOrEqual(0xff11000000000000n);
      expect(l.vmallocStart).toBeGreaterThan(l.pageOffset);
      expect(l.vmemmapStart).toBeGreaterThan(l.vmallocEnd);
      expect(l.vmemmapStart).toBeLessThan(0xfffffe0000000000n);
    }
  });
  it("runs memdemo with no report; kmalloc addresses are in the 0xff11 direct map", async () => {
    const r = await runModule(readFileSync(new URL("../../../examples/memdemo.ts", import.meta.url), "utf8"), {
      profile: "x86_64-6.1-la57",
      checkInvariants: true,
    });
    expect(r.reports).toEqual([]);
    const line = r.dmesg.map((l) => (typeof l === "string" ? l : (l as { text: string }).text)).find((l) => /kmalloc\(100/.test(l) && /%px=/.test(l));
    if (line) expect(line).toMatch(/%px=ff11/);
  });
});
