// The fuzzer's program generator: random kernel modules over whatever the API table holds at run time (its rows'
// names, parameter types, callback signatures and eras), deterministic from a seed.
//
// A program is lists of statements (init, exit, a few callbacks), each statement one line, so that a failing
// program can be minimised by deleting statements (fuzz/minimise.ts). Statements come from two sources:
// - families the generator knows by name when the table has them: allocate into a pointer slot and free it with
//   the right call, the wrong call, twice, with the wrong order, after use (kmalloc/kfree, __get_free_pages/
//   free_pages, vmalloc/vfree, ...);
// - any other function of the table, with arguments drawn per parameter type: addresses from the live slots, a
//   slot plus an overflowing offset, freed slots, NULL and wild pointers; sizes from 0 to absurd; every GFP
//   constant of the era; orders past MAX_ORDER; callbacks (module functions the kernel calls back from timers,
//   interrupts, work...) whose bodies are random statements too; handles of the table's classes.
// So rows added later (locks, timers, IRQs, memory access) are fuzzed without touching this file; the families
// only make the allocation paths denser and their frees meaningful.

import type { ApiEntry, ClassEntry, FunctionEntry, Param, Scalar } from "../sandbox/table.ts";
import { inEra } from "../sandbox/table.ts";
import type { Era } from "../src/kernel/types.ts";

/**
 * Rows the generator and the bridge fuzz do not call. Empty: the execution-context, locking, deferred-work, IRQ,
 * DMA and struct-page rows are fuzzed by the context templates below (Gen.contextStmt) and by the generic path;
 * the oracle tells a hang the kernel models (wait_event, a deadlock: kind "timeout" without `limit`) from the
 * sandbox's CPU deadline. Keep the set for rows that must wait for the generator to learn them.
 */
export const NOT_FUZZED_YET: ReadonlySet<string> = new Set<string>([]);

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

export interface Program {
  seed: number;
  profile: string;
  config: "debug" | "distro";
  /** The machine it runs on (machineOf(seed)): the boot's --seed, and its RAM in bytes (undefined: the profile's
   *  default). */
  bootSeed: number;
  mem?: number;
  /** Top-level lines after the imports and slot declarations (MODULE_LICENSE...). */
  top: string[];
  /** Module functions: name, parameter list text, return statement, body statements. */
  fns: FnDef[];
  /** The program loops forever on purpose (a learner's mistake): the sandbox's CPU deadline is its expected end. */
  endless?: boolean;
}

export interface FnDef {
  name: string;
  params: string;
  ret: string;
  body: string[];
}

const SLOTS = 8;
const HANDLE_SLOTS = 3;

/** Allocation families: name -> how to free what it returned (and with what order). */
interface Family {
  alloc: string;
  /** Argument text builders; `g` a gfp expression, `o` an order expression. */
  args: (x: Gen) => { text: string; order?: string };
  frees: string[];
}

const FAMILIES: Family[] = [
  { alloc: "kmalloc", args: (x) => ({ text: `${x.size()}, ${x.gfp()}` }), frees: ["kfree"] },
  { alloc: "kzalloc", args: (x) => ({ text: `${x.size()}, ${x.gfp()}` }), frees: ["kfree"] },
  { alloc: "kcalloc", args: (x) => ({ text: `${x.r.pick([0, 1, 3, 16, 1000])}, ${x.size()}, ${x.gfp()}` }), frees: ["kfree"] },
  { alloc: "kmalloc_array", args: (x) => ({ text: `${x.r.pick([0, 1, 3, 16, 1000])}, ${x.size()}, ${x.gfp()}` }), frees: ["kfree"] },
  { alloc: "kstrdup", args: (x) => ({ text: `${x.str()}, ${x.gfp()}` }), frees: ["kfree"] },
  {
    alloc: "__get_free_pages",
    args: (x) => {
      const o = x.order();
      return { text: `${x.gfp()}, ${o}`, order: o };
    },
    frees: ["free_pages"],
  },
  { alloc: "__get_free_page", args: (x) => ({ text: x.gfp(), order: "0" }), frees: ["free_page", "free_pages"] },
  { alloc: "get_zeroed_page", args: (x) => ({ text: x.gfp(), order: "0" }), frees: ["free_page", "free_pages"] },
  { alloc: "get_free_page", args: (x) => ({ text: x.gfp(), order: "0" }), frees: ["free_page", "free_pages"] },
  { alloc: "vmalloc", args: (x) => ({ text: x.size(true) }), frees: ["vfree"] },
  { alloc: "vzalloc", args: (x) => ({ text: x.size(true) }), frees: ["vfree"] },
];
const ALL_FREES = ["kfree", "vfree", "free_pages", "free_page"];

/**
 * What a Gen reads of the table for one era: the same for every seed, so made once per (table, era) and shared by
 * every Gen of it (read only). Its lists keep the table's order, which the seeds' picks index into.
 */
interface Tables {
  fns: ReadonlyMap<string, FunctionEntry>;
  classes: ReadonlyMap<string, ClassEntry>;
  constants: ReadonlySet<string>;
  moduleOf: ReadonlyMap<string, "linux" | "sim" | "user">;
  /** genericStmt's rows: every function but module_init/module_exit and the user program's rows. */
  generic: readonly FunctionEntry[];
  /** The user program's rows but user_main. */
  userRows: readonly FunctionEntry[];
  /** Per handle type: the first function returning it whose parameters take no callback or handle (handle()). */
  makerOf: Map<string, FunctionEntry | undefined>;
  /** Handle types some function returns. */
  returned: ReadonlySet<string>;
}

const tablesOf = new WeakMap<readonly ApiEntry[], Map<Era, Tables>>();

function tables(api: readonly ApiEntry[], era: Era): Tables {
  let byEra = tablesOf.get(api);
  if (!byEra) tablesOf.set(api, (byEra = new Map()));
  let t = byEra.get(era);
  if (t) return t;
  const fns = new Map<string, FunctionEntry>();
  const classes = new Map<string, ClassEntry>();
  const constants = new Set<string>();
  const moduleOf = new Map<string, "linux" | "sim" | "user">();
  for (const e of api) {
    if (!inEra(e, era)) continue;
    moduleOf.set(e.name, e.module);
    if (e.kind === "function" && !NOT_FUZZED_YET.has(e.name)) fns.set(e.name, e);
    else if (e.kind === "class") classes.set(e.name, e);
    else constants.add(e.name);
  }
  const list = [...fns.values()];
  const skip = new Set(["module_init", "module_exit"]);
  t = {
    fns,
    classes,
    constants,
    moduleOf,
    generic: list.filter((f) => !skip.has(f.name) && f.module !== "user"),
    userRows: list.filter((f) => f.module === "user" && f.name !== "user_main"),
    makerOf: new Map(),
    returned: new Set(list.filter((f) => f.returns.startsWith("handle:")).map((f) => f.returns.slice(7))),
  };
  byEra.set(era, t);
  return t;
}

export class Gen {
  readonly r: Rng;
  readonly fns: ReadonlyMap<string, FunctionEntry>;
  readonly classes: ReadonlyMap<string, ClassEntry>;
  readonly constants: ReadonlySet<string>;
  /** Names the program uses, per module, for its import lines. */
  readonly used = { linux: new Set<string>(), sim: new Set<string>(), user: new Set<string>() };
  private readonly moduleOf: ReadonlyMap<string, "linux" | "sim" | "user">;
  private readonly t: Tables;
  /** What the generator believes each slot holds (family index, order text), for meaningful frees. */
  private slot: ({ fam: Family; order?: string } | null)[] = new Array(SLOTS).fill(null);
  private handleTypes: string[] = [];
  private callbacks: FnDef[] = [];
  private depth = 0;

  constructor(
    api: readonly ApiEntry[],
    readonly era: Era,
    seed: number,
  ) {
    this.r = new Rng(seed);
    this.seed = seed;
    this.t = tables(api, era);
    this.fns = this.t.fns;
    this.classes = this.t.classes;
    this.constants = this.t.constants;
    this.moduleOf = this.t.moduleOf;
  }

  /** Name an export (and import it). */
  use(name: string): string {
    const m = this.moduleOf.get(name);
    if (!m) throw new Error(`fuzz: ${name} is not in the table for ${this.era}`);
    this.used[m].add(name);
    return name;
  }
  has(name: string): boolean {
    return this.moduleOf.has(name);
  }

  // ---------------------------------------------------------------- values by type

  gfp(): string {
    const bases = ["GFP_KERNEL", "GFP_ATOMIC", "GFP_NOWAIT", "GFP_KERNEL", "GFP_ATOMIC", "GFP_DMA", "GFP_NOIO", "GFP_USER", "GFP_HIGHUSER"].filter((n) =>
      this.constants.has(n),
    );
    const mods = ["__GFP_ZERO", "__GFP_NOWARN", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_COMP", "__GFP_HIGHMEM", "__GFP_DMA32", "__GFP_MOVABLE"].filter((n) =>
      this.constants.has(n),
    );
    if (this.r.chance(0.03))
      return this.r
        .pick(["0", "0xffffffff", "GFP_KERNEL | GFP_ATOMIC"].filter((t) => !t.includes("GFP_") || this.constants.has("GFP_ATOMIC")))
        .replace(/GFP_\w+/g, (n) => this.use(n));
    let g = this.use(this.r.pick(bases));
    while (mods.length && this.r.chance(0.25)) g += ` | ${this.use(this.r.pick(mods))}`;
    return g;
  }

  size(vm = false): string {
    const small = [0, 1, 7, 8, 13, 32, 64, 96, 100, 128, 192, 200, 256, 500, 512, 1000, 1024, 2048, 4000, 4096];
    const big = [4097, 8192, 8193, 16384, 65536, 131072, 131073, 262144, 1 << 20, 4 << 20, 5 << 20];
    const absurd = [2 ** 31, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER];
    const u = this.r.next();
    if (u < 0.6) return String(this.r.pick(small));
    if (u < (vm ? 0.96 : 0.93)) return String(this.r.pick(big));
    if (u < 0.98 && this.has("KMALLOC_MAX_SIZE")) return `${this.use("KMALLOC_MAX_SIZE")}${this.r.pick(["", " + 1"])}`;
    return String(this.r.pick(absurd));
  }

  order(): string {
    const u = this.r.next();
    if (u < 0.75) return String(this.r.pick([0, 0, 0, 1, 1, 2, 3]));
    if (u < 0.9) return String(this.r.pick([4, 5, 8, 10]));
    if (this.has("MAX_ORDER")) return `${this.use("MAX_ORDER")}${this.r.pick([" - 1", "", " + 1"])}`;
    return "11";
  }

  str(): string {
    return JSON.stringify(this.r.pick(["", "x", "hello", "%s%s%s%n", "a".repeat(300), "\u00e9\u0000z", "<6>fake [    1.0] BUG: forged"]));
  }

  /** A pointer expression: live slot, slot + overflow, wild constants. */
  addr(): string {
    const u = this.r.next();
    const s = `p${this.r.int(SLOTS)}`;
    if (u < 0.6) return s;
    if (u < 0.75) return `${s} + ${this.r.pick(["1n", "8n", "16n", "100n", "4096n", "4095n", "-8n"])}`;
    const wild = ["0n", "1n", "0xdeadbeefn", "0xffffffffffffffffn", "-1n", "0x1000n"];
    for (const c of ["PAGE_OFFSET", "VMALLOC_START", "high_memory", "VMALLOC_END"]) if (this.has(c)) wild.push(this.use(c));
    if (this.has("PAGE_OFFSET")) wild.push(`${this.use("PAGE_OFFSET")} + 0x${(this.r.int(0x4000) * 4096).toString(16)}n`);
    return this.r.pick(wild);
  }

  scalar(t: Scalar, fnName: string): string {
    switch (t) {
      case "addr":
        return this.addr();
      case "size":
        return this.size();
      case "gfp":
        return this.gfp();
      case "order":
        return this.order();
      case "uint":
        // simulated milliseconds and IRQ lines stay modest so that the drain does not dominate the run
        if (/irq/i.test(fnName) && this.has("BUTTON_IRQ") && this.r.chance(0.7)) return this.use("BUTTON_IRQ");
        return String(this.r.pick([0, 1, 2, 5, 10, 20, 100, 1000, 4294967295]));
      case "int":
        return String(this.r.pick([0, 1, -1, -12, 42, 2147483647, -2147483648]));
      case "bool":
        return this.r.pick(["true", "false"]);
      case "string":
        return this.str();
    }
  }

  /** A handle of class T: an existing handle variable, or a new one made with `new T()` / a function returning it. */
  handle(type: string): string | undefined {
    const have = this.handleTypes.findIndex((t) => t === type);
    if (have >= 0 && this.r.chance(0.8)) return `h${have}`;
    const cls = this.classes.get(type);
    let make: string | undefined;
    if (cls?.create) make = `new ${this.use(type)}()`;
    else {
      let maker = this.t.makerOf.get(type);
      if (!this.t.makerOf.has(type)) {
        maker = [...this.fns.values()].find((f) => f.returns === `handle:${type}` && f.params.every((p) => p.type !== "fn" && !p.type.startsWith("handle:")));
        this.t.makerOf.set(type, maker);
      }
      if (maker) make = `${this.use(maker.name)}(${maker.params.map((p) => this.argFor(p, maker.name)).join(", ")})`;
    }
    if (!make) return have >= 0 ? `h${have}` : undefined;
    if (this.handleTypes.length < HANDLE_SLOTS) {
      this.handleTypes.push(type);
      this.pendingHandle.push(`h${this.handleTypes.length - 1} = ${make};`);
      return `h${this.handleTypes.length - 1}`;
    }
    return make;
  }
  /** Statements that must precede the current one (handle creation). */
  private pendingHandle: string[] = [];

  /** A module function for a "fn" parameter: random statements, the signature's return. */
  callback(p: Param): string {
    const sig = p.cb ?? { params: [], returns: "void" };
    const name = `cb${this.callbacks.length}`;
    const def: FnDef = { name, params: sig.params.map((q, i) => `a${i}: any`).join(", "), ret: sig.returns === "void" ? "" : "return 0;", body: [] };
    this.callbacks.push(def);
    if (this.depth < 2) {
      this.depth++;
      const n = this.r.int(5);
      for (let i = 0; i < n; i++) def.body.push(...this.statement(true));
      this.depth--;
      if (this.r.chance(0.3)) def.body.push("flag = true;"); // what a wait_event() elsewhere may be waiting for
    }
    return name;
  }

  argFor(p: Param, fnName: string): string {
    if (p.type === "fn") return this.r.chance(0.05) ? this.r.pick(["null", "42", '() => { throw new Error("cb"); }']) : this.callback(p);
    if (p.type === "cookie") return this.r.pick(["0", "1", "{ dev: 1 }", '"id"', "null"]);
    if (p.type === "printk-args") return "";
    if (p.type.startsWith("handle:")) return this.handle(p.type.slice(7)) ?? "null";
    return this.scalar(p.type as Scalar, fnName);
  }

  // ---------------------------------------------------------------- statements

  private allocStmt(atomic: boolean): string | undefined {
    const fams = FAMILIES.filter((f) => this.has(f.alloc));
    if (!fams.length) return undefined;
    const fam = this.r.pick(fams);
    const i = this.r.int(SLOTS);
    const { text, order } = fam.args(this);
    this.slot[i] = { fam, order };
    const call = `p${i} = ${this.use(fam.alloc)}(${atomic && /gfp|GFP/.test(text) ? text : text});`;
    return call;
  }

  private freeStmt(): string | undefined {
    const i = this.r.int(SLOTS);
    const held = this.slot[i];
    const u = this.r.next();
    let fn: string;
    if (held && u < 0.75) fn = this.r.pick(held.fam.frees);
    else fn = this.r.pick(ALL_FREES); // the wrong free, or a free of whatever is there
    if (!this.has(fn)) return undefined;
    let order = held?.order ?? "0";
    if (this.r.chance(0.1)) order = this.order(); // wrong order
    const args = fn === "free_pages" ? `p${i}, ${order}` : `p${i}`;
    // Sometimes the slot is cleared (correct code), sometimes kept: a later free is then a double free.
    const clear = this.r.chance(0.5) ? ` p${i} = 0n;` : "";
    if (clear) this.slot[i] = null;
    return `${this.use(fn)}(${args});${clear}`;
  }

  private readonly seed: number;
  private turn = 0;

  private genericStmt(): string | undefined {
    // The user program's rows ("user") have their own block (program()): a module's code calling them only errs.
    const fns = this.t.generic;
    if (!fns.length) return undefined;
    // A program's first three generic calls take the table's rows in turn, from the program's index among the seeds
    // of its target (seed / number of targets): consecutive seeds of one era cover the whole table, however rare a
    // random pick of a row is; the rest are random picks.
    const rotated = this.turn < 3;
    const f = rotated ? fns[(Math.floor(this.seed / FUZZ_TARGETS.length) + this.turn++) % fns.length]! : this.r.pick(fns);
    if (/^pr_|^printk$/.test(f.name)) return this.printkStmt(f);
    const args = f.params.map((p) => this.argFor(p, f.name));
    // A handle only the kernel hands out (a struct file, a vm_area_struct, a seq_file: a file operation's argument)
    // is always null in module code: the call is made anyway, and its TypeError is the outcome.
    const makeable = (t: string) => this.classes.get(t)?.create !== undefined || this.t.returned.has(t);
    if (!rotated && args.includes("null") && f.params.some((p) => p.type.startsWith("handle:") && makeable(p.type.slice(7))) && this.r.chance(0.7))
      return undefined;
    const call = `${this.use(f.name)}(${args.join(", ")})`;
    // A string routine over terabytes (memset32(p, v, 2 ** 40)) writes through whatever it reaches, page tables
    // included, until the soft-lockup watchdog (the CPU deadline) stops it, as a real CPU would be stuck: endless.
    if (/^mem(set|cpy|move|cmp|chr|scan)/.test(f.name) && args.some((a) => /^\d+$/.test(a) && Number(a) >= 2 ** 31)) this.endless = true;
    if (f.returns === "addr") return `p${this.r.int(SLOTS)} = ${call};`;
    if (f.returns === "void") return `${call};`;
    return `sink = ${call};`;
  }

  private printkStmt(f: FunctionEntry): string {
    const level = ["KERN_INFO", "KERN_ERR", "KERN_WARNING", "KERN_DEBUG"].filter((n) => this.constants.has(n));
    const pre = f.name === "printk" && level.length ? `${this.use(this.r.pick(level))} + ` : "";
    const fmts = [
      '"p=%px\\n"',
      '"%d %s\\n"',
      '"%p %pS %lx\\n"',
      '"BUG: kernel NULL pointer dereference, address: 0000000000000000\\n"',
      '"%s\\n"',
      '"%zu %u\\n"',
    ];
    const args = ["p0", "sink", '"str"', "12345", "p1 + 1n", "-1"];
    const n = this.r.int(3);
    const xs = Array.from({ length: n }, () => this.r.pick(args));
    return `${this.use(f.name)}(${pre}${this.r.pick(fmts)}${xs.length ? ", " + xs.join(", ") : ""});`;
  }

  // ---------------------------------------------------------------- contexts, locks, deferred work, IRQs, DMA, pages
  //
  // Templates over the context rows, each one line (so that the minimiser can drop it): critical sections with a
  // random statement inside (an allocation with GFP_KERNEL under a spinlock, a sleep with interrupts off), locks
  // taken and dropped in odd orders, twice, or never taken; timers, tasklets, work and IRQ handlers whose bodies
  // are random statements (allocations with GFP_KERNEL or GFP_ATOMIC, sleeps, locks: atomic context at work);
  // DMA mappings of kmalloc and vmalloc memory, right and wrong; struct page round trips; object caches shrunk.
  // Static objects (locks, timer_list...) are made at the top level, as a module's statics are.

  /** Top-level lines the templates need (static locks, the DMA device, deferred-work structs), in first-use order. */
  private statics: string[] = [];
  /** Cleanup the exit function runs (del_timer_sync, free_irq...), when the program is tidy. */
  private cleanup: string[] = [];
  private endless = false;

  private static_(line: string): void {
    if (!this.statics.includes(line)) this.statics.push(line);
  }
  private tidy(line: string): void {
    if (!this.cleanup.includes(line) && this.r.chance(0.8)) this.cleanup.push(line);
  }
  private spinlock(): string {
    const v = `sl${this.r.int(2)}`;
    this.static_(`${v} = ${this.use("DEFINE_SPINLOCK")}();`);
    return v;
  }
  private mutex(): string {
    const v = `mx${this.r.int(2)}`;
    this.static_(`${v} = ${this.use("DEFINE_MUTEX")}();`);
    return v;
  }
  private obj(v: string, cls: string): string {
    this.static_(`${v} = new ${this.use(cls)}();`);
    return v;
  }
  private device(): string {
    this.static_(`dev = ${this.use("dma_device")}();`);
    return "dev";
  }
  private hasAll(...names: string[]): boolean {
    return names.every((n) => this.has(n));
  }

  /** A sleep of any kind (wait_event included: a condition that never comes true is a hang the kernel models). */
  private sleepStmt(): string | undefined {
    const opts: [string, () => string][] = [
      ["msleep", () => `${this.use("msleep")}(${this.r.pick([0, 1, 10, 100])});`],
      ["ssleep", () => `${this.use("ssleep")}(1);`],
      ["msleep_interruptible", () => `sink = ${this.use("msleep_interruptible")}(5);`],
      ["usleep_range", () => `${this.use("usleep_range")}(10, 20);`],
      ["udelay", () => `${this.use("udelay")}(${this.r.pick([1, 50])});`],
      ["mdelay", () => `${this.use("mdelay")}(1);`],
      ["schedule", () => `${this.use("schedule")}();`],
      ["schedule_timeout", () => `sink = ${this.use("schedule_timeout")}(${this.r.pick([0, 1, 10])});`],
      ["wait_event", () => `${this.use("wait_event")}(() => ${this.r.pick(["true", "flag", "false", "p0 !== 0n"])});`],
      ["wait_event_timeout", () => `sink = ${this.use("wait_event_timeout")}(() => ${this.r.pick(["flag", "false", "true"])}, ${this.r.pick([1, 10, 100])});`],
    ];
    const ok = opts.filter(([n]) => this.has(n));
    return ok.length ? this.r.pick(ok)[1]() : undefined;
  }

  /** What runs inside a critical section or an atomic region: an allocation, a free, a sleep, another context row. */
  private inner(): string {
    const u = this.r.next();
    let s: string | undefined;
    if (u < 0.4) s = this.allocStmt(true);
    else if (u < 0.55) s = this.freeStmt();
    else if (u < 0.85) s = this.sleepStmt();
    else if (this.depth < 2) {
      this.depth++;
      s = this.contextStmt();
      this.depth--;
    }
    return s ? s + " " : "";
  }

  /** A callback of signature sig (a module function the kernel calls from a timer, a tasklet, work, an IRQ). */
  private cb(params: Param["type"][], returns: "void" | "int"): string {
    return this.callback({ name: "f", type: "fn", cb: { params: params.map((t, i) => ({ name: `a${i}`, type: t })), returns } } as Param);
  }

  private lockStmt(): string | undefined {
    if (!this.has("DEFINE_SPINLOCK")) return undefined;
    const A = this.spinlock();
    const B = A === "sl0" ? "sl1" : "sl0";
    const lk = (n: string) => this.use(n);
    const t: (() => string | undefined)[] = [
      () => `${lk("spin_lock")}(${A}); ${this.inner()}${lk("spin_unlock")}(${A});`,
      () => `fl = ${lk("spin_lock_irqsave")}(${A}); ${this.inner()}${lk("spin_unlock_irqrestore")}(${A}, ${this.r.chance(0.85) ? "fl" : "0"});`,
      () => `${lk("spin_lock_bh")}(${A}); ${this.inner()}${lk("spin_unlock_bh")}(${A});`,
      () => `${lk("spin_lock_irq")}(${A}); ${this.inner()}${lk("spin_unlock_irq")}(${A});`,
      () => (
        this.static_(`${B} = ${lk("DEFINE_SPINLOCK")}();`),
        `${lk("spin_lock")}(${A}); ${lk("spin_lock")}(${B}); ${this.inner()}${lk("spin_unlock")}(${A}); ${lk("spin_unlock")}(${B});`
      ),
      () => (
        this.static_(`${B} = ${lk("DEFINE_SPINLOCK")}();`),
        `${lk("spin_lock")}(${A}); ${lk("spin_lock")}(${B}); ${lk("spin_unlock")}(${B}); ${lk("spin_unlock")}(${A});`
      ),
      () => `${lk("spin_lock")}(${A}); ${lk("spin_lock")}(${A});`, // a deadlock on one CPU: the watchdog's soft lockup
      () => `${lk("spin_unlock")}(${A});`, // unlock without lock
      () => `${lk("spin_lock")}(${A});`, // left held (at return to user space, at unload)
      () => `if (${lk("spin_trylock")}(${A})) { ${this.inner()}${lk("spin_unlock")}(${A}); }`,
      () => `sink = ${lk("spin_is_locked")}(${A});`,
    ];
    if (this.has("DEFINE_MUTEX")) {
      const M = this.mutex();
      t.push(
        () => `${lk("mutex_lock")}(${M}); ${this.inner()}${lk("mutex_unlock")}(${M});`,
        () => `${lk("mutex_lock")}(${M}); ${lk("mutex_lock")}(${M});`, // self-deadlock: the task sleeps forever
        () => `${lk("mutex_unlock")}(${M});`,
        () => `${lk("spin_lock")}(${A}); ${lk("mutex_lock")}(${M}); ${lk("mutex_unlock")}(${M}); ${lk("spin_unlock")}(${A});`, // sleeping under a spinlock
        () => `if (${lk("mutex_trylock")}(${M})) { ${this.inner()}${lk("mutex_unlock")}(${M}); }`,
        () => `if (${lk("mutex_lock_interruptible")}(${M}) === 0) { ${this.inner()}${lk("mutex_unlock")}(${M}); }`,
        () => `${lk("mutex_lock")}(${M}); ${lk("spin_lock")}(${A}); ${lk("spin_unlock")}(${A}); ${lk("mutex_unlock")}(${M});`,
      );
    }
    return this.r.pick(t)();
  }

  private atomicStmt(): string | undefined {
    const pairs: [string, string, string][] = [
      ["preempt_disable", "preempt_disable();", "preempt_enable();"],
      ["local_irq_disable", "local_irq_disable();", "local_irq_enable();"],
      ["local_irq_save", "fl = local_irq_save();", "local_irq_restore(fl);"],
      ["local_bh_disable", "local_bh_disable();", "local_bh_enable();"],
    ];
    const ok = pairs.filter(([n]) => this.has(n));
    if (!ok.length) return undefined;
    const [, on, off] = this.r.pick(ok);
    const name = (x: string) => x.replace(/\b(preempt_\w+|local_\w+)\(/, (_m, n: string) => `${this.use(n)}(`);
    const u = this.r.next();
    if (u < 0.75) return `${name(on)} ${this.inner()}${name(off)}`;
    return u < 0.88 ? name(on) : name(off); // unbalanced
  }

  private deferredStmt(): string | undefined {
    const t: (() => string | undefined)[] = [];
    const ms = () => this.r.pick([0, 1, 5, 20, 100]);
    if (this.has("timer_setup") || this.has("setup_timer")) {
      t.push(() => {
        const T = this.obj(`tm${this.r.int(2)}`, "timer_list");
        const setup = this.has("timer_setup")
          ? `${this.use("timer_setup")}(${T}, ${this.cb(["handle:timer_list"], "void")}, 0);`
          : `${this.use("setup_timer")}(${T}, ${this.cb(["uint"], "void")}, ${this.r.pick([0, 7])});`;
        this.tidy(`${this.use("del_timer_sync")}(${T});`);
        return `${setup} sink = ${this.use("mod_timer")}(${T}, ${this.use("jiffies")} + ${this.r.pick([0, 1, 2, 10, 50])});`;
      });
      t.push(() => `sink = ${this.use(this.r.pick(["del_timer", "del_timer_sync", "timer_pending"]))}(${this.obj(`tm${this.r.int(2)}`, "timer_list")});`);
    }
    if (this.has("tasklet_setup") || this.has("tasklet_init")) {
      t.push(() => {
        const T = this.obj("tl0", "tasklet_struct");
        const setup = this.has("tasklet_setup")
          ? `${this.use("tasklet_setup")}(${T}, ${this.cb(["handle:tasklet_struct"], "void")});`
          : `${this.use("tasklet_init")}(${T}, ${this.cb(["uint"], "void")}, 0);`;
        this.tidy(`${this.use("tasklet_kill")}(${T});`);
        return `${setup} ${this.use(this.r.chance(0.8) ? "tasklet_schedule" : "tasklet_hi_schedule")}(${T});`;
      });
    }
    if (this.hasAll("INIT_WORK", "schedule_work")) {
      t.push(() => {
        const W = this.obj("wk0", "work_struct");
        this.tidy(`${this.use("cancel_work_sync")}(${W});`);
        let q = `sink = ${this.use("schedule_work")}(${W});`;
        if (this.has("alloc_workqueue") && this.r.chance(0.3)) {
          this.static_(`wq0 = ${this.use("alloc_workqueue")}("fz_wq", 0, 1);`);
          this.tidy(`${this.use("destroy_workqueue")}(wq0);`);
          q = `sink = ${this.use("queue_work")}(wq0, ${W});`;
        }
        return `${this.use("INIT_WORK")}(${W}, ${this.cb(["handle:work_struct"], "void")}); ${q}${this.r.chance(0.3) ? ` sink = ${this.use("flush_work")}(${W});` : ""}`;
      });
    }
    if (this.hasAll("INIT_DELAYED_WORK", "schedule_delayed_work")) {
      t.push(() => {
        const W = this.obj("dw0", "delayed_work");
        this.tidy(`${this.use("cancel_delayed_work_sync")}(${W});`);
        return `${this.use("INIT_DELAYED_WORK")}(${W}, ${this.cb(["handle:delayed_work"], "void")}); sink = ${this.use("schedule_delayed_work")}(${W}, ${this.r.pick([0, 1, 10])});`;
      });
    }
    if (this.hasAll("request_irq", "BUTTON_IRQ", "raise_irq")) {
      t.push(() => {
        const irq = this.use("BUTTON_IRQ");
        const cookie = this.r.pick(["null", "dev_id", "dev_id"]);
        const req =
          this.has("request_threaded_irq") && this.r.chance(0.25)
            ? `sink = ${this.use("request_threaded_irq")}(${irq}, ${this.cb(["int", "cookie"], "int")}, ${this.cb(["int", "cookie"], "int")}, 0, "fz_irq", ${cookie});`
            : `sink = ${this.use("request_irq")}(${irq}, ${this.cb(["int", "cookie"], "int")}, ${this.r.pick(["0", "0", "128"])}, "fz_irq", ${cookie});`;
        this.tidy(`${this.use("free_irq")}(${irq}, ${cookie});`);
        return `${req} ${this.use("raise_irq")}(${irq});`;
      });
      t.push(() => `${this.use("raise_irq")}(${this.use("BUTTON_IRQ")});`);
      t.push(() => `${this.use("free_irq")}(${this.use("BUTTON_IRQ")}, ${this.r.pick(["null", "dev_id"])});`);
    }
    if (this.has("advance")) t.push(() => `${this.use("advance")}(${ms()});`);
    if (this.has("raise_irq_at") && this.has("BUTTON_IRQ")) t.push(() => `${this.use("raise_irq_at")}(${ms()}, ${this.use("BUTTON_IRQ")});`);
    return t.length ? this.r.pick(t)() : undefined;
  }

  private dmaStmt(): string | undefined {
    if (!this.hasAll("dma_device", "dma_map_single", "dma_unmap_single")) return undefined;
    const D = this.device();
    const dir = () => String(this.r.pick([0, 1, 1, 2, 3]));
    const sz = () => String(this.r.pick([64, 100, 4096, 8192, 65536]));
    const i = this.r.int(SLOTS);
    const t: (() => string | undefined)[] = [
      () => {
        const size = sz();
        const d = dir();
        this.slot[i] = { fam: FAMILIES[0]! };
        const unmap = this.r.chance(0.7)
          ? ` ${this.use("dma_unmap_single")}(${D}, d0, ${this.r.chance(0.85) ? size : sz()}, ${this.r.chance(0.85) ? d : dir()});`
          : "";
        return `p${i} = ${this.use("kmalloc")}(${size}, ${this.gfp()}); d0 = ${this.use("dma_map_single")}(${D}, p${i}, ${size}, ${d}); sink = ${this.use("dma_mapping_error")}(${D}, d0);${unmap}`;
      },
      () => {
        if (!this.has("vmalloc")) return undefined;
        const size = sz();
        this.slot[i] = { fam: FAMILIES.find((f) => f.alloc === "vmalloc")! };
        return `p${i} = ${this.use("vmalloc")}(${size}); d1 = ${this.use("dma_map_single")}(${D}, p${i}, ${size}, ${dir()});`;
      },
      () => `d${this.r.int(2)} = ${this.use("dma_map_single")}(${D}, ${this.addr()}, ${this.size()}, ${dir()});`,
      () => `${this.use("dma_unmap_single")}(${D}, d${this.r.int(2)}, ${sz()}, ${dir()});`,
      () => {
        if (!this.hasAll("dma_alloc_coherent", "dma_coherent_handle", "dma_free_coherent")) return undefined;
        const size = sz();
        this.slot[i] = null;
        const free = this.r.chance(0.8) ? ` ${this.use("dma_free_coherent")}(${D}, ${size}, p${i}, ${this.r.chance(0.9) ? "d1" : "d0"});` : "";
        return `p${i} = ${this.use("dma_alloc_coherent")}(${D}, ${size}, ${this.gfp()}); d1 = ${this.use("dma_coherent_handle")}(${D}, p${i});${free}`;
      },
      () =>
        this.has("dma_set_mask")
          ? `sink = ${this.use(this.r.pick(["dma_set_mask", "dma_set_mask_and_coherent"].filter((n) => this.has(n))))}(${D}, ${this.r.pick(["0xffffffn", "0xffffffffn", "0xffffffffffffffffn", "0n"])});`
          : undefined,
    ];
    return this.r.pick(t)();
  }

  private pageStmt(): string | undefined {
    if (!this.hasAll("alloc_pages", "__free_pages", "page_address")) return undefined;
    const P = `pg${this.r.int(2)}`;
    const i = this.r.int(SLOTS);
    const t: (() => string | undefined)[] = [
      () => {
        const o = this.order();
        const free = this.r.chance(0.6) ? ` ${this.use("__free_pages")}(${P}, ${this.r.chance(0.85) ? o : this.order()});` : "";
        this.slot[i] = null;
        return `${P} = ${this.use("alloc_pages")}(${this.gfp()}, ${o}); p${i} = ${this.use("page_address")}(${P});${free}`;
      },
      () => (this.has("alloc_page") ? `${P} = ${this.use("alloc_page")}(${this.gfp()});` : undefined),
      () => (this.has("__free_page") ? `${this.use("__free_page")}(${P});` : undefined),
      () =>
        this.hasAll("kmap", "kunmap")
          ? `p${i} = ${this.use("kmap")}(${P}); ${this.r.chance(0.7) ? `sink = p${i} === 0n ? 0 : 1; ` : ""}${this.use("kunmap")}(${P});`
          : undefined,
      () => (this.hasAll("kmap_local_page", "kunmap_local") ? `p${i} = ${this.use("kmap_local_page")}(${P}); ${this.use("kunmap_local")}(p${i});` : undefined),
      () =>
        this.hasAll("virt_to_page", "page_to_pfn", "pfn_to_page")
          ? `${P} = ${this.use("virt_to_page")}(${this.addr()}); sink = ${this.use("page_to_pfn")}(${P}); ${P} = ${this.use("pfn_to_page")}(sink);`
          : undefined,
      () => `p${i} = ${this.use("page_address")}(${this.r.chance(0.7) ? P : this.addr()});`,
      () => {
        if (!this.hasAll("kmem_cache_create", "kmem_cache_alloc", "kmem_cache_shrink")) return undefined;
        this.static_(`kc = ${this.use("kmem_cache_create")}("fz_cache", ${this.r.pick([8, 64, 200, 1000])}, 0, 0, null);`);
        return `p${i} = ${this.use("kmem_cache_alloc")}(kc, ${this.gfp()}); sink = ${this.use("kmem_cache_shrink")}(kc);`;
      },
    ];
    return this.r.pick(t)();
  }

  /** One context statement (locks, atomic regions, deferred work and IRQs, DMA, struct page), or an endless loop. */
  contextStmt(): string | undefined {
    const u = this.r.next();
    if (u < 0.002 && this.depth === 0) {
      this.endless = true; // a learner's loop that never ends: the CPU deadline must stop it, and nothing else fail
      return "for (;;) { sink++; }";
    }
    if (u < 0.3) return this.lockStmt();
    if (u < 0.4) return this.atomicStmt();
    if (u < 0.55) return this.sleepStmt();
    if (u < 0.8) return this.deferredStmt();
    if (u < 0.9) return this.dmaStmt();
    return this.pageStmt();
  }

  /** One statement (maybe preceded by handle creations), possibly wrapped in a loop or a try. */
  statement(inCallback = false): string[] {
    this.pendingHandle = [];
    let s: string | undefined;
    let ctx = false;
    for (let tries = 0; tries < 5 && !s; tries++) {
      const u = this.r.next();
      if (u < 0.3) s = this.allocStmt(inCallback);
      else if (u < 0.5) s = this.freeStmt();
      else if (u < 0.72) {
        s = this.contextStmt();
        ctx = true;
      } else s = this.genericStmt();
    }
    if (!s) return [];
    const pre = this.pendingHandle;
    this.pendingHandle = [];
    // No loop around a wait: each wait_event() on a condition that never comes true costs a minute of simulated
    // polling (the kernel's modelled hang), and hundreds of them would only measure the CPU deadline.
    // Deferred work, locks and sleeps repeat a few times only: 300 work items that each sleep and allocate measure
    // kmemleak's report of thousands of objects, not the kernel's paths.
    if (this.r.chance(0.06) && !/\bwait_event/.test(s)) s = `for (let i = 0; i < ${this.r.pick(ctx ? [2, 3, 10] : [3, 10, 64, 300])}; i++) { ${s} }`;
    if (this.r.chance(0.3)) s = `try { ${s} } catch (e) { fz_caught(e); }`;
    return [...pre, s];
  }

  /** The whole program. */
  program(seed: number, profile: string, config: "debug" | "distro"): Program {
    const top: string[] = [];
    if (this.has("MODULE_LICENSE")) {
      const lic = this.r.next();
      if (lic < 0.85) top.push(`${this.use("MODULE_LICENSE")}("GPL");`);
      else if (lic < 0.93) top.push(`${this.use("MODULE_LICENSE")}("Proprietary");`);
    }
    const init: FnDef = { name: "fz_init", params: "", ret: `return ${this.r.chance(0.9) ? "0" : this.r.pick(["-12", "1", "-1"])};`, body: [] };
    const n = 1 + this.r.int(20);
    for (let i = 0; i < n; i++) init.body.push(...this.statement());
    const exit: FnDef = { name: "fz_exit", params: "", ret: "", body: [] };
    // Mostly correct cleanup, then a few random statements.
    for (let i = 0; i < SLOTS; i++) {
      const held = this.slot[i];
      if (held && this.r.chance(0.8)) {
        const fn = held.fam.frees[0]!;
        exit.body.push(`${this.use(fn)}(p${i}${fn === "free_pages" ? `, ${held.order ?? "0"}` : ""});`);
      }
    }
    exit.body.push(...this.cleanup);
    const m = this.r.int(4);
    for (let i = 0; i < m; i++) exit.body.push(...this.statement());
    top.push(...this.statics);
    // A third of the programs have a user program (user_main): a few "user" rows in turn, from where the seed says
    // (drawn last, so the module's own statements are those the seed gave before the user rows existed).
    const userRows = this.t.userRows;
    if (userRows.length && this.fns.has("user_main") && seed % 3 === 0) {
      const main: FnDef = { name: "fz_user", params: "", ret: "return 0;", body: [] };
      for (let i = 0; i < 6; i++) {
        const f = userRows[(Math.floor(seed / 3) * 6 + i) % userRows.length]!;
        const call = `${this.use(f.name)}(${f.params.map((q) => this.argFor(q, f.name)).join(", ")})`;
        const stmt = f.returns === "addr" ? `p${this.r.int(SLOTS)} = ${call};` : f.returns === "void" ? `${call};` : `sink = ${call};`;
        main.body.push(this.r.chance(0.3) ? `try { ${stmt} } catch (e) { fz_caught(e); }` : stmt);
      }
      this.callbacks.push(main);
      top.push(`${this.use("user_main")}(fz_user);`);
    }
    // A callback that arms deferred work (a timer, work, a tasklet, an interrupt) may re-arm itself for ever: an
    // interrupt storm, a timer that never stops. The drain after init then ends only at the CPU deadline, as the
    // real kernel would never stop; the program counts as endless on purpose.
    const rearms =
      /\b(raise_irq_at|raise_irq|mod_timer|add_timer|schedule_work|queue_work|schedule_delayed_work|queue_delayed_work|mod_delayed_work|tasklet_schedule|tasklet_hi_schedule)\(/;
    if (this.callbacks.some((cb) => cb.body.some((l) => rearms.test(l)))) this.endless = true;
    const machine = machineOf(seed);
    return {
      seed,
      profile,
      config,
      bootSeed: machine.bootSeed,
      ...(machine.mem !== undefined ? { mem: machine.mem } : {}),
      top,
      fns: [...this.callbacks, init, exit],
      ...(this.endless ? { endless: true } : {}),
    };
  }
}

/** Source text of a program (module_init/module_exit registered last; fz_caught rethrows the run's own stops). */
export function render(p: Program, used: { linux: Set<string>; sim: Set<string>; user: Set<string> }): string {
  const lines: string[] = [];
  const linux = new Set(used.linux);
  for (const n of ["module_init", "module_exit", "printk", "KERN_ERR"]) linux.add(n);
  lines.push(`import { ${[...linux].sort().join(", ")} } from "linux";`);
  if (used.sim.size) lines.push(`import { ${[...used.sim].sort().join(", ")} } from "sim";`);
  if (used.user.size) lines.push(`import { ${[...used.user].sort().join(", ")} } from "user";`);
  lines.push(`let ${Array.from({ length: SLOTS }, (_, i) => `p${i}: bigint = 0n`).join(", ")};`);
  lines.push(`let ${Array.from({ length: HANDLE_SLOTS }, (_, i) => `h${i}: any = null`).join(", ")};`);
  lines.push("let sink: any = 0;");
  // The context templates' statics (locks, timers, the DMA device...), flags, DMA handles and struct page pointers.
  lines.push(
    "let sl0: any = null, sl1: any = null, mx0: any = null, mx1: any = null, tm0: any = null, tm1: any = null, tl0: any = null, wk0: any = null, dw0: any = null, wq0: any = null, dev: any = null, kc: any = null;",
  );
  lines.push("let fl = 0, flag = false, d0: bigint = 0n, d1: bigint = 0n, pg0: bigint = 0n, pg1: bigint = 0n;");
  lines.push("const dev_id = { dev: 1 };");
  // A kernel failure inside a call is an InternalError naming the simulator; say it in dmesg so a program that
  // catches it still shows it. Stops (limits, an Oops killing the task) are rethrown, as they must be.
  lines.push(
    `function fz_caught(e: any) { const s = String(e); if (s.indexOf("simulated kernel failed") >= 0) printk(KERN_ERR + "FUZZ-HOST-FAILURE %s\\n", s); if (s.indexOf("interrupted") >= 0) throw e; }`,
  );
  lines.push(...p.top);
  for (const f of p.fns) {
    lines.push(`function ${f.name}(${f.params}) {`);
    for (const s of f.body) lines.push(`  ${s}`);
    if (f.ret) lines.push(`  ${f.ret}`);
    lines.push("}");
  }
  lines.push("module_init(fz_init);", "module_exit(fz_exit);");
  return lines.join("\n") + "\n";
}

export interface Generated {
  program: Program;
  used: { linux: Set<string>; sim: Set<string>; user: Set<string> };
  source: string;
}

/** Profiles and configs the fuzzer cycles through, by seed. */
export const FUZZ_TARGETS: { profile: string; era: Era; config: "debug" | "distro" }[] = [
  { profile: "x86_64-6.1", era: "6.1", config: "debug" },
  { profile: "x86_64-6.1", era: "6.1", config: "distro" },
  { profile: "i386-6.1", era: "6.1", config: "debug" },
  { profile: "arm-6.1-virt", era: "6.1", config: "distro" },
  { profile: "arm64-6.1", era: "6.1", config: "debug" },
  { profile: "i386-2.6", era: "2.6", config: "distro" },
  { profile: "i386-2.6", era: "2.6", config: "debug" },
  { profile: "arm-3.4-msm8x25", era: "3.4", config: "distro" },
];

/**
 * The machines the programs run on. A program's seed draws its statements; the machine it runs on is one of a few
 * per target, booted once per process and restored for each program (sandbox/run.ts's boot cache,
 * src/kernel/snapshot.ts), instead of a machine booted from the program's own seed (57 ms a program, a boot and a
 * whole-machine invariant check each, when every seed was its own machine).
 * - Seeds are cut into blocks of MACHINE_BLOCK. In a block, each target (seed % FUZZ_TARGETS.length) has
 *   MACHINES_PER_TARGET machines, taken in turn by its programs: three at 128 MiB (small machines boot and check
 *   fastest) and one at the profile's own RAM, as the old one-in-five at the profile's RAM did. Each has its own boot
 *   seed (KASLR, the %p key, the SLUB freelist order...), new in every block.
 * - So a run still covers many layouts: 4 per target per block of 800 programs, 52 per target over the 10000 of
 *   `npm run fuzz`, 8 per target over the 1000 of `npm test`; and every program starts from a fresh copy of its
 *   machine as it was booted, never from what an earlier program left (the copy is byte for byte a fresh boot:
 *   src/kernel/snapshot.ts; test/reliability/fuzz.test.ts runs a dirtying program and then a clean one on one machine).
 * - The machine is a pure function of the seed: `npm run fuzz -- --seed N` and the minimiser run a failing program on
 *   the very machine it failed on.
 * fuzzOrder() runs one machine's programs one after the other, so the boot cache holds one machine at a time.
 */
export const MACHINES_PER_TARGET = 4;
/** Seeds per block: each of a block's machines runs MACHINE_BLOCK / (targets x machines) = 25 programs. */
export const MACHINE_BLOCK = 800;
const SMALL_MEM = 128 << 20;

export interface Machine {
  /** The boot's --seed. */
  bootSeed: number;
  /** RAM in bytes; undefined: the profile's default. */
  mem?: number;
  /** Which of its target's machines in its block (0 .. MACHINES_PER_TARGET - 1). */
  index: number;
}

/** The machine seed `seed`'s program runs on (see MACHINES_PER_TARGET). */
export function machineOf(seed: number): Machine {
  const block = Math.floor(seed / MACHINE_BLOCK);
  const index = Math.floor(seed / FUZZ_TARGETS.length) % MACHINES_PER_TARGET;
  const bootSeed = block * MACHINES_PER_TARGET + index + 1;
  return index === MACHINES_PER_TARGET - 1 ? { bootSeed, index } : { bootSeed, mem: SMALL_MEM, index };
}

/**
 * The seeds [from, to) in the order a fuzz run takes them: block by block, and in a block one machine's programs
 * together (by target, then machine, then seed), so that a machine is booted once and restored for the rest.
 */
export function fuzzOrder(from: number, to: number): number[] {
  const seeds: number[] = [];
  for (let s = from; s < to; s++) seeds.push(s);
  const key = (s: number) => [Math.floor(s / MACHINE_BLOCK), s % FUZZ_TARGETS.length, machineOf(s).index, s];
  return seeds.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  });
}

/** The program of one seed (pure function of the seed and the table). */
export function generate(api: readonly ApiEntry[], seed: number): Generated {
  const t = FUZZ_TARGETS[seed % FUZZ_TARGETS.length]!;
  const g = new Gen(api, t.era, seed);
  const program = g.program(seed, t.profile, t.config);
  return { program, used: g.used, source: render(program, g.used) };
}

/**
 * The program on its own machine, as the fuzzer ran it before the machines were shared: booted from the program's
 * seed, at 128 MiB but for every fifth seed (the profile's RAM). For the benchmark's side-by-side row only.
 */
export function onOwnMachine(p: Program): Program {
  const { mem: _mem, ...rest } = p;
  return { ...rest, bootSeed: p.seed, ...(p.seed % 5 !== 0 ? { mem: SMALL_MEM } : {}) };
}
