// The bridge of one run: QuickJS host functions generated from the table, the guest prelude that assembles the
// "linux" and "sim" objects, the run's counters and stop flags, and calls back into the guest.
//
// A host call does only this: count, check the arguments (validate.ts), call the row's impl, convert the result.
// Stopping: a limit (CPU, memory, stack, kernel calls, log) stops the whole run; the kernel killing the task
// (an Oops) stops the current module function only. Both use the interrupt handler, which a guest try/catch
// cannot swallow; until the guest has unwound, every host call fails at once without reaching the kernel.
// Ownership: every handle this file creates is disposed in dispose(), or returned to QuickJS (which frees it).

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import {
  GuestError,
  isTaskKill,
  type ApiEntry,
  type CallEnv,
  type CallbackSig,
  type ClassEntry,
  type Cookie,
  type FunctionEntry,
  type HostCallback,
  type GuestCoroutine,
} from "./table.ts";
import { LogBudgetExceeded } from "../src/kernel/kernel/printk.ts";
import {
  ArgError,
  bigintText,
  checkAddr,
  guestBigInt,
  guestStringLength,
  MAX_CALL_STRING_CHARS,
  MAX_MESSAGE_CHARS,
  MAX_STACK_TEXT_CHARS,
  newCallStrings,
  readNumber,
  readPrintkArg,
  readScalar,
  shortString,
  WIDE_BIGINT_TEXT,
  MAX_PRINTK_ARGS,
} from "./validate.ts";
import { WALL_CAP_FACTOR, wallTimeToGive } from "./cpuclock.ts";
import { LOG_RECORD_BYTES, MAX_NESTING, type LimitName, type Limits } from "./limits.ts";
import { PRELUDE, PRELUDE_FILE, TAKE_STACK } from "./prelude.ts";
import {
  borrowArgs,
  hostNumberResults,
  newRawFunction,
  rawDup,
  rawDupper,
  rawNumber,
  type RawValues,
  TAG_BIG_INT,
  TAG_FLOAT64,
  TAG_INT,
  TAG_SHORT_BIG_INT,
} from "./quickjs.ts";
import { parseStack, type CellFrame } from "./stack.ts";
import { SHADOW_REQUIRE, SHADOW_SITE_UNIT, SHADOW_SLOTS, SHADOW_UNKNOWN, type ColumnMap } from "./shadow.ts";
import type { CellScope } from "./transpile.ts";
import type { CallLog, CallLogFn } from "./calllog.ts";

/** nesting: MAX_NESTING module <-> kernel calls; hostStack: the host's own stack ran out (at any nesting depth). */
export type Stop = { kind: "limit"; limit: LimitName; nesting?: boolean; hostStack?: boolean } | { kind: "kill" };

/** What a guest error looked like, read without trusting it. */
export interface GuestErrorInfo {
  name: string;
  message: string;
  stack: string;
  /** The thrown value was not an Error (a string, a number, a plain object...). */
  nonError: boolean;
}

export type InvokeResult = { ok: true; value: unknown } | { ok: false; error: GuestErrorInfo; stop: Stop | null };

/** Thrown through the kernel when a callback could not finish because the run is stopping. */
export class RunStopped extends Error {
  constructor(readonly stop: Stop) {
    super("run stopped");
  }
}

export interface BridgeHooks {
  /** A module function the kernel called threw (not a stop): make the report. */
  onCallbackError(symbol: string, err: GuestErrorInfo): void;
  /** Milliseconds now (injected so tests can drive the CPU deadline). */
  now(): number;
  /**
   * The running thread's CPU time in ms, where the host can read it (sandbox/cpuclock.ts): the deadline is then
   * CPU time, read only once the wall clock has passed it. Absent: the deadline is wall time.
   */
  cpuNow?(): number;
  /** The call log (sandbox/calllog.ts): every completed table call is recorded in it. */
  log?: CallLog;
  /** The kernel enters (symbol) / leaves (null) a module function: the call log's caller. */
  onEnter?(symbol: string | null): void;
}

const keyOf = (e: { module: string; name: string }) => `${e.module}:${e.name}`;

// Addresses cross the boundary as numbers where they can (a QuickJS bigint costs a guest BigInt(String(n)) call
// each way in quickjs-emscripten; a number costs nothing): the prelude's wrapper turns a bigint address argument
// into a number and sets its bit in the call's mask, and turns a number result back into the same bigint. The
// encoding is the address as a signed 64-bit integer, exact for [0, 2^53] and [2^64 - 2^53, 2^64): every
// 32-bit address and every canonical kernel address (0xffff8880..., sign-extended from 48 or 57 bits). Values
// outside both ranges travel as bigints, as before. The guest half is in prelude.ts (encode/decode there).
const TWO64 = 1n << 64n;
const MAX_POS = 1n << 53n;
const MIN_NEG = TWO64 - MAX_POS;

/** The number that carries address v exactly, or undefined. */
export function encodeAddr(v: bigint): number | undefined {
  if (v >= 0n && v <= MAX_POS) return Number(v);
  if (v >= MIN_NEG && v < TWO64) return Number(v - TWO64);
  return undefined;
}

/** The address a number from encodeAddr carries. */
export function decodeAddr(n: number): bigint {
  if (!Number.isSafeInteger(n) && Math.abs(n) !== 2 ** 53) return -1n; // not from the wrapper: checkAddr refuses it
  return n < 0 ? BigInt(n) + TWO64 : BigInt(n);
}

/** Numeric scalar parameter types: the wrapper marks an argument that is a number (bit index + NUM_SHIFT). */
const NUMERIC: ReadonlySet<string> = new Set(["size", "uint", "int", "gfp", "order"]);
const NUM_SHIFT = 8;
/**
 * A call's code, passed by the prelude's wrapper as the dispatcher's `this`: site * SITE_UNIT + row id * CODE_ID +
 * mask. Mask bit i (i < 8: every row has at most 7 parameters before a printk rest): argument i is an address
 * carried as a number (encodeAddr); bit i + NUM_SHIFT: argument i is a number (the wrapper saw typeof "number", so
 * the host need not ask QuickJS). The site is the transpiler's number of the call in the cell (transpile.ts
 * markSites), 0 for a call that has none. Only the prelude's wrappers reach the dispatcher (the natives object never
 * leaves the prelude's closure).
 */
const CODE_ID = 2 ** 16;
const MAX_ROWS = 2 ** 10;
const SITE_UNIT = CODE_ID * MAX_ROWS;
/** Set in a call's code when the wrapper took the guest's stack for it (its id was passed by setStack before). */
const STACK_BIT = SITE_UNIT * 2 ** 20; // sites are < 2^20 (transpile.ts MAX_SITES)
/** Set when the site field holds a node of the shadow stack (prelude.ts siteCode, shadow.ts), not a site. */
const NODE_BIT = STACK_BIT * 2;
/** The most shadow-stack nodes a run names (each a distinct stack a kernel call was made from; ids fit the site field). */
const MAX_NODES = 65536;
/** The most frames the nodes hold in all (past it, a new node's calls walk the stack as before). */
const MAX_NODE_FRAMES = 1 << 20;
/**
 * A row whose calls walked the guest's stack this many times in a row (KASAN's and SLUB's alloc and free tracks on
 * a debug kernel) gets its stack taken by the prelude's wrapper (one `new Error()` in the guest, its text named by a
 * small id), not by a host -> guest call per walk; after UNHUNGRY calls in a row that took a stack nothing read, it
 * stops.
 */
const HUNGRY_AFTER = 2;
const UNHUNGRY = 16;

/** How readArgs reads a parameter (RowShape.kinds). */
const P_SCALAR = 0,
  P_FN = 1,
  P_COOKIE = 2,
  P_SKIP = 3,
  P_HANDLE = 4,
  P_ADDR = 5,
  P_NUM = 6;
/** How call() returns a row's result (RowShape.ret). */
const RET_VOID = 0,
  RET_ADDR = 1,
  RET_INT = 2,
  RET_SCALAR = 3,
  RET_NUMBER = 4;
/** A row's parameters and result, worked out once (Bridge.shapeOf). */
interface RowShape {
  rest: boolean;
  /** Every parameter a number or an address, none NULL-able (hostCall reads them from memory). */
  simple: boolean;
  /** simple, at most 3 parameters, not a print row: hostCall's calls of it make no array (rawArg, rawRow). */
  fast: boolean;
  fixed: number;
  required: number;
  kinds: Uint8Array;
  /** Per numeric parameter, the range its check takes (N_INT, N_GFP, N_UNSIGNED). */
  ranges: Uint8Array;
  /** Bit i: parameter i is an address. */
  addrs: number;
  ret: number;
  returns: string;
  /** The row's own, read here so that a raw call reads them from one shape of object (rawRow). */
  name: string;
  impl: FunctionEntry["impl"];
  missing: NonNullable<FunctionEntry["missing"]> | null;
  /** The call log's view of the row (CallLog.infoOf), at its first raw call. */
  logFn: CallLogFn | undefined;
}
/** RowShape.ranges: any safe integer (int), 0..2^32-1 (gfp), >= 0 (size, uint, order). */
const N_INT = 0,
  N_GFP = 1,
  N_UNSIGNED = 2;
/**
 * How often a kernel call reads the clock for the CPU deadline (every CLOCK_EVERY-th call): performance.now() was
 * a tenth of a raw call's own cost. A long kernel loop reads it through k.watchdog, the interrupt handler whenever
 * QuickJS asks, so a run passes its deadline by at most this many kernel calls' time.
 */
const CLOCK_EVERY = 8;

/** Indexes (< 15) of a function's parameters of the given types. */
function paramIndexes(e: FunctionEntry, want: (type: string) => boolean): number[] {
  const out: number[] = [];
  e.params.forEach((p, i) => {
    if (want(p.type) && i < NUM_SHIFT) out.push(i);
    else if (want(p.type)) throw new Error(`${e.name}: a row has at most ${NUM_SHIFT} parameters before a printk rest (bindings.ts NUM_SHIFT)`);
  });
  return out;
}

/** The prelude's spec as text, per rows array, by its sites, sited functions and constants' values (Bridge). */
const specTexts = new WeakMap<readonly ApiEntry[], Map<string, string>>();
/** Parsed stacks per transpiled cell (Bridge.framesOf), by its column map (shadow stack) or its scopes. */
const parsedStacks = new WeakMap<object, Map<string, CellFrame[]>>();

/**
 * What a Bridge's constructor made in the guest: the prelude's functions and arrays, and the route its host functions
 * take to the bridge serving them. restore.ts keeps it with a copy of the module's memory; a later Bridge of the same
 * guestKey() adopts it (the constructor's `adopt`) instead of building its own.
 */
export interface BridgeGuest {
  readonly route: { b: Bridge | undefined };
  readonly require: QuickJSHandle;
  readonly stackFn: QuickJSHandle;
  readonly handleForFn: QuickJSHandle;
  readonly nameOfFn: QuickJSHandle;
  readonly isProxyFn: QuickJSHandle;
  readonly mkBigFn: QuickJSHandle;
  readonly hungryH: QuickJSHandle;
  readonly shadowH: QuickJSHandle;
  readonly setTakeFn: QuickJSHandle;
}

/** A constant's value as the spec carries it: an address as its hex text, a string, or a number. */
function specValue(e: Extract<ApiEntry, { kind: "constant" }>, env: CallEnv): string | number {
  const v = e.value(env.k);
  return e.type === "addr" ? "0x" + BigInt(v).toString(16) : e.type === "string" ? String(v) : Number(v);
}

/** The prelude's spec key: the sites, the functions called at one, the constants' values (made once per rows array). */
function specKeyOf(entries: readonly ApiEntry[], env: CallEnv, nSites: number, sitedNames: ReadonlySet<string>): string {
  let sited = "";
  const values: (string | number)[] = [];
  for (const e of entries) {
    if (e.kind === "function") sited += sitedNames.has(e.name) ? "1" : "0";
    else if (e.kind === "constant") values.push(specValue(e, env));
  }
  return JSON.stringify([nSites, sited, values]);
}

/** The prelude compiled in a context: the function a Bridge calls with its natives and spec (the caller owns it). */
export function compilePrelude(ctx: QuickJSContext): QuickJSHandle {
  return ctx.unwrapResult(ctx.evalCode(PRELUDE, PRELUDE_FILE));
}

const entryIds = new WeakMap<readonly ApiEntry[], number>();
let nextEntryId = 0;

/**
 * What decides everything a Bridge's constructor makes in the guest (restore.ts keeps one prepared runtime per key):
 * the rows (by identity: rows.ts caches them), the prelude's spec key (the cell's sites, the functions called at
 * one, the constants' values on this kernel), the address width, and whether raw host functions serve the sites.
 */
export function guestKey(entries: readonly ApiEntry[], env: CallEnv, sites: readonly number[], sitedNames: ReadonlySet<string>, raw: boolean): string {
  let id = entryIds.get(entries);
  if (id === undefined) entryIds.set(entries, (id = nextEntryId++));
  return `${id} ${raw ? 1 : 0} ${env.k.layout?.bits ?? 64} ${specKeyOf(entries, env, sites.length - 1, sitedNames)}`;
}

export class Bridge {
  calls = 0;
  printed = 0;
  /** Kernel calls since enter() last read the clock (CLOCK_EVERY; the first call reads it). */
  private sinceClock = CLOCK_EVERY - 1;
  stop: Stop | null = null;
  /** Wall-clock time (hooks.now) at which the run may be past its CPU limit: pastDeadline() decides. */
  deadline: number;
  /** When the limit started: wall time, and the thread's CPU time when hooks.cpuNow can read it. */
  private limitStart = { wall: 0, cpu: NaN };
  readonly require: QuickJSHandle;
  private readonly stackFn: QuickJSHandle;
  private readonly handleForFn: QuickJSHandle;
  private readonly nameOfFn: QuickJSHandle;
  private readonly isProxyFn: QuickJSHandle;
  private readonly mkBigFn: QuickJSHandle;
  /** The prelude's setTake, and whether its takeStack is made (1), not yet (0) or could not be (2): setHungry. */
  private readonly setTakeFn: QuickJSHandle;
  /** What the constructor made in the guest, or adopted (restore.ts keeps it). */
  readonly guest: BridgeGuest;
  private takeState: 0 | 1 | 2 = 0;
  private readonly owned: QuickJSHandle[] = [];
  /**
   * Each kernel thread's generator still suspended (coroutine): a thread that never runs to its end (asleep past the
   * run's end, or on a CPU a deadlock left atomic) holds its generator until dispose(), or JS_FreeRuntime would
   * assert list_empty(&rt->gc_obj_list) and abort.
   */
  private readonly suspended = new Set<() => void>();
  private readonly cookies: QuickJSHandle[] = [];
  private readonly cookieObjs: Cookie[] = [];
  private readonly guestFns = new WeakMap<HostCallback, { fh: QuickJSHandle; sig: CallbackSig }>();
  private readonly addrBits: number;
  /** The guest stack of the current host call, parsed once however many times the kernel asks (null: not yet). */
  private stackCache: CellFrame[] | null = null;
  /** Stack texts -> their cell frames (framesOf), for this run's scopes and columns: set at the first parse. */
  private parsedStacks: Map<string, CellFrame[]> | undefined = undefined;
  private parsedFor: object | undefined = undefined;
  /** The cell's function scopes (transpile.ts), naming its anonymous frames; set by the run before the cell runs. */
  cellScopes: readonly CellScope[] = [];
  /** The kernel-call site of the current host call (transpile.ts markSites), 0: none or unknown. */
  private site = 0;
  /** Each site's innermost cell frame, from the first walk of the guest stack at a call from it (innermostFrame). */
  private readonly siteFrames: (CellFrame | undefined)[] = [];
  /** The row of the current host call (-1: none). */
  private row = -1;
  /** The frames the wrapper took for the current host call (STACK_BIT), null when it took none. */
  private attached: CellFrame[] | null = null;
  private attachedUsed = false;
  /** Shadow-stack nodes (setNode): the kernel-call site, the depth and the frames (null: they failed the check). */
  private readonly nodeSite: number[] = [];
  private readonly nodeDepth: number[] = [];
  private readonly nodeFrames: (CellFrame[] | null)[] = [];
  /** The frames of the current host call's node, when the host holds them; its depth (0: none or unknown). */
  private nodeAttached: CellFrame[] | null = null;
  private nodeFramesHeld = 0;
  private nodeDepthNow = 0;
  /** The prelude's shadow-stack array (shadow.ts): [0] is the next function's depth. */
  private readonly shadowH: QuickJSHandle;
  /** The instrumented code's columns -> the cell's (shadow.ts), when the run uses it. */
  cellColumns: ColumnMap | undefined = undefined;
  /** The guest stacks the wrapper named (setStack): id -> frames. */
  private readonly stacksById = new Map<number, CellFrame[]>();
  /** The id the wrapper named last (the next call with STACK_BIT carries it). */
  private pendingStack = 0;
  /** Per row: walks in a row (>= 0), or, while the wrapper takes its stack, -(calls in a row that left it unread). */
  private readonly streak = new Int16Array(MAX_ROWS);
  /** The prelude's array of rows whose wrapper takes the stack (set on a row's change only). */
  private readonly hungryH: QuickJSHandle;
  /** How deep the guest is in nested module calls (init -> sim.advance -> timer callback ...). */
  depth = 0;
  /** A table call may return its number result as a plain number (quickjs.ts hostNumberResults). */
  private readonly numbers: boolean;
  /**
   * Addresses made once on this side too (as the prelude interns them): an address result's number and bigint, so
   * passing it back (kfree(p)) decodes with a lookup, and returning it again encodes with one. Cleared at 4096.
   */
  private readonly addrNums = new Map<bigint, number>();
  private readonly addrBigs = new Map<number, bigint>();
  private remember(n: number, b: bigint): void {
    if (this.addrNums.size >= 4096) {
      this.addrNums.clear();
      this.addrBigs.clear();
    }
    this.addrNums.set(b, n);
    this.addrBigs.set(n, b);
  }
  /** The guest's bigints of address results (hostCall): made once each. */
  private readonly bigHandles = new Map<bigint, QuickJSHandle>();
  /** 2^addrBits: addresses are below it. */
  private readonly addrLimit: bigint;
  /** Each row's RowShape, made at its first call. */
  private readonly shapes = new Map<FunctionEntry, RowShape>();
  /** The same by the row's id in this bridge's guest (its raw host functions', read with no Map lookup per call). */
  private readonly rowShapes: (RowShape | undefined)[] = [];
  /** A copy of a held guest value for QuickJS to take over, by its JSValue pointer (quickjs.ts rawDupper). */
  private readonly dupPtr: (ptr: number) => number;

  constructor(
    readonly ctx: QuickJSContext,
    readonly rt: QuickJSRuntime,
    readonly env: CallEnv,
    entries: readonly ApiEntry[],
    readonly limits: Limits,
    readonly hooks: BridgeHooks,
    /** The cell's kernel-call sites: sites[n] is site n's line (transpile.ts markSites). */
    readonly sites: readonly number[] = [0],
    /** The functions called at a site: only theirs get the site-taking call() (a namespace import makes none). */
    sitedNames: ReadonlySet<string> = new Set(),
    /**
     * Serve the calls at the cell's kernel-call sites with raw host functions (hostCall), reading arguments with
     * this; undefined: the prelude's wrappers serve them (a kernel that reads the guest's stack at every allocation
     * keeps them: they take the stack, and the shadow stack's depth, in the guest).
     */
    raw?: RawValues,
    /**
     * The guest half an earlier Bridge of the same guestKey() made, in a runtime restore.ts put back: adopted (its host
     * functions serve this bridge from now on), nothing built.
     */
    adopt?: BridgeGuest,
    /** The prelude's function, compiled in this context before (compilePrelude), when not adopting: used, not freed. */
    compiled?: QuickJSHandle,
  ) {
    this.addrBits = env.k.layout?.bits ?? 64;
    this.addrLimit = 1n << BigInt(this.addrBits);
    this.numbers = hostNumberResults(ctx);
    this.dupPtr = rawDupper(ctx);
    this.deadline = Infinity; // set when the prelude is in place: the CPU limit is the module's, not the bridge's
    if (adopt !== undefined) {
      adopt.route.b = this;
      this.guest = adopt;
      this.require = adopt.require;
      this.stackFn = adopt.stackFn;
      this.handleForFn = adopt.handleForFn;
      this.nameOfFn = adopt.nameOfFn;
      this.isProxyFn = adopt.isProxyFn;
      this.mkBigFn = adopt.mkBigFn;
      this.hungryH = adopt.hungryH;
      this.shadowH = adopt.shadowH;
      this.setTakeFn = adopt.setTakeFn;
      this.startDeadline();
      this.armInterrupt();
      return;
    }
    // Built by a static function: the host functions' closures share the scope they are made in, and the kept copy
    // of the runtime (restore.ts) keeps them; made here, that scope would hold this Bridge, and through it the run's
    // kernel and call log, for as long as the copy is kept (restore.test.ts "not kept alive").
    this.guest = Bridge.buildGuest(this, ctx, env, entries, sites, sitedNames, raw, compiled);
    this.require = this.guest.require;
    this.stackFn = this.guest.stackFn;
    this.handleForFn = this.guest.handleForFn;
    this.nameOfFn = this.guest.nameOfFn;
    this.isProxyFn = this.guest.isProxyFn;
    this.mkBigFn = this.guest.mkBigFn;
    this.hungryH = this.guest.hungryH;
    this.shadowH = this.guest.shadowH;
    this.setTakeFn = this.guest.setTakeFn;
    this.owned.push(this.require, this.stackFn, this.handleForFn, this.nameOfFn, this.isProxyFn, this.hungryH, this.shadowH, this.mkBigFn, this.setTakeFn);
    this.startDeadline();
    this.armInterrupt();
  }

  /** The interrupt handler of this bridge's run (restore.ts drops it when the run's runtime goes back to its copy). */
  private armInterrupt(): void {
    this.rt.setInterruptHandler(() => this.interrupt());
  }

  /**
   * The guest half of a bridge (see BridgeGuest): the prelude called with its natives and spec. Its host functions
   * reach the bridge serving them through the route (`first` now; a later run's Bridge adopting the guest takes it
   * over). Static, so that no closure made here can hold a Bridge: only the route does, and dispose() clears it.
   */
  private static buildGuest(
    first: Bridge,
    ctx: QuickJSContext,
    env: CallEnv,
    entries: readonly ApiEntry[],
    sites: readonly number[],
    sitedNames: ReadonlySet<string>,
    raw: RawValues | undefined,
    compiled: QuickJSHandle | undefined,
  ): BridgeGuest {
    const route: { b: Bridge | undefined } = { b: first };

    // The prelude's function, compiled first: the same for every run (restore.ts keeps a runtime with it compiled).
    const fn = compiled ?? compilePrelude(ctx);

    // One host function serves every table function (the prelude's wrapper passes the row's id and the argument
    // mask as `this`, see maskOf): a run creates a handful of host functions, not one per export.
    const natives = ctx.newObject();
    const fns: FunctionEntry[] = [];
    const nSites = sites.length - 1;
    Bridge.setFn(ctx, natives, "dispatch", "linux", (hs, self) => route.b!.dispatch(hs, self, fns, nSites));
    // The wrapper's stack of a call: id (and, the first time, its text; reset: the wrapper forgot its ids).
    Bridge.setFn(ctx, natives, "setStack", "setStack", (hs) => route.b!.setStack(hs));
    // A shadow-stack node the prelude met first (prelude.ts siteCode): its site, its depth and its stack, checked.
    Bridge.setFn(ctx, natives, "setNode", "setNode", (hs) => route.b!.setNode(hs, nSites));
    const spec = {
      functions: [] as unknown[],
      classes: [] as unknown[],
      variables: [] as unknown[],
      constants: [] as unknown[],
      sites: nSites,
      siteUnit: SITE_UNIT,
      stackBit: STACK_BIT,
      nodeBit: NODE_BIT,
      maxNodes: MAX_NODES,
      shadowUnit: SHADOW_SITE_UNIT,
      shadowSlots: SHADOW_SLOTS,
      shadowUnknown: SHADOW_UNKNOWN,
      shadowRequire: SHADOW_REQUIRE,
    };
    try {
      const classes = new Map(entries.filter((e): e is ClassEntry => e.kind === "class").map((c) => [c.name, c]));
      const madeWith = (type: string) => classes.get(type)?.madeWith ?? `new ${type}()`;
      for (const e of entries) {
        const key = keyOf(e);
        switch (e.kind) {
          case "function": {
            const addrParams = paramIndexes(e, (t) => t === "addr");
            const numParams = paramIndexes(e, (t) => NUMERIC.has(t));
            const id = fns.push(e) - 1;
            if (id >= MAX_ROWS) throw new Error(`the bridge numbers at most ${MAX_ROWS} functions (bindings.ts MAX_ROWS)`);
            const handles = e.params
              .map((p, index) => ({ index, param: p.name, type: p.type.startsWith("handle:") ? p.type.slice(7) : "" }))
              .filter((h) => h.type)
              .map((h) => ({ ...h, madeWith: madeWith(h.type), article: /^[aeiou]/i.test(h.type) ? "an" : "a" }));
            const returnsHandle = e.returns.startsWith("handle:") ? e.returns.slice(7) : null;
            // handles are checked in the guest (its WeakMap): those rows keep the wrapper
            if (raw && sitedNames.has(e.name) && handles.length === 0 && returnsHandle === null) {
              // the row's shape is the serving bridge's: it holds the run's call-log view of the row (logFn)
              const body = (argc: number, argv: number) => {
                const b = route.b!;
                return b.hostCall(e, id, b.rowShapes[id] ?? b.shapeOf(e, id), argc, argv, raw);
              };
              const h = newRawFunction(ctx, "call", 1, body);
              if (h) {
                ctx.setProp(natives, `call:${id}`, h);
                h.dispose();
              }
            }
            spec.functions.push({
              row: id,
              sited: sitedNames.has(e.name),
              code: id * CODE_ID,
              name: e.name,
              module: e.module,
              handles,
              returnsHandle,
              addrParams,
              numParams,
              returnsAddr: e.returns === "addr",
            });
            break;
          }
          case "class":
            if (e.create) {
              const create = e.create;
              Bridge.setFn(ctx, natives, key, e.name, () => {
                const b = route.b!;
                return b.guarded(e.name, () => ctx.newNumber(create(b.env)));
              });
            }
            spec.classes.push({ name: e.name, module: e.module, create: e.create ? key : null, madeWith: e.madeWith ?? `new ${e.name}()` });
            break;
          case "variable": {
            const get = e.get;
            const type = e.type;
            Bridge.setFn(ctx, natives, key, `get ${e.name}`, () => {
              const b = route.b!;
              return b.guarded(e.name, () => b.toGuestScalar(get(b.env), type));
            });
            spec.variables.push({ name: e.name, module: e.module, getter: key });
            break;
          }
          case "constant": {
            // Values travel in the spec's JSON: a bigint as its hex text, made a bigint by the prelude.
            const value = specValue(e, env);
            spec.constants.push({ name: e.name, module: e.module, big: e.type === "addr", value });
            break;
          }
        }
      }
      // The spec's text is the same for every run of a cell on one kernel (the grader runs one text hundreds of times):
      // made once per rows array (rows.ts caches it), sites, and constants' values.
      let texts = specTexts.get(entries);
      if (texts === undefined) specTexts.set(entries, (texts = new Map()));
      const specKey = JSON.stringify([
        nSites,
        spec.functions.map((f) => ((f as { sited: boolean }).sited ? 1 : 0)).join(""),
        spec.constants.map((c) => (c as { value: unknown }).value),
      ]);
      let specText = texts.get(specKey);
      if (specText === undefined) {
        if (texts.size >= 16) texts.clear();
        texts.set(specKey, (specText = JSON.stringify(spec)));
      }
      const specH = ctx.newString(specText);
      const outRes = ctx.callFunction(fn, ctx.undefined, natives, specH);
      if (fn !== compiled) fn.dispose();
      specH.dispose();
      const out = ctx.unwrapResult(outRes);
      const guest: BridgeGuest = {
        route,
        require: ctx.getProp(out, "require"),
        stackFn: ctx.getProp(out, "stack"),
        handleForFn: ctx.getProp(out, "handleFor"),
        nameOfFn: ctx.getProp(out, "nameOf"),
        isProxyFn: ctx.getProp(out, "isProxy"),
        mkBigFn: ctx.getProp(out, "mkBig"),
        hungryH: ctx.getProp(out, "hungry"),
        shadowH: ctx.getProp(out, "shadow"),
        setTakeFn: ctx.getProp(out, "setTake"),
      };
      out.dispose();
      return guest;
    } finally {
      natives.dispose();
      if (fn !== compiled && fn.alive) fn.dispose();
    }
  }

  /** The prelude's wrappers' one host function: `self` codes the row, the site, the node and the argument mask (maskOf). */
  private dispatch(
    hs: QuickJSHandle[],
    self: QuickJSHandle,
    fns: readonly FunctionEntry[],
    nSites: number,
  ): QuickJSHandle | number | { error: QuickJSHandle } | undefined {
    let coded = this.ctx.getNumber(self);
    const withNode = coded >= NODE_BIT;
    if (withNode) coded -= NODE_BIT;
    const withStack = coded >= STACK_BIT;
    const code = withStack ? coded - STACK_BIT : coded;
    let site = Math.floor(code / SITE_UNIT);
    const rest = code - site * SITE_UNIT;
    const id = Math.floor(rest / CODE_ID);
    const e = fns[id];
    let node = 0;
    if (withNode) {
      node = site;
      site = this.nodeSite[node] ?? -1;
    }
    if (e === undefined || !(code >= 0) || !(site >= 0) || site > nSites) return this.errorHandle("TypeError", "not a kernel function");
    const outerNode = this.nodeAttached;
    const outerDepth = this.nodeDepthNow;
    this.nodeAttached = withNode ? this.nodeFrames[node] : null;
    this.nodeDepthNow = withNode ? this.nodeDepth[node] : 0;
    const outer = this.site;
    const outerRow = this.row;
    const outerAttached = this.attached;
    const outerUsed = this.attachedUsed;
    this.site = site;
    this.row = id;
    this.attached = withStack ? (this.stacksById.get(this.pendingStack) ?? null) : null;
    this.attachedUsed = false;
    try {
      return this.call(e, hs, rest - id * CODE_ID);
    } finally {
      if (this.attached !== null && !this.attachedUsed && this.streak[id] <= 0 && --this.streak[id] <= -UNHUNGRY) this.setHungry(id, false);
      this.leaveSite(outer, outerNode, outerDepth, outerRow, outerAttached, outerUsed);
    }
  }

  /** The wrapper's stack of a call (the setStack host function). */
  private setStack(hs: QuickJSHandle[]): undefined {
    const id = this.ctx.getNumber(hs[0]);
    if (hs[2] !== undefined && this.ctx.typeof(hs[2]) === "boolean") this.stacksById.clear();
    if (hs[1] !== undefined && this.ctx.typeof(hs[1]) === "string")
      this.stacksById.set(id, this.framesOf(shortString(this.ctx, hs[1], MAX_STACK_TEXT_CHARS) ?? ""));
    this.pendingStack = id;
    return undefined;
  }

  /** A shadow-stack node the prelude met first (the setNode host function). */
  private setNode(hs: QuickJSHandle[], nSites: number): QuickJSHandle {
    const sites = this.sites;
    const [n, site, depth] = [0, 1, 2].map((i) => (hs[i] !== undefined && this.ctx.typeof(hs[i]) === "number" ? this.ctx.getNumber(hs[i]) : -1));
    const ok = Number.isInteger(n) && n > 0 && n <= MAX_NODES && this.nodeSite[n] === undefined && Number.isInteger(site) && site > 0 && site <= nSites;
    if (!ok || !Number.isInteger(depth) || depth < 1) return this.ctx.false;
    const text = hs[3] !== undefined && this.ctx.typeof(hs[3]) === "string" ? (shortString(this.ctx, hs[3], MAX_STACK_TEXT_CHARS) ?? "") : "";
    const frames = this.framesOf(text);
    // as many cell frames as the depth, the innermost on the site's line: else the node's calls walk, as before
    // (held frames are bounded: a deep recursion allocating at every level makes a node per level)
    const good = frames.length === depth && frames[0]?.line === sites[site] && (this.nodeFramesHeld += depth) <= MAX_NODE_FRAMES;
    this.nodeSite[n] = site;
    this.nodeDepth[n] = depth;
    this.nodeFrames[n] = good ? frames : null;
    return good ? this.ctx.true : this.ctx.false;
  }

  private static setFn(
    ctx: QuickJSContext,
    obj: QuickJSHandle,
    key: string,
    name: string,
    body: (hs: QuickJSHandle[], self: QuickJSHandle) => QuickJSHandle | number | { error: QuickJSHandle } | undefined,
  ) {
    const f = ctx.newFunction(name, function (this: QuickJSHandle, ...hs) {
      return body(hs, this) as QuickJSHandle | undefined; // a number only where hostNumberResults said so
    });
    ctx.setProp(obj, key, f);
    f.dispose();
  }

  /** The CPU limit starts now (the prelude is in place: the limit is the module's, not the bridge's). */
  private startDeadline(): void {
    const wall = this.hooks.now();
    this.deadline = wall + this.limits.cpuMs;
    this.limitStart = { wall, cpu: this.hooks.cpuNow?.() ?? NaN };
  }

  /**
   * Whether the run is past its CPU limit. The wall clock first: before the deadline the thread cannot have had more
   * CPU time than that. Past it, where the thread's CPU time can be read, the deadline moves on by the CPU time still
   * left, so a loaded machine does not shorten the limit; WALL_CAP_FACTOR times the limit of wall time ends it all
   * the same (a starved or blocked thread).
   */
  pastDeadline(): boolean {
    const t = this.hooks.now();
    if (t <= this.deadline) return false;
    const start = this.limitStart;
    if (Number.isNaN(start.cpu)) return true;
    const give = wallTimeToGive((this.hooks.cpuNow?.() ?? NaN) - start.cpu, this.limits.cpuMs, t, start.wall + this.limits.cpuMs * WALL_CAP_FACTOR);
    if (give === 0) return true;
    this.deadline = t + give;
    return false;
  }

  private interrupt(): boolean {
    if (this.stop) return true;
    if (this.pastDeadline()) {
      this.stop = { kind: "limit", limit: "cpu" };
      this.stopTask = this.env.k.current ?? null;
      return true;
    }
    return false;
  }

  /** Stop the whole run for a limit (keeps the first reason). */
  stopFor(limit: LimitName, nesting = false, hostStack = false): void {
    if (!this.stop || this.stop.kind === "kill") {
      // A nesting stop is seen far from the recursion (each level unwinds through the kernel): keep the innermost
      // cell frames now, while the guest can still say where it is.
      if (nesting || hostStack) {
        try {
          this.stopFrames = this.guestFrames();
        } catch {
          this.stopFrames = null; // the host's stack itself ran out: the unwinding error's frames will do
        }
      }
      this.stop = nesting ? { kind: "limit", limit, nesting } : hostStack ? { kind: "limit", limit, hostStack } : { kind: "limit", limit };
      this.stopTask = this.env.k.current ?? null;
    }
  }

  /** The task that was running when the run was stopped (a kernel thread's, say): by the time the report is made,
   *  the stack has unwound and `current` is insmod again. */
  stopTask: { comm: string; pid: number } | null = null;

  /** The cell's frames where a nesting stop happened (innermost first), for the limit report. */
  stopFrames: CellFrame[] | null = null;

  private errorHandle(name: "TypeError" | "RangeError" | "Error" | "InternalError", message: string): { error: QuickJSHandle } {
    return { error: this.ctx.newError({ name, message }) };
  }

  /** Run host work for the guest: turn stops, kills, argument errors and kernel bugs into guest errors. */
  private guarded(fn: string, work: () => QuickJSHandle | undefined): QuickJSHandle | { error: QuickJSHandle } | undefined {
    const refused = this.enter();
    if (refused !== undefined) return refused;
    try {
      return work();
    } catch (e) {
      return this.failed(fn, e);
    } finally {
      this.stackCache = null;
    }
  }

  /** Before host work for the guest: the CPU deadline and the kernel-call limit (an error handle when refused). */
  private enter(): { error: QuickJSHandle } | undefined {
    // The CPU deadline, every CLOCK_EVERY host calls: QuickJS asks its interrupt handler only every few thousand
    // guest bytecodes, so a loop of two long kernel calls (vmalloc(400 MiB) + vfree) would otherwise run thousands of
    // them past the limit before the handler looks.
    if (this.stop === null && ++this.sinceClock >= CLOCK_EVERY) {
      this.sinceClock = 0;
      if (this.pastDeadline()) this.stopFor("cpu");
    }
    if (this.stop) return this.errorHandle("InternalError", "interrupted");
    if (++this.calls > this.limits.kernelCalls) {
      this.stopFor("kernel-calls");
      return this.errorHandle("InternalError", "interrupted");
    }
    this.stackCache = null;
    return undefined;
  }

  /** Host work for the guest threw: the guest error it becomes. */
  private failed(fn: string, e: unknown): { error: QuickJSHandle } {
    if (e instanceof ArgError) return this.errorHandle("TypeError", e.message);
    if (e instanceof GuestError) return this.errorHandle(e.guestName, e.message);
    if (e instanceof RunStopped) return this.errorHandle("InternalError", "interrupted");
    if (isTaskKill(e)) {
      if (!this.stop) this.stop = { kind: "kill" };
      return this.errorHandle("InternalError", "interrupted");
    }
    // A bug in the simulator, not in the module: say so plainly.
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof RangeError && /call stack/i.test(msg)) {
      // The host's own stack ran out inside the kernel's work for the module (the module's recursion took it, with or
      // without module -> kernel -> module nesting, which MAX_NESTING stops first): the stack limit, never a
      // simulator bug, and said as what happened ("the host's stack ran out"), not as MAX_NESTING nested calls.
      this.stopFor("stack", false, true);
      return this.errorHandle("InternalError", "interrupted");
    }
    if (/out of memory/.test(msg)) {
      this.stopFor("memory");
      return this.errorHandle("InternalError", "out of memory");
    }
    const title = `kmodlab internal error: the simulated kernel failed inside ${fn}: ${msg}`;
    this.env.k.report({
      kind: "bug",
      title,
      text: `${title}\n${e instanceof Error ? e.stack : ""}`,
      explain: "This is a bug in the simulator (kmodlab), not in your module.",
    });
    return this.errorHandle("InternalError", title);
  }

  /** One host call of a table function (guarded's steps, without a closure per call). `mask`: see CODE_ID. */
  private call(e: FunctionEntry, hs: QuickJSHandle[], mask: number): QuickJSHandle | number | { error: QuickJSHandle } | undefined {
    const refused = this.enter();
    if (refused !== undefined) return refused;
    try {
      const sh = this.shapeOf(e);
      const r = this.invokeRow(e, this.readArgs(e, hs, mask, sh));
      switch (sh.ret) {
        case RET_VOID:
          return undefined;
        case RET_ADDR:
          return this.addrToGuest(r as bigint | number); // the wrapper decodes a number
        case RET_INT:
          return this.numbers && typeof r !== "bigint" ? Number(r) : this.toGuestScalar(r, "int");
        case RET_NUMBER:
          return this.numbers && typeof r !== "bigint" ? Number(r) : this.toGuestScalar(r, e.returns);
        default:
          return this.toGuestScalar(r, e.returns);
      }
    } catch (err) {
      return this.failed(e.name, err);
    } finally {
      this.stackCache = null;
    }
  }

  /** The row's work once its arguments are read: its availability, its impl (the log's budget for print rows), the call log. */
  private invokeRow(e: FunctionEntry, args: unknown[]): unknown {
    const missing = e.missing?.(this.env.k);
    if (missing) throw new GuestError("Error", `${e.name}: ${missing}`);
    let r: unknown;
    if (e.countsLog) {
      // The log limit is checked before a record is stored: the kernel's log refuses a message past the budget.
      const log = this.env.k.log;
      log.budget = this.limits.logBytes - this.printed;
      const records = log.records?.length ?? 0;
      try {
        r = e.impl(this.env, ...args);
      } catch (err) {
        if (!(err instanceof LogBudgetExceeded)) throw err;
        this.stopFor("log");
        throw new RunStopped(this.stop!);
      } finally {
        log.budget = Infinity;
      }
      // each record the call made counts its header too (limits.ts LOG_RECORD_BYTES)
      this.printed += (typeof r === "number" ? r : 0) + LOG_RECORD_BYTES * ((log.records?.length ?? 0) - records);
    } else {
      const env = this.env;
      switch (args.length) {
        case 0:
          r = e.impl(env);
          break;
        case 1:
          r = e.impl(env, args[0]);
          break;
        case 2:
          r = e.impl(env, args[0], args[1]);
          break;
        case 3:
          r = e.impl(env, args[0], args[1], args[2]);
          break;
        default:
          r = e.impl(env, ...args);
      }
    }
    this.hooks.log?.record(e.name, args, r);
    return r;
  }

  /**
   * A call at one of the cell's kernel-call sites, served without the prelude's wrapper (a raw host function, see
   * the constructor's `raw`): argv[0] is the site, the cell's arguments follow. The same steps as dispatch() and
   * call(): plain numbers and addresses are read where they lie; any other argument, a count that is not the row's
   * own, or a value a check refuses, takes call()'s path through handles, and its message.
   */
  private hostCall(e: FunctionEntry, id: number, sh: RowShape, argc: number, argv: number, raw: RawValues): number | { error: QuickJSHandle } {
    raw.sync();
    let site = 0;
    if (argc > 0) {
      const t = raw.tag(argv);
      if (t === TAG_INT || t === TAG_FLOAT64) {
        const s = raw.number(argv);
        if (s > 0 && s < this.sites.length && s === (s | 0)) site = s; // else a cell's own call(): no site, as the wrapper took it
      }
    }
    const outerNode = this.nodeAttached;
    const outerDepth = this.nodeDepthNow;
    const outer = this.site;
    const outerRow = this.row;
    const outerAttached = this.attached;
    const outerUsed = this.attachedUsed;
    this.nodeAttached = null;
    this.nodeDepthNow = 0;
    this.site = site;
    this.row = id;
    this.attached = null;
    this.attachedUsed = false;
    try {
      const refused = this.enter();
      if (refused !== undefined) return refused;
      try {
        const n = argc > 0 ? argc - 1 : 0;
        if (sh.fast && n === sh.fixed) {
          // each argument read where it lies, no array: rawArg's value, its number in argNums
          const p = argv + 8;
          const v0 = n > 0 ? this.rawArg(sh, 0, p, raw) : 0;
          const v1 = n > 1 && v0 !== undefined ? this.rawArg(sh, 1, p + 8, raw) : 0;
          const v2 = n > 2 && v1 !== undefined ? this.rawArg(sh, 2, p + 16, raw) : 0;
          if (v0 !== undefined && v1 !== undefined && v2 !== undefined) return this.rawRow(sh, n, v0, v1, v2);
        }
        let args = this.rawArgs(e, sh, n, argv + 8, raw);
        if (args === undefined) {
          const hs = borrowArgs(this.ctx, n, argv + 8);
          try {
            args = this.readArgs(e, hs, 0, sh);
          } finally {
            for (const h of hs) h.dispose();
          }
        }
        return this.rawResult(sh, this.invokeRow(e, args));
      } catch (err) {
        return this.failed(e.name, err);
      } finally {
        this.stackCache = null;
      }
    } finally {
      this.leaveSite(outer, outerNode, outerDepth, outerRow, outerAttached, outerUsed);
    }
  }

  /** hostCall's arguments as numbers (an address's: its encodeAddr number), for the call log (recordNumeric). */
  private readonly argNums = new Float64Array(3);
  /** The last address result of a raw call: its bigint, number and the guest bigint's JSValue (hostCall, rawRow). */
  private lastRet: bigint | undefined = undefined;
  /** lastRet is an address rawArg takes (checkAddr's range: [0, 2^addrBits)). */
  private lastRetOk = false;
  private lastRetNum = 0;
  private lastRetPtr = 0;

  /**
   * Argument i of a fast row (RowShape.fast), read at p as readArgs would read it: a number, or an address's bigint;
   * its number goes to argNums[i]. Undefined when it is not a plain number or address its check takes (the caller
   * then reads them all through handles, with call()'s messages).
   */
  private rawArg(sh: RowShape, i: number, p: number, raw: RawValues): number | bigint | undefined {
    const t = raw.tag(p);
    if (sh.kinds[i] === P_NUM) {
      if (t !== TAG_INT && t !== TAG_FLOAT64) return undefined;
      const v = raw.number(p);
      const range = sh.ranges[i];
      if (!Number.isSafeInteger(v) || (range !== N_INT && (v < 0 || (range === N_GFP && v > 0xffffffff)))) return undefined;
      this.argNums[i] = v;
      return v;
    }
    if (t !== TAG_SHORT_BIG_INT && t !== TAG_BIG_INT) return undefined;
    const a = raw.addrNumber(p);
    if (a === undefined) return undefined;
    let b: bigint;
    if (a === this.lastRetNum && this.lastRet !== undefined) {
      // the last address result, passed back (kfree(kmalloc(...))): its range checked once, when it was returned
      if (!this.lastRetOk) return undefined;
      b = this.lastRet;
    } else {
      b = this.addrBigs.get(a) ?? decodeAddr(a);
      if (!(b >= 0n && b < this.addrLimit)) return undefined; // checkAddr's message, through handles
    }
    this.argNums[i] = a;
    return b;
  }

  /** A fast row's call once its arguments are read (invokeRow's steps and rawResult's, without an array). */
  private rawRow(sh: RowShape, n: number, v0: unknown, v1: unknown, v2: unknown): number {
    const env = this.env;
    // taken before the impl runs: a callback it calls makes raw calls of its own
    const a0 = this.argNums[0];
    const a1 = this.argNums[1];
    const a2 = this.argNums[2];
    if (sh.missing !== null) {
      const missing = sh.missing(env.k);
      if (missing) throw new GuestError("Error", `${sh.name}: ${missing}`);
    }
    const impl = sh.impl;
    const r = n === 0 ? impl(env) : n === 1 ? impl(env, v0) : n === 2 ? impl(env, v0, v1) : impl(env, v0, v1, v2);
    const log = this.hooks.log;
    let info: CallLogFn | undefined;
    // the call's line as the log's lineOf (run.ts: this bridge's innermostFrame) would give it, when the site's frame
    // is known; else NaN, and the log asks lineOf
    let line = NaN;
    if (log !== undefined) {
      info = sh.logFn ??= log.infoOf(sh.name);
      const f = this.site > 0 ? this.siteFrames[this.site] : undefined;
      if (f !== undefined) line = f.line;
    }
    if (sh.ret !== RET_ADDR) {
      if (info !== undefined) log!.recordNumeric(info, n, a0, a1, a2, sh.addrs, r, NaN, line);
      return this.rawResult(sh, r);
    }
    const b = typeof r === "bigint" ? r : BigInt(r as number);
    if (b === this.lastRet) {
      if (info !== undefined) log!.recordNumeric(info, n, a0, a1, a2, sh.addrs, r, this.lastRetNum, line);
      return this.dupPtr(this.lastRetPtr);
    }
    // as addrToGuest: passing it back (kfree(p)) finds its bigint by its number
    let num = this.addrNums.get(b);
    if (num === undefined) {
      num = encodeAddr(b);
      if (num !== undefined) this.remember(num, b);
    }
    if (info !== undefined) log!.recordNumeric(info, n, a0, a1, a2, sh.addrs, r, num ?? NaN, line);
    const ptr = this.bigintHandle(b).value as unknown as number;
    if (num !== undefined) {
      this.lastRet = b;
      this.lastRetOk = b >= 0n && b < this.addrLimit;
      this.lastRetNum = num;
      this.lastRetPtr = ptr;
    }
    return this.dupPtr(ptr);
  }

  /** A kernel-call site's end: the outer call's site, node and stack back in place (both call paths; no object per call). */
  private leaveSite(site: number, node: typeof this.nodeAttached, depth: number, row: number, attached: typeof this.attached, used: boolean): void {
    this.site = site;
    this.nodeAttached = node;
    this.nodeDepthNow = depth;
    this.row = row;
    this.attached = attached;
    this.attachedUsed = used;
  }

  /**
   * A row's arguments read from memory when each is a number or an address its check takes (readArgs' result for
   * them), else undefined: the caller reads them through handles (call()'s checks, and their messages).
   */
  private rawArgs(e: FunctionEntry, sh: RowShape, n: number, argv: number, raw: RawValues): unknown[] | undefined {
    if (!sh.simple || n !== sh.fixed) return undefined;
    const out = new Array<unknown>(n);
    const ps = e.params;
    for (let i = 0; i < n; i++) {
      const p = argv + 8 * i;
      const t = raw.tag(p);
      if (sh.kinds[i] === P_NUM) {
        if (t !== TAG_INT && t !== TAG_FLOAT64) return undefined;
        const v = raw.number(p);
        const type = ps[i].type;
        if (!Number.isSafeInteger(v) || (type !== "int" && (v < 0 || (type === "gfp" && v > 0xffffffff)))) return undefined;
        out[i] = v;
      } else {
        if (t !== TAG_SHORT_BIG_INT && t !== TAG_BIG_INT) return undefined;
        const a = raw.addrNumber(p);
        if (a === undefined) return undefined;
        const b = this.addrBigs.get(a) ?? decodeAddr(a);
        if (!(b >= 0n && b < this.addrLimit)) return undefined; // checkAddr's message, through handles
        out[i] = b;
      }
    }
    return out;
  }

  /** A row's result as a JSValue pointer QuickJS takes over (hostCall). */
  private rawResult(sh: RowShape, r: unknown): number {
    switch (sh.ret) {
      case RET_VOID:
        return 0;
      case RET_ADDR: {
        const b = typeof r === "bigint" ? r : BigInt(r as number);
        if (!this.addrNums.has(b)) {
          // as addrToGuest: passing it back (kfree(p)) finds its bigint by its number
          const n = encodeAddr(b);
          if (n !== undefined) this.remember(n, b);
        }
        return rawDup(this.ctx, this.bigintHandle(b));
      }
      case RET_INT:
      case RET_NUMBER:
        if (typeof r !== "bigint") return rawNumber(this.ctx, Number(r));
    }
    const h = this.toGuestScalar(r, sh.ret === RET_INT ? "int" : sh.returns);
    if (h === undefined) return 0;
    try {
      return rawDup(this.ctx, h);
    } finally {
      if (h.alive) h.dispose();
    }
  }

  /** The guest's bigint for an address result, made once (the last few thousand are held; cleared at 4096). */
  private bigintHandle(b: bigint): QuickJSHandle {
    let h = this.bigHandles.get(b);
    if (h === undefined) {
      if (this.bigHandles.size >= 4096) this.dropBigHandles();
      h = this.newBig(b);
      this.bigHandles.set(b, h);
    }
    return h;
  }

  /**
   * A guest bigint, made by the prelude's BigInt (quickjs-emscripten's newBigInt calls the guest's global BigInt, which
   * a cell may have replaced): from its encodeAddr number when it has one, else from its decimal text.
   */
  private newBig(b: bigint): QuickJSHandle {
    const ctx = this.ctx;
    const n = encodeAddr(b);
    const arg = n !== undefined ? ctx.newNumber(n) : ctx.newString(String(b));
    try {
      const r = ctx.callFunction(this.mkBigFn, ctx.undefined, arg);
      if (r.error) {
        const err = this.readError(r.error);
        r.error.dispose();
        if (!this.stop && err.name === "InternalError" && err.message === "out of memory") this.stopFor("memory");
        if (this.stop?.kind === "limit") throw new RunStopped(this.stop);
        throw new Error(`a bigint could not be made in the guest: ${err.message}`);
      }
      return r.value;
    } finally {
      arg.dispose();
    }
  }

  private dropBigHandles(): void {
    for (const h of this.bigHandles.values()) if (h.alive) h.dispose();
    this.bigHandles.clear();
    this.lastRet = undefined;
  }

  /** A row's parameters and result as readArgs and call() use them, worked out once per row. */
  private shapeOf(e: FunctionEntry, id = -1): RowShape {
    let sh = this.shapes.get(e);
    if (id >= 0 && sh !== undefined) this.rowShapes[id] = sh;
    if (sh === undefined) {
      const ps = e.params;
      const rest = ps.length > 0 && ps[ps.length - 1].type === "printk-args";
      const fixed = rest ? ps.length - 1 : ps.length;
      let required = fixed;
      while (required > 0 && ps[required - 1].nullable) required--; // a trailing NULL-able argument may be left out
      const kinds = new Uint8Array(fixed);
      for (let i = 0; i < fixed; i++) {
        const t = ps[i].type;
        kinds[i] =
          t === "fn"
            ? P_FN
            : t === "cookie"
              ? P_COOKIE
              : t === "printk-args"
                ? P_SKIP
                : t.startsWith("handle:")
                  ? P_HANDLE
                  : t === "addr"
                    ? P_ADDR
                    : NUMERIC.has(t)
                      ? P_NUM
                      : P_SCALAR;
      }
      const ret =
        e.returns === "void"
          ? RET_VOID
          : e.returns === "addr"
            ? RET_ADDR
            : e.returns.startsWith("handle:")
              ? RET_INT
              : NUMERIC.has(e.returns)
                ? RET_NUMBER
                : RET_SCALAR;
      const simple = !rest && required === fixed && kinds.every((k) => k === P_NUM || k === P_ADDR);
      const ranges = new Uint8Array(fixed);
      let addrs = 0;
      for (let i = 0; i < fixed; i++) {
        ranges[i] = ps[i].type === "int" ? N_INT : ps[i].type === "gfp" ? N_GFP : N_UNSIGNED;
        if (kinds[i] === P_ADDR) addrs |= 1 << i;
      }
      const fast = simple && fixed <= 3 && !e.countsLog;
      sh = {
        rest,
        simple,
        fast,
        fixed,
        required,
        kinds,
        ranges,
        addrs,
        ret,
        returns: e.returns,
        name: e.name,
        impl: e.impl,
        missing: e.missing ?? null,
        logFn: undefined,
      };
      this.shapes.set(e, sh);
      if (id >= 0) this.rowShapes[id] = sh;
    }
    return sh;
  }

  /** An address for the prelude's fast wrapper: a number when encodeAddr can carry it exactly, else a bigint. */
  private addrToGuest(v: bigint | number): QuickJSHandle | number {
    const b = typeof v === "bigint" ? v : BigInt(v);
    let n = this.addrNums.get(b);
    if (n === undefined) {
      n = encodeAddr(b);
      if (n !== undefined) this.remember(n, b);
    }
    return n === undefined ? this.newBig(b) : this.numbers ? n : this.ctx.newNumber(n);
  }

  private readArgs(e: FunctionEntry, hs: QuickJSHandle[], mask = 0, sh: RowShape = this.shapeOf(e)): unknown[] {
    const ps = e.params;
    const { rest, fixed, kinds } = sh;
    if (hs.length < sh.required || (!rest && hs.length > fixed)) {
      const want = rest ? `at least ${fixed}` : `${fixed}`;
      throw new ArgError(`${e.name}: takes ${want} argument${fixed === 1 ? "" : "s"} (${ps.map((p) => p.name).join(", ")}), got ${hs.length}`);
    }
    if (rest && hs.length - fixed > MAX_PRINTK_ARGS)
      throw new ArgError(
        `${e.name}: ${hs.length - fixed} arguments after the format, more than the ${MAX_PRINTK_ARGS} a call may take (the argument count limit)`,
      );
    const out: unknown[] = [];
    newCallStrings();
    for (let i = 0; i < fixed; i++) {
      const p = ps[i];
      const h = hs[i];
      if (h === undefined) {
        out.push(undefined); // an omitted trailing NULL-able argument
        continue;
      }
      switch (kinds[i]) {
        case P_FN:
          if (p.nullable && (this.ctx.typeof(h) === "undefined" || this.ctx.sameValue(h, this.ctx.null))) out.push(undefined);
          else out.push(this.callback(h, e.name, p.name, p.cb ?? { params: [], returns: "void" }));
          break;
        case P_COOKIE:
          out.push(this.cookie(h));
          break;
        case P_SKIP:
          break;
        case P_HANDLE:
          out.push(this.ctx.getNumber(h)); // the prelude already checked it
          break;
        case P_ADDR:
          if (mask & (1 << i)) {
            const n = this.ctx.getNumber(h);
            out.push(checkAddr(this.addrBigs.get(n) ?? decodeAddr(n), e.name, p.name, this.addrBits));
          } else out.push(readScalar(this.ctx, h, "addr", e.name, p.name, this.addrBits));
          break;
        case P_NUM:
          if (mask & (1 << (i + NUM_SHIFT))) out.push(readNumber(this.ctx, h, p.type as never, e.name, p.name));
          else out.push(readScalar(this.ctx, h, p.type as never, e.name, p.name, this.addrBits));
          break;
        default:
          out.push(readScalar(this.ctx, h, p.type as never, e.name, p.name, this.addrBits));
      }
    }
    for (let i = fixed; i < hs.length; i++) out.push(readPrintkArg(this.ctx, hs[i], e.name, i - fixed));
    return out;
  }

  toGuestScalar(v: unknown, type: string): QuickJSHandle | undefined {
    const ctx = this.ctx;
    switch (type) {
      case "addr":
        return this.newBig(typeof v === "bigint" ? v : BigInt(v as number));
      case "bool":
        return v ? ctx.true : ctx.false;
      case "string":
        return ctx.newString(String(v));
      case "void":
        return undefined;
      default:
        if (typeof v === "bigint") return this.newBig(v);
        return ctx.newNumber(Number(v));
    }
  }

  /** The module value as a cookie: the same Cookie for the same value (free_irq finds request_irq's dev_id, as C compares pointers); NULL (null/undefined) is undefined. */
  private cookie(h: QuickJSHandle): Cookie | undefined {
    const ctx = this.ctx;
    if (ctx.typeof(h) === "undefined" || ctx.sameValue(h, ctx.null)) return undefined;
    for (let i = 0; i < this.cookies.length; i++) if (ctx.sameValue(this.cookies[i], h)) return this.cookieObjs[i];
    this.cookies.push(h.dup());
    const c = Object.freeze({ cookie: this.cookies.length - 1 });
    this.cookieObjs.push(c);
    return c;
  }

  /** The guest function as a host function the kernel can keep and call. */
  callback(h: QuickJSHandle, fn: string, param: string, sig: CallbackSig): HostCallback {
    if (this.ctx.typeof(h) !== "function") {
      throw new ArgError(`${fn}: parameter '${param}' must be a function, got ${this.ctx.typeof(h) === "object" ? "an object" : this.ctx.typeof(h)}`);
    }
    const fh = h.dup();
    this.owned.push(fh);
    const nameRes = this.ctx.callFunction(this.nameOfFn, this.ctx.undefined, fh);
    let symbol = "";
    if (!nameRes.error) {
      if (this.ctx.typeof(nameRes.value) === "string") symbol = shortString(this.ctx, nameRes.value, 4096) ?? "";
      nameRes.value.dispose();
    } else nameRes.error.dispose();
    const cb = (...args: unknown[]) => {
      this.hooks.onEnter?.(symbol);
      let r: InvokeResult;
      try {
        r = this.invoke(fh, args, sig);
      } finally {
        this.hooks.onEnter?.(null);
      }
      if (r.ok) {
        // a value of the wrong type (an object, a string, a function): the callback's TypeError, as module_init's
        // (the kernel would otherwise take it as an error code with no word said: a read of -1, a silent IRQ)
        const bad = r.value as { invalid?: unknown } | undefined;
        if (typeof bad !== "object" || bad === null || typeof bad.invalid !== "string") return r.value;
        const got = bad.invalid.replace(/^(string|function|symbol)$/, "a $1");
        const wants = sig.returns === "bool" ? "a boolean" : sig.returns === "string" ? "a string" : `an integer (${sig.returns})`;
        this.hooks.onCallbackError(symbol, {
          name: "TypeError",
          message: `${fn}: ${symbol || `the ${param} function`} returned ${got}; the kernel takes ${wants} from its ${param}`,
          stack: "",
          nonError: false,
        });
        return undefined;
      }
      if (r.stop?.kind === "limit") throw new RunStopped(r.stop);
      if (r.stop?.kind === "kill") {
        this.stop = null; // the kill ends this module function only
        return undefined;
      }
      this.hooks.onCallbackError(symbol, r.error);
      return undefined;
    };
    const coroutine = (args: unknown[]) => this.coroutine(fh, symbol, sig, args);
    const host = Object.assign(cb, { symbol, coroutine }) as HostCallback;
    this.guestFns.set(host, { fh, sig });
    return host;
  }

  /** Call a module function the kernel holds, keeping the guest's error (module_init, module_exit). */
  invokeCallback(cb: HostCallback, args: unknown[]): InvokeResult {
    const g = this.guestFns.get(cb);
    if (!g) throw new Error("not a module function of this run");
    this.hooks.onEnter?.(cb.symbol);
    try {
      return this.invoke(g.fh, args, g.sig);
    } finally {
      this.hooks.onEnter?.(null);
    }
  }

  /** Call a guest function with host values; never throws for guest behaviour. */
  invoke(fh: QuickJSHandle, args: unknown[], sig: CallbackSig): InvokeResult {
    const r = this.callRaw(fh, this.ctx.undefined, () => sig.params.map((p, i) => this.argToGuest(args[i], p.type)));
    if (!r.ok) return r;
    try {
      return { ok: true, value: this.resultFromGuest(r.handle, sig.returns) };
    } finally {
      r.handle.dispose();
    }
  }

  /** Call a guest function (fh.call(thisH, ...args())) under the run's limits; the caller owns the result handle. */
  private callRaw(
    fh: QuickJSHandle,
    thisH: QuickJSHandle,
    args: () => QuickJSHandle[],
  ): { ok: true; handle: QuickJSHandle } | { ok: false; error: GuestErrorInfo; stop: Stop | null } {
    const ctx = this.ctx;
    if (!this.stop && this.pastDeadline()) this.stopFor("cpu"); // a host loop calling back (wait_event's condition)
    if (!this.stop && this.depth >= MAX_NESTING) this.stopFor("stack", true); // module -> kernel -> module ... (a ctor allocating from its own cache)
    if (this.stop) return { ok: false, error: { name: "InternalError", message: "interrupted", stack: "", nonError: false }, stop: this.stop };
    const argHs: QuickJSHandle[] = [];
    try {
      argHs.push(...args());
      this.depth++;
      const saved = this.stackCache;
      const savedSite = this.site;
      this.stackCache = null;
      this.site = 0;
      this.primeShadow();
      let res;
      try {
        res = ctx.callFunction(fh, thisH, ...argHs);
      } finally {
        this.depth--;
        this.stackCache = saved;
        this.site = savedSite;
      }
      if (res.error) {
        const error = this.readError(res.error);
        res.error.dispose();
        if (!this.stop) {
          if (error.name === "InternalError" && error.message === "out of memory") this.stopFor("memory");
          else if (error.name === "InternalError" && error.message === "stack overflow") {
            this.stopFor("stack");
            // seen here, inside the callback where the recursion is; the report would otherwise show the outermost call
            const frames = parseStack(error.stack, this.cellScopes, this.cellColumns);
            if (frames.length) this.stopFrames = frames;
          }
        }
        return { ok: false, error, stop: this.stop };
      }
      return { ok: true, handle: res.value };
    } finally {
      for (const a of argHs) a.dispose();
    }
  }

  /**
   * A kernel thread's function run step by step: if calling it returns a generator (kthread_transform.ts made the
   * function one), each resume(v) is generator.next(v). A guest error ends the thread (reported as a callback's);
   * a run limit stops the run (RunStopped), as for any callback.
   */
  private coroutine(fh: QuickJSHandle, symbol: string, sig: CallbackSig, args: unknown[]): GuestCoroutine {
    const ctx = this.ctx;
    let gen: QuickJSHandle | undefined;
    let next: QuickJSHandle | undefined;
    const fail = (r: { error: GuestErrorInfo; stop: Stop | null }): { done: true; failed: true } => {
      // A run limit stays set (this.stop): the run reports it at its next step (the drain's end, or module_exit's call).
      if (r.stop?.kind === "limit") {
        this.stopFrames ??= parseStack(r.error.stack, this.cellScopes, this.cellColumns);
      } else if (r.stop?.kind === "kill")
        this.stop = null; // the kernel's Oops killed the thread
      else this.hooks.onCallbackError(symbol, r.error);
      dispose();
      return { done: true, failed: true };
    };
    const dispose = () => {
      next?.dispose();
      gen?.dispose();
      next = gen = undefined;
      this.suspended.delete(dispose);
    };
    const result = (h: QuickJSHandle) => {
      const done = ctx.getProp(h, "done");
      const value = ctx.getProp(h, "value");
      try {
        if (ctx.typeof(done) === "boolean" && ctx.dump(done) === false) return { done: false as const };
        const v = this.resultFromGuest(value, sig.returns);
        dispose();
        return { done: true as const, value: typeof v === "number" ? v : 0 };
      } finally {
        done.dispose();
        value.dispose();
      }
    };
    const enter = <T>(f: () => T): T => {
      this.hooks.onEnter?.(symbol);
      try {
        return f();
      } finally {
        this.hooks.onEnter?.(null);
      }
    };
    return {
      symbol,
      get suspendable() {
        return gen !== undefined;
      },
      start: () =>
        enter(() => {
          const r = this.callRaw(fh, ctx.undefined, () => sig.params.map((p, i) => this.argToGuest(args[i], p.type)));
          if (!r.ok) return fail(r);
          const h = r.handle;
          const nx = ctx.typeof(h) === "object" ? ctx.getProp(h, "next") : undefined;
          if (nx && ctx.typeof(nx) === "function") {
            gen = h;
            next = nx;
            this.suspended.add(dispose);
            return this.coroutineStep(gen, next, ctx.undefined, fail, result);
          }
          nx?.dispose();
          try {
            const v = this.resultFromGuest(h, sig.returns);
            return { done: true as const, value: typeof v === "number" ? v : 0 };
          } finally {
            h.dispose();
          }
        }),
      resume: (value: unknown) =>
        enter(() => {
          if (!gen || !next) return { done: true as const, value: 0 };
          const vh = value === undefined ? ctx.undefined : typeof value === "boolean" ? (value ? ctx.true : ctx.false) : ctx.newNumber(Number(value));
          return this.coroutineStep(gen, next, vh, fail, result);
        }),
      dispose,
    };
  }

  private coroutineStep<T, F>(
    gen: QuickJSHandle,
    next: QuickJSHandle,
    v: QuickJSHandle,
    fail: (r: { error: GuestErrorInfo; stop: Stop | null }) => F,
    result: (h: QuickJSHandle) => T,
  ): T | F {
    const r = this.callRaw(next, gen, () => [v]);
    if (!r.ok) return fail(r);
    try {
      return result(r.handle);
    } finally {
      r.handle.dispose();
    }
  }

  private argToGuest(v: unknown, type: string): QuickJSHandle {
    const ctx = this.ctx;
    if (type === "cookie") {
      if (v === undefined) return ctx.null;
      const c = this.cookies[(v as Cookie).cookie];
      return c ? c.dup() : ctx.undefined;
    }
    if (type.startsWith("handle:")) {
      const t = ctx.newString(type.slice(7));
      const id = ctx.newNumber(v as number);
      const r = ctx.callFunction(this.handleForFn, ctx.undefined, t, id);
      t.dispose();
      id.dispose();
      if (r.error) {
        // The interrupt handler stops even the prelude's own code once a limit is reached (fuzz seed 7834: the CPU
        // deadline passed while a delayed work item's handle was being made, inside wait_event): stop the run.
        r.error.dispose();
        if (this.stop?.kind === "limit") throw new RunStopped(this.stop);
        throw new Error(`the handle of a ${type.slice(7)} could not be made for a callback`);
      }
      return r.value;
    }
    return this.toGuestScalar(v, type) ?? ctx.undefined;
  }

  /** A callback's return value, by its declared type; reads primitives only. */
  private resultFromGuest(v: QuickJSHandle, type: string): unknown {
    if (type === "void") return undefined;
    const t = this.ctx.typeof(v);
    if (t === "number") return this.ctx.getNumber(v);
    if (t === "bigint") return guestBigInt(this.ctx, v) ?? { invalid: WIDE_BIGINT_TEXT };
    if (t === "boolean") return this.ctx.dump(v);
    if (t === "string" && type === "string")
      return shortString(this.ctx, v, MAX_CALL_STRING_CHARS) ?? { invalid: `a string of ${guestStringLength(this.ctx, v)} characters` };
    if (t === "undefined") return undefined;
    return { invalid: t === "object" ? "an object" : t };
  }

  /** Read a thrown value without trusting it: getters may run (under the limits), and every failure is tolerated. */
  readError(h: QuickJSHandle): GuestErrorInfo {
    const ctx = this.ctx;
    const t = ctx.typeof(h);
    if (t !== "object" || ctx.sameValue(h, ctx.null)) {
      let text: string;
      if (t === "string") {
        const s = shortString(ctx, h, MAX_MESSAGE_CHARS);
        text = s === undefined ? `a string of ${guestStringLength(ctx, h)} characters` : JSON.stringify(s);
      } else if (t === "number" || t === "boolean" || t === "undefined" || t === "bigint") text = t === "bigint" ? bigintText(ctx, h) : String(ctx.dump(h));
      else text = t === "object" ? "null" : `a ${t}`;
      return { name: "", message: `uncaught throw of ${text} (not an Error)`, stack: "", nonError: true };
    }
    // A Proxy's fields are not read (its traps would run, perhaps inside a kernel call). Once stopped, the
    // interrupt handler stops any getter at once; a real Error's props are plain data.
    const px = ctx.callFunction(this.isProxyFn, ctx.undefined, h);
    const isProxy = px.error !== undefined || ctx.typeof(px.value) !== "boolean" || ctx.dump(px.value) !== false;
    (px.error ?? px.value).dispose();
    if (isProxy) return { name: "", message: "uncaught throw of an object that is not an Error", stack: "", nonError: true };
    // A field longer than its bound is not read (the host copies a string twice to read it, in a call nothing
    // interrupts): a message is said by its length, a stack is dropped.
    const str = (prop: string, max: number): string | undefined => {
      try {
        const r = ctx.getProp(h, prop);
        try {
          if (ctx.typeof(r) !== "string") return undefined;
          return shortString(ctx, r, max) ?? (prop === "stack" ? "" : `(a ${prop} of ${guestStringLength(ctx, r)} characters)`);
        } finally {
          r.dispose();
        }
      } catch {
        return undefined;
      }
    };
    const stack = str("stack", MAX_STACK_TEXT_CHARS);
    const name = str("name", 256);
    const message = str("message", MAX_MESSAGE_CHARS);
    if (stack === undefined && message === undefined) {
      return { name: "", message: "uncaught throw of an object that is not an Error", stack: "", nonError: true };
    }
    return { name: name ?? "Error", message: message ?? "", stack: stack ?? "", nonError: false };
  }

  /**
   * Before the host calls into the guest: the depth the function it enters is at (shadow.ts). 1 with nothing of the
   * cell's below (outside any kernel call); inside one, the depth of its node + 1 when known, else unknown.
   */
  primeShadow(): void {
    if (this.cellColumns === undefined) return; // the run's code keeps no shadow stack
    const d = this.row < 0 ? 1 : this.nodeDepthNow > 0 ? this.nodeDepthNow + 1 : SHADOW_UNKNOWN;
    const h = this.ctx.newNumber(d);
    this.ctx.setProp(this.shadowH, 0, h);
    h.dispose();
  }

  /** The cell's frames right now, innermost first. Parsed once per host call however often the kernel asks. */
  guestFrames(): CellFrame[] {
    if (this.stackCache !== null) return this.stackCache;
    if (this.nodeAttached !== null) return (this.stackCache = this.nodeAttached); // the shadow stack's node
    if (this.attached !== null) {
      // the wrapper took it, in the same call: the same cell frames (only the bridge's own frames differ)
      this.attachedUsed = true;
      this.streak[this.row] = -1;
      return (this.stackCache = this.attached);
    }
    const frames = this.framesOf(this.readGuestStack());
    this.stackCache = frames;
    const row = this.row;
    if (row >= 0 && this.streak[row] >= 0 && ++this.streak[row] >= HUNGRY_AFTER) this.setHungry(row, true);
    return frames;
  }

  /**
   * A stack text's cell frames. A loop allocating from one place produces the same stack text every time: each text
   * is parsed once (the frames are frozen, so sharing them between calls is safe). The array itself is not frozen:
   * slice() of a frozen array takes V8's generic path (measured 3-4 us against 0.2 us for 3 frames), and
   * k.captureModuleStack slices it for every caller (KASAN, kmemleak, SLUB's store-user and the call log each ask per
   * allocation). Nothing outside this class gets this array itself but read-only callers (the run's own reports).
   */
  private framesOf(text: string): CellFrame[] {
    let parsed = this.parsedStacks;
    const by = this.cellColumns ?? this.cellScopes;
    if (parsed === undefined || by !== this.parsedFor) {
      // shared by the runs of one transpiled cell (its scopes and column map are the transpile cache's, frozen):
      // the grader runs one text hundreds of times, each run meeting the same stacks
      parsed = parsedStacks.get(by);
      if (parsed === undefined) parsedStacks.set(by, (parsed = new Map()));
      this.parsedStacks = parsed;
      this.parsedFor = by;
    }
    let frames = parsed.get(text);
    if (frames === undefined) {
      frames = parseStack(text, this.cellScopes, this.cellColumns).map((f) => Object.freeze(f)) as CellFrame[];
      if (parsed.size >= 256) parsed.clear();
      parsed.set(text, frames);
    }
    return frames;
  }

  /** Whether the prelude's wrapper of row takes the guest's stack for each call (see HUNGRY_AFTER). */
  private setHungry(row: number, on: boolean): void {
    this.streak[row] = on ? -1 : 0;
    if (on && !this.takeReady()) return; // the row's calls keep walking (the same frames), and stop counting (-1)
    this.ctx.setProp(this.hungryH, row, on ? this.ctx.true : this.ctx.false);
  }

  /**
   * The innermost cell frame of the current host call: the function and line the call was made from. A call from a
   * kernel-call site (transpile.ts markSites) takes it from the first walk at that site, whose innermost frame every
   * later call from there shares (the same call in the same function); a call without a site walks the stack. A cell
   * that renames one of its functions (defineProperty(f, "name")) after its first call from a site keeps the old name.
   */
  innermostFrame(): CellFrame | undefined {
    const site = this.site;
    if (site === 0) return this.guestFrames()[0];
    const have = this.siteFrames[site];
    if (have !== undefined) return have;
    const f = this.guestFrames()[0];
    // a site whose walk disagrees with the transpiler's line (a cell calling kmalloc.call(N, ...) with a number of
    // its own) is never cached: its calls walk
    if (f !== undefined && f.line === this.sites[site]) this.siteFrames[site] = f;
    return f;
  }

  /**
   * The prelude's takeStack, made the first time a row needs it (prelude.ts TAKE_STACK): true when it is there. Made
   * inside a host call, under the run's limits: if a limit or an error stops it, no row takes its stack in the guest.
   */
  private takeReady(): boolean {
    if (this.takeState === 0) {
      this.takeState = 2;
      const make = this.ctx.evalCode(TAKE_STACK, PRELUDE_FILE);
      if (make.error) {
        make.error.dispose();
        return false;
      }
      const r = this.ctx.callFunction(this.setTakeFn, this.ctx.undefined, make.value);
      make.value.dispose();
      if (r.error) {
        r.error.dispose();
        return false;
      }
      r.value.dispose();
      this.takeState = 1;
    }
    return this.takeState === 1;
  }

  private readGuestStack(): string {
    const r = this.ctx.callFunction(this.stackFn, this.ctx.undefined);
    if (r.error) {
      r.error.dispose();
      return "";
    }
    const s = this.ctx.typeof(r.value) === "string" ? (shortString(this.ctx, r.value, MAX_STACK_TEXT_CHARS) ?? "") : "";
    r.value.dispose();
    return s;
  }

  /**
   * The end of a run whose runtime restore.ts keeps: nothing is freed in the guest (the module's memory is put back
   * before the runtime's next run, which adopts this bridge's guest half), and the guest's host functions let go of
   * this bridge.
   */
  release(): void {
    if (this.guest.route.b === this) this.guest.route.b = undefined;
    this.bigHandles.clear();
    this.lastRet = undefined;
    this.suspended.clear();
    this.owned.length = 0;
    this.cookies.length = 0;
  }

  dispose(): void {
    this.dropBigHandles();
    for (const d of [...this.suspended]) d();
    for (const h of this.owned.splice(0)) if (h.alive) h.dispose();
    for (const h of this.cookies.splice(0)) if (h.alive) h.dispose();
    this.rt.removeInterruptHandler();
  }
}
