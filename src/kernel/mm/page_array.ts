// The storage behind mm/page_alloc.ts's struct page fields, in the spirit of Linux's SPARSEMEM (mm/sparse.c, 6.1):
// memory is cut into sections and a section's mem_map exists only where it is needed. No kernel function is modelled
// here; this is how the simulator keeps one field of struct page for every PFN without paying for every PFN.
//
// A PageArray holds one number per PFN in chunks of 2^CHUNK_SHIFT frames (32 MiB of simulated RAM). A chunk is either
// its own typed array, or a shared read-only template: a uniform one (every frame the same value: a hole, a
// reservation, a range memblock has not freed yet) or a patterned one (page_alloc's free max-order blocks: one value
// at each block head, another on the tails). Reads never copy; the first write into a template chunk gives the chunk
// its own copy (copy on write), and page_alloc hands a chunk back to a template when its frames all return to it
// (PageArray.share). So host memory follows the frames that were split, allocated or written, not the RAM size: a
// 1 TiB machine's free memory is a few thousand template references.
//
// A snapshot (src/kernel/snapshot.ts) copies no chunk: the copy and the original share every chunk array, and a
// chunk either held as its own becomes shared with the snapshot (shared[ci] = SNAPSHOT_SHARED) in both, so that the
// first write on either side gives that side its own copy (PageArray.own: the same path as a template's). A restored
// machine pays for the chunks its run writes, not for every chunk the boot wrote. The templates are marked
// immutable(), so copies share them too. A PageAllocator's per-chunk "owned" bits (OwnedChunks) clear themselves
// at a snapshot, on both sides, for the same reason.

import { immutable, SNAPSHOT } from "../snapshot.ts";

/** log2 of the frames per chunk: 8192 frames, 32 MiB of simulated RAM; at least one MAX_ORDER block on every arch. */
export const CHUNK_SHIFT = 13;
export const CHUNK = 1 << CHUNK_SHIFT;
export const CHUNK_MASK = CHUNK - 1;

type Typed = Uint8Array | Int8Array | Int16Array | Int32Array;

/** shared[ci]: the chunk's own array (0), a template (1), or its own values in an array a snapshot shares (2). */
const OWN = 0;
const TEMPLATE = 1;
const SNAPSHOT_SHARED = 2;

/**
 * 1 where a chunk's arrays are known to be its own (a PageAllocator's one check before a write: allOwn, linksOwn).
 * A snapshot clears it in the original and the copy (their chunks are now shared, PageArray[SNAPSHOT]), so that the
 * next write on either side goes through PageArray.own() again.
 */
export class OwnedChunks extends Uint8Array {
  [SNAPSHOT](): OwnedChunks {
    this.fill(0);
    return new OwnedChunks(this.length);
  }
}

export class PageArray<A extends Typed> {
  /** One array per chunk: the chunk's own, or a shared template (shared[ci] = 1). */
  readonly chunks: A[];
  /** Nonzero where chunks[ci] must not be written in place: 1, a shared template; 2, the chunk's own values in an
   *  array shared with a snapshot (OWN, TEMPLATE, SNAPSHOT_SHARED). */
  readonly shared: Uint8Array;
  /** The uniform templates by value, and the value of each uniform template. */
  private readonly uniforms = new Map<number, A>();
  private readonly uniformValue = new Map<A, number>();
  /** Chunks that hold their own values (in an array of their own or one shared with a snapshot). */
  ownChunks = 0;

  /** An empty array of the element type (new arrays are made through its constructor: no function is stored, so a
   *  snapshot copies the object as it is). */
  private readonly kind: A;

  constructor(kind: A, nrPfns: number, initial: number) {
    this.kind = kind;
    const n = Math.ceil(nrPfns / CHUNK);
    const t = this.uniform(initial);
    this.chunks = [];
    for (let i = 0; i < n; i++) this.chunks.push(t); // a packed array (no hole checks on the hot path)
    this.shared = new Uint8Array(n).fill(1);
  }

  /** The shared template whose every frame holds `v`. */
  uniform(v: number): A {
    let t = this.uniforms.get(v);
    if (!t) {
      t = this.make(CHUNK);
      if (v !== 0) t.fill(v);
      immutable(t); // never written again (a chunk that differs gets its own copy first): kernel copies share it
      this.uniforms.set(v, t);
      this.uniformValue.set(t, v);
    }
    return t;
  }

  private make(n: number): A {
    return new (this.kind.constructor as new (n: number) => A)(n);
  }

  get(p: number): number {
    return this.chunks[p >>> CHUNK_SHIFT]![p & CHUNK_MASK]!;
  }

  set(p: number, v: number): void {
    const ci = p >>> CHUNK_SHIFT;
    if (this.shared[ci] !== 0) this.own(ci);
    this.chunks[ci]![p & CHUNK_MASK] = v;
  }

  /** The chunk's own writable array (copied from its template, or from the array a snapshot shares, on first use). */
  own(ci: number): A {
    const s = this.shared[ci];
    if (s !== OWN) {
      this.chunks[ci] = this.chunks[ci]!.slice() as A;
      this.shared[ci] = OWN;
      if (s === TEMPLATE) this.ownChunks++;
    }
    return this.chunks[ci]!;
  }

  /** Point chunk ci at a shared template (its own array, if any, is dropped). */
  share(ci: number, template: A): void {
    if (this.shared[ci] !== TEMPLATE) this.ownChunks--;
    this.chunks[ci] = template;
    this.shared[ci] = TEMPLATE;
  }

  /** Whether chunk ci is a shared template (read only; its values are the template's). */
  isTemplate(ci: number): boolean {
    return this.shared[ci] === TEMPLATE;
  }

  /** The value every frame of chunk ci holds, or undefined when the chunk is not a uniform template. */
  uniformOf(ci: number): number | undefined {
    return this.shared[ci] === TEMPLATE ? this.uniformValue.get(this.chunks[ci]!) : undefined;
  }

  /**
   * The snapshot's copy (src/kernel/snapshot.ts): the chunks' own arrays shared, copy-on-write on both sides; a
   * template chunk is what the copy makes of its template (an immutable() one is shared; one the kernel holds
   * elsewhere too, page_alloc's free-block pattern, is the copy of that, so `chunk === template` still holds in the copy).
   */
  [SNAPSHOT](copy: (v: unknown) => unknown): PageArray<A> {
    const shared = this.shared;
    const chunks = this.chunks.slice();
    for (let ci = 0; ci < shared.length; ci++) {
      if (shared[ci] === OWN) shared[ci] = SNAPSHOT_SHARED;
      else if (shared[ci] === TEMPLATE) chunks[ci] = copy(chunks[ci]) as A;
    }
    const c = Object.create(PageArray.prototype) as PageArray<A>;
    const self = this as unknown as Record<string, unknown>;
    const out = c as unknown as Record<string, unknown>;
    for (const key of Object.keys(this)) {
      if (key === "chunks") out.chunks = chunks;
      else if (key === "shared") out.shared = shared.slice();
      else out[key] = copy(self[key]);
    }
    return c;
  }

  /** Whether chunk ci holds exactly the values of `template` (a chunk that may go back to it). */
  equals(ci: number, template: A): boolean {
    const c = this.chunks[ci]!;
    if (c === template) return true;
    for (let i = 0; i < CHUNK; i++) if (c[i] !== template[i]) return false;
    return true;
  }

  /** Set [a, b) to v: whole chunks become the uniform template, partial ones are written. */
  fill(v: number, a: number, b: number): void {
    while (a < b) {
      const ci = a >>> CHUNK_SHIFT;
      const lo = a & CHUNK_MASK;
      const hi = Math.min(CHUNK, b - (ci << CHUNK_SHIFT));
      if (lo === 0 && hi === CHUNK) this.share(ci, this.uniform(v));
      else if (this.uniformOf(ci) !== v) this.own(ci).fill(v, lo, hi);
      a = (ci << CHUNK_SHIFT) + hi;
    }
  }

  /** Copy [a, b) out into a flat array (the views' frame map). */
  slice(a: number, b: number): A {
    const out = this.make(Math.max(0, b - a));
    for (let p = a; p < b;) {
      const ci = p >>> CHUNK_SHIFT;
      const lo = p & CHUNK_MASK;
      const hi = Math.min(CHUNK, b - (ci << CHUNK_SHIFT));
      out.set(this.chunks[ci]!.subarray(lo, hi), p - a);
      p = (ci << CHUNK_SHIFT) + hi;
    }
    return out;
  }

  /** Host bytes of the chunks this array owns (templates excluded). */
  ownBytes(): number {
    return this.ownChunks * CHUNK * this.kind.BYTES_PER_ELEMENT;
  }
}
