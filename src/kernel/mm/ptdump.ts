// Models what the kernel tells about one address's translation: arch/x86/mm/fault.c dump_pagetable() and
// arch/arm64/mm/fault.c show_pte() (every level's entry), with the entry bits named as arch/x86/mm/dump_pagetables.c
// and arch/arm64/mm/ptdump.c name them (Linux 6.1). The walk itself is PageTables.walk(): the kernel's own tables in
// simulated frames, read back entry by entry; nothing here recomputes a translation.
//
// Added for the notebook's page-table walk view (JSON only: addresses as "0x..." strings), with the things a learner
// asks next: which address bits index each level, which region and vmap area the address is in, whether it is a
// vmalloc guard page, and who owns the frame it reaches.
// Simplification: bit names for 32-bit ARM follow the ARMv6/v7 short-descriptor formats (section, page table, small
// page) and the Linux shadow PTE's L_PTE_* bits; no LPAE.

import type { Kernel } from "../kernel.ts";
import type { Arch } from "../types.ts";
import type { LevelName, PageTables } from "./pgtable.ts";
import { pageOwnerNames } from "./page_flags.ts";
import { VM_NO_GUARD, type AreaInfo } from "./vmalloc.ts";

/** The state to walk in: by default the kernel as it is now; or a moment captured earlier (PageTables.frozen()). */
export interface WalkView {
  pgtable: PageTables;
  areas: AreaInfo[];
  /** The frames' owners at that moment, as runs [startPfn, count, owner] (PageAllocator.frameOwnerRuns). */
  owners: [number, number, number][];
}

/** The owner of pfn in captured runs, or undefined outside them. */
function ownerInRuns(runs: [number, number, number][], pfn: number): number | undefined {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (pfn < r[0]) hi = mid - 1;
    else if (pfn >= r[0] + r[1]) lo = mid + 1;
    else return r[2];
  }
  return undefined;
}

/** Capture the page tables, vmap areas and frame owners as they are now (cheap: the table frames are a few hundred KiB). */
export function captureWalkView(k: Kernel): WalkView {
  return { pgtable: k.pgtable.frozen(), areas: k.vmalloc?.areas() ?? [], owners: k.pages.frameOwnerRuns() };
}

export interface WalkLevelJson {
  level: LevelName;
  /** A level the architecture folds away (x86_64's P4D with 4-level paging): it repeats the entry above. */
  folded: boolean;
  index: number;
  /** The address bits [hi, lo] (inclusive) that select the entry; null for a folded level. */
  bits: [number, number] | null;
  /** Raw entry, zero-padded to the entry size. */
  entry: string;
  /** 32-bit ARM: the Linux view (pgd_val pair word, shadow PTE) beside the hardware descriptor. */
  linuxEntry?: string;
  present: boolean;
  leaf: boolean;
  /** Names of the set bits (_PAGE_RW, PTE_AF, section XN...). */
  flags: string[];
  tablePhys: string;
  entryPhys: string;
  /** Physical address of the next table, when the entry points to one. */
  next?: string;
  /** A leaf above the PTE level maps this much at once (2 MiB page, 1 MiB section...). */
  mapsBytes?: number;
}

export interface WalkJson {
  addr: string;
  arch: Arch;
  /** How this profile's paging is organised, in words ("4-level paging, P4D folded"). */
  paging: string;
  pgd: string;
  steps: WalkLevelJson[];
  translated: boolean;
  pa?: string;
  pfn?: number;
  /** Size of the mapping that translated it; the low log2(pageSize) bits are the offset. */
  pageSize: number;
  stoppedAt?: LevelName;
  writable: boolean;
  executable: boolean;
  region?: { name: string; kind: string; start: string; end: string };
  /** The vmap area (vmalloc, vmap, ioremap) holding the address, and whether the address is its guard page. */
  area?: { start: string; end: string; caller: string; flags: string[]; owner: string; guard: boolean; pages: number };
  /** Who owns the frame the address reaches, and its zone. */
  frame?: { owner: string; zone?: string };
  /** One or two sentences for the learner: what this walk shows. */
  note: string;
  /** Set by the notebook's session: which moment of the run was walked, and whether "while loaded" exists. */
  when?: "loaded" | "end";
  canLoaded?: boolean;
}

const hexw = (v: bigint | number, w = 0) => "0x" + v.toString(16).padStart(w, "0");

function bitsOf(entry: bigint, names: [number, string][]): string[] {
  return names.filter(([b]) => (entry >> BigInt(b)) & 1n).map(([, n]) => n);
}

/** x86: _PAGE_* names (arch/x86/include/asm/pgtable_types.h); bit 7 is PSE above the PTE level, PAT in a PTE. */
function x86Flags(e: bigint, level: LevelName): string[] {
  return bitsOf(e, [
    [0, "_PAGE_PRESENT"],
    [1, "_PAGE_RW"],
    [2, "_PAGE_USER"],
    [3, "_PAGE_PWT"],
    [4, "_PAGE_PCD"],
    [5, "_PAGE_ACCESSED"],
    [6, "_PAGE_DIRTY"],
    [7, level === "PTE" ? "_PAGE_PAT" : "_PAGE_PSE"],
    [8, "_PAGE_GLOBAL"],
    [63, "_PAGE_NX"],
  ]);
}

/** arm64: descriptor type, then PTE_* / PMD_SECT_* bits (arch/arm64/include/asm/pgtable-hwdef.h). */
function arm64Flags(e: bigint, level: LevelName): string[] {
  if (!(e & 1n)) return [];
  const type = level === "PTE" ? "PAGE" : e & 2n ? "TABLE" : "BLOCK";
  if (type === "TABLE") return ["PTE_VALID", "TABLE"];
  const sh = Number((e >> 8n) & 3n);
  return [
    "PTE_VALID",
    type,
    `ATTRINDX(${Number((e >> 2n) & 7n)})`,
    ...bitsOf(e, [
      [6, "PTE_USER"],
      [7, "PTE_RDONLY"],
    ]),
    ...(sh === 3 ? ["PTE_SHARED"] : sh === 2 ? ["PTE_SH_OUTER"] : []),
    ...bitsOf(e, [
      [10, "PTE_AF"],
      [11, "PTE_NG"],
      [51, "PTE_DBM"],
      [53, "PTE_PXN"],
      [54, "PTE_UXN"],
    ]),
  ];
}

/** 32-bit ARM short descriptors: first level (page table or section) and second level (small page). */
function armFlags(e: bigint, level: LevelName): string[] {
  const t = Number(e & 3n);
  if (level === "PGD") {
    if (t === 1) return ["PMD_TYPE_TABLE", `DOMAIN(${Number((e >> 5n) & 15n)})`];
    if (t !== 2) return [];
    return [
      "PMD_TYPE_SECT",
      ...bitsOf(e, [
        [2, "B"],
        [3, "C"],
        [4, "XN"],
      ]),
      `AP(${Number((e >> 10n) & 3n)})`,
      `TEX(${Number((e >> 12n) & 7n)})`,
      ...bitsOf(e, [
        [15, "APX"],
        [16, "S"],
        [17, "nG"],
      ]),
    ];
  }
  if (!(t & 2)) return [];
  return [
    "PTE_EXT_SMALL",
    ...bitsOf(e, [
      [0, "XN"],
      [2, "B"],
      [3, "C"],
    ]),
    `AP(${Number((e >> 4n) & 3n)})`,
    `TEX(${Number((e >> 6n) & 7n)})`,
    ...bitsOf(e, [
      [9, "APX"],
      [10, "S"],
      [11, "nG"],
    ]),
  ];
}

function flagsFor(arch: Arch, e: bigint, level: LevelName): string[] {
  switch (arch) {
    case "x86_64":
    case "i386":
      return x86Flags(e, level);
    case "arm64":
      return arm64Flags(e, level);
    case "arm":
      return armFlags(e, level);
  }
}

function pagingWords(arch: Arch, levels?: number): string {
  if (arch === "x86_64" && levels === 5) {
    return "5-level paging (LA57: PGD, P4D, PUD, PMD, PTE), 8-byte entries, 4 KiB pages, 57-bit virtual addresses; the direct map uses 2 MiB pages";
  }
  if (arch === "i386" && levels === 3) {
    return "3-level PAE paging (a 4-entry PDPT as the PGD, P4D and PUD folded, PMD 512 x 8 bytes, PTE 512 x 8 bytes); lowmem uses 2 MiB PSE pages";
  }
  switch (arch) {
    case "x86_64":
      return "4-level paging (PGD, P4D folded into the PGD, PUD, PMD, PTE), 8-byte entries, 4 KiB pages; the direct map uses 2 MiB pages";
    case "arm64":
      return "48-bit VA with 4 KiB granule: PGD, P4D folded, PUD, PMD, PTE (8-byte descriptors); the linear map uses 2 MiB blocks";
    case "i386":
      return "2-level paging without PAE (PGD 1024 x 4 bytes, PTE 1024 x 4 bytes); lowmem uses 4 MiB PSE pages";
    case "arm":
      return "ARM short descriptors: a 4096-entry first-level table (1 MiB sections or pointers to 256-entry page tables); lowmem uses sections";
  }
}

const LOG2 = (n: number) => Math.round(Math.log2(n));

function fmtSize(n: number): string {
  if (n >= 1 << 30) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20) return `${n / (1 << 20)} MiB`;
  return `${n / 1024} KiB`;
}

/** The kernel page-table walk for `addr`, with everything the walk view shows. */
export function walkJson(k: Kernel, addr: bigint, view?: WalkView): WalkJson {
  const pt = view?.pgtable ?? k.pgtable;
  const arch = k.profile.arch;
  const bits64 = k.layout.bits === 64;
  const a = bits64 ? BigInt.asUintN(64, addr) : BigInt.asUintN(32, addr);
  const w = pt.walk(a);
  const ew = pt.entrySize * 2;
  const aw = bits64 ? 16 : 8;
  const steps: WalkLevelJson[] = w.steps.map((s) => {
    const lv = pt.levels.find((l) => l.name === s.level)!;
    const width = LOG2(lv.ptrs);
    const out: WalkLevelJson = {
      level: s.level,
      folded: s.folded,
      index: s.index,
      bits: s.folded ? null : [lv.shift + width - 1, lv.shift],
      entry: hexw(s.entry, ew),
      present: s.present,
      leaf: s.leaf,
      flags: s.present ? flagsFor(arch, s.entry, s.level) : [],
      tablePhys: hexw(s.tablePhys),
      entryPhys: hexw(s.entryPhys),
    };
    if (s.linuxEntry !== undefined) out.linuxEntry = hexw(s.linuxEntry, 8);
    if (s.nextTablePhys !== undefined && !s.folded) out.next = hexw(s.nextTablePhys);
    if (s.leaf && s.level !== "PTE" && !s.folded) out.mapsBytes = 2 ** lv.shift;
    return out;
  });
  const res: WalkJson = {
    addr: hexw(a, aw),
    arch,
    paging: pagingWords(arch, pt.levels.filter((l) => !l.folded).length),
    pgd: hexw(pt.pgdPhys),
    steps,
    translated: w.pa >= 0,
    pageSize: w.pageSize,
    writable: w.writable,
    executable: w.executable,
    note: "",
  };
  if (w.stoppedAt) res.stoppedAt = w.stoppedAt;
  const region = k.layout.regions.find((r) => a >= r.start && a < r.end);
  if (region) res.region = { name: region.name, kind: region.kind, start: hexw(region.start, aw), end: hexw(region.end, aw) };
  const area = (view ? view.areas : (k.vmalloc?.areas() ?? [])).find((v) => a >= v.start && a < v.end);
  if (area) {
    const guard = !(area.flags & VM_NO_GUARD) && a >= area.end - 4096n;
    res.area = {
      start: hexw(area.start, aw),
      end: hexw(area.end, aw),
      caller: area.caller,
      flags: area.flagNames,
      owner: area.owner,
      guard,
      pages: area.nr_pages,
    };
  }
  if (w.pa >= 0) {
    const pfn = Math.floor(w.pa / 4096);
    res.pa = hexw(w.pa);
    res.pfn = pfn;
    const o = view ? ownerInRuns(view.owners, pfn) : pfn < k.pages.nrPfns ? k.pages.ownerOf(pfn) : undefined;
    const zone = k.layout.zones.find((z) => pfn >= z.startPfn && pfn < z.endPfn);
    res.frame = { owner: o !== undefined ? (pageOwnerNames[o] ?? "?") : "outside RAM (I/O memory)", zone: zone?.name };
    const size =
      w.pageSize > 4096
        ? `a ${fmtSize(w.pageSize)} ${arch === "arm" ? "section" : arch === "arm64" ? "block" : "page"} at the ${w.steps.find((s) => s.leaf)?.level} level, so the low ${LOG2(w.pageSize)} bits are the offset`
        : "a 4 KiB page, so the low 12 bits are the offset";
    res.note = `${res.addr} translates to physical ${res.pa} (PFN ${pfn}) through ${size}. The frame belongs to ${res.frame.owner}${zone ? ` in zone ${zone.name}` : ""}.`;
    return res;
  }
  const at = w.stoppedAt ?? "PGD";
  if (w.steps.length === 0) {
    res.note =
      arch === "x86_64"
        ? `${res.addr} is not canonical: bits 63 to 47 must all equal bit 47, so the CPU raises a general protection fault before it reads any table.`
        : arch === "arm64"
          ? `${res.addr} is in the lower half (TTBR0, user space); the kernel's table (TTBR1, swapper_pg_dir) covers only addresses starting 0xffff.`
          : `${res.addr} is outside the 32-bit address space.`;
  } else if (res.area?.guard) {
    res.note = `Not mapped: ${res.addr} is the guard page at the end of the vmap area ${res.area.start}-${res.area.end} (${res.area.caller || "no caller"}). The walk stops at the empty ${at} entry, so an access one page past the buffer faults instead of touching someone else's memory.`;
  } else if (res.area) {
    res.note = `Not mapped: ${res.addr} is inside the vmap area ${res.area.start}-${res.area.end} (${res.area.caller || "no caller"}), but no page is mapped there; the walk stops at the empty ${at} entry.`;
  } else if (region?.kind === "user") {
    res.note = `Not mapped: ${res.addr} is a user-space address, and the kernel's own page table (init_mm) maps no user pages; the walk stops at the empty ${at} entry.`;
  } else {
    res.note = `Not mapped: nothing is mapped at ${res.addr}${region ? ` (in ${region.name})` : ""} now; the walk stops at the empty ${at} entry. An access here would fault.`;
  }
  return res;
}
