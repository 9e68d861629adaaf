// Models a process's address space of Linux 6.1 / 3.4 / 2.6.26: mm_struct and vm_area_struct
// (include/linux/mm_types.h), mm/mmap.c do_mmap / do_munmap / brk / vma_merge / get_unmapped_area (top-down,
// vm_unmapped_area), the mmap base of mm/util.c (arm, arm64) and arch/x86/mm/mmap.c (x86), fs/exec.c
// setup_arg_pages (the initial stack), mm/memory.c handle_mm_fault (do_anonymous_page, the zero page, do_wp_page)
// and the VM_ACCOUNT commit charge (mm/util.c __vm_enough_memory, OVERCOMMIT_GUESS).
//
// The layout (no randomisation: the simulator runs with randomize_va_space=0 unless a seed is given, and a seed
// does not randomise user space either: stated simplification):
// - TASK_SIZE: x86_64 0x7ffffffff000 (TASK_SIZE_MAX, 47 bits), i386 0xc0000000 (PAGE_OFFSET, the 3G split),
//   ARM PAGE_OFFSET - 16 MiB (0xbf000000), arm64 1 << 48 (VA_BITS 48).
// - mmap_base = PAGE_ALIGN(STACK_TOP - gap - rnd), rnd = 0, gap = RLIMIT_STACK (8 MiB) + stack_guard_gap (1 MiB,
//   4.12+; the 2.6 and 3.4 formulas have no pad) clamped to [128 MiB, STACK_TOP/6*5]: 128 MiB below the stack top
//   on every profile (x86_64 0x7ffff7fff000, i386 0xb8000000, ARM 0xb7000000, arm64 0xfffff8000000).
// - The stack: STACK_TOP down by one page of arguments plus setup_arg_pages' stack_expand (128 KiB; 2.6.26:
//   EXTRA_STACK_VM_PAGES 20 = 80 KiB): x86_64 [stack] 7ffffffde000-7ffffffff000, i386 2.6 bffeb000-c0000000.
// - The program is a static, non-PIE ELF "a.out": text at 0x400000 (x86_64, arm64), 0x08048000 (i386), 0x10000
//   (ARM); 6.1 links it with separate code (r--, r-x, r--, rw- segments of one page each), the old eras with two
//   (r-x, rw-). brk starts at the page after its data (no brk randomisation). The file's device and inode numbers
//   are the model's (initramfs 00:01 on 6.1, a disk's 08:01 before), and its bytes are not modelled.
// - vdso: 6.1 x86 [vvar] 4 pages + [vdso] 2 pages, arm64 [vvar] 2 + [vdso] 2, ARM [vvar] 1 + [vdso] 1, placed by
//   get_unmapped_area just below mmap_base; 2.6 i386 [vdso] 1 page; 3.4 ARM [vectors] at 0xffff0000 (the gate
//   vma); x86_64 [vsyscall] at 0xffffffffff600000 (6.1's default vsyscall=xonly: --xp).
// - Demand paging: a VMA has no pages until an access faults them in. A write fault on anonymous memory takes a
//   zeroed order-0 page (GFP_HIGHUSER_MOVABLE | __GFP_ZERO) from the buddy allocator; a read fault maps the shared
//   zero page read-only on 3.4 and 6.1 (no allocation; the first write then copies it: a second fault), and takes a
//   page on 2.6.26 (the zero page was out of do_anonymous_page from 2.6.24 to 2.6.32). Each handled fault is a
//   minor fault of the task (min_flt). Shared anonymous mappings behave as private ones here (no shmem).
//
// Simplifications, said plainly: one process, one thread, no fork (so no copy-on-write between processes), no
// swap and no reclaim, no file-backed page cache for the program (its pages read as zeros if touched), no
// mprotect/mremap, no stack randomisation, no huge pages. The process's page tables are its own (PageTables
// { user: true }): their frames come from the buddy allocator and count in PageTables and VmPTE.

import type { Kernel } from "../kernel.ts";
import { isPgtableOom, PageTables } from "./pgtable.ts";
import { PageOwner } from "./page_flags.ts";
import { gfp } from "../gfp.ts";

export const PAGE = 4096;
const P = 4096n;

export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_PFNMAP = 0x400;
export const VM_IO = 0x4000;
export const VM_DONTEXPAND = 0x40000;
export const VM_ACCOUNT = 0x100000;
export const VM_DONTDUMP = 0x4000000;
export const VM_MIXEDMAP = 0x10000000;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;

const EPERM = 1;
const ENOMEM = 12;
const EINVAL = 22;
const ENODEV = 19;

/** The file a VMA maps: the program's own segments, or a device a driver mmaps. */
export interface VmaFile {
  path: string;
  dev: [number, number];
  ino: number;
}

/** vm_operations_struct: what a driver's mmap installs (close is called when the VMA goes). */
export interface VmOps {
  close?: (vma: Vma) => void;
}

export interface Vma {
  /** An id for handles (vm_area_struct *). */
  id: number;
  start: bigint;
  end: bigint;
  flags: number;
  /** vm_pgoff, in pages. */
  pgoff: number;
  file?: VmaFile;
  /** [vvar], [vdso], [vsyscall], [vectors]: special mappings named by their ops. */
  special?: string;
  /**
   * A device file's mapping. Its driver's mmap maps what it maps (remap_pfn_range, vm_insert_page,
   * remap_vmalloc_range) and installs no fault handler. Since 4.19 vma_init() gives every VMA dummy_vm_ops (only
   * vma_set_anonymous() clears it), so on 6.1 a fault on a page the driver did not map is do_fault()'s
   * VM_FAULT_SIGBUS. 2.6 and 3.4 leave vm_ops NULL, and handle_pte_fault() treats the VMA as anonymous.
   */
  device?: true;
  ops?: VmOps;
  /** Driver data kept with the VMA (vm_private_data). */
  priv?: unknown;
}

/** What a PTE of the process maps. */
type PteKind = "anon" | "zero" | "file" | "pfnmap";
interface Pte {
  pfn: number;
  writable: boolean;
  kind: PteKind;
}

export type FaultResult =
  | { ok: true }
  | { ok: false; sig: "SIGSEGV" | "SIGBUS" | "SIGKILL"; code: "SEGV_MAPERR" | "SEGV_ACCERR" | "BUS_ADRERR" | "OOM"; level?: number; present?: boolean };

export interface UserLayout {
  taskSize: bigint;
  stackTop: bigint;
  mmapBase: bigint;
  /** The bottom-up base (TASK_UNMAPPED_BASE) a full top-down search falls back to. */
  unmappedBase: bigint;
  mmapMinAddr: bigint;
  stackGuardGap: bigint;
  /** Bytes setup_arg_pages adds below the argument page. */
  stackExpand: bigint;
  exeBase: bigint;
  /** The program's segments: [flags, pages] in order from exeBase. */
  segments: [number, number][];
  /** Special mappings made by get_unmapped_area at exec: name and pages, in mapping order (top-down). */
  vdso: [string, number][];
  /** A fixed gate VMA shown last by /proc/PID/maps (not in the VMA list): [start, end, flags, name]. */
  gate?: [bigint, bigint, number, string];
  ptrBytes: 4 | 8;
}

const RLIMIT_STACK = 8n << 20n;
const MIN_GAP = 128n << 20n;

/** The era's and architecture's user address-space layout (see the header). */
export function userLayout(k: Kernel): UserLayout {
  const arch = k.profile.arch;
  const era = k.profile.era;
  const taskSize =
    arch === "x86_64" ? 0x7ffffffff000n : arch === "i386" ? k.layout.pageOffset : arch === "arm" ? k.layout.pageOffset - (16n << 20n) : 1n << 48n;
  const stackTop = taskSize;
  const stackGuardGap = era === "6.1" ? 256n * P : 0n;
  let gap = RLIMIT_STACK + stackGuardGap;
  const gapMax = (stackTop / 6n) * 5n;
  if (gap < MIN_GAP) gap = MIN_GAP;
  else if (gap > gapMax) gap = gapMax;
  const mmapBase = pageAlign(stackTop - gap);
  const R = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  const RX = R | VM_EXEC;
  const RW = R | VM_WRITE;
  const segments: [number, number][] =
    era === "6.1"
      ? [
          [R, 1],
          [RX, 1],
          [R, 1],
          [RW, 1],
        ]
      : [
          [RX, 1],
          [RW, 1],
        ];
  const vdso: [string, number][] =
    era === "6.1"
      ? arch === "x86_64" || arch === "i386"
        ? [
            ["[vvar]", 4],
            ["[vdso]", 2],
          ]
        : arch === "arm64"
          ? [
              ["[vvar]", 2],
              ["[vdso]", 2],
            ]
          : [
              ["[vvar]", 1],
              ["[vdso]", 1],
            ]
      : arch === "i386"
        ? [["[vdso]", 1]]
        : [];
  const gate: UserLayout["gate"] =
    arch === "x86_64"
      ? [0xffffffffff600000n, 0xffffffffff601000n, era === "6.1" ? VM_EXEC : VM_READ | VM_EXEC, "[vsyscall]"]
      : arch === "arm" && era !== "6.1"
        ? [0xffff0000n, 0xffff1000n, VM_READ | VM_EXEC, "[vectors]"]
        : undefined;
  return {
    taskSize,
    stackTop,
    mmapBase,
    unmappedBase: pageAlign(taskSize / 3n),
    mmapMinAddr: arch === "arm" ? 0x8000n : 0x10000n,
    stackGuardGap,
    stackExpand: era === "2.6" ? 20n * P : 128n * 1024n,
    exeBase: arch === "i386" ? 0x08048000n : arch === "arm" ? 0x10000n : 0x400000n,
    segments,
    vdso,
    gate,
    ptrBytes: arch === "x86_64" || arch === "arm64" ? 8 : 4,
  };
}

export function pageAlign(a: bigint): bigint {
  return (a + P - 1n) & ~(P - 1n);
}

let nextVmaId = 1;
/** Faults kept in Mm.faults (a bound on host memory: a program may fault millions of pages in). */
export const FAULTS_KEPT = 65536;

/** mm_struct: VMAs sorted by address, the page tables, counters. */
export class Mm {
  readonly k: Kernel;
  readonly L: UserLayout;
  readonly pgtable: PageTables;
  /** Sorted by start, non-overlapping. */
  readonly vmas: Vma[] = [];
  private readonly ptes = new Map<number, Pte>();
  startCode = 0n;
  endCode = 0n;
  startData = 0n;
  endData = 0n;
  startBrk = 0n;
  brk = 0n;
  startStack = 0n;
  /** Pages of VM_ACCOUNT mappings (this mm's part of Committed_AS). */
  committed = 0;
  hiwaterVm = 0;
  hiwaterRss = 0;
  /** Faults handled (the task's min_flt). */
  minFlt = 0;
  /** The faults handled, in order (the first FAULTS_KEPT; minFlt counts them all). */
  readonly faults: { addr: bigint; write: boolean; kind: "anon" | "zero" | "cow" | "stack" }[] = [];
  private readonly execName: VmaFile;
  private zeroPfn = -1;

  constructor(k: Kernel, exe: VmaFile) {
    this.k = k;
    this.L = userLayout(k);
    this.pgtable = new PageTables(k, { user: true });
    this.execName = exe;
  }

  // ------------------------------------------------------------------ exec: the initial address space

  /** load_elf_binary() + setup_arg_pages() + arch_setup_additional_pages(): the program's mappings. */
  setupExec(): void {
    const L = this.L;
    let a = L.exeBase;
    let off = 0;
    for (const [flags, pages] of L.segments) {
      const end = a + BigInt(pages) * P;
      // A private writable file mapping is accountable (it may be written and copied).
      this.insert({ id: nextVmaId++, start: a, end, flags: flags | (flags & VM_WRITE ? VM_ACCOUNT : 0), pgoff: off, file: this.execName });
      if (flags & VM_EXEC) {
        this.startCode = a;
        this.endCode = end;
      }
      if (flags & VM_WRITE) {
        this.startData = a;
        this.endData = end;
      }
      a = end;
      off += pages;
    }
    this.startBrk = this.brk = a;
    // The stack: the argument page at the top, grown by stack_expand at setup_arg_pages.
    const stackEnd = L.stackTop;
    const stackStart = stackEnd - P - L.stackExpand;
    this.insert({
      id: nextVmaId++,
      start: stackStart,
      end: stackEnd,
      flags: VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN | VM_ACCOUNT,
      pgoff: Number(stackStart >> 12n),
    });
    this.startStack = stackEnd - 0x100n; // argc, argv, envp, auxv: the process's first stack pointer
    // exec copies the arguments into the top page (copy_strings): it is present from the start.
    this.mapNew(Number((stackEnd - P) >> 12n), true, "anon");
    // The vdso (and vvar) through get_unmapped_area, top-down from mmap_base.
    if (L.vdso.length) {
      const total = L.vdso.reduce((s, [, n]) => s + n, 0);
      let at = this.getUnmappedArea(0n, BigInt(total) * P);
      if (at < 0n) throw new Error("exec: no room for the vdso");
      for (const [name, pages] of L.vdso) {
        const end = at + BigInt(pages) * P;
        const flags =
          name === "[vvar]" ? VM_READ | VM_MAYREAD | VM_IO | VM_PFNMAP | VM_DONTDUMP : VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DONTDUMP;
        this.insert({ id: nextVmaId++, start: at, end, flags, pgoff: 0, special: name });
        at = end;
      }
    }
    this.updateHiwater();
  }

  // ------------------------------------------------------------------ VMA list

  /** find_vma(): the first VMA with end > addr. */
  findVma(addr: bigint): Vma | undefined {
    for (const v of this.vmas) if (v.end > addr) return v;
    return undefined;
  }

  private insert(v: Vma): void {
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < v.start) i++;
    this.vmas.splice(i, 0, v);
    if (v.flags & VM_ACCOUNT) this.account(Number((v.end - v.start) >> 12n));
  }

  private account(pages: number): void {
    this.committed += pages;
    this.k.vmCommittedPages += pages;
  }

  /** total_vm in pages. */
  totalVm(): number {
    let n = 0;
    for (const v of this.vmas) n += Number((v.end - v.start) >> 12n);
    return n;
  }

  rss(kind?: PteKind): number {
    let n = 0;
    for (const p of this.ptes.values()) if (kind ? p.kind === kind : p.kind === "anon" || p.kind === "file") n++;
    return n;
  }

  /** The frame mapped at a user address (views, the grader, the notebook's "same frame from both sides"). */
  pteAt(addr: bigint): { pfn: number; writable: boolean; kind: string } | undefined {
    const p = this.ptes.get(Number(addr >> 12n));
    return p ? { ...p } : undefined;
  }

  /** Every present PTE: [vpn, pfn, kind]. */
  presentPages(): [number, number, string][] {
    return [...this.ptes.entries()].sort((a, b) => a[0] - b[0]).map(([vpn, p]) => [vpn, p.pfn, p.kind]);
  }

  private updateHiwater(): void {
    this.hiwaterVm = Math.max(this.hiwaterVm, this.totalVm());
    this.hiwaterRss = Math.max(this.hiwaterRss, this.rss());
  }

  // ------------------------------------------------------------------ get_unmapped_area (top-down)

  /** The start of a free range of len bytes, or -ENOMEM as a negative bigint. hint: tried first when free. */
  getUnmappedArea(hint: bigint, len: bigint): bigint {
    const L = this.L;
    if (len > L.taskSize - L.mmapMinAddr) return -BigInt(ENOMEM);
    if (hint) {
      const h = pageAlign(hint);
      if (h >= L.mmapMinAddr && h + len <= L.taskSize && this.isFree(h, h + len)) return h;
    }
    // vm_unmapped_area() top-down: the highest gap below mmap_base that holds len, keeping stack_guard_gap below
    // a VM_GROWSDOWN VMA.
    let high = L.mmapBase;
    for (let i = this.vmas.length - 1; i >= -1; i--) {
      const v = i >= 0 ? this.vmas[i]! : undefined;
      const gapEnd = (() => {
        const next = this.vmas[i + 1];
        let e = next ? next.start - (next.flags & VM_GROWSDOWN ? L.stackGuardGap : 0n) : L.taskSize;
        if (e > high) e = high;
        return e;
      })();
      const gapStart = v ? v.end : L.mmapMinAddr > P ? L.mmapMinAddr : P;
      if (gapEnd - gapStart >= len && gapEnd >= len) return gapEnd - len;
      if (v && v.start < high) high = v.start;
    }
    // Fall back to bottom-up from TASK_UNMAPPED_BASE (arch_get_unmapped_area).
    let at = L.unmappedBase;
    for (const v of this.vmas) {
      if (v.end <= at) continue;
      if (v.start >= at + len) break;
      at = v.end;
    }
    return at + len <= L.taskSize ? at : -BigInt(ENOMEM);
  }

  private isFree(start: bigint, end: bigint): boolean {
    return !this.vmas.some((v) => v.start < end && v.end > start);
  }

  // ------------------------------------------------------------------ mmap / munmap / brk

  /**
   * do_mmap() of an anonymous mapping, or of a device file whose driver's mmap is `driverMmap` (called with the new
   * VMA; a negative return undoes the mapping). Returns the address, or -errno as a negative bigint.
   */
  mmap(addr: bigint, length: number, prot: number, flags: number, file?: { file: VmaFile; driverMmap: (vma: Vma) => number }, pgoff = 0): bigint {
    const L = this.L;
    if (!Number.isSafeInteger(length) || length <= 0) return -BigInt(EINVAL);
    const len = pageAlign(BigInt(length));
    if (len > L.taskSize) return -BigInt(ENOMEM);
    const type = flags & 0x3;
    if (type !== MAP_SHARED && type !== MAP_PRIVATE) return -BigInt(EINVAL);
    if (!(flags & MAP_ANONYMOUS) && !file) return -BigInt(ENODEV);
    let start: bigint;
    if (flags & MAP_FIXED) {
      if (addr & (P - 1n)) return -BigInt(EINVAL);
      if (addr < L.mmapMinAddr) return -BigInt(EPERM);
      if (addr + len > L.taskSize) return -BigInt(ENOMEM);
      this.munmap(addr, Number(len));
      start = addr;
    } else {
      start = this.getUnmappedArea(addr, len);
      if (start < 0n) return start;
    }
    let vmFlags =
      (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (type === MAP_SHARED) vmFlags |= VM_SHARED | VM_MAYSHARE;
    const pages = Number(len >> 12n);
    // accountable_mapping(): private and writable (anonymous or a private file mapping).
    if (type === MAP_PRIVATE && vmFlags & VM_WRITE && !(vmFlags & (VM_PFNMAP | VM_SHARED))) {
      // __vm_enough_memory() in OVERCOMMIT_GUESS: refuse only what could never fit in RAM plus swap (none here).
      if (pages > this.k.pages.totalramPages) return -BigInt(ENOMEM);
      vmFlags |= VM_ACCOUNT;
    }
    if (file) {
      const vma: Vma = { id: nextVmaId++, start, end: start + len, flags: vmFlags & ~VM_ACCOUNT, pgoff, file: file.file, device: true };
      this.insert(vma);
      const r = file.driverMmap(vma);
      if (r < 0) {
        this.removeRange(vma.start, vma.end, false);
        return BigInt(r);
      }
      this.updateHiwater();
      return start;
    }
    // vma_merge(): an anonymous mapping that continues its neighbour with the same flags extends it.
    const prev = this.vmas.find((v) => v.end === start);
    const next = this.vmas.find((v) => v.start === start + len);
    const mergeable = (v: Vma | undefined) => v && !v.file && !v.special && v.flags === vmFlags && !(v.flags & VM_GROWSDOWN) && !this.isHeap(v);
    if (mergeable(prev)) {
      prev!.end = start + len;
      if (vmFlags & VM_ACCOUNT) this.account(pages);
      if (mergeable(next)) {
        prev!.end = next!.end;
        this.vmas.splice(this.vmas.indexOf(next!), 1);
      }
    } else if (mergeable(next)) {
      next!.start = start;
      next!.pgoff = Number(start >> 12n);
      if (vmFlags & VM_ACCOUNT) this.account(pages);
    } else {
      this.insert({ id: nextVmaId++, start, end: start + len, flags: vmFlags, pgoff: Number(start >> 12n) });
    }
    this.updateHiwater();
    return start;
  }

  private isHeap(v: Vma): boolean {
    return v.start <= this.brk && v.end >= this.startBrk && this.brk > this.startBrk && v.start >= this.startBrk;
  }

  /** do_munmap(): 0 or -EINVAL. Splits VMAs at the edges, frees the pages inside, flushes the TLB. */
  munmap(addr: bigint, length: number): number {
    if (addr & (P - 1n) || addr >= this.L.taskSize || !Number.isSafeInteger(length) || length <= 0) return -EINVAL;
    const len = pageAlign(BigInt(length));
    if (addr + len > this.L.taskSize) return -EINVAL;
    this.removeRange(addr, addr + len, true);
    return 0;
  }

  private removeRange(start: bigint, end: bigint, callClose: boolean): void {
    for (const v of [...this.vmas]) {
      if (v.end <= start || v.start >= end) continue;
      const lo = v.start > start ? v.start : start;
      const hi = v.end < end ? v.end : end;
      this.zap(lo, hi);
      if (v.flags & VM_ACCOUNT) this.account(-Number((hi - lo) >> 12n));
      const idx = this.vmas.indexOf(v);
      if (lo === v.start && hi === v.end) {
        this.vmas.splice(idx, 1);
        if (callClose) v.ops?.close?.(v);
      } else if (lo === v.start) {
        v.pgoff += Number((hi - v.start) >> 12n);
        v.start = hi;
      } else if (hi === v.end) {
        v.end = lo;
      } else {
        const tail: Vma = { ...v, id: nextVmaId++, start: hi, pgoff: v.pgoff + Number((hi - v.start) >> 12n) };
        v.end = lo;
        this.vmas.splice(idx + 1, 0, tail);
      }
    }
  }

  /** zap_page_range(): clear the PTEs of [start, end), free anonymous frames, flush the TLB for the range. */
  private zap(start: bigint, end: bigint): void {
    const s = Number(start >> 12n);
    const e = Number(end >> 12n);
    for (const [vpn, pte] of [...this.ptes.entries()]) {
      if (vpn < s || vpn >= e) continue;
      this.pgtable.unmapPages(vpn, 1);
      this.ptes.delete(vpn);
      if (pte.kind === "anon") this.k.pages.__free_pages(pte.pfn, 0);
    }
    this.k.mem.tlb.flushRange(s, e);
  }

  /** sys_brk(): the new break, or the old one when refused (the system call never fails otherwise). */
  sysBrk(newBrk: bigint): bigint {
    if (newBrk < this.startBrk) return this.brk;
    const newA = pageAlign(newBrk);
    const oldA = pageAlign(this.brk);
    if (newA === oldA) {
      this.brk = newBrk;
      return this.brk;
    }
    if (newBrk <= this.brk) {
      this.removeRange(newA, oldA, true);
      this.brk = newBrk;
      return this.brk;
    }
    // Refuse to run into the next mapping (6.1: vm_start_gap(next) < newbrk + PAGE_SIZE).
    const next = this.findVma(oldA);
    if (next && next.start - (next.flags & VM_GROWSDOWN ? this.L.stackGuardGap : 0n) < newA + P) return this.brk;
    const pages = Number((newA - oldA) >> 12n);
    if (pages > this.k.pages.totalramPages) return this.brk;
    // do_brk_flags(): extend the heap VMA, or make it.
    const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    const prev = this.vmas.find((v) => v.end === oldA && !v.file && !v.special && v.flags === flags);
    if (prev) {
      prev.end = newA;
      this.account(pages);
    } else {
      this.insert({ id: nextVmaId++, start: oldA, end: newA, flags, pgoff: Number(oldA >> 12n) });
    }
    this.brk = newBrk;
    this.updateHiwater();
    return this.brk;
  }

  // ------------------------------------------------------------------ page faults

  /** Can a user access of this kind go through without a fault? Returns the PTE or undefined. */
  present(vpn: number, write: boolean): Pte | undefined {
    const p = this.ptes.get(vpn);
    return p && (!write || p.writable) ? p : undefined;
  }

  /** handle_mm_fault() for a user address: map what the access needs, or say which signal the task gets. */
  handleFault(addr: bigint, write: boolean): FaultResult {
    const vma = this.findVma(addr);
    if (!vma || vma.start > addr) {
      // expand_stack(): an access below the stack within RLIMIT_STACK grows it (keeping the guard gap).
      if (vma && vma.flags & VM_GROWSDOWN && vma.end - addr <= RLIMIT_STACK) {
        const newStart = addr & ~(P - 1n);
        const i = this.vmas.indexOf(vma);
        const prev = i > 0 ? this.vmas[i - 1] : undefined;
        if (!prev || prev.end + this.L.stackGuardGap <= newStart) {
          const grow = Number((vma.start - newStart) >> 12n);
          vma.start = newStart;
          vma.pgoff -= grow;
          if (vma.flags & VM_ACCOUNT) this.account(grow);
        } else return { ok: false, sig: "SIGSEGV", code: "SEGV_MAPERR", level: this.missingLevel(addr) };
      } else return { ok: false, sig: "SIGSEGV", code: "SEGV_MAPERR", level: this.missingLevel(addr) };
    }
    if (write ? !(vma.flags & VM_WRITE) : !(vma.flags & (VM_READ | VM_WRITE | VM_EXEC))) {
      return { ok: false, sig: "SIGSEGV", code: "SEGV_ACCERR", level: 3, present: this.ptes.has(Number(addr >> 12n)) };
    }
    const vpn = Number(addr >> 12n);
    const have = this.ptes.get(vpn);
    if (vma.flags & VM_PFNMAP || vma.special || (vma.device && this.k.profile.era === "6.1")) {
      // A driver's mapping (or vvar/vdso) not populated here: the driver has no fault handler -> SIGBUS.
      if (have && (!write || have.writable)) return { ok: true };
      return { ok: false, sig: "SIGBUS", code: "BUS_ADRERR" };
    }
    if (have && write && have.kind === "zero") {
      // do_wp_page(): the zero page is copied to a new page (zeros), mapped writable.
      this.pgtable.unmapPages(vpn, 1);
      this.k.mem.tlb.flushRange(vpn, vpn + 1);
      this.ptes.delete(vpn);
      if (!this.mapNew(vpn, true, "anon")) return { ok: false, sig: "SIGKILL", code: "OOM" };
      this.minFlt++;
      if (this.faults.length < FAULTS_KEPT) this.faults.push({ addr, write, kind: "cow" });
      this.updateHiwater();
      return { ok: true };
    }
    if (have) return { ok: true };
    // do_anonymous_page(): a read of never-written memory maps the zero page (3.4, 6.1); otherwise a fresh page.
    const zero = !write && this.k.profile.era !== "2.6";
    if (zero ? !this.mapZero(vpn) : !this.mapNew(vpn, true, "anon")) return { ok: false, sig: "SIGKILL", code: "OOM" };
    this.minFlt++;
    if (this.faults.length < FAULTS_KEPT) this.faults.push({ addr, write, kind: zero ? "zero" : vma.flags & VM_GROWSDOWN ? "stack" : "anon" });
    this.updateHiwater();
    return { ok: true };
  }

  /** The page-table level a walk of addr stops at (arm64's "level N translation fault"). */
  private missingLevel(addr: bigint): number {
    const w = this.pgtable.walk(addr);
    const real = w.steps.filter((s) => !s.folded);
    const i = real.findIndex((s) => !s.present);
    return i < 0 ? real.length - 1 : i;
  }

  private prot(vpn: number, writable: boolean): "user_rw" | "user_ro" {
    void vpn;
    return writable ? "user_rw" : "user_ro";
  }

  /** A new zeroed anonymous page at vpn. false: out of memory. */
  private mapNew(vpn: number, writable: boolean, kind: PteKind): boolean {
    const era = this.k.profile.era;
    const mask = gfp(era, "GFP_HIGHUSER_MOVABLE") | gfp(era, "__GFP_ZERO");
    const pfn = this.k.pages.alloc_pages(mask, 0, PageOwner.Anon);
    if (pfn < 0) return false;
    this.k.physmem.zeroPage(pfn);
    if (!this.mapOne(vpn, pfn, this.prot(vpn, writable))) {
      this.k.pages.__free_pages(pfn, 0); // __pte_alloc() failed: the new page goes back (VM_FAULT_OOM)
      return false;
    }
    this.ptes.set(vpn, { pfn, writable, kind });
    return true;
  }

  /** The shared zero page (empty_zero_page, in the kernel's .bss), mapped read-only. false: no page-table page. */
  private mapZero(vpn: number): boolean {
    if (this.zeroPfn < 0) this.zeroPfn = emptyZeroPfn(this.k);
    if (!this.mapOne(vpn, this.zeroPfn, "user_ro")) return false;
    this.ptes.set(vpn, { pfn: this.zeroPfn, writable: false, kind: "zero" });
    return true;
  }

  /**
   * One PTE, with the table pages above it allocated as needed. false when a table page cannot be allocated
   * (__pte_alloc()/__pmd_alloc() fail: the fault is VM_FAULT_OOM, a driver's insert -ENOMEM); the tables already
   * made stay, as the kernel's do, and go at exit_mmap().
   */
  private mapOne(vpn: number, pfn: number, prot: "user_rw" | "user_ro"): boolean {
    try {
      this.pgtable.mapPages(vpn, 1, [pfn], prot);
      return true;
    } catch (e) {
      if (isPgtableOom(e)) return false;
      throw e;
    }
  }

  /** remap_pfn_range / vm_insert_page / remap_vmalloc_range: a driver maps a frame into the VMA. */
  insertPfn(vma: Vma, addr: bigint, pfn: number, kind: "pfnmap" | "file"): number {
    if (addr < vma.start || addr >= vma.end) return -EINVAL;
    const vpn = Number(addr >> 12n);
    if (this.ptes.has(vpn)) return -16; // -EBUSY: vm_insert_page refuses a present PTE
    const writable = (vma.flags & VM_WRITE) !== 0;
    if (!this.mapOne(vpn, pfn, writable ? "user_rw" : "user_ro")) return -ENOMEM;
    this.ptes.set(vpn, { pfn, writable, kind });
    this.updateHiwater();
    return 0;
  }

  /** exit_mmap(): every VMA goes (close called), every page freed, then the page tables. */
  exitMmap(): void {
    for (const v of [...this.vmas]) this.removeRange(v.start, v.end, true);
    this.k.mem.tlb.flushRange(0, Number(this.L.taskSize >> 12n));
    this.pgtable.freeUserTables();
  }
}

/** The frame of empty_zero_page: the first page of the kernel image's .bss (never written). */
function emptyZeroPfn(k: Kernel): number {
  const bss = k.layout.image.find((s) => /bss/i.test(s.name)) ?? k.layout.image[k.layout.image.length - 1];
  if (!bss) throw new Error("mm: the layout has no kernel image to hold empty_zero_page");
  return Math.ceil(bss.phys / PAGE);
}

export { ENOMEM, EINVAL, EPERM };
