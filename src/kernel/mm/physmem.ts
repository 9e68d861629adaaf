// Models the machine's RAM itself (what QEMU's memory backend holds), as mm/ in Linux 2.6-6.1 sees it through __va().
//
// The bytes of physical memory, stored sparsely: a Map from PFN to a 4096-byte Uint8Array created on the first
// write. A frame that was never written reads as zeros — QEMU hands the guest zero-filled RAM, so on a fresh boot
// every untouched frame really is zero.
//
// Simplifications and decisions (say them to the learner):
// - Freed pages KEEP their old contents, as on a real machine: the page allocator never clears or forgets a frame
//   when it returns to the buddy lists (no init_on_free / page poisoning modelled by default), so a module that
//   reads a page after freeing it, or gets a page someone else freed, sees the stale data. `dropPage()` exists for
//   callers that *know* the contents no longer matter (e.g. a later init_on_free model); nothing calls it on the
//   ordinary free path.
// - Addresses are physical addresses as numbers (< 2^53); no bounds check against the memory map here — the
//   callers (mm/memory.ts) decide what is RAM. Accesses crossing a page boundary work byte by byte.
// - Little-endian, like every architecture the simulator models (x86, ARM in LE mode).
// - A kernel snapshot (src/kernel/snapshot.ts: boot once, restore many) shares the frames copy-on-write: after the
//   copy, the original's frames and the copy's are the same arrays, listed in both `shared` sets; the first write to
//   one (frameForWrite, or a view asked for writing) gives that PhysMem its own copy of the 4 KiB first.

import { SNAPSHOT } from "../snapshot.ts";

const PAGE_SHIFT = 12;
const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SIZE - 1;

export class PhysMem {
  /** PFN -> the frame's bytes. Only frames that were written exist. */
  private readonly frames = new Map<number, Uint8Array>();
  /** One DataView per materialised frame this PhysMem owns, for the aligned fast paths (reads and writes). */
  private readonly views = new Map<number, DataView>();
  /** Frames shared with a snapshot (copy-on-write): written only after a private copy is made. */
  private shared = new Set<number>();
  /** Read-only DataViews of shared frames. */
  private readonly sharedViews = new Map<number, DataView>();

  /**
   * [startPfn, endPfn) of the RAM banks (the memory map), when known. A write to a physical address outside them
   * (through page tables a module scribbled over, say) has nothing behind it: it is dropped, as a bus drops a
   * write nobody decodes, and such a frame keeps reading as zeros (a simplification: x86 reads all-ones there).
   * Without this, a runaway memset through corrupted tables would grow the host's memory frame by frame.
   */
  private ram: [number, number][] | undefined;
  /** Where dropped writes land; never read back. */
  private readonly scratch = new Uint8Array(PAGE_SIZE);

  /**
   * A bound on the frames that hold bytes (the sandbox's RAM budget): when a write materialises a frame past it,
   * onOverBudget runs (the sandbox flags its limit; the frame is still written, and the run stops at the next
   * watchdog tick or kernel call, so no write is ever lost half-way through a kernel operation).
   */
  frameBudget = Infinity;
  onOverBudget: (() => void) | undefined;

  // The kernel is accepted for symmetry with the other rooms (and future per-profile endianness); unused today.
  constructor(_k?: unknown) {}

  /**
   * Host memory the page allocator's struct page chunks hold beyond their templates (mm/page_array.ts), in frames'
   * worth (4 KiB each): charged against the same budget as the written frames, so allocations that never write a
   * byte but touch struct page all over a huge machine stop at the run's RAM limit too.
   */
  metadataFrames = 0;

  /** How many frames hold written bytes, plus the struct page metadata in frames' worth (the RAM budget's count). */
  get writtenFrames(): number {
    return this.frames.size + this.metadataFrames;
  }

  /** The page allocator gave a chunk its own arrays (bytes > 0) or returned one to a template (bytes < 0). */
  chargeMetadata(bytes: number): void {
    this.metadataFrames += bytes / PAGE_SIZE;
    if (bytes > 0 && this.frames.size + this.metadataFrames > this.frameBudget) this.onOverBudget?.();
  }

  /** The RAM banks (bytes), from the memory map: see `ram`. */
  setRam(banks: readonly { start: number; end: number }[]): void {
    this.ram = banks.map((b) => [Math.floor(b.start / PAGE_SIZE), Math.ceil(b.end / PAGE_SIZE)] as [number, number]);
  }

  private isRam(pfn: number): boolean {
    const ram = this.ram;
    if (!ram) return true;
    for (let i = 0; i < ram.length; i++) if (pfn >= ram[i]![0] && pfn < ram[i]![1]) return true;
    return false;
  }

  private frameForRead(pfn: number): Uint8Array | undefined {
    return this.frames.get(pfn);
  }

  private frameForWrite(pfn: number): Uint8Array {
    let f = this.frames.get(pfn);
    if (!f) {
      if (!this.isRam(pfn)) return this.scratch;
      f = new Uint8Array(PAGE_SIZE);
      this.frames.set(pfn, f);
      if (this.frames.size + this.metadataFrames > this.frameBudget) this.onOverBudget?.();
    } else if (this.shared.size !== 0 && this.shared.delete(pfn)) {
      f = f.slice(); // copy on write: the snapshot's twin keeps the old bytes
      this.frames.set(pfn, f);
      this.sharedViews.delete(pfn);
    }
    return f;
  }

  /**
   * Frame pfn's bytes for writing in place, as write8/fill would get them (made on first write, copied first if
   * shared with a snapshot; the scratch frame outside RAM): for a caller that writes several runs inside one frame.
   */
  writableFrame(pfn: number): Uint8Array {
    return this.frameForWrite(pfn);
  }

  private view(pfn: number, write: boolean): DataView | undefined {
    let v = this.views.get(pfn);
    if (v) return v;
    if (!write && this.shared.size !== 0 && this.shared.has(pfn)) {
      v = this.sharedViews.get(pfn);
      if (!v) {
        const f = this.frames.get(pfn)!;
        this.sharedViews.set(pfn, (v = new DataView(f.buffer, f.byteOffset, f.byteLength)));
      }
      return v;
    }
    const f = write ? this.frameForWrite(pfn) : this.frameForRead(pfn);
    if (!f) return undefined;
    if (f === this.scratch) return new DataView(f.buffer); // not cached: the frame does not exist
    v = new DataView(f.buffer, f.byteOffset, f.byteLength);
    this.views.set(pfn, v);
    return v;
  }

  /**
   * Frame pfn's bytes when they can never change again: a frame shared with a snapshot, which whoever writes copies
   * first. undefined for a frame this PhysMem may still write in place, and for one never written. The key of caches
   * of what a frame holds (mm/pgtable.ts's decoded table entries): every restored copy of a machine shares them.
   */
  frozenBytes(pfn: number): Uint8Array | undefined {
    return this.shared.size !== 0 && this.shared.has(pfn) ? this.frames.get(pfn) : undefined;
  }

  /**
   * What stands for frame pfn's bytes while they stay the same: frozenBytes(pfn), or null for a frame that holds no
   * bytes (it reads as zeros, and a write gives it a new array); undefined for a frame this PhysMem may write in
   * place. Two answers that are the same (===) mean the same bytes, in this machine or in another that shares the
   * frames (the invariant checker's record of a page-table walk, debug/invariants.ts).
   */
  frameIdentity(pfn: number): Uint8Array | null | undefined {
    const f = this.frames.get(pfn);
    if (!f) return null;
    return this.shared.size !== 0 && this.shared.has(pfn) ? f : undefined;
  }

  /** The snapshot's copy (src/kernel/snapshot.ts): the frames shared copy-on-write by both, the rest copied. */
  [SNAPSHOT](copy: (v: unknown) => unknown): PhysMem {
    for (const pfn of this.frames.keys()) this.shared.add(pfn);
    for (const pfn of this.views.keys()) this.views.delete(pfn); // the writable views are per owner: made again on demand
    const c = Object.create(PhysMem.prototype) as PhysMem;
    const self = this as unknown as Record<string, unknown>;
    const out = c as unknown as Record<string, unknown>;
    for (const key of Object.keys(this)) {
      if (key === "frames") out.frames = new Map(this.frames);
      else if (key === "shared") out.shared = new Set(this.shared);
      else if (key === "views" || key === "sharedViews") out[key] = new Map();
      else out[key] = copy(self[key]);
    }
    return c;
  }

  // ---- single bytes (the slow path every unaligned access falls back to) ----

  read8(pa: number): number {
    const f = this.frames.get(Math.floor(pa / PAGE_SIZE));
    return f ? f[pa & PAGE_MASK]! : 0;
  }

  write8(pa: number, v: number): void {
    this.frameForWrite(Math.floor(pa / PAGE_SIZE))[pa & PAGE_MASK] = v & 0xff;
  }

  // ---- 16/32/64-bit, little-endian; aligned-within-a-page accesses use a DataView ----

  read16(pa: number): number {
    const off = pa & PAGE_MASK;
    if (off <= PAGE_SIZE - 2) {
      const v = this.view(Math.floor(pa / PAGE_SIZE), false);
      return v ? v.getUint16(off, true) : 0;
    }
    return this.read8(pa) | (this.read8(pa + 1) << 8);
  }

  write16(pa: number, v: number): void {
    const off = pa & PAGE_MASK;
    if (off <= PAGE_SIZE - 2) {
      this.view(Math.floor(pa / PAGE_SIZE), true)!.setUint16(off, v & 0xffff, true);
      return;
    }
    this.write8(pa, v);
    this.write8(pa + 1, v >>> 8);
  }

  /**
   * Frame pfn's bytes as one DataView, for a loop over one page (a page table's entries): what read32/write32 at an
   * address in it use. `write` gives the frame's own writable copy (made as a write would); a read view of a frame
   * never written reads zeros, and is undefined where read32 would read 0 for lack of a frame.
   */
  pageView(pfn: number, write: boolean): DataView | undefined {
    return this.view(pfn, write);
  }

  read32(pa: number): number {
    const off = pa & PAGE_MASK;
    if (off <= PAGE_SIZE - 4) {
      const v = this.view(Math.floor(pa / PAGE_SIZE), false);
      return v ? v.getUint32(off, true) : 0;
    }
    return (this.read8(pa) | (this.read8(pa + 1) << 8) | (this.read8(pa + 2) << 16) | (this.read8(pa + 3) << 24)) >>> 0;
  }

  write32(pa: number, v: number): void {
    const off = pa & PAGE_MASK;
    if (off <= PAGE_SIZE - 4) {
      this.view(Math.floor(pa / PAGE_SIZE), true)!.setUint32(off, v >>> 0, true);
      return;
    }
    for (let i = 0; i < 4; i++) this.write8(pa + i, v >>> (8 * i));
  }

  read64(pa: number): bigint {
    const off = pa & PAGE_MASK;
    if (off <= PAGE_SIZE - 8) {
      const v = this.view(Math.floor(pa / PAGE_SIZE), false);
      return v ? v.getBigUint64(off, true) : 0n;
    }
    return BigInt(this.read32(pa)) | (BigInt(this.read32(pa + 4)) << 32n);
  }

  write64(pa: number, v: bigint): void {
    const off = pa & PAGE_MASK;
    const u = BigInt.asUintN(64, v);
    if (off <= PAGE_SIZE - 8) {
      this.view(Math.floor(pa / PAGE_SIZE), true)!.setBigUint64(off, u, true);
      return;
    }
    this.write32(pa, Number(u & 0xffffffffn));
    this.write32(pa + 4, Number(u >> 32n));
  }

  // ---- blocks ----

  readBytes(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = pa + done;
      const off = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_SIZE - off);
      const f = this.frames.get(Math.floor(a / PAGE_SIZE));
      if (f) out.set(f.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  writeBytes(pa: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const a = pa + done;
      const off = a & PAGE_MASK;
      const n = Math.min(bytes.length - done, PAGE_SIZE - off);
      this.frameForWrite(Math.floor(a / PAGE_SIZE)).set(bytes.subarray(done, done + n), off);
      done += n;
    }
  }

  /** memset(): a zero fill of a frame nobody wrote is free (it already reads as zero). */
  fill(pa: number, len: number, byte: number): void {
    const b = byte & 0xff;
    let done = 0;
    while (done < len) {
      const a = pa + done;
      const off = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_SIZE - off);
      const pfn = Math.floor(a / PAGE_SIZE);
      if (b === 0 && !this.frames.has(pfn)) {
        done += n;
        continue;
      }
      this.frameForWrite(pfn).fill(b, off, off + n);
      done += n;
    }
  }

  /** memmove(): overlapping ranges copy as if through a temporary buffer. */
  copy(dstPa: number, srcPa: number, len: number): void {
    if (len <= 0 || dstPa === srcPa) return;
    this.writeBytes(dstPa, this.readBytes(srcPa, len));
  }

  /** clear_page(): the frame reads as zeros afterwards (and costs no host memory). */
  zeroPage(pfn: number): void {
    this.dropPage(pfn);
  }

  /** Forget a frame's bytes: it reads as zeros again. Only for callers that know the old contents are dead. */
  dropPage(pfn: number): void {
    this.frames.delete(pfn);
    this.views.delete(pfn);
    this.shared.delete(pfn);
    this.sharedViews.delete(pfn);
  }

  /** Whether a frame holds written bytes. */
  isTouched(pfn: number): boolean {
    return this.frames.has(pfn);
  }

  /** PFNs of frames that hold bytes, ascending. */
  touchedFrames(): number[] {
    return [...this.frames.keys()].sort((a, b) => a - b);
  }
}
