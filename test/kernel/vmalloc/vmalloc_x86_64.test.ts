// vmalloc on the x86_64-6.1 profile, checked against the real Debian 6.1 boot (test/fixtures/real-kernel).
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";

const CALLER = "memdemo_main+0x27c/0xb7e [memdemo]";

describe("vmalloc on x86_64-6.1", () => {
  it("vmalloc(1000000) is 245 pages plus the guard page (1007616 bytes), virtually contiguous, physically scattered", () => {
    const k = boot("x86_64-6.1");
    // Fragment physical memory first (every other page of a run stays taken): vmalloc does not care.
    const held: number[] = [];
    for (let i = 0; i < 600; i++) held.push(k.pages.alloc_pages(0xcc0, 0));
    held.forEach((pfn, i) => i % 2 && k.pages.__free_pages(pfn, 0));
    const a = k.vmalloc.vmalloc(1000000, { caller: CALLER });
    expect(a).not.toBe(0n);
    expect(k.vmalloc.is_vmalloc_addr(a)).toBe(true);
    const vm = k.vmalloc.find_vm_area(a)!;
    expect(vm.size).toBe(1007616);
    expect(vm.nr_pages).toBe(245);
    const line = k
      .proc("vmallocinfo")
      .split("\n")
      .find((l) => l.includes("memdemo_main"))!;
    const end = a + 1007616n;
    expect(line).toBe(`0x${a.toString(16)}-0x${end.toString(16)} 1007616 ${CALLER} pages=245 vmalloc N0=245`);
    // Every page translates through the tables to the frame the area holds, and vmalloc_to_pfn agrees with walk().
    const pfns: number[] = [];
    for (let i = 0; i < 245; i++) {
      const va = a + BigInt(i * 4096);
      const w = k.pgtable.walk(va + 5n);
      expect(w.pageSize).toBe(4096);
      expect(w.pa).toBe(vm.pages![i]! * 4096 + 5);
      expect(k.vmalloc.vmalloc_to_pfn(va)).toBe(vm.pages![i]);
      pfns.push(k.vmalloc.vmalloc_to_pfn(va));
    }
    const contiguous = pfns.every((p, i) => i === 0 || p === pfns[i - 1]! + 1);
    expect(new Set(pfns).size).toBe(245);
    expect(contiguous).toBe(false);
    // The guard page is not mapped.
    expect(k.pgtable.translate(a + 245n * 4096n)).toBe(-1);
    expect(k.vmalloc.checkInvariants()).toEqual([]);
  });

  it("walk() reports PGD, folded P4D, PUD, PMD and a PAGE_KERNEL PTE with NX, as dump_pagetable prints them", () => {
    const k = boot("x86_64-6.1");
    const a = k.vmalloc.vmalloc(8192, { caller: CALLER });
    const w = k.pgtable.walk(a);
    expect(w.steps.map((s) => s.level)).toEqual(["PGD", "P4D", "PUD", "PMD", "PTE"]);
    expect(w.steps[1]!.entry).toBe(w.steps[0]!.entry);
    expect(w.steps[1]!.folded).toBe(true);
    for (const s of w.steps.slice(0, 4)) expect(Number(s.entry & 0xfffn)).toBe(0x067);
    const pte = w.steps[4]!.entry;
    expect(pte & 0x8000000000000fffn).toBe(0x8000000000000163n);
    expect(w.writable).toBe(true);
    expect(w.executable).toBe(false);
    // Table entries point at the next table's frame, whose owner is PageTable.
    expect(w.steps[2]!.tablePhys).toBe(w.steps[0]!.nextTablePhys);
    // A non-canonical address stops at the PGD.
    expect(k.pgtable.walk(0x0000900000000000n).stoppedAt).toBe("PGD");
  });

  it("the direct map uses 2 MiB pages (PSE) where RAM is 2 MiB-aligned, and translate() is __pa() there", () => {
    const k = boot("x86_64-6.1");
    const va = k.layout.pageOffset + 0x4123456n;
    const w = k.pgtable.walk(va);
    expect(w.pageSize).toBe(2 * 1024 * 1024);
    expect(w.steps.at(-1)!.level).toBe("PMD");
    expect(Number(w.steps.at(-1)!.entry & 0x80n)).toBe(0x80);
    expect(k.pgtable.translate(va)).toBe(0x4123456);
  });

  it("vmalloc(1 GiB) on 512 MiB fails before any search with the warn_alloc line of the real log", () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    const before = k.reports.length;
    expect(k.vmalloc.vmalloc(1 << 30, { caller: CALLER })).toBe(0n);
    const text = k.log.texts(0).join("\n");
    expect(text).toContain("swapper/0: vmalloc error: size 1073741824, exceeds total pages, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0");
    expect(text).toContain(" warn_alloc+0x151/0x170\n __vmalloc_node_range+");
    expect(text).toContain("Mem-Info:");
    const r = k.reports.slice(before).find((x) => x.kind === "vmalloc-failure")!;
    expect(r.title).toContain("vmalloc error: size 1073741824, exceeds total pages");
  });

  it("__GFP_NOWARN suppresses the failure message", () => {
    const k = boot("x86_64-6.1");
    const n = k.log.texts(0).length;
    expect(k.vmalloc.__vmalloc(1 << 30, 0xcc0 | 0x2000)).toBe(0n);
    expect(k.log.texts(0).slice(n).join("\n")).not.toContain("vmalloc error");
  });

  it("vmalloc(0) is WARN_ON_ONCE at mm/vmalloc.c:3227 and returns NULL", () => {
    const k = boot("x86_64-6.1");
    expect(k.vmalloc.vmalloc(0)).toBe(0n);
    const text = k.log.texts(0).join("\n");
    expect(text).toMatch(/WARNING: CPU: 0 PID: \d+ at mm\/vmalloc\.c:3227 __vmalloc_node_range\+0x806\/0x880/);
    const n = k.reports.length;
    k.vmalloc.vmalloc(0); // once only
    expect(k.reports.length).toBe(n);
  });

  it("vfree of an unaligned or unknown address WARNs with the kernel's text and frees nothing", () => {
    const k = boot("x86_64-6.1");
    const a = k.vmalloc.vmalloc(4096, { caller: CALLER });
    k.vmalloc.vfree(a + 8n);
    k.vmalloc.vfree(k.layout.vmallocStart + 0x100000000n); // page-aligned, in a free hole
    const warns = k.reports.filter((r) => r.kind === "warn").map((r) => r.text);
    expect(warns.some((t) => /Trying to vfree\(\) bad address \([0-9a-f]+\)/.test(t))).toBe(true);
    expect(warns.some((t) => /Trying to vfree\(\) nonexistent vm area \([0-9a-f]+\)/.test(t))).toBe(true);
    expect(k.vmalloc.find_vm_area(a)).not.toBeNull();
  });

  it("vfree unmaps at once but keeps the range reserved (unpurged vm_area) until a purge", () => {
    const k = boot("x86_64-6.1");
    const a = k.vmalloc.vmalloc(3 * 4096, { caller: CALLER });
    k.vmalloc.vfree(a);
    expect(k.pgtable.translate(a)).toBe(-1);
    const line = `0x${a.toString(16)}-0x${(a + 16384n).toString(16)}   16384 unpurged vm_area`;
    expect(k.proc("vmallocinfo").split("\n")).toContain(line);
    k.vmalloc.purge();
    expect(k.proc("vmallocinfo")).not.toContain(line);
    expect(k.vmalloc.checkInvariants()).toEqual([]);
  });

  it("with KASAN (the debug kernel) the IRQ stack is 32 KiB: IRQ_STACK_ORDER = 2 + KASAN_STACK_ORDER", () => {
    const k = boot("x86_64-6.1", { config: "debug" });
    expect(k.proc("vmallocinfo").split("\n")[0]).toBe("0xffffc90000000000-0xffffc90000009000   36864 irq_init_percpu_irqstack+0xf0/0x120 vmap");
  });

  it("the boot state reproduces the real dump's first lines (irq stack vmap, ACPI/HPET ioremaps aligned by size)", () => {
    // The real dump is Debian's distro kernel (no KASAN: THREAD_SIZE and the IRQ stack are 16 KiB).
    const k = boot("x86_64-6.1", { config: "distro" });
    const lines = k.proc("vmallocinfo").split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "0xffffc90000000000-0xffffc90000005000   20480 irq_init_percpu_irqstack+0xf0/0x120 vmap",
      "0xffffc90000005000-0xffffc90000007000    8192 acpi_os_map_iomem+0x1b6/0x1d0 phys=0x000000001ffe1000 ioremap",
      "0xffffc90000008000-0xffffc9000000b000   12288 acpi_os_map_iomem+0x1b6/0x1d0 phys=0x000000001ffe0000 ioremap",
      "0xffffc9000000b000-0xffffc9000000d000    8192 hpet_enable+0xef/0x46d phys=0x00000000fed00000 ioremap",
      "0xffffc9000000d000-0xffffc9000000f000    8192 gen_pool_add_owner+0x3a/0xc0 pages=1 vmalloc N0=1",
    ]);
    // The percpu chunk's 8 KiB page array is itself vmalloc'ed ("vpages"), with the same caller.
    expect(lines).toContain("0xffffc9000014d000-0xffffc9000054e000 4198400 pcpu_create_chunk+0x167/0x1b0 pages=1024 vmalloc vpages N0=1024");
    expect(lines).toContain("0xffffc90000045000-0xffffc90000048000   12288 pcpu_create_chunk+0x167/0x1b0 pages=2 vmalloc N0=2");
    expect(lines).toContain("0xffffe8ffffc00000-0xffffe8ffffe00000 2097152 pcpu_get_vm_areas+0x0/0x1080 vmalloc");
    expect(lines).toContain("0xffffffffc0000000-0xffffffffc0201000 2101248 bpf_prog_pack_alloc+0x292/0x3b0 pages=512 vmalloc N0=512");
    expect(k.vmalloc.checkInvariants()).toEqual([]);
  });

  it("is_vmalloc_addr holds from VMALLOC_START up to (not including) VMALLOC_END", () => {
    const k = boot("x86_64-6.1");
    const L = k.layout;
    expect(k.vmalloc.is_vmalloc_addr(L.vmallocStart)).toBe(true);
    expect(k.vmalloc.is_vmalloc_addr(L.vmallocStart - 1n)).toBe(false);
    expect(k.vmalloc.is_vmalloc_addr(L.vmallocEnd - 1n)).toBe(true);
    expect(k.vmalloc.is_vmalloc_addr(L.vmallocEnd)).toBe(false);
    expect(Math.floor(k.vmalloc.meminfo().total / 1024)).toBe(34359738367);
  });

  it("vmalloc on 4-level x86_64 causes no arch_sync_kernel_mappings: every vmalloc PGD entry was preallocated", () => {
    const k = boot("x86_64-6.1");
    const c0 = { ...k.vmalloc.counters() };
    const a = k.vmalloc.vmalloc(4 << 20, { caller: CALLER });
    const c1 = k.vmalloc.counters();
    expect(c1.syncEvents).toBe(0);
    expect(c1.ptesWritten - c0.ptesWritten).toBe(1024 + 2); // 1024 pages + the 8 KiB page array's 2
    expect(c1.pageTablePagesAllocated - c0.pageTablePagesAllocated).toBeGreaterThanOrEqual(2);
    k.vmalloc.vfree(a);
    expect(k.vmalloc.counters().ptesCleared - c0.ptesCleared).toBe(1026);
  });

  it("ioremap keeps the offset in the page, records phys=, maps uncached PTEs, and refuses RAM", () => {
    const k = boot("x86_64-6.1");
    const a = k.vmalloc.ioremap(0xfebf1010, 0x100, { caller: "my_probe+0x10/0x80 [cell]" });
    expect(a & 0xfffn).toBe(0x10n);
    expect(k.pgtable.translate(a)).toBe(0xfebf1010);
    const w = k.pgtable.walk(a);
    expect(Number(w.steps.at(-1)!.entry & 0xfffn)).toBe(0x173);
    expect(k.proc("vmallocinfo")).toContain(" my_probe+0x10/0x80 [cell] phys=0x00000000febf1000 ioremap");
    expect(k.vmalloc.ioremap(0x100000, 4096)).toBe(0n);
    expect(k.reports.at(-1)!.text).toContain("ioremap on RAM at 0x0000000000100000 - 0x0000000000100fff");
    k.vmalloc.iounmap(a);
    expect(k.vmalloc.find_vm_area(a & ~0xfffn)).toBeNull();
  });
});
