// The memory access path (src/kernel/mm/memory.ts), its TLB (mm/tlb.ts), kernel-mode faults (mm/fault.ts) and
// KASAN (debug/kasan.ts), on booted kernels. Addresses come from the deterministic boots.
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { KASAN_SLAB_FREETRACK, KASAN_SLAB_FREE, KASAN_VMALLOC_INVALID } from "../../../src/kernel/debug/kasan.ts";
import { insmod, during, GFP_KERNEL } from "./helpers.ts";

const MiB = 1 << 20;

describe("translation", () => {
  it("linear-map and vmalloc addresses translate to what the page-table walk says, byte for byte", () => {
    const k = insmod("x86_64-6.1", "distro");
    const lin = k.pages.__get_free_pages(GFP_KERNEL, 1);
    const v = k.vmalloc.vmalloc(5 * 4096);
    for (const a of [lin, lin + 4095n, lin + 4096n + 17n, v, v + 4096n * 3n + 5n]) {
      const w = k.pgtable.walk(a);
      expect(w.pa).toBeGreaterThan(0);
      k.mem.writeb(0xa5, a);
      expect(k.physmem.read8(w.pa)).toBe(0xa5);
      expect(k.mem.translateQuiet(a)).toBe(w.pa);
    }
    // the linear map is the fixed offset; vmalloc pages are wherever the buddy allocator had them
    expect(k.pgtable.walk(lin).pa).toBe(Number(lin - k.layout.pageOffset));
    // the direct map is 2 MiB pages, except where the boot split it to 4 KiB (the kernel image's freed __init and
    // gaps, where the first free pages now are): the walk agrees with the mapping either way
    expect([4096, 2 * MiB]).toContain(k.pgtable.walk(lin).pageSize);
    expect(k.pgtable.walk(k.layout.pageOffset + 256n * BigInt(MiB)).pageSize).toBe(2 * MiB);
    expect(k.pgtable.walk(v).pageSize).toBe(4096);
  });

  it("a 4-byte value written across a vmalloc page boundary lands in two unrelated frames and reads back", () => {
    const k = insmod("x86_64-6.1", "distro");
    const v = k.vmalloc.vmalloc(2 * 4096);
    k.mem.writel(0x11223344, v + 4094n);
    const pa0 = k.pgtable.walk(v + 4094n).pa;
    const pa1 = k.pgtable.walk(v + 4096n).pa;
    expect([k.physmem.read8(pa0), k.physmem.read8(pa0 + 1), k.physmem.read8(pa1), k.physmem.read8(pa1 + 1)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(k.mem.readl(v + 4094n)).toBe(0x11223344);
    k.mem.writeq(0x0102030405060708n, v + 4092n);
    expect(k.mem.readq(v + 4092n)).toBe(0x0102030405060708n);
  });

  it("memset and memcpy across page boundaries fill and copy exactly the range asked", () => {
    const k = insmod("x86_64-6.1", "distro");
    const v = k.vmalloc.vmalloc(4 * 4096);
    const lin = k.pages.__get_free_pages(GFP_KERNEL, 2);
    k.mem.memset(v, 0, 4 * 4096);
    k.mem.memset(v + 4000n, 0x7e, 8300); // crosses two page boundaries
    expect(k.mem.readb(v + 3999n)).toBe(0);
    expect(k.mem.readb(v + 4000n)).toBe(0x7e);
    expect(k.mem.readb(v + 12299n)).toBe(0x7e);
    expect(k.mem.readb(v + 12300n)).toBe(0);
    k.mem.memsetN(lin, 0xdeadbeef, 4096, 4);
    k.mem.memcpy(v + 100n, lin + 2n, 10000);
    expect(k.mem.readb(v + 100n)).toBe(0xad); // lin+2 is the third byte of ef be ad de
    expect(k.mem.readl(v + 102n)).toBe(0xdeadbeef);
    expect(k.mem.memcmp(v + 100n, lin + 2n, 10000)).toBe(0);
    k.mem.writeb(0x00, v + 5000n);
    expect(k.mem.memcmp(v + 100n, lin + 2n, 10000)).toBeLessThan(0);
    expect(k.mem.memchr_inv(v + 100n, 0, 10)).toBe(v + 100n);
    // memmove with overlap copies as if through a buffer
    k.mem.memset(lin, 0, 16);
    for (let i = 0; i < 8; i++) k.mem.writeb(i + 1, lin + BigInt(i));
    k.mem.memmove(lin + 2n, lin, 8);
    expect([...k.mem.peek(lin, 10)!]).toEqual([1, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe("faults (KASAN off: the distro kernel)", () => {
  it("writing one byte past a vmalloc'ed buffer oopses on the guard page, naming the module function, and stops it", () => {
    const k = insmod("x86_64-6.1", "distro");
    const v = k.vmalloc.vmalloc(8192);
    const { lines, oops } = during(k, () => k.mem.writeb(1, v + 8192n));
    expect(oops?.report?.kind).toBe("oops");
    const a = (v + 8192n).toString(16);
    expect(lines.slice(0, 5)).toEqual([
      `BUG: unable to handle page fault for address: ${a}`,
      "#PF: supervisor write access in kernel mode",
      "#PF: error_code(0x0002) - not-present page",
      expect.stringMatching(/^PGD [0-9a-f]+ P4D [0-9a-f]+ PUD [0-9a-f]+ PMD [0-9a-f]+ PTE 0$/),
      "Oops: 0002 [#1] PREEMPT SMP NOPTI",
    ]);
    expect(lines[5]).toBe("CPU: 0 PID: 108 Comm: insmod Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-2");
    expect(lines).toContain("RIP: 0010:mem_module_init+0x9c/0x36a [cell]");
    expect(lines.find((l) => l.startsWith("Code:"))).toMatch(/<88> 10/); // mov %dl,(%rax)
    expect(lines).toContain(`RAX: ${a} RBX: 0000000000000192 RCX: 0000000000000000`);
    expect(lines).toContain(`CR2: ${a}`);
    expect(lines).toContain("Modules linked in: cell(OE+)");
    expect(lines).toContain("---[ end trace 0000000000000000 ]---");
    // the faulting function is RIP, not a trace entry; the trace starts at its caller
    const trace = lines.indexOf(" <TASK>");
    expect(lines[trace + 1]).toBe(" do_one_initcall+0x59/0x220");
    expect(k.taint.has("D")).toBe(true);
  });

  it("a read of a byte past the end is a read fault (error_code 0x0000), the linear map's holes fault too", () => {
    const k = insmod("x86_64-6.1", "distro");
    const v = k.vmalloc.vmalloc(4096);
    const { lines } = during(k, () => k.mem.readl(v + 4096n));
    expect(lines.slice(1, 3)).toEqual(["#PF: supervisor read access in kernel mode", "#PF: error_code(0x0000) - not-present page"]);
    expect(lines[4]).toMatch(/^Oops: 0000 \[#1\]/);
    const gap = k.layout.highMemory + 4096n; // between high_memory and VMALLOC_START
    expect(during(k, () => k.mem.readb(gap)).lines[0]).toBe(`BUG: unable to handle page fault for address: ${gap.toString(16)}`);
  });

  it("NULL and ZERO_SIZE_PTR: the kernel NULL pointer dereference text of each arch and era", () => {
    const head = (profile: string, addr: bigint, write = true) => {
      const k = insmod(profile, "distro");
      return during(k, () => (write ? k.mem.writeb(1, addr) : k.mem.readb(addr))).lines;
    };
    expect(head("x86_64-6.1", 0x10n).slice(0, 5)).toEqual([
      "BUG: kernel NULL pointer dereference, address: 0000000000000010",
      "#PF: supervisor write access in kernel mode",
      "#PF: error_code(0x0002) - not-present page",
      "PGD 0 P4D 0 ",
      "Oops: 0002 [#1] PREEMPT SMP NOPTI",
    ]);
    expect(head("i386-6.1", 0x10n).slice(0, 5)).toEqual([
      "BUG: kernel NULL pointer dereference, address: 00000010",
      "#PF: supervisor write access in kernel mode",
      "#PF: error_code(0x0002) - not-present page",
      "*pde = 00000000 ",
      "Oops: 0002 [#1] PREEMPT SMP",
    ]);
    const old = head("i386-2.6", 0n, false);
    expect(old[0]).toBe("BUG: unable to handle kernel NULL pointer dereference at 00000000");
    expect(old[1]).toMatch(/^IP: \[<[0-9a-f]{8}>\] mem_module_init\+0x9c\/0x36a \[cell\]$/);
    expect(old.slice(2, 4)).toEqual(["*pde = 00000000 ", "Oops: 0000 [#1] SMP "]);
    expect(old.find((l) => l.startsWith("EIP: [<"))).toMatch(/^EIP: \[<[0-9a-f]{8}>\] mem_module_init\+0x9c\/0x36a \[cell\] SS:ESP 0068:[0-9a-f]{8}$/);
    expect(head("arm-3.4-msm8x25", 0x10n).slice(0, 4)).toEqual([
      "Unable to handle kernel NULL pointer dereference at virtual address 00000010",
      "pgd = c0004000",
      "[00000010] *pgd=00000000",
      "Internal error: Oops: 805 [#1] SMP ARM",
    ]);
    const arm61 = head("arm-6.1-virt", 0x10n, false);
    expect(arm61.slice(0, 4)).toEqual([
      "8<--- cut here ---",
      "Unable to handle kernel NULL pointer dereference at virtual address 00000010",
      "[00000010] *pgd=00000000",
      "Internal error: Oops: 5 [#1] SMP ARM",
    ]);
    expect(arm61.find((l) => l.startsWith("Code:"))).toMatch(/\(e5d33000\) $/); // ldrb r3, [r3]
    const a64 = head("arm64-6.1", 0x10n);
    expect(a64[0]).toBe("Unable to handle kernel NULL pointer dereference at virtual address 0000000000000010");
    expect(a64).toContain("  ESR = 0x0000000096000044");
    expect(a64).toContain("Internal error: Oops: 96000044 [#1] PREEMPT SMP");
  });

  it("ARM: a vmalloc guard page is a page translation fault (7, 807 for a write) with the PTE pair shown", () => {
    const k = insmod("arm-6.1-virt", "distro");
    const v = k.vmalloc.vmalloc(4096);
    const { lines } = during(k, () => k.mem.writel(1, v + 4096n));
    expect(lines[1]).toBe(`Unable to handle kernel paging request at virtual address ${(v + 4096n).toString(16)}`);
    expect(lines[2]).toMatch(new RegExp(`^\\[${(v + 4096n).toString(16)}\\] \\*pgd=[0-9a-f]{8}, \\*pte=00000000, \\*ppte=00000000$`));
    expect(lines[3]).toBe("Internal error: Oops: 807 [#1] SMP ARM");
  });

  it("a non-canonical x86_64 address is a general protection fault, with no CR2 summary line", () => {
    const k = insmod("x86_64-6.1", "distro");
    const { lines, oops } = during(k, () => k.mem.readq(0xdead000000000100n));
    expect(lines[0]).toBe("general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI");
    expect(lines.filter((l) => /^CR2: [0-9a-f]+$/.test(l))).toEqual([]);
    expect(oops?.report?.title).toBe(lines[0]);
  });

  it("memset faults at the first byte of the first unmapped page, after writing everything before it", () => {
    const k = insmod("x86_64-6.1", "distro");
    const v = k.vmalloc.vmalloc(8192);
    const { lines } = during(k, () => k.mem.memset(v + 100n, 0x33, 9000));
    expect(lines[0]).toBe(`BUG: unable to handle page fault for address: ${(v + 8192n).toString(16)}`);
    expect(lines).toContain("RIP: 0010:__memset+0x24/0x30");
    expect(lines).toContain(" mem_module_init+0x9c/0x36a [cell]"); // the caller is in the trace this time
    expect(k.mem.readb(v + 8191n)).toBe(0x33);
  });

  it("nothing is reported by KASAN on the distro kernel: kmalloc(100) then p[100] is a silent write", () => {
    const k = insmod("x86_64-6.1", "distro");
    const p = k.slab.kmalloc(100, GFP_KERNEL);
    const { lines, oops } = during(k, () => k.mem.writeb(1, p + 100n));
    expect(lines).toEqual([]);
    expect(oops).toBeUndefined();
    expect(k.kasan).toBeUndefined();
    expect(k.mem.readb(p + 100n)).toBe(1);
  });
});

describe("KASAN (the 6.1 debug kernel)", () => {
  it("kmalloc(100), write at offset 100: the full slab-out-of-bounds report, then the write happens", () => {
    const k = insmod("x86_64-6.1", "debug");
    const p = k.slab.kmalloc(100, GFP_KERNEL);
    const { lines, oops } = during(k, () => k.mem.writeb(1, p + 100n));
    expect(oops).toBeUndefined();
    expect(lines.join("\n") + "\n").toBe(PINNED_SLAB_OOB);
    expect(k.mem.readb(p + 100n)).toBe(1); // KASAN reports, it does not stop the access
    expect(k.taint.print_tainted()).toBe("Tainted: G    B             ");
    const r = k.reports.at(-1)!;
    expect(r.kind).toBe("kasan");
    expect(r.title).toBe("BUG: KASAN: slab-out-of-bounds in mem_module_init+0x9c/0x36a [cell]");
    expect(r.line).toBe(5);
  });

  it("only the first report of a boot is printed, unless kasan_multi_shot", () => {
    const once = insmod("x86_64-6.1", "debug");
    const p = once.slab.kmalloc(10, GFP_KERNEL);
    once.mem.writeb(1, p + 10n);
    expect(during(once, () => once.mem.writeb(1, p + 11n)).lines).toEqual([]);
    const multi = insmod("x86_64-6.1", "debug", { cmdline: "console=ttyS0 kasan_multi_shot" });
    const q = multi.slab.kmalloc(10, GFP_KERNEL);
    multi.mem.writeb(1, q + 10n);
    expect(during(multi, () => multi.mem.writeb(1, q + 11n)).lines[1]).toMatch(/^BUG: KASAN: slab-out-of-bounds in /);
  });

  it("use-after-free: 'use-after-free' (6.1's name), the alloc and free stacks, fa fb shadow", () => {
    const k = insmod("x86_64-6.1", "debug");
    const p = k.slab.kmalloc(100, GFP_KERNEL);
    k.slab.kfree(p);
    expect(k.kasan!.shadowByte(p)).toBe(KASAN_SLAB_FREETRACK);
    expect(k.kasan!.shadowByte(p + 8n)).toBe(KASAN_SLAB_FREE);
    const { lines } = during(k, () => k.mem.readl(p + 8n));
    expect(lines[1]).toBe("BUG: KASAN: use-after-free in mem_module_init+0x9c/0x36a [cell]");
    expect(lines[2]).toBe(`Read of size 4 at addr ${(p + 8n).toString(16)} by task insmod/108`);
    expect(lines).toContain("Allocated by task 108:");
    const freed = lines.indexOf("Freed by task 108:");
    expect(freed).toBeGreaterThan(0);
    expect(lines.slice(freed + 1, freed + 4).map((l) => l.replace(/\+.*/, ""))).toEqual([" kasan_save_stack", " kasan_set_track", " kasan_set_free_info"]);
    expect(lines).toContain("The buggy address is located 8 bytes inside of");
    expect(lines.find((l) => l.startsWith(">"))).toBe(`>${p.toString(16)}: fa fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb`);
  });

  it("double-free and invalid-free are separate bug types in 6.1, and the bad free is not done", () => {
    const k = insmod("x86_64-6.1", "debug");
    const p = k.slab.kmalloc(64, GFP_KERNEL);
    k.slab.kfree(p);
    const before = k.slab.liveObjects().length;
    const { lines } = during(k, () => k.slab.kfree(p));
    expect(lines.slice(1, 3)).toEqual([
      expect.stringMatching(/^BUG: KASAN: double-free in __kmem_cache_free\+0x[0-9a-f]+\/0x[0-9a-f]+$/),
      `Free of addr ${p.toString(16)} by task insmod/108`,
    ]);
    expect(k.reports.at(-1)!.kind).toBe("double-free");
    expect(k.slab.liveObjects().length).toBe(before);
    const m = insmod("x86_64-6.1", "debug");
    const q = m.slab.kmalloc(64, GFP_KERNEL);
    const inv = during(m, () => m.slab.kfree(q + 8n)).lines;
    expect(inv[1]).toMatch(/^BUG: KASAN: invalid-free in __kmem_cache_free/);
    expect(inv).toContain("The buggy address is located 8 bytes inside of");
    expect(m.slab.objectAt(q)!.live).toBe(true);
  });

  it("vmalloc: past the requested size is vmalloc-out-of-bounds; the guard page reports, then faults", () => {
    const k = insmod("x86_64-6.1", "debug", { cmdline: "console=ttyS0 kasan_multi_shot" });
    const v = k.vmalloc.vmalloc(1000000);
    const inside = during(k, () => k.mem.writeb(1, v + 1000000n));
    expect(inside.oops).toBeUndefined(); // still inside the last mapped page
    expect(inside.lines[1]).toBe("BUG: KASAN: vmalloc-out-of-bounds in mem_module_init+0x9c/0x36a [cell]");
    expect(inside.lines).toContain("The buggy address belongs to the virtual mapping at");
    expect(inside.lines).toContain(` [${v.toString(16)}, ${(v + 1007616n).toString(16)}) created by:`);
    expect(k.kasan!.shadowByte(v + 999999n)).toBe(0);
    expect(k.kasan!.shadowByte(v + 1000000n)).toBe(KASAN_VMALLOC_INVALID);
    const guard = during(k, () => k.mem.writeb(1, v + 245n * 4096n));
    expect(guard.lines[1]).toBe("BUG: KASAN: vmalloc-out-of-bounds in mem_module_init+0x9c/0x36a [cell]");
    expect(guard.lines).not.toContain("The buggy address belongs to the physical page:"); // nothing maps the guard page
    expect(guard.lines.find((l) => l.startsWith("BUG: unable to handle page fault"))).toBe(
      `BUG: unable to handle page fault for address: ${(v + 245n * 4096n).toString(16)}`,
    );
    expect(guard.lines).toContain("Oops: 0002 [#1] PREEMPT SMP KASAN NOPTI");
    expect(guard.oops).toBeDefined();
  });

  it("vmalloc: KASAN's shadow of an area is the request accessible, the partial granule its byte count, the rest and the guard page 0xF8, and vfree poisons it all", () => {
    const k = insmod("x86_64-6.1", "debug");
    // sizes around granule and page edges; each area is whole pages plus its guard page
    for (const n of [1, 7, 8, 9, 4095, 4096, 4097, 8191, 12291, 1000000]) {
      const v = k.vmalloc.vmalloc(n);
      const pages = Math.ceil(n / 4096) + 1;
      const want = (off: number): number => {
        if (off < (n & ~7)) return 0;
        if (off < n) return n & 7; // the granule the request ends in
        return KASAN_VMALLOC_INVALID;
      };
      // every granule of the first and last two pages, and of the page the request ends in
      const offs = new Set<number>();
      for (const page of [0, 1, Math.floor(n / 4096), pages - 2, pages - 1]) {
        if (page < 0 || page >= pages) continue;
        for (let g = 0; g < 512; g++) offs.add(page * 4096 + g * 8);
      }
      for (const off of offs) expect([n, off, k.kasan!.shadowByte(v + BigInt(off))]).toEqual([n, off, want(off)]);
      k.vmalloc.vfree(v);
      for (const off of [0, n - 1, (pages - 1) * 4096]) expect(k.kasan!.shadowByte(v + BigInt(off))).toBe(KASAN_VMALLOC_INVALID);
    }
  });

  it("vmalloc: the boot areas' shadow, built a shadow page at a time when first needed, reads the same whatever builds it first (a module area next to them, or a read)", () => {
    const read = (first: "module" | "reads") => {
      const k = insmod("x86_64-6.1", "debug");
      const busy = () => k.vmalloc.areas().filter((a) => a.state === "busy" && a.owner === "boot");
      const addrs: bigint[] = [];
      for (const a of busy()) for (let o = -4096n; o < BigInt(a.size) + 4096n; o += 4096n) addrs.push(a.start + o, a.start + o + 4088n);
      const out: number[] = [];
      if (first === "reads") for (const a of [...addrs].reverse()) k.kasan!.shadowByte(a);
      // module_alloc places the module after the boot's module-range area, in a shadow page they share; vmalloc's
      // areas go after the boot's last ones
      const m = k.vmalloc.module_alloc(3 * 4096 + 5, "load_module+0xbb7/0x21a0");
      const v = k.vmalloc.vmalloc(1000000);
      for (const a of addrs) out.push(k.kasan!.shadowByte(a));
      for (const p of [m, v]) for (let o = 0n; o < 8n * 4096n; o += 8n) out.push(k.kasan!.shadowByte(p + o));
      return out;
    };
    const a = read("module");
    expect(a.length).toBeGreaterThan(1000);
    expect(a).toContain(0);
    expect(a).toContain(KASAN_VMALLOC_INVALID);
    expect(a).toEqual(read("reads"));
  });

  it("NULL: KASAN's null-ptr-deref report (no shadow, just the stack), then the page fault", () => {
    const k = insmod("x86_64-6.1", "debug");
    const { lines } = during(k, () => k.mem.writeb(1, 0x10n));
    expect(lines.slice(0, 4)).toEqual([
      "==================================================================",
      "BUG: KASAN: null-ptr-deref in mem_module_init+0x9c/0x36a [cell]",
      "Write of size 1 at addr 0000000000000010 by task insmod/108",
      "",
    ]);
    const end = lines.indexOf("==================================================================", 1);
    expect(lines.slice(0, end)).not.toContain("Memory state around the buggy address:");
    expect(lines[end + 2]).toBe("BUG: kernel NULL pointer dereference, address: 0000000000000010");
  });

  it("a never-allocated vmalloc address faults on its unpopulated shadow (KASAN_VMALLOC)", () => {
    const k = insmod("x86_64-6.1", "debug");
    const far = k.layout.vmallocStart + 0x100000000n;
    const { lines } = during(k, () => k.mem.readb(far));
    const shadow = ((far >> 3n) + 0xdffffc0000000000n) & ((1n << 64n) - 1n);
    expect(lines[0]).toBe(`BUG: unable to handle page fault for address: ${shadow.toString(16)}`);
    expect(lines).toContain(`RIP: 0010:${k.kallsyms.frame("__asan_load1")}`);
  });

  it("is absent where the real kernel had none: i386, and the 2.6/3.4 debug kernels", () => {
    for (const p of ["i386-6.1", "i386-2.6", "arm-3.4-msm8x25"]) expect(boot(p, { config: "debug" }).kasan).toBeUndefined();
    expect(boot("arm-6.1-virt", { config: "debug" }).kasan).toBeDefined();
  });
});

describe("TLB", () => {
  it("touching 4 MiB (a load every 64 bytes) through vmalloc misses once per 4 KiB page; through the linear map a handful of times", () => {
    const k = insmod("x86_64-6.1", "distro");
    const v = k.vmalloc.vmalloc(4 * MiB);
    const lin = k.pages.__get_free_pages(GFP_KERNEL, 10); // 4 MiB, physically contiguous, 2 MiB pages
    expect(lin).not.toBe(0n);
    k.mem.tlb.reset();
    for (let off = 0n; off < BigInt(4 * MiB); off += 64n) k.mem.readl(v + off);
    const viaVmalloc = k.mem.tlb.stats();
    k.mem.tlb.reset();
    for (let off = 0n; off < BigInt(4 * MiB); off += 64n) k.mem.readl(lin + off);
    const viaLinear = k.mem.tlb.stats();
    expect(viaVmalloc.misses).toBeGreaterThanOrEqual(1024);
    expect(viaLinear.misses).toBeLessThanOrEqual(4);
    expect(viaVmalloc.hits + viaVmalloc.misses).toBe(65536);
    expect(viaLinear.hits + viaLinear.misses).toBe(65536);
  });

  it("i386's 4 MiB PSE pages and ARM's 1 MiB sections: one miss per large page", () => {
    for (const [profile, per] of [
      ["i386-6.1", 4 * MiB],
      ["arm-6.1-virt", MiB],
    ] as const) {
      const k = insmod(profile, "distro");
      const lin = k.pages.__get_free_pages(GFP_KERNEL, 10);
      k.mem.tlb.reset();
      k.mem.memchr_inv(lin, 0xff, 4 * MiB);
      const aligned = Number(lin % BigInt(per)) === 0;
      expect(k.mem.tlb.stats().misses).toBeLessThanOrEqual((4 * MiB) / per + (aligned ? 0 : 1));
    }
  });

  it("vfree leaves stale entries until the lazy purge flushes them (the real lazy TLB flush window)", () => {
    const k = insmod("x86_64-6.1", "distro");
    const v = k.vmalloc.vmalloc(4096);
    k.mem.writeb(7, v);
    k.vmalloc.vfree(v);
    expect(k.pgtable.translate(v)).toBe(-1); // the PTE is gone at once
    expect(during(k, () => k.mem.readb(v)).oops).toBeUndefined(); // ... but the TLB still has it
    k.vmalloc.purge();
    expect(during(k, () => k.mem.readb(v)).oops?.report?.kind).toBe("oops");
    expect(k.mem.tlb.stats().flushed).toBeGreaterThan(0);
  });
});

describe("determinism", () => {
  it("the same boot and accesses print byte-identical reports and count the same TLB traffic", () => {
    const once = () => {
      const k = insmod("x86_64-6.1", "debug");
      const p = k.slab.kmalloc(100, GFP_KERNEL);
      const v = k.vmalloc.vmalloc(3 * 4096);
      k.mem.memset(v, 1, 3 * 4096);
      k.mem.writeb(1, p + 100n);
      during(k, () => k.mem.writeb(1, v + 3n * 4096n));
      return { log: k.log.texts(0).join("\n"), tlb: k.mem.tlb.stats() };
    };
    expect(once()).toEqual(once());
  });
});

const PINNED_SLAB_OOB = `==================================================================
BUG: KASAN: slab-out-of-bounds in mem_module_init+0x9c/0x36a [cell]
Write of size 1 at addr ffff8880069933e4 by task insmod/108

CPU: 0 PID: 108 Comm: insmod Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-2
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 print_report+0x26/0x5b
 kasan_report+0xcd/0xd0
 __asan_store1+0x18e/0x329
 mem_module_init+0x9c/0x36a [cell]
 do_one_initcall+0x59/0x220
 do_init_module+0x4a/0x1f0
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x47fbe9
Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48
RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: 0000000000000139
RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9
RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003
RBP: 0000000000000003 R08: 000000001b2bc960 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000246 R12: 000000001b2bbb90
R13: 000000001b2bbbc0 R14: 0000000000000000 R15: 0000000000000000
 </TASK>

Allocated by task 108:
 kasan_save_stack+0x2db/0x330
 kasan_set_track+0x70/0xfe
 __kasan_kmalloc+0x265/0x349
 __kmalloc+0xbf/0x150
 mem_module_init+0x9c/0x36a [cell]
 do_one_initcall+0x59/0x220
 do_init_module+0x4a/0x1f0
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8

The buggy address belongs to the object at ffff888006993380
 which belongs to the cache kmalloc-128 of size 128
The buggy address is located 100 bytes inside of
 128-byte region [ffff888006993380, ffff888006993400)

The buggy address belongs to the physical page:
page:000000000cf5341d refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x6993
flags: 0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
raw: 000fffffc0000200 dead000000000100 dead000000000122 0000000000000000
raw: 0000000000000000 0000000000000000 00000001ffffffff 0000000000000000
page dumped because: kasan: bad access detected

Memory state around the buggy address:
 ffff888006993280: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc
 ffff888006993300: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc
>ffff888006993380: 00 00 00 00 00 00 00 00 00 00 00 00 04 fc fc fc
                                                       ^
 ffff888006993400: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc
 ffff888006993480: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc
==================================================================
Disabling lock debugging due to kernel taint
`;
