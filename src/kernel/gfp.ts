// Models include/linux/gfp.h (2.6.32, 3.4: the <=4.3 bit layout), include/linux/gfp_types.h (6.1) and the %pGg
// name table of include/trace/events/mmflags.h (6.1; for the old eras the 4.x table, see below).
//
// Why per era: the same name has different bits in different kernels (GFP_KERNEL is 0xd0 in 2.6/3.4 and 0xcc0 in
// 6.1), flags came and went (__GFP_WAIT, __GFP_COLD, __GFP_REPEAT before 4.4/4.13/4.15; __GFP_ATOMIC until 6.2),
// and a dmesg hex value is only readable against the right table.
//
// Choices and simplifications, stated:
// - Config-dependent flags take the value of the Debian configs of the era: __GFP_NOTRACK is 0 (no KMEMCHECK),
//   __GFP_SKIP_ZERO / __GFP_SKIP_KASAN_* are 0 (no KASAN_HW_TAGS on these arches), __GFP_NOLOCKDEP is 0.
//   GFP_THISNODE (the composite) is the NUMA definition.
// - 2.6 is modelled as 2.6.32: no __GFP_MEMALLOC (3.6), no __GFP_NO_KSWAPD (2.6.38), no __GFP_OTHER_NODE (3.1?),
//   no __GFP_WRITE (3.2), no GFP_TRANSHUGE (2.6.38). 3.4 has NO_KSWAPD, OTHER_NODE, WRITE and GFP_TRANSHUGE but
//   still no __GFP_MEMALLOC.
// - %pGg exists from 4.5. Kernels of the old eras printed only `mode:0x%x`; pGgSupported(era) says which, and
//   formatGfp() for an old era renders with the 4.x table (which still had __GFP_COLD, __GFP_REPEAT, ...), with
//   __GFP_WAIT in the place of the reclaim bits: an explanation for the learner, never kernel output of that era.

import type { Era, ZoneName } from "./types.ts";

type FlagTable = Readonly<Record<string, number>>;

function oldEraFlags(era: "2.6" | "3.4"): FlagTable {
  const f: Record<string, number> = {
    __GFP_DMA: 0x01,
    __GFP_HIGHMEM: 0x02,
    __GFP_DMA32: 0x04,
    __GFP_MOVABLE: 0x08,
    __GFP_WAIT: 0x10,
    __GFP_HIGH: 0x20,
    __GFP_IO: 0x40,
    __GFP_FS: 0x80,
    __GFP_COLD: 0x100,
    __GFP_NOWARN: 0x200,
    __GFP_REPEAT: 0x400,
    __GFP_NOFAIL: 0x800,
    __GFP_NORETRY: 0x1000,
    __GFP_COMP: 0x4000,
    __GFP_ZERO: 0x8000,
    __GFP_NOMEMALLOC: 0x10000,
    __GFP_HARDWALL: 0x20000,
    __GFP_THISNODE: 0x40000,
    __GFP_RECLAIMABLE: 0x80000,
    __GFP_NOTRACK: 0, // 0x200000 only with CONFIG_KMEMCHECK
  };
  if (era === "3.4") {
    f.__GFP_NO_KSWAPD = 0x400000;
    f.__GFP_OTHER_NODE = 0x800000;
    f.__GFP_WRITE = 0x1000000;
  }
  const W = f.__GFP_WAIT,
    IO = f.__GFP_IO,
    FS = f.__GFP_FS;
  f.GFP_ATOMIC = f.__GFP_HIGH;
  f.GFP_NOWAIT = f.GFP_ATOMIC & ~f.__GFP_HIGH; // 0
  f.GFP_NOIO = W;
  f.GFP_NOFS = W | IO;
  f.GFP_KERNEL = W | IO | FS;
  f.GFP_TEMPORARY = W | IO | FS | f.__GFP_RECLAIMABLE;
  f.GFP_USER = W | IO | FS | f.__GFP_HARDWALL;
  f.GFP_HIGHUSER = f.GFP_USER | f.__GFP_HIGHMEM;
  f.GFP_HIGHUSER_MOVABLE = f.GFP_HIGHUSER | f.__GFP_MOVABLE;
  f.GFP_IOFS = IO | FS;
  f.GFP_THISNODE = f.__GFP_THISNODE | f.__GFP_NOWARN | f.__GFP_NORETRY;
  f.GFP_DMA = f.__GFP_DMA;
  f.GFP_DMA32 = f.__GFP_DMA32;
  if (era === "3.4") {
    f.GFP_TRANSHUGE = f.GFP_HIGHUSER_MOVABLE | f.__GFP_COMP | f.__GFP_NOMEMALLOC | f.__GFP_NORETRY | f.__GFP_NOWARN | f.__GFP_NO_KSWAPD;
  }
  return Object.freeze(f);
}

function era61Flags(): FlagTable {
  const f: Record<string, number> = {
    __GFP_DMA: 0x01,
    __GFP_HIGHMEM: 0x02,
    __GFP_DMA32: 0x04,
    __GFP_MOVABLE: 0x08,
    __GFP_RECLAIMABLE: 0x10,
    __GFP_HIGH: 0x20,
    __GFP_IO: 0x40,
    __GFP_FS: 0x80,
    __GFP_ZERO: 0x100,
    __GFP_ATOMIC: 0x200,
    __GFP_DIRECT_RECLAIM: 0x400,
    __GFP_KSWAPD_RECLAIM: 0x800,
    __GFP_WRITE: 0x1000,
    __GFP_NOWARN: 0x2000,
    __GFP_RETRY_MAYFAIL: 0x4000,
    __GFP_NOFAIL: 0x8000,
    __GFP_NORETRY: 0x10000,
    __GFP_MEMALLOC: 0x20000,
    __GFP_COMP: 0x40000,
    __GFP_NOMEMALLOC: 0x80000,
    __GFP_HARDWALL: 0x100000,
    __GFP_THISNODE: 0x200000,
    __GFP_ACCOUNT: 0x400000,
    __GFP_ZEROTAGS: 0x800000,
    __GFP_SKIP_ZERO: 0, // 0x1000000 only with CONFIG_KASAN_HW_TAGS
    __GFP_SKIP_KASAN_UNPOISON: 0, // 0x2000000 only with CONFIG_KASAN_HW_TAGS
    __GFP_SKIP_KASAN_POISON: 0, // 0x4000000 only with CONFIG_KASAN_HW_TAGS
    __GFP_NOLOCKDEP: 0, // 0x8000000 only with CONFIG_LOCKDEP
  };
  f.__GFP_RECLAIM = f.__GFP_DIRECT_RECLAIM | f.__GFP_KSWAPD_RECLAIM;
  f.GFP_ATOMIC = f.__GFP_HIGH | f.__GFP_ATOMIC | f.__GFP_KSWAPD_RECLAIM;
  f.GFP_KERNEL = f.__GFP_RECLAIM | f.__GFP_IO | f.__GFP_FS;
  f.GFP_KERNEL_ACCOUNT = f.GFP_KERNEL | f.__GFP_ACCOUNT;
  f.GFP_NOWAIT = f.__GFP_KSWAPD_RECLAIM;
  f.GFP_NOIO = f.__GFP_RECLAIM;
  f.GFP_NOFS = f.__GFP_RECLAIM | f.__GFP_IO;
  f.GFP_USER = f.__GFP_RECLAIM | f.__GFP_IO | f.__GFP_FS | f.__GFP_HARDWALL;
  f.GFP_DMA = f.__GFP_DMA;
  f.GFP_DMA32 = f.__GFP_DMA32;
  f.GFP_HIGHUSER = f.GFP_USER | f.__GFP_HIGHMEM;
  f.GFP_HIGHUSER_MOVABLE = f.GFP_HIGHUSER | f.__GFP_MOVABLE | f.__GFP_SKIP_KASAN_POISON | f.__GFP_SKIP_KASAN_UNPOISON;
  f.GFP_TRANSHUGE_LIGHT = (f.GFP_HIGHUSER_MOVABLE | f.__GFP_COMP | f.__GFP_NOMEMALLOC | f.__GFP_NOWARN) & ~f.__GFP_RECLAIM;
  f.GFP_TRANSHUGE = f.GFP_TRANSHUGE_LIGHT | f.__GFP_DIRECT_RECLAIM;
  return Object.freeze(f);
}

const TABLES: Record<Era, FlagTable> = {
  "2.6": oldEraFlags("2.6"),
  "3.4": oldEraFlags("3.4"),
  "6.1": era61Flags(),
};

/** Every __GFP_* bit and GFP_* composite defined in that era, with its value. */
export function gfpFlags(era: Era): Readonly<Record<string, number>> {
  return TABLES[era];
}

/** The value of one flag name in an era; throws for a name the era does not define. */
export function gfp(era: Era, name: string): number {
  const v = TABLES[era][name];
  if (v === undefined) throw new RangeError(`${name} is not defined in Linux ${era}`);
  return v;
}

/** gfpflags_allow_blocking(): may this allocation sleep? 6.1: __GFP_DIRECT_RECLAIM; 2.6/3.4: __GFP_WAIT. */
export function gfpAllowsBlocking(era: Era, gfpMask: number): boolean {
  return era === "6.1" ? (gfpMask & 0x400) !== 0 : (gfpMask & 0x10) !== 0;
}

/** The "may dip into reserves" bit (__GFP_HIGH), 0x20 in every era. */
export function gfpIsHigh(gfpMask: number): boolean {
  return (gfpMask & 0x20) !== 0;
}

/** GFP_ZONEMASK: the four zone-modifier bits (same positions in every era). */
export const GFP_ZONEMASK = 0x0f;

/**
 * gfp_zone(): the highest zone an allocation may use, from GFP_ZONE_TABLE. "BAD" for the combinations the table
 * marks GFP_ZONE_BAD (e.g. __GFP_DMA|__GFP_HIGHMEM), where the kernel hits VM_BUG_ON. `configured` lists the zones
 * the kernel was built with: a zone absent from it (OPT_ZONE_DMA, OPT_ZONE_DMA32, OPT_ZONE_HIGHMEM) reads as Normal,
 * as the OPT_ZONE_* macros do. Without `configured`, all zones count as configured.
 */
export function gfpZone(_era: Era, gfpMask: number, configured?: readonly ZoneName[]): ZoneName | "BAD" {
  const bits = gfpMask & GFP_ZONEMASK;
  let z: ZoneName | "BAD";
  switch (bits) {
    case 0x0:
      z = "Normal";
      break;
    case 0x1:
      z = "DMA";
      break;
    case 0x2:
      z = "HighMem";
      break;
    case 0x4:
      z = "DMA32";
      break;
    case 0x8:
      z = "Normal";
      break; // __GFP_MOVABLE alone
    case 0x9:
      z = "DMA";
      break;
    case 0xa:
      z = "Movable";
      break; // __GFP_MOVABLE|__GFP_HIGHMEM
    case 0xc:
      z = "DMA32";
      break;
    default:
      z = "BAD";
  }
  if (z !== "BAD" && z !== "Normal" && z !== "Movable" && configured && !configured.includes(z)) z = "Normal";
  return z;
}

/** %pGg exists from 4.5 (lib/vsprintf.c flags_string). Older kernels printed only mode:0x%x. */
export function pGgSupported(era: Era): boolean {
  return era === "6.1";
}

// The %pGg name table, in the order of include/trace/events/mmflags.h.
const ORDER_61 = [
  "GFP_TRANSHUGE",
  "GFP_TRANSHUGE_LIGHT",
  "GFP_HIGHUSER_MOVABLE",
  "GFP_HIGHUSER",
  "GFP_USER",
  "GFP_KERNEL_ACCOUNT",
  "GFP_KERNEL",
  "GFP_NOFS",
  "GFP_ATOMIC",
  "GFP_NOIO",
  "GFP_NOWAIT",
  "GFP_DMA",
  "__GFP_HIGHMEM",
  "GFP_DMA32",
  "__GFP_HIGH",
  "__GFP_ATOMIC",
  "__GFP_IO",
  "__GFP_FS",
  "__GFP_NOWARN",
  "__GFP_RETRY_MAYFAIL",
  "__GFP_NOFAIL",
  "__GFP_NORETRY",
  "__GFP_COMP",
  "__GFP_ZERO",
  "__GFP_NOMEMALLOC",
  "__GFP_MEMALLOC",
  "__GFP_HARDWALL",
  "__GFP_THISNODE",
  "__GFP_RECLAIMABLE",
  "__GFP_MOVABLE",
  "__GFP_ACCOUNT",
  "__GFP_WRITE",
  "__GFP_RECLAIM",
  "__GFP_DIRECT_RECLAIM",
  "__GFP_KSWAPD_RECLAIM",
  "__GFP_ZEROTAGS",
];
// The 4.4-4.12 table (the last to carry __GFP_COLD/__GFP_REPEAT/__GFP_NOTRACK/__GFP_OTHER_NODE); __GFP_WAIT stands
// where the 4.4 split put __GFP_RECLAIM/__GFP_DIRECT_RECLAIM. Names the era lacks are skipped.
const ORDER_OLD = [
  "GFP_TRANSHUGE",
  "GFP_HIGHUSER_MOVABLE",
  "GFP_HIGHUSER",
  "GFP_USER",
  "GFP_TEMPORARY",
  "GFP_KERNEL",
  "GFP_NOFS",
  "GFP_ATOMIC",
  "GFP_NOIO",
  "GFP_NOWAIT",
  "GFP_DMA",
  "__GFP_HIGHMEM",
  "GFP_DMA32",
  "__GFP_HIGH",
  "__GFP_IO",
  "__GFP_FS",
  "__GFP_COLD",
  "__GFP_NOWARN",
  "__GFP_REPEAT",
  "__GFP_NOFAIL",
  "__GFP_NORETRY",
  "__GFP_COMP",
  "__GFP_ZERO",
  "__GFP_NOMEMALLOC",
  "__GFP_HARDWALL",
  "__GFP_THISNODE",
  "__GFP_RECLAIMABLE",
  "__GFP_MOVABLE",
  "__GFP_NOTRACK",
  "__GFP_WRITE",
  "__GFP_WAIT",
  "__GFP_NO_KSWAPD",
  "__GFP_OTHER_NODE",
];

type NameMask = readonly [string, number];
function buildNames(era: Era): readonly NameMask[] {
  const t = TABLES[era];
  const order = era === "6.1" ? ORDER_61 : ORDER_OLD;
  const out: NameMask[] = [];
  for (const n of order) {
    const v = t[n];
    if (v) out.push([n, v]); // undefined (not in this era) or 0 (configured out) never print
  }
  return out;
}
const NAMES: Record<Era, readonly NameMask[]> = { "2.6": buildNames("2.6"), "3.4": buildNames("3.4"), "6.1": buildNames("6.1") };

/** The table formatGfp walks, in order (for tests and the explanations a lesson shows). */
export function gfpNameTable(era: Era): readonly NameMask[] {
  return NAMES[era];
}

/**
 * format_flags() over the era's gfpflag_names, as %pGg prints: each name whose whole mask is set, in table order,
 * joined by "|"; leftover bits as 0x%x. Zero prints "" (the tracepoint variant's "none" is not %pGg).
 */
export function formatGfp(era: Era, gfpMask: number): string {
  let flags = gfpMask >>> 0;
  let out = "";
  for (const [name, mask] of NAMES[era]) {
    if (!flags) break;
    if ((flags & mask) >>> 0 !== mask) continue;
    out += name;
    flags = (flags & ~mask) >>> 0;
    if (flags) out += "|";
  }
  if (flags) out += "0x" + flags.toString(16);
  return out;
}
