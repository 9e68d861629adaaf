// Models generic KASAN of Linux 6.1 (mm/kasan/generic.c, shadow.c, common.c, report.c, report_generic.c, kasan.h;
// CONFIG_KASAN_GENERIC + CONFIG_KASAN_OUTLINE + CONFIG_KASAN_VMALLOC) on x86_64, 32-bit ARM and arm64.
//
// Shadow: one byte per 8-byte granule (0 = accessible, 1..7 = only the first N bytes, 0xFF KASAN_PAGE_FREE, 0xFE
// KASAN_PAGE_REDZONE, 0xFC KASAN_SLAB_REDZONE, 0xFB KASAN_SLAB_FREE, 0xFA KASAN_SLAB_FREETRACK, 0xF8
// KASAN_VMALLOC_INVALID), kept sparsely per virtual page: a page's entry is a number when every granule has the same
// value, or a 512-byte array. Linear-map pages without an entry take their state from the allocators when checked
// (a free buddy page is 0xFF; a slab page is built from the slab's objects; a kmalloc_large block is accessible up
// to the requested size then 0xFE; any other allocated page is accessible), so a 16 GiB machine costs nothing.
// - Slab objects: a new slab is all 0xFC (kasan_poison_slab); kmalloc unpoisons the requested bytes (not the slot),
//   the rest of the object stays 0xFC; a free writes 0xFA over the first granule and 0xFB over the rest of the
//   object (kasan_set_free_info), with the alloc and free stacks kept per object (stack depot).
// - vmalloc (KASAN_VMALLOC): the shadow of a vmalloc range is populated when an area is allocated, one shadow page
//   (covering 8 pages) at a time, filled with 0xF8; the area's requested bytes are then unpoisoned (non-VM_ALLOC
//   areas: their size without the guard page). vfree poisons the area 0xF8; the purge frees shadow pages no busy
//   area uses, after which a stray access faults on the shadow itself, as in the kernel (x86_64 only maps the
//   vmalloc shadow's upper levels at boot).
// - Every access is checked before it is done (outline instrumentation: __asan_loadN/__asan_storeN, and the
//   memset/memcpy/memmove interceptors' kasan_check_range). A bad access prints the report and then proceeds;
//   if the address is unmapped the page fault follows. Addresses without shadow (NULL, user, non-canonical) are
//   reported as null-ptr-deref / user-memory-access / wild-memory-access (get_wild_bug_type).
// - Frees: kfree/kmem_cache_free of a pointer that is not an object's start is "invalid-free", of an object whose
//   first granule is not accessible "double-free" (6.1 reports them separately; up to 6.0 one "double-free or
//   invalid-free" type); either way the free is not done (____kasan_slab_free returns true).
// - Only the first report of a boot is printed unless `kasan_multi_shot` is on the command line (report_enabled()).
//   Each report ends with taint B ("Disabling lock debugging due to kernel taint" the first time).
// Report format: mm/kasan/report.c of 6.1 (banners, "BUG: KASAN: %s in %pS", "%s of size %zu at addr %px by task
// %s/%d", dump_stack_lvl(KERN_ERR), "Allocated by task %u:" / "Freed by task %u:" with the saved stacks, the object
// and region lines (6.1 measures against the cache's object_size: kmalloc(100) then p[100] is "100 bytes inside of
// 128-byte region"; 6.3 changed that to "0 bytes to the right of allocated 100-byte region"), the vmalloc mapping
// and its caller, dump_page(), five shadow rows with the caret, banner).
//
// Simplifications (stated): no quarantine (a freed object goes straight back to the freelist, so a later kmalloc
// may reuse it and a use-after-free through the old pointer then goes unseen — the real KASAN holds freed objects
// back for a while); the hooks wrap the slab allocator's public entry points (slabAllocRaw, kfree,
// kmem_cache_free) rather than living inside mm/slub.c; kmalloc_large frees are not checked; boot-time objects
// have no alloc stacks and their free slots read 0xFC rather than 0xFB; stack depot offsets come from kallsyms;
// no KASAN on i386 (the architecture has none) nor in the 2.6/3.4 eras (KASAN arrived in 4.0).

import type { Kernel } from "../kernel.ts";
import type { VmStruct } from "../mm/vmalloc.ts";
import type { Report } from "../types.ts";
import type { Slab, KmemCache, SlabAllocator } from "../mm/slub.ts";
import { rebindable } from "../snapshot.ts";
import { KERN_DEFAULT, KERN_ERR } from "../kernel/printk.ts";
import { contextOf, dump_stack, moduleFrames, outerFrames, recordSplat } from "./splat.ts";
import { PageOwner } from "../mm/page_flags.ts";

export const KASAN_PAGE_FREE = 0xff;
export const KASAN_PAGE_REDZONE = 0xfe;
export const KASAN_SLAB_REDZONE = 0xfc;
export const KASAN_SLAB_FREE = 0xfb;
export const KASAN_SLAB_FREETRACK = 0xfa;
export const KASAN_VMALLOC_INVALID = 0xf8;

const PAGE = 4096;
const GRANULES = PAGE / 8;
const BANNER = "==================================================================";

/** A saved stack (stack depot): the task and the frames, innermost first, as "fn+0x/0x" strings. */
interface Track {
  pid: number;
  frames: string[];
}

/** A page's shadow: a uniform value or 512 granule bytes. */
type PageShadow = number | Uint8Array;
/** Returned when the shadow page itself is not mapped (unpopulated vmalloc shadow). */
const NO_SHADOW = -1;

/** What the access was, for the report's frames. */
export type KasanOp = "load" | "store" | "memset" | "memcpy" | "memmove" | "memcmp";

export interface KasanStats {
  checks: number;
  reports: number;
  /** Reports suppressed by report_enabled() (not the first, without kasan_multi_shot). */
  suppressed: number;
  shadowPages: number;
}

export class Kasan {
  readonly k: Kernel;
  private readonly shadow = new Map<number, PageShadow>();
  /** Slab pages' shadow was built for this slab (a page that changed hands is rebuilt). */
  private readonly slabOfPage = new Map<number, Slab>();
  /** Populated vmalloc shadow pages (vpn >> 3: one shadow page covers 8 pages). */
  private readonly vmPopulated = new Set<number>();
  /**
   * Boot vmalloc areas whose shadow is not built yet. The real kernel populated and unpoisoned them when they were
   * made; building that for every boot area at every boot was a fifth of a 6.1 debug boot, so it is done the
   * first time anything looks at shadow in their 8-page groups (pageShadow, a new area sharing a group, vfree):
   * what any check sees is the same.
   */
  private readonly bootPending = new Set<VmStruct>();
  /** The boot areas pending when replayBoot first ran and their first and last groups, [a0, a1] per area (it reads
   *  bootPending for which are still pending). */
  private pendingVms?: VmStruct[];
  private pendingGroups?: Float64Array;
  private readonly tracks = new Map<bigint, { alloc?: Track; free?: Track }>();
  private readonly multiShot: boolean;
  private reported = false;
  readonly stats: KasanStats = { checks: 0, reports: 0, suppressed: 0, shadowPages: 0 };
  /** The object a cache's ctor is constructing now (set by the slab allocator around each ctor call), if any. */
  ctorObject?: { addr: bigint; size: number };
  private readonly pageOffset: bigint;
  private readonly highMemory: bigint;
  private readonly physOffset: number;
  private readonly bits: number;
  /** Lowest address with shadow (addr_has_metadata) and TASK_SIZE, per arch. */
  private readonly metaStart: bigint;
  private readonly taskSize: bigint;
  readonly shadowOffset: bigint;

  constructor(k: Kernel) {
    this.k = k;
    const L = k.layout;
    this.pageOffset = L.pageOffset;
    this.highMemory = L.highMemory;
    this.physOffset = L.physOffset;
    this.bits = L.bits;
    this.multiShot = k.params.has("kasan_multi_shot");
    switch (k.profile.arch) {
      case "x86_64":
        // The kernel half: -1 << __VIRTUAL_MASK_SHIFT (47, or 56 with 5-level paging).
        this.metaStart = L.pgtableLevels === 5 ? 0xff00000000000000n : 0xffff800000000000n;
        this.taskSize = 0x7ffffffff000n;
        this.shadowOffset = 0xdffffc0000000000n;
        break;
      case "arm64":
        this.metaStart = 0xffff000000000000n;
        this.taskSize = 1n << 48n;
        this.shadowOffset = 0xdfff800000000000n;
        break;
      default:
        // ARM: KASAN_SHADOW_OFFSET 0x1f000000 for the 3G/1G split; kernel space starts at MODULES_VADDR.
        this.metaStart = L.modulesVaddr;
        this.taskSize = L.modulesVaddr;
        this.shadowOffset = 0x1f000000n;
    }
    this.installSlabHooks();
    // Hooks bound with rebindable(): a kernel snapshot rebinds them to its copy of this KASAN (src/kernel/snapshot.ts).
    k.vmalloc.onAlloc.push(rebindable(Kasan.prototype.vmAlloc, this));
    k.vmalloc.onFree.push(rebindable(Kasan.prototype.vmFree, this));
    k.vmalloc.onFlush.push(rebindable(Kasan.prototype.vmRelease, this));
    // Areas that exist already (boot): populated and accessible, as kasan_populate_vmalloc did for them; built
    // when first needed (bootPending).
    for (const a of k.vmalloc.areas())
      if (a.state === "busy") {
        const vm = k.vmalloc.find_vm_area(a.start);
        if (vm) this.bootPending.add(vm);
      }
  }

  /** Is KASAN built for this profile (6.1 debug, an arch with KASAN)? */
  static enabledFor(k: Kernel): boolean {
    // kasan=off: in 6.1 only the HW_TAGS mode has this switch; the simulator honours it for generic KASAN too, so
    // that slub_debug's own reports can be seen on a debug kernel (KASAN catches double frees first otherwise).
    return k.profile.era === "6.1" && k.debug && k.profile.arch !== "i386" && k.params.get("kasan") !== "off";
  }

  // ------------------------------------------------------------------ shadow bookkeeping

  private isLinear(addr: bigint): boolean {
    return addr >= this.pageOffset && addr < this.highMemory;
  }

  private linearPfn(addr: bigint): number {
    return Math.floor((Number(addr - this.pageOffset) + this.physOffset) / PAGE);
  }

  /** The shadow of the page at vpn (addr is any address in it). */
  private pageShadow(vpn: number, addr: bigint): PageShadow {
    if (this.isLinear(addr)) {
      const pfn = this.linearPfn(addr);
      const owner = this.k.pages.ownerOf(pfn);
      if (owner === PageOwner.Free) return KASAN_PAGE_FREE;
      if (owner === PageOwner.Slab) {
        const slab = this.k.slab.slabOf(addr);
        if (!slab) return 0;
        const e = this.shadow.get(vpn);
        if (e !== undefined && this.slabOfPage.get(vpn) === slab) return e;
        this.buildSlab(slab);
        return this.shadow.get(vpn) ?? 0;
      }
      if (owner === PageOwner.KmallocLarge) return this.largeShadow(addr);
      return 0;
    }
    let e = this.shadow.get(vpn);
    if (e !== undefined) return e; // a pending boot area's page with shadow has its final value (replayBoot)
    if (this.bootPending.size) {
      this.replayBoot(Math.floor(vpn / 8), Math.floor(vpn / 8));
      e = this.shadow.get(vpn);
      if (e !== undefined) return e;
    }
    if (this.k.vmalloc.is_vmalloc_or_module_addr(addr)) {
      if (this.vmPopulated.has(Math.floor(vpn / 8))) return KASAN_VMALLOC_INVALID;
      const vm = this.k.vmalloc.find_vm_area(addr);
      if (vm) {
        this.vmAlloc(vm);
        return this.shadow.get(vpn) ?? KASAN_VMALLOC_INVALID;
      }
      return NO_SHADOW;
    }
    return 0; // kernel image, fixmap, pkmap: the early shadow (zero page)
  }

  /** kasan_poison_slab() + the objects' state: the whole slab 0xFC, live objects unpoisoned to their request. */
  private buildSlab(slab: Slab): void {
    const vpn0 = Number(slab.base >> 12n);
    const n = 1 << slab.order;
    for (let i = 0; i < n; i++) {
      this.shadow.set(vpn0 + i, KASAN_SLAB_REDZONE);
      this.slabOfPage.set(vpn0 + i, slab);
    }
    // liveAt/requestedAt: reading must not give a boot slab per-object arrays of its own (Slab.sharedArrays)
    for (let i = 0; i < slab.objects; i++) if (slab.liveAt(i) > 0) this.unpoison(slab.addr(i), slab.requestedAt(i));
  }

  private largeShadow(addr: bigint): PageShadow {
    const at = this.k.slab.objectAt(addr);
    if (!at) return 0;
    const off = Number(addr - at.start) & ~(PAGE - 1);
    const pageStart = off; // offset of this page in the block
    if (at.requested >= pageStart + PAGE) return 0;
    if (at.requested <= pageStart) return KASAN_PAGE_REDZONE;
    const arr = new Uint8Array(GRANULES).fill(KASAN_PAGE_REDZONE);
    const n = at.requested - pageStart;
    arr.fill(0, 0, n >> 3);
    if (n & 7) arr[n >> 3] = n & 7;
    return arr;
  }

  /** Write `value` over granules [addr, addr+len) (both 8-aligned in practice); len rounded up to a granule. */
  private setShadow(addr: bigint, len: number, value: number, tick = false): void {
    // page by page in numbers (a page number is below 2^52): after the first page, every page starts at offset 0
    let vpn = Number(addr >> 12n);
    let off = Number(addr & 0xfffn);
    let left = len;
    let pages = 0;
    while (left > 0) {
      if (tick && (++pages & 1023) === 0) this.k.watchdog(); // a vmalloc of gigabytes: see vmAlloc
      const n = Math.min(left, PAGE - off);
      if (off === 0 && n === PAGE) this.shadow.set(vpn, value);
      else {
        const arr = this.materialize(vpn);
        arr.fill(value, off >> 3, (off + n + 7) >> 3);
      }
      left -= n;
      vpn++;
      off = 0;
    }
  }

  /** kasan_unpoison(addr, size): accessible granules, then the partial granule's byte count. */
  private unpoison(addr: bigint, size: number): void {
    if (size <= 0) return;
    const full = size & ~7;
    if (full) this.setShadow(addr, full, 0);
    if (size & 7) {
      const a = addr + BigInt(full);
      const arr = this.materialize(Number(a >> 12n));
      arr[Number(a & 0xfffn) >> 3] = size & 7;
    }
  }

  private materialize(vpn: number): Uint8Array {
    const e = this.shadow.get(vpn);
    if (e instanceof Uint8Array) return e;
    const arr = new Uint8Array(GRANULES).fill(e ?? 0);
    this.shadow.set(vpn, arr);
    return arr;
  }

  /** The shadow byte of addr (for reports and tests); -1 when the shadow page is not mapped. */
  shadowByte(addr: bigint): number {
    const vpn = Number(BigInt.asUintN(64, addr) >> 12n);
    if (!this.hasMetadata(addr)) return -1;
    const e = this.pageShadow(vpn, addr);
    if (typeof e === "number") return e;
    return e[Number(addr & 0xfffn) >> 3]!;
  }

  private hasMetadata(addr: bigint): boolean {
    const a = BigInt.asUintN(this.bits, addr);
    if (this.k.profile.arch === "x86_64") {
      const la57 = this.k.layout.pgtableLevels === 5;
      const top = a >> (la57 ? 56n : 47n);
      if (top !== (la57 ? 0xffn : 0x1ffffn) && top !== 0n) return false;
    }
    return a >= this.metaStart;
  }

  // ------------------------------------------------------------------ slab hooks

  // The slab allocator's entry points wrapped, each a method of this KASAN bound with rebindable() to it and to the
  // allocator's own method (bound to the allocator): a kernel snapshot rebinds both to their copies.
  private installSlabHooks(): void {
    const slab = this.k.slab;
    slab.slabAllocRaw = rebindable(Kasan.prototype.hookSlabAllocRaw, this, rebindable(slab.slabAllocRaw, slab));
    slab.kfree = rebindable(Kasan.prototype.hookKfree, this, rebindable(slab.kfree, slab));
    slab.kmem_cache_free = rebindable(Kasan.prototype.hookCacheFree, this, rebindable(slab.kmem_cache_free, slab));
  }

  private hookSlabAllocRaw(
    rawAlloc: SlabAllocator["slabAllocRaw"],
    s: KmemCache,
    gfp: number,
    requested: number,
    caller: string | undefined,
    boot: boolean,
  ): bigint {
    const p = rawAlloc(s, gfp, requested, caller, boot);
    if (p !== 0n && !boot) this.slabAlloc(p, requested, s.name.startsWith("kmalloc") || s.name.startsWith("dma-kmalloc") || s.name.startsWith("size-"));
    return p;
  }

  private hookKfree(kfree: SlabAllocator["kfree"], p: bigint): void {
    if (this.slabFree(p, "kfree")) return;
    kfree(p);
    this.afterFree(p);
  }

  private hookCacheFree(cacheFree: SlabAllocator["kmem_cache_free"], cache: KmemCache, obj: bigint): void {
    if (this.slabFree(obj, "kmem_cache_free")) return;
    cacheFree(cache, obj);
    this.afterFree(obj);
  }

  /** kasan_kmalloc / kasan_slab_alloc: unpoison the request, the rest of the object a redzone; save the stack. */
  private slabAlloc(p: bigint, requested: number, kmalloc: boolean): void {
    const slab = this.k.slab.slabOf(p);
    if (!slab) return;
    const vpn = Number(slab.base >> 12n);
    if (this.slabOfPage.get(vpn) !== slab) {
      this.buildSlab(slab); // new slab (or first sight of a boot slab): already includes this object
    } else {
      this.setShadow(p, (slab.cache.objectSize + 7) & ~7, KASAN_SLAB_REDZONE);
      this.unpoison(p, requested);
    }
    const via = kmalloc ? ["__kasan_kmalloc", "__kmalloc"] : ["__kasan_slab_alloc", "kmem_cache_alloc"];
    this.tracks.set(p, { alloc: this.saveStack(["kasan_save_stack", "kasan_set_track", ...via]) });
  }

  /** ____kasan_slab_free's checks: true when the free must not happen (a report was due). */
  private slabFree(p: bigint, fn: "kfree" | "kmem_cache_free"): boolean {
    if (p <= 0x10n || !this.isLinear(p)) return false;
    const at = this.k.slab.objectAt(p);
    if (!at || at.via !== "slab") return false;
    const ip = fn === "kfree" ? "__kmem_cache_free" : "kmem_cache_free";
    if (at.start !== p) {
      this.reportFree(p, "invalid-free", ip);
      return true;
    }
    const b = this.shadowByte(p);
    if (b < 0 || b >= 8) {
      this.reportFree(p, "double-free", ip);
      return true;
    }
    return false;
  }

  /** kasan_slab_free + kasan_set_free_info: 0xFA then 0xFB over the object, and the free stack. */
  private afterFree(p: bigint): void {
    if (p <= 0x10n || !this.isLinear(p)) return;
    const at = this.k.slab.objectAt(p);
    if (!at || at.via !== "slab" || at.start !== p || at.live) return;
    const slab = this.k.slab.slabOf(p);
    if (!slab) return; // the slab went back to the page allocator: its pages read 0xFF now
    if (this.slabOfPage.get(Number(slab.base >> 12n)) !== slab) this.buildSlab(slab);
    this.setShadow(p, (at.objectSize + 7) & ~7, KASAN_SLAB_FREE);
    this.setShadow(p, 8, KASAN_SLAB_FREETRACK);
    const t = this.tracks.get(p) ?? {};
    t.free = this.saveStack(["kasan_save_stack", "kasan_set_track", "kasan_set_free_info", "____kasan_slab_free", "__kasan_slab_free", "__kmem_cache_free"]);
    this.tracks.set(p, t);
  }

  private saveStack(kernel: string[]): Track {
    const { frames } = moduleFrames(this.k);
    const outer = outerFrames(this.k.profile.arch, this.k.profile.era, contextOf(this.k));
    return { pid: this.k.current.pid, frames: [...kernel.map((f) => this.k.kallsyms.frame(f)), ...frames, ...outer.map((f) => this.k.kallsyms.frame(f))] };
  }

  // ------------------------------------------------------------------ vmalloc hooks

  /** kasan_populate_vmalloc + kasan_unpoison_vmalloc. */
  private vmAlloc(vm: VmStruct): void {
    const start = Number(vm.addr >> 12n);
    const pages = vm.size / PAGE;
    this.bootPending.delete(vm);
    if (this.bootPending.size) this.replayBoot(Math.floor(start / 8), Math.floor((start + pages - 1) / 8));
    // The watchdog (Kernel.watchdog) looks in every 1024 shadow pages: this runs after the area is complete, so a
    // stop here leaves a busy area whose shadow is partly written, which nothing reads again (the run is over).
    const guard = vm.noGuard || vm.flags & 0x40 ? 0 : PAGE;
    const size = vm.requested ?? vm.size - guard;
    const end = start + pages;
    // (a request of 2 GiB or more takes the general path too: unpoison()'s granule masks are 32-bit)
    const whole = Kasan.whole(vm);
    for (let g = Math.floor(start / 8), n = 0; g <= Math.floor((end - 1) / 8); g++) {
      if ((++n & 127) === 0) this.k.watchdog();
      if (this.vmPopulated.has(g)) continue;
      this.vmPopulated.add(g);
      // (the area's own pages get their value below, whatever they held)
      for (let v = g * 8; v < g * 8 + 8; v++) if ((!whole || v < start || v >= end) && !this.shadow.has(v)) this.shadow.set(v, KASAN_VMALLOC_INVALID);
    }
    if (!whole) {
      // not whole pages, or a request past the area (areas are page-aligned and hold their request), or >= 2 GiB
      this.setShadow(vm.addr, vm.size, KASAN_VMALLOC_INVALID, true);
      this.unpoison(vm.addr, size);
      return;
    }
    // In one pass per page, what poisoning the area (0xF8) and then unpoisoning its request (0, then the partial
    // granule's count) leave: each page of the area is written once, with its final value, instead of twice or three
    // times (a 1 MB vmalloc is 245 pages).
    for (let i = 0; i < pages; i++) {
      if (((i + 1) & 1023) === 0) this.k.watchdog(); // a vmalloc of gigabytes (as setShadow's tick)
      this.shadow.set(start + i, areaPageShadow(i, size));
    }
  }

  /** What vmAlloc's one pass writes for an area: whole pages, page-aligned, holding a request below 2 GiB. */
  private static whole(vm: VmStruct): boolean {
    const size = vm.requested ?? vm.size - (vm.noGuard || vm.flags & 0x40 ? 0 : PAGE);
    return Number.isInteger(vm.size / PAGE) && (vm.addr & 0xfffn) === 0n && size <= vm.size && size < 2 ** 31;
  }

  /** kasan_poison_vmalloc on vfree/vunmap. */
  private vmFree(vm: VmStruct): void {
    if (this.bootPending.has(vm)) this.vmAlloc(vm);
    this.setShadow(vm.addr, vm.size, KASAN_VMALLOC_INVALID, true); // vmalloc.ts defers a watchdog stop past the free
  }

  /**
   * Build the shadow of shadow pages (8-page groups) g0..g1 as the boot left it (see bootPending): the pages the pending
   * boot areas have in those groups get their values (vmAlloc's), then each group is populated (0xF8 where a page has
   * nothing). An area stays pending for its other groups, which are built the same way when something looks at them
   * (pageShadow, a new area sharing one, vfree of the area: vmAlloc of the whole area then). So a module area next to
   * the boot's 2 MiB one builds that area's shadow in the group they share, not in all 65 of its groups (nor, group by
   * group, its neighbours' and theirs, as building whole areas did). What any check reads is the same.
   */
  private replayBoot(g0: number, g1: number): void {
    const groups: number[] = [];
    // the pending areas in those groups first (vmAlloc below changes the set)
    if (!this.pendingVms) {
      // each pending area's first and last group, worked out once per machine (an area's address never changes)
      this.pendingVms = [...this.bootPending];
      this.pendingGroups = new Float64Array(2 * this.pendingVms.length);
      this.pendingVms.forEach((vm, i) => {
        const start = Number(vm.addr >> 12n);
        this.pendingGroups![2 * i] = Math.floor(start / 8);
        this.pendingGroups![2 * i + 1] = Math.floor((start + vm.size / PAGE - 1) / 8);
      });
    }
    const hit: number[] = [];
    const pg = this.pendingGroups!;
    for (let i = 0; i < this.pendingVms.length; i++) if (pg[2 * i + 1]! >= g0 && pg[2 * i]! <= g1 && this.bootPending.has(this.pendingVms[i]!)) hit.push(i);
    for (const i of hit) {
      const vm = this.pendingVms[i]!;
      if (!this.bootPending.has(vm)) continue; // built whole by an area before it
      const start = Number(vm.addr >> 12n);
      const pages = vm.size / PAGE;
      const a0 = pg[2 * i]!;
      const a1 = pg[2 * i + 1]!;
      if (!Kasan.whole(vm)) {
        this.vmAlloc(vm); // the general path, the whole area (as before)
        continue;
      }
      const size = vm.requested ?? vm.size - (vm.noGuard || vm.flags & 0x40 ? 0 : PAGE);
      const lo = Math.max(start, g0 * 8);
      const hi = Math.min(start + pages, (g1 + 1) * 8);
      for (let v = lo, n = 0; v < hi; v++) {
        if ((++n & 1023) === 0) this.k.watchdog();
        this.shadow.set(v, areaPageShadow(v - start, size));
      }
      for (let g = Math.max(a0, g0); g <= Math.min(a1, g1); g++) groups.push(g);
    }
    for (const g of groups) {
      if (this.vmPopulated.has(g)) continue;
      this.vmPopulated.add(g);
      for (let v = g * 8; v < g * 8 + 8; v++) if (!this.shadow.has(v)) this.shadow.set(v, KASAN_VMALLOC_INVALID);
    }
  }

  /** kasan_release_vmalloc at the purge: shadow pages no busy area needs are freed. */
  private vmRelease(startVpn: number, endVpn: number): void {
    for (let g = Math.ceil(startVpn / 8), n = 0; (g + 1) * 8 <= endVpn; g++) {
      if ((++n & 127) === 0) this.k.watchdog(); // a purge of gigabytes; vmalloc.ts defers the stop
      let busy = false;
      for (let i = 0; i < 8 && !busy; i++) busy = this.k.vmalloc.hasVmAtVpn(g * 8 + i);
      if (busy) continue;
      this.vmPopulated.delete(g);
      for (let i = 0; i < 8; i++) this.shadow.delete(g * 8 + i);
    }
  }

  // ------------------------------------------------------------------ checks

  /**
   * check_region_inline(): the access [addr, addr+size). Prints a report for a bad access (which then proceeds).
   * Returns the shadow address when the shadow page itself is unmapped (the caller faults on it), else -1n.
   */
  check(addr: bigint, size: number, write: boolean, op: KasanOp): bigint {
    this.stats.checks++;
    if (size <= 0) return -1n;
    if (!this.hasMetadata(addr) || !this.hasMetadata(addr + BigInt(size - 1))) {
      this.report(addr, size, write, op);
      return -1n;
    }
    // setup_object(): kasan_unpoison_object_data() before the cache's ctor, kasan_poison_object_data() after it, so
    // the object a ctor is building is accessible (its object_size bytes) while the ctor runs.
    const c = this.ctorObject;
    if (c && addr >= c.addr && addr + BigInt(size) <= c.addr + BigInt(c.size)) return -1n;
    // Fast path: the whole access within one page whose shadow is uniformly 0.
    const vpn = Number(addr >> 12n);
    const off = Number(addr & 0xfffn);
    if (off + size <= PAGE) {
      const e = this.pageShadow(vpn, addr);
      if (e === 0) return -1n;
      if (e === NO_SHADOW) return this.shadowAddr(addr);
      if (firstBad(e, off, size) < 0) return -1n;
      this.report(addr, size, write, op);
      return -1n;
    }
    // Page by page (memset/memcpy over a range): the first bad granule.
    let a = addr;
    let left = size;
    while (left > 0) {
      const v = Number(a >> 12n);
      const o = Number(a & 0xfffn);
      const n = Math.min(left, PAGE - o);
      const e = this.pageShadow(v, a);
      if (e === NO_SHADOW) return this.shadowAddr(a);
      if (e !== 0) {
        if (firstBad(e, o, n) >= 0) {
          this.report(addr, size, write, op);
          return -1n;
        }
      }
      a += BigInt(n);
      left -= n;
    }
    return -1n;
  }

  /** kasan_mem_to_shadow(addr). */
  shadowAddr(addr: bigint): bigint {
    return BigInt.asUintN(this.bits, (BigInt.asUintN(this.bits, addr) >> 3n) + this.shadowOffset);
  }

  // ------------------------------------------------------------------ reports

  private reportEnabled(): boolean {
    if (this.multiShot) return true;
    if (this.reported) {
      this.stats.suppressed++;
      return false;
    }
    this.reported = true;
    return true;
  }

  private hexAddr(a: bigint): string {
    const w = this.bits === 64 ? 16 : 8;
    return BigInt.asUintN(this.bits, a).toString(16).padStart(w, "0");
  }

  /** The module frame the report names (%pS of the instrumented access's return address). */
  private ipFrame(fallback: string): string {
    return moduleFrames(this.k).frames[0] ?? this.k.kallsyms.frame(fallback);
  }

  private accessFrames(op: KasanOp, size: number): string[] {
    switch (op) {
      case "load":
        return [`__asan_load${size}`];
      case "store":
        return [`__asan_store${size}`];
      case "memcmp":
        return ["__asan_load1", "memcmp"];
      default:
        return ["kasan_check_range", op];
    }
  }

  /** kasan_report(): an access report. */
  private report(addr: bigint, size: number, write: boolean, op: KasanOp): void {
    if (!this.reportEnabled()) return;
    const firstBad = this.findFirstBadAddr(addr, size);
    const k = this.k;
    const mark = k.log.mark();
    const bugType = this.hasMetadata(addr) ? this.shadowBugType(firstBad) : this.wildBugType(addr);
    const title = `BUG: KASAN: ${bugType} in ${this.ipFrame(op === "load" || op === "store" ? "__asan_store1" : op)}`;
    const err = (s: string) => k.printk(KERN_ERR + "%s\n", s);
    err(BANNER);
    err(title);
    err(`${write ? "Write" : "Read"} of size ${size} at addr ${this.hexAddr(addr)} by task ${k.current.comm}/${k.current.pid}`);
    err("");
    const frames = ["print_report", "kasan_report", ...this.accessFrames(op, size)];
    if (this.hasMetadata(addr)) {
      dump_stack(k, frames, { level: KERN_ERR });
      err("");
      this.describe(firstBad);
      this.memoryState(firstBad);
    } else {
      dump_stack(k, frames, { level: KERN_ERR });
    }
    this.endReport(mark, title, bugType, addr, write, size);
  }

  /** kasan_report_invalid_free(). */
  private reportFree(p: bigint, type: "double-free" | "invalid-free", ip: string): void {
    if (!this.reportEnabled()) return;
    const k = this.k;
    const mark = k.log.mark();
    const title = `BUG: KASAN: ${type} in ${k.kallsyms.frame(ip)}`;
    const err = (s: string) => k.printk(KERN_ERR + "%s\n", s);
    err(BANNER);
    err(title);
    err(`Free of addr ${this.hexAddr(p)} by task ${k.current.comm}/${k.current.pid}`);
    err("");
    dump_stack(k, ["print_report", "kasan_report_invalid_free", "____kasan_slab_free", ip], { level: KERN_ERR });
    err("");
    this.describe(p);
    this.memoryState(p);
    this.endReport(mark, title, type, p, true, 0);
  }

  private endReport(mark: number, title: string, bugType: string, addr: bigint, write: boolean, size: number): Report {
    const k = this.k;
    k.printk(KERN_ERR + "%s\n", BANNER);
    k.taint.add("B");
    this.stats.reports++;
    return recordSplat(k, bugType === "double-free" ? "double-free" : bugType === "invalid-free" ? "invalid-free" : "kasan", mark, {
      title,
      explain: explainKasan(bugType, addr, write, size),
    });
  }

  /** kasan_find_first_bad_addr(): steps of 8 bytes from the access start until a granule with non-zero shadow. */
  private findFirstBadAddr(addr: bigint, size: number): bigint {
    if (!this.hasMetadata(addr)) return addr;
    let p = addr;
    const end = addr + BigInt(size);
    while (p < end && this.shadowByte(p) === 0) p += 8n;
    return p;
  }

  private shadowBugType(a: bigint): string {
    let b = this.shadowByte(a);
    if (b > 0 && b <= 7) b = this.shadowByte(a + 8n); // the next granule tells what lies beyond
    switch (b) {
      case KASAN_PAGE_REDZONE:
      case KASAN_SLAB_REDZONE:
        return "slab-out-of-bounds";
      case KASAN_PAGE_FREE:
      case KASAN_SLAB_FREE:
      case KASAN_SLAB_FREETRACK:
        return "use-after-free";
      case KASAN_VMALLOC_INVALID:
        return "vmalloc-out-of-bounds";
      default:
        return b >= 0 && b < 8 ? "out-of-bounds" : "unknown-crash";
    }
  }

  private wildBugType(addr: bigint): string {
    const a = BigInt.asUintN(this.bits, addr);
    if (a < 4096n) return "null-ptr-deref";
    if (a < this.taskSize) return "user-memory-access";
    return "wild-memory-access";
  }

  /** print_address_description(): the object, the vmalloc mapping, the page. */
  private describe(addr: bigint): void {
    const k = this.k;
    const err = (s: string) => k.printk(KERN_ERR + "%s\n", s);
    let pfn = -1;
    if (this.isLinear(addr)) {
      pfn = this.linearPfn(addr);
      const slab = k.slab.slabOf(addr);
      const at = slab ? k.slab.objectAt(addr) : undefined;
      if (slab && at) {
        const t = this.tracks.get(at.start);
        const freeShown = this.shadowByte(at.start) === KASAN_SLAB_FREETRACK;
        if (t?.alloc) this.printTrack("Allocated", t.alloc);
        if (t?.free && freeShown) this.printTrack("Freed", t.free);
        const objSize = slab.cache.objectSize;
        err(`The buggy address belongs to the object at ${this.hexAddr(at.start)}`);
        err(` which belongs to the cache ${slab.cache.name} of size ${objSize}`);
        let rel: string;
        let bytes: bigint;
        if (addr < at.start) {
          rel = "to the left";
          bytes = at.start - addr;
        } else if (addr >= at.start + BigInt(objSize)) {
          rel = "to the right";
          bytes = addr - (at.start + BigInt(objSize));
        } else {
          rel = "inside";
          bytes = addr - at.start;
        }
        err(`The buggy address is located ${bytes} bytes ${rel} of`);
        err(` ${objSize}-byte region [${this.hexAddr(at.start)}, ${this.hexAddr(at.start + BigInt(objSize))})`);
        err("");
      }
    } else if (k.vmalloc.is_vmalloc_or_module_addr(addr)) {
      const vm = k.vmalloc.find_vm_area(addr);
      if (vm && k.vmalloc.is_vmalloc_addr(addr)) {
        err("The buggy address belongs to the virtual mapping at");
        err(` [${this.hexAddr(vm.addr)}, ${this.hexAddr(vm.addr + BigInt(vm.size))}) created by:`);
        err(` ${vm.caller || "0x0"}`);
        err("");
        const pa = k.pgtable.translate(addr);
        pfn = pa < 0 ? -1 : Math.floor(pa / PAGE);
      }
    }
    if (pfn >= 0) {
      err("The buggy address belongs to the physical page:");
      const lines = dumpPage(k, pfn);
      for (const l of lines) k.printk(KERN_DEFAULT + "%s\n", l);
      k.printk(KERN_DEFAULT + "page dumped because: %s\n", "kasan: bad access detected");
      err("");
    }
  }

  private printTrack(prefix: string, t: Track): void {
    const k = this.k;
    k.printk(KERN_ERR + "%s by task %u:\n", prefix, t.pid);
    for (const f of t.frames) k.printk(KERN_DEFAULT + " %s\n", f);
    k.printk(KERN_ERR + "\n");
  }

  /** print_memory_metadata(): five rows of 16 shadow bytes around the address, the caret under its granule. */
  private memoryState(addr: bigint): void {
    const k = this.k;
    const err = (s: string) => k.printk(KERN_ERR + "%s\n", s);
    err("Memory state around the buggy address:");
    const rowBytes = 128n;
    let row = (BigInt.asUintN(this.bits, addr) / rowBytes) * rowBytes - 2n * rowBytes;
    const w = this.bits === 64 ? 16 : 8;
    for (let i = -2; i <= 2; i++) {
      const bytes: string[] = [];
      for (let g = 0; g < 16; g++) {
        const b = this.shadowByte(row + BigInt(g * 8));
        bytes.push((b < 0 ? 0 : b).toString(16).padStart(2, "0"));
      }
      err(`${i === 0 ? ">" : " "}${this.hexAddr(row)}: ${bytes.join(" ")}`);
      if (i === 0) {
        const width = 3 + w + Number((BigInt.asUintN(this.bits, addr) - row) / 8n) * 3 + 1;
        err("^".padStart(width, " "));
      }
      row += rowBytes;
    }
  }

  // ------------------------------------------------------------------ inspection

  kasanStats(): KasanStats {
    return { ...this.stats, shadowPages: this.shadow.size };
  }

  /** Shadow invariants: vmalloc shadow only where populated; slab pages' shadow belongs to live slabs. */
  checkInvariants(): string[] {
    const errs: string[] = [];
    for (const [vpn, slab] of this.slabOfPage) {
      const addr = BigInt(vpn) << 12n;
      // (the Slab object registered there: a check writes nothing, so it never materialises a boot tail, mm/slub_boot_tail.ts)
      const sa = this.k.slab;
      const cur = sa.isLinear(addr) ? sa.objectSlabAtPfn(sa.pfnOf(addr)) : undefined;
      if (cur && cur !== slab) continue; // rebuilt lazily on next access: fine
      if (!this.shadow.has(vpn)) errs.push(`kasan: slab page 0x${addr.toString(16)} has no shadow`);
    }
    const pending = new Set([...this.bootPending].map((vm) => vm.addr));
    for (const vm of this.k.vmalloc.areas()) {
      if (vm.state !== "busy" || pending.has(vm.start)) continue;
      const g = Number(vm.start >> 12n) >> 3;
      if (!this.vmPopulated.has(Math.floor(Number(vm.start >> 12n) / 8)) && g >= 0)
        errs.push(`kasan: busy vmalloc area 0x${vm.start.toString(16)} has no shadow`);
    }
    return errs;
  }
}

/**
 * The shadow of page i of a vmalloc area whose request is `size` bytes (kasan_poison_vmalloc then
 * kasan_unpoison_vmalloc): 0 for pages wholly inside the request, 0xF8 for those after it, and for the page it ends in
 * its accessible granules, the partial granule's byte count, then 0xF8.
 */
function areaPageShadow(i: number, size: number): PageShadow {
  const open = size > 0 ? Math.floor(size / PAGE) : 0;
  const rest = size > 0 ? size - open * PAGE : 0;
  if (i < open) return 0;
  if (i > open || rest === 0) return KASAN_VMALLOC_INVALID;
  const arr = new Uint8Array(GRANULES).fill(KASAN_VMALLOC_INVALID);
  arr.fill(0, 0, rest >> 3);
  if (rest & 7) arr[rest >> 3] = rest & 7;
  return arr;
}

/** Offset (within the page) of the first bad byte of [off, off+n) under shadow e, or -1. */
function firstBad(e: PageShadow, off: number, n: number): number {
  if (typeof e === "number") return e === 0 ? -1 : e < 8 ? firstBadUniformPartial(e, off, n) : off;
  for (let b = off; b < off + n;) {
    const g = b >> 3;
    const s = e[g]!;
    if (s === 0) {
      b = (g + 1) << 3;
      continue;
    }
    if (s >= 8) return b;
    if ((b & 7) >= s) return b;
    const end = Math.min(off + n, (g << 3) + s);
    if (end < Math.min(off + n, (g + 1) << 3)) return end;
    b = (g + 1) << 3;
  }
  return -1;
}

function firstBadUniformPartial(s: number, off: number, n: number): number {
  for (let b = off; b < off + n; b++) if ((b & 7) >= s) return b;
  return -1;
}

/** dump_page(page, reason) lines (page allocator's format), without the reason line. */
function dumpPage(k: Kernel, pfn: number): string[] {
  const pages = k.pages as unknown as { dumpPageLines?: (pfn: number, zi: number) => string[]; zoneIdxOf(pfn: number): number };
  if (pages.dumpPageLines) return pages.dumpPageLines(pfn, pages.zoneIdxOf(pfn));
  return [`page:${pfn.toString(16)} pfn:0x${pfn.toString(16)}`];
}

function explainKasan(type: string, addr: bigint, write: boolean, size: number): string {
  const acc = size ? `${write ? "wrote" : "read"} ${size} byte${size === 1 ? "" : "s"} at 0x${addr.toString(16)}` : `freed 0x${addr.toString(16)}`;
  switch (type) {
    case "slab-out-of-bounds":
      return `The module ${acc}, past the bytes it asked kmalloc for (KASAN tracks the requested size, not the slot). On a kernel without KASAN this silently corrupts the neighbouring object.`;
    case "use-after-free":
      return `The module ${acc} after that memory was freed. The object or page may already belong to someone else.`;
    case "vmalloc-out-of-bounds":
      return `The module ${acc}, outside what vmalloc handed out (past the requested size, into the guard page, or in a freed area).`;
    case "double-free":
      return `The module freed 0x${addr.toString(16)} twice. KASAN refused the second free; without it the freelist would be corrupted and the object handed out twice.`;
    case "invalid-free":
      return `The module passed 0x${addr.toString(16)} to a free function, but that is not the start of an allocated object.`;
    case "null-ptr-deref":
      return `The module ${acc}: a NULL (or ZERO_SIZE_PTR) pointer. KASAN reports it, then the access faults.`;
    default:
      return `The module ${acc}: an address no allocator handed out (${type}).`;
  }
}
