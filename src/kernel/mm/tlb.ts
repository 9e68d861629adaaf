// Models the CPU's L1 data TLB as Linux 6.1 / 3.4 / 2.6 relies on it (arch/x86/mm/tlb.c flush_tlb_kernel_range,
// arch/arm/mm/tlb-v7.S): a small set-associative cache of translations in front of the page-table walk.
//
// Geometry (one CPU, as the simulator boots one), chosen per architecture and stated here:
// - x86_64 and i386: the L1 dTLB of the Intel cores QEMU's default CPU stands in for (Skylake-class, Intel SDM
//   vol. 3 §4.10 and the optimization manual table 2-5): 4 KiB pages 64 entries 4-way (16 sets), large pages
//   (2 MiB on x86_64, 4 MiB PSE on non-PAE i386) 32 entries 4-way (8 sets). The real x86_64 boot log's "Last level
//   dTLB entries: 4KB 512, 2MB 255, 4MB 127, 1GB 0" is the *second-level* TLB (CPUID leaf 2 of QEMU's CPU); no
//   STLB is modelled, so every L1 miss is a page-table walk here.
// - 32-bit ARM (Cortex-A15 for virt, Cortex-A5 for msm8x25) and arm64 (Cortex-A57): the L1 data micro-TLB,
//   32 entries fully associative, one array holding 4 KiB pages and 1 MiB sections (2 MiB blocks on arm64) alike
//   (ARM DDI 0438 §5.2: the micro-TLB caches entries of any page size).
// - Replacement: true LRU within a set (real parts use pseudo-LRU). Entries are global (kernel mappings carry the
//   G bit / nG=0): nothing here is flushed on a context switch, only by explicit kernel flushes.
// - The large-page array keys entries by the large page's number; lookups try the 4 KiB array, then the large one,
//   as the hardware probes both in parallel. One hit or one miss is counted per access (per page for range ops).

import type { Arch } from "../types.ts";

export interface TlbStats {
  hits: number;
  misses: number;
  /** Entries dropped by flushes (flush_tlb_kernel_range / flush_tlb_all). */
  flushed: number;
  /** Geometry, for the views: "4K 64x4-way, 2M 32x4-way". */
  geometry: string;
}

/** One set-associative array: `sets` x `ways` entries of pages of 2^shift bytes (shift 0: any size, per entry). */
export class TlbArray {
  readonly sets: number;
  readonly ways: number;
  /** The page number (at the entry's size), -1 when invalid. */
  readonly tag: Float64Array;
  /** Physical address of the page start. */
  readonly base: Float64Array;
  /** log2 of the entry's page size minus 12 (0 = 4 KiB, 9 = 2 MiB, 8 = 1 MiB, 10 = 4 MiB). */
  readonly order: Uint8Array;
  readonly stamp: Float64Array;

  constructor(sets: number, ways: number) {
    this.sets = sets;
    this.ways = ways;
    const n = sets * ways;
    this.tag = new Float64Array(n).fill(-1);
    this.base = new Float64Array(n);
    this.order = new Uint8Array(n);
    this.stamp = new Float64Array(n);
  }

  /** Index of the entry mapping vpn (a 4 KiB page number) with one of `orders`, or -1. */
  find(vpn: number, orders: readonly number[]): number {
    for (const o of orders) {
      const t = o === 0 ? vpn : Math.floor(vpn / 2 ** o);
      const set = this.sets === 1 ? 0 : t % this.sets;
      const first = set * this.ways;
      for (let i = first; i < first + this.ways; i++) if (this.tag[i] === t && this.order[i] === o) return i;
    }
    return -1;
  }

  insert(vpn: number, order: number, pageBase: number, now: number): void {
    const t = order === 0 ? vpn : Math.floor(vpn / 2 ** order);
    const set = this.sets === 1 ? 0 : t % this.sets;
    const first = set * this.ways;
    let victim = first;
    for (let i = first; i < first + this.ways; i++) {
      if (this.tag[i] < 0) {
        victim = i;
        break;
      }
      if (this.stamp[i] < this.stamp[victim]) victim = i;
    }
    this.tag[victim] = t;
    this.order[victim] = order;
    this.base[victim] = pageBase;
    this.stamp[victim] = now;
  }

  /** Drop entries overlapping [startVpn, endVpn); returns how many. */
  flushRange(startVpn: number, endVpn: number): number {
    let n = 0;
    for (let i = 0; i < this.tag.length; i++) {
      if (this.tag[i] < 0) continue;
      const span = 2 ** this.order[i];
      const s = this.tag[i] * span;
      if (s < endVpn && s + span > startVpn) {
        this.tag[i] = -1;
        n++;
      }
    }
    return n;
  }

  flushAll(): number {
    let n = 0;
    for (let i = 0; i < this.tag.length; i++)
      if (this.tag[i] >= 0) {
        this.tag[i] = -1;
        n++;
      }
    return n;
  }
}

/** The dTLB. lookup() returns the physical address of (vpn, off) or -1 on a miss; the caller walks and insert()s. */
export class Tlb {
  hits = 0;
  misses = 0;
  flushed = 0;
  private now = 0;
  private readonly small: TlbArray;
  private readonly large: TlbArray | null;
  /** Orders the large array (or the mixed array) may hold. */
  private readonly largeOrders: readonly number[];
  private readonly smallOrders: readonly number[] = [0];
  readonly geometry: string;

  constructor(arch: Arch, pae = false) {
    switch (arch) {
      case "x86_64":
        this.small = new TlbArray(16, 4);
        this.large = new TlbArray(8, 4);
        this.largeOrders = [9];
        this.geometry = "4K 64 entries 4-way, 2M 32 entries 4-way";
        break;
      case "i386":
        this.small = new TlbArray(16, 4);
        this.large = new TlbArray(8, 4);
        this.largeOrders = [pae ? 9 : 10]; // PSE pages: 2 MiB with PAE, 4 MiB without
        this.geometry = pae ? "4K 64 entries 4-way, 2M 32 entries 4-way" : "4K 64 entries 4-way, 4M 32 entries 4-way";
        break;
      case "arm":
        this.small = new TlbArray(1, 32);
        this.large = null;
        this.largeOrders = [8];
        this.smallOrders = [0, 8];
        this.geometry = "32 entries fully associative (4K pages and 1M sections)";
        break;
      case "arm64":
        this.small = new TlbArray(1, 32);
        this.large = null;
        this.largeOrders = [9];
        this.smallOrders = [0, 9];
        this.geometry = "32 entries fully associative (4K pages and 2M blocks)";
        break;
    }
  }

  // The entry that hit last (software shortcut for the common case of consecutive accesses to one page: it is a
  // hit on that very entry, counted and LRU-stamped as such).
  private lastLo = -1;
  private lastHi = -1;
  private lastBase = 0;
  private lastArr: TlbArray | null = null;
  private lastIdx = 0;

  private remember(arr: TlbArray, i: number): void {
    const span = 2 ** arr.order[i]!;
    this.lastLo = arr.tag[i]! * span;
    this.lastHi = this.lastLo + span;
    this.lastBase = arr.base[i]!;
    this.lastArr = arr;
    this.lastIdx = i;
  }

  /** Physical address for page vpn + off, or -1 (a miss, counted). */
  lookup(vpn: number, off: number): number {
    const now = ++this.now;
    if (vpn >= this.lastLo && vpn < this.lastHi) {
      this.hits++;
      this.lastArr!.stamp[this.lastIdx] = now;
      return this.lastBase + (vpn - this.lastLo) * 4096 + off;
    }
    let i = this.small.find(vpn, this.smallOrders);
    if (i >= 0) {
      this.hits++;
      this.small.stamp[i] = now;
      this.remember(this.small, i);
      const o = this.small.order[i];
      return this.small.base[i] + (o === 0 ? 0 : (vpn % 2 ** o) * 4096) + off;
    }
    if (this.large) {
      i = this.large.find(vpn, this.largeOrders);
      if (i >= 0) {
        this.hits++;
        this.large.stamp[i] = now;
        this.remember(this.large, i);
        return this.large.base[i] + (vpn % 2 ** this.large.order[i]) * 4096 + off;
      }
    }
    this.misses++;
    return -1;
  }

  /** Fill after a walk: the mapping of vpn is a page of `pageSize` bytes at physical `pageBase` (its start). */
  insert(vpn: number, pageSize: number, pageBase: number): void {
    const order = Math.round(Math.log2(pageSize)) - 12;
    this.lastLo = this.lastHi = -1; // the victim may be the remembered entry
    if (order === 0 || !this.large) this.small.insert(vpn, order, pageBase, this.now);
    else this.large.insert(vpn, order, pageBase, this.now);
  }

  /** flush_tlb_kernel_range(start, end) in page numbers. */
  flushRange(startVpn: number, endVpn: number): void {
    this.lastLo = this.lastHi = -1;
    this.flushed += this.small.flushRange(startVpn, endVpn) + (this.large?.flushRange(startVpn, endVpn) ?? 0);
  }

  flushAll(): void {
    this.lastLo = this.lastHi = -1;
    this.flushed += this.small.flushAll() + (this.large?.flushAll() ?? 0);
  }

  stats(): TlbStats {
    return { hits: this.hits, misses: this.misses, flushed: this.flushed, geometry: this.geometry };
  }

  /** Zero the counters (the entries stay: a lesson measures from a warm or cold TLB as it chooses). */
  reset(): void {
    this.hits = 0;
    this.misses = 0;
    this.flushed = 0;
  }
}
