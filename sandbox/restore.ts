// A prepared QuickJS runtime put back instead of built (issue 18). A run's runtime, context and bridge (the prelude
// compiled and run, its host functions) are the same for every run of one key (bindings.ts guestKey: the rows, the
// sites, the constants): building them is most of the sandbox's fixed cost per run. Two kinds of copies of the
// module's memory are kept:
// - the compiled one: a runtime and context with the prelude compiled in them and nothing else, made once per module
//   on its empty heap (its base image, wasm_image.ts). A key's first run starts from it: the compile (the largest
//   part) is not done again, even for a cell no run had before (the fuzzer's);
// - one per key: taken right after the key's second run built its bridge (a key run once keeps nothing: most of the
//   fuzzer's are). The key's later runs put it back;
// - one per cell (the key and the code the run evaluates): taken right after a cell's code was compiled for the
//   second time on its key's copy (run.ts evaluateTopLevel: the wrapper function made, none of the cell's code run:
//   the top level's evaluation has side effects, its compile none). The cell's later runs put it back and call the
//   kept wrapper: no compile. A copy is of the memory before anything of the run's own ran, so nothing a run does
//   reaches the next.
// The QuickJSRuntime and QuickJSContext objects are the compiled copy's for all of them, and are never disposed
// (their memory is not the module's any more once another image is put back).
//
// The library's JavaScript side is put back too, to what it was when the copy was taken: the runtime's host
// reference map (ids the guest's functions hold), its scope and context map, the context's cached handles and
// scope, the module's callback maps (which runtime and context a C callback reaches), and quickjs.ts's direct
// path. A run's interrupt handler, limits and memory limit are set per run (run.ts openBridge, bindings.ts).
//
// When a run builds afresh instead, with no copy kept:
// - the module has no layout (another build, the ASan build, a module not loaded by loadQuickJS);
// - it was poisoned (quickjs.ts poisonQuickJS: a trap, a host stack overflow, a refused growth): its copies go;
// - a run is already in progress in it (a run started from inside another's host call);
// - a runtime made by someone else is alive in it (putting an image back would destroy it).
// At most MAX_SNAPSHOTS copies and MAX_BYTES of them per module; the least recently used goes first.

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";
import { baseImage, layoutDeferred, layoutOf, putImage, takeImage, type MemoryImage, type MemoryLayout } from "./wasm_image.ts";
import { forgetDirectCalls, isPoisoned, resetDirectCalls } from "./quickjs.ts";

export const MAX_SNAPSHOTS = 16;
export const MAX_BYTES = 32 << 20;
/** Keys remembered as run once (their second run keeps a copy); forgotten all at once past this. */
const MAX_SEEN = 4096;
/** The same for cells: fewer, their keys hold the code (a few KB each; a re-run past them only compiles once more). */
const MAX_SEEN_CELLS = 64;

/** A runtime and context with what the run's bridge made in them (G: bindings.ts BridgeGuest). */
export interface Prepared<G> {
  readonly rt: QuickJSRuntime;
  readonly ctx: QuickJSContext;
  readonly guest: G;
}

/**
 * What takePrepared put back: a key's prepared runtime; or, for a key with none yet, the module's runtime with only
 * the prelude compiled in it (the key's bridge is built on it, then keepPrepared); or the module's empty heap ("build":
 * make the runtime and context, compile the prelude and keepCompiled, build the bridge, keepPrepared).
 */
export type Taken<G> =
  | ({ kind: "prepared"; cell?: QuickJSHandle } & Prepared<G>)
  | { kind: "compiled"; rt: QuickJSRuntime; ctx: QuickJSContext; compiled: QuickJSHandle }
  | { kind: "build" };

/** The copy with the prelude compiled and nothing else: every key's bridge is built from it. */
const COMPILED = "\0compiled";

type Entries = [unknown, unknown][];
interface JsState {
  rtProps: Entries;
  ctxProps: Entries;
  memProps: Entries;
  rtScope: unknown[];
  ctxScope: unknown[];
  contextMap: Entries;
  hostRefs: { nextId: number; freelist: number[]; groups: [number, Entries][] };
}

interface Snapshot {
  readonly key: string;
  readonly image: MemoryImage;
  readonly prepared: Prepared<unknown>;
  readonly js: JsState;
  readonly rtPtr: number;
  readonly ctxPtr: number;
  /** A cell's copy: its compiled wrapper function (run.ts evaluateTopLevel calls it instead of compiling). */
  readonly cell?: QuickJSHandle;
}

interface Store {
  readonly layout: MemoryLayout;
  readonly base: MemoryImage;
  readonly snaps: Map<string, Snapshot>;
  bytes: number;
  busy: boolean;
  /** Keys run once with no copy kept (keep). */
  readonly seen: Set<string>;
  /** Cells compiled once with no copy kept (keepCell). */
  readonly seenCells: Set<string>;
  /**
   * The runtimes' callback objects of the copies, with how many copies hold each (the copies built from the compiled
   * one share its runtime): the module's runtimeCallbacks values that are not someone else's.
   */
  readonly ours: Map<unknown, number>;
}

interface ModuleCallbacks {
  runtimeCallbacks: Map<number, unknown>;
  contextCallbacks: Map<number, unknown>;
}

const stores = new WeakMap<QuickJSWASMModule, Store>();
/**
 * Keys run before the module's layout was found (wasm_image.ts finds the shared module's after its first run): its
 * store starts with them as seen, so a key's second run keeps its copy as it would have.
 */
const seenEarly = new WeakMap<QuickJSWASMModule, Set<string>>();

function storeOf(qjs: QuickJSWASMModule): Store | undefined {
  let s = stores.get(qjs);
  if (s === undefined) {
    const layout = layoutOf(qjs);
    const base = baseImage(qjs);
    if (!layout || !base) return undefined;
    const seen = seenEarly.get(qjs) ?? new Set<string>();
    seenEarly.delete(qjs);
    stores.set(qjs, (s = { layout, base, snaps: new Map(), bytes: 0, busy: false, seen, seenCells: new Set(), ours: new Map() }));
  }
  return s;
}

function callbacksOf(qjs: QuickJSWASMModule): ModuleCallbacks | undefined {
  const c = (qjs as unknown as { callbacks?: Partial<ModuleCallbacks> }).callbacks;
  return c && c.runtimeCallbacks instanceof Map && c.contextCallbacks instanceof Map ? (c as ModuleCallbacks) : undefined;
}

/** Whether images may be put back in this module now (see the header's list). */
function usable(qjs: QuickJSWASMModule, s: Store): boolean {
  if (s.busy) return false;
  if (isPoisoned(qjs)) {
    dropAll(qjs, s);
    return false;
  }
  const cbs = callbacksOf(qjs);
  if (!cbs) return false;
  for (const v of cbs.runtimeCallbacks.values()) if (!s.ours.has(v)) return false;
  return true;
}

/**
 * The start of a run of `key` (see Taken), or undefined: build afresh, keep nothing. Unless undefined, the module is
 * the run's until releasePrepared.
 */
export function takePrepared<G>(qjs: QuickJSWASMModule, key: string, cellKey?: string): Taken<G> | undefined {
  const s = storeOf(qjs);
  if (!s && layoutDeferred(qjs)) {
    let seen = seenEarly.get(qjs);
    if (seen === undefined) seenEarly.set(qjs, (seen = new Set()));
    if (seen.size < MAX_SEEN) seen.add(key);
  }
  if (!s || !usable(qjs, s)) return undefined;
  // the cell's own copy (its code compiled on the key's), then the key's
  const cell = cellKey === undefined ? undefined : s.snaps.get(cellKey);
  if (cell !== undefined && putBack(qjs, s, cell)) {
    s.snaps.delete(cellKey!);
    s.snaps.set(cellKey!, cell);
    s.busy = true;
    return { kind: "prepared", ...(cell.prepared as Prepared<G>), cell: cell.cell };
  }
  if (cell !== undefined) drop(qjs, s, cell);
  const snap = s.snaps.get(key);
  if (snap !== undefined && putBack(qjs, s, snap)) {
    s.snaps.delete(key); // most recently used last
    s.snaps.set(key, snap);
    s.busy = true;
    return { kind: "prepared", ...(snap.prepared as Prepared<G>) };
  }
  if (snap !== undefined) drop(qjs, s, snap);
  const compiled = s.snaps.get(COMPILED);
  if (compiled !== undefined && putBack(qjs, s, compiled)) {
    s.busy = true;
    const p = compiled.prepared as Prepared<QuickJSHandle>;
    return { kind: "compiled", rt: p.rt, ctx: p.ctx, compiled: p.guest };
  }
  if (compiled !== undefined) drop(qjs, s, compiled);
  if (!putImage(qjs, s.layout, s.base)) return undefined;
  s.busy = true;
  return { kind: "build" };
}

/** A copy put back, memory and JavaScript side; false when it cannot be (its runtime was freed). */
function putBack(qjs: QuickJSWASMModule, s: Store, snap: Snapshot): boolean {
  const { rt, ctx, guest } = snap.prepared;
  if (!rt.alive || !ctx.alive || (snap.key === COMPILED && !(guest as QuickJSHandle).alive) || (snap.cell && !snap.cell.alive)) return false;
  if (!putImage(qjs, s.layout, snap.image)) return false;
  restoreJs(snap);
  const cbs = callbacksOf(qjs)!;
  cbs.runtimeCallbacks.set(snap.rtPtr, (rt as unknown as { cToHostCallbacks: unknown }).cToHostCallbacks);
  cbs.contextCallbacks.set(snap.ctxPtr, (ctx as unknown as { cToHostCallbacks: unknown }).cToHostCallbacks);
  resetDirectCalls(ctx);
  return true;
}

/** Keep a copy of the module's memory now, with the runtime's compiled prelude, for every key's first run (after "build"). */
export function keepCompiled(qjs: QuickJSWASMModule, rt: QuickJSRuntime, ctx: QuickJSContext, compiled: QuickJSHandle): boolean {
  return keep(qjs, COMPILED, { rt, ctx, guest: compiled });
}

/** Keep a copy of the module's memory now, with the run's prepared runtime, for the key's later runs (after "build" or "compiled"). */
export function keepPrepared<G>(qjs: QuickJSWASMModule, key: string, p: Prepared<G>): boolean {
  return keep(qjs, key, p);
}

/**
 * Keep a copy of the module's memory now, with the run's prepared runtime and the cell's code compiled in it (`cell`,
 * the wrapper function; nothing of the cell run yet), for the cell's later runs: at the cell's second compile on a
 * runtime the store holds. True when kept: the store owns `cell` then (the run must not free it).
 */
export function keepCell<G>(qjs: QuickJSWASMModule, cellKey: string, p: Prepared<G>, cell: QuickJSHandle): boolean {
  const s = stores.get(qjs);
  if (!s || !s.busy || s.snaps.has(cellKey)) return false;
  if (!s.seenCells.has(cellKey)) {
    if (s.seenCells.size >= MAX_SEEN_CELLS) s.seenCells.clear();
    s.seenCells.add(cellKey);
    return false;
  }
  s.seenCells.delete(cellKey);
  return keep(qjs, cellKey, p, cell);
}

function keep<G>(qjs: QuickJSWASMModule, key: string, p: Prepared<G>, cell?: QuickJSHandle): boolean {
  const s = stores.get(qjs);
  if (!s || !s.busy || isPoisoned(qjs)) return false;
  // a key's copy is kept at its second run: most keys the fuzzer makes are run once, and their first run costs no
  // copy (the compiled copy already spares them the prelude's compile)
  if (key !== COMPILED && cell === undefined && !s.seen.has(key)) {
    if (s.seen.size >= MAX_SEEN) s.seen.clear();
    s.seen.add(key);
    return false;
  }
  const js = captureJs(p.rt, p.ctx);
  const rtPtr = ptrOf((p.rt as unknown as { rt?: { value: number } }).rt);
  const ctxPtr = ptrOf((p.ctx as unknown as { ctx?: { value: number } }).ctx);
  const rtCbs = (p.rt as unknown as { cToHostCallbacks?: unknown }).cToHostCallbacks;
  if (!js || rtPtr === undefined || ctxPtr === undefined || rtCbs === undefined) return false;
  const image = takeImage(qjs, s.layout);
  const snap: Snapshot = { key, image, prepared: p as Prepared<unknown>, js, rtPtr, ctxPtr, ...(cell ? { cell } : {}) };
  const old = s.snaps.get(key);
  if (old) drop(qjs, s, old);
  s.snaps.set(key, snap);
  s.bytes += image.bytes;
  s.ours.set(rtCbs, (s.ours.get(rtCbs) ?? 0) + 1);
  for (const [, v] of s.snaps) {
    if (s.snaps.size <= MAX_SNAPSHOTS && s.bytes <= MAX_BYTES) break;
    if (v !== snap && v.key !== COMPILED) drop(qjs, s, v);
  }
  return true;
}

/** The module's compiled copy (keepCompiled): its image and runtime, for a process that persists it (quickjs_state.ts). */
export function compiledCopy(qjs: QuickJSWASMModule): { image: MemoryImage; prepared: Prepared<QuickJSHandle> } | undefined {
  const snap = stores.get(qjs)?.snaps.get(COMPILED);
  return snap && { image: snap.image, prepared: snap.prepared as Prepared<QuickJSHandle> };
}

/**
 * A compiled copy made in another process (quickjs_state.ts), for a module whose layout was just adopted
 * (wasm_image.ts adoptLayout) and in which nothing has run: `prepared`, its runtime, context and compiled prelude as
 * objects over the image's pointers. The image is put in, and kept as keepCompiled keeps one.
 */
export function adoptCompiled(qjs: QuickJSWASMModule, image: MemoryImage, prepared: Prepared<QuickJSHandle>): boolean {
  const s = storeOf(qjs);
  if (!s || s.busy || s.snaps.size > 0 || !putImage(qjs, s.layout, image)) return false;
  s.busy = true;
  try {
    return keep(qjs, COMPILED, prepared);
  } finally {
    s.busy = false;
  }
}

/**
 * The end of a run that took the module (takePrepared gave a runtime or "build"): the module is free again. `p`, the
 * prepared runtime the run used: its JavaScript side goes back to the copy's (what the run made there, its bridge's
 * closures included, is let go); its memory stays as the run left it until the next takePrepared.
 */
export function releasePrepared(qjs: QuickJSWASMModule, p: { rt: QuickJSRuntime; ctx: QuickJSContext } | undefined): void {
  const s = stores.get(qjs);
  if (!s) return;
  s.busy = false;
  if (isPoisoned(qjs)) {
    dropAll(qjs, s);
    return;
  }
  if (p === undefined) return;
  // its raw host functions serve nobody until it is put back (a context built next may get its address and ids)
  forgetDirectCalls(p.ctx);
  for (const snap of s.snaps.values())
    if (snap.prepared.rt === p.rt) {
      restoreJs(snap); // any copy's: what the run made there is let go
      break;
    }
}

/** How many copies the module holds, and their bytes (tests, stats). */
export function preparedStats(qjs: QuickJSWASMModule): { snapshots: number; bytes: number; usable: boolean } {
  const s = stores.get(qjs) ?? storeOf(qjs);
  return { snapshots: s?.snaps.size ?? 0, bytes: s?.bytes ?? 0, usable: s !== undefined };
}

function ptrOf(l: { value: number } | undefined): number | undefined {
  try {
    const v = l?.value;
    return typeof v === "number" ? v : undefined;
  } catch {
    return undefined; // a disposed lifetime
  }
}

function drop(qjs: QuickJSWASMModule, s: Store, snap: Snapshot): void {
  if (s.snaps.get(snap.key) === snap) s.snaps.delete(snap.key);
  s.bytes -= snap.image.bytes;
  const rtCbs = (snap.prepared.rt as unknown as { cToHostCallbacks?: unknown }).cToHostCallbacks;
  const ctxCbs = (snap.prepared.ctx as unknown as { cToHostCallbacks?: unknown }).cToHostCallbacks;
  const held = (s.ours.get(rtCbs) ?? 1) - 1;
  if (held > 0) {
    s.ours.set(rtCbs, held);
    return; // its runtime serves other copies
  }
  s.ours.delete(rtCbs);
  const cbs = callbacksOf(qjs);
  if (cbs) {
    if (cbs.runtimeCallbacks.get(snap.rtPtr) === rtCbs) cbs.runtimeCallbacks.delete(snap.rtPtr);
    if (cbs.contextCallbacks.get(snap.ctxPtr) === ctxCbs) cbs.contextCallbacks.delete(snap.ctxPtr);
  }
  forgetDirectCalls(snap.prepared.ctx);
}

function dropAll(qjs: QuickJSWASMModule, s: Store): void {
  for (const snap of [...s.snaps.values()]) drop(qjs, s, snap);
}

// ---- the library's JavaScript side ------------------------------------------------------------------------------

interface ScopeLike {
  _disposables?: { value?: unknown };
}
interface HostRefsLike {
  nextId: number;
  freelist: number[];
  groups: Map<number, Map<unknown, unknown>>;
}

/** Own properties of an object (a run's interrupt handler is set per run, never kept). */
function ownProps(o: object, skip: readonly string[] = []): Entries {
  return Reflect.ownKeys(o)
    .filter((k) => !skip.includes(k as string))
    .map((k) => [k, (o as Record<PropertyKey, unknown>)[k]]);
}

function putProps(o: object, props: Entries, skip: readonly string[] = []): void {
  const rec = o as Record<PropertyKey, unknown>;
  const keep = new Set(props.map(([k]) => k));
  for (const k of Reflect.ownKeys(o)) if (!keep.has(k) && !skip.includes(k as string)) delete rec[k];
  for (const [k, v] of props) if (rec[k as PropertyKey] !== v) rec[k as PropertyKey] = v;
}

function scopeSet(scope: unknown): Set<unknown> | undefined {
  const v = (scope as ScopeLike | undefined)?._disposables?.value;
  return v instanceof Set ? v : undefined;
}

const RT_SKIP = ["interruptHandler"];

function captureJs(rt: QuickJSRuntime, ctx: QuickJSContext): JsState | undefined {
  const r = rt as unknown as { scope?: unknown; contextMap?: unknown; hostRefs?: Partial<HostRefsLike> };
  const c = ctx as unknown as { memory?: { scope?: unknown } };
  const rtScope = scopeSet(r.scope);
  const ctxScope = scopeSet(c.memory?.scope);
  const hr = r.hostRefs;
  if (!rtScope || !ctxScope || !(r.contextMap instanceof Map) || !c.memory) return undefined;
  if (!hr || typeof hr.nextId !== "number" || !Array.isArray(hr.freelist) || !(hr.groups instanceof Map)) return undefined;
  return {
    rtProps: ownProps(rt, RT_SKIP),
    ctxProps: ownProps(ctx),
    memProps: ownProps(c.memory),
    rtScope: [...rtScope],
    ctxScope: [...ctxScope],
    contextMap: [...r.contextMap],
    hostRefs: { nextId: hr.nextId, freelist: [...hr.freelist], groups: [...hr.groups].map(([g, m]) => [g, [...m]]) },
  };
}

function restoreJs(snap: Snapshot): void {
  const { rt, ctx } = snap.prepared;
  const js = snap.js;
  putProps(rt, js.rtProps, RT_SKIP);
  (rt as unknown as { interruptHandler?: unknown }).interruptHandler = undefined;
  putProps(ctx, js.ctxProps);
  const r = rt as unknown as { scope: unknown; contextMap: Map<unknown, unknown>; hostRefs: HostRefsLike };
  const mem = (ctx as unknown as { memory: { scope: unknown } }).memory;
  putProps(mem, js.memProps);
  refill(scopeSet(r.scope)!, js.rtScope);
  refill(scopeSet(mem.scope)!, js.ctxScope);
  r.contextMap.clear();
  for (const [k, v] of js.contextMap) r.contextMap.set(k, v);
  const hr = r.hostRefs;
  hr.nextId = js.hostRefs.nextId;
  hr.freelist = [...js.hostRefs.freelist];
  hr.groups = new Map(js.hostRefs.groups.map(([g, m]) => [g, new Map(m)]));
}

function refill(set: Set<unknown>, items: readonly unknown[]): void {
  if (set.size === items.length) {
    let same = true;
    for (const x of items) if (!set.has(x)) same = false;
    if (same) return;
  }
  set.clear();
  for (const x of items) set.add(x);
}
