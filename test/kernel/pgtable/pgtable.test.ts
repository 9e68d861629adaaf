// Page-table geometry of each architecture, on a minimal host (real PhysMem, a bump page allocator), so that the
// entry bytes, the walk and the large linear-map mappings can be checked without the rest of the kernel.
import { describe, expect, it } from "vitest";
import { PageTables, PGTBL_PMD_MODIFIED, type PgtableHost } from "../../../src/kernel/mm/pgtable.ts";
import { PhysMem } from "../../../src/kernel/mm/physmem.ts";
import type { Arch, Era, Layout } from "../../../src/kernel/types.ts";

const MiB = 1024 * 1024;

function host(
  arch: Arch,
  era: Era,
  o: { pageOffset: bigint; physOffset: number; ram: number; lowEnd: number; vmStart: bigint; vmEnd: bigint },
): PgtableHost & { physmem: PhysMem } {
  let next = (o.physOffset + 64 * MiB) / 4096; // page-table pages come from here up
  const layout = {
    bits: arch === "x86_64" || arch === "arm64" ? 64 : 32,
    pageOffset: o.pageOffset,
    physOffset: o.physOffset,
    vmallocStart: o.vmStart,
    vmallocEnd: o.vmEnd,
    memory: [{ start: o.physOffset + 0x1000 * (arch === "x86_64" || arch === "i386" ? 1 : 0), end: o.physOffset + o.ram }],
    maxLowPfn: (o.physOffset + o.lowEnd) / 4096,
    image: [],
  } as unknown as Layout;
  return {
    profile: { arch, era },
    layout,
    physmem: new PhysMem(),
    pages: {
      alloc_pages: (_g: number, order: number) => {
        const p = next;
        next += 1 << order;
        return p;
      },
    },
  };
}

describe("page tables per architecture", () => {
  it("x86_64: 4 levels with a folded P4D; the linear map uses 2 MiB pages except at the unaligned first 2 MiB", () => {
    const h = host("x86_64", "6.1", {
      pageOffset: 0xffff888000000000n,
      physOffset: 0,
      ram: 512 * MiB,
      lowEnd: 512 * MiB,
      vmStart: 0xffffc90000000000n,
      vmEnd: 0xffffe8ffffffffffn,
    });
    const pt = new PageTables(h);
    const w = pt.walk(0xffff888000001234n);
    expect(w.steps.map((s) => s.level)).toEqual(["PGD", "P4D", "PUD", "PMD", "PTE"]);
    expect(w.pa).toBe(0x1234);
    expect(w.pageSize).toBe(4096);
    const big = pt.walk(0xffff888010203040n);
    expect(big.pageSize).toBe(2 * MiB);
    expect(big.pa).toBe(0x10203040);
    expect(big.steps.at(-1)!.entry).toBe(0x80000000102001e3n); // the 2 MiB frame 0x10200000, PSE|G|D|A|RW|P, NX
    // The bytes are in physmem: the PGD entry read back by hand equals the walk's entry.
    const s0 = big.steps[0]!;
    expect(BigInt(h.physmem.read32(s0.entryPhys)) | (BigInt(h.physmem.read32(s0.entryPhys + 4)) << 32n)).toBe(s0.entry);
    expect(s0.index).toBe(0x111); // pgd_index(0xffff888000000000)
    // Every vmalloc PGD entry is preallocated (64 PUD pages under 32 TiB): mapping a page there adds PMD+PTE only.
    expect(pt.walk(0xffffc90000000000n).steps[2]!.level).toBe("PUD");
    expect(pt.walk(0xffffc90000000000n).stoppedAt).toBe("PUD");
    const before = pt.counters.pageTablePagesAllocated;
    pt.mapPages(Number(0xffffc90000000000n >> 12n), 1, [0x1234]);
    expect(pt.counters.pageTablePagesAllocated - before).toBe(2);
    expect(pt.counters.syncEvents).toBe(0);
    expect(pt.translate(0xffffc90000000abcn)).toBe(0x1234abc);
  });

  it("i386 (non-PAE): two levels of 1024 4-byte entries, lowmem in 4 MiB PSE pages, vmalloc PTEs sync on 6.1", () => {
    const h = host("i386", "6.1", { pageOffset: 0xc0000000n, physOffset: 0, ram: 1024 * MiB, lowEnd: 0x36bfe000, vmStart: 0xf73fe000n, vmEnd: 0xfebfe000n });
    const pt = new PageTables(h);
    expect(pt.entrySize).toBe(4);
    const w = pt.walk(0xc1234567n);
    expect(w.steps.map((s) => s.level)).toEqual(["PGD"]);
    expect(w.pageSize).toBe(4 * MiB);
    expect(w.pa).toBe(0x01234567);
    expect(w.steps[0]!.entry).toBe(0x010001e3n);
    expect(pt.walk(0xf8000000n).stoppedAt).toBe("PGD");
    const mask = pt.mapPages(0xf8000, 2, [0x3f84b, 0x3f84c]);
    expect(mask & PGTBL_PMD_MODIFIED).toBeTruthy();
    expect(pt.counters.syncEvents).toBe(1);
    const v = pt.walk(0xf8001010n);
    expect(v.steps.map((s) => s.level)).toEqual(["PGD", "PTE"]);
    expect(v.steps[0]!.entry & 0xfffn).toBe(0x067n);
    expect(v.steps[1]!.entry).toBe(0x3f84c163n);
    expect(v.pa).toBe(0x3f84c010);
    // Above high_memory nothing is mapped (highmem is reached by kmap, not the linear map).
    expect(pt.translate(0xf7000000n)).toBe(-1);
  });

  it("32-bit ARM: 1 MiB sections for lowmem, and a page holding Linux shadow PTEs (+0) and hardware PTEs (+2048)", () => {
    const h = host("arm", "3.4", {
      pageOffset: 0xc0000000n,
      physOffset: 0x00200000,
      ram: 512 * MiB,
      lowEnd: 512 * MiB,
      vmStart: 0xf3000000n,
      vmEnd: 0xff000000n,
    });
    const pt = new PageTables(h);
    expect(pt.pgdPhys).toBe(0x00204000); // swapper_pg_dir = PHYS_OFFSET + 0x4000 (virtual 0xc0004000)
    const s = pt.walk(0xc0345678n);
    expect(s.pageSize).toBe(MiB);
    expect(s.pa).toBe(0x00545678);
    expect(s.steps[0]!.index).toBe(0xc03);
    pt.mapPages(0xf3100, 1, [0x12345]);
    const w = pt.walk(0xf3100004n);
    expect(w.steps.map((x) => x.level)).toEqual(["PGD", "PTE"]);
    const l1 = Number(w.steps[0]!.entry);
    // 0xf31 is the odd MiB of its pair: the hardware table at +3072 of the page, domain 0, PMD_TYPE_TABLE|PMD_BIT4.
    expect(l1 & 0xfff).toBe(0xc11);
    expect(w.steps[1]!.entry).toBe(0x1234545fn); // hardware small page
    expect(w.steps[1]!.linuxEntry).toBe(0x1234565fn); // Linux PTE (L_PTE_PRESENT|YOUNG|DIRTY|XN|SHARED|WRITEALLOC)
    expect(w.pa).toBe(0x12345004);
    // The even MiB of the pair points at the first hardware table (+2048) of the same page.
    const even = pt.walk(0xf3000000n);
    expect(l1 - Number(even.steps[0]!.entry)).toBe(1024);
    expect(even.steps[0]!.linuxEntry).toBe(even.steps[0]!.entry); // pgd_val() is the pair's first word
    expect(pt.counters.syncEvents).toBe(0); // 3.4 has no arch_sync_kernel_mappings
  });

  it("arm64 48-bit: four levels, table 0b11, 2 MiB blocks for the linear map, page descriptors with AF and PXN/UXN", () => {
    const h = host("arm64", "6.1", {
      pageOffset: 0xffff000000000000n,
      physOffset: 0x40000000,
      ram: 1024 * MiB,
      lowEnd: 1024 * MiB,
      vmStart: 0xffff800008000000n,
      vmEnd: 0xfffffbfff0000000n,
    });
    const pt = new PageTables(h);
    const lin = pt.walk(0xffff000000345678n);
    expect(lin.pageSize).toBe(2 * MiB);
    expect(lin.pa).toBe(0x40345678);
    expect(Number(lin.steps[0]!.entry & 3n)).toBe(3);
    expect(Number(lin.steps.at(-1)!.entry & 3n)).toBe(1);
    pt.mapPages(Number(0xffff800008000000n >> 12n), 1, [0x41234]);
    const w = pt.walk(0xffff800008000010n);
    expect(w.steps.at(-1)!.entry).toBe(0x0068000041234703n);
    expect(w.pa).toBe(0x41234010);
    expect(w.executable).toBe(false);
    expect(pt.translate(0x0000400000000000n)).toBe(-1); // user half: not in the kernel tables
  });

  it("unmapPages clears PTEs and forEachMapped sees exactly what is mapped", () => {
    const h = host("x86_64", "6.1", {
      pageOffset: 0xffff888000000000n,
      physOffset: 0,
      ram: 64 * MiB,
      lowEnd: 64 * MiB,
      vmStart: 0xffffc90000000000n,
      vmEnd: 0xffffe8ffffffffffn,
    });
    const pt = new PageTables(h);
    const v0 = Number(0xffffc90000200000n >> 12n);
    pt.mapPages(v0 - 3, 10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    pt.unmapPages(v0, 2);
    const seen: [number, number][] = [];
    pt.forEachMapped(Number(0xffffc90000000000n >> 12n), Number(0xffffe90000000000n >> 12n), (v, p) => seen.push([v - v0, p]));
    expect(seen).toEqual([
      [-3, 1],
      [-2, 2],
      [-1, 3],
      [2, 6],
      [3, 7],
      [4, 8],
      [5, 9],
      [6, 10],
    ]);
    expect(pt.counters.ptesCleared).toBe(2);
  });
});
