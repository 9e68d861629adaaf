// The QuickJS WebAssembly module: one per process (or Web Worker), loaded once and reused by every run.
// A fresh runtime + context per run is cheap (about 0.3 ms); the module itself is not (about 10 ms), so it is
// shared. After a WebAssembly abort, a host-side RangeError or a failed dispose, the module's linear memory
// may be corrupt: it is dropped and the next run loads a new one (stack-notes §1.7, §2).
// Browser and Node alike: no Node-only imports here.

import {
  Lifetime,
  WeakLifetime,
  newQuickJSWASMModuleFromVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from "quickjs-emscripten-core";
import RELEASE_SYNC from "@jitl/quickjs-wasmfile-release-sync";
import { deferLayout, layoutPending } from "./wasm_image.ts";

let loading: Promise<QuickJSWASMModule> | undefined;
/** The build loaded: the release variant, or the same with its WebAssembly module compiled ahead (setQuickJSVariant). */
let variant: QuickJSSyncVariant = RELEASE_SYNC;
let loaded: QuickJSWASMModule | undefined;
let generation = 0;

/**
 * WASM linear memory never shrinks: once it has grown this far past its size when the module was loaded, the module
 * is recycled between runs. Kept small because the guest memory limit (guardGuestMemory) counts growth: a run starts
 * with at most this much free space the guard cannot see.
 */
export const MODULE_RECYCLE_SLACK = 16 << 20;

// ---- the guest memory limit ---------------------------------------------------------------------------------------
//
// QuickJS's own accounting (setMemoryLimit) does not see most of what a guest allocates in this build: without
// malloc_usable_size (emscripten's dlmalloc does not give it to QuickJS; dumpMemoryUsage says "malloc_usable_size
// unavailable"), js_def_malloc adds only its 8-byte overhead per block to malloc_size, so the limit refuses a single
// allocation larger than itself and nothing else: forty 50 MiB ArrayBuffers (typed arrays, SharedArrayBuffers,
// strings alike) took 2 GiB of host memory against a 64 MiB limit. What does see every byte is the WebAssembly
// memory itself: dlmalloc asks emscripten_resize_heap for more, which calls wasmMemory.grow(). The guard replaces
// grow() on the module's Memory object with one that refuses to pass the run's ceiling (the size at the start of
// the run plus the limit); emscripten_resize_heap then fails, malloc returns NULL, and QuickJS throws its own
// "out of memory" in the guest, cleanly. Free space the memory already had when the run started is not seen (at
// most MODULE_RECYCLE_SLACK plus the 16 MiB the module starts with), and emscripten asks for 5-20 % more than it
// needs, so the limit holds within about that much.

interface MemoryGuard {
  ceiling: number;
  onRefused?: () => void;
}
const guards = new WeakMap<WebAssembly.Memory, MemoryGuard>();

/**
 * Limit the module's linear memory to what it holds now plus `limitBytes` until the returned release() is called.
 * onRefused runs when a growth was refused (the run reports its memory limit).
 */
export function guardGuestMemory(qjs: QuickJSWASMModule, limitBytes: number, onRefused: () => void): () => void {
  let mem: WebAssembly.Memory;
  try {
    // The debug (ASan) build, for the leak tests only, takes many times the memory per allocation: not guarded.
    if ((qjs.getFFI() as { DEBUG?: boolean }).DEBUG) return () => {};
    mem = qjs.getWasmMemory();
  } catch {
    return () => {};
  }
  if (!loadedBytes.has(qjs)) loadedBytes.set(qjs, mem.buffer.byteLength); // a module not loaded by loadQuickJS()
  let g = guards.get(mem);
  if (!g) {
    const guard: MemoryGuard = { ceiling: Infinity };
    const grow = WebAssembly.Memory.prototype.grow;
    Object.defineProperty(mem, "grow", {
      configurable: true,
      value: (pages: number): number => {
        if (mem.buffer.byteLength + pages * 65536 > guard.ceiling) {
          guard.onRefused?.();
          throw new RangeError("kmodlab: guest memory limit");
        }
        return grow.call(mem, pages);
      },
    });
    guards.set(mem, (g = guard));
  }
  g.ceiling = mem.buffer.byteLength + limitBytes;
  g.onRefused = onRefused;
  const guard = g;
  return () => {
    guard.ceiling = Infinity;
    guard.onRefused = undefined;
  };
}

/** The module's linear memory size when it was loaded (recycling compares against it). */
const loadedBytes = new WeakMap<QuickJSWASMModule, number>();
/** True when the module's memory grew past its load size + MODULE_RECYCLE_SLACK (or cannot be read). */
export function moduleGrewTooLarge(qjs: QuickJSWASMModule): boolean {
  try {
    const now = qjs.getWasmMemory().buffer.byteLength;
    const base = loadedBytes.get(qjs) ?? now;
    return now > base + MODULE_RECYCLE_SLACK;
  } catch {
    return true;
  }
}

/**
 * The shared module, loading it on first use (or after it was poisoned). Once a run has asked for its memory layout
 * (restore.ts, at the module's first run), the next call also waits for the layout's probe on a twin (wasm_image.ts).
 */
export function loadQuickJS(): Promise<QuickJSWASMModule> {
  const m = loaded;
  const pending = m && layoutPending(m);
  if (pending) return pending.then(() => m);
  if (!loading) {
    const gen = generation;
    const v = variant;
    loading = newQuickJSWASMModuleFromVariant(v).then(
      (m) => {
        if (gen === generation) loaded = m;
        try {
          loadedBytes.set(m, m.getWasmMemory().buffer.byteLength);
        } catch {
          // no memory to read: moduleGrewTooLarge() recycles it after its first run
        }
        // where its memory images are cut (restore.ts uses them): found on a twin of the same build once a run asks,
        // never in a process that runs one cell (wasm_image.ts)
        deferLayout(m, () => newQuickJSWASMModuleFromVariant(v));
        return m;
      },
      (e) => {
        loading = undefined;
        throw e;
      },
    );
  }
  return loading;
}

/**
 * Load QuickJS from this variant from now on (the module already loaded stays until poisoned). The Node run worker
 * (src/node/isolate-worker.ts) passes the release variant with its .wasm compiled while its own code loads.
 */
export function setQuickJSVariant(v: QuickJSSyncVariant): void {
  variant = v;
}

/** The module if it is loaded and healthy (for synchronous callers that awaited loadQuickJS before). */
export function loadedQuickJS(): QuickJSWASMModule | undefined {
  return loaded;
}

const poisoned = new WeakSet<QuickJSWASMModule>();

/**
 * Forget the module: the next loadQuickJS() loads a fresh one. Called after anything that may have corrupted it.
 * `qjs`, the module the run used (when it is not the loaded one), is marked too: isPoisoned() is true for both, and
 * nothing is restored into them again (restore.ts).
 */
export function poisonQuickJS(qjs?: QuickJSWASMModule): void {
  if (loaded) poisoned.add(loaded);
  if (qjs) poisoned.add(qjs);
  generation++;
  loading = undefined;
  loaded = undefined;
}

/** True for a module poisonQuickJS() threw away. */
export function isPoisoned(qjs: QuickJSWASMModule): boolean {
  return poisoned.has(qjs);
}

/** How many times the module was thrown away (tests and stats read it). */
export function quickJSGeneration(): number {
  return generation;
}

/** True for host-side errors that mean the WASM module can no longer be trusted. */
export function isPoisoningError(e: unknown): boolean {
  if (e instanceof RangeError) return true; // host stack overflow inside the wasm
  if (typeof WebAssembly !== "undefined" && e instanceof WebAssembly.RuntimeError) return true;
  const msg = e instanceof Error ? e.message : String(e);
  return /Aborted\(|unreachable|memory access out of bounds|list_empty/.test(msg);
}

// ---- lean host calls ----------------------------------------------------------------------------------------------
//
// quickjs-emscripten runs every guest -> host call through a generic dispatcher that supports asyncified host
// functions: a generator per call, a Scope, and a promise check on the result (QuickJSContext's
// cToHostCallbacks.callFunction). Measured here, that machinery is most of a host call's cost (bench/sandbox:
// "bare QuickJS host call" with and without it). The kernel API is synchronous (stack-notes §1.8: asyncify is not
// used), so the dispatcher of a run's context is replaced by a synchronous one that does the same steps in the
// same order: borrow `this` and the arguments as weak handles, call the host function, throw its { error } or
// return a dup of its result, turn a host exception into a guest error, release the borrowed handles.
//
// It reaches two fields the library does not document (cToHostCallbacks, getFunction), at the version pinned in
// package.json. If they are not there, nothing is replaced and the library's own path runs (slower, same
// behaviour); test/sandbox/lean-calls.test.ts says which path a run takes, so an upgrade that changes them shows.

interface ContextInternals {
  cToHostCallbacks?: { callFunction?: (ctx: number, thisPtr: number, argc: number, argv: number, fnId: number) => number };
  getFunction?: (fnId: number) => (this: QuickJSHandle, ...args: QuickJSHandle[]) => unknown;
  errorToHandle?: (error: unknown) => QuickJSHandle;
  ffi?: {
    QTS_ArgvGetJSValueConstPointer(argv: number, i: number): number;
    QTS_DupValuePointer(ctx: number, ptr: number): number;
    QTS_FreeValuePointer(ctx: number, ptr: number): void;
    QTS_Throw(ctx: number, ptr: number): number;
    QTS_NewFloat64?(ctx: number, n: number): number;
  };
  ctx?: { value: number };
  runtime?: unknown;
}

/** Contexts whose host functions may return a plain number (see installLeanHostCalls). */
const numberResults = new WeakSet<QuickJSContext>();

/**
 * Whether a host function of this context may return a plain JS number instead of a handle: the lean dispatcher
 * makes it the guest's number directly (one QTS_NewFloat64, whose value QuickJS takes over), where a handle costs a
 * newNumber, a dup for the guest and a dispose. False on the library's own dispatcher.
 */
export function hostNumberResults(context: QuickJSContext): boolean {
  return numberResults.has(context);
}

/** Replace the context's guest -> host dispatcher with the synchronous one. Returns true when installed. */
export function installLeanHostCalls(context: QuickJSContext): boolean {
  const c = context as unknown as ContextInternals;
  const cbs = c.cToHostCallbacks;
  const ffi = c.ffi;
  const ctxPtr = c.ctx?.value;
  if (
    !cbs ||
    typeof cbs.callFunction !== "function" ||
    typeof c.getFunction !== "function" ||
    typeof c.errorToHandle !== "function" ||
    !ffi ||
    typeof ctxPtr !== "number"
  )
    return false;
  if (typeof ffi.QTS_ArgvGetJSValueConstPointer !== "function" || typeof ffi.QTS_DupValuePointer !== "function" || typeof ffi.QTS_Throw !== "function")
    return false;
  const newFloat64 = typeof ffi.QTS_NewFloat64 === "function" ? ffi.QTS_NewFloat64.bind(ffi) : undefined;
  const getFunction = c.getFunction.bind(context);
  const errorToHandle = c.errorToHandle.bind(context);
  const rt = c.runtime as ConstructorParameters<typeof WeakLifetime>[3];
  const copy = (ptr: number) => ffi.QTS_DupValuePointer(ctxPtr, ptr);
  const free = (ptr: number) => ffi.QTS_FreeValuePointer(ctxPtr, ptr);
  const throwIn = (error: unknown): number => {
    const h = errorToHandle(error);
    try {
      return ffi.QTS_Throw(ctxPtr, h.value as unknown as number);
    } finally {
      if (h.alive) h.dispose();
    }
  };
  cbs.callFunction = (ctx: number, thisPtr: number, argc: number, argv: number, fnId: number): number => {
    if (ctx !== ctxPtr) throw new Error("QuickJSContext instance received C -> JS call with mismatched ctx");
    const fn = getFunction(fnId);
    const raw = (fn as { [RAW]?: RawHostFunction })[RAW];
    if (raw !== undefined) {
      // a raw host function (newRawFunction): its arguments as they lie in memory, no handle made; its later calls
      // take the module's direct path (directRawCalls)
      if (direct !== undefined) direct.note(fnId, raw);
      let r: number | { error: QuickJSHandle };
      try {
        r = raw(argc, argv);
      } catch (error) {
        return throwIn(error);
      }
      return typeof r === "number" ? r : throwIn(r.error);
    }
    const self = new WeakLifetime(thisPtr as never, copy as never, free as never, rt) as unknown as QuickJSHandle;
    const args = new Array<QuickJSHandle>(argc);
    for (let i = 0; i < argc; i++)
      args[i] = new WeakLifetime(ffi.QTS_ArgvGetJSValueConstPointer(argv, i) as never, copy as never, free as never, rt) as unknown as QuickJSHandle;
    try {
      const result = fn.apply(self, args) as QuickJSHandle | number | { error?: QuickJSHandle; value?: QuickJSHandle } | undefined;
      if (typeof result === "number") return newFloat64!(ctxPtr, result); // hostNumberResults: QuickJS takes the value over
      if (!result) return 0;
      if ("error" in result && result.error) throw result.error;
      const handle = (result instanceof Lifetime ? result : (result as { value: QuickJSHandle }).value) as QuickJSHandle;
      try {
        return ffi.QTS_DupValuePointer(ctxPtr, handle.value as unknown as number);
      } finally {
        if (handle.alive) handle.dispose();
      }
    } catch (error) {
      return throwIn(error);
    } finally {
      for (let i = 0; i < argc; i++) args[i].dispose();
      self.dispose();
    }
  };
  if (newFloat64) numberResults.add(context);
  leanContexts.add(context);
  const direct = directRawCalls(context, ctxPtr, throwIn);
  return true;
}

// ---- the module's direct path to raw host functions ---------------------------------------------------------------
//
// A guest -> host call passes four functions of the library before the lean dispatcher runs: the WebAssembly import,
// the module's callFunction (a closure per call for asyncify, a Map from context to dispatcher), then the lean
// dispatcher's getFunction (two Maps, from host reference id to function). For the newest lean context of a module,
// the module's callFunction itself is wrapped: a call of a raw host function it has seen (the lean dispatcher notes
// each at its first call, by host reference id) runs from there, with the lean dispatcher's steps; anything else takes
// the library's path. The slot is the last context's whose raw host function was called (a context with none, a debug
// kernel's, leaves it); it is emptied when that context is freed (its pointer, and its runtime's ids, are reused) and a
// host reference the runtime frees is dropped from it. Another context still alive takes the library's path.

interface DirectSlot {
  ctx: number;
  rt: number;
  raws: Map<number, RawHostFunction>;
  throwIn: (error: unknown) => number;
  /** A raw host function's first call: the slot is the module's from now on (a context with none never takes it). */
  note(fnId: number, raw: RawHostFunction): void;
}
interface ModuleCallbacksInternals {
  callFunction?: (asyncify: unknown, ctx: number, thisPtr: number, argc: number, argv: number, fnId: number) => number;
  freeHostRef?: (asyncify: unknown, rt: number, id: number) => void;
}
/** Per module's callbacks object, once its path is wrapped: the slot it serves, and every live lean context's slot. */
interface DirectState {
  slot: DirectSlot | undefined;
  live: Set<DirectSlot>;
}
const directSlots = new WeakMap<object, DirectState>();

/** Wrap the module's callFunction (once per module); this context's slot, which the lean dispatcher fills, or undefined. */
function directRawCalls(context: QuickJSContext, ctxPtr: number, throwIn: (error: unknown) => number): DirectSlot | undefined {
  const c = context as unknown as {
    module?: { callbacks?: ModuleCallbacksInternals };
    runtime?: { callbacks?: { deleteContext?: (ctx: number) => void } };
    rt?: { value?: number };
  };
  const cbs = c.module?.callbacks;
  const moduleCbs = c.runtime?.callbacks;
  const rtPtr = c.rt?.value;
  if (!cbs || typeof cbs.callFunction !== "function" || typeof cbs.freeHostRef !== "function" || typeof rtPtr !== "number") return undefined;
  if (!moduleCbs || typeof moduleCbs.deleteContext !== "function") return undefined;
  let state = directSlots.get(cbs);
  if (state === undefined) {
    const st: DirectState = { slot: undefined, live: new Set() };
    state = st;
    directSlots.set(cbs, st);
    const callFunction = cbs.callFunction.bind(cbs);
    const freeHostRef = cbs.freeHostRef.bind(cbs);
    const deleteContext = moduleCbs.deleteContext.bind(moduleCbs);
    cbs.callFunction = (asyncify, ctx, thisPtr, argc, argv, fnId) => {
      const slot = st.slot;
      if (asyncify === undefined && slot !== undefined && ctx === slot.ctx) {
        const raw = slot.raws.get(fnId);
        if (raw !== undefined) {
          try {
            let r: number | { error: QuickJSHandle };
            try {
              r = raw(argc, argv);
            } catch (error) {
              return slot.throwIn(error);
            }
            return typeof r === "number" ? r : slot.throwIn(r.error);
          } catch (error) {
            console.error("[C to host error: returning null]", error); // as the library's callFunction
            return 0;
          }
        }
      }
      return callFunction(asyncify, ctx, thisPtr, argc, argv, fnId);
    };
    cbs.freeHostRef = (asyncify, rt, id) => {
      for (const s of st.live) if (s.rt === rt) s.raws.delete(id); // a slot served again later holds no freed id
      freeHostRef(asyncify, rt, id);
    };
    moduleCbs.deleteContext = (ctx) => {
      for (const s of st.live) if (s.ctx === ctx) st.live.delete(s);
      if (st.slot !== undefined && ctx === st.slot.ctx) st.slot = undefined;
      deleteContext(ctx);
    };
  }
  const st = state;
  const slot: DirectSlot = {
    ctx: ctxPtr,
    rt: rtPtr,
    raws: new Map(),
    throwIn,
    note(fnId, raw) {
      if (!st.live.has(slot)) return; // its context was freed (the dispatcher cannot be reached then)
      slot.raws.set(fnId, raw);
      st.slot = slot;
    },
  };
  // a context at a freed one's address: the freed one's slot went with it (deleteContext)
  st.live.add(slot);
  directOf.set(context, { slot, st });
  return slot;
}

const directOf = new WeakMap<QuickJSContext, { slot: DirectSlot; st: DirectState }>();

/**
 * A context whose module memory was put back (restore.ts): the module's direct path serves no context until a raw
 * host function is called again (another context may have had the same address), and this one's slot is live again
 * (a context freed at its address in between took it out), with no host reference ids noted.
 */
export function resetDirectCalls(context: QuickJSContext): void {
  const d = directOf.get(context);
  if (d === undefined) return;
  d.slot.raws.clear();
  d.st.live.add(d.slot);
  d.st.slot = undefined;
}

/** A context restore.ts drops without freeing it (its memory is not the module's any more): its slot goes. */
export function forgetDirectCalls(context: QuickJSContext): void {
  const d = directOf.get(context);
  if (d === undefined) return;
  d.st.live.delete(d.slot);
  if (d.st.slot === d.slot) d.st.slot = undefined;
}

// ---- raw host functions ---------------------------------------------------------------------------------------------
//
// A host call through the lean dispatcher still makes a handle per argument and asks QuickJS for each argument's
// type through a C string (QTS_Typeof). A raw host function skips both: it gets argc and argv, and reads the
// arguments where they lie, in the module's memory (RawValues). It returns the result's JSValue pointer (QuickJS takes
// it over: 0 is undefined, rawNumber() a number, rawDup() a copy of a value the host holds) or { error: handle } to
// throw. The bridge uses it for the kernel calls a cell makes at its kernel-call sites (bindings.ts hostCall).
//
// Reading a JSValue from memory depends on this build's layout (32-bit WebAssembly, NaN-boxed JSValues: the tag in
// the high word, a float64 stored with JS_FLOAT64_TAG_ADDEND added to its high word; a bigint either short, its
// value in the low word, or a pointer to { ref_count, len, 32-bit limbs in two's complement }). rawValuesWork()
// checks that layout once per module against the library's own readers, on values of every kind; where it does not
// hold (another build, another version), nothing is read raw and the bridge keeps its wrappers.

const RAW = Symbol("kmodlab raw host function");

/** A raw host function's body: the argument count and the address of the first argument's JSValue. */
export type RawHostFunction = (argc: number, argv: number) => number | { error: QuickJSHandle };

const leanContexts = new WeakSet<QuickJSContext>();

/** A host function called with raw arguments (on a context with the lean dispatcher; undefined on any other). */
export function newRawFunction(context: QuickJSContext, name: string, length: number, body: RawHostFunction): QuickJSHandle | undefined {
  if (!leanContexts.has(context)) return undefined;
  const placeholder = Object.assign(
    () => {
      throw new Error("kmodlab: a raw host function was called through the library's dispatcher");
    },
    { [RAW]: body },
  );
  return context.newFunctionWithOptions({ name, length, isConstructor: false, fn: placeholder as never });
}

/** Tags of QuickJS's JSValue (quickjs.h); every float64 reads as TAG_FLOAT64. */
export const TAG_BIG_INT = -9,
  TAG_SYMBOL = -8,
  TAG_STRING = -7,
  TAG_OBJECT = -1,
  TAG_INT = 0,
  TAG_BOOL = 1,
  TAG_NULL = 2,
  TAG_UNDEFINED = 3,
  TAG_SHORT_BIG_INT = 7,
  TAG_FLOAT64 = 8;
const FLOAT64_TAG_ADDEND = 0x7ff8000a; // JS_FLOAT64_TAG_ADDEND: 0x7ff80000 - JS_TAG_FIRST (-9) + 1

/** JSValues read from the module's memory (see above). sync() before reading, after anything that may grow it. */
export class RawValues {
  private u32: Uint32Array;
  private i32: Int32Array;
  private readonly f64 = new Float64Array(1);
  private readonly f64w = new Uint32Array(this.f64.buffer);
  constructor(private readonly memory: WebAssembly.Memory) {
    this.u32 = new Uint32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }
  /** The views again when the memory grew (its old buffer is detached: the views' length is 0). */
  sync(): void {
    if (this.u32.length === 0) {
      this.u32 = new Uint32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
  }
  /** The tag of the JSValue at byte address p. */
  tag(p: number): number {
    const hi = this.i32[(p >>> 2) + 1];
    return hi >= TAG_BIG_INT && hi < TAG_FLOAT64 ? hi : TAG_FLOAT64;
  }
  /** The number at p (tag TAG_INT or TAG_FLOAT64). */
  number(p: number): number {
    const i = p >>> 2;
    const hi = this.i32[i + 1];
    if (hi === TAG_INT) return this.i32[i];
    this.f64w[0] = this.u32[i];
    this.f64w[1] = (hi + FLOAT64_TAG_ADDEND) >>> 0;
    return this.f64[0];
  }
  /**
   * The bigint at p (tag TAG_SHORT_BIG_INT or TAG_BIG_INT) as bindings.ts encodeAddr's number: the signed 64-bit
   * value, when it is in [0, 2^53] or [2^64 - 2^53, 2^64); undefined for any other bigint (negative, wider, or
   * between the two ranges).
   */
  addrNumber(p: number): number | undefined {
    const i = p >>> 2;
    if (this.i32[i + 1] === TAG_SHORT_BIG_INT) {
      const v = this.i32[i];
      return v >= 0 ? v : undefined;
    }
    const b = this.u32[i] >>> 2; // JSBigInt: ref_count, len, tab[len]
    const len = this.u32[b + 1];
    const l0 = this.u32[b + 2];
    if (len === 1) return (l0 | 0) >= 0 ? l0 : undefined;
    const l1 = this.i32[b + 3];
    // two limbs: a value below 2^63; three with a top limb 0: one in [2^63, 2^64), as a 64-bit signed value l1 is
    // negative. Exact within 2^53 of 0: |l1| at most 2^21.
    if (len === 2 && l1 >= 0 && l1 < 0x200000) return l1 * 4294967296 + l0;
    if (len === 2 && l1 === 0x200000 && l0 === 0) return 2 ** 53;
    if (len === 3 && this.u32[b + 4] === 0 && l1 < 0 && l1 >= -0x200000) return l1 * 4294967296 + l0;
    return undefined;
  }
  /**
   * How many 32-bit limbs the bigint at p holds (1 for a short one): its width, read without converting it. The
   * library's getBigInt goes through the decimal text, quadratic in the width (a 1,000,000-bit bigint took 12 s).
   */
  bigintLimbs(p: number): number {
    const i = p >>> 2;
    if (this.i32[i + 1] === TAG_SHORT_BIG_INT) return 1;
    return this.u32[(this.u32[i] >>> 2) + 1];
  }
  /**
   * The length of the flat string at p (JSString: `len : 31` after the reference count), read without converting
   * it: the library's getString copies the whole text twice (UTF-8 in the module's heap, then decoded), which for a
   * string of tens of MB is seconds of host time nothing interrupts. undefined for another tag (a rope, which a
   * concatenation of long strings makes: validate.ts then asks its length property). Trusted only where
   * rawStringsFor's check held for the module.
   */
  stringLength(p: number): number | undefined {
    const i = p >>> 2;
    if (this.i32[i + 1] !== TAG_STRING) return undefined;
    return this.u32[(this.u32[i] >>> 2) + 1] & 0x7fffffff;
  }
}

const rawChecked = new WeakMap<QuickJSWASMModule, boolean>();

/**
 * RawValues for this context's module when its layout holds (checked once per module against the library's readers:
 * numbers, booleans, null, undefined, strings, objects, symbols and bigints short, long, negative and wide), else undefined.
 */
export function rawValuesFor(qjs: QuickJSWASMModule, context: QuickJSContext): RawValues | undefined {
  if (!leanContexts.has(context)) return undefined;
  let memory: WebAssembly.Memory;
  try {
    memory = qjs.getWasmMemory();
  } catch {
    return undefined;
  }
  const raw = new RawValues(memory);
  let ok = rawChecked.get(qjs);
  if (ok === undefined) {
    ok = checkRawLayout(context, raw);
    rawChecked.set(qjs, ok);
  }
  return ok ? raw : undefined;
}

const stringsChecked = new WeakMap<QuickJSWASMModule, boolean>();

/** The verdicts of rawValuesFor's and rawStringsFor's checks on a module (both reached, or undefined). */
export interface RawVerdicts {
  values: boolean;
  strings: boolean;
}

/** The verdicts this process reached on `qjs` (undefined until both checks ran on it). */
export function rawVerdicts(qjs: QuickJSWASMModule): RawVerdicts | undefined {
  const values = rawChecked.get(qjs);
  const strings = values === false ? false : stringsChecked.get(qjs);
  return values === undefined || strings === undefined ? undefined : { values, strings };
}

/**
 * Give `qjs` the verdicts another process reached on an instance of the same .wasm (kept with the module's state on
 * disk, src/node/quickjs-cache.ts, under a key that holds the .wasm's length and CRC-32): the layout is the build's,
 * so the probes (~50 evaluations in a cold module: ~19 ms of CPU of a one-run `kmodlab run`, measured on whole
 * processes) need not run again. A module that checked already keeps its own.
 */
export function presetRawVerdicts(qjs: QuickJSWASMModule, v: RawVerdicts): void {
  if (!rawChecked.has(qjs)) rawChecked.set(qjs, v.values);
  if (!stringsChecked.has(qjs)) stringsChecked.set(qjs, v.values && v.strings);
}

/**
 * Flat strings, 8-bit and wide, of lengths that set the low bits and bits past the eighth: RawValues.stringLength
 * against the library's reader. Literals only: a probe that builds a long string (`'x'.repeat(70000)`) cost the
 * process's first run ~40 ms of cold WebAssembly, where one-run commands pay it every time.
 */
const STRING_PROBES = ["''", "'s'", "'\\u00e9'", "'\\u0101x'", "'\\ud83d\\ude00'", `'${"ab".repeat(300)}\\u0101'`];

/**
 * RawValues that may measure this context's flat strings (stringLength), or undefined: checked once per module
 * against the library's getString on STRING_PROBES, apart from rawValuesFor's layout (a string layout that moved
 * turns off only this).
 */
export function rawStringsFor(qjs: QuickJSWASMModule, context: QuickJSContext): RawValues | undefined {
  const raw = rawValuesFor(qjs, context);
  if (raw === undefined) return undefined;
  let ok = stringsChecked.get(qjs);
  if (ok === undefined) {
    ok = true;
    for (const src of STRING_PROBES) {
      const r = context.evalCode(src);
      if (r.error) {
        r.error.dispose();
        ok = false;
        break;
      }
      raw.sync();
      const n = raw.stringLength(r.value.value as unknown as number);
      const want = context.getString(r.value).length;
      r.value.dispose();
      if (n !== want) {
        ok = false;
        break;
      }
    }
    stringsChecked.set(qjs, ok);
  }
  return ok ? raw : undefined;
}

const RAW_PROBES = [
  "0",
  "64",
  "-1",
  "2147483647",
  "-2147483648",
  "2**31",
  "1.5",
  "-0",
  "NaN",
  "Infinity",
  "2**53",
  "-(2**53)",
  "-0x777000000000",
  "0xc0000000",
  "true",
  "false",
  "null",
  "undefined",
  "'s'",
  "({})",
  "Symbol()",
  "(() => 1)",
  "0n",
  "5n",
  "-5n",
  "2n**31n",
  "2n**32n - 1n",
  "2n**52n + 3n",
  "2n**53n",
  "2n**53n + 1n",
  "2n**63n",
  "0xffff888000001000n",
  "2n**64n - 2n**53n",
  "2n**64n - 2n**53n - 1n",
  "2n**64n - 1n",
  "2n**64n",
  "-(2n**40n)",
  "2n**70n",
  "-(2n**63n)",
  "2n**300n + 7n",
  "-(2n**300n)",
  "2n**287n - 1n",
  "-(2n**287n)",
];

/** The 32-bit two's complement limbs QuickJS keeps for v (normalized: no redundant sign limb); 1 when it is short. */
function limbsOf(v: bigint, tag: number): number {
  if (tag === TAG_SHORT_BIG_INT) return 1;
  return Math.ceil(((v < 0n ? -v - 1n : v).toString(2).length + 1) / 32);
}

function checkRawLayout(context: QuickJSContext, raw: RawValues): boolean {
  const TWO64 = 1n << 64n;
  const expectAddr = (v: bigint): number | undefined =>
    v >= 0n && v <= 1n << 53n ? Number(v) : v >= TWO64 - (1n << 53n) && v < TWO64 ? Number(v - TWO64) : undefined;
  try {
    for (const src of RAW_PROBES) {
      const r = context.evalCode(src);
      if (r.error) {
        r.error.dispose();
        return false;
      }
      const h = r.value;
      try {
        raw.sync();
        const p = h.value as unknown as number;
        const t = context.typeof(h);
        const tag = raw.tag(p);
        const want =
          t === "number"
            ? [TAG_INT, TAG_FLOAT64]
            : t === "bigint"
              ? [TAG_SHORT_BIG_INT, TAG_BIG_INT]
              : t === "boolean"
                ? [TAG_BOOL]
                : t === "undefined"
                  ? [TAG_UNDEFINED]
                  : t === "string"
                    ? [TAG_STRING]
                    : t === "symbol"
                      ? [TAG_SYMBOL]
                      : t === "object"
                        ? [context.sameValue(h, context.null) ? TAG_NULL : TAG_OBJECT]
                        : [TAG_OBJECT];
        if (!want.includes(tag)) return false;
        if (t === "number" && !Object.is(raw.number(p), context.getNumber(h))) return false;
        if (t === "bigint" && raw.addrNumber(p) !== expectAddr(context.getBigInt(h))) return false;
        if (t === "bigint" && raw.bigintLimbs(p) !== limbsOf(context.getBigInt(h), tag)) return false;
      } finally {
        h.dispose();
      }
    }
    return true;
  } catch {
    return false;
  }
}

/** A number as a JSValue pointer QuickJS takes over (a raw host function's result). */
export function rawNumber(context: QuickJSContext, n: number): number {
  return (context as unknown as Required<ContextInternals>).ffi.QTS_NewFloat64!((context as unknown as Required<ContextInternals>).ctx.value, n);
}

/** A copy of a held value as a JSValue pointer QuickJS takes over (a raw host function's result). */
export function rawDup(context: QuickJSContext, h: QuickJSHandle): number {
  const c = context as unknown as Required<ContextInternals>;
  return c.ffi.QTS_DupValuePointer(c.ctx.value, h.value as unknown as number);
}

/** rawDup() by a held value's JSValue pointer (its handle's .value), the context's internals looked up once. */
export function rawDupper(context: QuickJSContext): (ptr: number) => number {
  const c = context as unknown as Required<ContextInternals>;
  const ffi = c.ffi;
  const ctxPtr = c.ctx.value;
  return (ptr) => ffi.QTS_DupValuePointer(ctxPtr, ptr);
}

/** Handles borrowing a raw host function's arguments (as the lean dispatcher makes them); the caller disposes each. */
export function borrowArgs(context: QuickJSContext, argc: number, argv: number): QuickJSHandle[] {
  const c = context as unknown as Required<ContextInternals>;
  const ffi = c.ffi;
  const ctxPtr = c.ctx.value;
  const rt = c.runtime as ConstructorParameters<typeof WeakLifetime>[3];
  const copy = (ptr: number) => ffi.QTS_DupValuePointer(ctxPtr, ptr);
  const free = (ptr: number) => ffi.QTS_FreeValuePointer(ctxPtr, ptr);
  const out = new Array<QuickJSHandle>(argc);
  for (let i = 0; i < argc; i++)
    out[i] = new WeakLifetime(ffi.QTS_ArgvGetJSValueConstPointer(argv, i) as never, copy as never, free as never, rt) as unknown as QuickJSHandle;
  return out;
}
