// Models the kernel's memory access path of Linux 6.1 / 3.4 / 2.6: what a load or store to a kernel virtual address
// does (the MMU: TLB, then the page-table walk; the fault handler when nothing maps it), and the string routines of
// lib/string.c + arch/x86/lib/mem*_64.S / arch/arm/lib/mem*.S (memset, memset32/64, memcpy, memmove, memcmp,
// memchr_inv), each checked by KASAN first when the kernel has it (debug/kasan.ts).
//
// - Bytes live in k.physmem (sparse: a frame costs host memory only once written).
// - Every access goes through the dTLB model (mm/tlb.ts), counted per run: a hit reuses the cached translation; a
//   miss walks the page tables (k.pgtable) and fills the TLB with the leaf's size, so the linear map (2 MiB pages
//   on x86_64, 4 MiB on i386, 1 MiB sections on ARM) costs one miss per large page while vmalloc/ioremap/module
//   addresses cost one per 4 KiB page. The TLB is flushed where the kernel flushes it: the vmap purge
//   (flush_tlb_kernel_range of the lazily freed ranges, via k.vmalloc.onFlush). As in the kernel, vfree()/vunmap()
//   clear the PTEs at once but flush the TLB only at the purge: a stale entry may still translate a freed vmalloc
//   address until then (a use-after-vfree that "works"), exactly the window the real lazy flush leaves.
// - A page-crossing access is split at the boundary; the string routines go page by page (one translation and one
//   bulk typed-array fill/copy per page), so memset of 1 MiB is 256 steps, not a million.
// - An access that no page table maps faults (mm/fault.ts prints the arch's Oops) and throws KernelOops: the module
//   function stops there; the string routines fault at the first byte of the first unmapped page they reach, after
//   doing the bytes before it (rep stosb/movsb semantics), with KASAN's report (if any) printed before anything.
//
// Simplifications (stated): kmap (pkmap) and kmap_local/fixmap addresses are translated by the page allocator's
// kmap bookkeeping and not cached in the TLB (kunmap needs no TLB flush here); MMIO behind ioremap reads and writes
// like RAM; no alignment faults (ARMv7 allows unaligned ldr/str in the kernel's configuration); no read-only or
// NX kernel mappings are enforced; an Oops in interrupt context ends the callback instead of panicking.

import { armStext } from "../arch/arm.ts";
import type { Kernel } from "../kernel.ts";
import { Tlb, type TlbStats } from "./tlb.ts";
import { rebindable } from "../snapshot.ts";
import { kernelFault, type AccessOp } from "./fault.ts";
import { KernelOops } from "../kernel/module.ts";
import { PageOwner } from "./page_flags.ts";

const PAGE = 4096;

export type AccessSize = 1 | 2 | 4 | 8;

/** A region of the kernel's virtual address space (from the layout), for views and lessons. */
export interface MemRegion {
  name: string;
  start: bigint;
  end: bigint;
  kind: string;
  /** How an address here is translated. */
  path: "linear" | "page tables" | "kmap" | "unmapped";
}

export class MemoryAccess {
  readonly k: Kernel;
  readonly tlb: Tlb;
  private readonly bits: number;
  private readonly mask: bigint;
  private readonly pageOffset: bigint;
  private readonly highMemory: bigint;
  private readonly physOffset: number;
  private readonly kmapStart: bigint;
  private readonly kmapEnd: bigint;
  /** Accesses done (each read/write, each string routine counts once). */
  accesses = 0;
  bytesRead = 0;
  bytesWritten = 0;

  constructor(k: Kernel) {
    this.k = k;
    const L = k.layout;
    this.bits = L.bits;
    this.mask = (1n << BigInt(L.bits)) - 1n;
    this.pageOffset = L.pageOffset;
    this.highMemory = L.highMemory;
    this.physOffset = L.physOffset;
    this.tlb = new Tlb(k.profile.arch, k.profile.pae === true);
    // kmap/fixmap window: pkmap (32-bit highmem) up to the top of the fixmap.
    this.kmapStart = L.pkmapBase ?? L.fixaddrStart;
    this.kmapEnd = L.fixaddrTop + BigInt(PAGE);
    k.vmalloc.onFlush.push(rebindable(Tlb.prototype.flushRange, this.tlb)); // rebound by a kernel snapshot (snapshot.ts)
  }

  // ------------------------------------------------------------------ translation

  /**
   * Page-table frames the module stored into (a wild pointer, a memset past its buffer): the tables live in these
   * bytes, so the mappings change as they would in the real kernel. debug/invariants.ts reads this to call the
   * broken mappings that follow the module's corruption, not a simulator bug.
   */
  readonly pageTableWrites = new Set<number>();

  /** The physical address an access at addr uses, or a fault (never returns then). */
  private translate(addr: bigint, write: boolean, size: number, op: AccessOp, faultAt: bigint = addr): number {
    const pa = this.translateAccess(addr, write, size, op, faultAt);
    if (write) {
      const pfn = Math.floor(pa / PAGE);
      // PageTable frames, and 32-bit ARM's swapper_pg_dir (16 KiB reserved with the kernel image).
      const pgd = Math.floor(this.k.pgtable.pgdPhys / PAGE);
      if (this.k.pages.ownerOf(pfn) === PageOwner.PageTable || (pfn >= pgd && pfn < pgd + 4)) this.pageTableWrites.add(pfn);
    }
    return pa;
  }

  private translateAccess(addr: bigint, write: boolean, size: number, op: AccessOp, faultAt: bigint): number {
    if (write && this.readOnlyKernel(addr)) this.fault(faultAt, write, size, op, undefined, true);
    const vpn = Number(addr >> 12n);
    const off = Number(addr & 0xfffn);
    if (addr >= this.kmapStart && addr < this.kmapEnd && this.k.profile.arch !== "x86_64") {
      const pa = this.k.pages.kmapTranslate(addr);
      if (pa >= 0) return pa;
    }
    let pa = this.tlb.lookup(vpn, off);
    if (pa >= 0) return pa;
    if (this.k.vmalloc.is_vmalloc_or_module_addr(addr)) {
      // vmalloc/ioremap/modules: always 4 KiB PTEs here; translateVpn walks without bigint work.
      pa = this.k.pgtable.translateVpn(vpn, off);
      if (pa >= 0) this.tlb.insert(vpn, PAGE, pa - off);
    } else {
      const w = this.k.pgtable.walk(addr);
      pa = w.pa;
      if (pa >= 0) {
        const span = w.pageSize / PAGE;
        this.tlb.insert(vpn, w.pageSize, pa - off - (vpn % span) * PAGE);
      }
    }
    if (pa < 0) this.fault(faultAt, write, size, op);
    return pa;
  }

  /**
   * 6.1 kernels (CONFIG_STRICT_KERNEL_RWX, mark_rodata_ro() before /init) map _text.._etext and the rodata
   * read-only: [.text start, .rodata end) ([_stext, ...) on ARM). The older eras' builds here keep them writable.
   */
  private readOnlyKernel(addr: bigint): boolean {
    if (this.k.profile.era !== "6.1") return false;
    if (this.roText === undefined) {
      const img = this.k.layout.image;
      const text = img.find((s) => s.name === ".text");
      const ro = img.find((s) => s.name === ".rodata");
      // 32-bit ARM's section_perms make [_stext, __init_begin) read-only: .head.text below _stext is given back to
      // the page allocator at boot (arch/arm.ts armStext), so it stays writable
      const start = text && this.k.profile.arch === "arm" ? text.start - BigInt(text.phys) + BigInt(armStext(text.phys)) : text?.start;
      this.roText = text && ro && start !== undefined ? [start, ro.end] : null;
    }
    return this.roText !== null && addr >= this.roText[0] && addr < this.roText[1];
  }
  private roText?: [bigint, bigint] | null;

  /** Print the Oops for an access at addr and end the module function (KernelOops). */
  private fault(addr: bigint, write: boolean, size: number, op: AccessOp, ip?: string, protection = false): never {
    const arch = this.k.profile.arch;
    const la57 = this.k.layout.pgtableLevels === 5;
    const top = addr >> (la57 ? 56n : 47n);
    const canonical = arch !== "x86_64" || top === 0n || top === (la57 ? 0xffn : 0x1ffffn);
    const walk = canonical ? this.k.pgtable.walk(addr) : null;
    const r = kernelFault(this.k, { addr, write, size, op, ip, protection }, walk);
    throw new KernelOops(r.title, r);
  }

  /** KASAN's check of [addr, addr+len) before the access; a fault if the shadow itself is unmapped. */
  private kasan(addr: bigint, len: number, write: boolean, op: AccessOp): void {
    const kasan = this.k.kasan;
    if (!kasan || len <= 0) return;
    const shadow = kasan.check(addr, len, write, op);
    if (shadow >= 0n) {
      const ip = op === "load" || op === "store" ? `__asan_${op}${len}` : "kasan_check_range";
      this.fault(shadow, false, 1, "load", this.k.kallsyms.frame(ip));
    }
  }

  private norm(addr: bigint): bigint {
    return addr & this.mask;
  }

  // ------------------------------------------------------------------ loads and stores

  /** A load of 1, 2, 4 or 8 bytes (8: a bigint). */
  read(addr: bigint, size: AccessSize): number | bigint {
    const a = this.norm(addr);
    this.kasan(a, size, false, "load");
    this.accesses++;
    this.bytesRead += size;
    const off = Number(a & 0xfffn);
    const pm = this.k.physmem;
    if (off + size <= PAGE) {
      const pa = this.translate(a, false, size, "load");
      switch (size) {
        case 1:
          return pm.read8(pa);
        case 2:
          return pm.read16(pa);
        case 4:
          return pm.read32(pa);
        default:
          return pm.read64(pa);
      }
    }
    // Crosses a page: the two halves translate separately (the second may fault at its first byte).
    const first = PAGE - off;
    const pa1 = this.translate(a, false, size, "load");
    const pa2 = this.translate(a + BigInt(first), false, size, "load", a + BigInt(first));
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(pm.read8(i < first ? pa1 + i : pa2 + i - first));
    return size === 8 ? v : Number(v);
  }

  /** A store of 1, 2, 4 or 8 bytes (the value truncated to the size, as C does). */
  write(addr: bigint, size: AccessSize, value: number | bigint): void {
    const a = this.norm(addr);
    this.kasan(a, size, true, "store");
    this.accesses++;
    this.bytesWritten += size;
    const off = Number(a & 0xfffn);
    const pm = this.k.physmem;
    const v = BigInt.asUintN(size * 8, BigInt(value));
    if (off + size <= PAGE) {
      const pa = this.translate(a, true, size, "store");
      switch (size) {
        case 1:
          return pm.write8(pa, Number(v));
        case 2:
          return pm.write16(pa, Number(v));
        case 4:
          return pm.write32(pa, Number(v));
        default:
          return pm.write64(pa, v);
      }
    }
    const first = PAGE - off;
    const pa1 = this.translate(a, true, size, "store");
    const pa2 = this.translate(a + BigInt(first), true, size, "store", a + BigInt(first));
    for (let i = 0; i < size; i++) pm.write8(i < first ? pa1 + i : pa2 + i - first, Number((v >> BigInt(8 * i)) & 0xffn));
  }

  readb(addr: bigint): number {
    return this.read(addr, 1) as number;
  }
  readw(addr: bigint): number {
    return this.read(addr, 2) as number;
  }
  readl(addr: bigint): number {
    return this.read(addr, 4) as number;
  }
  readq(addr: bigint): bigint {
    return this.read(addr, 8) as bigint;
  }
  /** writeb(value, addr): value first, as in the kernel. */
  writeb(value: number, addr: bigint): void {
    this.write(addr, 1, value);
  }
  writew(value: number, addr: bigint): void {
    this.write(addr, 2, value);
  }
  writel(value: number, addr: bigint): void {
    this.write(addr, 4, value);
  }
  writeq(value: bigint | number, addr: bigint): void {
    this.write(addr, 8, value);
  }

  // ------------------------------------------------------------------ string routines (page by page)

  /** Walk [addr, addr+len) in page chunks: fn(pa, offsetInRange, n). Faults at the first unmapped page reached. */
  private chunks(addr: bigint, len: number, write: boolean, op: AccessOp, fn: (pa: number, done: number, n: number) => void): void {
    const a = this.norm(addr);
    let done = 0;
    let pages = 0;
    while (done < len) {
      if ((++pages & 255) === 0) this.k.watchdog(); // a memset of terabytes through bogus mappings never faults
      const cur = a + BigInt(done);
      const n = Math.min(len - done, PAGE - Number(cur & 0xfffn));
      fn(this.translate(cur, write, 1, op), done, n);
      done += n;
    }
  }

  /** memset(addr, c, len). Returns addr. */
  memset(addr: bigint, c: number, len: number): bigint {
    this.kasan(this.norm(addr), len, true, "memset");
    this.accesses++;
    this.bytesWritten += len;
    const pm = this.k.physmem;
    this.chunks(addr, len, true, "memset", (pa, _d, n) => pm.fill(pa, n, c));
    return addr;
  }

  /** memset32/memset64(addr, v, count): count words of v (lib/string.c, 4.15+). */
  memsetN(addr: bigint, value: number | bigint, count: number, width: 2 | 4 | 8): bigint {
    const len = count * width;
    this.kasan(this.norm(addr), len, true, "memset");
    this.accesses++;
    this.bytesWritten += len;
    const pattern = new Uint8Array(width);
    let v = BigInt.asUintN(width * 8, BigInt(value));
    for (let i = 0; i < width; i++, v >>= 8n) pattern[i] = Number(v & 0xffn);
    const pm = this.k.physmem;
    const all = pattern.every((b) => b === pattern[0]);
    this.chunks(addr, len, true, "memset", (pa, done, n) => {
      if (all) return pm.fill(pa, n, pattern[0]!);
      const buf = new Uint8Array(n);
      for (let i = 0; i < n; i++) buf[i] = pattern[(done + i) % width]!;
      pm.writeBytes(pa, buf);
    });
    return addr;
  }

  /** memcpy(dst, src, len): forward, chunks split at both ranges' page boundaries. Returns dst. */
  memcpy(dst: bigint, src: bigint, len: number, op: AccessOp = "memcpy"): bigint {
    const d = this.norm(dst);
    const s = this.norm(src);
    this.kasan(s, len, false, op);
    this.kasan(d, len, true, op);
    this.accesses++;
    this.bytesRead += len;
    this.bytesWritten += len;
    const pm = this.k.physmem;
    let done = 0;
    while (done < len) {
      const sa = s + BigInt(done);
      const da = d + BigInt(done);
      const n = Math.min(len - done, PAGE - Number(sa & 0xfffn), PAGE - Number(da & 0xfffn));
      const spa = this.translate(sa, false, 1, op);
      const dpa = this.translate(da, true, 1, op);
      pm.writeBytes(dpa, pm.readBytes(spa, n));
      done += n;
    }
    return dst;
  }

  /** memmove(dst, src, len): backward when dst overlaps the source's tail. Returns dst. */
  memmove(dst: bigint, src: bigint, len: number): bigint {
    const d = this.norm(dst);
    const s = this.norm(src);
    if (!(d > s && d < s + BigInt(len))) return this.memcpy(dst, src, len, "memmove");
    this.kasan(s, len, false, "memmove");
    this.kasan(d, len, true, "memmove");
    this.accesses++;
    this.bytesRead += len;
    this.bytesWritten += len;
    const pm = this.k.physmem;
    let end = len;
    while (end > 0) {
      const sl = s + BigInt(end - 1);
      const dl = d + BigInt(end - 1);
      const n = Math.min(end, Number(sl & 0xfffn) + 1, Number(dl & 0xfffn) + 1);
      const sa = s + BigInt(end - n);
      const da = d + BigInt(end - n);
      // Backward copies touch the last byte first: fault there.
      const spa = this.translate(sa, false, 1, "memmove", sl);
      const dpa = this.translate(da, true, 1, "memmove", dl);
      pm.writeBytes(dpa, pm.readBytes(spa, n));
      end -= n;
    }
    return dst;
  }

  /** memcmp(a, b, len): the difference of the first differing bytes (0 if equal), as lib/string.c returns it. */
  memcmp(a: bigint, b: bigint, len: number): number {
    const x = this.norm(a);
    const y = this.norm(b);
    this.accesses++;
    const pm = this.k.physmem;
    let done = 0;
    while (done < len) {
      const xa = x + BigInt(done);
      const ya = y + BigInt(done);
      const n = Math.min(len - done, PAGE - Number(xa & 0xfffn), PAGE - Number(ya & 0xfffn));
      const px = this.translate(xa, false, 1, "memcmp");
      const py = this.translate(ya, false, 1, "memcmp");
      const bx = pm.readBytes(px, n);
      const by = pm.readBytes(py, n);
      for (let i = 0; i < n; i++) {
        if (bx[i] !== by[i]) {
          // KASAN sees the loads memcmp actually made: up to this byte.
          this.kasan(x, done + i + 1, false, "memcmp");
          this.kasan(y, done + i + 1, false, "memcmp");
          this.bytesRead += 2 * (done + i + 1);
          return bx[i]! - by[i]!;
        }
      }
      done += n;
    }
    this.kasan(x, len, false, "memcmp");
    this.kasan(y, len, false, "memcmp");
    this.bytesRead += 2 * len;
    return 0;
  }

  /** memchr_inv(addr, c, len): the address of the first byte that is not c, or 0n. */
  memchr_inv(addr: bigint, c: number, len: number): bigint {
    const a = this.norm(addr);
    this.kasan(a, len, false, "memcmp");
    this.accesses++;
    this.bytesRead += len;
    const pm = this.k.physmem;
    const want = c & 0xff;
    let found = -1;
    let done = 0;
    while (done < len && found < 0) {
      const cur = a + BigInt(done);
      const n = Math.min(len - done, PAGE - Number(cur & 0xfffn));
      const bytes = pm.readBytes(this.translate(cur, false, 1, "memcmp"), n);
      for (let i = 0; i < n; i++)
        if (bytes[i] !== want) {
          found = done + i;
          break;
        }
      done += n;
    }
    return found < 0 ? 0n : a + BigInt(found);
  }

  /** Checked bulk read (a module's copy out, page by page). */
  readBytes(addr: bigint, len: number): Uint8Array {
    const a = this.norm(addr);
    this.kasan(a, len, false, "memcpy");
    this.accesses++;
    this.bytesRead += len;
    const out = new Uint8Array(len);
    const pm = this.k.physmem;
    this.chunks(a, len, false, "memcpy", (pa, done, n) => out.set(pm.readBytes(pa, n), done));
    return out;
  }

  /** Checked bulk write. */
  writeBytes(addr: bigint, bytes: Uint8Array): void {
    const a = this.norm(addr);
    this.kasan(a, bytes.length, true, "memcpy");
    this.accesses++;
    this.bytesWritten += bytes.length;
    const pm = this.k.physmem;
    this.chunks(a, bytes.length, true, "memcpy", (pa, done, n) => pm.writeBytes(pa, bytes.subarray(done, done + n)));
  }

  // ------------------------------------------------------------------ inspection (no side effects)

  /** The physical address of addr from the page tables (no TLB, no fault), or -1. */
  translateQuiet(addr: bigint): number {
    const a = this.norm(addr);
    if (a >= this.kmapStart && a < this.kmapEnd && this.k.profile.arch !== "x86_64") {
      const pa = this.k.pages.kmapTranslate(a);
      if (pa >= 0) return pa;
    }
    return this.k.pgtable.translate(a);
  }

  /** Bytes at addr for views and the grader: no TLB, no KASAN, no fault; null if any byte is unmapped. */
  peek(addr: bigint, len: number): Uint8Array | null {
    const a = this.norm(addr);
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const cur = a + BigInt(done);
      const n = Math.min(len - done, PAGE - Number(cur & 0xfffn));
      const pa = this.translateQuiet(cur);
      if (pa < 0) return null;
      out.set(this.k.physmem.readBytes(pa, n), done);
      done += n;
    }
    return out;
  }

  /**
   * Write bytes at a kernel virtual address without any of the access path (no TLB, no KASAN, no fault), as peek reads
   * them: what another agent (a device, another process through a shared mapping) stores there. False, and nothing
   * written past the first unmapped page, when a page is not mapped.
   */
  poke(addr: bigint, bytes: Uint8Array): boolean {
    const a = this.norm(addr);
    let done = 0;
    while (done < bytes.length) {
      const cur = a + BigInt(done);
      const n = Math.min(bytes.length - done, PAGE - Number(cur & 0xfffn));
      const pa = this.translateQuiet(cur);
      if (pa < 0) return false;
      this.k.physmem.writeBytes(pa, bytes.subarray(done, done + n));
      done += n;
    }
    return true;
  }

  /** The layout's regions with how each is translated. */
  regions(): MemRegion[] {
    return this.k.layout.regions.map((r) => ({
      name: r.name,
      start: r.start,
      end: r.end,
      kind: r.kind,
      path:
        r.kind === "linear"
          ? "linear"
          : r.kind === "pkmap" || r.kind === "fixmap"
            ? "kmap"
            : r.kind === "user" || r.kind === "gap"
              ? "unmapped"
              : "page tables",
    }));
  }

  /** TLB counters since boot or the last reset (hits, misses, flushed entries, geometry). */
  tlbStats(): TlbStats {
    return this.tlb.stats();
  }

  /** Invariants: a linear-map address translates by the fixed offset, as the tables say. */
  checkInvariants(): string[] {
    const errs: string[] = [];
    const L = this.k.layout;
    for (const r of L.memory) {
      const pa = Math.ceil(r.start / PAGE) * PAGE;
      if (pa >= L.maxLowPfn * PAGE) continue;
      const va = L.pageOffset + BigInt(pa - L.physOffset);
      const t = this.k.pgtable.translate(va);
      if (t !== pa) errs.push(`memory: linear address 0x${va.toString(16)} translates to ${t}, expected 0x${pa.toString(16)}`);
    }
    return errs;
  }
}
