// The QuickJS module's linear memory as a copy that can be put back (sandbox/restore.ts keeps one per prepared run).
//
// Everything QuickJS owns lives in the WebAssembly module's one linear memory: its runtimes, contexts, compiled
// functions and objects, dlmalloc's state (its global state in the data segment, its chunks in the heap) and the
// sbrk pointer that ends the heap. This build's layout (emscripten, wasm-ld's default: no --stack-first):
//
//   [0, data end)            data and bss: QuickJS's statics, dlmalloc's state, the sbrk pointer
//   [data end, stack top)    the C stack, growing down from its top; nothing in it lives between two calls into the
//                            module (the images are only taken and put back from plain JS, never inside a call)
//   [heap start, sbrk)       dlmalloc's heap (and what emscripten took with sbrk at start-up, just below it)
//   [sbrk, memory size)      nothing: free space, or what an earlier run left above the heap's end
//
// An image is the first and third parts, copied. Putting it back copies them in place and zeroes what the heap had
// grown to above the image's end, so the module is, byte for byte in every part that is read, as it was when the
// image was taken. The wasm's one global, the stack pointer, is at its resting value at both moments.
//
// None of the addresses is exported by this build (its exports are minified, no sbrk or stack getters), so they are
// found by a probe of a module in which nothing has run yet (findLayout):
// - the sbrk pointer: the one word below the heap that moves just past the end of a 4 MiB malloc and back to its
//   value when the block is freed (the allocator gives the heap's last block back; another pointer that moved with
//   the malloc stays where it went);
// - the heap's start: the sbrk pointer's value at load, less 64 KiB (the start-up's own sbrk'd blocks are a few
//   hundred bytes, just below it; the rest of those 64 KiB is the stack's top, copied for nothing);
// - the data's end: the last non-zero byte in the memory's lower half at load (data, bss written at start-up), with
//   64 KiB beyond it for bss still zero (this build's bss is 3 KiB).
// test/sandbox/restore.test.ts checks the three against the .wasm's own data segments and stack pointer. Where one
// cannot be found (another build), the module has no layout and every run builds its runtime afresh.
//
// The probe and the base image cost ~5 ms (10-15 at a cold start), which a process that runs one cell (the CLI's
// `run`) never gets back: the shared module's layout is found only once a run has asked for it (deferLayout), and
// then on a twin: a second instance of the same build, loaded for that, in which nothing has run. A run asks when
// restore.ts first wants the layout (layoutOf), which is the module's first run; the next loadQuickJS() waits for
// the twin's probe (layoutPending) and the runs after it have the layout. The twin's addresses are the module's
// (one binary: the same data segments, stack and heap start), and so is its base image: emscripten's start-up writes
// the same bytes in every instance (restore.test.ts compares two byte for byte). Putting that image into the module
// is what restore.ts already does to a module its runs have used: the heap as at load, nothing of theirs alive.

import type { QuickJSWASMModule } from "quickjs-emscripten-core";

/** Where a module's images are cut (see the header). */
export interface MemoryLayout {
  /** The address of emscripten's sbrk pointer (the heap's end). */
  readonly sbrkAddr: number;
  /** The end of the copied low part: data, bss and a margin. */
  readonly lowEnd: number;
  /** The start of the copied heap part. */
  readonly heapStart: number;
}

/** A copy of the module's memory (see the header): its low part, its heap part, and the heap's end then. */
export interface MemoryImage {
  readonly low: Uint8Array;
  readonly heap: Uint8Array;
  readonly top: number;
  /** Bytes held. */
  readonly bytes: number;
}

interface EmscriptenInternals {
  _malloc?: (n: number) => number;
  _free?: (p: number) => void;
}

const layouts = new WeakMap<QuickJSWASMModule, MemoryLayout>();
/** The image taken right after findLayout: no runtime, an empty heap (a twin's, for a deferred layout). */
const bases = new WeakMap<QuickJSWASMModule, MemoryImage>();

const PROBE_BYTES = 4 << 20;
const MARGIN = 64 << 10;

/** The shared module's twin maker (deferLayout), whether a run asked for the layout, and the twin's probe. */
interface Deferred {
  readonly twin: () => Promise<QuickJSWASMModule>;
  wanted: boolean;
  finding?: Promise<void>;
}
const deferred = new WeakMap<QuickJSWASMModule, Deferred>();

/**
 * Find the module's layout and take its base image. Only on a module in which no runtime was ever made (right after
 * it is loaded: a twin, or a module of a test). Returns false where the layout cannot be found (the module then has
 * none: restore.ts builds every run afresh).
 */
export function findLayout(qjs: QuickJSWASMModule): boolean {
  try {
    const em = (qjs as unknown as { module?: EmscriptenInternals }).module;
    if ((qjs.getFFI() as { DEBUG?: boolean }).DEBUG) return false; // the ASan build: another layout, and tests only
    if (!em || typeof em._malloc !== "function" || typeof em._free !== "function") return false;
    const mem = qjs.getWasmMemory();
    const scanWords = Math.min(mem.buffer.byteLength, 1 << 20) >>> 2;
    const before = new Uint32Array(mem.buffer).slice(0, scanWords);
    const p = em._malloc(PROBE_BYTES);
    if (!p) return false;
    let cands: number[] = [];
    try {
      const u32 = new Uint32Array(mem.buffer);
      for (let i = 0; i < scanWords; i++) {
        const v = u32[i]!;
        if (v !== before[i] && v >= p + PROBE_BYTES && v <= p + PROBE_BYTES + (256 << 10)) cands.push(i);
      }
    } finally {
      em._free(p);
    }
    // the heap's end goes back where it was when the block is freed (it was the heap's last); other pointers stay
    const after = new Uint32Array(mem.buffer);
    cands = cands.filter((i) => after[i] === before[i]);
    if (cands.length !== 1) return false;
    const sbrkAddr = cands[0]! * 4;
    const u32 = new Uint32Array(mem.buffer);
    const top = u32[sbrkAddr >>> 2]!;
    // the start-up's sbrk'd blocks and dlmalloc's first chunks sit right above the stack's top
    const heapStart = Math.max(0, (before[sbrkAddr >>> 2]! - MARGIN) & ~15);
    let w = (Math.min(heapStart >>> 1, mem.buffer.byteLength) >>> 2) - 1;
    while (w > 0 && u32[w] === 0) w--;
    const lowEnd = ((w * 4 + 4 + 4095) & ~4095) + MARGIN;
    if (sbrkAddr >= lowEnd || lowEnd + (1 << 20) > heapStart || top < heapStart || top > mem.buffer.byteLength) return false;
    const layout: MemoryLayout = { sbrkAddr, lowEnd, heapStart };
    layouts.set(qjs, layout);
    bases.set(qjs, takeImage(qjs, layout));
    return true;
  } catch {
    return false;
  }
}

/**
 * The module's layout will be found on a twin made by `twin` (a fresh instance of the build `qjs` was loaded from)
 * once a run asks for it (see the header). Called by quickjs.ts loadQuickJS for the shared module, which nothing ran
 * in yet.
 */
export function deferLayout(qjs: QuickJSWASMModule, twin: () => Promise<QuickJSWASMModule>): void {
  if (!layouts.has(qjs)) deferred.set(qjs, { twin, wanted: false });
}

/** Whether the module's layout is still to be found on a twin (deferLayout, not yet found or given up). */
export function layoutDeferred(qjs: QuickJSWASMModule): boolean {
  return deferred.has(qjs);
}

/**
 * The twin's probe, when a run asked for the layout of a module whose layout is deferred: resolves once the layout
 * is found or given up (never rejects). Undefined when there is nothing to wait for.
 */
export function layoutPending(qjs: QuickJSWASMModule): Promise<void> | undefined {
  const d = deferred.get(qjs);
  if (d === undefined || !d.wanted) return undefined;
  return (d.finding ??= d.twin().then(
    (t) => {
      if (deferred.get(qjs) === d && findLayout(t)) {
        layouts.set(qjs, layouts.get(t)!);
        bases.set(qjs, bases.get(t)!);
      }
      deferred.delete(qjs);
    },
    () => void deferred.delete(qjs), // no twin: the module keeps no layout, its runs build afresh
  ));
}

/**
 * A layout known from elsewhere (src/node/quickjs-cache.ts: the one found by the process that made a persisted state,
 * on a twin of the same build), given to a module in which nothing has run yet, instead of probing: its base image is
 * taken now, and a deferred probe is dropped. `accept` sees that base image first and says whether the module is the
 * one the layout was found on (the caller compares a checksum); nothing is set when it says no.
 */
export function adoptLayout(qjs: QuickJSWASMModule, layout: MemoryLayout, accept: (base: MemoryImage) => boolean): MemoryImage | undefined {
  // a run asked for the layout of a deferred one (layoutOf): something has run in it
  if (layouts.has(qjs) || deferred.get(qjs)?.wanted) return undefined;
  const buf = qjs.getWasmMemory().buffer;
  const top = new Uint32Array(buf)[layout.sbrkAddr >>> 2]!;
  if (layout.sbrkAddr >= layout.lowEnd || layout.lowEnd > layout.heapStart || top < layout.heapStart || top > buf.byteLength) return undefined;
  const base = takeImage(qjs, layout);
  if (!accept(base)) return undefined;
  layouts.set(qjs, layout);
  bases.set(qjs, base);
  deferred.delete(qjs);
  return base;
}

/** The module's layout, when found. A module whose layout is deferred gets it found before the next loadQuickJS(). */
export function layoutOf(qjs: QuickJSWASMModule): MemoryLayout | undefined {
  const l = layouts.get(qjs);
  if (l === undefined) {
    const d = deferred.get(qjs);
    if (d) d.wanted = true;
  }
  return l;
}

/** The module's layout, found now if it was deferred (tests, and callers that hold the module for many runs). */
export async function moduleLayout(qjs: QuickJSWASMModule): Promise<MemoryLayout | undefined> {
  if (layoutOf(qjs) === undefined) await layoutPending(qjs);
  return layouts.get(qjs);
}

/** The image taken at load (an empty heap), when the module has a layout. */
export function baseImage(qjs: QuickJSWASMModule): MemoryImage | undefined {
  return bases.get(qjs);
}

/** The heap's end now. */
export function heapTop(qjs: QuickJSWASMModule, layout: MemoryLayout): number {
  return new Uint32Array(qjs.getWasmMemory().buffer)[layout.sbrkAddr >>> 2]!;
}

/** A copy of the module's memory now. Only between two calls into the module (see the header). */
export function takeImage(qjs: QuickJSWASMModule, layout: MemoryLayout): MemoryImage {
  const buf = qjs.getWasmMemory().buffer;
  const top = new Uint32Array(buf)[layout.sbrkAddr >>> 2]!;
  const low = new Uint8Array(buf).slice(0, layout.lowEnd);
  const heap = new Uint8Array(buf).slice(layout.heapStart, top);
  return { low, heap, top, bytes: low.length + heap.length };
}

/**
 * Put an image back: its parts copied in place, and what the heap held above the image's end zeroed (the heap's
 * end before, when higher). Only between two calls into the module. False when the memory cannot take it.
 */
export function putImage(qjs: QuickJSWASMModule, layout: MemoryLayout, img: MemoryImage): boolean {
  const buf = qjs.getWasmMemory().buffer;
  if (buf.byteLength < img.top) return false; // memory never shrinks: cannot happen to an image of this module
  const u8 = new Uint8Array(buf);
  const was = new Uint32Array(buf)[layout.sbrkAddr >>> 2]!;
  u8.set(img.low, 0);
  u8.set(img.heap, layout.heapStart);
  if (was > img.top) u8.fill(0, img.top, Math.min(was, buf.byteLength));
  return true;
}
