// Models mm/vmalloc.c of Linux 6.1 (and 3.4 / 2.6.26 where they differ): vmap_area free and busy trees, vm_struct,
// guard pages, lazy freeing, vmalloc/vzalloc/__vmalloc/vmalloc_user/vmalloc_32/vfree, vmap/vunmap, get_vm_area,
// and the era's failure messages. ioremap lives in mm/ioremap.ts, the boot-time state in mm/vmalloc_boot.ts,
// /proc/vmallocinfo in fs/vmallocinfo.ts.
//
// What is modelled, per era:
// - Free space: an address-sorted tree augmented with subtree_max_size and the 6.1 lowest-fit search
//   (mm/vmap_tree.ts). 2.6.26 scanned a sorted vmlist first-fit and 3.4 walked the busy rbtree with a free-area
//   cache; all three return the lowest address where the (aligned) request fits, so one search serves every era.
// - The free tree covers the vmalloc area and, where separate, the modules area (x86_64, ARM, arm64), as the
//   6.1 global free tree does (it spans the whole address space; only these ranges are ever searched).
// - Guard page: every vm_struct includes one extra page unless VM_NO_GUARD; /proc/vmallocinfo shows it.
// - ioremap alignment: 6.1 `1 << clamp(get_count_order_long(size), PAGE_SHIFT, IOREMAP_MAX_ORDER)`; 2.6/3.4
//   `1 << clamp(fls(size), ...)` (one order larger for power-of-two sizes), IOREMAP_MAX_ORDER 7 + PAGE_SHIFT
//   (arm64: PUD_SHIFT; ARM 3.4: 24, so a 1 MiB - 8 KiB binder area is 1 MiB aligned).
// - Lazy freeing (2.6.28+, so 3.4 and 6.1): vfree unmaps the PTEs at once but the virtual range stays reserved
//   ("unpurged vm_area") until more than lazy_max_pages() = fls(nr_cpus) * 32 MiB are waiting, or an allocation
//   fails and purges once before retrying. 2.6.26 frees the range at once.
// - Pages come one by one from the buddy allocator (owner Vmalloc), with __GFP_HIGHMEM added unless GFP_DMA/DMA32
//   (6.1 adds it in __vmalloc_area_node; 2.6/3.4 vmalloc() passes GFP_KERNEL | __GFP_HIGHMEM). The page array is
//   kmalloc'ed when it fits in a page, else vmalloc'ed with the same caller (the "vpages" areas, VM_VPAGES before
//   4.x). __GFP_ZERO zeroes the frames; without it they keep whatever they held (physmem keeps stale bytes).
// - Context rules: alloc_vmap_area might_sleep() (6.1 mm/vmalloc.c:1673), BUG_ON(in_interrupt()) in
//   __get_vm_area_node, vfree from interrupt deferred (3.10+) or BUG (2.6/3.4), vunmap BUG_ON(in_interrupt()).
// - Failure texts (printed unless __GFP_NOWARN):
//   6.1: `vmap allocation for size N failed: use vmalloc=<size> to increase size` then warn_alloc
//        `vmalloc error: size N, vm_struct allocation failed`; `vmalloc error: size N, exceeds total pages` before
//        any search; WARN_ON_ONCE(!size) for vmalloc(0).
//   3.4: `vmap allocation for size N failed: use vmalloc=<size> to increase size.` (with the period) then
//        warn_alloc_failed `vmalloc: allocation failure: N bytes` + `insmod: page allocation failure: order:0,
//        mode:0xd2`; 2.6.26: no message at all when the address space is exhausted (alloc_vmap_area and its
//        message arrived in 2.6.28) — vmalloc just returns NULL; a page shortage prints `vmalloc: allocation
//        failure, allocated N of M bytes` in both old eras.
// Simplifications (stated): no per-cpu vmap blocks (vm_map_ram), no huge vmalloc mappings (VM_ALLOW_HUGE_VMAP is
// accepted and ignored), one NUMA node, the vm_struct/vmap_area metadata is not charged to the slab allocator, the
// percpu allocator's areas are reserved but their pages are not populated.

import type { Kernel } from "../kernel.ts";
import type { Era } from "../types.ts";
import { PageOwner } from "./page_flags.ts";
import { isPgtableOom, PageTables, type Prot } from "./pgtable.ts";
import { VmapTree, alignUp, type VmapNode } from "./vmap_tree.ts";
import { gfpFlags, formatGfp } from "../gfp.ts";
import { KERN_WARNING, KERN_ERR } from "../kernel/printk.ts";
import { warn, bug, dump_stack, recordSplat } from "../debug/splat.ts";
import { showMem } from "./show_mem.ts";
import { ioremap as ioremapImpl, iounmap as iounmapImpl } from "./ioremap.ts";
import { KernelOops } from "../kernel/module.ts";
import { explainWrongFree } from "../debug/wrong_free.ts";
import { PrandomState, kaslrRandomLong } from "../arch/x86_64.ts";

const PAGE = 4096;

// include/linux/vmalloc.h (6.1 values; VM_VPAGES is the old name of bit 0x10).
export const VM_IOREMAP = 0x1;
export const VM_ALLOC = 0x2;
export const VM_MAP = 0x4;
export const VM_USERMAP = 0x8;
export const VM_DMA_COHERENT = 0x10;
export const VM_VPAGES = 0x10;
export const VM_UNINITIALIZED = 0x20;
export const VM_NO_GUARD = 0x40;
export const VM_KASAN = 0x80;
export const VM_FLUSH_RESET_PERMS = 0x100;
export const VM_MAP_PUT_PAGES = 0x200;
export const VM_ALLOW_HUGE_VMAP = 0x400;
/** arch/arm/mm/mm.h (3.4): static iotable mappings. */
export const VM_ARM_STATIC_MAPPING = 0x40000000;

/** struct vm_struct, with the simulator's bookkeeping. */
export interface VmStruct {
  addr: bigint;
  /** Bytes, including the guard page unless VM_NO_GUARD. */
  size: number;
  flags: number;
  /** struct page **pages as PFNs (null for ioremap/pcpu areas). */
  pages: number[] | null;
  nr_pages: number;
  phys_addr: number;
  /** The %pS caller text ("load_module+0xbb7/0x21a0", "memdemo_main+0x27c/0xb7e [memdemo]"), "" for none. */
  caller: string;
  /** Where the pages array lives: a vmalloc address ("vpages") or a kmalloc'ed/unaccounted one. */
  pagesArrayAddr: bigint;
  owner: "boot" | "module";
  /** The size the caller asked for (vmalloc's real_size), before page rounding; KASAN unpoisons exactly this. */
  requested?: number;
  /** No guard page in `size` (VM_NO_GUARD, or a static mapping registered with its exact size). */
  noGuard?: boolean;
  /** Frames mapped (vmap'ed pages not owned by the area, or ioremap's contiguous run). */
  mapped: { kind: "pages" | "phys" | "none"; pfns?: number[]; pfn?: number; count: number };
  /** Pages the area's owner maps into it itself, page index -> pfn (percpu's pcpu_map_pages: a chunk is populated a
   * page per unit at a time; vm->nr_pages stays 0, as in the real kernel). */
  ownerMapped?: Map<number, number>;
}

/** A busy vmap_area: [start, end) in pages; vm is null for areas without a vm_struct (vm_map_ram). */
export interface VmapArea {
  start: number;
  end: number;
  vm: VmStruct | null;
}

export interface AreaInfo {
  start: bigint;
  end: bigint;
  size: number;
  flags: number;
  flagNames: string[];
  caller: string;
  pages: number[];
  nr_pages: number;
  phys: number;
  owner: "boot" | "module";
  state: "busy" | "lazy";
}

export interface VmallocStats {
  allocs: number;
  frees: number;
  failures: number;
  purges: number;
  pagesAllocated: number;
}

export interface VmallocOpts {
  /** %pS text of the caller; defaults to the module frame that called (captureModuleStack) or "". */
  caller?: string;
  gfp?: number;
}

type Diag = VmallocDiag;

export class Vmalloc {
  readonly k: Kernel;
  readonly era: Era;
  readonly pt: PageTables;
  /** Free space, augmented (vmap_area_root of free_vmap_area_root). */
  readonly free = new VmapTree(0x5eed);
  /** Busy areas (vmap_area_root). */
  readonly busy = new VmapTree<VmapArea>(0xb05e);
  /** Lazily freed areas waiting for a purge (purge_vmap_area_root), merged as the kernel merges them. */
  readonly lazy = new VmapTree(0x1a2e);
  lazyPages = 0;
  /** VMALLOC_START/END as page numbers (end exclusive; x86_64's inclusive VMALLOC_END loses its last page). */
  readonly vmallocStart: number;
  readonly vmallocEnd: number;
  readonly modulesStart: number;
  readonly modulesEnd: number;
  /** Ranges the free tree manages, [start, end) pages. */
  readonly ranges: { start: number; end: number }[] = [];
  readonly stats: VmallocStats = { allocs: 0, frees: 0, failures: 0, purges: 0, pagesAllocated: 0 };
  /** Pages allocated by __vmalloc_area_node that are still held (6.1 vmalloc_nr_pages()). */
  nrVmallocPages = 0;
  /**
   * vmalloc() areas a module released with vunmap() or iounmap() instead of vfree(): the mapping is gone but the
   * pages (and the page array) are never freed, as in the kernel (__vunmap(addr, 0) / iounmap's remove_vm_area
   * leave area->pages alone). They stay owned by Vmalloc and counted in 6.1's VmallocUsed (vmalloc_nr_pages is
   * only decreased by a vfree), held here so that the invariant checker can tell a leak the module caused from a
   * frame the simulator lost.
   */
  readonly leaked: { addr: bigint; pages: readonly number[]; by: "vunmap" | "iounmap" }[] = [];
  /** Listeners: the TLB model flushes on purge, KASAN poisons/unpoisons areas. */
  readonly onFlush: ((startVpn: number, endVpn: number) => void)[] = [];
  readonly onAlloc: ((vm: VmStruct) => void)[] = [];
  readonly onFree: ((vm: VmStruct) => void)[] = [];
  bootDone = false;
  private readonly G: Readonly<Record<string, number>>;
  private readonly diag: Diag;
  private warnedZero = false;

  constructor(k: Kernel, pt: PageTables) {
    this.k = k;
    this.era = k.profile.era;
    this.pt = pt;
    this.G = gfpFlags(this.era);
    this.diag = new VmallocDiag(k);
    const L = k.layout;
    this.vmallocStart = Number(L.vmallocStart >> 12n);
    this.vmallocEnd = Number(L.vmallocEnd >> 12n);
    this.modulesStart = Number(L.modulesVaddr >> 12n);
    this.modulesEnd = Number(L.modulesEnd >> 12n);
    this.ranges.push({ start: this.vmallocStart, end: this.vmallocEnd });
    const m = { start: this.modulesStart, end: this.modulesEnd };
    if (m.end > m.start && (m.end <= this.vmallocStart || m.start >= this.vmallocEnd)) this.ranges.push(m);
    this.ranges.sort((a, b) => a.start - b.start);
    // vmap_init_free_space(): adjacent ranges become one free block, as the kernel's single free tree would hold.
    let cur: { start: number; end: number } | null = null;
    for (const r of this.ranges) {
      if (cur && cur.end === r.start) cur.end = r.end;
      else {
        if (cur) this.free.insert(cur.start, cur.end);
        cur = { ...r };
      }
    }
    if (cur) this.free.insert(cur.start, cur.end);
  }

  // ------------------------------------------------------------------ helpers

  private gfp(name: string): number {
    return this.G[name] ?? 0;
  }
  get GFP_KERNEL(): number {
    return this.gfp("GFP_KERNEL");
  }
  private lazyMaxPages(): number {
    const cpus = Math.max(1, this.k.profile.nrCpus);
    return (32 - Math.clz32(cpus)) * ((32 << 20) / PAGE);
  }
  private callerOf(opts?: VmallocOpts): string {
    if (opts?.caller !== undefined) return opts.caller;
    const f = this.k.captureModuleStack()[0];
    if (f && f.module) return this.k.kallsyms.moduleFrame(f.fn, f.module, f.line);
    return "";
  }
  private vaddr(vpn: number): bigint {
    return BigInt(vpn) << 12n;
  }
  private get sched(): { in_interrupt?: () => number; might_sleep?: (f: string, l: number, top?: string[]) => void; in_nmi?: () => number } | undefined {
    return (this.k as unknown as { sched?: never }).sched;
  }

  /** totalram_pages(): the page allocator's managed pages. */
  private totalramPages(): number {
    const p = this.k.pages as unknown as { totalramPages?: number; totalram_pages?: () => number };
    return p.totalram_pages?.() ?? p.totalramPages ?? Infinity;
  }

  is_vmalloc_addr(addr: bigint): boolean {
    const L = this.k.layout;
    return addr >= L.vmallocStart && addr < L.vmallocEnd;
  }

  is_vmalloc_or_module_addr(addr: bigint): boolean {
    const L = this.k.layout;
    return this.is_vmalloc_addr(addr) || (addr >= L.modulesVaddr && addr < L.modulesEnd);
  }

  // ------------------------------------------------------------------ alloc_vmap_area / free

  /**
   * alloc_vmap_area(): reserve `sizePages` pages aligned to `alignPages` within [vstart, vend). Returns the start
   * page, or -1 after printing the era's "vmap allocation ... failed" line (unless __GFP_NOWARN).
   */
  alloc_vmap_area(sizePages: number, alignPages: number, vstart: number, vend: number, gfp: number): number {
    if (sizePages <= 0) throw new Error("BUG_ON(!size)");
    if (this.era === "6.1" && this.bootDone) this.sched?.might_sleep?.("mm/vmalloc.c", 1673);
    let purged = false;
    for (;;) {
      const vpn = this.findLowest(sizePages, alignPages, vstart, vend);
      if (vpn >= 0) {
        this.carve(vpn, sizePages);
        return vpn;
      }
      if (!purged && this.era !== "2.6") {
        purged = true;
        this.purge();
        continue;
      }
      break;
    }
    // `if (!(gfp_mask & __GFP_NOWARN) && printk_ratelimit())`: the kernel-wide printk ratelimit (10 per 5 s)
    if (this.era !== "2.6" && !(gfp & this.gfp("__GFP_NOWARN")) && this.k.log.printk_ratelimit(this.k.profile.hz, "alloc_vmap_area")) {
      const bytes = sizePages * PAGE;
      const text =
        this.era === "6.1"
          ? `vmap allocation for size ${bytes} failed: use vmalloc=<size> to increase size`
          : `vmap allocation for size ${bytes} failed: use vmalloc=<size> to increase size.`;
      this.k.printk(KERN_WARNING + "%s\n", text);
    }
    return -1;
  }

  /** __alloc_vmap_area's search: lowest fit in [vstart, vend). */
  private findLowest(sizePages: number, alignPages: number, vstart: number, vend: number): number {
    // 6.1 searches for size + align - 1 (adjust_search_size) so any block it picks fits once aligned; 2.6/3.4 walked
    // the areas in address order and took the first hole the aligned request fits, however tight.
    const adjust = this.era === "6.1" && !(alignPages <= 1 || vend - vstart === sizePages);
    const va = this.free.lowestMatch(sizePages, alignPages, vstart, adjust);
    if (!va) return -1;
    const start = alignUp(Math.max(va.start, vstart), alignPages);
    if (start + sizePages > vend) return -1;
    return start;
  }

  /** adjust_va_to_fit_type(): take [vpn, vpn+size) out of the free block holding it (FL/LE/RE/NE fit). */
  private carve(vpn: number, sizePages: number): void {
    const va = this.free.find(vpn)!;
    const end = vpn + sizePages;
    if (va.start === vpn && va.end === end)
      this.free.remove(va); // FL_FIT_TYPE
    else if (va.start === vpn) {
      va.start = end; // LE_FIT_TYPE
      this.free.resized(va);
    } else if (va.end === end) {
      va.end = vpn; // RE_FIT_TYPE
      this.free.resized(va);
    } else {
      const oldEnd = va.end; // NE_FIT_TYPE: split
      va.end = vpn;
      this.free.resized(va);
      this.free.insert(end, oldEnd);
    }
  }

  /** merge_or_add_vmap_area(): return [start, end) to a tree, merging with its neighbours. */
  private mergeInto(tree: VmapTree, start: number, end: number): void {
    const prev = tree.floor(start - 1);
    const next = tree.ceil(end);
    const mergePrev = prev && prev.end === start;
    const mergeNext = next && next.start === end;
    if (mergePrev && mergeNext) {
      const e = next!.end;
      tree.remove(next!);
      prev!.end = e;
      tree.resized(prev!);
    } else if (mergePrev) {
      prev!.end = end;
      tree.resized(prev!);
    } else if (mergeNext) {
      next!.start = start;
      tree.resized(next!);
    } else tree.insert(start, end);
  }

  /** The top-most fit (pcpu_get_vm_areas allocates its areas from the top of the vmalloc area down). */
  private findHighest(sizePages: number, alignPages: number, vstart: number, vend: number): number {
    let best = -1;
    for (const va of this.free.inorder()) {
      const hi = Math.min(va.end, vend);
      const start = Math.floor((hi - sizePages) / alignPages) * alignPages;
      if (start >= Math.max(va.start, vstart) && start > best) best = start;
    }
    return best;
  }

  /** purge_vmap_area_lazy(): lazily freed ranges become free space; the TLB is flushed for them. */
  purge(): void {
    if (this.lazy.count === 0) return;
    const ranges = [...this.lazy.inorder()].map((n) => [n.start, n.end] as const);
    for (const n of [...this.lazy.inorder()]) this.lazy.remove(n);
    this.lazyPages = 0;
    this.stats.purges++;
    for (const [s, e] of ranges) {
      this.mergeInto(this.free, s, e);
      for (const f of this.onFlush) this.hook(() => f(s, e));
    }
  }

  /** free_vmap_area_noflush(): a busy area's range goes to the lazy list (or straight to free space in 2.6.26). */
  private releaseRange(start: number, end: number): void {
    if (this.era === "2.6") {
      this.mergeInto(this.free, start, end);
      for (const f of this.onFlush) this.hook(() => f(start, end));
      return;
    }
    this.mergeInto(this.lazy, start, end);
    this.lazyPages += end - start;
    if (this.lazyPages > this.lazyMaxPages()) this.purge();
  }

  // ------------------------------------------------------------------ get_vm_area

  /**
   * __get_vm_area_node(): reserve an area with a vm_struct. `size` in bytes (page-aligned here). Returns null on
   * failure (the "vmap allocation" line is printed by alloc_vmap_area).
   */
  __get_vm_area_node(size: number, align: number, flags: number, start: number, end: number, gfp: number, caller: string, topDown = false): VmStruct | null {
    if (this.bootDone && this.sched?.in_interrupt?.()) {
      this.diag.bug(this.era === "6.1" ? 2464 : this.era === "3.4" ? 1298 : 1006, "__get_vm_area_node");
      return null;
    }
    size = alignUp(size, PAGE);
    if (size === 0) return null;
    if (flags & VM_IOREMAP) {
      // IOREMAP_MAX_ORDER: arm64 PUD_SHIFT; ARM 24 ("Allow 16MB-aligned ioremap pages", supersections), which since
      // 4.2 only !SMP && !LPAE kernels keep: the 3.4 phone has it, Debian's SMP armmp falls back to 7 + PAGE_SHIFT.
      const maxOrder = this.k.profile.arch === "arm64" ? 30 : this.k.profile.arch === "arm" && this.era !== "6.1" ? 24 : 7 + 12;
      const order = this.era === "6.1" ? countOrder(size) : fls(size);
      align = 2 ** Math.min(Math.max(order, 12), maxOrder);
    }
    // kzalloc_node(sizeof(struct vm_struct)), then alloc_vmap_area()'s own allocation of the vmap_area (6.1
    // kmem_cache_alloc_node(vmap_area_cachep), 3.4 kmalloc_node; 2.6.26 had no vmap_area): failslab call sites.
    if (this.metaFails(gfp, "vm_struct")) return null;
    if (!(flags & VM_NO_GUARD)) size += PAGE;
    if (!topDown && this.era !== "2.6" && this.metaFails(gfp, "vmap_area")) return null;
    const sizePages = size / PAGE;
    const alignPages = Math.max(1, Math.floor(align / PAGE));
    const vpn = topDown ? this.findHighest(sizePages, alignPages, start, end) : this.alloc_vmap_area(sizePages, alignPages, start, end, gfp);
    if (vpn < 0) return null;
    if (topDown) this.carve(vpn, sizePages);
    const vm: VmStruct = {
      addr: this.vaddr(vpn),
      size,
      flags,
      pages: null,
      nr_pages: 0,
      phys_addr: 0,
      caller,
      pagesArrayAddr: 0n,
      owner: this.bootDone ? "module" : "boot",
      mapped: { kind: "none", count: 0 },
    };
    this.busy.insert(vpn, vpn + sizePages, { start: vpn, end: vpn + sizePages, vm });
    return vm;
  }

  /** get_vm_area_caller(size, flags, caller) over the vmalloc area. */
  get_vm_area(size: number, flags: number, opts?: VmallocOpts): VmStruct | null {
    return this.__get_vm_area_node(size, 1, flags, this.vmallocStart, this.vmallocEnd, this.GFP_KERNEL, this.callerOf(opts));
  }

  /** vm_area_add_early(): a static mapping registered before vmalloc_init (ARM iotable_init). Exact size, no guard. */
  vm_area_add_early(addr: bigint, size: number, flags: number, phys: number, caller: string, map = true): VmStruct {
    const vpn = Number(addr >> 12n);
    const pages = alignUp(size, PAGE) / PAGE;
    const va = this.free.find(vpn);
    if (!va || va.end < vpn + pages) throw new Error(`vm_area_add_early: 0x${addr.toString(16)} overlaps`);
    this.carve(vpn, pages);
    const mapped: VmStruct["mapped"] = map ? { kind: "phys", pfn: Math.floor(phys / PAGE), count: pages } : { kind: "none", count: 0 };
    const vm: VmStruct = {
      addr,
      size: pages * PAGE,
      flags,
      pages: null,
      nr_pages: 0,
      phys_addr: phys,
      caller,
      pagesArrayAddr: 0n,
      owner: "boot",
      noGuard: true,
      mapped,
    };
    this.busy.insert(vpn, vpn + pages, { start: vpn, end: vpn + pages, vm });
    if (map) this.pt.mapPages(vpn, pages, Math.floor(phys / PAGE), "io");
    return vm;
  }

  /** pcpu_get_vm_areas() for one area: top-down, no guard page, VM_ALLOC, no pages attached. */
  pcpu_get_vm_area(size: number, align: number, caller: string): VmStruct | null {
    return this.__get_vm_area_node(size, align, VM_ALLOC | VM_NO_GUARD, this.vmallocStart, this.vmallocEnd, this.GFP_KERNEL, caller, true);
  }

  /** find_vm_area(addr): the vm_struct of the busy area containing addr. */
  find_vm_area(addr: bigint): VmStruct | null {
    const n = this.busy.find(Number(BigInt.asUintN(64, addr) >> 12n));
    return n?.data?.vm ?? null;
  }

  /** find_vm_area() of the page vpn (a page number, no bigint made): whether a busy area with a vm_struct holds it. */
  hasVmAtVpn(vpn: number): boolean {
    return (this.busy.find(vpn)?.data?.vm ?? null) !== null;
  }

  private findExact(addr: bigint): VmapNode<VmapArea> | null {
    const n = this.busy.find(Number(addr >> 12n));
    return n && this.vaddr(n.start) === addr ? n : null;
  }

  /** remove_vm_area(): unmap and release the range; returns the vm_struct (pages still held). */
  remove_vm_area(addr: bigint): VmStruct | null {
    const n = this.findExact(addr);
    if (!n || !n.data?.vm) return null;
    const vm = n.data.vm;
    this.busy.remove(n);
    this.pt.unmapPages(n.start, n.end - n.start);
    this.releaseRange(n.start, n.end);
    for (const f of this.onFree) this.hook(() => f(vm));
    return vm;
  }

  /**
   * A hook (KASAN's shadow of a vmalloc range) may run long enough for the watchdog (Kernel.watchdog) to stop the
   * run from inside it: the error waits in `deferred` until the operation that ran the hook has finished, so a vfree
   * of gigabytes still frees its pages before the run stops (freeArea rethrows it).
   */
  private hook(run: () => void): void {
    try {
      run();
    } catch (e) {
      this.deferred ??= { error: e };
    }
  }
  private deferred: { error: unknown } | undefined;

  // ------------------------------------------------------------------ vmalloc family

  /**
   * __vmalloc_node_range(): the one allocation path. Returns the address or 0n.
   */
  __vmalloc_node_range(size: number, align: number, start: number, end: number, gfp: number, prot: Prot, vmFlags: number, caller: string): bigint {
    const realSize = size;
    const nowarn = (gfp & this.gfp("__GFP_NOWARN")) !== 0;
    if (!Number.isFinite(size) || size <= 0) {
      if (this.era === "6.1") this.warnOnceZero(size, align, start, end, gfp, prot);
      return 0n;
    }
    size = alignUp(size, PAGE);
    const totalram = this.totalramPages();
    if (size / PAGE > totalram) {
      if (this.era === "6.1") this.diag.warnAlloc(gfp, `vmalloc error: size ${realSize}, exceeds total pages`, nowarn);
      else this.diag.warnAllocOld(gfp, `vmalloc: allocation failure: ${realSize} bytes`, nowarn);
      this.stats.failures++;
      return 0n;
    }
    const area = this.__get_vm_area_node(size, align, VM_ALLOC | VM_UNINITIALIZED | vmFlags, start, end, gfp, caller);
    if (!area) {
      this.stats.failures++;
      if (this.era === "6.1") this.diag.warnAlloc(gfp, `vmalloc error: size ${realSize}, vm_struct allocation failed`, nowarn);
      else if (this.era === "3.4") this.diag.warnAllocOld(gfp, `vmalloc: allocation failure: ${realSize} bytes`, nowarn);
      return 0n;
    }
    if (!this.__vmalloc_area_node(area, gfp, prot)) {
      this.stats.failures++;
      return 0n;
    }
    area.flags &= ~VM_UNINITIALIZED;
    area.requested = realSize;
    this.stats.allocs++;
    for (const f of this.onAlloc) this.hook(() => f(area));
    // A stop inside a hook (KASAN's shadow of gigabytes): the area goes back, as if it had failed, and freeArea
    // rethrows the stop once its pages are free (a busy area the module never received would be left over).
    if (this.deferred) this.freeArea(area.addr);
    return area.addr;
  }

  /** __vmalloc_area_node(): the page array, the pages one by one, the PTEs. */
  private __vmalloc_area_node(area: VmStruct, gfp: number, prot: Prot): boolean {
    const nrPages = (area.flags & VM_NO_GUARD ? area.size : area.size - PAGE) / PAGE;
    const ptrSize = this.k.layout.bits / 8;
    const arraySize = nrPages * ptrSize;
    const nested = (gfp & this.gfp("GFP_KERNEL")) | this.gfp("__GFP_ZERO") | (gfp & this.gfp("__GFP_NOWARN"));
    if (arraySize > PAGE) {
      const arr = this.__vmalloc_node_range(
        arraySize,
        1,
        this.vmallocStart,
        this.vmallocEnd,
        nested | (this.era === "6.1" ? 0 : this.gfp("__GFP_HIGHMEM")),
        "kernel",
        0,
        area.caller,
      );
      if (!arr) {
        this.failPages(area, gfp, 0, `failed to allocated page array size ${arraySize}`);
        return false;
      }
      area.pagesArrayAddr = arr;
      if (this.era !== "6.1") area.flags |= VM_VPAGES;
    } else if (this.metaFails(nested, "pages", arraySize)) {
      // kmalloc_node(array_size, nested_gfp): 6.1 says so; 3.4 and 2.6.26 free the area and return NULL silently.
      if (this.era === "6.1") this.failPages(area, gfp, 0, `failed to allocated page array size ${arraySize}`);
      else this.freeArea(area.addr);
      return false;
    }
    const pageGfp = gfp & (this.gfp("__GFP_DMA") | this.gfp("__GFP_DMA32")) || this.noHighmem ? gfp : gfp | this.gfp("__GFP_HIGHMEM");
    const pages: number[] = [];
    area.pages = pages;
    const zero = (gfp & this.gfp("__GFP_ZERO")) !== 0;
    // The mask of every page's allocation, computed once for the loop.
    const eachGfp = (pageGfp & ~this.gfp("__GFP_ZERO")) | (this.era === "6.1" ? this.gfp("__GFP_NOWARN") : 0);
    const pa = this.k.pages;
    // 6.1 vm_area_alloc_pages(): order-0 pages in bulk calls of at most 100 (gfp without __GFP_NOFAIL); a bulk call
    // that comes back short ends the bulk phase, and the rest come one by one (alloc_pages with the full gfp). The
    // split matters only to fault injection: each bulk call is one should_fail_alloc_page().
    if (this.era === "6.1") {
      const bulkGfp = eachGfp & ~this.gfp("__GFP_NOFAIL");
      while (pages.length < nrPages) {
        this.tickPages(area, pages);
        const want = Math.min(nrPages - pages.length, 100);
        const got = pa.alloc_pages_bulk(bulkGfp, want, PageOwner.Vmalloc);
        for (const pfn of got) {
          if (zero) this.k.physmem.zeroPage(pfn);
          pages.push(pfn);
        }
        if (got.length !== want) break;
      }
    }
    for (let i = pages.length; i < nrPages; i++) {
      if ((i & 63) === 0) this.tickPages(area, pages);
      const pfn = pa.alloc_pages(eachGfp, 0, PageOwner.Vmalloc);
      if (pfn < 0) {
        area.nr_pages = pages.length;
        this.nrVmallocPages += pages.length;
        this.failPages(area, gfp, pages.length, "");
        return false;
      }
      if (zero) this.k.physmem.zeroPage(pfn);
      pages.push(pfn);
    }
    area.nr_pages = nrPages;
    this.nrVmallocPages += nrPages;
    this.stats.pagesAllocated += nrPages;
    area.mapped = { kind: "pages", pfns: pages, count: nrPages };
    try {
      this.pt.mapPages(Number(area.addr >> 12n), nrPages, pages, prot);
    } catch (e) {
      // vmap_pages_range() fails when a page-table page cannot be had (memory exhausted between the pages and their
      // tables): 6.1 warns "failed to map pages" and __vfree()s the area, its pages and the PTEs written so far
      if (!isPgtableOom(e)) throw e;
      this.failPages(area, gfp, nrPages, this.era === "6.1" ? "failed to map pages" : "");
      return false;
    }
    return true;
  }

  /**
   * The soft-lockup watchdog's look (Kernel.watchdog) every few dozen pages of a long vmalloc: a vmalloc of
   * gigabytes is one kernel call of seconds. When it stops the run, the pages taken so far and the area go back
   * first, as for a failed vmalloc (without its warning), so the kernel stays consistent.
   */
  private tickPages(area: VmStruct, pages: number[]): void {
    try {
      this.k.watchdog();
    } catch (e) {
      area.nr_pages = pages.length;
      this.nrVmallocPages += pages.length;
      this.freeArea(area.addr);
      throw e;
    }
  }

  /**
   * should_failslab() for vmalloc's own metadata, which the simulator does not charge to the slab allocator (see the
   * header): the kmalloc'ed vm_struct (7 words in 2.6.26, 8 later), the vmap_area (6.1: its own cache, 4 words + an
   * rb_node + a list_head; 3.4: kmalloc'ed, 13 words) and the kmalloc'ed page array. True when a fault is injected.
   */
  private metaFails(gfp: number, what: "vm_struct" | "vmap_area" | "pages", bytes = 0): boolean {
    const fault = this.k.fault;
    if (!this.bootDone || !fault?.armed) return false;
    const w = this.k.layout.bits / 8;
    const slab = this.k.slab;
    let size: number;
    let frames: string[];
    const outer = ["__vmalloc_node_range", "__vmalloc_node"];
    if (what === "vmap_area" && this.era === "6.1") {
      size = 8 * w; // va_start, va_end, rb_node (3 words), list (2 words), the subtree_max_size/vm union (1 word)
      frames = ["slab_pre_alloc_hook.constprop.0", "kmem_cache_alloc_node", "alloc_vmap_area", "__get_vm_area_node", ...outer];
    } else {
      const n = what === "vm_struct" ? (this.era === "2.6" ? 7 : 8) * w : what === "vmap_area" ? 13 * w : bytes;
      size = slab.kmalloc_size_roundup(n);
      const kmallocFrames = this.era === "6.1" ? ["slab_pre_alloc_hook.constprop.0", "__kmem_cache_alloc_node", "kmalloc_node_trace"] : ["__kmalloc_node"];
      frames = [
        ...kmallocFrames,
        ...(what === "vmap_area" ? ["alloc_vmap_area"] : []),
        what === "pages" ? "__vmalloc_area_node" : "__get_vm_area_node",
        ...outer,
      ];
    }
    // gfp & GFP_RECLAIM_MASK: the zone bits go (failslab looks at none of them).
    const zone = this.gfp("__GFP_HIGHMEM") | this.gfp("__GFP_DMA") | this.gfp("__GFP_DMA32");
    return fault.should_failslab(
      size,
      gfp & ~zone,
      frames,
      what === "pages" ? "vmalloc page array" : what === "vmap_area" && this.era === "6.1" ? "vmap_area" : `vmalloc ${what}`,
    );
  }

  private failPages(area: VmStruct, gfp: number, got: number, what: string): void {
    const nowarn = (gfp & this.gfp("__GFP_NOWARN")) !== 0;
    const want = area.flags & VM_NO_GUARD ? area.size : area.size - PAGE;
    if (this.era === "6.1") {
      this.diag.warnAlloc(gfp, what ? `vmalloc error: size ${want}, ${what}` : `vmalloc error: size ${want}, page order 0, failed to allocate pages`, nowarn);
    } else if (this.era === "3.4") {
      this.diag.warnAllocOld(gfp, `vmalloc: allocation failure, allocated ${got * PAGE} of ${area.size} bytes`, nowarn);
    } else if (!nowarn) {
      this.k.printk(KERN_WARNING + "vmalloc: allocation failure, allocated %ld of %ld bytes\n", got * PAGE, area.size);
    }
    // __vfree(area->addr): give back what was taken.
    this.freeArea(area.addr);
  }

  private warnOnceZero(size: number, align: number, start: number, end: number, gfp: number, prot: Prot): void {
    if (this.warnedZero) return;
    this.warnedZero = true;
    // WARN_ON_ONCE(!size): the line of the Debian builds in the real logs (x86_64 6.1.192: 3227; 686/armmp 6.1.176: 3170).
    // It is the function's first test, so the arguments are still where the calling convention put them (the real
    // logs' register blocks): amd64 RDI size, RSI align, RDX start, RCX end (VMALLOC_END, inclusive on x86_64, copied
    // in R10), R8 the gfp mask, R9 the pgprot, R15 the node (NUMA_NO_NODE as a 32-bit -1); 686 (regparm) EAX size, EDX
    // align, ECX start and the mask in ESI. The rest stay invented.
    const arch = this.k.profile.arch;
    const sz = BigInt(Number.isFinite(size) && size >= 0 ? Math.floor(size) : 0);
    let regs: Record<string, bigint> | undefined;
    // vmalloc()'s family pass align 1 (__vmalloc_node(size, 1, ...)); the simulator's callers pass the page it rounds to
    const al = BigInt(align === PAGE ? 1 : align);
    if (arch === "x86_64") {
      const L = this.k.layout;
      const endAddr = end === this.vmallocEnd ? L.vmallocEnd : (BigInt(end) << 12n) - 1n;
      regs = { RDI: sz, RSI: al, RDX: BigInt(start) << 12n, RCX: endAddr, R10: endAddr, R08: BigInt(gfp), R15: 0xffffffffn, RAX: 0n, RBP: 0n };
      // PAGE_KERNEL (NX, global, dirty, accessed, RW, present) and PAGE_KERNEL_EXEC
      if (prot === "kernel") regs.R09 = 0x8000000000000163n;
      else if (prot === "kernel_exec") regs.R09 = 0x163n;
    } else if (arch === "i386") regs = { EAX: sz, EDX: al, ECX: BigInt(start) << 12n, ESI: BigInt(gfp) };
    this.diag.warn(arch === "x86_64" || arch === "arm64" ? 3227 : 3170, "__vmalloc_node_range", undefined, undefined, regs);
  }

  /** 2.6/3.4 vmalloc()/vzalloc()/vmalloc_user() pass __GFP_HIGHMEM themselves (mode:0xd2 in their warnings). */
  private oldHighmem(): number {
    return this.era === "6.1" ? 0 : this.gfp("__GFP_HIGHMEM");
  }

  /** vmalloc(size): GFP_KERNEL, page-aligned, anywhere in the vmalloc area. */
  vmalloc(size: number, opts?: VmallocOpts): bigint {
    return this.__vmalloc_node_range(
      size,
      PAGE,
      this.vmallocStart,
      this.vmallocEnd,
      opts?.gfp ?? this.GFP_KERNEL | this.oldHighmem(),
      "kernel",
      0,
      this.callerOf(opts),
    );
  }

  /** vzalloc(size): vmalloc with __GFP_ZERO. */
  vzalloc(size: number, opts?: VmallocOpts): bigint {
    return this.__vmalloc_node_range(
      size,
      PAGE,
      this.vmallocStart,
      this.vmallocEnd,
      this.GFP_KERNEL | this.oldHighmem() | this.gfp("__GFP_ZERO"),
      "kernel",
      0,
      this.callerOf(opts),
    );
  }

  /** __vmalloc(size, gfp[, prot]): the era's signature (prot argument dropped in 5.8; accepted and ignored here). */
  __vmalloc(size: number, gfp: number, _prot?: number, opts?: VmallocOpts): bigint {
    return this.__vmalloc_node_range(size, PAGE, this.vmallocStart, this.vmallocEnd, gfp, "kernel", 0, this.callerOf(opts));
  }

  /** vmalloc_user(size): zeroed, VM_USERMAP, SHMLBA-aligned (16 KiB on ARM). */
  vmalloc_user(size: number, opts?: VmallocOpts): bigint {
    const shmlba = this.k.profile.arch === "arm" ? 4 * PAGE : PAGE;
    return this.__vmalloc_node_range(
      size,
      shmlba,
      this.vmallocStart,
      this.vmallocEnd,
      this.GFP_KERNEL | this.oldHighmem() | this.gfp("__GFP_ZERO"),
      "kernel",
      VM_USERMAP,
      this.callerOf(opts),
    );
  }

  /** vmalloc_32(size): pages addressable with 32 bits (GFP_DMA32 on 64-bit; lowmem without __GFP_HIGHMEM on 32-bit). */
  vmalloc_32(size: number, opts?: VmallocOpts): bigint {
    const gfp = this.k.layout.bits === 64 ? this.GFP_KERNEL | this.gfp("__GFP_DMA32") : this.GFP_KERNEL;
    const caller = this.callerOf(opts);
    if (this.k.layout.bits === 64) return this.__vmalloc_node_range(size, PAGE, this.vmallocStart, this.vmallocEnd, gfp, "kernel", 0, caller);
    // 32-bit: GFP_VMALLOC32 is GFP_KERNEL, and these pages must stay in lowmem (no __GFP_HIGHMEM added).
    this.noHighmem = true;
    try {
      return this.__vmalloc_node_range(size, PAGE, this.vmallocStart, this.vmallocEnd, gfp, "kernel", 0, caller);
    } finally {
      this.noHighmem = false;
    }
  }

  private noHighmem = false;

  /** module_alloc(): a vmalloc in the modules area (the loader's caller text, e.g. "load_module+0xbb7/0x21a0"). */
  module_alloc(size: number, caller: string): bigint {
    const start = this.modulesStart + this.moduleLoadOffset() / PAGE;
    return this.__vmalloc_node_range(size, PAGE, start, this.modulesEnd, this.GFP_KERNEL, "kernel_exec", this.era === "6.1" ? VM_FLUSH_RESET_PERMS : 0, caller);
  }

  /**
   * arch/x86/kernel/module.c get_module_load_offset() (6.1): with KASLR, the first module_alloc() picks
   * (prandom_u32_max(1024) + 1) pages once per boot and every module (and bpf_prog_pack) sits above
   * MODULES_VADDR + that offset; `nokaslr` (or no --seed: the simulator's KASLR needs one) keeps 0.
   */
  private moduleLoadOffset(): number {
    // arch/x86/kernel/module.c serves both x86 flavours (CONFIG_RANDOMIZE_BASE=y in Debian's amd64 and 686 configs).
    if ((this.k.profile.arch !== "x86_64" && this.k.profile.arch !== "i386") || this.era !== "6.1") return 0;
    if (this.moduleOffset === undefined) {
      const seed = this.k.opts.seed;
      if (seed === undefined || this.k.params.has("nokaslr")) this.moduleOffset = 0;
      else {
        const r = new PrandomState(kaslrRandomLong(seed) ^ 0x6d6f64756c65n).u32(); // a stream of its own ("module")
        this.moduleOffset = (Number((BigInt(r) * 1024n) >> 32n) + 1) * PAGE;
      }
    }
    return this.moduleOffset;
  }
  private moduleOffset?: number;

  /** vfree(addr). */
  vfree(addr: bigint): void {
    if (addr === 0n) return;
    const s = this.sched;
    if (this.bootDone && s?.in_interrupt?.()) {
      if (this.era === "6.1") {
        // __vfree_deferred: the address goes on a per-cpu llist, a work item frees it.
        const defer = (s as unknown as { defer?: (fn: () => void) => void }).defer;
        if (defer) {
          defer(() => this.__vunmap(addr, true, "vfree"));
          return;
        }
      } else {
        // Before 3.10: BUG_ON(in_interrupt()) in vfree.
        this.diag.bug(this.era === "3.4" ? 1472 : 384, "vfree");
        return;
      }
    } else if (this.bootDone && this.era === "6.1") s?.might_sleep?.("mm/vmalloc.c", 2742, ["vfree"]);
    this.__vunmap(addr, true, "vfree");
  }

  /** vunmap(addr): release a vmap'ed area (pages stay with their owner). */
  vunmap(addr: bigint): void {
    if (addr === 0n) return;
    if (this.bootDone && this.sched?.in_interrupt?.()) {
      this.diag.bug(this.era === "6.1" ? 2775 : 1490, "vunmap");
      return;
    }
    this.__vunmap(addr, false, "vunmap");
  }

  /** __vunmap(): the shared free path with the kernel's WARNs for bad addresses. */
  private __vunmap(addr: bigint, deallocPages: boolean, fn: "vfree" | "vunmap"): void {
    if (addr & 0xfffn) {
      this.diag.warnBadFree(this.era === "6.1" ? 2616 : this.era === "3.4" ? 1414 : 385, "__vunmap", `Trying to ${fn}() bad address (%p)\n`, addr);
      return;
    }
    const n = this.findExact(addr);
    if (!n || !n.data?.vm) {
      this.diag.warnBadFree(this.era === "6.1" ? 2623 : this.era === "3.4" ? 1421 : 392, "__vunmap", `Trying to ${fn}() nonexistent vm area (%p)\n`, addr);
      return;
    }
    this.freeArea(addr, deallocPages);
    this.stats.frees++;
  }

  /** A vmalloc() area removed without freeing its pages (vunmap/iounmap of a vmalloc address): see `leaked`. */
  leakPages(vm: VmStruct, by: "vunmap" | "iounmap"): void {
    if (vm.flags & VM_ALLOC && vm.pages?.length) this.leaked.push({ addr: vm.addr, pages: vm.pages, by });
  }

  /** Release an area and (for vmalloc areas) its pages and page array. */
  private freeArea(addr: bigint, deallocPages = true): void {
    const vm = this.remove_vm_area(addr);
    if (!vm) return;
    if (!deallocPages) this.leakPages(vm, "vunmap");
    // vm_reset_perms(): the pages' direct-map aliases back to default (x86 splits their large pages doing it).
    if (vm.flags & VM_FLUSH_RESET_PERMS && vm.pages) this.pt.resetDirectMap(vm.pages);
    if (deallocPages && vm.flags & VM_ALLOC && vm.pages) {
      const pa = this.k.pages;
      const pages = vm.pages;
      for (let i = 0; i < pages.length; i++) pa.__free_pages(pages[i]!, 0);
      this.nrVmallocPages -= vm.nr_pages;
      if (vm.pagesArrayAddr) this.freeArea(vm.pagesArrayAddr, true);
    }
    const d = this.deferred;
    if (d) {
      this.deferred = undefined;
      throw d.error;
    }
  }

  /** vmap(pfns, count, flags): map existing pages contiguously. Returns the address or 0n. */
  vmap(pfns: readonly number[], count: number, flags = VM_MAP, opts?: VmallocOpts): bigint {
    if (this.bootDone) this.sched?.might_sleep?.("mm/vmalloc.c", 2840, ["vmap"]);
    const totalram = this.totalramPages();
    if (count <= 0 || count > totalram || count > pfns.length) return 0n;
    const area = this.get_vm_area(count * PAGE, flags, opts);
    if (!area) return 0n;
    const list = pfns.slice(0, count);
    area.mapped = { kind: "pages", pfns: list, count };
    this.pt.mapPages(Number(area.addr >> 12n), count, list, "kernel");
    this.stats.allocs++;
    for (const f of this.onAlloc) f(area);
    return area.addr;
  }

  /** ioremap(phys, size): see mm/ioremap.ts. */
  ioremap(phys: number | bigint, size: number, opts?: VmallocOpts): bigint {
    return ioremapImpl(this, phys, size, { caller: this.callerOf(opts), gfp: opts?.gfp });
  }

  iounmap(addr: bigint): void {
    iounmapImpl(this, addr);
  }

  // ------------------------------------------------------------------ inspection

  /** Every vmap area (busy, then lazily freed), address-sorted within each group. */
  areas(): AreaInfo[] {
    const out: AreaInfo[] = [];
    for (const n of this.busy.inorder()) {
      const vm = n.data?.vm;
      out.push({
        start: this.vaddr(n.start),
        end: this.vaddr(n.end),
        size: (n.end - n.start) * PAGE,
        flags: vm?.flags ?? 0,
        flagNames: flagNames(vm?.flags ?? 0, this.era),
        caller: vm?.caller ?? "",
        pages: vm?.pages ? [...vm.pages] : vm?.mapped.kind === "pages" ? [...(vm.mapped.pfns ?? [])] : [],
        nr_pages: vm?.nr_pages ?? 0,
        phys: vm?.phys_addr ?? 0,
        owner: vm?.owner ?? "boot",
        state: "busy",
      });
    }
    for (const n of this.lazy.inorder()) {
      out.push({
        start: this.vaddr(n.start),
        end: this.vaddr(n.end),
        size: (n.end - n.start) * PAGE,
        flags: 0,
        flagNames: [],
        caller: "",
        pages: [],
        nr_pages: 0,
        phys: 0,
        owner: "module",
        state: "lazy",
      });
    }
    return out;
  }

  /**
   * The busy areas a module's vmalloc made (VM_ALLOC, owner "module"), address order: what kmemleak's scan takes of
   * areas() (its filter), without making every area's record (the boot's areas and their page lists) at each scan.
   */
  moduleVmallocAreas(): { start: bigint; size: number; caller: string }[] {
    const out: { start: bigint; size: number; caller: string }[] = [];
    for (const n of this.busy.inorder()) {
      const vm = n.data?.vm;
      if (vm === undefined || vm === null || vm.owner !== "module" || !(vm.flags & VM_ALLOC)) continue;
      out.push({ start: this.vaddr(n.start), size: (n.end - n.start) * PAGE, caller: vm.caller ?? "" });
    }
    return out;
  }

  /** Free holes [start, end) in the managed ranges, address order. */
  freeHoles(): { start: bigint; end: bigint; size: number }[] {
    return [...this.free.inorder()].map((n) => ({ start: this.vaddr(n.start), end: this.vaddr(n.end), size: (n.end - n.start) * PAGE }));
  }

  /** Largest free hole inside [VMALLOC_START, VMALLOC_END), bytes. */
  largestFreeHole(): number {
    let best = 0;
    for (const n of this.free.inorder()) {
      const s = Math.max(n.start, this.vmallocStart);
      const e = Math.min(n.end, this.vmallocEnd);
      if (e > s) best = Math.max(best, (e - s) * PAGE);
    }
    return best;
  }

  /**
   * /proc/meminfo's Vmalloc fields in bytes with the era's meaning: total = VMALLOC_END - VMALLOC_START;
   * 6.1: used = pages held by vmalloc (vmalloc_nr_pages, since 5.3), chunk = 0 (since 4.4);
   * 2.6/3.4: used = sum of vm_struct sizes in [VMALLOC_START, VMALLOC_END) (get_vmalloc_info walking vmlist), chunk =
   * the largest gap between them (lazily freed ranges count as gaps, though they cannot be allocated until purged).
   */
  meminfo(): { total: number; used: number; chunk: number } {
    const L = this.k.layout;
    const total = Number(L.vmallocEnd - L.vmallocStart);
    if (this.era === "6.1") return { total, used: this.nrVmallocPages * PAGE, chunk: 0 };
    let used = 0;
    let chunk = 0;
    let prevEnd = Number(L.vmallocStart >> 12n);
    const endV = Number(L.vmallocEnd >> 12n);
    for (const n of this.busy.inorder()) {
      if (!n.data?.vm) continue;
      if (n.start < this.vmallocStart) continue;
      if (n.start >= endV) break;
      used += n.data.vm.size;
      chunk = Math.max(chunk, (n.start - prevEnd) * PAGE);
      prevEnd = n.start + n.data.vm.size / PAGE;
    }
    chunk = Math.max(chunk, (endV - prevEnd) * PAGE);
    return { total, used, chunk };
  }

  /** Counters for lessons: page-table work and allocator activity. */
  counters(): { ptesWritten: number; ptesCleared: number; pageTablePagesAllocated: number; syncEvents: number; lazyPages: number } & VmallocStats {
    const c = this.pt.counters;
    return {
      ptesWritten: c.ptesWritten,
      ptesCleared: c.ptesCleared,
      pageTablePagesAllocated: c.pageTablePagesAllocated,
      syncEvents: c.syncEvents,
      lazyPages: this.lazyPages,
      ...this.stats,
    };
  }

  /** vmalloc_to_pfn(addr): walk the page tables; -1 when nothing is mapped there. */
  vmalloc_to_pfn(addr: bigint): number {
    return this.pt.pfnAt(Number(BigInt.asUintN(64, addr) >> 12n));
  }

  /** vmalloc_to_page(addr) as a PFN (struct page is the page allocator's; callers use pfn_to_page). */
  vmalloc_to_page(addr: bigint): number {
    return this.vmalloc_to_pfn(addr);
  }

  /**
   * Invariants: trees consistent; busy, lazy and free blocks disjoint and together exactly the managed ranges;
   * the page tables map, within the managed ranges, exactly the busy areas' pages (guard pages unmapped).
   */
  checkInvariants(): string[] {
    const errs = [...this.free.check("free"), ...this.busy.check("busy"), ...this.lazy.check("lazy")];
    const blocks: [number, number, string][] = [];
    for (const n of this.free.inorder()) blocks.push([n.start, n.end, "free"]);
    for (const n of this.busy.inorder()) blocks.push([n.start, n.end, "busy"]);
    for (const n of this.lazy.inorder()) blocks.push([n.start, n.end, "lazy"]);
    blocks.sort((a, b) => a[0] - b[0]);
    // Merge into coverage and compare with the ranges.
    const cover: [number, number][] = [];
    for (const [s, e, what] of blocks) {
      const last = cover[cover.length - 1];
      if (last && s < last[1]) errs.push(`${what} block at 0x${(s * PAGE).toString(16)} overlaps another`);
      if (last && s <= last[1]) last[1] = Math.max(last[1], e);
      else cover.push([s, e]);
    }
    const want: [number, number][] = [];
    for (const r of this.ranges) {
      const last = want[want.length - 1];
      if (last && last[1] === r.start) last[1] = r.end;
      else want.push([r.start, r.end]);
    }
    if (JSON.stringify(cover) !== JSON.stringify(want)) errs.push(`free+busy+lazy cover ${JSON.stringify(cover)} instead of ${JSON.stringify(want)}`);
    // Expected mappings: a page -> frame map, kept as two sorted columns (the areas come in address order, each page
    // of an area once), looked up by binary search; where the areas' pages do not come out strictly increasing (areas
    // that overlap, the check above says), a Map with the later area's word winning, as the kernel's walk would.
    const vpns: number[] = [];
    const pfns: number[] = [];
    let sorted = true;
    for (const n of this.busy.inorder()) {
      const vm = n.data?.vm;
      if (!vm) continue;
      const m = vm.mapped;
      const v0 = n.start;
      const local: number[] = [];
      if (m.kind === "pages") m.pfns!.forEach((pfn, i) => (local[i] = pfn));
      else if (m.kind === "phys") for (let i = 0; i < m.count; i++) local[i] = m.pfn! + i;
      if (vm.ownerMapped) for (const [i, pfn] of vm.ownerMapped) local[i] = pfn;
      local.forEach((pfn, i) => {
        if (vpns.length && vpns[vpns.length - 1]! >= v0 + i) sorted = false;
        vpns.push(v0 + i);
        pfns.push(pfn);
      });
      if (!(vm.flags & VM_NO_GUARD) && !vm.noGuard && m.count > n.end - n.start - 1) errs.push(`area 0x${(v0 * PAGE).toString(16)} maps its guard page`);
    }
    const expect = sorted ? new SortedPages(vpns, pfns) : new Map(vpns.map((v, i) => [v, pfns[i]!]));
    // Tables a module scribbled over (the fuzzer's memset at PAGE_OFFSET) can map whole gigabytes of the vmalloc
    // range: stop walking once the mappings are far past what the areas hold, and list a bounded number of them.
    let seen = 0;
    let listed = 0;
    const budget = expect.size + 4096;
    const STOP = {};
    try {
      for (const r of this.ranges) {
        this.pt.forEachMapped(r.start, r.end, (vpn, pfn) => {
          if (++seen > budget) throw STOP;
          const want = expect.get(vpn);
          if (want === pfn || listed >= 20) return;
          listed++;
          if (want === undefined) errs.push(`0x${(vpn * PAGE).toString(16)} mapped (pfn 0x${pfn.toString(16)}) outside any busy area`);
          else errs.push(`0x${(vpn * PAGE).toString(16)} maps pfn 0x${pfn.toString(16)}, area says 0x${want.toString(16)}`);
        });
      }
    } catch (e) {
      if (e !== STOP) throw e;
      errs.push(`the page tables map more than ${budget} pages of the vmalloc range (the walk stopped there)`);
      return errs;
    }
    if (listed >= 20) errs.push("(more mapping violations not listed)");
    if (seen !== expect.size) errs.push(`${expect.size} pages should be mapped, page tables map ${seen}`);
    return errs;
  }
}

// ------------------------------------------------------------------ small helpers

/** Pages and their frames in two columns, pages strictly increasing: what checkInvariants asks of a Map. */
class SortedPages {
  constructor(
    private readonly vpns: number[],
    private readonly pfns: number[],
  ) {}
  get size(): number {
    return this.vpns.length;
  }
  /** Where the last get() found or would have put its page: the walk asks in ascending order, so the next answer is
   *  found a step or two on from it, and a page below it is looked up by binary search as before. */
  private at = 0;
  get(vpn: number): number | undefined {
    const vs = this.vpns;
    let i = this.at;
    if (i < vs.length && vs[i]! <= vpn && (i === 0 || vs[i - 1]! < vpn)) {
      // ascending: step on from the last answer (a few steps at most: each page of the walk is asked once)
      for (let n = 0; n < 8 && i < vs.length && vs[i]! < vpn; n++) i++;
      if (i >= vs.length || vs[i]! >= vpn) {
        this.at = i;
        return vs[i] === vpn ? this.pfns[i] : undefined;
      }
    }
    let lo = 0;
    let hi = vs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.vpns[mid]!;
      if (v < vpn) lo = mid + 1;
      else if (v > vpn) hi = mid - 1;
      else {
        this.at = mid;
        return this.pfns[mid];
      }
    }
    this.at = lo;
    return undefined;
  }
}

/** fls(): position of the most significant set bit, 1-based (fls(8192) = 14). */
export function fls(x: number): number {
  return x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1;
}

/** get_count_order_long(): ceil(log2(x)). */
export function countOrder(x: number): number {
  const f = fls(x) - 1;
  return 2 ** f === x ? f : f + 1;
}

export function flagNames(flags: number, era: Era): string[] {
  const out: string[] = [];
  if (flags & VM_IOREMAP) out.push("ioremap");
  if (flags & VM_ALLOC) out.push("vmalloc");
  if (flags & VM_MAP) out.push("vmap");
  if (flags & VM_USERMAP) out.push("user");
  if (flags & 0x10) out.push(era === "6.1" ? "dma-coherent" : "vpages");
  if (flags & VM_NO_GUARD) out.push("no-guard");
  return out;
}

/** Call-site texts of the era's vmalloc failure path (x86_64 6.1 offsets from the real log; others by kallsyms). */
const WARN_ALLOC_FRAMES: Record<Era, string[]> = {
  "6.1": ["warn_alloc", "__vmalloc_node_range", "__vmalloc_node"],
  "3.4": ["warn_alloc_failed", "__vmalloc_node_range", "__vmalloc_node", "vmalloc"],
  "2.6": ["__vmalloc_area_node", "__vmalloc_node", "vmalloc"],
};

/** The splat side of vmalloc: WARN/BUG through debug/splat.ts, warn_alloc with show_mem. */
/** vmalloc's diagnostics (WARN, BUG_ON, warn_alloc) with warn_alloc's ratelimit state: a class, not a closure, so that a
 *  kernel snapshot copies the state with the machine (src/kernel/snapshot.ts). */
export class VmallocDiag {
  private readonly file = "mm/vmalloc.c";
  private readonly era: Era;
  // 2.6's vmalloc failure ratelimit (10 per 5*HZ); 3.4 and 6.1 share the page allocator's nopage_rs.
  private rsBegin = -1;
  private printed = 0;

  constructor(private readonly k: Kernel) {
    this.era = k.profile.era;
  }

  private ratelimited(): boolean {
    const k = this.k;
    if (this.era !== "2.6") return !k.pages.nopageRatelimit();
    const interval = 5 * k.profile.hz;
    const burst = 10;
    const now = k.clock.jiffies_64;
    if (this.rsBegin < 0 || now >= this.rsBegin + interval) {
      this.rsBegin = now;
      this.printed = 0;
    }
    if (this.printed >= burst) return true;
    this.printed++;
    return false;
  }

  private showMemFor(gfp: number): void {
    showMem(this.k.pages, this.k.pages.gfp_zone(gfp));
  }

  warn(line: number, fn: string, message?: string, kernelFrames: string[] = ["__vmalloc_node"], regs?: Record<string, bigint>): void {
    warn(this.k, { file: this.file, line, fn, message, kernelFrames, regs });
  }

  /** BUG_ON(): the Oops, then the task dies (KernelOops ends the module function that called in). */
  bug(line: number, fn: string): never {
    const r = bug(this.k, { file: this.file, line, fn, kernelFrames: ["__vmalloc_node_range", "__vmalloc_node"] });
    throw new KernelOops(r.title, r);
  }

  warnBadFree(line: number, fn: string, fmt: string, addr: bigint): void {
    const k = this.k;
    const file = this.file;
    const text = k.log.format(fmt, [addr]);
    // The learner's line: a kmalloc (linear-map) address, else a pointer into an area.
    const L = k.layout;
    const explain =
      addr >= L.pageOffset && addr < L.highMemory ? explainWrongFree("vfree-kmalloc") : addr & 0xfffn ? explainWrongFree("vfree-unaligned") : undefined;
    if (this.era === "2.6") {
      // 2.6.26: printk(KERN_ERR ...) then WARN_ON(1).
      k.printk(KERN_ERR + "%s", text);
      warn(k, { file, line, fn, kernelFrames: ["vfree"], explain });
    } else warn(k, { file, line, fn, message: text, kernelFrames: ["vfree"], explain });
  }

  /** 6.1 warn_alloc(gfp, NULL, fmt): "insmod: vmalloc error: ..., mode:0xcc0(GFP_KERNEL), nodemask=(null)[,cpuset=/,mems_allowed=0]". */
  warnAlloc(gfp: number, text: string, nowarn: boolean): void {
    if (nowarn || this.ratelimited()) return;
    const k = this.k;
    const mark = k.log.mark();
    const cpuset = k.opts.config === "distro" ? ",cpuset=/,mems_allowed=0" : "";
    const first = `${k.current.comm}: ${text}, mode:0x${gfp.toString(16)}(${formatGfp(this.era, gfp)}), nodemask=(null)${cpuset}`;
    k.printk(KERN_WARNING + "%s\n", first);
    dump_stack(k, WARN_ALLOC_FRAMES[this.era]);
    this.showMemFor(gfp);
    recordSplat(k, "vmalloc-failure", mark, { title: first });
  }

  /** 2.6/3.4: the message, then warn_alloc_failed's "insmod: page allocation failure: order:0, mode:0x.." + stack + Mem-Info. */
  warnAllocOld(gfp: number, text: string, nowarn: boolean): void {
    if (nowarn || this.ratelimited()) return;
    const k = this.k;
    const mark = k.log.mark();
    k.printk(KERN_WARNING + "%s\n", text);
    if (this.era === "3.4") {
      k.printk(KERN_WARNING + "%s: page allocation failure: order:%d, mode:0x%x\n", k.current.comm, 0, gfp);
      dump_stack(k, WARN_ALLOC_FRAMES[this.era]);
      this.showMemFor(gfp);
    }
    recordSplat(k, "vmalloc-failure", mark, { title: text });
  }
}
