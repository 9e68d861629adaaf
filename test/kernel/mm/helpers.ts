// A Kernel with a hand-made layout, for page-allocator tests that need a machine the arch code does not (yet)
// build, or a tiny one. Everything but the layout is the real Kernel.
import { vi } from "vitest";
import { Kernel, resolveBootOptions } from "../../../src/kernel/kernel.ts";
import { getProfile } from "../../../src/kernel/profiles.ts";
import { PageAllocator } from "../../../src/kernel/mm/page_alloc.ts";
import { PhysMem } from "../../../src/kernel/mm/physmem.ts";
import type { Layout, Reservation, ZoneSpec } from "../../../src/kernel/types.ts";

vi.mock("../../../src/kernel/fs/all.ts", () => ({}));

const P = 4096;

export interface MiniLayout {
  memory: [number, number][]; // byte ranges
  reservations?: [number, number, string][];
  zones: ZoneSpec[];
  maxLowPfn: number;
  maxPfn: number;
  bits?: 32 | 64;
  pageOffset?: bigint;
  physOffset?: number;
  pkmapBase?: bigint;
  lastPkmap?: number;
  image?: Layout["image"];
}

export function machine(profile: string, m: MiniLayout, opts: { config?: "debug" | "distro"; seed?: number } = {}): Kernel {
  const p = getProfile(profile);
  const k = new Kernel(p, resolveBootOptions(p, { mem: m.maxPfn * P, config: opts.config, seed: opts.seed }));
  const bits = m.bits ?? (p.arch === "x86_64" || p.arch === "arm64" ? 64 : 32);
  const pageOffset = m.pageOffset ?? (bits === 64 ? 0xffff888000000000n : 0xc0000000n);
  const physOffset = m.physOffset ?? 0;
  const layout: Layout = {
    bits,
    pageShift: 12,
    pageSize: P,
    pageOffset,
    physOffset,
    highMemory: pageOffset + BigInt(m.maxLowPfn * P - physOffset),
    vmallocStart: bits === 64 ? 0xffffc90000000000n : 0xf8000000n,
    vmallocEnd: bits === 64 ? 0xffffe8ffffffffffn : 0xff7fe000n,
    modulesVaddr: bits === 64 ? 0xffffffffc0000000n : 0xf8000000n,
    modulesEnd: bits === 64 ? 0xffffffffff000000n : 0xff7fe000n,
    pkmapBase: m.pkmapBase,
    lastPkmap: m.lastPkmap,
    fixaddrStart: bits === 64 ? 0xffffffffff578000n : 0xffdb8000n,
    fixaddrTop: bits === 64 ? 0xffffffffff5ff000n : 0xfffff000n,
    vmemmapStart: bits === 64 ? 0xffffea0000000000n : undefined,
    startKernelMap: bits === 64 ? 0xffffffff80000000n : undefined,
    regions: [],
    image: m.image ?? [],
    memMap: m.memory.map(([start, end]) => ({ start, end, type: "usable" as const })),
    memory: m.memory.map(([start, end]) => ({ start, end })),
    reservations: (m.reservations ?? []).map(([start, end, what]): Reservation => ({ start, end, what })),
    zones: m.zones,
    minLowPfn: 0,
    maxLowPfn: m.maxLowPfn,
    maxPfn: m.maxPfn,
  };
  k.layout = layout;
  k.physmem = new PhysMem(k);
  k.pages = new PageAllocator(k);
  k.pages.mem_init();
  return k;
}

/** A small x86_64 6.1 machine: 32 MiB (or `mib`), DMA [1, 4096) with the first MiB reserved, DMA32 [4096, end). */
export function smallX86(opts: { config?: "debug" | "distro"; mib?: number } = {}): Kernel {
  const { mib = 32, ...bootOpts } = opts;
  const end = mib * 256;
  return machine(
    "x86_64-6.1",
    {
      memory: [
        [0x1000, 0x9f000],
        [0x100000, mib << 20],
      ],
      reservations: [
        [0, 0x100000, "first 1 MiB (BIOS)"],
        [0x1000000, 0x1400000, "kernel image"],
      ],
      zones: [
        { name: "DMA", startPfn: 1, endPfn: 4096 },
        { name: "DMA32", startPfn: 4096, endPfn: end },
        { name: "Normal", startPfn: end, endPfn: end },
      ],
      maxLowPfn: end,
      maxPfn: end,
    },
    bootOpts,
  );
}
