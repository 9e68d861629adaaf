// Models glibc's malloc (malloc/malloc.c, ptmalloc2) as a user program on the simulated kernel sees it: glibc 2.36
// (Debian 12) for the 6.1 profiles, glibc 2.7 for 2.6.26 and the same allocator without tcache for 3.4 (Android's
// bionic used dlmalloc, ptmalloc's ancestor, with the same chunk layout: a stated simplification). It runs in user
// space: every header it writes is a store to the process's memory, so it faults pages in where glibc would.
//
// What is modelled exactly:
// - Chunks: SIZE_SZ = sizeof(size_t) (8 or 4), MALLOC_ALIGNMENT = 16 on x86_64, arm64 and i386 (glibc >= 2.26's
//   i386 malloc-alignment.h; 2.7 on i386 used 8), 8 on 32-bit ARM; request2size(n) = max(MINSIZE,
//   (n + SIZE_SZ + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK); the size field at chunk + SIZE_SZ with PREV_INUSE (1)
//   and IS_MMAPPED (2); malloc returns chunk + 2 * SIZE_SZ.
// - The tcache (2.26+): the first malloc allocates tcache_perthread_struct (0x280 bytes on 64-bit, 0x180 on
//   32-bit) from the heap and zeroes it, so the first user chunk on x86_64 starts 0x290 bytes into the heap.
// - sysmalloc: a request of at least mmap_threshold (M_MMAP_THRESHOLD, 128 KiB) that the top chunk cannot serve is
//   an mmap of ALIGN_UP(nb + SIZE_SZ, pagesize) (plus the alignment slack when MALLOC_ALIGNMENT > 2 * SIZE_SZ);
//   otherwise brk grows by ALIGN_UP(nb + top_pad (128 KiB) + MINSIZE - old top size, pagesize): the classic 132 KiB
//   first [heap]. The new top's size is written after every split (a store just past the chunk).
// - free of an mmapped chunk: munmap, and the dynamic threshold (mmap_threshold = the chunk's size, trim_threshold
//   twice that, up to DEFAULT_MMAP_THRESHOLD_MAX). free of a heap chunk coalesces with free neighbours and the
//   top; a top above trim_threshold (128 KiB) after freeing at least FASTBIN_CONSOLIDATION_THRESHOLD (64 KiB) is
//   trimmed by systrim (brk shrinks, keeping top_pad).
// - Errors as glibc prints them on stderr before abort(): "free(): invalid pointer", "free(): double free detected
//   in tcache 2" / "double free or corruption (!prev)". abort() ends the process with SIGABRT (status 134).
//
// Simplifications, said plainly: the bins (tcache, fastbins, small/large/unsorted) are one best-fit free list
// (lowest address among the smallest chunks that fit), so which freed chunk a later malloc reuses can differ from
// glibc's LIFO bins; freed chunks are not kept out of coalescing as tcache and fastbin chunks are; no arenas other
// than main_arena (one thread); calloc zeroes heap chunks with stores (glibc skips fresh top memory) but not fresh
// mmapped chunks (already zero, as glibc knows); no realloc in place; no M_* tuning through mallopt.

/** What malloc needs of the process: its system calls and its own stores. */
export interface MallocSys {
  /** brk(addr): the new break, or the old one when refused. brk(0n) reads it. */
  brk(addr: bigint): bigint;
  /** mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS): address or -errno. */
  mmap(len: bigint): bigint;
  munmap(addr: bigint, len: bigint): number;
  store(addr: bigint, size: 4 | 8, value: bigint): void;
  fill(addr: bigint, byte: number, len: number): void;
  /** glibc's fatal message on stderr, then abort(). Never returns. */
  abort(message: string): never;
}

export interface MallocConfig {
  sizeSz: 4 | 8;
  alignment: 8 | 16;
  tcache: boolean;
}

export function mallocConfig(arch: "i386" | "arm" | "x86_64" | "arm64", era: "2.6" | "3.4" | "6.1"): MallocConfig {
  const sizeSz = arch === "x86_64" || arch === "arm64" ? 8 : 4;
  const alignment = arch === "arm" || (arch === "i386" && era !== "6.1") ? 8 : 16;
  return { sizeSz, alignment, tcache: era === "6.1" };
}

interface Chunk {
  chunk: bigint;
  size: bigint;
  mmapped: boolean;
  /** Bytes before the chunk in its mapping (mmapped chunks: prev_size). */
  front: bigint;
}

const PREV_INUSE = 1n;
const IS_MMAPPED = 2n;
const PAGE = 4096n;
const DEFAULT_THRESHOLD = 128n * 1024n;
const FASTBIN_CONSOLIDATION_THRESHOLD = 65536n;
const ENOMEM = 12;

const alignUp = (v: bigint, a: bigint) => (v + a - 1n) & ~(a - 1n);
const alignDown = (v: bigint, a: bigint) => v & ~(a - 1n);

export class GlibcMalloc {
  private readonly sys: MallocSys;
  readonly SIZE_SZ: bigint;
  readonly ALIGN: bigint;
  readonly MINSIZE: bigint;
  private readonly tcache: boolean;
  mmapThreshold = DEFAULT_THRESHOLD;
  trimThreshold = DEFAULT_THRESHOLD;
  readonly topPad = DEFAULT_THRESHOLD;
  private readonly thresholdMax: bigint;
  /** main_arena's top chunk (0n before the first sbrk) and its size. */
  top = 0n;
  topSize = 0n;
  heapStart = 0n;
  private tcacheReady = false;
  private readonly inUse = new Map<bigint, Chunk>();
  /** Free heap chunks (not the top), by address. */
  private readonly freeList: { chunk: bigint; size: bigint }[] = [];
  private readonly freed = new Set<bigint>();
  /** n_mmaps, and every system call malloc made (for lessons and checks). */
  nMmaps = 0;
  readonly calls: { call: "brk" | "mmap" | "munmap"; addr: bigint; len: bigint }[] = [];
  errno = 0;

  constructor(sys: MallocSys, cfg: MallocConfig) {
    this.sys = sys;
    this.SIZE_SZ = BigInt(cfg.sizeSz);
    this.ALIGN = BigInt(cfg.alignment);
    // MIN_CHUNK_SIZE = offsetof(malloc_chunk, fd_nextsize) = 4 * SIZE_SZ, rounded up to the alignment.
    this.MINSIZE = alignUp(4n * this.SIZE_SZ, this.ALIGN);
    this.tcache = cfg.tcache;
    this.thresholdMax = cfg.sizeSz === 8 ? 4n * 1024n * 1024n * 8n : 512n * 1024n;
  }

  /** request2size() */
  request2size(n: bigint): bigint {
    const s = n + this.SIZE_SZ + this.ALIGN - 1n;
    return s < this.MINSIZE ? this.MINSIZE : s & ~(this.ALIGN - 1n);
  }

  /** The usable size of an allocated pointer (malloc_usable_size), or 0. */
  usableSize(mem: bigint): bigint {
    const c = this.inUse.get(mem);
    if (!c) return 0n;
    return c.size - (c.mmapped ? 2n * this.SIZE_SZ : this.SIZE_SZ);
  }

  chunkOf(mem: bigint): { chunk: bigint; size: bigint; mmapped: boolean } | undefined {
    const c = this.inUse.get(mem);
    return c ? { chunk: c.chunk, size: c.size, mmapped: c.mmapped } : undefined;
  }

  malloc(n: bigint): bigint {
    if (n < 0n || n > (1n << (this.SIZE_SZ * 8n - 1n)) - 1n - 2n * this.MINSIZE) {
      this.errno = ENOMEM;
      return 0n;
    }
    if (this.tcache && !this.tcacheReady) {
      // tcache_init(): _int_malloc(sizeof (tcache_perthread_struct)) then memset(0).
      this.tcacheReady = true;
      const bytes = this.SIZE_SZ === 8n ? 0x280n : 0x180n;
      const t = this.intMalloc(this.request2size(bytes));
      if (t) this.sys.fill(t, 0, Number(bytes));
    }
    const mem = this.intMalloc(this.request2size(n));
    if (!mem) this.errno = ENOMEM;
    return mem;
  }

  calloc(nmemb: bigint, size: bigint): bigint {
    const total = nmemb * size;
    if (total >> (this.SIZE_SZ * 8n) !== 0n) {
      this.errno = ENOMEM;
      return 0n;
    }
    const mem = this.malloc(total);
    if (mem && !this.inUse.get(mem)!.mmapped) this.sys.fill(mem, 0, Number(total));
    return mem;
  }

  private setHead(chunk: bigint, value: bigint): void {
    this.sys.store(chunk + this.SIZE_SZ, this.SIZE_SZ === 8n ? 8 : 4, value);
  }

  private intMalloc(nb: bigint): bigint {
    // Best fit among the free heap chunks.
    let best = -1;
    for (let i = 0; i < this.freeList.length; i++) {
      const f = this.freeList[i]!;
      if (f.size >= nb && (best < 0 || f.size < this.freeList[best]!.size)) best = i;
    }
    if (best >= 0) {
      const f = this.freeList[best]!;
      this.freeList.splice(best, 1);
      let size = f.size;
      if (size - nb >= this.MINSIZE) {
        const rest = f.chunk + nb;
        this.setHead(rest, (size - nb) | PREV_INUSE);
        this.insertFree(rest, size - nb);
        size = nb;
      }
      this.setHead(f.chunk, size | PREV_INUSE);
      return this.give({ chunk: f.chunk, size, mmapped: false, front: 0n });
    }
    // The top chunk, keeping at least MINSIZE as the new top.
    if (this.top && this.topSize >= nb + this.MINSIZE) return this.fromTop(nb);
    return this.sysmalloc(nb);
  }

  private fromTop(nb: bigint): bigint {
    const chunk = this.top;
    this.top += nb;
    this.topSize -= nb;
    this.setHead(chunk, nb | PREV_INUSE);
    this.setHead(this.top, this.topSize | PREV_INUSE);
    return this.give({ chunk, size: nb, mmapped: false, front: 0n });
  }

  private give(c: Chunk): bigint {
    const mem = c.chunk + 2n * this.SIZE_SZ;
    this.inUse.set(mem, c);
    this.freed.delete(mem);
    return mem;
  }

  private sysmalloc(nb: bigint): bigint {
    if (nb >= this.mmapThreshold) {
      const hdr = 2n * this.SIZE_SZ;
      const size = this.ALIGN === hdr ? alignUp(nb + this.SIZE_SZ, PAGE) : alignUp(nb + this.SIZE_SZ + this.ALIGN - 1n, PAGE);
      const mm = this.sys.mmap(size);
      this.calls.push({ call: "mmap", addr: mm, len: size });
      if (mm > 0n) {
        this.nMmaps++;
        const misalign = (mm + hdr) & (this.ALIGN - 1n);
        const front = misalign ? this.ALIGN - misalign : 0n;
        const chunk = mm + front;
        // prev_size holds the correction, size the rest with IS_MMAPPED.
        this.sys.store(chunk, this.SIZE_SZ === 8n ? 8 : 4, front);
        this.setHead(chunk, (size - front) | IS_MMAPPED);
        return this.give({ chunk, size: size - front, mmapped: true, front });
      }
      // mmap failed: fall through to brk, as glibc does.
    }
    let size = nb + this.topPad + this.MINSIZE;
    if (this.top) size -= this.topSize;
    size = alignUp(size, PAGE);
    const old = this.sys.brk(0n);
    const got = this.sys.brk(old + size);
    this.calls.push({ call: "brk", addr: old, len: size });
    if (got !== old + size) return 0n;
    if (!this.top) {
      this.heapStart = old;
      this.top = old;
      this.topSize = size;
    } else {
      this.topSize += size;
    }
    this.setHead(this.top, this.topSize | PREV_INUSE);
    if (this.topSize < nb + this.MINSIZE) return 0n;
    return this.fromTop(nb);
  }

  free(mem: bigint): void {
    if (mem === 0n) return;
    const c = this.inUse.get(mem);
    if (!c) {
      if (this.freed.has(mem)) {
        const size = this.freedSize.get(mem) ?? 0n;
        this.sys.abort(this.tcache && size <= 0x410n ? "free(): double free detected in tcache 2" : "double free or corruption (!prev)");
      }
      this.sys.abort("free(): invalid pointer");
    }
    this.inUse.delete(mem);
    this.freed.add(mem);
    this.freedSize.set(mem, c.size);
    if (c.mmapped) {
      if (c.size > this.mmapThreshold && c.size <= this.thresholdMax) {
        this.mmapThreshold = c.size;
        this.trimThreshold = 2n * c.size;
      }
      const r = this.sys.munmap(c.chunk - c.front, c.size + c.front);
      this.calls.push({ call: "munmap", addr: c.chunk - c.front, len: c.size + c.front });
      this.nMmaps--;
      if (r < 0) this.sys.abort("munmap_chunk(): invalid pointer");
      return;
    }
    // Coalesce with free neighbours, then with the top.
    let chunk = c.chunk;
    let size = c.size;
    const before = this.freeList.findIndex((f) => f.chunk + f.size === chunk);
    if (before >= 0) {
      chunk = this.freeList[before]!.chunk;
      size += this.freeList[before]!.size;
      this.freeList.splice(before, 1);
    }
    const after = this.freeList.findIndex((f) => f.chunk === chunk + size);
    if (after >= 0) {
      size += this.freeList[after]!.size;
      this.freeList.splice(after, 1);
    }
    if (chunk + size === this.top) {
      this.top = chunk;
      this.topSize += size;
      this.setHead(this.top, this.topSize | PREV_INUSE);
    } else {
      this.setHead(chunk, size | PREV_INUSE);
      this.insertFree(chunk, size);
    }
    if (size >= FASTBIN_CONSOLIDATION_THRESHOLD && this.topSize >= this.trimThreshold) this.systrim();
  }

  private readonly freedSize = new Map<bigint, bigint>();

  private insertFree(chunk: bigint, size: bigint): void {
    let i = 0;
    while (i < this.freeList.length && this.freeList[i]!.chunk < chunk) i++;
    this.freeList.splice(i, 0, { chunk, size });
  }

  /** systrim(): give the top's excess back with a negative sbrk, keeping top_pad. */
  private systrim(): void {
    const topArea = this.topSize - this.MINSIZE - 1n;
    if (topArea <= this.topPad) return;
    const extra = alignDown(topArea - this.topPad, PAGE);
    if (extra === 0n) return;
    const cur = this.sys.brk(0n);
    if (cur !== this.top + this.topSize) return; // someone else moved the break
    const got = this.sys.brk(cur - extra);
    this.calls.push({ call: "brk", addr: cur, len: -extra });
    if (got !== cur - extra) return;
    this.topSize -= extra;
    this.setHead(this.top, this.topSize | PREV_INUSE);
  }
}
