// A booted machine as data, for a cache of booted machines on disk (issue 15: src/node/boot-cache.ts): encodeMachine()
// turns a Kernel into plain records that the structured clone algorithm (v8.serialize) keeps, and decodeMachine()
// builds the same machine from them, in another process. No Linux counterpart (a simulator facility, like a VM image);
// nothing here reads the wall clock or touches the host.
//
// snapshot.ts copies a machine within one process, where a prototype or a function is the same object in the original
// and the copy. Across processes they must be named: a class instance keeps the name of its class's prototype, a
// function the name of what it is. The names come from the exports of the kernel's modules (MODULES below):
//   - "slub:Slab.prototype" for a prototype, "kernel:noWatchdog" for an exported function, "kasan:Kasan.prototype.vmAlloc"
//     for a method (a function rebindable() bound: its target);
//   - a bound function from rebindable() is its target's name, its `this` and its arguments;
//   - objects marked immutable() are marked again; SideTables (module-level WeakMaps) by the order they were made in,
//     which is the modules' evaluation order: the same in every process that runs the same build (the caller keys the
//     cache by the build).
// Anything the encoder cannot name (a prototype or function no module exports, a symbol-keyed property, an accessor, a
// WeakMap, a boxed primitive...) makes encodeMachine() throw DiskFormError: the caller then boots instead, so a new
// class that is not exported costs a boot, never a wrong machine (test/node/boot-cache.test.ts boots every profile
// and config through both paths and compares runs byte for byte).
//
// The records are columns (EncodedMachine), so that structured clone reads a few large arrays and typed arrays
// rather than one small array per object: per record a kind and three integers, the property names of each shape
// once, and one stream of values that the records consume in order: per value a tag (undefined, null, true, false, a
// number, a record, a string, a bigint) and a number (the number itself, or the index of the record, the string or
// the bigint), so that the stream is two typed arrays. Kinds: a plain or class object, an array (dense or sparse), a Map, a Set, an ArrayBuffer, a typed array or
// DataView, a named function, a function bound by rebindable().

import * as common from "./arch/common.ts";
import * as x86_64 from "./arch/x86_64.ts";
import * as dma_debug from "./debug/dma_debug.ts";
import * as fault_inject from "./debug/fault_inject.ts";
import * as kasan from "./debug/kasan.ts";
import * as kmemleak from "./debug/kmemleak.ts";
import * as slub_debug from "./debug/slub_debug.ts";
import * as seq_file from "./fs/seq_file.ts";
import * as kernel from "./kernel.ts";
import * as dma from "./kernel/dma.ts";
import * as events from "./kernel/events.ts";
import * as exec from "./kernel/exec.ts";
import * as irq from "./kernel/irq.ts";
import * as kallsyms from "./kernel/kallsyms.ts";
import * as kthread from "./kernel/kthread.ts";
import * as lockdep from "./kernel/lockdep.ts";
import * as locking from "./kernel/locking.ts";
import * as kmodule from "./kernel/module.ts";
import * as panic from "./kernel/panic.ts";
import * as printk from "./kernel/printk.ts";
import * as refcount from "./kernel/refcount.ts";
import * as sched from "./kernel/sched.ts";
import * as softirq from "./kernel/softirq.ts";
import * as time from "./kernel/time.ts";
import * as timer from "./kernel/timer.ts";
import * as workqueue from "./kernel/workqueue.ts";
import * as memory from "./mm/memory.ts";
import * as mmap from "./mm/mmap.ts";
import * as page_alloc from "./mm/page_alloc.ts";
import * as page_array from "./mm/page_array.ts";
import * as pgtable from "./mm/pgtable.ts";
import * as physmem from "./mm/physmem.ts";
import * as slab_random from "./mm/slab_random.ts";
import * as slub from "./mm/slub.ts";
import * as slub_boot_tail from "./mm/slub_boot_tail.ts";
import * as tlb from "./mm/tlb.ts";
import * as uaccess from "./mm/uaccess.ts";
import * as vmalloc from "./mm/vmalloc.ts";
import * as vmap_tree from "./mm/vmap_tree.ts";
import type { Kernel } from "./kernel.ts";
import { immutable, isImmutable, isStateless, ownSymbolCount, rebindable, rebindOf, SideTable, sideTablesInOrder } from "./snapshot.ts";

/** The modules whose exports name the machine's prototypes and functions (see the header). */
const MODULES: Record<string, object> = {
  common,
  x86_64,
  dma_debug,
  fault_inject,
  kasan,
  kmemleak,
  slub_debug,
  seq_file,
  kernel,
  dma,
  events,
  exec,
  irq,
  kallsyms,
  kthread,
  lockdep,
  locking,
  module: kmodule,
  panic,
  printk,
  refcount,
  sched,
  softirq,
  time,
  timer,
  workqueue,
  memory,
  mmap,
  page_alloc,
  page_array,
  pgtable,
  physmem,
  slab_random,
  slub,
  slub_boot_tail,
  tlb,
  uaccess,
  vmalloc,
  vmap_tree,
};

/** Bumped whenever the records change meaning. */
export const MACHINE_FORMAT = 4;

export class DiskFormError extends Error {}

const V_UNDEFINED = 0,
  V_NULL = 1,
  V_TRUE = 2,
  V_FALSE = 3,
  V_NUMBER = 4,
  V_REF = 5,
  V_STRING = 6,
  V_BIG = 7,
  V_OTHER_BIG = 8;

const OBJ = 0,
  ARR = 1,
  SPARSE = 2,
  MAP = 3,
  SET = 4,
  BUF = 5,
  VIEW = 6,
  FN = 7,
  BOUND = 8;

export interface EncodedMachine {
  format: number;
  /** How many SideTables the process had made: the decoder's must be as many. */
  sideTables: number;
  /** Registry names (prototypes, functions, typed array classes) the records use, by index. */
  names: string[];
  /** Property names of each shape, by index. */
  shapes: string[][];
  /** Per record: its kind, and three integers whose meaning depends on it (see decodeMachine). */
  kind: Uint8Array;
  a: Int32Array;
  b: Int32Array;
  c: Int32Array;
  /** Where each record's values start in the stream. */
  at: Int32Array;
  /** The stream of values: tags (V_*) and numbers. */
  tag: Uint8Array;
  num: Float64Array;
  strings: string[];
  /** Bigints in [0, 2^64) (addresses), and the others. */
  bigs: BigUint64Array;
  otherBigs: bigint[];
  buffers: ArrayBuffer[];
  /** [record, attributes per property of its shape] for objects with other than plain data properties. */
  attrs: [number, number[]][];
  /** Records marked immutable(). */
  immutables: number[];
  /** SideTable entries: [table index, key record, value record or -1 with the primitive in sidePrims]. */
  side: [number, number, number][];
  sidePrims: unknown[];
}

const VIEWS: Record<string, new (b: ArrayBuffer, off: number, len: number) => ArrayBufferView> = {
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  Uint8ClampedArray,
  DataView: DataView as unknown as new (b: ArrayBuffer, off: number, len: number) => ArrayBufferView,
};

let registry: { byName: Map<string, object>; byValue: Map<object, string> } | undefined;

/** The names of every prototype and function the modules export (built once). */
function registryNames(): { byName: Map<string, object>; byValue: Map<object, string> } {
  if (registry) return registry;
  const byName = new Map<string, object>();
  const byValue = new Map<object, string>();
  const add = (name: string, v: object) => {
    if (byValue.has(v)) return; // re-exported: the first name
    byName.set(name, v);
    byValue.set(v, name);
  };
  add("Object.prototype", Object.prototype);
  for (const [m, ns] of Object.entries(MODULES)) {
    for (const [exp, v] of Object.entries(ns)) {
      if (typeof v !== "function") continue;
      add(`${m}:${exp}`, v as object);
      const proto = (v as { prototype?: unknown }).prototype;
      if (typeof proto !== "object" || proto === null) continue;
      add(`${m}:${exp}.prototype`, proto);
      for (const key of Object.getOwnPropertyNames(proto)) {
        const d = Object.getOwnPropertyDescriptor(proto, key)!;
        if (key !== "constructor" && typeof d.value === "function") add(`${m}:${exp}.prototype.${key}`, d.value as object);
      }
    }
  }
  return (registry = { byName, byValue });
}

/** What a registry name (registryNames) stands for, found by its path (without building the whole registry). */
function resolveName(n: string): object | undefined {
  if (n === "Object.prototype") return Object.prototype;
  const colon = n.indexOf(":");
  const ns = colon > 0 && Object.hasOwn(MODULES, n.slice(0, colon)) ? (MODULES[n.slice(0, colon)] as Record<string, unknown>) : undefined;
  const [exp, proto, method, ...more] = n.slice(colon + 1).split(".");
  if (!ns || more.length || !Object.hasOwn(ns, exp!)) return undefined;
  let v = ns[exp!];
  if (typeof v !== "function") return undefined;
  if (proto === undefined) return v;
  if (proto !== "prototype") return undefined;
  v = (v as { prototype?: unknown }).prototype;
  if (typeof v !== "object" || v === null) return undefined;
  if (method === undefined) return v;
  const d = Object.getOwnPropertyDescriptor(v, method);
  return typeof d?.value === "function" ? (d.value as object) : undefined;
}

const extensibility = (o: object) => (Object.isExtensible(o) ? 0 : Object.isFrozen(o) ? 1 : Object.isSealed(o) ? 2 : 3);

/** The machine as records (see the header). Throws DiskFormError for anything it cannot name. */
export function encodeMachine(k: Kernel): EncodedMachine {
  const { byValue } = registryNames();
  const ids = new Map<unknown, number>();
  const work: object[] = [];
  const kind: number[] = [];
  const A: number[] = [];
  const B: number[] = [];
  const C: number[] = [];
  const at: number[] = [];
  const tags: number[] = [];
  const nums: number[] = [];
  const strings: string[] = [];
  const stringIdx = new Map<string, number>();
  const bigs: bigint[] = [];
  const otherBigs: bigint[] = [];
  const push = (t: number, x: number) => {
    tags.push(t);
    nums.push(x);
  };
  const buffers: ArrayBuffer[] = [];
  const attrs: [number, number[]][] = [];
  const immutables: number[] = [];
  const names: string[] = [];
  const nameIdx = new Map<string, number>();
  const shapes: string[][] = [];
  const shapeIdx = new Map<string, number>();
  const id = (v: object): number => {
    let i = ids.get(v);
    if (i === undefined) {
      i = kind.length;
      ids.set(v, i);
      kind.push(255);
      A.push(0);
      B.push(0);
      C.push(0);
      at.push(0);
      work.push(v);
    }
    return i;
  };
  /** Append a value to the stream: a primitive as it is, an object or function as its record number. */
  const put = (v: unknown): void => {
    if (typeof v === "symbol") throw new DiskFormError(`a symbol value (${String(v)})`);
    switch (typeof v) {
      case "undefined":
        return push(V_UNDEFINED, 0);
      case "boolean":
        return push(v ? V_TRUE : V_FALSE, 0);
      case "number":
        return push(V_NUMBER, v);
      case "string": {
        let i = stringIdx.get(v);
        if (i === undefined) stringIdx.set(v, (i = strings.push(v) - 1));
        return push(V_STRING, i);
      }
      case "bigint":
        if (v >= 0n && v < 1n << 64n) return push(V_BIG, bigs.push(v) - 1);
        return push(V_OTHER_BIG, otherBigs.push(v) - 1);
      default:
        if (v === null) return push(V_NULL, 0);
        return push(V_REF, id(v as object));
    }
  };
  const named = (v: object, what: string): number => {
    const n = byValue.get(v);
    if (n === undefined) throw new DiskFormError(`${what} ${(v as { name?: string }).name ?? ""} is not exported by a kernel module`);
    let i = nameIdx.get(n);
    if (i === undefined) nameIdx.set(n, (i = names.push(n) - 1));
    return i;
  };
  const shape = (keys: string[]): number => {
    const key = keys.join("\u0000");
    let i = shapeIdx.get(key);
    if (i === undefined) shapeIdx.set(key, (i = shapes.push(keys) - 1));
    return i;
  };
  /** Own string-keyed data properties (an array's: other than its indices and length), values appended. */
  const props = (o: object, rec: number, isArray: boolean): number => {
    if (ownSymbolCount(o)) throw new DiskFormError(`a symbol-keyed property on a ${o.constructor?.name}`); // SideTable slots: the side records
    const keys: string[] = [];
    const ds: PropertyDescriptor[] = [];
    let plain = true;
    for (const key of Object.getOwnPropertyNames(o)) {
      if (isArray && (key === "length" || isIndex(key))) continue;
      const d = Object.getOwnPropertyDescriptor(o, key)!;
      if (!("value" in d)) throw new DiskFormError(`an accessor property ${key} on a ${o.constructor?.name}`);
      if (!(d.writable && d.enumerable && d.configurable)) plain = false;
      keys.push(key);
      ds.push(d);
    }
    for (const d of ds) put(d.value);
    if (!plain) attrs.push([rec, ds.map((d) => (d.writable ? 4 : 0) | (d.enumerable ? 2 : 0) | (d.configurable ? 1 : 0))]);
    return shape(keys);
  };
  const encode = (v: object, i: number): void => {
    if (isImmutable(v)) immutables.push(i);
    at[i] = tags.length;
    if (typeof v === "function") {
      const r = rebindOf(v);
      if (r) {
        if (Object.getOwnPropertyNames(v).some((n) => n !== "length" && n !== "name")) throw new DiskFormError("a bound function with own properties");
        kind[i] = BOUND;
        A[i] = r.args.length;
        put(r.fn);
        put(r.thisArg);
        for (const x of r.args) put(x);
      } else {
        kind[i] = FN;
        A[i] = named(v, isStateless(v) ? "the stateless function" : "the function");
      }
      return;
    }
    if (ArrayBuffer.isView(v)) {
      // a typed array, or a subclass of one that a module exports (page_array.ts OwnedChunks)
      const builtin = VIEWS[v.constructor.name] === v.constructor;
      if (Object.getPrototypeOf(v) !== v.constructor.prototype) throw new DiskFormError(`a ${v.constructor.name} of another prototype`);
      const len = v instanceof DataView ? v.byteLength : (v as unknown as { length: number }).length;
      if (Reflect.ownKeys(v).length !== (v instanceof DataView ? 0 : len)) throw new DiskFormError(`a ${v.constructor.name} with own properties`);
      kind[i] = VIEW;
      A[i] = builtin ? -1 - Object.keys(VIEWS).indexOf(v.constructor.name) : named(v.constructor, "the typed array class");
      B[i] = id(v.buffer);
      C[i] = v.byteOffset;
      push(V_NUMBER, len);
      return;
    }
    if (v instanceof ArrayBuffer) {
      if (Object.getPrototypeOf(v) !== ArrayBuffer.prototype || Reflect.ownKeys(v).length) throw new DiskFormError("an ArrayBuffer with own properties");
      kind[i] = BUF;
      A[i] = buffers.push(v) - 1;
      return;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (Array.isArray(v)) {
      if (proto !== Array.prototype) throw new DiskFormError("an array of another prototype");
      let dense = true;
      for (let j = 0; j < v.length && dense; j++) dense = j in v;
      A[i] = v.length;
      C[i] = extensibility(v);
      if (dense) {
        kind[i] = ARR;
        for (let j = 0; j < v.length; j++) put(v[j]);
      } else {
        kind[i] = SPARSE;
        const idx: number[] = [];
        for (let j = 0; j < v.length; j++) if (j in v) idx.push(j);
        push(V_NUMBER, idx.length);
        for (const j of idx) {
          push(V_NUMBER, j);
          put(v[j]);
        }
      }
      B[i] = props(v, i, true);
      return;
    }
    if (v instanceof Map || v instanceof Set) {
      if ((proto !== Map.prototype && proto !== Set.prototype) || Reflect.ownKeys(v).length)
        throw new DiskFormError("a Map or Set of another prototype or with own properties");
      kind[i] = v instanceof Map ? MAP : SET;
      A[i] = v.size;
      if (v instanceof Map)
        for (const [x, y] of v) {
          put(x);
          put(y);
        }
      else for (const x of v) put(x);
      return;
    }
    if (
      v instanceof WeakMap ||
      v instanceof WeakSet ||
      v instanceof WeakRef ||
      v instanceof Promise ||
      v instanceof RegExp ||
      v instanceof Date ||
      v instanceof Error
    )
      throw new DiskFormError(`a ${v.constructor.name}`);
    if (v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt || v instanceof Symbol)
      throw new DiskFormError("a boxed primitive");
    kind[i] = OBJ;
    A[i] = proto === null ? -1 : named(proto, "the class");
    C[i] = extensibility(v);
    B[i] = props(v, i, false);
  };
  const walk = () => {
    for (let v = work.pop(); v !== undefined; v = work.pop()) encode(v, ids.get(v)!);
  };
  id(k);
  walk();
  // SideTables: their entries for the machine and the objects in its own fields (snapshot.ts SideTable).
  const tables = sideTablesInOrder();
  const side: [number, number, number][] = [];
  const sidePrims: unknown[] = [];
  const candidates: object[] = [k];
  for (const key of Object.keys(k)) {
    const v = (k as unknown as Record<string, unknown>)[key];
    if (typeof v === "object" && v !== null) candidates.push(v);
  }
  for (const o of candidates) {
    const key = ids.get(o);
    if (key === undefined) continue;
    // in the order the entries were made (a decoded machine's slots come in the same order)
    for (const [t, v] of SideTable.entriesOf(o, tables)) {
      const ti = tables.indexOf(t);
      if (typeof v === "symbol") throw new DiskFormError("a symbol in a side table");
      if (v !== null && (typeof v === "object" || typeof v === "function")) side.push([ti, key, id(v)]);
      else side.push([ti, key, -1 - (sidePrims.push(v) - 1)]);
    }
  }
  walk();
  return {
    format: MACHINE_FORMAT,
    sideTables: tables.length,
    names,
    shapes,
    kind: Uint8Array.from(kind),
    a: Int32Array.from(A),
    b: Int32Array.from(B),
    c: Int32Array.from(C),
    at: Int32Array.from(at),
    tag: Uint8Array.from(tags),
    num: Float64Array.from(nums),
    strings,
    bigs: BigUint64Array.from(bigs),
    otherBigs,
    buffers,
    attrs,
    immutables,
    side,
    sidePrims,
  };
}

/** The machine the records describe (see the header). Throws DiskFormError when they do not fit this build. */
export function decodeMachine(m: EncodedMachine): Kernel {
  if (m?.format !== MACHINE_FORMAT) throw new DiskFormError(`format ${m?.format}, not ${MACHINE_FORMAT}`);
  const tables = sideTablesInOrder();
  if (m.sideTables !== tables.length) throw new DiskFormError(`${m.sideTables} side tables, this build has ${tables.length}`);
  const named = m.names.map((n) => {
    const v = resolveName(n);
    if (v === undefined) throw new DiskFormError(`no ${n} in this build`);
    return v;
  });
  const { kind, a, b, c, at, tag, num, strings, bigs, otherBigs, shapes } = m;
  const n = kind.length;
  const attrs = new Map(m.attrs);
  // The shapes of most of the stores (x86_64-6.1: 3,508 slabs of 25 properties, 89 % of them) get a maker: an object
  // literal with every property in order (undefined until filled), so that an object is made with its final layout
  // at once instead of through a transition per property added (measured: 3,500 objects of 25 properties ~1.5x
  // faster on a cold JIT); their fillers then write properties the object has. Compiling costs ~0.3 ms a function,
  // so only shapes of many stores.
  const storesOf = new Float64Array(shapes.length);
  for (let i = 0; i < n; i++) if (kind[i] === OBJ && !attrs.has(i)) storesOf[b[i]!] += shapes[b[i]!]!.length;
  const makers = shapes.map((keys, s) => (storesOf[s]! >= MAKER_STORES ? compileMaker(keys) : null));
  const viewCtors = Object.values(VIEWS);
  const out = new Array<unknown>(n);
  // objects first (empty), then views of their buffers, then functions (their `this` and arguments exist by then)
  for (let i = 0; i < n; i++) {
    switch (kind[i]) {
      case OBJ: {
        // (Reflect.construct(Object, [], Class), for the class's own object layout, was tried: 20x slower in V8)
        const proto = a[i] === -1 ? null : named[a[i]!]!;
        const make = makers[b[i]!];
        out[i] = make && !attrs.has(i) ? make(proto) : Object.create(proto);
        break;
      }
      case ARR:
      case SPARSE:
        out[i] = new Array(a[i]);
        break;
      case MAP:
        out[i] = new Map();
        break;
      case SET:
        out[i] = new Set();
        break;
      case BUF: {
        const buf = m.buffers[a[i]!];
        if (!(buf instanceof ArrayBuffer)) throw new DiskFormError(`record ${i}: no ArrayBuffer`);
        out[i] = buf;
        break;
      }
      case VIEW:
      case FN:
      case BOUND:
        break;
      default:
        throw new DiskFormError(`record ${i}: kind ${kind[i]}`);
    }
  }
  for (let i = 0; i < n; i++) {
    if (kind[i] !== VIEW) continue;
    const Ctor = (a[i]! < 0 ? viewCtors[-1 - a[i]!] : named[a[i]!]) as (typeof viewCtors)[number] | undefined;
    const buf = out[b[i]!];
    if (typeof Ctor !== "function" || !(buf instanceof ArrayBuffer)) throw new DiskFormError(`record ${i}: a view`);
    out[i] = new Ctor(buf, c[i]!, num[at[i]!]!);
  }
  const val = (j: number): unknown => {
    switch (tag[j]) {
      case V_UNDEFINED:
        return undefined;
      case V_NULL:
        return null;
      case V_TRUE:
        return true;
      case V_FALSE:
        return false;
      case V_NUMBER:
        return num[j];
      case V_REF:
        return out[num[j]!] ?? fn(num[j]!);
      case V_STRING:
        return strings[num[j]!];
      case V_BIG:
        return bigs[num[j]!];
      case V_OTHER_BIG:
        return otherBigs[num[j]!];
      default:
        throw new DiskFormError(`value ${j}: tag ${tag[j]}`);
    }
  };
  const fn = (i: number): unknown => {
    if (out[i] !== undefined) return out[i];
    if (kind[i] === FN) return (out[i] = named[a[i]!]);
    if (kind[i] !== BOUND) throw new DiskFormError(`record ${i}: kind ${kind[i]}`);
    const p = at[i]!;
    const args: unknown[] = [];
    for (let j = 0; j < a[i]!; j++) args.push(val(p + 2 + j));
    return (out[i] = rebindable(val(p) as (...x: unknown[]) => unknown, val(p + 1), ...args));
  };
  for (let i = 0; i < n; i++) if (kind[i] === FN || kind[i] === BOUND) fn(i);
  // A filler per shape of many objects, compiled once: each property stored by its name (a store V8 caches per
  // shape), where a loop of keyed stores that add properties costs a runtime call each (for x86_64-6.1, 3,508 slabs
  // of 25 properties are 89 % of the stores; keyed, they were most of the decode). Shapes of few objects take the
  // loop: compiling a function costs more than it saves there.
  const fillers = new Array<Filler | null | undefined>(shapes.length);
  const uses = new Uint32Array(shapes.length);
  /** Properties of shape s from the stream at p; returns the position after them. */
  const fill = (o: object, i: number, s: number, p: number): number => {
    const keys = shapes[s]!;
    const dst = o as Record<string, unknown>;
    const at2 = attrs.get(i);
    if (at2 === undefined) {
      let f = fillers[s];
      if (f === undefined && (makers[s] || ++uses[s] >= COMPILE_AFTER)) f = fillers[s] = compileFiller(keys);
      if (f) f(dst, val, p, tag, num);
      else for (let j = 0; j < keys.length; j++) dst[keys[j]!] = val(p + j);
    } else
      for (let j = 0; j < keys.length; j++) {
        const x = at2[j]!;
        if (x === 7) dst[keys[j]!] = val(p + j);
        else Object.defineProperty(o, keys[j]!, { value: val(p + j), writable: !!(x & 4), enumerable: !!(x & 2), configurable: !!(x & 1) });
      }
    return p + keys.length;
  };
  const fixed: [object, number][] = [];
  for (let i = 0; i < n; i++) {
    const o = out[i] as object;
    let p = at[i]!;
    switch (kind[i]) {
      case OBJ:
        fill(o, i, b[i]!, p);
        if (c[i]) fixed.push([o, c[i]!]);
        break;
      case ARR:
      case SPARSE: {
        const arr = o as unknown[];
        if (kind[i] === ARR) for (let j = 0; j < a[i]!; j++) arr[j] = val(p++);
        else {
          const count = num[p++]!;
          for (let j = 0; j < count; j++, p += 2) arr[num[p]!] = val(p + 1);
        }
        fill(arr, i, b[i]!, p);
        if (c[i]) fixed.push([arr, c[i]!]);
        break;
      }
      case MAP:
        for (let j = 0; j < a[i]!; j++, p += 2) (o as Map<unknown, unknown>).set(val(p), val(p + 1));
        break;
      case SET:
        for (let j = 0; j < a[i]!; j++) (o as Set<unknown>).add(val(p++));
        break;
    }
  }
  for (const [ti, key, v] of m.side) {
    const t = tables[ti];
    if (!t || !(out[key] instanceof Object)) throw new DiskFormError(`side table ${ti}`);
    t.set(out[key] as object, v >= 0 ? (out[v] ?? fn(v)) : m.sidePrims[-1 - v]);
  }
  for (const i of m.immutables) immutable(out[i] as object);
  for (const [o, how] of fixed) {
    if (how === 1) Object.freeze(o);
    else if (how === 2) Object.seal(o);
    else Object.preventExtensions(o);
  }
  const k = out[0];
  if (!(k instanceof kernel.Kernel)) throw new DiskFormError("the first record is not a Kernel");
  return k;
}

/** Objects of one shape decoded with the loop before its filler is compiled. */
const COMPILE_AFTER = 16;

type Filler = (o: Record<string, unknown>, val: (j: number) => unknown, p: number, tag: Uint8Array, num: Float64Array) => void;
let canCompile = true;

/** The stores of a shape (its objects x its properties) from which it gets a maker. */
const MAKER_STORES = 2000;

/**
 * A function that makes an object of the shape with prototype P (undefined values, in order), as an object literal;
 * null where code cannot be compiled, or where a literal cannot say it (a property named __proto__).
 */
function compileMaker(keys: readonly string[]): ((proto: object | null) => object) | null {
  if (!canCompile || keys.length > 200 || keys.includes("__proto__")) return null;
  try {
    return new Function("P", `return { __proto__: P, ${keys.map((k) => `${JSON.stringify(k)}: undefined`).join(", ")} };`) as (proto: object | null) => object;
  } catch {
    canCompile = false;
    return null;
  }
}

/** A function that stores the shape's properties in order, by name; null where code cannot be compiled. */
function compileFiller(keys: readonly string[]): Filler | null {
  if (!canCompile || keys.length > 200) return null;
  // numbers and undefined (most values) read in place; the other kinds through v
  let body = "var t;\n";
  for (let j = 0; j < keys.length; j++)
    body += `o[${JSON.stringify(keys[j])}] = (t = T[p + ${j}]) === ${V_NUMBER} ? N[p + ${j}] : t === ${V_UNDEFINED} ? undefined : v(p + ${j});\n`;
  try {
    return new Function("o", "v", "p", "T", "N", body) as Filler;
  } catch {
    canCompile = false;
    return null;
  }
}

function isIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && String(Number(key) >>> 0) === key;
}
