// The call log: one entry per kernel call the module made, recorded in the host by the bridge (the guest cannot
// forge it), for the grader's checks (RunResult.kernel.calls). Arguments and results are JSON: bigint -> "0x..",
// module functions -> their symbol, cookies and handles -> their number.
// Cost: a row of typed columns per call (the function, context, caller, time, phase and line as numbers; the
// arguments and result as they came, in one flat array); the CallRecord objects and their JSON values (bigint ->
// "0x..", a function -> its symbol) are made when `entries` is first read after the call (lazy conversion: a run
// whose log nobody reads never makes them). Nothing when no log is attached.
//
// Bounded (issue 13): a run may make a million calls, or pass a 16 MB string a few hundred times. So:
// - a string argument or result longer than CALL_LOG_BUDGET.stringChars (1024: more than one printk() can store)
//   is cut, and the entry's `cut` lists [argument index, original length] (index -1: the result);
// - past the budget (CALL_LOG_BUDGET.entries entries or .bytes of estimated JSON), entries the grader and the views
//   do not need are dropped: one marker entry { fn: "(calls dropped)", dropped: n } stands where the first one
//   would have been, and `dropped` counts them per function (RunResult.kernel.callsDropped);
// - kept past the budget: calls that allocate, free or alias memory (the table's memory roles: the allocation
//   records are built from them), and print calls that stored text (their argument values); their strings are cut
//   to CALL_LOG_BUDGET.stringCharsOver. Every entry keeps its context (ctx).
// - folded (host memory, whatever the call count): past CALL_LOG_BUDGET.foldAfter entries, a memory block (an
//   allocation, the calls that gave it another name, and its free, one after the other in the log; or an allocation
//   that returned NULL) that repeats an earlier block of the log call for call, but for the addresses the block
//   itself returned, is not kept again: the earlier block's first entry counts it (`repeats`). A loop of
//   kfree(kmalloc(64)) keeps one block however long it runs.
//   The raw host calls' path (recordNumeric) holds such a block's calls aside and folds them without writing them to
//   the columns and undoing them (the "Held rows" below): writing and undoing cost a long loop ~0.15 us a pair.
// - capped: past CALL_LOG_BUDGET.maxEntries entries nothing more is kept but the frees (and aliases) of allocations
//   the log kept past foldAfter, at most CALL_LOG_BUDGET.foldAfter frees of earlier ones, and the folds' counts; the
//   rest is dropped and counted as above. So the log holds at most maxEntries + what frees the kept allocations.
// Entries within the budget are exactly as before, so a normal run's RunResult does not change.

import type { Kernel } from "../src/kernel/kernel.ts";
import type { MemoryRole } from "./table.ts";
import { detachedSlice } from "../src/kernel/kernel/vsprintf.ts";
import { Sched } from "../src/kernel/kernel/sched.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface CallRecord {
  fn: string;
  args: Json[];
  ret: Json;
  ctx: { task: string; pid: number; hardirq: boolean; softirq: boolean; atomic: boolean; irqsDisabled: boolean; preemptCount: number };
  /** The module function the kernel entered (module_init's function, a timer callback...), "" at top level. */
  caller: string;
  line?: number;
  tNs: number;
  phase: "init" | "deferred" | "exit";
  /** Strings that were cut: [argument index (-1: the result), original length]. Absent when nothing was cut. */
  cut?: [number, number][];
  /** On the marker entry (fn "(calls dropped)") only: how many calls were dropped after this point. */
  dropped?: number;
  /**
   * On the first entry of a folded memory block only: this entry and the `calls - 1` after it (the allocation, its
   * aliases, its free) happened `times` more times after it, call for call the same but for the addresses the block
   * returned (and named); the last of them at `lastTNs`. Absent when nothing was folded into it.
   */
  repeats?: { times: number; calls: number; lastTNs: number };
}

/** The call log's budget per run. */
export const CALL_LOG_BUDGET = {
  /** Entries kept before the droppable ones go. */
  entries: 100_000,
  /** Estimated JSON bytes kept before the droppable ones go. */
  bytes: 16 << 20,
  /** A longer string argument is cut to this many characters (printk stores at most 1023 of its output). */
  stringChars: 1024,
  /** ... and to this many once the budget is spent (the entries that are kept whatever the budget). */
  stringCharsOver: 64,
  /** Past this many entries, a memory block that repeats an earlier one is folded into it (CallRecord.repeats). */
  foldAfter: 20_000,
  /** Past this many entries, only the frees of kept allocations are kept (the header's "capped"). */
  maxEntries: 120_000,
  /** Distinct block shapes remembered for folding (each a string of ~100 bytes). */
  foldShapes: 20_000,
};

/** The fn of the marker entry that stands where calls were dropped. */
export const DROPPED_MARKER = "(calls dropped)";

/** The sched predicates the log reads (absent in a fake kernel). */
interface SchedView {
  in_hardirq?(): number;
  in_serving_softirq?(): number;
  in_atomic?(): boolean;
  irqs_disabled?(): boolean;
  preempt_count?(): number;
}

function json(v: unknown): Json {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case "bigint":
      return "0x" + v.toString(16);
    case "number":
      return Number.isFinite(v) ? v : String(v);
    case "string":
    case "boolean":
      return v;
    case "function":
      return (v as { symbol?: string }).symbol || "(anonymous)";
    case "object":
      if ("cookie" in (v as object)) return { cookie: (v as { cookie: number }).cookie };
      if ("invalid" in (v as object)) return null;
      return null;
    default:
      return null;
  }
}

const PHASES: readonly CallRecord["phase"][] = ["init", "deferred", "exit"];

const TWO64 = 1n << 64n;

/** Hex digits of a 32-bit unsigned number. */
function hexDigits(x: number): number {
  return x === 0 ? 1 : (35 - Math.clz32(x)) >> 2;
}

const TWO60 = 1n << 60n;
const MAX_POS = 1n << 53n;
const MIN_NEG = TWO64 - MAX_POS;

/** The address as a signed 64-bit number when exact (bindings.ts encodeAddr), else undefined. */
function encodeAddr(v: bigint): number | undefined {
  if (v >= 0n && v <= MAX_POS) return Number(v);
  if (v >= MIN_NEG && v < TWO64) return Number(v - TWO64);
  return undefined;
}

/** json(v)'s length for the bigint that encodeAddr made n from. */
function encodedLength(n: number): number {
  if (n < 0) return 18; // at least 2^63: 16 digits
  return 2 + (n < 4294967296 ? hexDigits(n) : 8 + hexDigits(Math.floor(n / 4294967296)));
}

/** How a value sits in the value columns: a number, an address (its encodeAddr number), or as it came (others). */
const V_NUM = 0,
  V_ADDR = 1,
  V_OTHER = 2,
  V_UNDEFINED = 3;

/** The length of json(v) for a bigint ("0x" and its hex digits), without making the string. */
function jsonLength(v: bigint): number {
  if (v >= TWO60 && v < TWO64) return 18; // a 64-bit kernel address: 16 digits
  if (v >= 0n && v < TWO64) {
    const hi = Number(v >> 32n);
    return 2 + (hi === 0 ? hexDigits(Number(v)) : 8 + hexDigits(hi));
  }
  return 2 + v.toString(16).length;
}

/** What the log knows of one function (CallLog.infoOf). */
export interface CallLogFn {
  readonly name: string;
  /** Its index among the log's function names. */
  readonly id: number;
  /** The policy's: kept whatever the budget (a memory role); a print row; its cell line recorded. */
  readonly memory: boolean;
  readonly print: boolean;
  readonly line: boolean;
  /** The fixed part of its entries' estimated JSON size. */
  readonly size: number;
  /** Its part in a memory block (folding): MEM_NONE, MEM_ALLOC, MEM_ALIAS, MEM_FREE or MEM_OTHER; memArg: the argument
   *  that names the block (alias: `of`, free: `addr`; -1 otherwise). */
  readonly mem: number;
  readonly memArg: number;
}

/** CallLogFn.mem: no memory role; an allocation that returns an address; an alias; a free; any other memory role
 *  (krealloc, a handle's allocation: never a block's part). */
const MEM_NONE = 0,
  MEM_ALLOC = 1,
  MEM_ALIAS = 2,
  MEM_FREE = 3,
  MEM_OTHER = 4;

function memPart(role: MemoryRole | undefined, memory: boolean): [number, number] {
  if (!role) return [memory ? MEM_OTHER : MEM_NONE, -1];
  if ("alloc" in role) {
    const r = role.alloc;
    return r.reallocates !== undefined || r.family === "cache" || r.family === "workqueue" ? [MEM_OTHER, -1] : [MEM_ALLOC, -1];
  }
  if ("alias" in role) return [MEM_ALIAS, role.alias.of];
  if ("free" in role) return [MEM_FREE, role.free.addr];
  return [memory ? MEM_OTHER : MEM_NONE, -1];
}

/** The index of address number `num` among the block's keys, -1 when it is not one (keys are never NaN nor 0). */
function keyIndex(b: Block, num: number): number {
  const keys = b.keys;
  for (let j = 0; j < b.nKeys; j++) if (keys[j] === num) return j;
  return -1;
}

/** The open memory block (folding): the log's state before its first row, and the addresses it returned. */
interface Block {
  rows: number;
  pending: number;
  rowOff: number;
  valOff: number;
  nVals: number;
  bytes: number;
  rowChunk: RowChunk;
  valChunk: ValChunk;
  /** Addresses (encodeAddr numbers) the block returned: its allocation's, its aliases' (the first nKeys of keys: the
   *  one Block is reused, and an array's length set to 0 is a runtime call per block). */
  keys: number[];
  nKeys: number;
  /** `rows` after its last row: a row written since breaks the block. */
  next: number;
}

/** What the log must keep whatever its budget: which calls, and whether a print call stored text. */
export interface CallLogPolicy {
  /** Calls that allocate, free or alias memory (the table's memory roles). */
  memory: ReadonlySet<string>;
  /** The table's memory roles by name (memrecords.ts memoryRoles): what folds memory blocks; absent, nothing folds. */
  roles?: ReadonlyMap<string, MemoryRole>;
  /** Print calls (printk, pr_*): kept when they stored something (their result > 0). */
  print: ReadonlySet<string>;
  /** Calls whose cell line is recorded (allocations and frees: the record model's "caller line"). */
  lines?: ReadonlySet<string>;
}

/** The most rows a held block keeps (CallLog.hold: past it the block is written as usual), and the numbers and
 *  integers of a held row. */
const HELD_MAX = 16;
const HELD_NUMS = 4;
const HELD_INTS = 7;

/** The first chunk's rows, and the most a chunk holds (CallLog's columns; a value chunk holds twice as many values). */
const FIRST_ROWS = 256;
const MAX_CHUNK_ROWS = 8192;

/** Columns of up to `cap` pending rows of the call log, in one buffer. */
class RowChunk {
  readonly t: Float64Array;
  readonly retNum: Float64Array;
  readonly fn: Int32Array;
  readonly ctx: Int32Array;
  readonly caller: Int32Array;
  readonly line: Int32Array;
  readonly argEnd: Int32Array;
  readonly phase: Uint8Array;
  readonly retKind: Uint8Array;
  /** Rows written (set when the chunk is left, or read). */
  n = 0;
  constructor(cap: number) {
    const b = new ArrayBuffer(cap * 38);
    this.t = new Float64Array(b, 0, cap);
    this.retNum = new Float64Array(b, cap * 8, cap);
    this.fn = new Int32Array(b, cap * 16, cap);
    this.ctx = new Int32Array(b, cap * 20, cap);
    this.caller = new Int32Array(b, cap * 24, cap);
    this.line = new Int32Array(b, cap * 28, cap);
    this.argEnd = new Int32Array(b, cap * 32, cap);
    this.phase = new Uint8Array(b, cap * 36, cap);
    this.retKind = new Uint8Array(b, cap * 37, cap);
  }
}

/** Up to `cap` pending values of the call log (numbers, address numbers, kinds), in one buffer. */
class ValChunk {
  readonly num: Float64Array;
  readonly kind: Uint8Array;
  n = 0;
  constructor(cap: number) {
    const b = new ArrayBuffer(cap * 9);
    this.num = new Float64Array(b, 0, cap);
    this.kind = new Uint8Array(b, cap * 8, cap);
  }
}

/**
 * Chunks of logs that are done with them, for the next logs of this thread (a process runs many cells: the bench, the
 * fuzzer, the grader's workers). A 20,000-pair loop fills ~1 MB of columns; new buffers that size are fresh pages
 * the process faults in one by one (~400 minor faults a run, measured in bench/speed.bench.ts's kmalloc row, 0.2-0.3
 * us a pair), where a reused chunk's pages are already mapped. A chunk enters the pool when nothing can read it
 * again: the full chunks make() has turned into entries, and every chunk of a released log (CallLog.release). Every
 * slot of a chunk is written before it is read (row(), setRet, the value writers), so a reused chunk holds nothing of
 * its last log that a new one could see. At most POOL_BYTES are kept.
 */
const POOL_BYTES = 8 << 20;
const rowPool = new Map<number, RowChunk[]>();
const valPool = new Map<number, ValChunk[]>();
let pooledBytes = 0;

function takeRowChunk(cap: number): RowChunk {
  const c = rowPool.get(cap)?.pop();
  if (c === undefined) return new RowChunk(cap);
  pooledBytes -= c.t.buffer.byteLength;
  c.n = 0;
  return c;
}

function takeValChunk(cap: number): ValChunk {
  const c = valPool.get(cap)?.pop();
  if (c === undefined) return new ValChunk(cap);
  pooledBytes -= c.num.buffer.byteLength;
  c.n = 0;
  return c;
}

function giveChunk<C extends RowChunk | ValChunk>(pool: Map<number, C[]>, c: C, cap: number, bytes: number): void {
  if (pooledBytes + bytes > POOL_BYTES) return;
  pooledBytes += bytes;
  let list = pool.get(cap);
  if (list === undefined) pool.set(cap, (list = []));
  list.push(c);
}

const giveRowChunk = (c: RowChunk) => giveChunk(rowPool, c, c.t.length, c.t.buffer.byteLength);
const giveValChunk = (c: ValChunk) => giveChunk(valPool, c, c.num.length, c.num.buffer.byteLength);

/** Bytes of chunks in the pool (tests). */
export function callLogPoolBytes(): number {
  return pooledBytes;
}

export class CallLog {
  phase: CallRecord["phase"] = "init";
  /** Module functions the kernel is inside, innermost last. */
  readonly callers: string[] = [];
  /** Calls dropped past the budget, per function (empty when none were). */
  readonly dropped: Record<string, number> = {};
  /** Estimated JSON bytes of the entries kept. */
  get bytes(): number {
    if (this.held !== 0) this.flushHeld();
    return this.nBytes;
  }
  private nBytes = 0;
  private over = false;
  private marker: CallRecord | undefined;

  // The rows not yet made into CallRecords, as columns (index i: the i-th pending row). fn: index into fns (-1: the
  // marker); ctx: index into ctxs; caller: index into callerNames; line: -1 when absent; the row's arguments are
  // values argEnd[i - 1] ..< argEnd[i] (from 0 for the first), its result rets[i], raw (made JSON by make()).
  // A value is kept in typed columns when it is a number or an address (valKind V_NUM / V_ADDR: valNum holds the
  // number, or the address's encodeAddr number), else as it came in valOther (strings, objects' JSON, undefined...):
  // a loop of a million calls keeps no bigint of its own in a JS array (each would be a slot the young-generation
  // GC scans while the array lives). The columns come in chunks (RowChunk, ValChunk: one buffer each, twice the last
  // one's rows up to a limit), so a long log is never copied to grow: the fields below are the last chunk's columns,
  // rowOff and valOff the next free slot in it; indexes into valOther and retOther count from the first pending one.
  private readonly fns: string[] = [];
  private readonly fnIds = new Map<string, number>();
  private readonly ctxs: CallRecord["ctx"][] = [];
  private readonly ctxIds = new Map<string, number>();
  private readonly callerNames: string[] = [];
  private readonly callerIds = new Map<string, number>();
  private rowChunk = takeRowChunk(FIRST_ROWS);
  private colFn = this.rowChunk.fn;
  private colCtx = this.rowChunk.ctx;
  private colCaller = this.rowChunk.caller;
  private colLine = this.rowChunk.line;
  private colPhase = this.rowChunk.phase;
  private colT = this.rowChunk.t;
  private colArgEnd = this.rowChunk.argEnd;
  private retNum = this.rowChunk.retNum;
  private retKind = this.rowChunk.retKind;
  private rowOff = 0;
  /** The full row chunks before the last one, and their row counts. */
  private fullRows: RowChunk[] = [];
  private valChunk = takeValChunk(FIRST_ROWS * 2);
  private valNum = this.valChunk.num;
  private valKind = this.valChunk.kind;
  private valOff = 0;
  private fullVals: ValChunk[] = [];
  private valOther = new Map<number, unknown>();
  /** Pending values in all (a row's argEnd counts them). */
  private nVals = 0;
  private retOther = new Map<number, unknown>();
  /** The last address stored and its number (a free takes the address the allocation before it returned). */
  private lastAddr: bigint | undefined = undefined;
  private lastAddrNum = 0;
  private cuts: Map<number, [number, number][]> | undefined;
  /** Rows waiting in the columns. */
  private pending = 0;
  /** Rows in all (made and pending): the entry count the budget compares. */
  private rows = 0;
  private readonly made: CallRecord[] = [];

  /** The kernel's scheduler when it is the kernel's own Sched (noteContext's shortcut), else null (a fake kernel's). */
  private readonly ownSched: Sched | null;

  constructor(
    private readonly k: Kernel,
    private readonly policy: CallLogPolicy = { memory: new Set(), print: new Set() },
  ) {
    const s = (k as unknown as { sched?: unknown }).sched;
    this.ownSched = s instanceof Sched ? s : null;
  }

  /** The log's entries, oldest first (made from the columns on first read; the same array every time). */
  get entries(): CallRecord[] {
    if (this.released) {
      if (this.pending !== 0 || this.held !== 0) throw new Error("kmodlab: the call log was released before its entries were read (CallLog.release)");
      return this.made;
    }
    if (this.held !== 0) this.flushHeld();
    if (this.pending) this.make();
    return this.made;
  }

  private released = false;
  /**
   * The run is over and whoever reads its calls has read them, or never will: the log's columns go to the chunk pool
   * for the next logs of this thread. Entries already read stay readable; entries not read by then are lost (reading
   * them throws). The log records nothing after this (the run that owned it is closed).
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    const rows = [...this.fullRows, this.rowChunk];
    const vals = [...this.fullVals, this.valChunk];
    this.fullRows = [];
    this.fullVals = [];
    // columns of no rows: a record() after release writes nowhere (typed arrays ignore writes past their end), never
    // into a pooled chunk another log now has
    this.useRowChunk(new RowChunk(0));
    this.valChunk = new ValChunk(0);
    this.valNum = this.valChunk.num;
    this.valKind = this.valChunk.kind;
    if (this.spareBlock) {
      this.spareBlock.rowChunk = this.rowChunk;
      this.spareBlock.valChunk = this.valChunk;
    }
    for (const c of rows) giveRowChunk(c);
    for (const c of vals) giveValChunk(c);
  }

  /** The cell line of the current call (the run installs the bridge's innermostFrame; a walk by default). */
  lineOf: () => number | undefined = () => this.k.captureModuleStack()[0]?.line;

  /** The last context object: consecutive calls in the same context share it (frozen; a loop of a million calls
   *  would otherwise keep a million identical objects). */
  private lastCtx: CallRecord["ctx"] | undefined;
  private lastCtxId = -1;
  /** The caller of the last row and its id (a loop's calls share it). */
  private lastCaller = "";
  private lastCallerId: number | undefined = undefined;

  // ---- Held rows (recordNumeric past foldAfter): a repeating memory block folded without writing its rows ----
  // While the last block's shape is known (lastSig), a memory block that opens past foldAfter is held here instead of
  // being written to the columns: its calls as they came, with the context, caller, line, time and phase each had.
  // At the block's end (memAfter's steps: the free of an address the block returned) it is folded into the last
  // shape's entry when it matches it, as complete() would after writing, comparing (sameAsLast) and undoing it. Any
  // other case (a call that does not continue the block, a read of the log, a block that does not match, or one the
  // columns could not have undone: a new chunk, the byte budget) writes the held rows as recordNumeric would have
  // written them at their time (flushHeld), so the log, its budget and its folds are the same either way
  // (test/sandbox/calllog.test.ts compares them with record()'s, which holds nothing).
  private held = 0;
  private readonly hInfo: CallLogFn[] = [];
  /** Per held row: x0, x1, x2 and the result's number (HELD_NUMS a row). */
  private readonly hNum = new Float64Array(HELD_MAX * HELD_NUMS);
  /** Per held row: n, addrs, the result's kind, context id, caller id, line, phase (HELD_INTS a row). */
  private readonly hInt = new Int32Array(HELD_MAX * HELD_INTS);
  private readonly hT = new Float64Array(HELD_MAX);
  /** Addresses the held block returned (its keys, as memAfter adds them to a Block's). */
  private readonly hKeys: number[] = [];
  private hNKeys = 0;
  /** Values (arguments) of the held rows, and at least the bytes their rows would add. */
  private hVals = 0;
  private hBytes = 0;
  /** flushHeld is writing a held row: put() and rowHere() take its context, caller, time and line (rp*). */
  private replaying = false;
  private rpCaller = "";
  private rpT = 0;
  private rpLine = -1;
  /** The folds entry of lastSigAt (looked up once per shape). */
  private lastRep: NonNullable<CallRecord["repeats"]> | undefined = undefined;
  private lastRepAt = -1;

  /** A held row's result kind (V_NUM, V_UNDEFINED or V_ADDR), -1 for any other (not held: endRow's path). */
  private static plainKind(ret: unknown, retAddr: number): number {
    const rt = typeof ret;
    if (rt === "number") return V_NUM;
    if (rt === "undefined") return V_UNDEFINED;
    return rt === "bigint" && retAddr === retAddr ? V_ADDR : -1;
  }

  /** The call that opens a memory block past foldAfter, held (false: written as usual). */
  private holdFirst(info: CallLogFn, n: number, x0: number, x1: number, x2: number, addrs: number, ret: unknown, retAddr: number, at: number): boolean {
    const kind = CallLog.plainKind(ret, retAddr);
    if (kind < 0 || !info.memory) return false;
    // memAfter's steps for an allocation: its address is the block's first key; NULL is a block of its own
    const key = kind === V_ADDR && (retAddr > 0x10 || retAddr < 0);
    this.hold(info, n, x0, x1, x2, addrs, ret, retAddr, kind, key, at);
    if (!key) this.endHeld();
    return true;
  }

  /** A call that continues the held block (memBefore's steps: an alias or free naming one of its keys), held. */
  private holdNext(info: CallLogFn, n: number, x0: number, x1: number, x2: number, addrs: number, ret: unknown, retAddr: number, at: number): boolean {
    const mem = info.mem;
    if ((mem !== MEM_ALIAS && mem !== MEM_FREE) || !info.memory || this.held === HELD_MAX) return false;
    const a = info.memArg;
    if (!(a >= 0 && a < n && addrs & (1 << a))) return false;
    if (this.heldKey(a === 0 ? x0 : a === 1 ? x1 : x2) < 0) return false;
    const kind = CallLog.plainKind(ret, retAddr);
    if (kind < 0) return false;
    this.hold(info, n, x0, x1, x2, addrs, ret, retAddr, kind, mem !== MEM_FREE && kind === V_ADDR && (retAddr > 0x10 || retAddr < 0), at);
    if (mem === MEM_FREE) this.endHeld();
    return true;
  }

  private heldKey(num: number): number {
    const keys = this.hKeys;
    for (let j = 0; j < this.hNKeys; j++) if (keys[j] === num) return j;
    return -1;
  }

  /**
   * One held row: what put() and rowHere() would read of the kernel and the run, read now, in their order; its result
   * one of the block's keys when `key` (memAfter's steps). The row is compared with lastSig as it comes (hSame).
   */
  private hold(
    info: CallLogFn,
    n: number,
    x0: number,
    x1: number,
    x2: number,
    addrs: number,
    ret: unknown,
    retAddr: number,
    kind: number,
    key: boolean,
    at: number,
  ): void {
    this.noteContext();
    const nc = this.callers.length;
    const caller = nc > 0 ? this.callers[nc - 1] : "";
    let line = -1;
    if (info.line) {
      const l = at === at ? at : this.lineOf();
      if (l !== undefined) line = l;
    }
    const h = this.held++;
    if (h === 0) {
      this.hSame = true;
      this.hO = 0;
    }
    this.hInfo[h] = info;
    const f = h * HELD_NUMS;
    const num = this.hNum;
    num[f] = x0;
    num[f + 1] = x1;
    num[f + 2] = x2;
    num[f + 3] = kind === V_NUM ? (ret as number) : kind === V_ADDR ? retAddr : 0;
    const g = h * HELD_INTS;
    const int = this.hInt;
    int[g] = n;
    int[g + 1] = addrs;
    int[g + 2] = kind;
    const ctxId = this.lastCtxId;
    const callerId = this.callerId(caller);
    const phase = this.phase === "init" ? 0 : this.phase === "deferred" ? 1 : 2;
    int[g + 3] = ctxId;
    int[g + 4] = callerId;
    int[g + 5] = line;
    int[g + 6] = phase;
    this.hT[h] = this.k.clock.now();
    this.hVals += n;
    // an address's JSON is at most 18 characters (+3), a number's counts 12
    this.hBytes += caller.length + info.size + 21 * n;
    if (key) this.hKeys[this.hNKeys++] = retAddr;
    if (!this.hSame) return;
    // heldSameAsLast's steps for this row
    const last = this.lastSig;
    const nl = last.length;
    let o = this.hO;
    if (
      o + 6 > nl ||
      last[o] !== info.id ||
      last[o + 1] !== ctxId ||
      last[o + 2] !== callerId ||
      last[o + 3] !== int[g + 5] ||
      last[o + 4] !== phase ||
      last[o + 5] !== n
    ) {
      this.hSame = false;
      return;
    }
    o += 6;
    for (let v = 0; v <= n; v++) {
      const vk = v === n ? kind : addrs & (1 << v) ? V_ADDR : V_NUM;
      const x = v === n ? num[f + 3] : v === 0 ? x0 : v === 1 ? x1 : x2;
      let tag: number;
      let val: number;
      if (vk === V_ADDR) {
        // an address not (yet) one of the block's keys might be one a later row returns: heldSameAsLast decides
        const k = this.heldKey(x);
        if (k < 0) {
          this.hSame = false;
          return;
        }
        tag = 4;
        val = k;
      } else {
        tag = vk;
        val = vk === V_NUM ? x : 0;
      }
      if (o + 2 > nl || last[o] !== tag) {
        this.hSame = false;
        return;
      }
      // Object.is(was, val): NaN equals NaN; -0 and 0 differ, and only a number (tag V_NUM) can be -0 here
      const was = last[o + 1];
      if (was === val ? tag === V_NUM && was === 0 && 1 / was !== 1 / val : was === was || val === val) {
        this.hSame = false;
        return;
      }
      o += 2;
    }
    this.hO = o;
  }

  /**
   * The held rows so far are lastSig's first hO numbers, each of their addresses one of the block's keys: a key a later
   * row returns cannot change how they compare (heldKey finds the first equal key), so endHeld needs no
   * heldSameAsLast. False once a row differs or names an address that is not a key: endHeld then compares them all.
   */
  private hSame = true;
  private hO = 0;

  /**
   * The held block is complete: folded into the last shape's entry (complete()'s steps when sameAsLast holds), or
   * written when complete() would not have folded it, or its rows could have crossed the byte budget.
   */
  private endHeld(): void {
    const n = this.held;
    if (
      this.rowOff + n > this.colFn.length ||
      this.valOff + this.hVals > this.valNum.length ||
      this.nBytes + this.hBytes >= CALL_LOG_BUDGET.bytes ||
      !(this.hSame ? this.hO === this.lastSig.length : this.heldSameAsLast())
    )
      return this.flushHeld();
    // the rows written and undone would have left `over` set had they reached the budget's entry count
    if (this.rows + n >= CALL_LOG_BUDGET.entries) this.over = true;
    const at = this.lastSigAt;
    if (this.lastRepAt !== at) {
      this.lastRep = this.folds.get(at)!;
      this.lastRepAt = at;
    }
    const r = this.lastRep!;
    r.times++;
    r.lastTNs = this.hT[n - 1];
    this.folded += n;
    if (at < this.made.length) this.made[at].repeats = r;
    this.held = 0;
    this.hNKeys = 0;
    this.hVals = 0;
    this.hBytes = 0;
  }

  /** sameAsLast() of the held rows (their values as sigOf reads them from the columns, with the block's keys). */
  private heldSameAsLast(): boolean {
    const last = this.lastSig;
    const nl = last.length;
    const num = this.hNum;
    const int = this.hInt;
    let o = 0;
    for (let i = 0; i < this.held; i++) {
      const g = i * HELD_INTS;
      const f = i * HELD_NUMS;
      const n = int[g];
      if (
        o + 6 > nl ||
        last[o] !== this.hInfo[i].id ||
        last[o + 1] !== int[g + 3] ||
        last[o + 2] !== int[g + 4] ||
        last[o + 3] !== int[g + 5] ||
        last[o + 4] !== int[g + 6] ||
        last[o + 5] !== n
      )
        return false;
      o += 6;
      const addrs = int[g + 1];
      for (let v = 0; v <= n; v++) {
        const kind = v === n ? int[g + 2] : addrs & (1 << v) ? V_ADDR : V_NUM;
        const x = v === n ? num[f + 3] : num[f + v];
        let tag: number;
        let val: number;
        if (kind === V_ADDR) {
          const k = this.heldKey(x);
          tag = k >= 0 ? 4 : 1;
          val = k >= 0 ? k : x;
        } else {
          tag = kind;
          val = kind === V_NUM ? x : 0;
        }
        if (o + 2 > nl || last[o] !== tag) return false;
        const was = last[o + 1];
        if (was === val ? was === 0 && 1 / was !== 1 / val : was === was || val === val) return false;
        o += 2;
      }
    }
    return o === nl;
  }

  /** The held rows written to the columns as put() would have written them when they came. */
  private flushHeld(): void {
    const n = this.held;
    this.held = 0;
    this.hNKeys = 0;
    this.hVals = 0;
    this.hBytes = 0;
    const phase = this.phase;
    const ctx = this.lastCtx;
    const ctxId = this.lastCtxId;
    const num = this.hNum;
    const int = this.hInt;
    this.replaying = true;
    try {
      for (let i = 0; i < n; i++) {
        const g = i * HELD_INTS;
        const f = i * HELD_NUMS;
        this.lastCtxId = int[g + 3];
        this.lastCtx = this.ctxs[int[g + 3]];
        this.rpCaller = this.callerNames[int[g + 4]];
        this.rpLine = int[g + 5];
        this.rpT = this.hT[i];
        this.phase = PHASES[int[g + 6]];
        const kind = int[g + 2];
        // the result as it came: a held row's is a number, undefined or an address (plainKind), made again from its
        // number (an equal bigint: the log keeps only its number)
        const x = num[f + 3];
        const ret = kind === V_ADDR ? (x < 0 ? BigInt(x) + TWO64 : BigInt(x)) : kind === V_NUM ? x : undefined;
        this.put(this.hInfo[i], int[g], num[f], num[f + 1], num[f + 2], int[g + 1], ret, kind === V_ADDR ? x : NaN, NaN);
      }
    } finally {
      this.replaying = false;
      this.phase = phase;
      this.lastCtx = ctx;
      this.lastCtxId = ctxId;
    }
  }

  /** Per function: its id among fns and what the policy says of it (looked up once per call). */
  private readonly fnInfo = new Map<string, CallLogFn>();
  /** What the log knows of a function (recordNumeric's first argument: a caller keeps it, one lookup per function). */
  infoOf(fn: string): CallLogFn {
    let f = this.fnInfo.get(fn);
    if (f === undefined) {
      const p = this.policy;
      const memory = p.memory.has(fn);
      const [mem, memArg] = p.roles ? memPart(p.roles.get(fn), memory) : [MEM_NONE, -1];
      f = { name: fn, id: this.idOf(fn), memory, print: p.print.has(fn), line: p.lines?.has(fn) ?? false, size: 160 + fn.length, mem, memArg };
      this.fnInfo.set(fn, f);
    }
    return f;
  }

  record(fn: string, args: readonly unknown[], ret: unknown): void {
    if (this.held !== 0) this.flushHeld();
    const info = this.infoOf(fn);
    if (this.over && this.droppable(info, ret)) {
      this.drop(fn);
      return;
    }
    if (info.mem !== MEM_NONE && this.rows >= CALL_LOG_BUDGET.foldAfter) {
      const a = info.memArg >= 0 ? args[info.memArg] : undefined;
      if (!this.memBefore(info, typeof a === "bigint" ? encodeAddr(a) : undefined)) {
        this.drop(fn);
        return;
      }
    }
    this.noteContext();
    const max = this.over ? CALL_LOG_BUDGET.stringCharsOver : CALL_LOG_BUDGET.stringChars;
    let cut: [number, number][] | undefined;
    let size = info.size; // the fixed part of an entry's JSON (ctx, caller, tNs, phase), roughly
    for (let i = 0; i < args.length; i++) {
      let v = args[i];
      const at = this.nextVal();
      switch (typeof v) {
        case "string":
          if (v.length > max) {
            (cut ??= []).push([i, v.length]);
            v = detachedSlice(v, 0, max);
          }
          size += (v as string).length + 3;
          break;
        case "bigint": {
          const n = this.addrNumber(v);
          if (n !== undefined) {
            size += encodedLength(n) + 3;
            this.valNum[at] = n;
            this.valKind[at] = V_ADDR;
            continue;
          }
          size += jsonLength(v) + 3;
          break;
        }
        case "number":
          size += 12;
          this.valNum[at] = v;
          this.valKind[at] = V_NUM;
          continue;
        case "function":
        case "object": {
          let j = json(v); // a callback or a cookie: its JSON now (the log keeps nothing of the bridge's)
          if (typeof j === "string") {
            if (j.length > max) {
              (cut ??= []).push([i, j.length]);
              j = detachedSlice(j, 0, max);
            }
            size += j.length + 3;
          } else size += 12;
          v = j;
          break;
        }
        default:
          size += 12;
      }
      this.valKind[at] = V_OTHER;
      this.valOther.set(this.nVals - 1, v);
    }
    this.endRow(info, size, cut, ret, NaN);
  }

  /**
   * record() for a call whose n (at most 3) arguments are all numbers or addresses, given as numbers: x0..x2, bit i of
   * `addrs` set when argument i is an address (x_i its encodeAddr number), else x_i is the number itself. `retAddr`:
   * when ret is a bigint, its encodeAddr number if the caller knows it (NaN: it does not). The same row record()
   * makes of the same call (bindings.ts hostCall's raw calls), without an array, a bigint or a typeof per argument.
   * `line`: the call's cell line when the caller already knows what lineOf() would say (NaN: lineOf() is asked).
   */
  recordNumeric(info: CallLogFn, n: number, x0: number, x1: number, x2: number, addrs: number, ret: unknown, retAddr: number, line = NaN): void {
    if (this.held !== 0) {
      if (this.holdNext(info, n, x0, x1, x2, addrs, ret, retAddr, line)) return;
      this.flushHeld();
    } else if (info.mem === MEM_ALLOC && this.lastSigAt >= 0 && this.block === null && this.rows >= CALL_LOG_BUDGET.foldAfter) {
      if (this.holdFirst(info, n, x0, x1, x2, addrs, ret, retAddr, line)) return;
    }
    this.put(info, n, x0, x1, x2, addrs, ret, retAddr, line);
  }

  /** recordNumeric's row, written to the columns (a held row's too, replayed by flushHeld with its own context,
   *  caller, line, time and phase). */
  private put(info: CallLogFn, n: number, x0: number, x1: number, x2: number, addrs: number, ret: unknown, retAddr: number, line: number): void {
    if (this.over && this.droppable(info, ret)) {
      this.drop(info.name);
      return;
    }
    if (info.mem !== MEM_NONE && this.rows >= CALL_LOG_BUDGET.foldAfter) {
      const k = info.memArg;
      const key = k >= 0 && k < n && addrs & (1 << k) ? (k === 0 ? x0 : k === 1 ? x1 : x2) : undefined;
      if (!this.memBefore(info, key)) {
        this.drop(info.name);
        return;
      }
    }
    if (!this.replaying) this.noteContext();
    let size = info.size;
    const j = this.valOff;
    if (j + n <= this.valNum.length) {
      // the values fit in the last chunk: written in place (else one by one, nextVal opening the next chunk)
      const num = this.valNum;
      const kind = this.valKind;
      for (let i = 0; i < n; i++) {
        const x = i === 0 ? x0 : i === 1 ? x1 : x2;
        num[j + i] = x;
        if (addrs & (1 << i)) {
          kind[j + i] = V_ADDR;
          size += encodedLength(x) + 3;
        } else {
          kind[j + i] = V_NUM;
          size += 12;
        }
      }
      this.valOff = j + n;
      this.nVals += n;
    } else
      for (let i = 0; i < n; i++) {
        const x = i === 0 ? x0 : i === 1 ? x1 : x2;
        const at = this.nextVal();
        this.valNum[at] = x;
        if (addrs & (1 << i)) {
          this.valKind[at] = V_ADDR;
          size += encodedLength(x) + 3;
        } else {
          this.valKind[at] = V_NUM;
          size += 12;
        }
      }
    const rt = typeof ret;
    if (rt !== "number" && rt !== "undefined" && !(rt === "bigint" && retAddr === retAddr)) {
      this.endRow(info, size, undefined, ret, retAddr); // a result made JSON or cut (endRow's steps)
      return;
    }
    // endRow's steps for a number, an address or no result
    const i = this.rowHere(info, line);
    if (rt === "number") {
      this.retNum[i] = ret as number;
      this.retKind[i] = V_NUM;
    } else if (rt === "undefined") this.retKind[i] = V_UNDEFINED;
    else {
      this.lastAddr = ret as bigint;
      this.lastAddrNum = retAddr;
      this.retNum[i] = retAddr;
      this.retKind[i] = V_ADDR;
    }
    this.rowDone(info, size);
  }

  /** Past the budget: a call the log does not keep (no memory role, nor a print that stored text; past maxEntries,
   *  nothing without a memory role, and no memory call when the roles are unknown: memBefore judges the others). */
  private droppable(info: CallLogFn, ret: unknown): boolean {
    if (this.rows >= CALL_LOG_BUDGET.maxEntries) return info.mem === MEM_NONE;
    return !info.memory && !(info.print && typeof ret === "number" && ret > 0);
  }

  // ---- Folding (the header's "folded" and "capped"): only past CALL_LOG_BUDGET.foldAfter entries ----

  /** The open memory block, or null. */
  private block: Block | null = null;
  /** The one Block object memBefore opens each block in (made at the first). */
  private spareBlock: Block | undefined = undefined;
  /** The call being recorded continues the open block (memBefore -> memAfter). */
  private cont = false;
  /** Block shape -> the entry index of its first (kept) block; entry index -> its repeats. */
  private readonly shapes = new Map<string, number>();
  private readonly folds = new Map<number, NonNullable<CallRecord["repeats"]>>();
  /**
   * The shape last folded into or registered, as numbers (sigOf), and the entry index it folds into (-1: none): a loop
   * repeats one block, so most blocks compare equal to it without building their shape's string.
   */
  private lastSig: Float64Array = new Float64Array(0);
  private lastSigAt = -1;
  private readonly sigBuf: number[] = [];
  /** Addresses of allocations kept past foldAfter and not yet freed (their frees are kept past maxEntries). */
  private readonly liveKept = new Set<number>();
  /** Frees kept past maxEntries that name no allocation kept past foldAfter (an earlier one's, or a stray one). */
  private otherFreesKept = 0;
  /** Calls folded into repeats. */
  folded = 0;
  /** The row of the last entry with a cut string. */
  private lastCutRow = -1;

  /** Before a memory call's row past foldAfter (key: the address its memArg names): false when it is not kept. */
  private memBefore(info: CallLogFn, key: number | undefined): boolean {
    const b = this.block;
    this.cont = false;
    if (b !== null) {
      if (b.next === this.rows && (info.mem === MEM_ALIAS || info.mem === MEM_FREE) && key !== undefined && keyIndex(b, key) >= 0) {
        this.cont = true;
        return true;
      }
      this.block = null;
      this.closeUnfinished(b);
    }
    if (info.mem === MEM_ALLOC) {
      // one Block object for the log's life: a block ends (complete, closeUnfinished) before the next one opens, and
      // nothing keeps it (a loop of a million allocations makes no object per allocation)
      const nb = (this.spareBlock ??= {
        rows: 0,
        pending: 0,
        rowOff: 0,
        valOff: 0,
        nVals: 0,
        bytes: 0,
        rowChunk: this.rowChunk,
        valChunk: this.valChunk,
        keys: [],
        nKeys: 0,
        next: -1,
      });
      nb.rows = this.rows;
      nb.pending = this.pending;
      nb.rowOff = this.rowOff;
      nb.valOff = this.valOff;
      nb.nVals = this.nVals;
      nb.bytes = this.nBytes;
      nb.rowChunk = this.rowChunk;
      nb.valChunk = this.valChunk;
      nb.nKeys = 0;
      nb.next = -1;
      this.block = nb;
      return true;
    }
    const named = key !== undefined && this.liveKept.has(key);
    if (named && info.mem === MEM_FREE) this.liveKept.delete(key);
    if (this.rows < CALL_LOG_BUDGET.maxEntries || named) return true;
    if (info.mem === MEM_FREE && key !== undefined && this.otherFreesKept < CALL_LOG_BUDGET.foldAfter) {
      this.otherFreesKept++;
      return true;
    }
    return false;
  }

  /** After a memory call's row past foldAfter: the open block grows, completes (fold) or the call stands alone. */
  private memAfter(info: CallLogFn): void {
    const i = this.rowOff - 1;
    const kind = this.retKind[i];
    const num = this.retNum[i];
    const isAddr = kind === V_ADDR && (num > 0x10 || num < 0);
    const b = this.block;
    if (info.mem === MEM_ALLOC && b !== null && b.next === -1) {
      if (isAddr) {
        b.keys[b.nKeys++] = num;
        b.next = this.rows;
      } else this.complete(b); // NULL (or ZERO_SIZE_PTR): a block of its own
      return;
    }
    if (this.cont && b !== null) {
      this.cont = false;
      if (info.mem === MEM_ALIAS) {
        if (isAddr) b.keys[b.nKeys++] = num;
        b.next = this.rows;
      } else this.complete(b);
      return;
    }
    if (info.mem === MEM_ALIAS && isAddr) this.liveKept.add(num);
  }

  /** A block that met another call before its free: kept (its allocations are live), or dropped past maxEntries. */
  private closeUnfinished(b: Block): void {
    if (b.next === this.rows && b.rows >= CALL_LOG_BUDGET.maxEntries && this.canUndo(b)) return this.dropBlock(b);
    for (let j = 0; j < b.nKeys; j++) this.liveKept.add(b.keys[j]);
  }

  /** The block's rows are the last ones, in the columns as they were at its start (no make(), no new chunk, no cut). */
  private canUndo(b: Block): boolean {
    return b.rowChunk === this.rowChunk && b.valChunk === this.valChunk && this.lastCutRow < b.rows && this.rows - b.rows === this.rowOff - b.rowOff;
  }

  /** A complete block: folded into an earlier one of its shape, kept as the first of its shape, or dropped. */
  private complete(b: Block): void {
    this.block = null;
    if (!this.canUndo(b)) return;
    const t = this.colT[this.rowOff - 1];
    const n = this.rows - b.rows;
    // The same shape as the last block (a loop): the numbers compared in place, no string made.
    let at: number | undefined;
    if (this.lastSigAt >= 0 && this.sameAsLast(b)) at = this.lastSigAt;
    else {
      const sig = this.sigOf(b);
      const shape = this.shapeOf(b);
      at = this.shapes.get(shape);
      if (at === undefined) {
        if (b.rows >= CALL_LOG_BUDGET.maxEntries) return this.dropBlock(b);
        if (this.shapes.size < CALL_LOG_BUDGET.foldShapes) {
          this.shapes.set(shape, b.rows);
          this.folds.set(b.rows, { times: 0, calls: n, lastTNs: t });
          if (sig) this.rememberSig(sig, b.rows);
        }
        return;
      }
      if (sig) this.rememberSig(sig, at);
    }
    this.undo(b);
    const r = this.folds.get(at)!;
    r.times++;
    r.lastTNs = t;
    this.folded += n;
    if (at < this.made.length) this.made[at].repeats = r;
  }

  private rememberSig(sig: number[], at: number): void {
    this.lastSig = Float64Array.from(sig);
    this.lastSigAt = at;
  }

  /**
   * Whether sigOf(b) equals lastSig, value for value (Object.is: NaN equals NaN, as in shapeOf's text; -0 and 0 differ
   * here and are one shape there, which complete() then finds by the text), read from the columns as sigOf reads them:
   * no array written.
   */
  private sameAsLast(b: Block): boolean {
    const last = this.lastSig;
    const nl = last.length;
    const argEnd = this.colArgEnd;
    const valKind = this.valKind;
    const valNum = this.valNum;
    const retKind = this.retKind;
    const retNum = this.retNum;
    const shift = b.valOff - b.nVals;
    let o = 0;
    let v = b.valOff;
    for (let i = b.rowOff; i < this.rowOff; i++) {
      const end = argEnd[i]! + shift;
      if (
        o + 6 > nl ||
        last[o] !== this.colFn[i] ||
        last[o + 1] !== this.colCtx[i] ||
        last[o + 2] !== this.colCaller[i] ||
        last[o + 3] !== this.colLine[i] ||
        last[o + 4] !== this.colPhase[i] ||
        last[o + 5] !== end - v
      )
        return false;
      o += 6;
      for (; v <= end; v++) {
        const isLast = v === end;
        const kind = isLast ? retKind[i]! : valKind[v]!;
        const num = isLast ? retNum[i]! : valNum[v]!;
        let tag: number;
        let val: number;
        if (kind === V_ADDR) {
          const k = keyIndex(b, num);
          tag = k >= 0 ? 4 : 1;
          val = k >= 0 ? k : num;
        } else if (kind === V_NUM || kind === V_UNDEFINED) {
          tag = kind;
          val = kind === V_NUM ? num : 0;
        } else return false; // sigOf: null
        if (o + 2 > nl || last[o] !== tag) return false;
        // Object.is(last[o + 1], val) without the call: NaN equals NaN, -0 and 0 differ
        const was = last[o + 1]!;
        if (was === val ? was === 0 && 1 / was !== 1 / val : was === was || val === val) return false;
        o += 2;
        if (isLast) break;
      }
    }
    return o === nl;
  }

  /**
   * shapeOf() as numbers, in a reused array: two blocks have the same shape exactly when these are equal (each value a
   * tag and a number: #k an address the block returned, an address, a number, undefined). null when a value is
   * neither (an object: the string form is the only one).
   */
  private sigOf(b: Block): number[] | null {
    const out = this.sigBuf;
    let o = 0;
    let v = b.valOff;
    for (let i = b.rowOff; i < this.rowOff; i++) {
      out[o++] = this.colFn[i]!;
      out[o++] = this.colCtx[i]!;
      out[o++] = this.colCaller[i]!;
      out[o++] = this.colLine[i]!;
      out[o++] = this.colPhase[i]!;
      const end = this.colArgEnd[i]! - b.nVals + b.valOff;
      out[o++] = end - v;
      for (; v <= end; v++) {
        const last = v === end;
        const kind = last ? this.retKind[i]! : this.valKind[v]!;
        const num = last ? this.retNum[i]! : this.valNum[v]!;
        if (kind === V_ADDR) {
          const k = keyIndex(b, num);
          out[o++] = k >= 0 ? 4 : 1;
          out[o++] = k >= 0 ? k : num;
        } else if (kind === V_NUM || kind === V_UNDEFINED) {
          out[o++] = kind;
          out[o++] = kind === V_NUM ? num : 0;
        } else return null;
        if (last) break;
      }
    }
    out.length = o;
    return out;
  }

  /** The block's calls, the addresses it returned written as #0, #1... (its allocation's, its aliases'). */
  private shapeOf(b: Block): string {
    const one = (kind: number, num: number, other: Map<number, unknown>, at: number): string => {
      if (kind === V_ADDR) {
        const k = keyIndex(b, num);
        return k >= 0 ? "#" + k : "a" + num;
      }
      if (kind === V_NUM) return "n" + num;
      if (kind === V_UNDEFINED) return "u";
      return "o" + JSON.stringify(json(other.get(at)));
    };
    let s = "";
    let v = b.valOff;
    for (let i = b.rowOff; i < this.rowOff; i++) {
      s += `${this.colFn[i]},${this.colCtx[i]},${this.colCaller[i]},${this.colLine[i]},${this.colPhase[i]}(`;
      const end = this.colArgEnd[i] - b.nVals + b.valOff;
      for (; v < end; v++) s += one(this.valKind[v], this.valNum[v], this.valOther, b.nVals + v - b.valOff) + ",";
      s += ")=" + one(this.retKind[i], this.retNum[i], this.retOther, b.pending + i - b.rowOff) + ";";
    }
    return s;
  }

  /**
   * A new row for the call being recorded: the innermost module function as its caller, the clock, and where the
   * table asks for it the line of the call itself, even inside a helper (the bridge knows it from the call's site
   * without walking the guest's stack: bindings.ts innermostFrame).
   */
  private rowHere(info: CallLogFn, at: number): number {
    if (this.replaying) {
      this.nBytes += this.rpCaller.length;
      return this.row(info.id, this.lastCtxId, this.rpCaller, this.rpT, this.rpLine);
    }
    const nc = this.callers.length;
    const caller = nc > 0 ? this.callers[nc - 1] : "";
    let line = -1;
    if (info.line) {
      const l = at === at ? at : this.lineOf();
      if (l !== undefined) line = l;
    }
    this.nBytes += caller.length;
    return this.row(info.id, this.lastCtxId, caller, this.k.clock.now(), line);
  }

  /** After a row's values: its bytes counted against the budget, and its part in a memory block past foldAfter. */
  private rowDone(info: CallLogFn, size: number): void {
    this.nBytes += size;
    if (!this.over && (this.rows >= CALL_LOG_BUDGET.entries || this.nBytes >= CALL_LOG_BUDGET.bytes)) this.over = true;
    if (info.mem !== MEM_NONE && this.rows > CALL_LOG_BUDGET.foldAfter) this.memAfter(info);
  }

  /** The log as it was before the block's first row. */
  private undo(b: Block): void {
    if (this.valOther.size !== 0) for (let j = b.nVals; j < this.nVals; j++) this.valOther.delete(j);
    if (this.retOther.size !== 0) for (let j = b.pending; j < this.pending; j++) this.retOther.delete(j);
    this.rows = b.rows;
    this.pending = b.pending;
    this.rowOff = b.rowOff;
    this.valOff = b.valOff;
    this.nVals = b.nVals;
    this.nBytes = b.bytes;
  }

  /** The block's rows undone and counted as dropped (past maxEntries). */
  private dropBlock(b: Block): void {
    const names: string[] = [];
    for (let i = b.rowOff; i < this.rowOff; i++) names.push(this.fns[this.colFn[i]]);
    this.undo(b);
    for (const fn of names) this.drop(fn);
  }

  /** The context of the call being recorded: lastCtx/lastCtxId (a new frozen one when it changed). */
  private noteContext(): void {
    const k = this.k;
    const s = (k as unknown as { sched?: SchedView }).sched;
    const last = this.lastCtx;
    // the kernel's own Sched: hardirq, softirq and atomic are preempt_count's bits, so the same task, count and irq
    // state is the same context (a loop's calls ask nothing more)
    const own = this.ownSched;
    if (last !== undefined && own !== null && own.preempt_count() === last.preemptCount && own.irqs_disabled() === last.irqsDisabled) {
      const cur = k.current;
      if (cur.pid === last.pid && cur.comm === last.task) return;
    }
    const task = k.current.comm;
    const pid = k.current.pid;
    const hardirq = !!s?.in_hardirq?.();
    const softirq = !!s?.in_serving_softirq?.();
    const atomic = !!s?.in_atomic?.();
    const irqsDisabled = !!s?.irqs_disabled?.();
    const preemptCount = s?.preempt_count?.() ?? 0;
    const c = this.lastCtx;
    if (
      !c ||
      c.task !== task ||
      c.pid !== pid ||
      c.hardirq !== hardirq ||
      c.softirq !== softirq ||
      c.atomic !== atomic ||
      c.irqsDisabled !== irqsDisabled ||
      c.preemptCount !== preemptCount
    ) {
      // one object per distinct context (a loop that goes in and out of a lock would otherwise add one per change)
      const key = `${pid}\u0000${task}\u0000${+hardirq}${+softirq}${+atomic}${+irqsDisabled}\u0000${preemptCount}`;
      let id = this.ctxIds.get(key);
      if (id === undefined) this.ctxIds.set(key, (id = this.ctxs.push(Object.freeze({ task, pid, hardirq, softirq, atomic, irqsDisabled, preemptCount })) - 1));
      this.lastCtx = this.ctxs[id];
      this.lastCtxId = id;
    }
  }

  /** A recorded call's result, caller, line and row, once its arguments are in the value columns. */
  private endRow(info: CallLogFn, size: number, cut: [number, number][] | undefined, ret: unknown, retAddr: number): void {
    const max = this.over ? CALL_LOG_BUDGET.stringCharsOver : CALL_LOG_BUDGET.stringChars;
    let r = typeof ret === "function" || (typeof ret === "object" && ret !== null) ? json(ret) : ret;
    if (typeof r === "string" && r.length > max) {
      (cut ??= []).push([-1, r.length]);
      r = detachedSlice(r, 0, max);
    }
    const i = this.rowHere(info, NaN);
    if (retAddr === retAddr && typeof r === "bigint") {
      this.lastAddr = r;
      this.lastAddrNum = retAddr;
      this.retNum[i] = retAddr;
      this.retKind[i] = V_ADDR;
    } else this.setRet(i, r);
    if (cut) {
      (this.cuts ??= new Map()).set(this.rows - 1, cut);
      this.lastCutRow = this.rows - 1;
    }
    this.rowDone(info, size);
  }

  /** The encodeAddr number of an address value (the last one is remembered), undefined when it has none. */
  private addrNumber(v: bigint): number | undefined {
    if (v === this.lastAddr) return this.lastAddrNum;
    const n = encodeAddr(v);
    if (n !== undefined) {
      this.lastAddr = v;
      this.lastAddrNum = n;
    }
    return n;
  }

  private setRet(i: number, r: unknown): void {
    if (typeof r === "number") {
      this.retNum[i] = r;
      this.retKind[i] = V_NUM;
      return;
    }
    if (r === undefined) {
      this.retKind[i] = V_UNDEFINED;
      return;
    }
    if (typeof r === "bigint") {
      const n = this.addrNumber(r);
      if (n !== undefined) {
        this.retNum[i] = n;
        this.retKind[i] = V_ADDR;
        return;
      }
    }
    this.retKind[i] = V_OTHER;
    this.retOther.set(this.pending - 1, r);
  }

  /** Value i of the pending rows as it came (made from the columns). */
  private valueAt(kind: number, num: number, other: unknown): unknown {
    return kind === V_NUM ? num : kind === V_ADDR ? (num < 0 ? BigInt(num) + TWO64 : BigInt(num)) : kind === V_UNDEFINED ? undefined : other;
  }

  /** The next pending value's slot in the last value chunk (a new chunk when it is full). */
  private nextVal(): number {
    let j = this.valOff;
    if (j === this.valNum.length) {
      this.valChunk.n = j;
      this.fullVals.push(this.valChunk);
      this.valChunk = takeValChunk(Math.min(j * 2, MAX_CHUNK_ROWS * 2));
      this.valNum = this.valChunk.num;
      this.valKind = this.valChunk.kind;
      j = 0;
    }
    this.valOff = j + 1;
    this.nVals++;
    return j;
  }

  private idOf(fn: string): number {
    let id = this.fnIds.get(fn);
    if (id === undefined) this.fnIds.set(fn, (id = this.fns.push(fn) - 1));
    return id;
  }

  /** A pending row (its arguments already pushed to vals): its slot in the last row chunk (setRet's i). */
  private row(fn: number, ctx: number, caller: string, t: number, line: number): number {
    let i = this.rowOff;
    if (i === this.colFn.length) {
      this.rowChunk.n = i;
      this.fullRows.push(this.rowChunk);
      this.useRowChunk(takeRowChunk(Math.min(i * 2, MAX_CHUNK_ROWS)));
      i = 0;
    }
    this.colFn[i] = fn;
    this.colCtx[i] = ctx;
    this.colCaller[i] = this.callerId(caller);
    this.colT[i] = t;
    this.colPhase[i] = this.phase === "init" ? 0 : this.phase === "deferred" ? 1 : 2;
    this.colLine[i] = line;
    this.colArgEnd[i] = this.nVals;
    this.rowOff = i + 1;
    this.pending++;
    this.rows++;
    return i;
  }

  /** The caller's index among callerNames (a new one at its first row). */
  private callerId(caller: string): number {
    let id = caller === this.lastCaller ? this.lastCallerId : this.callerIds.get(caller);
    if (id === undefined) this.callerIds.set(caller, (id = this.callerNames.push(caller) - 1));
    this.lastCaller = caller;
    this.lastCallerId = id;
    return id;
  }

  private useRowChunk(c: RowChunk): void {
    this.rowChunk = c;
    this.colFn = c.fn;
    this.colCtx = c.ctx;
    this.colCaller = c.caller;
    this.colLine = c.line;
    this.colPhase = c.phase;
    this.colT = c.t;
    this.colArgEnd = c.argEnd;
    this.retNum = c.retNum;
    this.retKind = c.retKind;
  }

  /** The pending rows as CallRecords, appended to `made`; the columns start over (in the last chunks, kept). */
  private make(): void {
    const out = this.made;
    const base = out.length;
    this.rowChunk.n = this.rowOff;
    this.valChunk.n = this.valOff;
    const vals = [...this.fullVals, this.valChunk];
    let vc = 0;
    let vOff = 0;
    let from = 0;
    let g = 0; // pending row
    for (const c of [...this.fullRows, this.rowChunk]) {
      for (let i = 0; i < c.n; i++, g++) {
        const to = c.argEnd[i];
        const fnId = c.fn[i];
        const a: Json[] = new Array(to - from);
        for (let j = from; j < to; j++) {
          while (vOff === vals[vc].n) {
            vc++;
            vOff = 0;
          }
          const v = vals[vc];
          if (fnId >= 0) a[j - from] = json(this.valueAt(v.kind[vOff], v.num[vOff], this.valOther.get(j)));
          vOff++;
        }
        from = to;
        if (fnId < 0) {
          out.push(this.marker!);
          continue;
        }
        const e: CallRecord = {
          fn: this.fns[fnId],
          args: a,
          ret: json(this.valueAt(c.retKind[i], c.retNum[i], this.retOther.get(g))),
          ctx: this.ctxs[c.ctx[i]],
          caller: this.callerNames[c.caller[i]],
          tNs: c.t[i],
          phase: PHASES[c.phase[i]],
        };
        const cut = this.cuts?.get(base + g);
        if (cut) e.cut = cut;
        const rep = this.folds.get(base + g);
        if (rep !== undefined && rep.times > 0) e.repeats = rep;
        if (c.line[i] >= 0) e.line = c.line[i];
        out.push(e);
      }
    }
    this.block = null; // its rows are entries now: no longer undone
    this.cont = false;
    // the full chunks are entries now, and nothing reads them again: to the pool (the last ones stay the log's)
    for (const c of this.fullRows) giveRowChunk(c);
    for (const c of this.fullVals) giveValChunk(c);
    this.fullRows = [];
    this.fullVals = [];
    this.rowOff = 0;
    this.valOff = 0;
    this.pending = 0;
    this.nVals = 0;
    this.valOther = new Map();
    this.retOther = new Map();
    this.cuts = undefined;
  }

  private drop(fn: string): void {
    this.dropped[fn] = (this.dropped[fn] ?? 0) + 1;
    if (!this.marker) {
      this.marker = {
        fn: DROPPED_MARKER,
        args: [],
        ret: null,
        ctx:
          this.lastCtx ??
          Object.freeze({
            task: this.k.current.comm,
            pid: this.k.current.pid,
            hardirq: false,
            softirq: false,
            atomic: false,
            irqsDisabled: false,
            preemptCount: 0,
          }),
        caller: this.callers[this.callers.length - 1] ?? "",
        tNs: this.k.clock.now(),
        phase: this.phase,
        dropped: 0,
      };
      const i = this.row(-1, -1, "", 0, -1);
      this.setRet(i, null);
    }
    this.marker.dropped!++;
  }

  /** Calls dropped in all. */
  get droppedTotal(): number {
    return this.marker?.dropped ?? 0;
  }
}
