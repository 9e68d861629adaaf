// /proc/meminfo's DirectMap lines as the kernel leaves them: direct_pages_count[] from the page tables (the ISA range
// and RAM, large pages where aligned, no PCI hole), then the splits x86's set_memory_*() make (free_init_pages,
// mark_rodata_ro, bpf_prog_pack / bpf_prog_lock_ro, module_enable_ro, vm_reset_perms). Exact against the real boots.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import { realSection } from "./real-kernel.ts";

const GiB = 2 ** 30;
const field = (text: string | string[], name: string) => {
  const lines = typeof text === "string" ? text.split("\n") : text;
  const l = lines.find((x) => x.startsWith(name + ":"));
  return l === undefined ? undefined : Number(/(\d+) kB/.exec(l)![1]);
};
const realBefore = (log: string) => realSection(log, "/proc/meminfo");

describe("DirectMap splits (x86 set_memory_*)", () => {
  it("x86_64 512M: DirectMap4k and DirectMap2M are the real (distro) boot's, exactly; the debug kernel maps the same RAM", () => {
    const real = realBefore("x86_64-512M-nokaslr.log");
    const m = boot("x86_64-6.1", { config: "distro" }).proc("meminfo");
    // the 2 MiB bpf_prog_pack's 512 pages come off the boot's unmovable frontier in one run (the slab replay in time
    // order with the boot's other allocations: mm/slub.ts planBoot61), so they straddle two 2 MiB ranges, as on the
    // real boot: both split by set_memory_rox's alias
    expect(field(m, "DirectMap4k")).toBe(field(real, "DirectMap4k"));
    expect(field(m, "DirectMap2M")).toBe(field(real, "DirectMap2M"));
    // the debug kernel's boot allocates differently (KASAN, slub_debug): its bpf_prog_pack pages come off the per-CPU
    // lists from more 2 MiB ranges, each split by set_memory_rox's alias; the mapped total is the same
    const d = boot("x86_64-6.1", { config: "debug" }).proc("meminfo");
    const n = (t: string | string[], f: string) => Number(field(t, f));
    expect(n(d, "DirectMap4k") + n(d, "DirectMap2M")).toBe(n(real, "DirectMap4k") + n(real, "DirectMap2M"));
    expect(n(d, "DirectMap4k")).toBeGreaterThanOrEqual(n(real, "DirectMap4k"));
    expect((n(d, "DirectMap4k") - n(real, "DirectMap4k")) % 2048).toBe(0);
  });
  it("i386 1G: DirectMap4k and DirectMap4M are the real boot's, exactly (one 4 MiB page split at __end_rodata)", () => {
    const real = realBefore("i386-1G.log");
    const m = boot("i386-6.1", { config: "distro" }).proc("meminfo");
    expect(field(m, "DirectMap4k")).toBe(field(real, "DirectMap4k"));
    expect(field(m, "DirectMap4M")).toBe(field(real, "DirectMap4M"));
  });
  it("the splits come from the mechanism: each is 512 (x86_64) PTEs in place of one 2 MiB page, and the total is the mapped RAM", () => {
    for (const mem of [160, 512, 3000, 6144].map((m) => m * 2 ** 20)) {
      const k = boot("x86_64-6.1", { mem, config: "distro", userspace: false });
      const m = k.proc("meminfo");
      const small = field(m, "DirectMap4k")! / 4;
      const large = field(m, "DirectMap2M")! / 2048;
      // [0, 1 MiB) always, then RAM: the e820 holes (the PCI hole below 4 GiB included) are not mapped.
      let ram = 0x100000;
      for (const r of k.layout.memory) ram += Math.max(0, r.end - Math.max(r.start, 0x100000));
      expect((small + large * 512) * 4096).toBe(ram);
      // What the boot maps in 4 KiB pages without any split: [0, 2 MiB) and the unaligned tails of the RAM ranges.
      expect((small - 512) % 512).toBe((k.layout.memory.filter((r) => r.end > 0x200000).reduce((s, r) => s + ((r.end % 0x200000) / 4096 || 0), 0) + 0) % 512);
    }
  });
  it("above 4 GiB the PCI hole is not in the direct map (6 GiB: 3 GiB below the hole, 3 GiB above)", () => {
    const k = boot("x86_64-6.1", { mem: 6 * GiB, config: "distro", userspace: false });
    const m = k.proc("meminfo");
    const total = field(m, "DirectMap4k")! + field(m, "DirectMap2M")!;
    expect(total).toBe(6 * 1024 * 1024 - 128); // SeaBIOS's 128 KiB of tables at the top of low RAM
    expect(k.pgtable.walk(k.layout.pageOffset + 0xd0000000n).pa).toBe(-1);
    expect(k.pgtable.walk(k.layout.pageOffset + 0x100000000n).pa).toBe(0x100000000);
  });
  it("mark_rodata_ro leaves the direct-map alias of kernel text read-only and the freed gap read-write, in 4 KiB pages", () => {
    const k = boot("x86_64-6.1", { config: "distro", userspace: false });
    const text = k.layout.image.find((s) => s.name === ".text")!;
    const etext = text.phys + Number(text.end - text.start);
    const alias = (pa: number) => k.layout.pageOffset + BigInt(pa);
    const inText = k.pgtable.walk(alias(etext - 0x100));
    expect([inText.pageSize, inText.writable]).toEqual([4096, false]);
    const gap = k.pgtable.walk(alias(Math.ceil(etext / 4096) * 4096 + 0x1000));
    expect([gap.pageSize, gap.writable]).toEqual([4096, true]);
    expect(k.pgtable.walk(alias(text.phys)).pageSize).toBe(2 * 2 ** 20); // whole 2 MiB pages stay large, read-only
    expect(k.pgtable.walk(alias(text.phys)).writable).toBe(false);
  });
  it("loading a module makes its text read-only through the direct map: a large page holding it is split once", () => {
    const k = boot("x86_64-6.1", { config: "distro", userspace: false });
    const before = k.pgtable.directPages.small;
    const v = k.vmalloc.module_alloc(4 * 4096, "load_module+0x0/0x0");
    const pfns = [0, 1, 2, 3].map((i) => k.vmalloc.vmalloc_to_pfn(v + BigInt(i) * 4096n));
    const aliasWalk = (pfn: number) => k.pgtable.walk(k.layout.pageOffset + BigInt(pfn) * 4096n);
    const largeBefore = new Set(pfns.filter((p) => aliasWalk(p).pageSize > 4096).map((p) => p >> 9));
    k.pgtable.changeAttr(v, 4, { rw: false }, true);
    for (const p of pfns) expect([aliasWalk(p).writable, aliasWalk(p).pageSize]).toEqual([false, 4096]);
    expect(k.pgtable.directPages.small - before).toBe(512 * largeBefore.size);
    // vfree of a VM_FLUSH_RESET_PERMS area gives the alias back read-write (still split).
    k.vmalloc.vfree(v);
    for (const p of pfns) expect([aliasWalk(p).writable, aliasWalk(p).pageSize]).toEqual([true, 4096]);
  });
});
