// The QuickJS module's compiled copy as data another process can put back (issue 15). restore.ts keeps, per module,
// a copy of its memory with a runtime and context made and the bridge's prelude compiled in them, nothing else: every
// key's first run starts from it. A process that runs one cell (`kmodlab run`) has no such copy: it makes the runtime
// and the context and compiles the prelude (measured in a fresh process, with the run's V8 flags: 13-19 ms, most of it
// V8 compiling the QuickJS functions that run for the first time, against ~7 ms with the copy put back, the cell's
// compile included). Here the copy is made on a twin, a fresh instance of the same build, in one process, and given to
// the next process's module right after it is loaded; src/node/quickjs-cache.ts keeps it on disk.
//
// What is kept: the module's layout (wasm_image.ts), the copy's image (its low part and heap part) and four addresses
// in it: the runtime, the context, the compiled prelude and the 4-byte buffer the library's context keeps
// (QuickJSContext's uint32Out). Putting it back: the layout is adopted (its base image taken from the module, which
// the caller checks against the one the copy was made on), the library's JavaScript objects are made over the
// addresses as its newRuntime()/newContext() make them, without creating anything in the module (the context's own
// buffer is replaced by the copy's), and the image goes in; restore.ts then holds it as keepCompiled holds one. From
// there a run goes as a key's first run goes on a module with a copy (restore.ts), byte for byte.
//
// Only what the library's JavaScript side can be rebuilt for is kept: makeState gives nothing when the runtime holds
// host references (a host function made before the prelude), or the context made one of its lazily made handles
// (`global` and the like), or its scopes hold more than their own lifetimes.

import { Lifetime, QuickJSRuntime, type QuickJSContext, type QuickJSHandle, type QuickJSWASMModule } from "quickjs-emscripten-core";
import { adoptLayout, baseImage, findLayout, layoutOf, type MemoryImage, type MemoryLayout } from "./wasm_image.ts";
import { adoptCompiled, compiledCopy, keepCompiled, releasePrepared, takePrepared } from "./restore.ts";
import { installLeanHostCalls } from "./quickjs.ts";
import { compilePrelude } from "./bindings.ts";
import { GUEST_STACK_BYTES, resolveLimits } from "./limits.ts";

/** A module's compiled copy, with what it takes to put it back in another instance of the same build. */
export interface QuickJSState {
  readonly layout: MemoryLayout;
  readonly image: MemoryImage;
  /** Addresses in the image: the runtime, the context, the compiled prelude, the context's uint32Out buffer. */
  readonly rt: number;
  readonly ctx: number;
  readonly prelude: number;
  readonly out: number;
}

interface ModuleInternals {
  module: { HEAPU8: Uint8Array; _free(p: number): void };
  callbacks: { deleteRuntime(p: number): void };
}
interface RuntimeInternals {
  rt: { value: number };
  scope: { _disposables: { value: Set<unknown> } };
  contextMap: Map<number, unknown>;
  hostRefs: { groups: Map<number, unknown> };
}
interface ContextInternals {
  ctx: { value: number };
  uint32Out: Lifetime<{ typedArray: Uint32Array; ptr: number }>;
  memory: { scope: { _disposables: { value: Set<unknown> } } };
  [lazy: string]: unknown;
}

/** The library context's handles made on first use: none may exist in a copy that is kept. */
const LAZY = ["_undefined", "_null", "_false", "_true", "_global", "_BigInt", "_Symbol", "_SymbolIterator", "_SymbolAsyncIterator"];

/**
 * The compiled copy made on `fresh`, a module in which nothing has run (a twin of the one runs use), as a key's first
 * run makes it (run.ts openBridge on a module with a layout: the runtime with the default stack and memory limits,
 * its context with the lean dispatcher, the prelude compiled; test/node/quickjs-state.test.ts compares the two byte
 * for byte). Undefined where it cannot be kept (see the header).
 */
export function makeState(fresh: QuickJSWASMModule): QuickJSState | undefined {
  if (!findLayout(fresh)) return undefined;
  const layout = layoutOf(fresh)!;
  if (takePrepared(fresh, "\0kmodlab-persist")?.kind !== "build") return undefined;
  try {
    const rt = fresh.newRuntime();
    rt.setMaxStackSize(GUEST_STACK_BYTES);
    rt.setMemoryLimit(resolveLimits(undefined).memoryBytes);
    const ctx = rt.newContext();
    installLeanHostCalls(ctx);
    if (!keepCompiled(fresh, rt, ctx, compilePrelude(ctx))) return undefined;
  } finally {
    releasePrepared(fresh, undefined);
  }
  const copy = compiledCopy(fresh);
  if (!copy) return undefined;
  const { rt, ctx, guest } = copy.prepared;
  const r = rt as unknown as RuntimeInternals;
  const c = ctx as unknown as ContextInternals;
  if (r.hostRefs.groups.size !== 0 || r.contextMap.size !== 1 || r.scope._disposables.value.size !== 1) return undefined;
  if (c.memory.scope._disposables.value.size !== 2 || LAZY.some((k) => c[k] !== undefined)) return undefined;
  return { layout, image: copy.image, rt: r.rt.value, ctx: c.ctx.value, prelude: guest.value as unknown as number, out: c.uint32Out.value.ptr };
}

/**
 * Give `qjs`, a module loaded from the build `state` was made on and in which nothing has run, the compiled copy of
 * `state` (see the header). `acceptBase`: whether the module's base image is the one the state's module had (the
 * caller compares a checksum); nothing is changed when it says no. True when the module's runs now start from the copy.
 */
export function adoptState(qjs: QuickJSWASMModule, state: QuickJSState, acceptBase: (base: MemoryImage) => boolean): boolean {
  if (!adoptLayout(qjs, state.layout, acceptBase) || baseImage(qjs) === undefined) return false;
  const q = qjs as unknown as ModuleInternals & { callbacks: { deleteContext(p: number): void } };
  try {
    const ffi = qjs.getFFI();
    // as QuickJSWASMModule.newRuntime and QuickJSRuntime.newContext make them (the context over the given pointer)
    const rtLife = new Lifetime(state.rt, undefined, (p: number) => {
      ffi.QTS_FreeRuntime(p as never);
      q.callbacks.deleteRuntime(p);
    });
    const rt = new QuickJSRuntime({ module: q.module, callbacks: q.callbacks, ffi, rt: rtLife } as unknown as ConstructorParameters<typeof QuickJSRuntime>[0]);
    const ctx = rt.newContext({ contextPointer: state.ctx } as never) as QuickJSContext;
    // the context made its own 4-byte buffer in this module (gone once the image is in): the copy's instead
    const c = ctx as unknown as ContextInternals;
    const scope = c.memory.scope._disposables.value;
    scope.delete(c.uint32Out);
    const out = new Lifetime({ typedArray: new Uint32Array(q.module.HEAPU8.buffer, state.out, 1), ptr: state.out }, undefined, (v) => q.module._free(v.ptr));
    scope.add(out);
    c.uint32Out = out;
    const prelude = (ctx as unknown as { memory: { heapValueHandle(p: number): QuickJSHandle } }).memory.heapValueHandle(state.prelude);
    if (installLeanHostCalls(ctx) && adoptCompiled(qjs, state.image, { rt, ctx, guest: prelude })) return true;
  } catch {
    // not this library's objects: the module's runs build their runtimes (it keeps the layout, which is its own)
  }
  // the objects made above serve nothing: the module's callbacks forget them
  q.callbacks.deleteContext(state.ctx);
  q.callbacks.deleteRuntime(state.rt);
  return false;
}
