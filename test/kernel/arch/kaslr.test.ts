// Physical/virtual KASLR (arch/x86/boot/compressed/kaslr.c, arch/kaslr.ts) and the module load offset
// (arch/x86/kernel/module.c get_module_load_offset), deterministic per seed; `nokaslr` (every default profile
// command line, as in the real logs) and a missing seed keep the link addresses.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { boot } from "../../../src/kernel/kernel.ts";
import { kaslrSlotAreas, chooseRandomLocation, PHYSICAL_ALIGN, LOAD_PHYSICAL_ADDR } from "../../../src/kernel/arch/kaslr.ts";
import { qemuPcE820 } from "../../../src/kernel/arch/common.ts";
import { fakeBoot } from "./fake.ts";
import type { Layout } from "../../../src/kernel/types.ts";

const MiB = 2 ** 20;
const text = (l: Layout) => l.image.find((s) => s.name === ".text")!;
const iomemLine = (iomem: string, name: string) => iomem.split("\n").find((l) => l.endsWith(" : " + name))!;

describe("choose_random_location: the slots", () => {
  it("counts exactly the 2 MiB-aligned addresses where the image fits in RAM, below mem_limit, clear of the decompressor and the initrd", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 96, max: 6144 }),
        fc.integer({ min: 2, max: 80 }),
        fc.option(fc.integer({ min: 64, max: 4096 })),
        (memMb, imageMb, memParamMb) => {
          const e820 = qemuPcE820(memMb * MiB, true);
          const imageSize = imageMb * MiB + 0x1234;
          const initrd = { start: 0x1f000000, end: 0x1f120000 };
          const memLimit = 2 ** 46;
          const memParam = memParamMb === null ? undefined : memParamMb * MiB;
          const areas = kaslrSlotAreas({ e820, imageSize, memLimit, memParam, initrd });
          const got = areas.flatMap((a) => Array.from({ length: a.num }, (_, i) => a.addr + i * PHYSICAL_ALIGN));
          // Brute force over every aligned address.
          const limit = Math.min(memLimit, memParam ?? Infinity);
          const want: number[] = [];
          const top = Math.max(...e820.map((e) => e.end));
          for (let a = LOAD_PHYSICAL_ADDR; a + imageSize <= Math.min(limit, top); a += PHYSICAL_ALIGN) {
            const end = a + imageSize;
            const inRam = e820.some((e) => e.type === "usable" && e.start <= a && end <= e.end);
            const clear = [{ start: LOAD_PHYSICAL_ADDR, end: LOAD_PHYSICAL_ADDR + imageSize }, initrd].every((r) => end <= r.start || a >= r.end);
            if (inRam && clear) want.push(a);
          }
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 150 },
    );
  });
  it("the same seed picks the same slot; seeds spread over the slots; nokaslr or no seed picks nothing", () => {
    const inp = { e820: qemuPcE820(512 * MiB, true), imageSize: 0x3400000, memLimit: 2 ** 46, virtualWindow: 0x40000000 };
    expect(chooseRandomLocation(inp, 5, false)).toEqual(chooseRandomLocation(inp, 5, false));
    expect(chooseRandomLocation(inp, 5, true)).toBeUndefined();
    expect(chooseRandomLocation(inp, undefined, false)).toBeUndefined();
    const phys = new Set<number>();
    const virt = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const c = chooseRandomLocation(inp, seed, false)!;
      phys.add(c.phys);
      virt.add(c.virtOffset);
      expect(c.virtOffset % PHYSICAL_ALIGN).toBe(0);
      expect(c.virtOffset).toBeGreaterThanOrEqual(LOAD_PHYSICAL_ADDR);
      expect(c.virtOffset + inp.imageSize).toBeLessThanOrEqual(0x40000000);
    }
    expect(phys.size).toBeGreaterThan(20);
    expect(virt.size).toBeGreaterThan(20);
  });
});

describe("x86_64: the image moves with KASLR", () => {
  it("the default command line (nokaslr, as the real log) keeps 16 MiB and 0xffffffff81000000 with any seed", () => {
    for (const seed of [undefined, 0, 7]) {
      const l = fakeBoot("x86_64-6.1", { seed }).layout;
      expect(text(l).phys).toBe(0x1000000);
      expect(text(l).start).toBe(0xffffffff81000000n);
      expect(l.physBase ?? 0).toBe(0);
    }
  });
  it("without nokaslr the image lands in a 2 MiB slot of RAM, virtually in the 1 GiB image window, phys_base linking them", () => {
    for (let seed = 1; seed <= 12; seed++) {
      const l = fakeBoot("x86_64-6.1", { seed, cmdline: "console=ttyS0 loglevel=8" }).layout;
      const t = text(l);
      const bss = l.image.find((s) => s.name === ".bss")!;
      expect(t.phys % PHYSICAL_ALIGN).toBe(0);
      expect(t.phys).toBeGreaterThanOrEqual(LOAD_PHYSICAL_ADDR + (0x4400000 - 0x1000000));
      expect(bss.phys + Number(bss.end - bss.start)).toBeLessThanOrEqual(512 * MiB - 0x20000);
      expect((t.start - 0xffffffff80000000n) % BigInt(PHYSICAL_ALIGN)).toBe(0n);
      expect(t.start).toBeGreaterThanOrEqual(0xffffffff81000000n);
      expect(bss.end).toBeLessThanOrEqual(0xffffffffc0000000n);
      expect(BigInt(t.phys - (l.physBase ?? 0))).toBe(t.start - 0xffffffff80000000n);
      // Every section keeps its offset from _text.
      for (const s of l.image) expect(s.start - t.start).toBe(BigInt(s.phys - t.phys));
    }
  });
  it("boots, and /proc/iomem, __pa(_text) and the kernel text mapping follow the image", () => {
    const k = boot("x86_64-6.1", { seed: 3, cmdline: "console=ttyS0 loglevel=8", userspace: false });
    const t = text(k.layout);
    const code = iomemLine(k.proc("iomem"), "Kernel code");
    expect(code.trim().split("-")[0]).toBe(t.phys.toString(16).padStart(8, "0"));
    expect(k.pages.virt_to_phys(t.start)).toBe(t.phys);
    expect(k.pgtable.walk(t.start + 0x1234n).pa).toBe(t.phys + 0x1234);
    // The same seed boots the same machine.
    const k2 = boot("x86_64-6.1", { seed: 3, cmdline: "console=ttyS0 loglevel=8", userspace: false });
    expect(k2.proc("iomem")).toBe(k.proc("iomem"));
    expect(boot("x86_64-6.1", { seed: 4, cmdline: "console=ttyS0 loglevel=8", userspace: false }).proc("iomem")).not.toBe(k.proc("iomem"));
  });
  it("mem=256M keeps the image below 256 MiB", () => {
    for (let seed = 0; seed < 10; seed++) {
      const l = fakeBoot("x86_64-6.1", { seed, cmdline: "console=ttyS0 mem=256M" }).layout;
      const bss = l.image.find((s) => s.name === ".bss")!;
      expect(bss.phys + Number(bss.end - bss.start)).toBeLessThanOrEqual(256 * MiB);
    }
  });
});

describe("i386 6.1: physical KASLR below KERNEL_IMAGE_SIZE, virtual = PAGE_OFFSET + physical", () => {
  it("nokaslr (the real log's command line) keeps 16 MiB", () => {
    expect(text(fakeBoot("i386-6.1", { seed: 9 }).layout).phys).toBe(0x1000000);
  });
  it("without nokaslr the image moves below 512 MiB and stays in the direct map", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 16; seed++) {
      const l = fakeBoot("i386-6.1", { seed, cmdline: "console=ttyS0", mem: 2048 * MiB }).layout;
      const t = text(l);
      const bss = l.image.find((s) => s.name === ".bss")!;
      seen.add(t.phys);
      expect(t.phys % PHYSICAL_ALIGN).toBe(0);
      expect(bss.phys + Number(bss.end - bss.start)).toBeLessThanOrEqual(512 * MiB);
      expect(t.start).toBe(0xc0000000n + BigInt(t.phys));
    }
    expect(seen.size).toBeGreaterThan(8);
  });
  it("2.6.26 has no KASLR", () => {
    expect(text(fakeBoot("i386-2.6", { seed: 9, cmdline: "root=/dev/hda1" }).layout).phys).toBe(0x100000);
  });
});

describe("the module load offset (get_module_load_offset)", () => {
  const boot1 = (profile: string, seed: number | undefined, cmdline: string) => boot(profile, { seed, cmdline, userspace: false });
  const offsetOf = (k: ReturnType<typeof boot>) => (k.vmalloc as unknown as { moduleLoadOffset(): number }).moduleLoadOffset();
  /** The lowest vmallocinfo area in [MODULES_VADDR, MODULES_END), minus MODULES_VADDR. */
  const lowestModuleArea = (k: ReturnType<typeof boot>) => {
    const starts = k
      .proc("vmallocinfo")
      .split("\n")
      .map((l) => /^0x([0-9a-f]+)-/.exec(l)?.[1])
      .filter((x): x is string => !!x)
      .map((x) => BigInt("0x" + x))
      .filter((a) => a >= k.layout.modulesVaddr && a < k.layout.modulesEnd);
    return starts.reduce((m, a) => (a < m ? a : m)) - k.layout.modulesVaddr;
  };
  it("is 1..1024 pages with KASLR, on x86_64 and i386, the same per seed, and every module sits above it", () => {
    for (const p of ["x86_64-6.1", "i386-6.1"]) {
      const offs = new Set<number>();
      for (let seed = 0; seed < 6; seed++) {
        const k = boot1(p, seed, "console=ttyS0");
        const off = offsetOf(k);
        expect(off % 4096).toBe(0);
        expect(off).toBeGreaterThanOrEqual(4096);
        expect(off).toBeLessThanOrEqual(1024 * 4096);
        expect(offsetOf(boot1(p, seed, "console=ttyS0"))).toBe(off);
        const m = k.vmalloc.module_alloc(4096, "load_module+0x0/0x0") - k.layout.modulesVaddr;
        expect(m).toBeGreaterThanOrEqual(BigInt(off));
        if (p === "x86_64-6.1") expect(lowestModuleArea(k)).toBeGreaterThanOrEqual(BigInt(off));
        offs.add(off);
      }
      expect(offs.size).toBeGreaterThan(3);
    }
  });
  it("is 0 with nokaslr or without a seed", () => {
    expect(offsetOf(boot1("x86_64-6.1", 5, "console=ttyS0 nokaslr"))).toBe(0);
    expect(offsetOf(boot1("i386-6.1", undefined, "console=ttyS0"))).toBe(0);
  });
});
