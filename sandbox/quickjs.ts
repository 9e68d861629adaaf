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

/** The shared module, loading it on first use (or after it was poisoned). */
export function loadQuickJS(): Promise<QuickJSWASMModule> {
  if (!loading) {
    const gen = generation;
    loading = newQuickJSWASMModuleFromVariant(variant).then(
      (m) => {
        if (gen === generation) loaded = m;
        try {
          loadedBytes.set(m, m.getWasmMemory().buffer.byteLength);
        } catch {
          // no memory to read: moduleGrewTooLarge() recycles it after its first run
        }
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

/** Forget the module: the next loadQuickJS() loads a fresh one. Called after anything that may have corrupted it. */
export function poisonQuickJS(): void {
  generation++;
  loading = undefined;
  loaded = undefined;
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
  cbs.callFunction = (ctx: number, thisPtr: number, argc: number, argv: number, fnId: number): number => {
    if (ctx !== ctxPtr) throw new Error("QuickJSContext instance received C -> JS call with mismatched ctx");
    const fn = getFunction(fnId);
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
      const h = errorToHandle(error);
      try {
        return ffi.QTS_Throw(ctxPtr, h.value as unknown as number);
      } finally {
        if (h.alive) h.dispose();
      }
    } finally {
      for (let i = 0; i < argc; i++) args[i].dispose();
      self.dispose();
    }
  };
  if (newFloat64) numberResults.add(context);
  return true;
}
