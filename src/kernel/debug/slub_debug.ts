// Models the CONFIG_SLUB_DEBUG part of mm/slub.c of Linux 6.1 (3.4's texts where they differ): slub_debug= parsing,
// init_object() (poison 0x6b...0xa5, red zones 0xbb inactive / 0xcc active, POISON_INUSE 0x5a padding),
// alloc/free tracking (struct track), check_object()/check_bytes_and_report(), on_freelist(), and the reports:
// slab_bug() banner, print_trailer() (Allocated/Freed in, Slab, Object lines, print_hex_dump sections),
// slab_err(), object_err(), slab_fix() "FIX" lines, list_slab_objects() at kmem_cache_destroy, slab_out_of_memory().
//
// Decisions (say them to the learner):
// - The debug profiles boot with slub_debug on for every cache (flags FZPU, as a CONFIG_SLUB_DEBUG_ON=y kernel such
//   as Fedora's debug kernel does); `slub_debug=-` turns it off, `slub_debug=FZ`, `slub_debug=FZ,kmalloc-64`
//   (blocks separated by ';', a trailing '*' globs) choose flags and caches as 6.1 parses them. The distro
//   configuration has it off unless the command line asks.
// - 6.1 prints without "INFO: " prefixes, "Left Redzone"/"Right Redzone", pointers through %p (hashed); 3.4 prints
//   "INFO: " lines, the one word "Redzone", raw pointers. Their line numbers are not printed by these reports.
// - struct track keeps the allocating/freeing function (%pS of the module frame), jiffies, cpu 0 and pid; its
//   stack trace holds the allocator's kernel frames and the module's frames (not the loader frames below them).
// - The kernel frames of the dump_stack() call traces are a plausible 6.1 chain (free_debug_processing,
//   __slab_free, kfree ...); the module's frames and the loader's come from the splat machinery as for every splat.
// - kfree() of a pointer outside the linear map: 6.1 x86_64 computes a struct page far outside mem_map and faults
//   reading it; the Oops is printed in the 6.1 page-fault form without the page-table line. Other arches and eras
//   get a one-line report (kind invalid-free). Either way the module goes on running.
// - CONFIG_DEBUG_SLAB (2.6 SLAB's own red zones and "slab error" reports) is not modelled.
// Lines UNCONFIRMED against a 6.1.192 tree: the WARN lines of kmem_cache_destroy (mm/slab_common.c:497),
// free_large_kmalloc (mm/slab_common.c:969) and cache_from_obj (mm/slab.h:658).

import { stateless } from "../snapshot.ts";
import type { Kernel } from "../kernel.ts";
import type { KmemCache, Slab, SlabAllocator } from "../mm/slub.ts";
import { KERN_DEFAULT, KERN_EMERG, KERN_ERR, KERN_WARNING } from "../kernel/printk.ts";
import { KernelOops } from "../kernel/module.ts";
import { dieBody, dump_stack, end_trace, moduleFrames, oopsHeader, recordSplat, splat, warn } from "./splat.ts";
import { formatGfp } from "../gfp.ts";
import { explainWrongFree } from "./wrong_free.ts";
import { formatPageFlags, PageOwner, pageOwnerNames, PG_head, PG_slab } from "../mm/page_flags.ts";
import {
  PAGE_SIZE,
  POISON_END,
  POISON_FREE,
  POISON_INUSE,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLUB_RED_ACTIVE,
  SLUB_RED_INACTIVE,
  __OBJECT_POISON,
} from "../mm/slab_common.ts";

export interface Track {
  /** The allocator's kernel functions (innermost first) and the module's frames; formatted only when printed. */
  kernel: string[];
  module: { fn: string; module?: string; line?: number }[];
  when: number; // jiffies
  cpu: number;
  pid: number;
}

export interface DebugOptions {
  /** Flags for caches not named in a block. */
  global: number;
  blocks: { flags: number; names: string[] }[];
  flagsFor(name: string, flags: number): number;
}

const DEFAULT_FLAGS = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;

function parseFlags(s: string): number {
  if (s.length === 0) return DEFAULT_FLAGS;
  let f = 0;
  for (const ch of s.toLowerCase()) {
    switch (ch) {
      case "-":
        return 0;
      case "f":
        f |= SLAB_CONSISTENCY_CHECKS;
        break;
      case "z":
        f |= SLAB_RED_ZONE;
        break;
      case "p":
        f |= SLAB_POISON;
        break;
      case "u":
        f |= SLAB_STORE_USER;
        break;
      default:
        // t (trace), a (failslab), o (order fallback): accepted, not modelled
        break;
    }
  }
  return f;
}

/** parse_slub_debug_flags() over `slub_debug[=...]`; debugDefault: the kernel was built with SLUB_DEBUG_ON. */
export function parseSlubDebug(v: string | true | undefined, debugDefault: boolean): DebugOptions {
  let global = debugDefault ? DEFAULT_FLAGS : 0;
  const blocks: { flags: number; names: string[] }[] = [];
  if (v === true) global = DEFAULT_FLAGS;
  else if (typeof v === "string") {
    global = 0;
    for (const block of v.split(";")) {
      const parts = block.split(",");
      const flags = parseFlags(parts[0].trim());
      const names = parts
        .slice(1)
        .map((n) => n.trim())
        .filter((n) => n.length > 0);
      if (names.length) blocks.push({ flags, names });
      else global = flags;
    }
  }
  return { global, blocks, flagsFor };
}

/** The flags of cache `name`: its block's, else the global ones. A method of the options (this), holding nothing:
 *  a kernel snapshot shares it (src/kernel/snapshot.ts). */
export const flagsFor = stateless(function flagsFor(this: DebugOptions, name: string, flags: number): number {
  for (const b of this.blocks) {
    for (const n of b.names) {
      if (n.endsWith("*") ? name.startsWith(n.slice(0, -1)) : name === n) return flags | b.flags;
    }
  }
  return flags | this.global;
});

/** hex_dump_to_buffer() of one row (rowsize 16, groupsize 1, ascii). */
export function hexDumpRow(bytes: Uint8Array): string {
  let hexs = "";
  for (let j = 0; j < bytes.length; j++) hexs += (j ? " " : "") + bytes[j].toString(16).padStart(2, "0");
  let s = hexs.padEnd(49, " ");
  for (const b of bytes) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
  return s;
}

export class SlubDebug {
  readonly a: SlabAllocator;
  readonly k: Kernel;
  private readonly era: string;
  private warnedLarge = false;
  private oomBudget = 10;

  constructor(a: SlabAllocator) {
    this.a = a;
    this.k = a.k;
    this.era = a.era;
  }

  private get old(): boolean {
    return this.era !== "6.1";
  }

  // ---- object initialisation and tracking ------------------------------------------------------------------

  /** init_object(): red zones and poison of object i with val (SLUB_RED_INACTIVE when free, _ACTIVE when in use). */
  initObject(s: KmemCache, slab: Slab, i: number, val: number): void {
    const pm = this.k.physmem;
    const p = slab.objPhys + i * s.size;
    // The writes below (left red zone, poison, its end byte, right red zone) usually lie in one frame: then they
    // go to that frame's bytes directly, in the same order, the frame made writable once as their first fill would
    // (every byte written is nonzero, so each of them goes through the frame). A new debug slab runs this for each
    // of its objects. Otherwise, the fills and the write8 one by one.
    const red = (s.flags & SLAB_RED_ZONE) !== 0;
    const poison = (s.flags & __OBJECT_POISON) !== 0;
    const lo = red && s.redLeftPad ? p - s.redLeftPad : p;
    const hi = poison ? Math.max(p + s.objectSize, red ? p + s.inuse : 0) : red ? p + s.inuse : p;
    if (val !== 0 && hi > lo && Math.floor(lo / PAGE_SIZE) === Math.floor((hi - 1) / PAGE_SIZE)) {
      if (!poison && !(red && s.redLeftPad) && !(red && s.inuse > s.objectSize)) return;
      const f = pm.writableFrame(Math.floor(lo / PAGE_SIZE));
      const off = p % PAGE_SIZE;
      if (red && s.redLeftPad) f.fill(val, off - s.redLeftPad, off);
      if (poison) {
        if (s.objectSize - 1 > 0) f.fill(POISON_FREE, off, off + s.objectSize - 1);
        f[off + s.objectSize - 1] = POISON_END;
      }
      if (red && s.inuse > s.objectSize) f.fill(val, off + s.objectSize, off + s.inuse);
      return;
    }
    if (s.flags & SLAB_RED_ZONE && s.redLeftPad) pm.fill(p - s.redLeftPad, s.redLeftPad, val);
    if (s.flags & __OBJECT_POISON) {
      pm.fill(p, s.objectSize - 1, POISON_FREE);
      pm.write8(p + s.objectSize - 1, POISON_END);
    }
    if (s.flags & SLAB_RED_ZONE) pm.fill(p + s.objectSize, s.inuse - s.objectSize, val);
  }

  private track(fn: string): Track {
    const k = this.k;
    const kernel = this.era === "6.1" && fn === "__kmalloc" ? ["__kmem_cache_alloc_node", "__kmalloc"] : [fn];
    return {
      kernel,
      module: k.captureModuleStack().filter((f) => f.module !== undefined),
      when: k.clock.jiffies,
      cpu: 0,
      pid: k.current.pid,
    };
  }

  /** %pS of the caller and the stack of a track. */
  private trackFrames(t: Track): { addr: string; stack: string[] } {
    const ks = this.k.kallsyms;
    const mf = t.module.map((f) => ks.moduleFrame(f.fn, f.module ?? "cell", f.line));
    return { addr: mf[0] ?? ks.frame(t.kernel[t.kernel.length - 1]), stack: [...t.kernel.map((f) => ks.frame(f)), ...mf] };
  }

  // ---- allocation --------------------------------------------------------------------------------------------

  /** alloc_debug_processing(): check the free object (F), record the owner (U), re-initialise as active. */
  allocDebug(s: KmemCache, slab: Slab, i: number): boolean {
    if (s.flags & SLAB_CONSISTENCY_CHECKS) {
      const ok = this.checkObject(s, slab, i, SLUB_RED_INACTIVE, "alloc");
      if (!ok) {
        this.fix(s, "Marking all objects used");
        this.a.markAllUsed(slab);
      }
      this.flushRecord();
      if (!ok) return false;
    }
    if (s.flags & SLAB_STORE_USER) slab.allocTrack![i] = this.track(this.allocFn(s));
    this.initObject(s, slab, i, SLUB_RED_ACTIVE);
    return true;
  }

  private allocFn(s: KmemCache): string {
    return s.kmalloc ? "__kmalloc" : "kmem_cache_alloc";
  }

  // ---- free ----------------------------------------------------------------------------------------------------

  /** free_debug_processing(): false when the object must not be freed (the report is printed). */
  freeDebug(s: KmemCache, slab: Slab, p: bigint, i: number, off: number, fn: string): boolean {
    try {
      return this.freeChecks(s, slab, p, i, off, fn);
    } finally {
      this.flushRecord();
    }
  }

  private freeChecks(s: KmemCache, slab: Slab, p: bigint, i: number, off: number, fn: string): boolean {
    if (s.flags & SLAB_CONSISTENCY_CHECKS) {
      if (off < 0 || off % s.size !== 0 || i >= slab.objects) {
        this.slabErr(s, slab, `Invalid object pointer 0x%p`, [p], "invalid-free", fn);
        this.notFreed(s, p);
        return false;
      }
      if (!slab.live[i]) {
        this.objectErr(s, slab, i, "Object already free", "double-free", fn);
        this.notFreed(s, p);
        return false;
      }
      if (!this.checkObject(s, slab, i, SLUB_RED_ACTIVE, fn)) {
        if (!this.old) this.notFreed(s, p);
        return false;
      }
    } else if (off < 0 || off % s.size !== 0 || i >= slab.objects) {
      return i >= 0 && i < slab.objects;
    }
    if (s.flags & SLAB_STORE_USER) slab.freeTrack![i] = this.track(fn);
    this.initObject(s, slab, i, SLUB_RED_INACTIVE);
    return true;
  }

  private notFreed(s: KmemCache, p: bigint): void {
    this.fix(s, "Object at 0x%p not freed", [p]);
    this.flushRecord();
  }

  // ---- check_object ----------------------------------------------------------------------------------------------

  /** check_object(): red zones, poison and padding of object i against val. Reports and repairs what it finds. */
  private checkObject(s: KmemCache, slab: Slab, i: number, val: number, fn: string): boolean {
    const base = slab.objPhys + i * s.size;
    // One read of the whole slot; checkBytes() scans it and only goes back to memory to report.
    this.slot = this.k.physmem.readBytes(base - s.redLeftPad, s.size);
    this.slotPhys = base - s.redLeftPad;
    try {
      return this.checkObjectIn(s, slab, i, val, fn, base);
    } finally {
      this.slot = undefined;
    }
  }
  private slot?: Uint8Array;
  private slotPhys = 0;

  private checkObjectIn(s: KmemCache, slab: Slab, i: number, val: number, fn: string, base: number): boolean {
    if (s.flags & SLAB_RED_ZONE) {
      if (s.redLeftPad && !this.checkBytes(s, slab, i, "Left Redzone", base - s.redLeftPad, val, s.redLeftPad, fn)) return false;
      if (!this.checkBytes(s, slab, i, this.old ? "Redzone" : "Right Redzone", base + s.objectSize, val, s.inuse - s.objectSize, fn)) return false;
    } else if (s.flags & SLAB_POISON && s.objectSize < s.inuse) {
      this.checkBytes(s, slab, i, "Alignment padding", base + s.objectSize, POISON_INUSE, s.inuse - s.objectSize, fn);
    }
    if (s.flags & SLAB_POISON) {
      if (val !== SLUB_RED_ACTIVE && s.flags & __OBJECT_POISON) {
        if (!this.checkBytes(s, slab, i, "Poison", base, POISON_FREE, s.objectSize - 1, fn)) return false;
        if (!this.checkBytes(s, slab, i, this.old ? "Poison" : "End Poison", base + s.objectSize - 1, POISON_END, 1, fn)) return false;
      }
      this.checkPadBytes(s, slab, i, fn);
    }
    return true;
  }

  /** check_pad_bytes(): the bytes after the metadata up to the slot end must still be POISON_INUSE. */
  private checkPadBytes(s: KmemCache, slab: Slab, i: number, fn: string): void {
    const off = this.padStart(s);
    const end = s.size - s.redLeftPad;
    if (off >= end) return;
    this.checkBytes(s, slab, i, "Object padding", slab.objPhys + i * s.size + off, POISON_INUSE, end - off, fn);
  }

  private infoEnd(s: KmemCache): number {
    return s.offset >= s.inuse ? s.offset + this.a.wordSize : s.inuse;
  }

  private padStart(s: KmemCache): number {
    let off = this.infoEnd(s);
    if (s.flags & SLAB_STORE_USER) off += 2 * trackBytes(this.era, this.a.wordSize);
    return off;
  }

  /** check_bytes_and_report() */
  private checkBytes(s: KmemCache, slab: Slab, i: number, what: string, start: number, value: number, bytes: number, fn: string): boolean {
    if (bytes <= 0) return true;
    const pm = this.k.physmem;
    if (this.slot && start >= this.slotPhys && start + bytes <= this.slotPhys + this.slot.length) {
      const o = start - this.slotPhys;
      const sl = this.slot;
      let j = 0;
      while (j < bytes && sl[o + j] === value) j++;
      if (j === bytes) return true;
    }
    const buf = pm.readBytes(start, bytes);
    let f = 0;
    while (f < bytes && buf[f] === value) f++;
    if (f === bytes) return true;
    let e = bytes;
    while (e > f && buf[e - 1] === value) e--;
    const va = (phys: number) => slab.addr(i) + BigInt(phys - (slab.objPhys + i * s.size));
    const fault = va(start + f);
    const last = va(start + e - 1);
    this.flushRecord();
    const mark = this.k.log.mark();
    this.slabBug(s, `${what} overwritten`);
    if (this.old) this.err("INFO: 0x%p-0x%p. First byte 0x%x instead of 0x%x\n", fault, last, buf[f], value);
    else this.err("0x%p-0x%p @offset=%tu. First byte 0x%x instead of 0x%x\n", fault, last, Number(fault - slab.base), buf[f], value);
    this.printTrailer(s, slab, i, this.framesFor(fn));
    this.k.taint.add("B", false);
    // restore_bytes()
    if (this.old) this.fix(s, "Restoring 0x%p-0x%p=0x%x\n", [fault, last, value]);
    else this.fix(s, "Restoring %s 0x%p-0x%p=0x%x", [what, fault, last, value]);
    pm.fill(start + f, e - f, value);
    if (this.slot && start + f >= this.slotPhys) this.slot.fill(value, start + f - this.slotPhys, start + e - this.slotPhys);
    this.pendingRecord = { kind: "slub", mark };
    return false;
  }

  // ---- reports -------------------------------------------------------------------------------------------------

  private err(fmt: string, ...args: (string | number | bigint)[]): void {
    this.k.printk(KERN_ERR + fmt, ...args);
  }

  /** slab_bug(): the banner. */
  private slabBug(s: KmemCache, msg: string): void {
    this.flushRecord();
    this.bugLineCache = `BUG ${s.name} (${this.k.taint.print_tainted()}): ${msg}`;
    this.err("=============================================================================\n");
    this.err("%s\n", this.bugLineCache);
    this.err("-----------------------------------------------------------------------------\n\n");
  }
  private bugLineCache = "";

  /** slab_fix(): "FIX <cache>: ..." */
  private fix(s: KmemCache, fmt: string, args: (string | number | bigint)[] = []): void {
    this.err("FIX %s: " + fmt + "\n", s.name, ...args);
  }

  /** print_slab_info(). */
  private printSlabInfo(slab: Slab): void {
    const s = slab.cache;
    const fp = slab.nfree ? slab.addr(slab.freeStack[slab.nfree - 1]) : 0n;
    const struct = this.structPage(slab.pfn);
    if (this.old) {
      const low = (1 << PG_slab) | (slab.order ? 1 << PG_head : 0);
      this.err("INFO: Slab 0x%p objects=%u used=%u fp=0x%p flags=0x%04lx\n", struct, slab.objects, slab.inuse, fp, low);
      return;
    }
    const low = (1 << PG_slab) | (slab.order ? 1 << PG_head : 0);
    const zi = Math.max(0, this.k.pages.zoneIdxOf(slab.pfn));
    this.err("Slab 0x%p objects=%u used=%u fp=0x%p flags=%s\n", struct, slab.objects, slab.inuse, fp, formatPageFlags(this.k.profile.arch, low, zi));
    void s;
  }

  /** The struct page (struct slab) address of a pfn: vmemmap / mem_map + pfn * sizeof(struct page). */
  private structPage(pfn: number): bigint {
    const l = this.k.layout;
    if (this.a.wordSize === 8) return (l.vmemmapStart ?? 0xffffea0000000000n) + BigInt(pfn) * 64n;
    // 32-bit: mem_map sits in lowmem right after the kernel image; an approximation (only ever printed hashed)
    return l.pageOffset + 0x1000000n + BigInt(pfn) * 40n;
  }

  private printTrack(label: string, t: Track | undefined): void {
    if (!t) return;
    const age = this.k.clock.jiffies - t.when;
    const { addr, stack } = this.trackFrames(t);
    if (this.old) {
      this.err("INFO: %s in %pS age=%lu cpu=%u pid=%d\n", label, addr, age, t.cpu, t.pid);
      for (const f of stack) this.err("\t%pS\n", f);
      return;
    }
    this.err("%s in %pS age=%lu cpu=%u pid=%d\n", label, addr, age, t.cpu, t.pid);
    for (const f of stack) this.k.printk(KERN_DEFAULT + " %pS\n", f);
  }

  private printTracking(s: KmemCache, slab: Slab, i: number): void {
    if (!(s.flags & SLAB_STORE_USER)) return;
    this.printTrack("Allocated", slab.allocTrack?.[i]);
    this.printTrack("Freed", slab.freeTrack?.[i]);
  }

  /** print_section(): print_hex_dump(KERN_ERR, text, DUMP_PREFIX_ADDRESS, 16, 1, addr, len, 1). */
  private printSection(text: string, va: bigint, phys: number, len: number): void {
    const bytes = this.k.physmem.readBytes(phys, len);
    for (let o = 0; o < len; o += 16) {
      this.err("%s%p: %s\n", text, va + BigInt(o), hexDumpRow(bytes.subarray(o, Math.min(len, o + 16))));
    }
  }

  /** print_trailer(): tracking, slab info, object line, hex dumps, dump_stack(). */
  private printTrailer(s: KmemCache, slab: Slab, i: number, frames: string[]): void {
    const p = slab.addr(i);
    const pp = slab.objPhys + i * s.size;
    this.printTracking(s, slab, i);
    this.printSlabInfo(slab);
    const fp = this.readFp(s, pp);
    this.err(this.old ? "INFO: Object 0x%p @offset=%tu fp=0x%p\n\n" : "Object 0x%p @offset=%tu fp=0x%p\n\n", p, Number(p - slab.base), fp);
    const lbl = this.old ? ["Bytes b4 ", "Object ", "Redzone ", "Padding "] : ["Bytes b4 ", "Object   ", "Redzone  ", "Padding  "];
    if (s.flags & SLAB_RED_ZONE && s.redLeftPad) this.printSection(lbl[2], p - BigInt(s.redLeftPad), pp - s.redLeftPad, s.redLeftPad);
    else if (Number(p - slab.base) > 16) this.printSection(lbl[0], p - 16n, pp - 16, 16);
    this.printSection(lbl[1], p, pp, Math.min(s.objectSize, PAGE_SIZE));
    if (s.flags & SLAB_RED_ZONE) this.printSection(lbl[2], p + BigInt(s.objectSize), pp + s.objectSize, s.inuse - s.objectSize);
    const off = this.padStart(s);
    const end = s.size - s.redLeftPad;
    if (off !== end) this.printSection(lbl[3], p + BigInt(off), pp + off, end - off);
    this.dumpStack(frames);
  }

  private readFp(s: KmemCache, objPhys: number): bigint {
    const pa = objPhys + s.offset;
    return this.a.wordSize === 8 ? this.k.physmem.read64(pa) : BigInt(this.k.physmem.read32(pa));
  }

  /** object_err(): banner, trailer, taint. */
  private objectErr(s: KmemCache, slab: Slab, i: number, reason: string, kind: "slub" | "double-free", fn: string): void {
    const mark = this.k.log.mark();
    this.slabBug(s, reason);
    this.printTrailer(s, slab, i, this.framesFor(fn));
    this.k.taint.add("B", false);
    this.pendingRecord = { kind, mark };
  }
  private pendingRecord?: { kind: "slub" | "double-free" | "invalid-free"; mark: number };

  /** slab_err(): banner with a formatted reason, slab info, dump_stack(), taint. */
  private slabErr(s: KmemCache, slab: Slab, fmt: string, args: (string | number | bigint)[], kind: "slub" | "invalid-free", fn: string): void {
    const mark = this.k.log.mark();
    const msg = this.k.log.format(fmt, args);
    this.slabBug(s, msg);
    this.printSlabInfo(slab);
    this.dumpStack(this.framesFor(fn));
    this.k.taint.add("B", false);
    this.pendingRecord = { kind, mark };
  }

  /** Close the report opened by objectErr/slabErr after its FIX line. */
  private flushRecord(): void {
    const r = this.pendingRecord;
    if (!r) return;
    this.pendingRecord = undefined;
    recordSplat(this.k, r.kind, r.mark, { title: this.bugLineCache });
  }

  private framesFor(fn: string): string[] {
    if (this.era !== "6.1") {
      if (fn === "alloc") return ["alloc_debug_processing", "__slab_alloc", "__kmalloc"];
      return ["free_debug_processing", "__slab_free", fn];
    }
    switch (fn) {
      case "alloc":
        return ["alloc_debug_processing", "___slab_alloc", "__slab_alloc.constprop.0", "__kmem_cache_alloc_node", "__kmalloc"];
      case "kmem_cache_destroy":
        return ["__kmem_cache_shutdown", "kmem_cache_destroy"];
      default:
        return ["free_debug_processing", "__slab_free", fn];
    }
  }

  dumpStack(frames: string[]): void {
    dump_stack(this.k, frames, { level: KERN_DEFAULT });
  }

  /**
   * panic(msg) (kernel/panic.c): "Kernel panic - not syncing: msg" at KERN_EMERG, dump_stack() (CONFIG_DEBUG_BUGVERBOSE,
   * since 2.6.30: not in the 2.6.26 profile), and from 6.1's era the "---[ end Kernel panic - not syncing: ]---"
   * marker. Simplifications: the machine would stop here; the simulator records the panic as an Oops-kind report
   * and ends the module's task (KernelOops), and the run goes on to its report; no "Kernel Offset:" notifier line.
   */
  panic(msg: string, frames: string[] = ["kmem_cache_create"]): never {
    const k = this.k;
    const era = k.profile.era;
    const mark = k.log.mark();
    const title = `Kernel panic - not syncing: ${msg}`;
    k.printk(KERN_EMERG + "%s\n", title);
    if (era !== "2.6") dump_stack(k, ["panic", ...frames], { level: KERN_DEFAULT });
    if (era === "6.1") k.printk(KERN_EMERG + "---[ end %s ]---\n", title);
    k.taint.add("D");
    const rep = recordSplat(k, "oops", mark, {
      title,
      explain: "SLAB_PANIC asks the kernel to panic when the cache cannot be created: the whole machine stops.",
    });
    throw new KernelOops(title, rep);
  }

  // ---- the fix line after object_err / slab_err ---------------------------------------------------------------
  // (objectErr/slabErr leave the report open; notFreed prints FIX and closes it.)

  // ---- kmem_cache_destroy with objects ---------------------------------------------------------------------------

  /** __kmem_cache_shutdown() found objects: list_slab_objects() per partial slab, then the era's message. */
  destroyWithObjects(s: KmemCache): void {
    const k = this.k;
    if (this.a.allocator === "SLAB") {
      const mark = k.log.mark();
      k.printk(KERN_ERR + "slab error in %s(): cache `%s': %s\n", "kmem_cache_destroy", s.name, "Can't free all objects");
      this.dumpStack(["kmem_cache_destroy"]);
      recordSplat(k, "leak", mark, { title: `slab error in kmem_cache_destroy(): cache \`${s.name}': Can't free all objects` });
      return;
    }
    const text = this.old ? "Objects remaining on kmem_cache_close()" : `Objects remaining in ${s.name} on __kmem_cache_shutdown()`;
    for (const slab of s.partial) {
      if (!slab.inuse) continue;
      const mark = k.log.mark();
      this.slabBug(s, text);
      this.printSlabInfo(slab);
      this.dumpStack(this.framesFor("kmem_cache_destroy"));
      k.taint.add("B", false);
      for (let i = 0; i < slab.objects; i++) {
        if (!slab.live[i]) continue;
        const p = slab.addr(i);
        this.err(this.old ? "INFO: Object 0x%p @offset=%tu\n" : "Object 0x%p @offset=%tu\n", p, Number(p - slab.base));
        this.printTracking(s, slab, i);
      }
      recordSplat(k, "leak", mark, { title: this.bugLineCache });
    }
    if (this.old) {
      const mark = k.log.mark();
      k.printk(KERN_ERR + "kmem_cache_destroy %s: Slab cache still has objects\n", s.name);
      this.dumpStack(["kmem_cache_destroy"]);
      recordSplat(k, "leak", mark, {});
      return;
    }
    const caller = moduleFrames(k).frames[0] ?? k.kallsyms.frame("kmem_cache_destroy");
    warn(k, {
      file: "mm/slab_common.c",
      line: 497,
      fn: "kmem_cache_destroy",
      message: `kmem_cache_destroy ${s.name}: Slab cache still has objects when called from ${caller}`,
      kind: "leak",
      explain: "kmem_cache_destroy() was called while objects of the cache were still allocated: the kernel keeps the cache (and its memory) and warns.",
    });
  }

  // ---- other frees -----------------------------------------------------------------------------------------------

  /** kmem_cache_free() with the wrong cache: cache_from_obj()'s WARN (hardened / consistency checks), 6.1. */
  wrongCache(want: KmemCache, actual: KmemCache, obj: bigint): void {
    if (this.era !== "6.1") return;
    warn(this.k, {
      file: "mm/slab.h",
      line: 658,
      fn: "kmem_cache_free",
      message: `cache_from_obj: Wrong slab cache. ${want.name} but object is from ${actual.name}`,
      kind: "invalid-free",
      explain: explainWrongFree("kmem_cache_free-wrong-cache"),
    });
    void obj;
  }

  /** free_large_kmalloc() of a page that is not a kmalloc'ed block (6.1): WARN_ON_ONCE(order == 0), then free. */
  freeNonSlabPage(p: bigint, pfn: number): void {
    const k = this.k;
    const owner = k.pages.ownerOf(pfn);
    if (this.era !== "6.1" || owner === PageOwner.Free || owner === PageOwner.Reserved || owner === PageOwner.KernelImage) {
      this.badFree(p, "kfree");
      return;
    }
    const info = k.pages.allocations().find((a) => a.pfn === pfn);
    const order = info && info.gfp & 0x40000 ? info.order : 0;
    if (order === 0 && !this.warnedLarge) {
      this.warnedLarge = true;
      warn(k, {
        file: "mm/slab_common.c",
        line: 969,
        fn: "free_large_kmalloc",
        kernelFrames: ["kfree"],
        kind: "invalid-free",
        explain: explainWrongFree("kfree-not-slab"),
      });
      k.printk(KERN_WARNING + "object pointer: 0x%p\n", p);
    }
    if (owner !== PageOwner.Module) k.pages.suspectFrees.push({ pfn, order, reason: `kfree() of ${pageOwnerNames[owner] ?? owner} pages` });
    k.pages.__free_pages(pfn, order);
  }

  /** kfree()/kmem_cache_free() of a pointer that is not in the linear map or not in any slab. */
  badFree(p: bigint, fn: string): void {
    const k = this.k;
    const { arch, era } = k.profile;
    if (arch === "x86_64" && era === "6.1" && !this.a.isLinear(p)) {
      // virt_to_folio(): struct page of (p - PAGE_OFFSET) >> PAGE_SHIFT, far outside mem_map: the read faults.
      const pfn = BigInt.asUintN(64, p - k.layout.pageOffset) >> 12n;
      const addr = BigInt.asUintN(64, (k.layout.vmemmapStart ?? 0xffffea0000000000n) + pfn * 64n + 8n);
      const mark = k.log.mark();
      const title = `BUG: unable to handle page fault for address: ${addr.toString(16).padStart(16, "0")}`;
      k.printk("\u00011%s\n", title);
      k.printk("\u00011#PF: supervisor read access in kernel mode\n");
      k.printk("\u00011#PF: error_code(0x0000) - not-present page\n");
      k.printk("\u00016PGD 0 P4D 0 \n");
      k.printk("\u00014%s\n", oopsHeader(k, "Oops", 0));
      dieBody(k, fn, []);
      k.printk("\u00014CR2: %016lx\n", addr);
      end_trace(k);
      k.taint.add("D");
      recordSplat(k, "invalid-free", mark, {
        title,
        explain: `${explainWrongFree(this.wrongFreeKind(p, fn))} ${fn}() was given ${"0x" + p.toString(16)}, an address that kmalloc did not return (not in the linear map): the kernel looks up a struct page that does not exist and crashes.`,
      });
      return;
    }
    splat(k, "invalid-free", `${fn}: invalid pointer 0x${p.toString(16)} (not a slab object)`, [], {
      level: KERN_ERR,
      dumpStack: [fn],
      explain: `${explainWrongFree(this.wrongFreeKind(p, fn))} The real kernel of this era would corrupt memory or crash here; the simulator reports it and ignores the free.`,
    });
  }

  /** Which wrong free a bad kfree()/kmem_cache_free() pointer is, for the learner's line (debug/wrong_free.ts). */
  private wrongFreeKind(p: bigint, fn: string): "kfree-vmalloc" | "kfree-not-slab" {
    const L = this.k.layout;
    void fn;
    return p >= L.vmallocStart && p < L.vmallocEnd ? "kfree-vmalloc" : "kfree-not-slab";
  }

  /** slab_out_of_memory() (6.1 / 3.4), rate limited; not for __GFP_NOWARN. */
  slabOutOfMemory(s: KmemCache, gfp: number): void {
    const k = this.k;
    if (this.a.allocator !== "SLUB") return;
    if (gfp & 0x2000 && this.era === "6.1") return; // __GFP_NOWARN (6.1 bit)
    if (this.oomBudget-- <= 0) return;
    k.printk(KERN_WARNING + "SLUB: Unable to allocate memory on node %d, gfp=%#x(%s)\n", -1, gfp, formatGfp(k.profile.era, gfp));
    k.printk(
      KERN_WARNING + "  cache: %s, object size: %u, buffer size: %u, default order: %u, min order: %u\n",
      s.name,
      s.objectSize,
      s.size,
      s.order,
      s.minOrder,
    );
    const c = this.a.objCounts(s);
    k.printk(KERN_WARNING + "  node %d: slabs: %ld, objs: %ld, free: %ld\n", 0, s.nrSlabs, c.num, c.num - s.inuseObjects);
  }
}

export function trackBytes(era: string, wordSize: number): number {
  if (era === "6.1") return wordSize === 8 ? 32 : 20;
  return wordSize * 17 + 8 + wordSize;
}
