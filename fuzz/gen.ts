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
 * Rows the generator and the bridge fuzz do not call yet: the execution-context, locking, deferred-work, IRQ and
 * DMA rows landed after the fuzzers were written. They can block by design (wait_event on a condition that never
 * comes true, mutex_lock on a mutex the task holds), which the oracle would take for a simulator hang; teaching
 * the generator to use them well (and the oracle to tell a modelled deadlock from a hang) is the next step.
 * They are covered by test/sandbox/contexts.test.ts meanwhile.
 */
export const NOT_FUZZED_YET: ReadonlySet<string> = new Set([
  // sched
  "preempt_count", "irqs_disabled", "in_nmi", "in_irq", "in_hardirq", "in_softirq", "in_serving_softirq", "in_interrupt", "in_task", "in_atomic",
  "preempt_disable", "preempt_enable", "local_irq_disable", "local_irq_enable", "local_irq_save", "local_irq_restore", "local_bh_disable", "local_bh_enable",
  "msleep", "ssleep", "msleep_interruptible", "usleep_range", "udelay", "mdelay", "schedule", "schedule_timeout", "wait_event", "wait_event_timeout",
  // locking
  "DEFINE_SPINLOCK", "DEFINE_MUTEX", "spin_lock", "spin_unlock", "spin_lock_irq", "spin_unlock_irq", "spin_lock_irqsave", "spin_unlock_irqrestore",
  "spin_lock_bh", "spin_unlock_bh", "spin_trylock", "spin_is_locked", "mutex_lock", "mutex_lock_interruptible", "mutex_lock_killable", "mutex_trylock", "mutex_unlock", "mutex_is_locked",
  // timers, tasklets, work, irqs
  "timer_setup", "setup_timer", "mod_timer", "add_timer", "del_timer", "del_timer_sync", "timer_pending",
  "tasklet_setup", "tasklet_init", "tasklet_schedule", "tasklet_hi_schedule", "tasklet_kill", "tasklet_disable", "tasklet_enable",
  "INIT_WORK", "schedule_work", "queue_work", "flush_work", "cancel_work_sync", "cancel_work", "work_pending", "INIT_DELAYED_WORK", "schedule_delayed_work",
  "queue_delayed_work", "mod_delayed_work", "cancel_delayed_work", "cancel_delayed_work_sync", "flush_delayed_work", "alloc_workqueue", "create_workqueue", "destroy_workqueue",
  "request_irq", "request_threaded_irq", "free_irq",
  // dma
  "dma_map_single", "dma_mapping_error", "dma_unmap_single", "dma_alloc_coherent", "dma_coherent_handle", "dma_free_coherent", "dma_set_mask", "dma_set_mask_and_coherent",
  // struct page rows, object-cache shrink (added after the generator's families were written)
  "alloc_pages", "alloc_page", "__free_pages", "__free_page", "page_address", "virt_to_page", "page_to_pfn", "pfn_to_page", "kmap", "kunmap", "kmap_local_page", "kunmap_local",
  "kmem_cache_shrink",
]);

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
  /** RAM in bytes; undefined: the profile's default. */
  mem?: number;
  /** Top-level lines after the imports and slot declarations (MODULE_LICENSE...). */
  top: string[];
  /** Module functions: name, parameter list text, return statement, body statements. */
  fns: FnDef[];
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
  { alloc: "__get_free_pages", args: (x) => { const o = x.order(); return { text: `${x.gfp()}, ${o}`, order: o }; }, frees: ["free_pages"] },
  { alloc: "__get_free_page", args: (x) => ({ text: x.gfp(), order: "0" }), frees: ["free_page", "free_pages"] },
  { alloc: "get_zeroed_page", args: (x) => ({ text: x.gfp(), order: "0" }), frees: ["free_page", "free_pages"] },
  { alloc: "get_free_page", args: (x) => ({ text: x.gfp(), order: "0" }), frees: ["free_page", "free_pages"] },
  { alloc: "vmalloc", args: (x) => ({ text: x.size(true) }), frees: ["vfree"] },
  { alloc: "vzalloc", args: (x) => ({ text: x.size(true) }), frees: ["vfree"] },
];
const ALL_FREES = ["kfree", "vfree", "free_pages", "free_page"];

export class Gen {
  readonly r: Rng;
  readonly fns = new Map<string, FunctionEntry>();
  readonly classes = new Map<string, ClassEntry>();
  readonly constants = new Set<string>();
  /** Names the program uses, per module, for its import lines. */
  readonly used = { linux: new Set<string>(), sim: new Set<string>() };
  private readonly moduleOf = new Map<string, "linux" | "sim">();
  /** What the generator believes each slot holds (family index, order text), for meaningful frees. */
  private slot: ({ fam: Family; order?: string } | null)[] = new Array(SLOTS).fill(null);
  private handleTypes: string[] = [];
  private callbacks: FnDef[] = [];
  private depth = 0;

  constructor(api: readonly ApiEntry[], readonly era: Era, seed: number) {
    this.r = new Rng(seed);
    for (const e of api) {
      if (!inEra(e, era)) continue;
      this.moduleOf.set(e.name, e.module);
      if (e.kind === "function" && !NOT_FUZZED_YET.has(e.name)) this.fns.set(e.name, e);
      else if (e.kind === "class") this.classes.set(e.name, e);
      else this.constants.add(e.name);
    }
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
    const bases = ["GFP_KERNEL", "GFP_ATOMIC", "GFP_NOWAIT", "GFP_KERNEL", "GFP_ATOMIC", "GFP_DMA", "GFP_NOIO", "GFP_USER", "GFP_HIGHUSER"].filter((n) => this.constants.has(n));
    const mods = ["__GFP_ZERO", "__GFP_NOWARN", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_COMP", "__GFP_HIGHMEM", "__GFP_DMA32", "__GFP_MOVABLE"].filter((n) => this.constants.has(n));
    if (this.r.chance(0.03)) return this.r.pick(["0", "0xffffffff", "GFP_KERNEL | GFP_ATOMIC"].filter((t) => !t.includes("GFP_") || this.constants.has("GFP_ATOMIC"))).replace(/GFP_\w+/g, (n) => this.use(n));
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
      const maker = [...this.fns.values()].find((f) => f.returns === `handle:${type}` && f.params.every((p) => p.type !== "fn" && !p.type.startsWith("handle:")));
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
    }
    return name;
  }

  argFor(p: Param, fnName: string): string {
    if (p.type === "fn") return this.r.chance(0.05) ? this.r.pick(["null", "42", "() => { throw new Error(\"cb\"); }"]) : this.callback(p);
    if (p.type === "cookie") return this.r.pick(["0", "1", "{ dev: 1 }", "\"id\"", "null"]);
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

  private genericStmt(): string | undefined {
    const skip = new Set(["module_init", "module_exit"]);
    const fns = [...this.fns.values()].filter((f) => !skip.has(f.name));
    if (!fns.length) return undefined;
    const f = this.r.pick(fns);
    if (/^pr_|^printk$/.test(f.name)) return this.printkStmt(f);
    const args = f.params.map((p) => this.argFor(p, f.name));
    if (args.includes("null") && f.params.some((p) => p.type.startsWith("handle:")) && this.r.chance(0.7)) return undefined;
    const call = `${this.use(f.name)}(${args.join(", ")})`;
    if (f.returns === "addr") return `p${this.r.int(SLOTS)} = ${call};`;
    if (f.returns === "void") return `${call};`;
    return `sink = ${call};`;
  }

  private printkStmt(f: FunctionEntry): string {
    const level = ["KERN_INFO", "KERN_ERR", "KERN_WARNING", "KERN_DEBUG"].filter((n) => this.constants.has(n));
    const pre = f.name === "printk" && level.length ? `${this.use(this.r.pick(level))} + ` : "";
    const fmts = ["\"p=%px\\n\"", "\"%d %s\\n\"", "\"%p %pS %lx\\n\"", "\"BUG: kernel NULL pointer dereference, address: 0000000000000000\\n\"", "\"%s\\n\"", "\"%zu %u\\n\""];
    const args = ["p0", "sink", "\"str\"", "12345", "p1 + 1n", "-1"];
    const n = this.r.int(3);
    const xs = Array.from({ length: n }, () => this.r.pick(args));
    return `${this.use(f.name)}(${pre}${this.r.pick(fmts)}${xs.length ? ", " + xs.join(", ") : ""});`;
  }

  /** One statement (maybe preceded by handle creations), possibly wrapped in a loop or a try. */
  statement(inCallback = false): string[] {
    this.pendingHandle = [];
    let s: string | undefined;
    for (let tries = 0; tries < 5 && !s; tries++) {
      const u = this.r.next();
      if (u < 0.35) s = this.allocStmt(inCallback);
      else if (u < 0.6) s = this.freeStmt();
      else s = this.genericStmt();
    }
    if (!s) return [];
    const pre = this.pendingHandle;
    this.pendingHandle = [];
    if (this.r.chance(0.06)) s = `for (let i = 0; i < ${this.r.pick([3, 10, 64, 300])}; i++) { ${s} }`;
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
    const m = this.r.int(4);
    for (let i = 0; i < m; i++) exit.body.push(...this.statement());
    return { seed, profile, config, top, fns: [...this.callbacks, init, exit] };
  }
}

/** Source text of a program (module_init/module_exit registered last; fz_caught rethrows the run's own stops). */
export function render(p: Program, used: { linux: Set<string>; sim: Set<string> }): string {
  const lines: string[] = [];
  const linux = new Set(used.linux);
  for (const n of ["module_init", "module_exit", "printk", "KERN_ERR"]) linux.add(n);
  lines.push(`import { ${[...linux].sort().join(", ")} } from "linux";`);
  if (used.sim.size) lines.push(`import { ${[...used.sim].sort().join(", ")} } from "sim";`);
  lines.push(`let ${Array.from({ length: SLOTS }, (_, i) => `p${i}: bigint = 0n`).join(", ")};`);
  lines.push(`let ${Array.from({ length: HANDLE_SLOTS }, (_, i) => `h${i}: any = null`).join(", ")};`);
  lines.push("let sink: any = 0;");
  // A kernel failure inside a call is an InternalError naming the simulator; say it in dmesg so a program that
  // catches it still shows it. Stops (limits, an Oops killing the task) are rethrown, as they must be.
  lines.push(`function fz_caught(e: any) { const s = String(e); if (s.indexOf("simulated kernel failed") >= 0) printk(KERN_ERR + "FUZZ-HOST-FAILURE %s\\n", s); if (s.indexOf("interrupted") >= 0) throw e; }`);
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
  used: { linux: Set<string>; sim: Set<string> };
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

/** The program of one seed (pure function of the seed and the table). */
export function generate(api: readonly ApiEntry[], seed: number): Generated {
  const t = FUZZ_TARGETS[seed % FUZZ_TARGETS.length]!;
  const g = new Gen(api, t.era, seed);
  const program = g.program(seed, t.profile, t.config);
  // Small machines boot and check fastest; every fifth program runs at the profile's own RAM.
  if (seed % 5 !== 0) program.mem = 128 << 20;
  return { program, used: g.used, source: render(program, g.used) };
}
