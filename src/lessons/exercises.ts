// Exercises declared in a lesson's Markdown: a fenced ```exercise block of YAML, so an instructor writes an exercise
// without TypeScript. The block gives id, title, statement, settings, starter, solution and checks; each check names
// an entry of the grader's check library (src/grader/checks.ts CHECK_LIBRARY) with its parameters as YAML. Errors
// point at the line in the Markdown file ("lessons/03-x.md:42: ..."). Browser-safe: no Node imports (the notebook
// reads the same blocks).
//
//   ```exercise
//   id: hello-module
//   cell: ex-hello            (optional: the notebook's cell id, default the exercise id)
//   title: Hello, kernel
//   settings: { profile: x86_64-6.1, mem: 512M, cmdline: "...", config: debug, events: [{ at: 30ms, irq: button }] }
//   statement: |
//     Write a module that prints ...
//   starter: |
//     import { printk, KERN_INFO, module_init, module_exit } from "linux";
//     ...
//   solution: |
//     ...
//   checks:
//     - loads
//     - printedLine: { id: hello-on-load, text: "hello, kernel", level: KERN_INFO, phase: init }
//     - freedWithMatching
//     - noReports: { except: [page-alloc-failure] }
//   ```
//
// What the declarative form cannot say (a check that computes its own expectation, e.g. "the printed number is
// the buddy allocator's count for this order") stays a TypeScript exercise in src/grader/exercises/.

import { exerciseBlocks, yamlTooBig, type ExerciseBlock } from "./blocks.ts";
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from "yaml";
import type { Check, CheckContext, Exercise, RunSettings } from "../grader/types.ts";
import type { ReportKind } from "../kernel/types.ts";
import type { MemoryProbe } from "../../sandbox/probes.ts";
import {
  allocatedAs,
  fail,
  findAlloc,
  freedBeforeUnload,
  gfpIs,
  isOutcome,
  loads,
  noReports,
  noTaint,
  nothingLeaked,
  printedLine,
  printedValue,
  survivesFaultInjection,
  valueInMemory,
} from "../grader/checks.ts";
import { zeroBit, type Allocation, type Family } from "../grader/records.ts";
import { API } from "../../sandbox/api.ts";

/** A declaration error, at a line of the Markdown file. */
export class ExerciseError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    readonly why: string,
  ) {
    super(`${path}:${line}: ${why}`);
  }
}

export { exerciseBlocks, type ExerciseBlock } from "./blocks.ts";

// ---- reading YAML with positions -----------------------------------------------------------------------------

type Where = (node: YamlNode | null | undefined) => number;

const LEVELS = ["KERN_EMERG", "KERN_ALERT", "KERN_CRIT", "KERN_ERR", "KERN_WARNING", "KERN_NOTICE", "KERN_INFO", "KERN_DEBUG"];
const PHASES = ["init", "exit", "deferred"] as const;
const FAMILIES: Family[] = ["page", "slab", "vmalloc", "dma-coherent", "ioremap", "cache", "workqueue"];
const CONTEXTS = ["process", "atomic", "softirq", "hardirq"] as const;
const REPORT_KINDS: ReportKind[] = [
  "sleep-in-atomic",
  "scheduling-while-atomic",
  "page-alloc-failure",
  "vmalloc-failure",
  "kasan",
  "double-free",
  "invalid-free",
  "leak",
  "oops",
  "dma-api",
  "lockdep",
  "warn",
  "bug",
  "timeout",
  "out-of-memory",
  "exception",
  "compile-error",
] as ReportKind[];

/** A YAML mapping read field by field; every field not read is reported as unknown. */
class Fields {
  private readonly used = new Set<string>();
  constructor(
    private readonly node: YamlNode,
    private readonly what: string,
    private readonly err: (node: YamlNode | null | undefined, why: string) => never,
  ) {
    if (!isMap(node)) err(node, `${what} must be a mapping of fields`);
  }
  private pair(key: string) {
    return (this.node as { items: { key: YamlNode; value: YamlNode | null }[] }).items.find((p) => isScalar(p.key) && p.key.value === key);
  }
  node_(key: string): YamlNode | null | undefined {
    this.used.add(key);
    return this.pair(key)?.value;
  }
  has(key: string): boolean {
    return this.pair(key) !== undefined;
  }
  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    const n = this.node_(key);
    if (n === undefined || n === null) return required ? this.err(this.node, `${this.what} needs '${key}'`) : undefined;
    if (!isScalar(n) || (typeof n.value !== "string" && typeof n.value !== "number")) return this.err(n, `${this.what}: '${key}' must be text`);
    return String(n.value);
  }
  number(key: string): number | undefined {
    const n = this.node_(key);
    if (n === undefined || n === null) return undefined;
    if (!isScalar(n) || typeof n.value !== "number" || !Number.isFinite(n.value)) return this.err(n, `${this.what}: '${key}' must be a number`);
    return n.value;
  }
  bool(key: string): boolean | undefined {
    const n = this.node_(key);
    if (n === undefined || n === null) return undefined;
    if (!isScalar(n) || typeof n.value !== "boolean") return this.err(n, `${this.what}: '${key}' must be true or false`);
    return n.value;
  }
  oneOf<T extends string>(key: string, allowed: readonly T[], required = false): T | undefined {
    const v = required ? this.string(key, true) : this.string(key);
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) return this.err(this.node_(key), `${this.what}: '${key}' is '${v}', not one of ${allowed.join(", ")}`);
    return v as T;
  }
  list(key: string): YamlNode[] | undefined {
    const n = this.node_(key);
    if (n === undefined || n === null) return undefined;
    if (isSeq(n)) return n.items as YamlNode[];
    return [n]; // one value where a list is expected
  }
  strings(key: string, allowed?: readonly string[]): string[] | undefined {
    const items = this.list(key);
    if (!items) return undefined;
    return items.map((n) => {
      if (!isScalar(n) || typeof n.value !== "string") return this.err(n, `${this.what}: '${key}' must be a list of names`);
      if (allowed && !allowed.includes(n.value)) return this.err(n, `${this.what}: '${key}' has '${n.value}', not one of ${allowed.join(", ")}`);
      return n.value;
    });
  }
  /** Every field was one the reader asked for. */
  done(): void {
    for (const p of (this.node as { items: { key: YamlNode }[] }).items) {
      const k = isScalar(p.key) ? String(p.key.value) : "?";
      if (!this.used.has(k)) this.err(p.key, `${this.what}: unknown field '${k}'`);
    }
  }
}

/** "512M", "1G", 536870912 -> bytes. */
function sizeOf(v: string | number): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  const m = /^(\d+)\s*([KMG]?)i?B?$/i.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * { "": 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[m[2].toUpperCase() as "" | "K" | "M" | "G"];
}

/** "30ms", "1.5s", 30 (ms) -> ms. */
function msOf(v: string | number): number | undefined {
  if (typeof v === "number") return v >= 0 ? v : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)$/.exec(v.trim());
  return m ? Number(m[1]) * (m[2] === "s" ? 1000 : 1) : undefined;
}

// ---- the check library, declaratively ------------------------------------------------------------------------

/** Each declarable check: its parameters read from YAML into the library's factory. */
type Maker = (f: Fields | undefined, node: YamlNode | null | undefined) => Check;

/** An allocation selector ({ fn: [kmalloc, kzalloc], size: 100 } or { family: [vmalloc], order: 2 }). */
function selector(f: Fields): { fns?: string[]; family?: Family[]; size?: number; order?: number } {
  const sel = { fns: f.strings("fn"), family: f.strings("family", FAMILIES) as Family[] | undefined, size: f.number("size"), order: f.number("order") };
  return sel;
}

const LIBRARY: Record<string, { params: string; make: Maker }> = {
  loads: { params: "(none)", make: () => loads() },
  noTaint: { params: "(none)", make: () => noTaint() },
  freedWithMatching: { params: "(none)", make: () => nothingLeaked() },
  noReports: {
    params: "except: [report kinds], id",
    make: (f) => {
      const except = (f?.strings("except", REPORT_KINDS) ?? []) as ReportKind[];
      return noReports(except, f?.string("id") ?? "no-reports");
    },
  },
  printedLine: {
    params: "id, text, level (KERN_INFO...), phase (init|exit|deferred), hint",
    make: (f, n) => {
      if (!f) throw new Error("printedLine needs id, text, level and phase");
      const level = f.string("level", true);
      const lv = /^\d$/.test(level) ? Number(level) : LEVELS.indexOf(level);
      if (lv < 0 || lv > 7) throw new Error(`printedLine: level '${level}' is not one of ${LEVELS.join(", ")} (or 0-7)`);
      void n;
      return printedLine({ id: f.string("id", true), text: f.string("text", true), level: lv, phase: f.oneOf("phase", PHASES, true)!, hint: f.string("hint") });
    },
  },
  allocated: {
    params: "id, message, hint, fn: [...] or family: [...], size, order, gfp (GFP_KERNEL...), region (linear|vmalloc), context: [...], count, phase, kept (true: freed in module_exit, not before), firstArg (the allocator's first argument: a mempool's min_nr)",
    make: (f) => {
      if (!f) throw new Error("allocated needs id, message, hint and what was allocated");
      const sel = selector(f);
      if (!sel.fns && !sel.family) throw new Error("allocated: say which allocator with fn: [...] or family: [...]");
      const gfp = f.string("gfp");
      // the named flag set, __GFP_ZERO aside: kzalloc(n, GFP_KERNEL) is kmalloc with GFP_KERNEL | __GFP_ZERO
      const gfpTest = gfp ? (c: CheckContext, g: number | undefined) => gfpIs(gfp)(c, g === undefined ? g : g & ~zeroBit(c.result)) : undefined;
      return allocatedAs({
        id: f.string("id", true),
        message: f.string("message", true),
        hint: f.string("hint", true),
        ...sel,
        gfp: gfpTest,
        region: f.oneOf("region", ["linear", "vmalloc"] as const),
        context: f.strings("context", CONTEXTS) as (typeof CONTEXTS)[number][] | undefined,
        count: f.number("count"),
        phase: f.oneOf("phase", ["init", "deferred", "exit"] as const),
        kept: f.bool("kept"),
        firstArg: f.number("firstArg"),
        requires: f.strings("requires"),
      });
    },
  },
  printedValue: {
    params: "id, what, of: [allocation selectors ({ fn: [...], size, order })]",
    make: (f) => {
      if (!f) throw new Error("printedValue needs id, what and of");
      const sels = (f.list("of") ?? []).map((n) => {
        const g = new Fields(n, "printedValue: an 'of' entry", (node, why) => {
          throw Object.assign(new Error(why), { node });
        });
        const s = selector(g);
        g.done();
        if (!s.fns) throw Object.assign(new Error("printedValue: each 'of' entry needs fn: [...]"), { node: n });
        return s;
      });
      if (!sels.length) throw new Error("printedValue: 'of' lists the allocations whose address must be printed");
      const pick = (c: CheckContext) => {
        const out: Allocation[] = [];
        for (const s of sels) {
          const got = findAlloc(c, s.fns!, (a) => (s.size === undefined || a.size === s.size) && (s.order === undefined || (a.order ?? 0) === s.order));
          if (isOutcome(got)) return got;
          if (!got.length)
            return fail(`no ${s.fns!.join("/")} allocation${s.size !== undefined ? ` of ${s.size} bytes` : s.order !== undefined ? ` of order ${s.order}` : ""} to compare the printed addresses with`);
          // The one kept while loaded (a spare taken and freed first is not the allocation the task asks to print).
          out.push(got.find((a) => !freedBeforeUnload(a) && a.call.phase !== "exit") ?? got[0]);
        }
        return out;
      };
      return printedValue({ id: f.string("id", true), what: f.string("what", true), pick, requires: f.strings("requires") });
    },
  },
  valueInMemory: {
    params: "id, probe, message, hint, unit, expected: N or { start, step }",
    make: (f) => {
      if (!f) throw new Error("valueInMemory needs id, probe, message, hint, unit and expected");
      const en = f.node_("expected");
      let expected: (i: number) => number;
      if (isScalar(en) && typeof en.value === "number") {
        const v = en.value;
        expected = () => v;
      } else if (en && isMap(en)) {
        const g = new Fields(en, "valueInMemory: expected", (node, why) => {
          throw Object.assign(new Error(why), { node });
        });
        const start = g.number("start") ?? 0;
        const step = g.number("step") ?? 0;
        g.done();
        expected = (i) => start + step * i;
      } else throw new Error("valueInMemory: 'expected' is a number, or { start, step } for start + step x position");
      return valueInMemory({ id: f.string("id", true), probe: f.string("probe", true), message: f.string("message", true), hint: f.string("hint", true), unit: f.string("unit") ?? "value", expected, requires: f.strings("requires") });
    },
  },
  survivesFaultInjection: {
    params: "error (errno, default 12), errorName, initMayLoad",
    make: (f) => {
      const error = f?.number("error");
      // the message says the error init must return: named as the module writes it (-EIO for error: 5)
      const errorName = f?.string("errorName") ?? (error !== undefined ? errnoName(error) : undefined);
      return survivesFaultInjection({ error, errorName, initMayLoad: f?.bool("initMayLoad") });
    },
  },
};

/** -EIO for 5: the errno constant a module returns, from the API table; -N when it has none. */
function errnoName(n: number): string {
  const row = API.find((r) => {
    if (r.kind !== "constant" || !/^E[A-Z0-9]+$/.test(r.name)) return false;
    try {
      return (r.value as (k?: unknown) => unknown)() === n; // errno constants need no kernel
    } catch {
      return false;
    }
  });
  return `-${row ? row.name : n}`;
}

/** The check names a declaration may use, with their parameters (for errors and `kmodlab lessons --dir`). */
export function checkLibrary(): { name: string; params: string }[] {
  return Object.entries(LIBRARY).map(([name, v]) => ({ name, params: v.params }));
}

// ---- what the page must say --------------------------------------------------------------------------------
//
// The learner reads the title, the statement and one line per check (its message): above the cell in the notebook,
// in `kmodlab grade ID --statement`, in the grader's output. Whatever a declared check's parameters require (the
// allocator, the size, the flags, the context, when...) must be said there, or a learner is failed on a rule the page
// never gave. Each parameter names the words that say it (any one will do); a declaration whose page says none of
// them is an error at that parameter's line. The library's own messages say the rest (printedLine's text and level,
// noReports' exceptions, survivesFaultInjection's error, printedValue's hex and its limit, noTaint's licence).

/** One requirement of a declared check: any of `words` on the page says it. */
interface Demand {
  node: YamlNode | null | undefined;
  /** "size: 102400" */
  what: string;
  words: string[];
  /** Names (functions, flags, required words): each a whole word as written, never a prefix in any case. */
  exact?: boolean;
}

const ENGLISH = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/** The ways a page says a byte count: 102400, 102,400, 0x19000, 100 KiB / 100 kB / 100K, 1 MiB... */
function bytesWords(n: number): string[] {
  const out = [String(n), n.toLocaleString("en-US"), `0x${n.toString(16)}`];
  for (const [unit, names] of [
    [1 << 20, ["MiB", "MB", "M"]],
    [1 << 10, ["KiB", "kB", "KB", "K"]],
  ] as const)
    if (n % unit === 0) for (const u of names) out.push(`${n / unit} ${u}`, `${n / unit}${u}`);
  return out;
}

const FAMILY_WORDS: Record<Family, string[]> = {
  page: ["page"],
  slab: ["kmalloc", "kzalloc", "kmem_cache", "slab"],
  vmalloc: ["vmalloc", "vzalloc"],
  "dma-coherent": ["dma_alloc_coherent", "coherent"],
  ioremap: ["ioremap"],
  cache: ["kmem_cache", "cache"],
  workqueue: ["workqueue"],
};
const CONTEXT_SAID: Record<(typeof CONTEXTS)[number], string[]> = {
  process: ["process"],
  atomic: ["atomic", "spinlock", "spin_lock", "preempt"],
  softirq: ["softirq", "tasklet", "timer"],
  hardirq: ["interrupt", "hardirq", "irq"],
};
const PHASE_SAID: Record<(typeof PHASES)[number], string[]> = {
  init: ["init", "load", "module_init", "insmod"],
  exit: ["exit", "unload", "module_exit", "rmmod"],
  deferred: ["deferred", "work", "timer", "tasklet", "interrupt", "handler", "thread", "later"],
};

/** The scalar value(s) of a node: "x", 3, or the items of a list. */
function valuesOf(n: YamlNode | null | undefined): unknown[] {
  if (!n) return [];
  if (isSeq(n)) return (n.items as YamlNode[]).flatMap((x) => valuesOf(x));
  return isScalar(n) ? [n.value] : [];
}
function pairNode(map: YamlNode | null | undefined, key: string): YamlNode | null | undefined {
  if (!map || !isMap(map)) return undefined;
  return (map.items as { key: YamlNode; value: YamlNode | null }[]).find((p) => isScalar(p.key) && p.key.value === key)?.value;
}

/** What an allocation selector ({ fn, family, size, order }) requires the page to say. */
function selectorDemands(map: YamlNode | null | undefined): Demand[] {
  const out: Demand[] = [];
  const fn = pairNode(map, "fn");
  const fns = valuesOf(fn).map(String);
  if (fns.length) out.push({ node: fn, what: `fn: [${fns.join(", ")}]`, words: fns, exact: true });
  const fam = pairNode(map, "family");
  const fams = valuesOf(fam).map(String) as Family[];
  if (fams.length && !fns.length) out.push({ node: fam, what: `family: [${fams.join(", ")}]`, words: fams.flatMap((f) => FAMILY_WORDS[f] ?? [f]) });
  const size = pairNode(map, "size");
  const [sz] = valuesOf(size);
  if (typeof sz === "number") out.push({ node: size, what: `size: ${sz}`, words: bytesWords(sz) });
  const order = pairNode(map, "order");
  const [o] = valuesOf(order);
  if (typeof o === "number" && Number.isInteger(o) && o >= 0 && o < 31) {
    const pages = 2 ** o;
    out.push({
      node: order,
      what: `order: ${o}`,
      words: [`order ${o}`, `order-${o}`, `${pages} pages`, ...(o === 0 ? ["one page", "1 page", "a page", "single page", "a single page"] : []), ...bytesWords(4096 * pages)],
    });
  }
  return out;
}

/** What a declared check's parameters require the page to say (`probe`: a settings probe's node by its id). */
function checkDemands(name: string, params: YamlNode | null | undefined, probe: (id: string) => YamlNode | undefined): Demand[] {
  const out: Demand[] = [];
  const req = pairNode(params, "requires");
  for (const r of valuesOf(req)) out.push({ node: req, what: `requires: ${String(r)}`, words: [String(r)], exact: true });
  if (name === "allocated") {
    out.push(...selectorDemands(params));
    const gfp = pairNode(params, "gfp");
    for (const g of valuesOf(gfp)) out.push({ node: gfp, what: `gfp: ${String(g)}`, words: [String(g)], exact: true });
    const region = pairNode(params, "region");
    const [rg] = valuesOf(region);
    if (rg === "linear") out.push({ node: region, what: "region: linear", words: ["linear", "lowmem", "low memory", "direct map"] });
    if (rg === "vmalloc") out.push({ node: region, what: "region: vmalloc", words: ["vmalloc"] });
    const ctx = pairNode(params, "context");
    const cs = valuesOf(ctx).map(String) as (typeof CONTEXTS)[number][];
    if (cs.length) out.push({ node: ctx, what: `context: [${cs.join(", ")}]`, words: cs.flatMap((c) => CONTEXT_SAID[c] ?? [c]) });
    const count = pairNode(params, "count");
    const [n] = valuesOf(count);
    if (typeof n === "number") out.push({ node: count, what: `count: ${n}`, words: [String(n), ...(ENGLISH[n] ? [ENGLISH[n]] : []), ...(n === 1 ? ["once", "a single"] : [])] });
    const phase = pairNode(params, "phase");
    const [ph] = valuesOf(phase);
    if (typeof ph === "string" && ph in PHASE_SAID) out.push({ node: phase, what: `phase: ${ph}`, words: PHASE_SAID[ph as (typeof PHASES)[number]] });
    const kept = pairNode(params, "kept");
    if (valuesOf(kept)[0] === true) out.push({ node: kept, what: "kept: true", words: ["unload", "exit", "module_exit", "rmmod"] });
    const first = pairNode(params, "firstArg");
    const [fa] = valuesOf(first);
    if (typeof fa === "number") out.push({ node: first, what: `firstArg: ${fa}`, words: [String(fa), ...(ENGLISH[fa] ? [ENGLISH[fa]] : [])] });
  } else if (name === "printedValue") {
    const of = pairNode(params, "of");
    for (const e of of && isSeq(of) ? (of.items as YamlNode[]) : of ? [of] : []) out.push(...selectorDemands(e));
  } else if (name === "valueInMemory") {
    // the buffer the probe reads (which allocation, and how many values of it)
    const [pid] = valuesOf(pairNode(params, "probe"));
    const pn = typeof pid === "string" ? probe(pid) : undefined;
    if (pn) {
      out.push(...selectorDemands(pairNode(pn, "alloc")));
      const count = pairNode(pn, "count");
      const [n] = valuesOf(count);
      if (typeof n === "number" && n > 1) out.push({ node: count, what: `the probe's count: ${n}`, words: [String(n), ...(ENGLISH[n] ? [ENGLISH[n]] : [])] });
    }
    const exp = pairNode(params, "expected");
    const num = (v: unknown, node: YamlNode | null | undefined, what: string) => {
      if (typeof v === "number") out.push({ node, what, words: [String(v), "0x" + v.toString(16), "0x" + v.toString(16).toUpperCase()] });
    };
    if (exp && isMap(exp)) {
      const st = pairNode(exp, "start");
      num(valuesOf(st)[0], st, `expected: { start: ${String(valuesOf(st)[0])} }`);
      const sp = pairNode(exp, "step");
      num(valuesOf(sp)[0], sp, `expected: { step: ${String(valuesOf(sp)[0])} }`);
    } else num(valuesOf(exp)[0], exp, `expected: ${String(valuesOf(exp)[0])}`);
  }
  return out;
}

/**
 * Whether the page says one of the words: a name or number as a whole word ("vmalloc" not in "vmalloc_user"); a
 * lower-case word in any case, at the start of a word ("unload" in "unloads", not "atomic" in "GFP_ATOMIC").
 */
function says(page: string, lower: string, word: string, exact = false): boolean {
  if (!exact && /^[a-z ]+$/.test(word)) return new RegExp(`(?<![a-z0-9_])${word}`).test(lower);
  const esc = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![A-Za-z0-9_])${esc}(?![A-Za-z0-9_])`).test(page);
}

/**
 * A YAML error's line (1-based, in the YAML text) and message. An unclosed [ { or quote is found where the next line
 * starts: the line that opened it is named.
 */
export function yamlErrorAt(yaml: string, e: { pos: [number, number]; message: string }, counter: LineCounter): { line: number; why: string } {
  const why = e.message.split("\n")[0];
  const open = unclosedOpener(yaml, e.pos[0], why);
  if (open !== undefined) return { line: counter.linePos(open.at).line, why: `this line's ${open.char} is never closed (${why})` };
  return { line: counter.linePos(e.pos[0]).line, why };
}

/** The first error of a lesson's front matter (YAML), at its line in the file; undefined when it parses. */
export function frontMatterError(markdown: string): { line: number; why: string } | undefined {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(markdown);
  if (!m || yamlTooBig(m[1], "")) return undefined;
  const counter = new LineCounter();
  const doc = parseDocument(m[1], { lineCounter: counter, prettyErrors: false });
  if (!doc.errors.length) return undefined;
  const at = yamlErrorAt(m[1], doc.errors[0], counter);
  return { line: at.line + 1, why: at.why }; // the front matter starts on the file's second line
}

/** Where the flow collection or quoted string a YAML error says is unclosed was opened (before `pos`). */
function unclosedOpener(yaml: string, pos: number, why: string): { at: number; char: string } | undefined {
  const flow = /end with a ([\]}])/.exec(why);
  if (flow) {
    const close = flow[1];
    const opener = close === "]" ? "[" : "{";
    let depth = 0;
    for (let i = Math.min(pos, yaml.length) - 1; i >= 0; i--) {
      const ch = yaml[i];
      if (ch === close) depth++;
      else if (ch === opener) {
        if (depth === 0) return { at: i, char: `'${opener}'` };
        depth--;
      }
    }
    return undefined;
  }
  const quote = /Missing closing (["'])quote/.exec(why);
  if (quote) {
    const i = yaml.lastIndexOf(quote[1], Math.min(pos, yaml.length) - 1);
    return i >= 0 ? { at: i, char: `${quote[1] === '"' ? "double" : "single"} quote` } : undefined;
  }
  return undefined;
}

// ---- one block -> Exercise -----------------------------------------------------------------------------------

/** Turn one ```exercise block into an Exercise; `lesson` is the lesson's id. Throws ExerciseError. */
export function parseExerciseBlock(b: ExerciseBlock, lesson: string): Exercise {
  const big = yamlTooBig(b.yaml, "this exercise block");
  if (big) throw new ExerciseError(b.path, b.line, big);
  const counter = new LineCounter();
  const doc = parseDocument(b.yaml, { lineCounter: counter, prettyErrors: false });
  const lineOf: Where = (node) => {
    const off = node?.range?.[0];
    return b.line + (off === undefined ? 0 : counter.linePos(off).line - 1);
  };
  if (doc.errors.length) {
    const at = yamlErrorAt(b.yaml, doc.errors[0], counter);
    throw new ExerciseError(b.path, b.line + at.line - 1, `YAML: ${at.why}`);
  }
  const err = (node: YamlNode | null | undefined, why: string): never => {
    throw new ExerciseError(b.path, lineOf(node ?? (doc.contents as YamlNode)), why);
  };
  if (!doc.contents) err(undefined, "the ```exercise block is empty");
  const top = new Fields(doc.contents as YamlNode, "the exercise", err);
  const id = top.string("id", true);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) err(top.node_("id"), `exercise id '${id}': lower-case letters, digits and dashes`);
  // the notebook's cell id (default: the exercise id); learners' saved code is kept by it
  const cell = top.string("cell");
  if (cell !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(cell)) err(top.node_("cell"), `cell '${cell}': lower-case letters, digits and dashes`);
  const title = top.string("title", true);
  const statement = top.string("statement", true).trimEnd();
  const starter = top.string("starter", true);
  const solution = top.string("solution", true);

  // settings
  const sn = top.node_("settings");
  if (!sn) err(doc.contents as YamlNode, "the exercise needs settings: { profile: ... }");
  const s = new Fields(sn!, "settings", err);
  const settings: RunSettings = { profile: s.string("profile", true) };
  if (s.has("mem")) {
    const raw = s.node_("mem") as { value?: unknown };
    const mem = sizeOf(raw.value as string | number);
    if (mem === undefined) err(s.node_("mem"), `settings: mem '${String(raw.value)}' is not a size such as 512M or 1G`);
    settings.mem = mem;
  }
  const cmdline = s.string("cmdline");
  if (cmdline !== undefined) settings.cmdline = cmdline;
  const seed = s.number("seed");
  if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0))
    err(s.node_("seed"), `settings: seed ${seed} is not an integer from 0 to ${Number.MAX_SAFE_INTEGER}`);
  if (seed !== undefined) settings.seed = seed;
  const config = s.oneOf("config", ["debug", "distro"] as const);
  if (config) settings.config = config;
  const proc = s.strings("proc");
  if (proc) settings.proc = proc;
  const events = s.list("events");
  if (events) {
    settings.events = events.map((n) => {
      const e = new Fields(n, "settings: an event", err);
      const atRaw = (e.node_("at") as { value?: unknown } | undefined)?.value;
      const atMs = atRaw === undefined ? undefined : msOf(atRaw as string | number);
      if (atMs === undefined) err(n, "settings: an event needs at: 30ms (simulated time after insmod)");
      const irqRaw = (e.node_("irq") as { value?: unknown } | undefined)?.value;
      if (irqRaw !== "button" && !(typeof irqRaw === "number" && Number.isInteger(irqRaw) && irqRaw >= 0)) err(n, "settings: an event's irq is button or an interrupt number");
      e.done();
      return { atMs: atMs!, irq: irqRaw as "button" | number };
    });
  }
  const probes = s.list("probes");
  if (probes) {
    settings.probes = probes.map((n) => {
      const p = new Fields(n, "settings: a probe", err);
      const an = p.node_("alloc");
      if (!an) err(n, "settings: a probe needs alloc: { fn: [...] } (which allocation to read)");
      const a = new Fields(an!, "settings: a probe's alloc", err);
      const alloc = selector(a);
      a.done();
      const width = p.number("width") ?? 4;
      if (![1, 2, 4, 8].includes(width)) err(p.node_("width"), "settings: a probe's width is 1, 2, 4 or 8 bytes");
      const probe: MemoryProbe = {
        id: p.string("id", true),
        at: p.oneOf("at", ["loaded", "unloading"] as const) ?? "loaded",
        alloc: { fns: alloc.fns, family: alloc.family as MemoryProbe["alloc"]["family"], size: alloc.size },
        offset: p.number("offset"),
        stride: p.number("stride") ?? width,
        count: p.number("count") ?? 1,
        width: width as MemoryProbe["width"],
      };
      p.done();
      return probe;
    });
  }
  s.done();

  const allowed = top.strings("allowedReports", REPORT_KINDS) as ReportKind[] | undefined;

  // checks
  const list = top.list("checks");
  if (!list?.length) err(doc.contents as YamlNode, "the exercise needs checks: a list drawn from the check library (" + Object.keys(LIBRARY).join(", ") + ")");
  const demands: (Demand & { check: string; index: number })[] = [];
  const probeList = pairNode(sn, "probes");
  const probeNode = (pid: string) =>
    probeList && isSeq(probeList) ? (probeList.items as YamlNode[]).find((p) => valuesOf(pairNode(p, "id"))[0] === pid) : undefined;
  const checks: Check[] = list!.map((n, index) => {
    let name: string;
    let params: YamlNode | null | undefined;
    if (isScalar(n) && typeof n.value === "string") name = n.value;
    else if (isMap(n) && n.items.length >= 1 && isScalar(n.items[0].key)) {
      name = String(n.items[0].key.value);
      params = n.items[0].value as YamlNode | null;
      if (n.items.length > 1) err(n.items[1].key as YamlNode, `a check is one library name with its parameters (indent '${String((n.items[1].key as { value?: unknown }).value)}' under '${name}:')`);
    } else return err(n, "a check is a library name, or a name with its parameters: printedLine: { id: ..., text: ... }");
    const entry = LIBRARY[name];
    if (!entry) return err(n, `no check '${name}' in the check library (one of: ${Object.keys(LIBRARY).join(", ")})`);
    const f = params && isMap(params) ? new Fields(params, name, err) : undefined;
    if (params && !isMap(params) && !(isScalar(params) && params.value === null)) err(params, `${name}: parameters are a mapping (${entry.params})`);
    demands.push(...checkDemands(name, params, probeNode).map((d) => ({ ...d, check: name, index })));
    let ch: Check;
    try {
      // common fields every check may carry
      const points = f?.number("points");
      const requires = name === "allocated" || name === "printedValue" || name === "valueInMemory" ? undefined : f?.strings("requires");
      ch = entry.make(f, params);
      if (points !== undefined) {
        if (!(Number.isInteger(points) && points > 0)) err(f!.node_("points"), `${name}: points must be a whole number above 0`);
        ch = { ...ch, points };
      }
      if (requires) ch = { ...ch, requires };
      f?.done();
    } catch (e) {
      if (e instanceof ExerciseError) throw e;
      const node = (e as { node?: YamlNode }).node ?? params ?? n;
      return err(node, (e as Error).message);
    }
    return ch;
  });
  const ids = new Set<string>();
  checks.forEach((c, i) => {
    if (ids.has(c.id)) err(list![i], `two checks have the id '${c.id}': give one an id: of its own`);
    ids.add(c.id);
  });
  top.done();
  // What the page says is what the grader checks: every requirement of a check is on the page the learner reads (the
  // title, the statement, the checks' messages: the notebook, --statement and the grader's output show them all). One
  // the instructor's words do not say is added to its check's message ("(the grader checks size: 102400)"), and the
  // instructor is told where (pageNotes: `kmodlab lessons --dir` prints them), so that a folder always loads and a
  // learner is never failed for a requirement the page does not show.
  const page = [title, statement, ...checks.map((c) => c.message)].join("\n");
  const lower = page.toLowerCase();
  const unsaid = new Map<number, string[]>();
  const pageNotes: string[] = [];
  for (const d of demands) {
    if (d.words.some((w) => says(page, lower, w, d.exact))) continue;
    unsaid.set(d.index, [...(unsaid.get(d.index) ?? []), d.what]);
    pageNotes.push(
      `${b.path}:${lineOf(d.node ?? (doc.contents as YamlNode))}: ${d.check}: '${d.what}' is checked, but the title and the statement never say it: the check's message now says it; or write ${d.words
        .slice(0, 3)
        .map((w) => `'${w}'`)
        .join(" or ")} in the statement${d.check === "allocated" || d.check === "valueInMemory" ? " or in this check's message" : ""}`,
    );
  }
  for (const [i, whats] of unsaid) checks[i] = { ...checks[i]!, message: `${checks[i]!.message} (the grader checks ${whats.join(", ")})` };
  return { id, title, lesson, settings, statement, starter, solution, checks, ...(allowed ? { allowedReports: allowed } : {}), ...(pageNotes.length ? { pageNotes } : {}) };
}

/** A lesson's id as the notebook reads it: its front matter's id, else its file name without .md. */
export function lessonIdOf(markdown: string, path: string): string {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(markdown);
  let id: unknown;
  try {
    id = m && !yamlTooBig(m[1], "") ? (parseDocument(m[1]).toJS() as { id?: unknown } | null)?.id : undefined;
  } catch {
    id = undefined;
  }
  return typeof id === "string" && id ? id : id !== undefined && id !== null ? String(id) : (path.split("/").pop() ?? path).replace(/\.md$/i, "");
}

/**
 * Every exercise declared in one lesson's Markdown. Throws the first ExerciseError; with `errors`, each block's
 * error is added there instead and the other blocks are still read.
 */
export function lessonExercises(markdown: string, path: string, lesson: string, errors?: ExerciseError[]): Exercise[] {
  let blocks: ExerciseBlock[];
  try {
    blocks = exerciseBlocks(markdown, path);
  } catch (e) {
    const line = (e as { line?: number }).line;
    if (line !== undefined) throw new ExerciseError(path, line, "this ```exercise block is never closed");
    throw e;
  }
  if (!errors) return blocks.map((b) => parseExerciseBlock(b, lesson));
  const out: Exercise[] = [];
  for (const b of blocks) {
    try {
      out.push(parseExerciseBlock(b, lesson));
    } catch (e) {
      if (!(e instanceof ExerciseError)) throw e;
      errors.push(e);
    }
  }
  return out;
}
