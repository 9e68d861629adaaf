// The simulator's own consistency check (no kernel file models it: the closest are mm/debug_vm_pgtable.c,
// CONFIG_DEBUG_VM's VM_BUG_ONs and slub's validate_slab_cache()). One function, checkKernelInvariants(k), verifies
// the whole machine after any run and returns what is wrong. An empty array means the simulated kernel is
// consistent; anything else is a bug in kmodlab, never the learner's fault (a learner's double free or overflow is
// reported by the kernel's own checkers and must leave these invariants intact).
//
// What it checks, each subsystem's own checkInvariants() first, then across subsystems:
// - frames: every physical frame is in exactly one place: inside one free buddy block or one block on a per-CPU page
//   list (mm/pcp.ts: free, but not in NR_FREE_PAGES), inside one allocated block,
//   or an unmanaged frame (reserved, kernel image, boot memory); allocated blocks carry one owner throughout; and
//   every frame the page allocator says belongs to slab / large kmalloc / vmalloc / page tables is held by exactly
//   one such user, which holds nothing else (the owner array against the slab pages, the vmalloc areas' pages and
//   the page-table pages reachable from the top-level table); memblock reservations never reach the free lists.
// - buddy: free blocks aligned, inside their zone, the /proc/buddyinfo counts equal to the lists' lengths.
// - slab: every live object inside one slot of its slab (requested <= object size, the slot inside the slab's
//   pages), found again by objectAt(); large kmalloc blocks are whole page-allocator blocks of their order.
// - vmalloc: busy areas inside the vmalloc/module ranges and disjoint, a guard page after every guarded area,
//   unmapped; the page-array of an area is itself a busy area.
// - page tables: within the linear map, exactly lowmem RAM is mapped, each page to its own frame.
// - /proc: meminfo MemTotal/MemFree/Slab/PageTables/VmallocUsed and zoneinfo pages free/managed/nr_free_pages
//   parsed back and compared with what the walks above counted.
//
// It reads the allocators' public inspection API and, for the page-table walk, PageTables' entry decoding (kept
// private there; reached through a narrow typed view below, so a rename fails loudly as a violation).

import type { Kernel } from "../kernel.ts";
import { PageOwner, pageOwnerNames, isUnmanagedOwner } from "../mm/page_flags.ts";
import { bootProcessTablePfns } from "../init/boot_tasks.ts";
import { VM_ALLOC, VM_NO_GUARD } from "../mm/vmalloc.ts";
import type { KmemCache, Slab } from "../mm/slub.ts";
import { CHUNK_MASK, CHUNK_SHIFT, PageArray } from "../mm/page_array.ts";
import { renderPagetypeinfo } from "../fs/pagetypeinfo.ts";
import { renderZoneinfo } from "../fs/zoneinfo.ts";
import { VerifiedSlabs, machineKey, remember, verifiedFor, type SlabList } from "./verified.ts";

const PAGE = 4096;
/** Stop collecting after this many violations per check: one broken list can produce millions. */
const MAX_PER_CHECK = 20;

export interface Violation {
  /** The check that failed: "frames", "buddy", "slab", "vmalloc", "pgtable", "proc", or "<subsystem>.checkInvariants". */
  check: string;
  message: string;
  /** The frames the violation is about, when it is about frames. */
  pfns?: number[];
  /**
   * "module" when every frame it is about was freed by the module although another kernel user held it
   * (free_pages() of vmalloc pages, kfree() of a page table...: k.pages.suspectFrees). The real kernel ends up in
   * the same state, silently: it is the module's corruption, faithfully modelled, not a simulator bug.
   * "simulator" otherwise: a bug in kmodlab.
   */
  cause: "simulator" | "module";
}

class Collector {
  readonly out: Violation[] = [];
  private counts = new Map<string, number>();
  add(check: string, message: string, pfns?: number[]): void {
    const n = (this.counts.get(check) ?? 0) + 1;
    this.counts.set(check, n);
    if (n <= MAX_PER_CHECK) this.out.push({ check, message, cause: "simulator", ...(pfns ? { pfns } : {}) });
    else if (n === MAX_PER_CHECK + 1) this.out.push({ check, message: "(more violations of this check not listed)", cause: "simulator" });
  }
  /** Run a check; a throw inside the check is itself a violation (the state made the walk impossible). */
  run(check: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.add(check, `check threw: ${(e as Error)?.message ?? String(e)}`);
    }
  }
}

/** How the check runs; the result is the same either way. */
export interface CheckOptions {
  /** Ask objectAt() about every live slab object instead of deciding a slab at once where it can (slabClean): the
   *  reference the tests hold the closed form to. */
  everyObject?: boolean;
  /**
   * Skip the per-slab checks of the slabs still exactly as a clean check of a machine of the same boot key found them
   * (debug/verified.ts), and remember this state when it is clean and there is no record yet: what a run
   * (`--check-invariants`, the fuzzer) asks for. The violations are the same as without it.
   */
  sinceVerified?: boolean;
}

/** Verify the whole simulated kernel. Pure: reads only (the /proc texts are rendered, nothing is allocated). */
export function checkKernelInvariants(k: Kernel, opts: CheckOptions = {}): Violation[] {
  const c = new Collector();
  subsystemChecks(k, c);
  if (!k.pages) return c.out;
  const frames = new FrameMap(k);
  c.run("frames", () => checkFrames(k, frames, c));
  c.run("buddy", () => checkBuddyinfo(k, c));
  let slabPages = 0;
  let largePages = 0;
  const ver = opts.sinceVerified && !opts.everyObject && k.slab ? verifiedFor(k) : undefined;
  const skip = ver && ver.beginCheck(k.slab) ? ver : undefined;
  if (k.slab) c.run("slab", () => ([slabPages, largePages] = checkSlab(k, frames, c, opts.everyObject === true, skip)));
  let vmallocPages = 0;
  if (k.vmalloc) c.run("vmalloc", () => (vmallocPages = checkVmalloc(k, frames, c)));
  let tablePages = -1;
  if (k.pgtable) {
    // A run's check (sinceVerified) replays a walk of the page tables whose table frames are all still the frozen
    // frames an earlier walk of a machine of the same boot key read (tableWalk); the full check always walks.
    const memo = opts.sinceVerified === true && !opts.everyObject;
    c.run("pgtable", () => (tablePages = checkPageTablePages(k, frames, c, memo)));
    c.run("pgtable", () => checkLinearMap(k, c, memo));
    // The boot's user processes' tables (init/boot_tasks.ts); meminfo counts them, and not the kernel tables 6.1 does
    // not account (PageTables.unaccountedPages).
    const boot = bootProcessTablePfns(k);
    for (const pfn of boot) frames.claim(c, "pgtable", pfn, 1, PageOwner.PageTable, () => "a boot process's page table");
    if (tablePages >= 0) tablePages += boot.length - k.pgtable.unaccountedPages;
  }
  c.run("frames", () => frames.checkUnclaimed(c));
  c.run("proc", () => checkProc(k, frames, c, { slabPages, largePages, vmallocPages, tablePages }));
  // A clean state: the record later checks of this machine compare their slabs with (debug/verified.ts).
  if (opts.sinceVerified && !ver && k.slab && c.out.length === 0) remember(k, new VerifiedSlabs(k.slab, forEachSlab));
  return attribute(k, c.out);
}

/** Mark the violations that are the module's own corruption (see Violation.cause). */
function attribute(k: Kernel, vs: Violation[]): Violation[] {
  const freed = new Set<number>();
  const largeHead = (p: number) => {
    const at = k.slab?.objectAt(k.pages.pfn_to_virt(p));
    return !!at && at.via === "page" && at.pfn === p;
  };
  for (const f of k.pages.suspectFrees) {
    if (/double free/.test(f.reason)) continue;
    const n = 1 << Math.max(0, Math.min(f.order, k.pages.maxOrder - 1));
    for (let p = f.pfn; p < f.pfn + n; p++) freed.add(p);
    // Freeing the head of a large kmalloc with a smaller order leaves its tail pages as KmallocLarge remnants that
    // no kmalloc owns (the kernel leaks them too): they are part of what the module freed.
    if (/KmallocLarge/.test(f.reason)) {
      for (let p = f.pfn + n; p < f.pfn + (1 << (k.pages.maxOrder - 1)) && k.pages.ownerOf(p) === PageOwner.KmallocLarge && !largeHead(p); p++) freed.add(p);
    }
  }
  // The module stored into page-table frames: every check that reads mappings sees the module's corruption.
  const tablesHit = ((k as { mem?: { pageTableWrites?: Set<number> } }).mem?.pageTableWrites?.size ?? 0) > 0;
  const MAPPING_CHECKS = /^(pgtable|vmalloc|vmalloc\.checkInvariants|mem\.checkInvariants|pgtable\.checkInvariants)$/;
  if (!freed.size && !tablesHit) return vs;
  // The module freed a page-table page (a page it had freed before and the kernel handed out again as a table:
  // free_page() twice): the table is still linked in, so meminfo's PageTables and the tables walked disagree.
  const tableFreed = k.pages.suspectFrees.some((f) => f.reason.endsWith(`of ${pageOwnerNames[PageOwner.PageTable]} pages`));
  const out = vs.map((v): Violation =>
    (v.pfns?.length && v.pfns.every((p) => freed.has(p))) ||
    (tableFreed && v.check === "proc" && /PageTables/.test(v.message)) ||
    (tablesHit &&
      (MAPPING_CHECKS.test(v.check) ||
        (v.check === "proc" && /PageTables/.test(v.message)) ||
        (v.check === "frames" && !!v.pfns?.length && v.pfns.every((p) => k.pages.ownerOf(p) === PageOwner.PageTable))))
      ? { ...v, cause: "module" }
      : v,
  );
  // The "more violations" marker of a check whose listed violations are all the module's is the module's too.
  for (const v of out) {
    if (v.message.startsWith("(more violations") && out.filter((w) => w.check === v.check && w !== v).every((w) => w.cause === "module")) v.cause = "module";
  }
  return out;
}

/** Every subsystem's own checkInvariants() (any field of the Kernel that has one, so later parts join by themselves). */
function subsystemChecks(k: Kernel, c: Collector): void {
  for (const [name, sub] of Object.entries(k)) {
    if (!sub || typeof sub !== "object" || sub === k) continue;
    const f = (sub as { checkInvariants?: unknown }).checkInvariants;
    if (typeof f !== "function") continue;
    const check = `${name}.checkInvariants`;
    c.run(check, () => {
      const res = f.call(sub) as unknown;
      if (!Array.isArray(res)) throw new Error(`returned ${typeof res}, not a list of problems`);
      for (const m of res) {
        const msg = String(typeof m === "object" && m && "message" in m ? (m as Violation).message : m);
        // The frames a subsystem's message names ("slab pfn 4685", "at pfn 0x1f00"), for attribution.
        const pfns = [...msg.matchAll(/\bpfn (0x[0-9a-f]+|\d+)\b/g)].map((x) => Number(x[1]));
        c.add(check, msg, pfns.length ? pfns : undefined);
      }
    });
  }
}

// ------------------------------------------------------------------ frames

/** Users a frame can be claimed by, besides the page allocator's own free/allocated blocks. */
const USER_OWNERS = [PageOwner.Slab, PageOwner.KmallocLarge, PageOwner.Vmalloc, PageOwner.PageTable] as const;

class FrameMap {
  /** 0 unclaimed, 1 in a free block, 2 in an allocated block: sparse (page_array.ts), so a 1 TiB machine's free
   *  memory is marked a whole chunk at a time. */
  readonly block: PageArray<Uint8Array>;
  /** Which user (PageOwner value + 1) claimed the frame; 0 none. */
  readonly user: PageArray<Uint8Array>;
  readonly nr: number;
  freePages = 0;
  /** The page allocator's frameOwnerRuns(), once checkFrames has read them (the check changes no owner). */
  ownerRuns: [number, number, number][] | undefined;
  /** The KmallocLarge blocks of checkFrames' walk of the allocations, [head, order, ...] ascending: what
   *  allocations(PageOwner.KmallocLarge) returns, without a second walk. */
  largeBlocks: number[] | undefined;
  constructor(readonly k: Kernel) {
    this.nr = k.pages.nrPfns;
    this.block = new PageArray(new Uint8Array(0), this.nr, 0);
    this.user = new PageArray(new Uint8Array(0), this.nr, 0);
  }
  /** The page allocator's owner of a frame (the checks only read, so the live value is the value at the start). */
  owner(p: number): number {
    return this.k.pages.ownerOf(p);
  }
  /** A user (slab, vmalloc, page tables...) says it holds [pfn, pfn+n) as `owner`. */
  claim(c: Collector, check: string, pfn: number, n: number, owner: number, who: () => string): void {
    for (let p = pfn; p < pfn + n; p++) {
      if (p < 0 || p >= this.nr) {
        c.add(check, `${who()} holds pfn ${p}, outside the machine's ${this.nr} frames`);
        return;
      }
      const o = this.owner(p);
      if (o !== owner) c.add(check, `${who()} holds pfn 0x${p.toString(16)}, which the page allocator says is ${pageOwnerNames[o] ?? o}`, [p]);
      // user.get(p) and user.set(p, ...) on the chunk's own array, read and written straight
      const arr = this.user.own(p >>> CHUNK_SHIFT);
      const u = arr[p & CHUNK_MASK]!;
      if (u) c.add(check, `pfn 0x${p.toString(16)} held twice: by ${who()} and by a ${pageOwnerNames[u - 1]} user before it`, [p]);
      arr[p & CHUNK_MASK] = owner + 1;
    }
  }
  /** Frames the page allocator gives to a user that no user holds: leaked by the simulator's bookkeeping. */
  checkUnclaimed(c: Collector): void {
    const checked = new Set<number>(USER_OWNERS);
    if (!this.k.slab) {
      checked.delete(PageOwner.Slab);
      checked.delete(PageOwner.KmallocLarge);
    }
    if (!this.k.vmalloc) checked.delete(PageOwner.Vmalloc);
    if (!this.k.pgtable) checked.delete(PageOwner.PageTable);
    for (const [start, n, o] of this.ownerRuns ?? this.k.pages.frameOwnerRuns()) {
      if (!checked.has(o)) continue;
      // a chunk at a time, from its array (user.get(p) without the generic load)
      for (let p = start, end = start + n; p < end;) {
        const ci = p >>> CHUNK_SHIFT;
        const arr = this.user.chunks[ci]!;
        const stop = Math.min(end, (ci + 1) << CHUNK_SHIFT);
        for (; p < stop; p++)
          if (arr[p & CHUNK_MASK] === 0) c.add("frames", `pfn 0x${p.toString(16)} is ${pageOwnerNames[o]} but no ${pageOwnerNames[o]} user holds it`, [p]);
      }
    }
  }
}

/** A chunk's byte array read four frames a word (a chunk array is a whole buffer of its own; another is copied). */
function words32(a: Uint8Array): Uint32Array {
  return a.byteOffset % 4 === 0 && a.length % 4 === 0
    ? new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2)
    : new Uint32Array(a.slice().buffer, 0, a.length >>> 2);
}

/** Whether every frame of [a, b) has a nonzero mark (a uniform chunk answers at once). */
function allMarked(m: PageArray<Uint8Array>, a: number, b: number): boolean {
  for (let s = a; s < b;) {
    const ci = s >>> CHUNK_SHIFT;
    const end = Math.min(b, (ci + 1) << CHUNK_SHIFT);
    const u = m.uniformOf(ci);
    if (u !== undefined) {
      if (u === 0) return false;
    } else {
      // the chunk's own array read straight (PageArray.get serves arrays of every element type: a slower load), four
      // frames a word between word boundaries (a word with no zero byte has four marked frames)
      const c = m.chunks[ci]!;
      let j = s & CHUNK_MASK;
      const e = j + (end - s);
      for (; j < e && j & 3; j++) if (c[j] === 0) return false;
      const c32 = words32(c);
      for (; j + 4 <= e; j += 4) {
        const x = c32[j >>> 2]!;
        if (((x - 0x01010101) & ~x & 0x80808080) !== 0) return false;
      }
      for (; j < e; j++) if (c[j] === 0) return false;
    }
    s = end;
  }
  return true;
}

/** Whether some frame of [a, b) has mark v. */
function anyMarked(m: PageArray<Uint8Array>, a: number, b: number, v?: number): boolean {
  for (let s = a; s < b;) {
    const ci = s >>> CHUNK_SHIFT;
    const end = Math.min(b, (ci + 1) << CHUNK_SHIFT);
    const u = m.uniformOf(ci);
    if (u !== undefined) {
      if (v === undefined ? u !== 0 : u === v) return true;
    } else {
      const c = m.chunks[ci]!;
      const e = (s & CHUNK_MASK) + (end - s);
      // frame by frame to a word boundary, then four frames a word (a nonzero word; a word with a byte equal to v:
      // a zero byte in the word xor v in every byte), then the frames after the last word
      let j = s & CHUNK_MASK;
      for (; j < e && j & 3; j++) if (v === undefined ? c[j] !== 0 : c[j] === v) return true;
      const c32 = words32(c);
      const vv = v === undefined ? 0 : (v * 0x01010101) >>> 0;
      for (; j + 4 <= e; j += 4) {
        const x = c32[j >>> 2]!;
        if (v === undefined) {
          if (x !== 0) return true;
        } else {
          const y = (x ^ vv) >>> 0;
          if (((y - 0x01010101) & ~y & 0x80808080) !== 0) return true;
        }
      }
      for (; j < e; j++) if (v === undefined ? c[j] !== 0 : c[j] === v) return true;
    }
    s = end;
  }
  return false;
}

function checkFrames(k: Kernel, f: FrameMap, c: Collector): void {
  const pa = k.pages;
  // Free blocks are marked as ranges: consecutive blocks of a list (the boot's ascending or descending runs) make
  // one range, marked a chunk at a time. The owners are compared a run at a time (frameOwnerRuns) below.
  let ra = -1;
  let rb = -1;
  const flush = () => {
    if (rb > ra) f.block.fill(1, ra, rb);
    ra = rb = -1;
  };
  for (const z of pa.zones) {
    for (let o = 0; o < pa.maxOrder; o++) {
      const list = pa.freeList(z.idx, o);
      if (list.length !== pa.nrFreeAt(z.idx, o))
        c.add("buddy", `${z.name} order ${o}: nr_free ${pa.nrFreeAt(z.idx, o)} but the list holds ${list.length} blocks`);
      for (const head of list) {
        if (head % (1 << o)) c.add("buddy", `${z.name} order ${o}: free block at pfn 0x${head.toString(16)} is not aligned`);
        if (head < z.startPfn || head + (1 << o) > z.endPfn)
          c.add("buddy", `${z.name} order ${o}: free block at pfn 0x${head.toString(16)} lies outside the zone`);
        const end = Math.min(head + (1 << o), f.nr);
        if (head >= end) continue;
        f.freePages += end - head;
        if (!anyMarked(f.block, head, end) && !(head < rb && end > ra)) {
          if (head === rb) rb = end;
          else if (end === ra) ra = head;
          else {
            flush();
            ra = head;
            rb = end;
          }
          continue;
        }
        flush();
        for (let p = head; p < end; p++) {
          if (f.block.get(p)) c.add("frames", `pfn 0x${p.toString(16)} is in two free blocks`, [p]);
          f.block.set(p, 1);
        }
      }
    }
  }
  flush();
  // The per-CPU page lists (mm/pcp.ts): free frames outside the buddy lists, not counted in NR_FREE_PAGES (so not in
  // f.freePages, which /proc's MemFree is compared with), each in one place like any free block.
  for (const b of pa.pcpBlocks()) {
    const z = pa.zones[b.zone]!;
    if (b.pfn % (1 << b.order) || b.pfn < z.startPfn || b.pfn + (1 << b.order) > z.endPfn)
      c.add("buddy", `${z.name} pcp list: order-${b.order} block at pfn 0x${b.pfn.toString(16)} misplaced`);
    for (let p = b.pfn; p < Math.min(b.pfn + (1 << b.order), f.nr); p++) {
      if (f.block.get(p)) c.add("frames", `pfn 0x${p.toString(16)} is on a pcp list and in another free block`, [p]);
      f.block.set(p, 1);
    }
  }
  const large: number[] = [];
  const block = (head: number, order: number, owner: number): void => {
    if (owner === PageOwner.KmallocLarge) large.push(head, order);
    const end = Math.min(head + (1 << order), f.nr);
    // A block of 4 pages or more in the common case at once: no frame of it marked yet and every one of its owner
    // (the loop below would find nothing); else the loop, which says what is wrong frame by frame.
    if (order >= 2 && head < end && !anyMarked(f.block, head, end) && pa.ownedAllBy(head, end, owner)) {
      f.block.fill(2, head, end);
      return;
    }
    for (let p = head; p < head + (1 << order) && p < f.nr; p++) {
      // f.block.get(p), then set(p, 2), on the chunk's own array
      const arr = f.block.own(p >>> CHUNK_SHIFT);
      const b = arr[p & CHUNK_MASK];
      if (b === 1) c.add("frames", `pfn 0x${p.toString(16)} is free and also inside the allocated order-${order} block at 0x${head.toString(16)}`, [p]);
      else if (b === 2) c.add("frames", `pfn 0x${p.toString(16)} is inside two allocated blocks (one at 0x${head.toString(16)})`, [p]);
      arr[p & CHUNK_MASK] = 2;
      // the head's owner is the one forEachAllocation read (the check writes no owner): only the others are read again
      if (p === head) continue;
      const o = f.owner(p);
      if (o !== owner)
        c.add("frames", `order-${order} ${pageOwnerNames[owner]} block at 0x${head.toString(16)}: pfn 0x${p.toString(16)} owned by ${pageOwnerNames[o]}`, [p]);
    }
  };
  // The allocated blocks a run at a time (forEachAllocationRun: blocks of one owner, each starting where the one
  // before ends; a full-RAM arm-3.4-msm8x25 fuzz machine holds 83,845 blocks in 70 runs). A run none of whose frames is marked yet and
  // every one of whose frames is of its owner is what block() would find clean block by block (the blocks do not
  // overlap, so none reads a mark another made): marked 2 at once. Any other run, and the large kmallocs' (listed
  // block by block), goes to block() one block at a time, in order, as without runs.
  pa.forEachAllocationRun((a, b, owner, n) => {
    if (n === 1) block(a, Math.log2(b - a), owner);
    else if (owner !== PageOwner.KmallocLarge && b <= f.nr && !anyMarked(f.block, a, b) && pa.ownedAllBy(a, b, owner)) f.block.fill(2, a, b);
    else pa.forEachAllocationIn(a, b, block);
  });
  f.largeBlocks = large; // the walk is whole: checkSlab reads the large kmallocs' blocks from it
  const ownerRuns = (f.ownerRuns = pa.frameOwnerRuns()); // read by the checks below and checkUnclaimed
  for (const [start, n, o] of ownerRuns) {
    const end = start + n;
    // Bad: taken off the free lists after "BUG: Bad page state" and leaked on purpose, outside any block.
    if (o === PageOwner.Free || (!isUnmanagedOwner(o) && o !== PageOwner.Bad)) {
      if (allMarked(f.block, start, end) && (o !== PageOwner.Free || !anyMarked(f.block, start, end, 2))) continue;
    } else continue;
    for (let p = start; p < end; p++) {
      const b = f.block.get(p);
      if (o === PageOwner.Free && b !== 1) {
        if (b === 0) c.add("frames", `pfn 0x${p.toString(16)} is Free but in no free list`, [p]);
      } else if (o !== PageOwner.Free && !b) c.add("frames", `pfn 0x${p.toString(16)} is ${pageOwnerNames[o]} but in no allocated block`, [p]);
    }
  }
  // Every frame of a free block is owned Free.
  for (const [start, n, o] of ownerRuns) {
    if (o === PageOwner.Free || !anyMarked(f.block, start, start + n, 1)) continue;
    for (let p = start; p < start + n; p++)
      if (f.block.get(p) === 1) c.add("frames", `pfn 0x${p.toString(16)} is in a free block but owned by ${pageOwnerNames[o]}`, [p]);
  }
  // memblock reservations never reach the buddy allocator, except what free_reserved_area() gave back (the initrd,
  // __init, the image's gaps, CMA: init/free_initmem.ts).
  // The released ranges, sorted by start: a reservation's frames outside all of them are its pieces below.
  const released = [...k.pages.released].sort((x, y) => x.start - y.start);
  for (const r of k.layout.reservations) {
    const a = Math.floor(r.start / PAGE);
    const b = Math.min(Math.ceil(r.end / PAGE), f.nr);
    if (!anyMarked(f.block, a, b, 1)) continue;
    // [a, b) less every released range, in ascending pieces; in each piece, the frames marked free, found a chunk
    // at a time with the array's indexOf (the frames in order, as a walk of every frame would find them)
    let from = a;
    for (let i = 0; from < b; i++) {
      const rel = released[i];
      const to = rel ? Math.min(b, Math.max(from, rel.start)) : b;
      for (let p = from; p < to;) {
        const ci = p >>> CHUNK_SHIFT;
        const stop = Math.min(to, (ci + 1) << CHUNK_SHIFT);
        const u = f.block.uniformOf(ci);
        if (u === undefined || u === 1) {
          const arr = f.block.chunks[ci]!;
          const base = ci << CHUNK_SHIFT;
          for (let j = arr.indexOf(1, p - base); j >= 0 && base + j < stop; j = arr.indexOf(1, j + 1))
            c.add("frames", `pfn 0x${(base + j).toString(16)} of the '${r.what}' reservation is on the free lists`, [base + j]);
        }
        p = stop;
      }
      if (!rel) break;
      from = Math.max(from, rel.end);
    }
  }
}

/** /proc/buddyinfo parsed back: one line per populated zone, nr_free per order. */
function checkBuddyinfo(k: Kernel, c: Collector): void {
  const pa = k.pages;
  const lines = k.proc("buddyinfo").split("\n").filter(Boolean);
  const populated = pa.zones.filter((z) => z.present > 0);
  if (lines.length !== populated.length) c.add("buddy", `buddyinfo has ${lines.length} lines for ${populated.length} populated zones`);
  for (const line of lines) {
    const m = /^Node 0, zone\s+(\S+)\s+([\d\s]+)$/.exec(line);
    if (!m) {
      c.add("buddy", `buddyinfo line not understood: ${JSON.stringify(line)}`);
      continue;
    }
    const z = pa.zones.find((x) => x.name === m[1]);
    if (!z) {
      c.add("buddy", `buddyinfo names zone ${m[1]}, which does not exist`);
      continue;
    }
    const counts = m[2]!.trim().split(/\s+/).map(Number);
    const want = Array.from({ length: pa.maxOrder }, (_, o) => pa.freeList(z.idx, o).length);
    if (counts.join(",") !== want.join(",")) c.add("buddy", `buddyinfo ${z.name}: ${counts.join(" ")} but the free lists hold ${want.join(" ")}`);
  }
  if (pa.era === "6.1") checkPagetypeinfo(k, c);
}

/** /proc/pagetypeinfo (6.1): each migratetype's row is the length of its free_list[], the lists of a zone add up to
 *  its nr_free (buddyinfo), and the block counts cover the zone's span. */
function checkPagetypeinfo(k: Kernel, c: Collector): void {
  const pa = k.pages;
  const names = pa.migratetypeNames();
  const sums = new Map<string, number[]>();
  for (const line of renderPagetypeinfo(k).split("\n")) {
    const m = /^Node\s+0, zone\s+(\S+), type\s+(\S+)\s+([\d\s>]+)$/.exec(line);
    if (!m) continue;
    const z = pa.zones.find((x) => x.name === m[1]);
    const mt = names.indexOf(m[2]!);
    if (!z || mt < 0) {
      c.add("buddy", `pagetypeinfo line not understood: ${JSON.stringify(line)}`);
      continue;
    }
    // the kernel stops counting a list at 100000 blocks and prints ">100000"
    const cells = m[3]!.trim().split(/\s+/);
    const want = Array.from({ length: pa.maxOrder }, (_, o) => (mt < pa.nrMt ? pa.freeList(z.idx, o, mt).length : 0));
    const wantCells = want.map((n) => (n >= 100000 ? ">100000" : String(n)));
    if (cells.join(",") !== wantCells.join(",")) c.add("buddy", `pagetypeinfo ${z.name} ${m[2]}: ${cells.join(" ")} but its free lists hold ${want.join(" ")}`);
    const s = sums.get(z.name) ?? new Array<number>(pa.maxOrder).fill(0);
    want.forEach((n, o) => (s[o] += n));
    sums.set(z.name, s);
  }
  for (const z of pa.zones) {
    if (z.present === 0) continue;
    const want = Array.from({ length: pa.maxOrder }, (_, o) => pa.nrFreeAt(z.idx, o));
    const got = sums.get(z.name);
    if (!got || got.join(",") !== want.join(","))
      c.add("buddy", `pagetypeinfo ${z.name}: the types add up to ${got?.join(" ")} but nr_free is ${want.join(" ")}`);
    const blocks = pa.pageblockCounts(z.idx).reduce((a, b) => a + b, 0);
    // every pageblock start of the zone's span that has a struct page (SPARSEMEM's absent sections have none)
    const span = pa.memmapPageblocks(z.idx);
    if (blocks !== span) c.add("buddy", `pagetypeinfo ${z.name}: ${blocks} pageblocks counted for a span of ${span}`);
  }
}

// ------------------------------------------------------------------ slab

/** Each slab of a cache with the list it is on (0 current, 1 partial, 2 full, 3 free), in that order. */
function forEachSlab(cache: KmemCache, visit: (slab: Slab, list: SlabList) => void): void {
  if (cache.cur) visit(cache.cur, 0);
  for (let s = cache.partial.head; s; s = s.next) visit(s, 1);
  for (let s = cache.full.head; s; s = s.next) visit(s, 2);
  for (let s = cache.free.head; s; s = s.next) visit(s, 3);
}

/**
 * Whether checkSlab's per-object loop would find nothing in a slab of `cache`, decided without an objectAt() call
 * per object; false whenever it cannot tell, and the loop runs as before. So the check reports exactly what the loop
 * reports, object by object, on every slab; it skips the loop (a few thousand slabs after a 6.1 debug boot, and an
 * objectAt() of ~1 us per live object) where the loop's predicates hold for every live object at once:
 * - requested >= 0 and <= max(objectSize, size): read for each live object; nothing to read in a uniform boot slab
 *   (Slab.uniformBoot: no per-object array exists, every object reads live with requested = the object size, and
 *   nothing here creates the arrays);
 * - fits in its slab: the object addresses objBase + i * size grow with i, so the first and the last index decide
 *   (for every index, the live ones among them);
 * - objectAt(a) finds the live object starting at a, in this cache: objectAt takes the slab that slabOf(a) gives
 *   (the slab registered for a's frame, a linear-map address), then the index floor((a - base - slotStart) / size),
 *   which is i for a = objBase + i * size exactly when 0 <= objBase - base - slotStart < size, and reads live[i]
 *   (live, as the loop asks only about live objects). Every object starts inside [base, end) (the fit above, and
 *   last < end), so inside the slab's frames when base is the address of its first frame: those frames must all be
 *   registered to this slab, and the first and the last object in the linear map (one interval: every object
 *   between is in it too).
 * That derivation is objectAt()'s code read once; so that a change there cannot leave it stale, objectAt() itself is
 * asked about the first and the last live object of one slab per cache (`probed`: the caches already asked) and
 * must agree. What differs between slabs of a cache (their frames' registration, their geometry, their objects'
 * arrays) is checked for every slab above.
 */
function slabClean(sa: Kernel["slab"], slab: Slab, cache: KmemCache, bytes: number, probed: Set<KmemCache>, tailEntry = false): boolean {
  if (slab.cache !== cache) return false;
  const n = slab.objects;
  if (!(n > 0)) return true; // the loop runs over no index
  if (!Number.isSafeInteger(cache.size) || cache.size <= 0 || !Number.isSafeInteger(cache.objectSize) || cache.objectSize < 0) return false;
  // the first and the last live index, and each live object's requested size
  let lo = 0;
  let hi = n - 1;
  if (!slab.uniformBoot()) {
    lo = hi = -1;
    const most = Math.max(cache.objectSize, cache.size);
    for (let i = 0; i < n; i++) {
      if (!slab.liveAt(i)) continue;
      const req = slab.requestedAt(i);
      if (req < 0 || req > most) return false;
      if (lo < 0) lo = i;
      hi = i;
    }
    if (lo < 0) return true; // no live object: the loop asks about none
  }
  // In numbers from the slab's base, one bigint subtraction: first = objBase = base + d, last = first + (n-1) * size,
  // end = base + bytes. The linear map is one interval: the first and the last object lie in [base, end), so base and
  // end - 1 inside it put them inside it (stricter than asking about them: false sends the slab to the loop).
  const d = Number(slab.objBase - slab.base);
  const lastOff = d + (n - 1) * cache.size;
  if (!Number.isSafeInteger(d) || !Number.isSafeInteger(lastOff + cache.objectSize)) return false;
  if (d < 0 || lastOff + cache.objectSize > bytes) return false;
  const lead = d - slab.slotStart;
  if (!(lead >= 0 && lead < cache.size)) return false;
  if (lastOff >= bytes || !sa.isLinear(slab.base) || !sa.isLinear(slab.base + BigInt(bytes - 1)) || sa.pfnOf(slab.base) !== slab.pfn) return false;
  // (a tail entry's frames are its own by the shared index: slab.checkInvariants reports a Slab registered over one)
  if (!tailEntry) for (let p = slab.pfn, e = slab.pfn + (1 << slab.order); p < e; p++) if (sa.objectSlabAtPfn(p) !== slab) return false;
  if (probed.has(cache)) return true;
  for (const a of [slab.addr(lo), slab.addr(hi)]) {
    const at = sa.objectAt(a);
    if (!at || at.start !== a || !at.live || at.cache !== cache.name) return false;
  }
  probed.add(cache);
  return true;
}

/** Returns [pages in slabs, pages in large kmallocs]. */
function checkSlab(k: Kernel, f: FrameMap, c: Collector, everyObject: boolean, verified?: VerifiedSlabs): [number, number] {
  const sa = k.slab;
  const seen = new Set<Slab>();
  const probed = new Set<KmemCache>();
  let slabPages = 0;
  const ix = sa.tailIndex();
  const tailsLinear = !!ix && ix.start.length > 0 && inLinearMap(sa, k, ix.start[0]!, ix.end[ix.end.length - 1]! - ix.start[0]!);
  for (const cache of sa.cacheList) {
    if (cache.aliasOf) continue; // an alias has no slabs of its own
    const record = verified?.covers(cache) ? verified : undefined;
    forEachSlab(cache, (slab, list) => {
      if (seen.has(slab)) {
        c.add("slab", `${cache.name}: slab at pfn 0x${slab.pfn.toString(16)} is on two lists`);
        return;
      }
      seen.add(slab);
      if (slab.cache !== cache) c.add("slab", `${cache.name}: holds a slab of ${slab.cache.name}`);
      const pages = 1 << slab.order;
      slabPages += pages;
      f.claim(c, "slab", slab.pfn, pages, PageOwner.Slab, () => `${cache.name} slab at pfn 0x${slab.pfn.toString(16)}`);
      if (!everyObject && (record?.isClean(sa, slab, cache, list) || slabClean(sa, slab, cache, PAGE * pages, probed))) return;
      eachLiveObject(sa, c, slab, cache, pages);
    });
    // The tail of the full list (mm/slub_boot_tail.ts): entries nothing wrote, shared with the machine the boot made.
    // Each entry's frames are claimed as any slab's; its per-slab checks are slabClean's closed form, whose answer
    // depends only on the cache's geometry and the entry's shape (order, objects, first slot) and frames: asked once
    // per shape of a cache per check for the first entry of that shape; the rest differ from it only in their frames,
    // which all lie in the linear map when the first and the last frame of the shared index do (one interval).
    const t = cache.bootTail;
    if (t) {
      const verdicts = new Map<number, boolean>();
      for (let j = 0; j < t.length; j++) {
        const pfn = t.pfn[j]!;
        const pages = 1 << t.order[j]!;
        slabPages += pages;
        f.claim(c, "slab", pfn, pages, PageOwner.Slab, () => `${cache.name} slab at pfn 0x${pfn.toString(16)}`);
        if (!everyObject) {
          const shape = (t.order[j]! * 0x10000 + t.objects[j]!) * 0x10000 + t.slotStart[j]!;
          let ok = verdicts.get(shape);
          if (ok === undefined) verdicts.set(shape, (ok = slabClean(sa, sa.tailSlabView(cache, t, j), cache, PAGE * pages, probed, true)));
          if (ok && tailsLinear) continue;
        }
        eachLiveObject(sa, c, sa.tailSlabView(cache, t, j), cache, pages);
      }
    }
  }
  // Large kmallocs: each KmallocLarge block of the page allocator is one whole large object, and the slab
  // allocator's own record of them adds up to the same pages.
  let largePages = 0;
  const large = largeAllocations(k, f);
  for (const a of large) {
    const pages = 1 << a.order;
    largePages += pages;
    f.claim(c, "slab", a.pfn, pages, PageOwner.KmallocLarge, () => `the large kmalloc at pfn 0x${a.pfn.toString(16)}`);
    const at = sa.objectAt(k.pages.pfn_to_virt(a.pfn));
    if (!at || at.via !== "page" || at.pfn !== a.pfn || at.slot !== PAGE * pages || at.requested > at.slot || at.requested < 0) {
      c.add(
        "slab",
        `the order-${a.order} KmallocLarge block at pfn 0x${a.pfn.toString(16)} is not a large kmalloc of its size (${at ? `${at.via} pfn 0x${at.pfn.toString(16)} slot ${at.slot} requested ${at.requested}` : "objectAt finds nothing"})`,
        at ? [at.pfn] : [a.pfn],
      );
    }
  }
  const recorded = sa.pagesUsed().large;
  if (recorded !== largePages) {
    // The slab allocator's large kmallocs whose head frame the page allocator no longer gives to KmallocLarge.
    const stale = sa
      .liveObjects()
      .filter((o) => o.via === "page" && k.pages.ownerOf(o.pfn) !== PageOwner.KmallocLarge)
      .map((o) => o.pfn);
    // ...and the page allocator's KmallocLarge blocks that are no large kmalloc's head.
    for (const a of large) {
      const at = sa.objectAt(k.pages.pfn_to_virt(a.pfn));
      if (!at || at.via !== "page" || at.pfn !== a.pfn) stale.push(a.pfn);
    }
    c.add("slab", `the slab allocator records ${recorded} pages of large kmallocs, the page allocator ${largePages}`, stale);
  }
  return [slabPages, largePages];
}

/** Whether frames [pfn, pfn + pages) all lie in the slab allocator's linear map, each at its own address (one
 *  interval, one offset: the ends decide). */
function inLinearMap(sa: Kernel["slab"], k: Kernel, pfn: number, pages: number): boolean {
  const base = k.pages.page_address(pfn);
  const last = k.pages.page_address(pfn + pages - 1);
  return sa.isLinear(base) && sa.isLinear(last + BigInt(PAGE - 1)) && sa.pfnOf(base) === pfn && sa.pfnOf(last) === pfn + pages - 1;
}

/** checkSlab's per-object loop: every live object of a slab inside it, its size sane, and found by objectAt. */
function eachLiveObject(sa: Kernel["slab"], c: Collector, slab: Slab, cache: KmemCache, pages: number): void {
  const end = slab.base + BigInt(PAGE * pages);
  for (let i = 0; i < slab.objects; i++) {
    if (!slab.liveAt(i)) continue;
    const a = slab.addr(i);
    if (a < slab.base || a + BigInt(cache.objectSize) > end) c.add("slab", `${cache.name}: object ${i} at 0x${a.toString(16)} does not fit in its slab`);
    const req = slab.requestedAt(i);
    if (req < 0 || req > Math.max(cache.objectSize, cache.size))
      c.add("slab", `${cache.name}: object ${i} at 0x${a.toString(16)} holds ${req} bytes in a ${cache.objectSize}-byte object`);
    const at = sa.objectAt(a);
    if (!at || at.start !== a || !at.live || at.cache !== cache.name)
      c.add(
        "slab",
        `${cache.name}: live object at 0x${a.toString(16)} is not found there by objectAt (${at ? `${at.cache} start 0x${at.start.toString(16)} live ${at.live}` : "nothing"})`,
      );
  }
}

/** allocations(PageOwner.KmallocLarge)'s blocks: from checkFrames' walk when it ran whole, else walked here. */
function largeAllocations(k: Kernel, f: FrameMap): { pfn: number; order: number }[] {
  const owners = (k.pages as unknown as { ownerCount?: Float64Array }).ownerCount;
  if (!f.largeBlocks || !owners) return k.pages.allocations(PageOwner.KmallocLarge).filter((a) => a.owner === PageOwner.KmallocLarge);
  if (!owners[PageOwner.KmallocLarge]) return []; // allocations(owner) answers so without walking
  const out: { pfn: number; order: number }[] = [];
  for (let i = 0; i < f.largeBlocks.length; i += 2) out.push({ pfn: f.largeBlocks[i]!, order: f.largeBlocks[i + 1]! });
  return out;
}

// ------------------------------------------------------------------ vmalloc

/** Returns the pages held by vmalloc areas (VM_ALLOC). */
function checkVmalloc(k: Kernel, f: FrameMap, c: Collector): number {
  const v = k.vmalloc;
  const inRanges = (s: number, e: number) => v.ranges.some((r) => s >= r.start && e <= r.end);
  let pages = 0;
  let prevEnd = -1;
  const starts = new Set<number>();
  for (const n of v.busy.inorder()) {
    const where = `area 0x${(BigInt(n.start) * 4096n).toString(16)}`;
    if (!inRanges(n.start, n.end)) c.add("vmalloc", `${where} lies outside the vmalloc and module ranges`);
    if (n.start < prevEnd) c.add("vmalloc", `${where} overlaps the area before it`);
    prevEnd = n.end;
    starts.add(n.start);
    const vm = n.data?.vm;
    if (!vm) continue;
    if (BigInt(n.start) * 4096n !== vm.addr) c.add("vmalloc", `${where}: vm_struct says 0x${vm.addr.toString(16)}`);
    if (vm.size > (n.end - n.start) * PAGE) c.add("vmalloc", `${where}: vm_struct size ${vm.size} larger than the area`);
    const guarded = !(vm.flags & VM_NO_GUARD) && !vm.noGuard;
    if (guarded) {
      const guardVpn = n.start + vm.size / PAGE - 1;
      if (vm.size < PAGE * 2 && vm.flags & VM_ALLOC) c.add("vmalloc", `${where}: a guarded vmalloc area of ${vm.size} bytes has no room for its guard page`);
      if (k.pgtable.pfnAt(guardVpn) >= 0) c.add("vmalloc", `${where}: guard page 0x${(BigInt(guardVpn) * 4096n).toString(16)} is mapped`);
    }
    if (vm.flags & VM_ALLOC && vm.pages) {
      if (vm.pages.length !== vm.nr_pages) c.add("vmalloc", `${where}: nr_pages ${vm.nr_pages} but ${vm.pages.length} pages`);
      pages += vm.pages.length;
      for (const pfn of vm.pages) f.claim(c, "vmalloc", pfn, 1, PageOwner.Vmalloc, () => `vmalloc ${where}`);
    }
  }
  // vmalloc() areas the module released with vunmap()/iounmap(): the pages are leaked, as in the kernel.
  for (const l of v.leaked) {
    pages += l.pages.length;
    for (const pfn of l.pages) f.claim(c, "vmalloc", pfn, 1, PageOwner.Vmalloc, () => `vmalloc area 0x${l.addr.toString(16)} (leaked by ${l.by})`);
  }
  // A nested page array (vm->pages allocated with vmalloc) is itself a busy area.
  for (const n of v.busy.inorder()) {
    const vm = n.data?.vm;
    if (vm?.pagesArrayAddr && !starts.has(Number(vm.pagesArrayAddr >> 12n)))
      c.add("vmalloc", `area 0x${vm.addr.toString(16)}: its page array 0x${vm.pagesArrayAddr.toString(16)} is not a busy area`);
  }
  return pages;
}

// ------------------------------------------------------------------ page tables

/** PageTables' private entry decoding, used to enumerate the table pages (see the file header). */
interface PtInternals {
  real: { name: string; shift: number; ptrs: number }[];
  entrySize: number;
  pgdPhys: number;
  isPresent(lo: number, level: unknown): boolean;
  isLeaf(lo: number, level: unknown): boolean;
  /** isLeaf() is true for every entry of the level. */
  allLeaves(level: unknown): boolean;
  entryAddr(lo: number, hi: number, level: unknown, leaf: boolean): number;
  /** The table's nonzero entries as flat [index, lo, hi] triples (decoded once per frame every copy shares). */
  nonzeroEntries(table: number, ptrs: number): readonly number[];
}

/** PageTables.forEachMapped() a leaf at a time: cb(first vpn, its pfn, pages) for each present leaf in [startVpn, endVpn). */
function forEachMappedRange(pt: PtInternals, startVpn: number, endVpn: number, cb: (vpn: number, pfn: number, n: number) => void): void {
  const lv = pt.real;
  const rec = (table: number, depth: number, baseVpn: number): void => {
    const level = lv[depth]!;
    const span = 2 ** (level.shift - 12);
    const first = Math.max(0, Math.floor((startVpn - baseVpn) / span));
    const last = Math.min(level.ptrs - 1, Math.floor((endVpn - 1 - baseVpn) / span));
    const ents = pt.nonzeroEntries(table, level.ptrs); // a zero entry is present at no level
    for (let e = 0; e < ents.length; e += 3) {
      const i = ents[e]!;
      if (i < first || i > last) continue;
      const lo = ents[e + 1]!;
      if (!pt.isPresent(lo, level)) continue;
      const hi = ents[e + 2]!;
      const v = baseVpn + i * span;
      if (pt.isLeaf(lo, level)) {
        const pfn = pt.entryAddr(lo, hi, level, true) / PAGE;
        const a = Math.max(v, startVpn);
        const b = Math.min(v + span, endVpn);
        if (b > a) cb(a, pfn + (a - v), b - a);
        continue;
      }
      rec(pt.entryAddr(lo, hi, level, false), depth + 1, v);
    }
  };
  const top = lv[0]!;
  const topSpan = 2 ** (top.shift - 12) * top.ptrs;
  rec(pt.pgdPhys, 0, Math.floor(startVpn / topSpan) * topSpan);
}

/** Walk every table reachable from the top level; each table page must be a PageTable frame. Returns their count. */
function checkPageTablePages(k: Kernel, f: FrameMap, c: Collector, memo = false): number {
  const real = k.pgtable as unknown as PtInternals;
  for (const m of ["nonzeroEntries", "isPresent", "isLeaf", "allLeaves", "entryAddr"] as const) {
    if (typeof real[m] !== "function") throw new Error(`PageTables.${m} is gone: update the table walk in debug/invariants.ts`);
  }
  const lv = real.real;
  const pages = new Set<number>();
  const topPfn = Math.floor(real.pgdPhys / PAGE);
  // The top level: a buddy page (PageTable) except on 32-bit ARM (swapper_pg_dir, reserved with the kernel).
  const topClaimed = f.owner(topPfn) === PageOwner.PageTable;
  if (topClaimed) {
    pages.add(topPfn);
    f.claim(c, "pgtable", topPfn, 1, PageOwner.PageTable, () => "the top-level table");
  } else if (k.profile.arch !== "arm")
    c.add("pgtable", `the top-level table at 0x${real.pgdPhys.toString(16)} is ${pageOwnerNames[f.owner(topPfn)]}, not PageTable`, [topPfn]);
  else {
    // 32-bit ARM: swapper_pg_dir's 16 KiB must be memory the buddy allocator never hands out.
    for (let p = topPfn; p < topPfn + 4; p++) {
      if (!isUnmanagedOwner(f.owner(p)) || f.block.get(p))
        c.add(
          "pgtable",
          `swapper_pg_dir frame 0x${p.toString(16)} is ${f.block.get(p) === 1 ? "on the free lists" : `owned by ${pageOwnerNames[f.owner(p)]}`}`,
          [p],
        );
    }
  }
  // What the walk finds, in order: a table to claim (claimed now, against the frame map and the owners as they are)
  // or a violation. tableWalk replays it from a record when every table frame the recorded walk read is unchanged.
  const claim = (pfn: number, depth: number, next: number) =>
    f.claim(c, "pgtable", pfn, 1, PageOwner.PageTable, () => `the ${lv[depth]!.name} table at 0x${next.toString(16)}`);
  const add = (msg: string) => c.add("pgtable", msg);
  const n = tableWalk(k, memo ? `pages ${topClaimed ? topPfn : -1}` : undefined, { claim, add }, (pt, out) => {
    const rec = (table: number, depth: number): void => {
      const level = lv[depth]!;
      // a table whose every entry is a leaf (the PTE level) points to no table and below no level: nothing to read
      if (pt.allLeaves(level)) return;
      const ents = pt.nonzeroEntries(table, level.ptrs); // a zero entry is present at no level
      for (let e = 0; e < ents.length; e += 3) {
        const epa = table + ents[e]! * pt.entrySize;
        const lo = ents[e + 1]!;
        if (!pt.isPresent(lo, level) || pt.isLeaf(lo, level)) continue;
        const next = pt.entryAddr(lo, ents[e + 2]!, level, false);
        const pfn = Math.floor(next / PAGE);
        if (depth + 1 >= lv.length) {
          out.add(`a ${level.name} entry at 0x${epa.toString(16)} points below the last level`);
          continue;
        }
        // On ARM one page holds two Linux and two hardware PTE tables: the same page is reached from two entries.
        if (!pages.has(pfn)) {
          pages.add(pfn);
          out.claim(pfn, depth + 1, next);
        }
        rec(next, depth + 1);
      }
    };
    rec(pt.pgdPhys, 0);
    return pages.size;
  });
  return n;
}

/** What a walk of the page tables reports, in order. */
interface WalkOut {
  claim(pfn: number, depth: number, next: number): void;
  add(message: string): void;
}

/** A walk recorded: the table frames it read (PhysMem.frameIdentity: frozen or absent), what it reported, what it returned. */
interface WalkRecord {
  pfns: number[];
  frames: (Uint8Array | null)[];
  events: (string | number)[];
  result: number;
}
const walkRecords = new Map<string, WalkRecord>();
/** How many walks tableWalk ran and replayed (tests: the records are used, and dropped when a table changes). */
export const tableWalkStats = { walked: 0, replayed: 0 };
/** Forget every recorded walk (tests). */
export function forgetTableWalks(): void {
  walkRecords.clear();
}
/** Records kept: two walks per machine, for the machines a fuzz run or a class has in turn. */
const WALK_RECORDS = 16;

/**
 * Run a walk of the page tables, or replay it. The walk reads only the tables (through pt.nonzeroEntries: the table
 * frames' bytes), the profile's table geometry and what the key says (the machine's boot key, the top-level table,
 * the caller's own inputs). Recorded when every table frame it read is frozen (shared with a snapshot: no machine
 * ever writes that array in place) or holds no bytes (a write would give it a new array): PhysMem.frameIdentity.
 * Replayed when each of those frames has the same identity in this machine: the same bytes, so the same walk, claim
 * for claim and violation for violation (claims are made again, against this machine's frame map and owners). A
 * table the run wrote (its own copy of the frame), a new or dropped table (another entry above it), another top level
 * or geometry: the walk runs again. `key` undefined: always walk, record nothing (the full check).
 */
function tableWalk(k: Kernel, key: string | undefined, out: WalkOut, walk: (pt: PtInternals, out: WalkOut) => number): number {
  const pt = k.pgtable as unknown as PtInternals;
  const pm = (pt as unknown as { host?: { physmem?: { frameIdentity?(pfn: number): Uint8Array | null | undefined } } }).host?.physmem;
  if (key === undefined || !pm?.frameIdentity) return walk(pt, out);
  const full = `${machineKey(k)} ${pt.pgdPhys} ${key}`;
  const r = walkRecords.get(full);
  if (r && r.pfns.every((pfn, i) => pm.frameIdentity!(pfn) === r.frames[i])) {
    for (let i = 0; i < r.events.length;) {
      if (typeof r.events[i] === "string") out.add(r.events[i++] as string);
      else {
        out.claim(r.events[i] as number, r.events[i + 1] as number, r.events[i + 2] as number);
        i += 3;
      }
    }
    tableWalkStats.replayed++;
    return r.result;
  }
  tableWalkStats.walked++;
  // walk, noting each table frame read and each report
  const rec: WalkRecord = { pfns: [], frames: [], events: [], result: 0 };
  const seen = new Set<number>();
  let frozen = true;
  const reading: PtInternals = {
    real: pt.real,
    entrySize: pt.entrySize,
    pgdPhys: pt.pgdPhys,
    isPresent: (lo, level) => pt.isPresent(lo, level),
    isLeaf: (lo, level) => pt.isLeaf(lo, level),
    allLeaves: (level) => pt.allLeaves(level),
    entryAddr: (lo, hi, level, leaf) => pt.entryAddr(lo, hi, level, leaf),
    nonzeroEntries: (table, ptrs) => {
      const last = Math.floor((table + ptrs * pt.entrySize - 1) / PAGE);
      for (let pfn = Math.floor(table / PAGE); pfn <= last; pfn++) {
        if (seen.has(pfn)) continue;
        seen.add(pfn);
        const b = pm.frameIdentity!(pfn);
        if (b === undefined) frozen = false;
        else {
          rec.pfns.push(pfn);
          rec.frames.push(b);
        }
      }
      return pt.nonzeroEntries(table, ptrs);
    },
  };
  const noting: WalkOut = {
    claim: (pfn, depth, next) => {
      rec.events.push(pfn, depth, next);
      out.claim(pfn, depth, next);
    },
    add: (message) => {
      rec.events.push(message);
      out.add(message);
    },
  };
  rec.result = walk(reading, noting);
  if (frozen) {
    walkRecords.delete(full);
    walkRecords.set(full, rec);
    while (walkRecords.size > WALK_RECORDS) walkRecords.delete(walkRecords.keys().next().value!);
  }
  return rec.result;
}

/** Within the linear map exactly lowmem RAM is mapped, each virtual page to its own frame. */
function checkLinearMap(k: Kernel, c: Collector, memo = false): void {
  const L = k.layout;
  // everything below reads of the machine besides the tables (tableWalk's record is for these values)
  const key = memo
    ? `linear ${k.profile.arch} ${L.pageOffset} ${L.physOffset} ${L.maxLowPfn} ${L.highMemory} ${L.memory.map((r) => `${r.start}-${r.end}`).join(",")}`
    : undefined;
  const out: WalkOut = { claim: () => {}, add: (msg) => c.add("pgtable", msg) };
  tableWalk(k, key, out, (pt, o) => {
    linearMapWalk(k, pt, o);
    return 0;
  });
}

/** checkLinearMap's walk: what it finds goes to `o`. */
function linearMapWalk(k: Kernel, pt: PtInternals, o: WalkOut): void {
  const L = k.layout;
  const base = Number(L.pageOffset >> 12n);
  const physOffPfn = Math.floor(L.physOffset / PAGE);
  // lowmem RAM as sorted, merged PFN ranges (no byte per frame: a 1 TiB machine's lowmem is all of it)
  const ranges: [number, number][] = [];
  // x86 init_mem_mapping(): the ISA range [0, 1 MiB) is mapped whole, holes included (mm/pgtable.ts)
  const isa = k.profile.arch === "x86_64" || k.profile.arch === "i386" ? [{ start: 0, end: 0x100000 }] : [];
  for (const r of [...isa, ...L.memory].sort((x, y) => x.start - y.start)) {
    const s = Math.max(Math.ceil(r.start / PAGE), physOffPfn);
    const e = Math.min(Math.floor(r.end / PAGE), L.maxLowPfn);
    if (e <= s) continue;
    const last = ranges[ranges.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else ranges.push([s, e]);
  }
  let wanted = 0;
  for (const [s, e] of ranges) wanted += e - s;
  const isLowmemRam = (pfn: number): boolean => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (pfn < ranges[mid]![0]) hi = mid - 1;
      else if (pfn >= ranges[mid]![1]) lo = mid + 1;
      else return true;
    }
    return false;
  };
  const end = Number(L.highMemory >> 12n);
  let mapped = 0;
  // a leaf at a time (a 1 GiB page is one step, not 262144)
  forEachMappedRange(pt, base, end, (vpn, pfn, n) => {
    for (let j = 0; j < n; j++) {
      const expect = vpn + j - base + physOffPfn;
      if (pfn + j !== expect) {
        o.add(`linear map: 0x${(BigInt(vpn + j) << 12n).toString(16)} maps pfn 0x${(pfn + j).toString(16)}, not 0x${expect.toString(16)}`);
        continue;
      }
      // the rest of the leaf: count what lies in lowmem RAM, then name the first frame that does not
      let inRam = 0;
      for (const [s, e] of ranges) inRam += Math.max(0, Math.min(e, pfn + n) - Math.max(s, pfn + j));
      mapped += inRam;
      if (inRam < n - j) {
        for (let q = pfn + j; q < pfn + n; q++) {
          if (!isLowmemRam(q)) {
            o.add(`linear map: 0x${(BigInt(vpn + q - pfn) << 12n).toString(16)} maps pfn 0x${q.toString(16)}, which is not lowmem RAM`);
            break;
          }
        }
      }
      break;
    }
  });
  if (mapped !== wanted) o.add(`linear map: ${mapped} lowmem pages mapped, ${wanted} expected`);
}

// ------------------------------------------------------------------ /proc

function procFields(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    const r = /^([A-Za-z_()0-9]+):\s+(\d+)/.exec(line);
    if (r) m.set(r[1]!, Number(r[2]));
  }
  return m;
}

function checkProc(k: Kernel, f: FrameMap, c: Collector, n: { slabPages: number; largePages: number; vmallocPages: number; tablePages: number }): void {
  const pa = k.pages;
  const era = k.profile.era;
  const miText = k.proc("meminfo");
  const mi = procFields(miText);
  const kb = (pages: number) => pages * (PAGE / 1024);
  const expect = (field: string, want: number, why: string) => {
    const got = mi.get(field);
    if (got === undefined) c.add("proc", `meminfo has no ${field} line`);
    else if (got !== want) c.add("proc", `meminfo ${field} ${got} kB, but ${why} make ${want} kB`);
  };
  let managed = 0;
  for (const z of pa.zones) managed += z.managed;
  expect("MemTotal", kb(managed), "the zones' managed pages");
  expect("MemFree", kb(f.freePages), "the free lists");
  if (k.slab) expect("Slab", kb(n.slabPages + (era === "6.1" ? n.largePages : 0)), era === "6.1" ? "the slabs and large kmallocs" : "the slabs");
  if (k.pgtable && n.tablePages >= 0 && k.profile.arch !== "arm")
    expect("PageTables", kb(n.tablePages), "the page-table pages reachable from the top level (those NR_PAGETABLE counts) and the boot processes' tables");
  if (k.vmalloc && era === "6.1") expect("VmallocUsed", kb(n.vmallocPages), "the busy vmalloc areas' pages");
  const highTotal = mi.get("HighTotal");
  const lowTotal = mi.get("LowTotal");
  if (highTotal !== undefined && lowTotal !== undefined && highTotal + lowTotal !== mi.get("MemTotal"))
    c.add("proc", `meminfo HighTotal ${highTotal} + LowTotal ${lowTotal} != MemTotal ${mi.get("MemTotal")}`);

  // /proc/zoneinfo: per zone, pages free (= nr_free_pages) matches the zone's free lists; managed sums to MemTotal.
  // zoneinfo's 6.1 node counters come from meminfo's text: the one just read (the check changes nothing in between)
  const zi = renderZoneinfo(k, miText);
  let sumManaged = 0;
  for (const block of zi.split(/^(?=Node \d+, zone)/m)) {
    const name = /^Node \d+, zone\s+(\S+)/.exec(block)?.[1];
    if (!name) continue;
    const z = pa.zones.find((x) => x.name === name);
    if (!z) {
      c.add("proc", `zoneinfo names zone ${name}, which does not exist`);
      continue;
    }
    const free = /pages free\s+(\d+)/.exec(block);
    if (!free) continue; // 6.1 prints unpopulated zones without counters
    let listed = 0;
    for (let o = 0; o < pa.maxOrder; o++) listed += pa.freeList(z.idx, o).length << o;
    if (Number(free[1]) !== listed) c.add("proc", `zoneinfo ${name}: pages free ${free[1]}, the free lists hold ${listed}`);
    const nrFree = /nr_free_pages\s+(\d+)/.exec(block);
    if (nrFree && Number(nrFree[1]) !== listed) c.add("proc", `zoneinfo ${name}: nr_free_pages ${nrFree[1]}, the free lists hold ${listed}`);
    const man = /\n\s+managed\s+(\d+)/.exec(block);
    if (man) sumManaged += Number(man[1]);
    else if (era === "6.1") c.add("proc", `zoneinfo ${name}: no managed line`);
  }
  if (era === "6.1" && sumManaged !== mi.get("MemTotal")! / (PAGE / 1024))
    c.add("proc", `zoneinfo managed pages sum to ${sumManaged}, meminfo MemTotal says ${mi.get("MemTotal")! / 4}`);
}

/** One line per violation, for a report's text. */
export function formatViolations(vs: readonly Violation[]): string {
  return vs.map((v) => `${v.check}: ${v.message}`).join("\n");
}
