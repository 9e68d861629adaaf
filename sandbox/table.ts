// The shape of THE table (sandbox/api.ts): one entry per export of "linux" and "sim". From each entry come the
// QuickJS binding (bindings.ts), its argument checks (validate.ts) and its declaration in linux.d.ts (dts.ts).
// Kernel parts add rows (sandbox/api/*.ts); nothing here changes when they do.

import type { Kernel } from "../src/kernel/kernel.ts";
import type { Era } from "../src/kernel/types.ts";

/** Kernel eras, oldest first: `since`/`until` compare by position here. */
export const ERAS: readonly Era[] = ["2.6", "3.4", "6.1"];

/** Value types a module passes to the kernel. Each has one check (validate.ts) and one TypeScript type (dts.ts). */
export type Scalar =
  | "addr" // void *, unsigned long address, dma_addr_t, phys_addr_t: bigint on every architecture (NULL is 0n)
  | "size" // size_t: a non-negative integer number
  | "uint" // unsigned int / unsigned long counts: a non-negative integer number
  | "int" // int: an integer number (negative errnos included)
  | "gfp" // gfp_t: a non-negative integer number (GFP_* constants)
  | "order" // page order: a non-negative integer number (the kernel itself refuses orders >= MAX_ORDER)
  | "bool"
  | "string";

/** `handle:timer_list`: a kernel object the module declares (see ClassEntry). */
export type HandleType = `handle:${string}`;

export type ParamType =
  | Scalar
  | HandleType
  | "fn" // a module function the kernel calls back (with `cb` as its signature)
  | "cookie" // any module value the kernel keeps and hands back untouched (request_irq's dev_id)
  | "printk-args"; // printk's variadic arguments: numbers, bigints, strings (rest parameter, last)

export type ReturnType = Scalar | HandleType | "void";

export interface CallbackSig {
  params: { name: string; type: Scalar | HandleType | "cookie" }[];
  returns: Scalar | "void";
}

export interface Param {
  name: string;
  type: ParamType;
  doc?: string;
  /** For "fn": the signature of the callback. */
  cb?: CallbackSig;
  /** The kernel accepts NULL here (a "fn" parameter may be null, as kmem_cache_create's ctor). */
  nullable?: boolean;
}

export type Module = "linux" | "sim" | "user";

interface Common {
  name: string;
  module: Module;
  /** TSDoc body: what it does, in the kernel's words where possible. */
  doc: string;
  /** First era that has it (inclusive); default: every era. */
  since?: Era;
  /** Last era that has it (inclusive). */
  until?: Era;
  /** Completes "X does not exist in Linux 6.1 (...)": e.g. "removed in 2.6.x — use get_zeroed_page". */
  absentNote?: string;
}

/** The module state a run keeps for insmod/rmmod (what `struct module` holds). */
export interface ModuleState {
  name: string; // "cell"
  license?: string;
  author?: string;
  description?: string;
  init?: HostCallback;
  exit?: HostCallback;
  /** The cell's user program (user_main): run as a process after insmod (sandbox/user.ts). */
  userMain?: HostCallback;
  /** `insmod cell.ko name=value`: the run's module parameters (sandbox/api/params.ts). */
  params?: Record<string, string>;
  /** While set, called with each range the module stores to (writeb..writeq, memset*, memcpy/memmove's destination)
   *  and each it loads from (readb..readq, memcmp, memchr_inv, memcpy/memmove's source), before the load: the run's
   *  probes at "first-read" (sandbox/probes.ts), which unset both at the first load of a byte stored before. */
  wrote?: (addr: bigint, len: number) => void;
  beforeRead?: (addr: bigint, len: number) => void;
}

/** A module function the kernel may call: a plain host function. Calling it runs the guest under the run's limits. */
export interface HostCallback {
  (...args: unknown[]): unknown;
  /** The function's name as kallsyms knows it ("mem_module_init"), "" when anonymous. */
  readonly symbol: string;
  /**
   * Run the function as a coroutine (a kernel thread's function, which sandbox/kthread_transform.ts made a generator):
   * start() calls it, resume(v) continues it after a `yield` with v. Set by the bridge on every module function.
   */
  readonly coroutine?: (args: unknown[]) => GuestCoroutine;
}

/** A module function run step by step (src/kernel/kernel/kthread.ts KthreadBody). */
export interface GuestCoroutine {
  start(): { done: true; value: number } | { done: false } | { done: true; failed: true };
  resume(value: unknown): { done: true; value: number } | { done: false } | { done: true; failed: true };
  readonly suspendable: boolean;
  readonly symbol: string;
  dispose(): void;
}

/** A module value handed to the kernel to keep (dev_id): opaque to the kernel, handed back as it came. */
export interface Cookie {
  readonly cookie: number;
}

/** What an impl receives besides its arguments. */
export interface CallEnv {
  k: Kernel;
  mod: ModuleState;
}

/** What a module's memory is, for the record of what it allocated and freed (sandbox/memrecords.ts). */
export type MemFamily = "page" | "slab" | "vmalloc" | "dma-coherent" | "ioremap" | "cache" | "workqueue";
/** Where a number comes from: an argument (by index) or a constant. */
export type ArgOr = { arg: number } | { fixed: number };
/** How a row allocates: the family ("kv": slab or vmalloc, told by the address returned), and which argument is what. */
export interface AllocRole {
  family: MemFamily | "kv";
  /** Bytes asked for; absent for page allocations (PAGE_SIZE << order) and handles. */
  size?: ArgOr | { product: [number, number] } | { cache: number } | { strlen: number };
  order?: ArgOr;
  /** The gfp_t argument (absent: GFP_KERNEL implied, as vmalloc). */
  gfp?: number;
  /** The memory comes zeroed whatever the gfp (kzalloc, vzalloc, get_zeroed_page...). */
  zeroed?: boolean;
  /** The kmem_cache handle argument. */
  cache?: number;
  /** It returns a struct page pointer (alloc_pages), not a kernel virtual address. */
  page?: boolean;
  /** krealloc: the argument it frees when it returns new memory. */
  reallocates?: number;
}
/** How a row frees: which argument names the memory, which families it frees, its order/size arguments. */
export interface FreeRole {
  addr: number;
  families: MemFamily[];
  order?: ArgOr;
  size?: number;
  /** The argument is a struct page pointer (__free_pages). */
  page?: boolean;
}
/** A row's part in the module's memory: allocates, frees, names memory it was given by another name, or none. */
export type MemoryRole =
  | { alloc: AllocRole }
  | { free: FreeRole }
  /** Returns another name for the memory its argument `of` names (page_address, virt_to_page, kmap). */
  | { alias: { of: number; page: "to-page" | "to-virt" } }
  /** Takes part in no allocation (returns a translation, a static object, or ends a mapping): why. */
  | { none: string };

export interface FunctionEntry extends Common {
  kind: "function";
  /** Required on every row that returns an address or a handle and on every row that frees (test/sandbox/memroles). */
  memory?: MemoryRole;
  params: Param[];
  returns: ReturnType;
  /** "may sleep", "any", or a sentence such as "any; must not be called from interrupt context". */
  context: string;
  /** Called with validated arguments (addr -> bigint, numbers -> number, fn -> HostCallback, handle -> id). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each impl types its own parameters; unknown[] would reject them
  impl: (c: CallEnv, ...args: any[]) => unknown;
  /** The impl returns the number of characters printed: counted against the run's log limit. */
  countsLog?: boolean;
  /** Say why the booted kernel cannot do this yet (a missing simulated feature); checked at call time. */
  missing?: (k: Kernel) => string | undefined;
}

export interface ConstantEntry extends Common {
  kind: "constant";
  type: "number" | "addr" | "string";
  value: (k: Kernel) => number | bigint | string;
}

/** A kernel variable a module reads (jiffies): a live binding, read through a getter at each use. */
export interface VariableEntry extends Common {
  kind: "variable";
  type: "number" | "addr";
  get: (c: CallEnv) => number | bigint;
}

/** A kernel object type a module declares. `create` makes `new NAME()` legal; without it NAME is a type only. */
export interface ClassEntry extends Common {
  kind: "class";
  create?: (c: CallEnv) => number;
  /** How to make one when `new` is not the way ("DEFINE_SPINLOCK()"): used in error messages. */
  madeWith?: string;
}

export type ApiEntry = FunctionEntry | ConstantEntry | VariableEntry | ClassEntry;

/** A guest-visible error an impl raises for a misuse the table cannot express (thrown at the cell's line). */
export class GuestError extends Error {
  constructor(
    readonly guestName: "TypeError" | "RangeError" | "Error",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by the kernel when the current task dies (an Oops in process context): the module function stops at
 * once, uncatchably, and the run goes on as the kernel would. The kernel has already printed its report.
 */
export function isTaskKill(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { killTask?: unknown }).killTask === true;
}

export function eraIndex(era: Era): number {
  return ERAS.indexOf(era);
}

export function inEra(e: Common, era: Era): boolean {
  const i = eraIndex(era);
  return (e.since === undefined || eraIndex(e.since) <= i) && (e.until === undefined || i <= eraIndex(e.until));
}

/** "Linux 6.1" as messages say it. */
export function eraLabel(era: Era): string {
  return `Linux ${era}`;
}

/** The message for importing a name the profile's era does not have. */
export function absentMessage(e: Common, era: Era): string {
  const when =
    e.absentNote ??
    (e.since && eraIndex(era) < eraIndex(e.since) ? `it first appears in the ${e.since} era` : e.until ? `it is gone after the ${e.until} era` : "");
  return `${e.name} does not exist in ${eraLabel(era)}${when ? ` (${when})` : ""}`;
}

/** Helpers for rows: a parameter list in one line. */
export const p = (name: string, type: ParamType, doc?: string, cb?: CallbackSig, nullable?: boolean): Param => ({ name, type, doc, cb, nullable });

/** A "linux" function row: what every row file writes, with kind and module filled in. */
export const fn = (e: Omit<FunctionEntry, "kind" | "module">): FunctionEntry => ({ kind: "function", module: "linux", ...e });
