// Boot once, restore many (issue 18): a deep copy of a booted Kernel, so that a run starts from a machine that is
// byte for byte the one boot() would build, without booting it. No Linux counterpart (a simulator facility, like a
// VM snapshot); nothing here reads the wall clock.
//
// The copy is generic: it walks the object graph from the Kernel and copies what it finds, so a field another part
// of the kernel adds later is copied without a change here. It keeps
//   - prototypes (class instances stay instances), own property descriptors, frozen/sealed/non-extensible state;
//   - Maps and Sets (keys and values copied), arrays, typed arrays and ArrayBuffers (a buffer shared by several
//     views is copied once and the views stay views of one buffer), bigints and the other primitives;
//   - shared references: an object reached twice is copied once (cycles included).
// What a walk cannot see, and how the kernel makes it visible:
//   - closures. A function stored in the graph may hold the old kernel in its scope (a hook registered at boot). The
//     copy refuses any function it does not know how to copy: `rebindable(fn, thisArg, ...args)` makes a bound
//     function whose target, `this` and arguments the copy rebinds to their copies; `stateless(fn)` marks a
//     function that holds nothing (shared as it is). Any other function makes snapshot() throw SnapshotError with
//     its path (k.vmalloc.onFlush.0), and the caller boots instead (sandbox/run.ts's boot cache does).
//   - module-level WeakMaps keyed by kernel objects. `new SideTable()` is a WeakMap the copy knows: its entries for
//     the Kernel and the objects in the Kernel's own fields are copied to their copies.
//   - class private fields (#x): none in src/kernel (a test pins it).
// test/kernel/snapshot.test.ts compares a copy with a fresh boot field by field after a run has dirtied the
// original, for every profile and config.

const REBIND = Symbol("kmodlab.rebind");
const STATELESS = Symbol("kmodlab.stateless");

interface Rebind {
  fn: (...a: never[]) => unknown;
  thisArg: unknown;
  args: unknown[];
}

/** `fn.bind(thisArg, ...args)`, which a snapshot copies with thisArg and args replaced by their copies. `fn` itself
 *  must hold no state (a method from a prototype, a module-level function). */
export function rebindable<A extends unknown[], B extends unknown[], R, T>(
  fn: (this: T, ...args: [...A, ...B]) => R,
  thisArg: T,
  ...args: A
): (...rest: B) => R {
  const bound = (fn as (...x: unknown[]) => R).bind(thisArg, ...args) as (...rest: B) => R;
  Object.defineProperty(bound, REBIND, { value: { fn, thisArg, args } satisfies Rebind });
  return bound;
}

/** Mark a function that captures no state: a snapshot shares it. */
export function stateless<F extends (...a: never[]) => unknown>(fn: F): F {
  Object.defineProperty(fn, STATELESS, { value: true });
  return fn;
}

const sideTables: WeakRef<SideTable<object, unknown>>[] = [];

/**
 * A WeakMap whose entries a snapshot copies to the copies of their keys: module-level state kept per kernel object.
 * Its keys are the Kernel or an object held in one of the Kernel's own fields (k.slab, k.pages...): a snapshot looks
 * those up only, not every object it copies. (Tracking the keys with WeakRefs was tried: a WeakRef keeps its target
 * alive until the current job ends, and a loop of awaited runs is one job: 1000 runs held 2.4 GB of kernels.)
 */
export class SideTable<K extends object, V> extends WeakMap<K, V> {
  constructor() {
    super();
    sideTables.push(new WeakRef(this as unknown as SideTable<object, unknown>));
  }
}

export class SnapshotError extends Error {}

/**
 * An object may copy itself: `[SNAPSHOT](copy, memo)` returns its copy, calling `copy(v)` for the values it holds
 * (PhysMem shares its frames copy-on-write). The copy is recorded under the object after the call, so a method
 * that can meet its own object again through `copy` must `memo.set(this, itsCopy)` first.
 */
export const SNAPSHOT = Symbol("kmodlab.snapshot");

/** A deep copy of `root` (normally a booted Kernel) as described in the header. Throws SnapshotError. */
export function snapshot<T extends object>(root: T): T {
  const memo = new Map<unknown, unknown>();
  const tables = sideTables.map((w) => w.deref()).filter((t): t is SideTable<object, unknown> => t !== undefined);
  const pendingFreeze: [object, "frozen" | "sealed" | "fixed"][] = [];

  function copyFunction(f: (...a: unknown[]) => unknown): unknown {
    if ((f as unknown as Record<symbol, unknown>)[STATELESS]) return f;
    const r = (f as unknown as Record<symbol, Rebind | undefined>)[REBIND];
    if (!r) {
      throw new SnapshotError(
        `cannot copy the function at ${pathTo(root, f) ?? "(unknown path)"} (${f.name || "anonymous"}): a closure may hold the booted kernel; build it with rebindable() or stateless() (src/kernel/snapshot.ts)`,
      );
    }
    const copy = rebindable(r.fn as (...x: unknown[]) => unknown, copyValue(r.thisArg), ...(r.args.map(copyValue) as []));
    memo.set(f, copy);
    return copy;
  }

  function copyValue(v: unknown): unknown {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return v;
    const seen = memo.get(v);
    if (seen !== undefined) return seen;
    if (typeof v === "function") return copyFunction(v as (...a: unknown[]) => unknown);
    return copyObject(v as object);
  }

  function copyObject(o: object): object {
    const custom = (o as { [SNAPSHOT]?: (copy: (v: unknown) => unknown, memo: Map<unknown, unknown>) => object })[SNAPSHOT];
    if (custom) {
      const copy = custom.call(o, copyValue, memo);
      memo.set(o, copy);
      return copy;
    }
    if (ArrayBuffer.isView(o)) {
      const view = o as ArrayBufferView & { length?: number };
      const buf = copyBuffer(view.buffer as ArrayBuffer);
      const Ctor = o.constructor as unknown as new (b: ArrayBuffer, off: number, len: number) => ArrayBufferView;
      const copy = o instanceof DataView ? new DataView(buf, o.byteOffset, o.byteLength) : new Ctor(buf, view.byteOffset, view.length!);
      memo.set(o, copy);
      return copy;
    }
    if (o instanceof ArrayBuffer) return copyBuffer(o);
    if (o instanceof WeakMap || o instanceof WeakSet || o instanceof WeakRef || o instanceof Promise) {
      throw new SnapshotError(
        `cannot copy the ${o.constructor.name} at ${pathTo(root, o) ?? "(unknown path)"}: its contents cannot be enumerated (a SideTable can be, for module-level state)`,
      );
    }
    if (Array.isArray(o)) {
      const copy: unknown[] = new Array(o.length);
      memo.set(o, copy);
      if (Object.keys(o).length === o.length) for (let i = 0; i < o.length; i++) copy[i] = copyValue(o[i]);
      else for (let i = 0; i < o.length; i++) if (i in o) copy[i] = copyValue(o[i]); // holes stay holes
      copyExtraProps(o, copy, true);
      finish(o, copy);
      return copy;
    }
    if (o instanceof Map) {
      const copy = new Map();
      memo.set(o, copy);
      for (const [key, val] of o) copy.set(copyValue(key), copyValue(val));
      copyExtraProps(o, copy, false);
      finish(o, copy);
      return copy;
    }
    if (o instanceof Set) {
      const copy = new Set();
      memo.set(o, copy);
      for (const x of o) copy.add(copyValue(x));
      copyExtraProps(o, copy, false);
      finish(o, copy);
      return copy;
    }
    if (o instanceof RegExp) {
      const copy = new RegExp(o.source, o.flags);
      copy.lastIndex = o.lastIndex;
      memo.set(o, copy);
      return copy;
    }
    if (o instanceof Date) {
      const copy = new Date(o.getTime());
      memo.set(o, copy);
      return copy;
    }
    const copy = Object.create(Object.getPrototypeOf(o)) as Record<PropertyKey, unknown>;
    memo.set(o, copy);
    copyExtraProps(o, copy, false);
    finish(o, copy);
    return copy;
  }

  function copyBuffer(b: ArrayBuffer): ArrayBuffer {
    let c = memo.get(b) as ArrayBuffer | undefined;
    if (!c) memo.set(b, (c = b.slice(0)));
    return c;
  }

  /** Own properties (an array's: those other than its indices and length). */
  function copyExtraProps(o: object, copy: object, isArray: boolean): void {
    // The common case, cheaply: only enumerable string-keyed properties (read and assigned as they are; an own
    // enumerable accessor would be read through: the kernel defines none, and the snapshot test compares
    // descriptors). Anything else (symbols, non-enumerable or accessor properties) takes the descriptor path.
    const names = Object.getOwnPropertyNames(o);
    if (Object.getOwnPropertySymbols(o).length === 0) {
      if (isArray) {
        if (names.length === Object.keys(o).length + 1) return; // indices (or fewer, with holes) and length only
      } else {
        const enumerable = Object.keys(o);
        if (enumerable.length === names.length) {
          const fn = copierFor(Object.getPrototypeOf(o) as object | null, names);
          if (fn) {
            fn(o, copy, copyValue);
            return;
          }
          const src = o as Record<string, unknown>;
          const dst = copy as Record<string, unknown>;
          for (let i = 0; i < names.length; i++) {
            const key = names[i]!;
            dst[key] = copyValue(src[key]);
          }
          return;
        }
      }
    }
    const keys = Reflect.ownKeys(o);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (isArray && (key === "length" || (typeof key === "string" && isIndex(key)))) continue;
      const d = Object.getOwnPropertyDescriptor(o, key)!;
      if ("value" in d) {
        const v = copyValue(d.value);
        if (d.writable && d.enumerable && d.configurable) (copy as Record<PropertyKey, unknown>)[key] = v;
        else Object.defineProperty(copy, key, { value: v, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
      } else {
        Object.defineProperty(copy, key, {
          get: d.get && (copyValue(d.get) as () => unknown),
          set: d.set && (copyValue(d.set) as (v: unknown) => void),
          enumerable: d.enumerable,
          configurable: d.configurable,
        });
      }
    }
  }

  function finish(o: object, copy: object): void {
    if (!Object.isExtensible(o)) pendingFreeze.push([copy, Object.isFrozen(o) ? "frozen" : Object.isSealed(o) ? "sealed" : "fixed"]);
  }

  const out = copyValue(root) as T;
  // Side tables: after the walk, so that a value reached only through a side table is copied with the graph's copies.
  // Their keys are the root and the objects in its own fields (SideTable).
  if (tables.length) {
    const candidates: object[] = [root];
    for (const key of Object.keys(root)) {
      const v = (root as Record<string, unknown>)[key];
      if (typeof v === "object" && v !== null) candidates.push(v);
    }
    for (const o of candidates) {
      const copy = memo.get(o) as object | undefined;
      if (copy === undefined) continue;
      for (const t of tables) if (t.has(o)) t.set(copy, copyValue(t.get(o)));
    }
  }
  // Freeze last: a frozen object's copy is filled first.
  for (const [copy, how] of pendingFreeze) {
    if (how === "frozen") Object.freeze(copy);
    else if (how === "sealed") Object.seal(copy);
    else Object.preventExtensions(copy);
  }
  return out;
}

type Copier = (src: object, dst: object, copy: (v: unknown) => unknown) => void;
const copiers = new WeakMap<object, { names: string[]; fn: Copier }[]>();
const NULL_PROTO = {};
let canCompile = true;

/**
 * A copier for objects of one shape (prototype + property names in order), compiled once: each property is read and
 * written by name, so every store is monomorphic (a generic loop of keyed stores over a few thousand objects of a
 * hundred shapes is megamorphic, and costs most of a snapshot). undefined where code cannot be compiled (a CSP).
 */
function copierFor(proto: object | null, names: string[]): Copier | undefined {
  if (!canCompile || names.length > 200) return undefined;
  const key = proto ?? NULL_PROTO;
  let list = copiers.get(key);
  if (list) {
    outer: for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (c.names.length !== names.length) continue;
      for (let j = 0; j < names.length; j++) if (c.names[j] !== names[j]) continue outer;
      return c.fn;
    }
  } else copiers.set(key, (list = []));
  if (list.length >= 16) return undefined; // a prototype of many shapes: the generic loop
  let body = "var v;\n";
  for (const n of names) {
    const k = JSON.stringify(n);
    body += `v = s[${k}]; d[${k}] = (typeof v === "object" && v !== null) || typeof v === "function" ? c(v) : v;\n`;
  }
  let fn: Copier;
  try {
    fn = new Function("s", "d", "c", body) as Copier;
  } catch {
    canCompile = false;
    return undefined;
  }
  list.push({ names: names.slice(), fn });
  return fn;
}

function isIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && String(Number(key) >>> 0) === key;
}

/** Where `target` lies in the graph under `root` (k.vmalloc.onFlush.0), for error messages: a walk done only then. */
function pathTo(root: object, target: unknown): string | undefined {
  const seen = new Set<unknown>([root]);
  let level: [unknown, string][] = [[root, "k"]];
  while (level.length) {
    const next: [unknown, string][] = [];
    for (const [v, p] of level) {
      const kids: [unknown, string][] = [];
      if (v instanceof Map) for (const [a, b] of v) kids.push([a, `${p}.<key>`], [b, `${p}.get(${typeof a === "object" ? "..." : String(a)})`]);
      else if (v instanceof Set) for (const a of v) kids.push([a, `${p}.<element>`]);
      else if (typeof v === "function") {
        const r = (v as unknown as Record<symbol, Rebind | undefined>)[REBIND];
        if (r) kids.push([r.thisArg, `${p}.<this>`], ...r.args.map((a, i) => [a, `${p}.<arg${i}>`] as [unknown, string]));
      }
      if (v !== null && (typeof v === "object" || typeof v === "function") && !ArrayBuffer.isView(v)) {
        for (const key of Reflect.ownKeys(v as object)) {
          const d = Object.getOwnPropertyDescriptor(v as object, key)!;
          for (const x of "value" in d ? [d.value] : [d.get, d.set]) kids.push([x, `${p}.${String(key)}`]);
        }
      }
      for (const [x, q] of kids) {
        if (x === target) return q;
        if (x !== null && (typeof x === "object" || typeof x === "function") && !seen.has(x)) {
          seen.add(x);
          next.push([x, q]);
        }
      }
    }
    level = next;
  }
  return undefined;
}

/**
 * Boot once, restore many: boot(profile, opts) through a cache of booted machines, one per boot key (profile, RAM,
 * command line, seed, config, user space). A key's first boot is a plain boot (a fuzzer's seeds never repeat, and a
 * copy would only add to it); from its second, the cache boots the key's template once, keeps it untouched, and hands
 * every run a snapshot() of it. A template that cannot be copied (SnapshotError: a closure nobody made rebindable) is
 * remembered as such and that key boots every time. At most `size` templates are kept (least recently used goes).
 *
 * Measured (CPU time, medians of 25, a loaded 2-core machine): the copy costs what the boot made: about 2,500
 * objects and 2.2 MB of typed arrays for x86_64-6.1's 512 MiB debug machine, so its copy (~9 ms) is barely cheaper
 * than its boot (~10 ms), and memdemo end to end measures the same with and without the cache (bench/speed.bench.ts);
 * arm-3.4's copy costs a third of its boot, i386-2.6's two thirds; x86_64-6.1 at 4 GiB and arm64-6.1 cost more to
 * copy than to boot, and the weighing below drops their templates. A copy never changes a result
 * (test/kernel/snapshot.test.ts).
 */
/** How many plain boots a key whose template was evicted makes before it may have a template again. */
const EVICTED_PAUSE = 16;

export class BootCache<K extends object, O extends object> {
  private readonly templates = new Map<string, K | null>();
  private readonly seen = new Map<string, number>();
  /** Counters for tests and the bench: plain boots, templates booted, copies handed out, keys that cannot be copied,
   *  keys whose copy measured no cheaper than their boot. */
  readonly stats = { boots: 0, templates: 0, copies: 0, uncopyable: 0, slower: 0 };
  enabled = true;
  lastError: SnapshotError | undefined;
  /** The boot time of the template just made, until its first copy is weighed against it. */
  private bootMs: number | undefined;

  constructor(
    private readonly bootFn: (profile: string, opts: O) => K,
    private readonly keyOf: (profile: string, opts: O) => string,
    // a template of a 16 GiB machine holds ~56 MB: a few keys are what a class, a lesson or a CLI loop uses
    private readonly size = 4,
    /**
     * A clock (ms) to weigh a key's first copy against its template's boot, given by the caller (src/kernel reads no
     * clock): a copy that costs as much as the boot (measured: x86_64-6.1 4 GiB, arm64-6.1) is dropped and the key
     * boots plainly. Without a clock every key that repeats is copied. Either way the machine is the same.
     */
    private readonly now?: () => number,
  ) {}

  boot(profile: string, opts: O): K {
    if (!this.enabled) return this.plain(profile, opts);
    const key = this.keyOf(profile, opts);
    let t = this.templates.get(key);
    if (t === undefined) {
      const n = (this.seen.get(key) ?? 0) + 1;
      if (n < 2) {
        this.seen.set(key, n);
        if (this.seen.size > 256) this.seen.delete(this.seen.keys().next().value!);
        return this.plain(profile, opts);
      }
      this.seen.delete(key);
      const t0 = this.now?.();
      t = this.bootFn(profile, opts);
      this.bootMs = t0 === undefined ? undefined : this.now!() - t0;
      this.stats.templates++;
      this.templates.set(key, t);
      while (this.templates.size > this.size) {
        // More keys in turn than templates (a fuzzer's loop over seeds): a template costs a boot and a copy, and
        // would be evicted before it pays back. An evicted key boots plainly for its next EVICTED_PAUSE runs.
        const old = this.templates.keys().next().value!;
        this.templates.delete(old);
        this.seen.set(old, 1 - EVICTED_PAUSE);
      }
    } else {
      // most recently used last
      this.templates.delete(key);
      this.templates.set(key, t);
    }
    if (t === null) return this.plain(profile, opts);
    try {
      const bootMs = this.bootMs;
      this.bootMs = undefined;
      const t0 = bootMs === undefined ? undefined : this.now!();
      const copy = snapshot(t);
      this.stats.copies++;
      if (t0 !== undefined && this.now!() - t0 >= 0.9 * bootMs!) {
        // the first copy of this template cost about its boot: boot this key plainly from now on
        this.stats.slower++;
        this.templates.set(key, null);
      }
      return copy;
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      this.lastError = e;
      this.stats.uncopyable++;
      this.templates.set(key, null);
      return t; // a fresh boot nobody ran: this run takes it
    }
  }

  /** Forget every template. */
  clear(): void {
    this.templates.clear();
    this.seen.clear();
  }

  private plain(profile: string, opts: O): K {
    this.stats.boots++;
    return this.bootFn(profile, opts);
  }
}

/** The boot key of BootCache: the profile and every boot option given (whatever options boot() learns later). */
export function bootKey(profile: string, opts: object): string {
  const o = opts as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return JSON.stringify([profile, keys.map((k) => [k, o[k]])]);
}
