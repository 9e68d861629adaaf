// Check helpers: each returns a Check (message, hint, and a function over the kernel's records).
// Every check can fail: each reads what the kernel recorded (the host-side call log, /proc snapshots, reports),
// and the printed text only together with those records.

import type { ReportKind } from "../kernel/types.ts";
import { gfpAllowsBlocking, formatGfp, gfpFlags } from "../kernel/gfp.ts";
import { vsprintf, type PrintkArg } from "../kernel/kernel/vsprintf.ts";
import { freeMatches as freeMatchesRole } from "../../sandbox/memrecords.ts";
import type { Check, CheckContext, CheckOutcome } from "./types.ts";
import {
  bytes,
  callsOf,
  describe,
  eraOf,
  hexNumbersIn,
  lineText,
  roles,
  toBig,
  type AllocRecords,
  type Allocation,
  type Family,
  type KernelCall,
} from "./records.ts";

export const ok = (detail?: string): CheckOutcome => ({ pass: true, detail });
export const fail = (detail: string): CheckOutcome => ({ pass: false, detail });

export function check(id: string, message: string, hint: string, run: (c: CheckContext) => CheckOutcome, points = 1): Check {
  return { id, message, hint, run, points };
}

/** The paired allocations, or a failure saying the kernel kept no call log. */
export function records(c: CheckContext): AllocRecords | CheckOutcome {
  return c.records ?? fail("this kernel kept no record of the module's calls (RunResult.kernel.calls is missing), so the check cannot see what the module did");
}
export const isOutcome = (x: unknown): x is CheckOutcome => typeof x === "object" && x !== null && "pass" in x;

/** Allocations made by the module (optionally filtered). */
export function allocs(c: CheckContext, f: (a: Allocation) => boolean = () => true): Allocation[] | CheckOutcome {
  const r = records(c);
  if (isOutcome(r)) return r;
  return r.allocs.filter(f);
}

// ---------------------------------------------------------------------------------------------------------------
// Checks every exercise has

/** The module loads: init ran to completion and returned 0. */
export function loads(): Check {
  return check("loads", "The module loads: its init function returns 0", "Make the init function return 0 once everything it needs succeeded (and a negative errno such as -ENOMEM only when something failed).", (c) => {
    const r = c.result;
    if (r.reports.some((x) => x.kind === "compile-error")) return fail(`it does not compile: ${r.reports.find((x) => x.kind === "compile-error")!.title}`);
    if (r.initReturn === null) return fail("init never returned (an exception, an Oops or a limit stopped it)");
    if (r.initReturn !== 0) return fail(`init returned ${r.initReturn}${r.module?.insmodError ? ` (${r.module.insmodError})` : ""}`);
    if (r.module && !r.module.loaded) return fail("the module did not stay loaded");
    return ok();
  });
}

/** No report except the kinds the task expects. */
export function noReports(allowed: readonly ReportKind[] = [], id = "no-reports"): Check {
  return check(
    id,
    allowed.length ? `The kernel reports no problem (other than ${allowed.join(", ")})` : "The kernel reports no problem (no warning, BUG, Oops, leak or exception)",
    "Read the first report in the output: its first line names the problem and its call trace names your function and line.",
    (c) => {
      const bad = c.result.reports.filter((x) => !allowed.includes(x.kind));
      if (!bad.length) return ok();
      const first = bad[0];
      return fail(`${bad.length} report${bad.length > 1 ? "s" : ""}; first: [${first.kind}] ${first.title}${first.line ? ` (line ${first.line})` : ""}`);
    },
  );
}

/** Every allocation the module made was freed, with the free that matches its allocator, and nothing else freed. */
export function nothingLeaked(): Check {
  return check("no-leak", "Everything the module allocated is freed, each with the matching free function", "Free in the exit function what init took: kfree for kmalloc, vfree for vmalloc, free_pages with the same order for __get_free_pages, kmem_cache_free for kmem_cache_alloc.", (c) => {
    const r = records(c);
    if (isOutcome(r)) return r;
    if (c.result.initReturn === null) return fail("the module never ran to the end of its init function, so there is nothing to judge");
    const leaked = r.allocs.filter((a) => !a.free);
    if (leaked.length) return fail(`never freed: ${leaked.slice(0, 3).map(describe).join(", ")}${leaked.length > 3 ? ` and ${leaked.length - 3} more` : ""}`);
    const wrong = r.allocs.filter((a) => a.free && !freeMatches(a));
    if (wrong.length) return fail(wrong.map((a) => `${describe(a)} was freed with ${a.free!.fn}${a.free!.order !== undefined ? `(order ${a.free!.order})` : ""}`).join("; "));
    const leakReports = c.result.reports.filter((x) => x.kind === "leak");
    if (leakReports.length) return fail(`the kernel reports a leak: ${leakReports[0].title}`);
    const stray = r.strayFrees.filter((s) => s.call.fn !== "krealloc");
    if (stray.length) return fail(`${stray[0].call.fn}(0x${stray[0].addr.toString(16)}) freed an address the module did not hold (a double free, or not an allocation)`);
    return ok(`${r.allocs.length} allocation${r.allocs.length === 1 ? "" : "s"}, all freed`);
  });
}

/** The free call is the one this allocator pairs with (and a page free's order is the allocation's). */
export function freeMatches(a: Allocation): boolean {
  return freeMatchesRole(a, roles());
}

/**
 * The module does not taint the kernel in a way it could avoid: no proprietary licence (P), no splat (W, D, B...).
 * Every module built outside the kernel tree taints O (and E when unsigned) in a real kernel too; those are
 * facts of how the module was built, not of what it does, and are not held against it.
 */
export function noTaint(): Check {
  return check("no-taint", "The module does not taint the kernel (beyond being out of tree)", 'Declare a GPL-compatible licence with MODULE_LICENSE("GPL") at the top of the module, and trigger no warning.', (c) => {
    const taint = (c.result.kernel as { taint?: unknown }).taint;
    if (typeof taint === "string") {
      const flags = taint.replace(/^Tainted:\s*/, "").replace(/[OE ]/g, "").replace(/^Nottainted$/, "");
      if (/[A-Z]/.test(flags.replace(/^G/, ""))) return fail(`the kernel is tainted: ${taint}`);
    }
    const calls = callsOf(c.result);
    const lic = calls?.find((x) => x.fn === "MODULE_LICENSE");
    const licence = typeof lic?.args[0] === "string" ? (lic.args[0] as string) : undefined;
    if (calls && !lic) return fail("the module declares no licence: loading it taints the kernel (P, proprietary)");
    if (licence !== undefined && !GPL_COMPATIBLE.includes(licence)) return fail(`licence "${licence}" is not GPL-compatible: loading it taints the kernel (P)`);
    const line = c.result.dmesg.find((l) => /module license '.*' taints kernel|Disabling lock debugging due to kernel taint/.test(l));
    if (line) return fail(`the kernel says: ${lineText(line)}`);
    const splat = c.result.reports.find((x) => x.kind === "warn" || x.kind === "bug" || x.kind === "oops" || x.kind === "kasan");
    if (splat) return fail(`the kernel taints itself after: ${splat.title}`);
    return ok();
  });
}

/** license_is_gpl_compatible() (include/linux/license.h). */
export const GPL_COMPATIBLE = ["GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"];

// ---------------------------------------------------------------------------------------------------------------
// printk

const PRINT_LEVEL: Record<string, number> = { pr_emerg: 0, pr_alert: 1, pr_crit: 2, pr_err: 3, pr_warn: 4, pr_warning: 4, pr_notice: 5, pr_info: 6 };

/** The level a print call asked for (printk's prefix, or the pr_* function), -1 for the default. */
export function callLevel(call: KernelCall): number {
  if (call.fn in PRINT_LEVEL) return PRINT_LEVEL[call.fn];
  const fmt = typeof call.args[0] === "string" ? (call.args[0] as string) : "";
  const m = /^\u0001([0-7])/.exec(fmt) ?? /^<([0-7])>/.exec(fmt);
  return m ? Number(m[1]) : -1;
}

/** The text a print call produced, rendered with the kernel's vsprintf (hashing off: only text is compared). */
export function renderedText(call: KernelCall, era: "2.6" | "3.4" | "6.1", bits: 32 | 64): string {
  const fmt = typeof call.args[0] === "string" ? (call.args[0] as string) : "";
  const body = fmt.replace(/^\u0001[0-7cd]?/, "").replace(/^<[0-7c]>/, "");
  const args: PrintkArg[] = call.args.slice(1).map((a) => (typeof a === "string" && /^0x[0-9a-f]+$/i.test(a) ? BigInt(a) : typeof a === "number" ? a : String(a)));
  try {
    return vsprintf({ era, bits, physAddrBytes: bits / 8 as 4 | 8, dmaAddrBytes: bits / 8 as 4 | 8, hashPointers: false, ptrKey: [0n, 0n] }, body, args);
  } catch {
    return body;
  }
}

export const PRINT_FNS = ["printk", ...Object.keys(PRINT_LEVEL), "pr_cont", "pr_debug"];

const LEVEL_NAMES = ["KERN_EMERG", "KERN_ALERT", "KERN_CRIT", "KERN_ERR", "KERN_WARNING", "KERN_NOTICE", "KERN_INFO", "KERN_DEBUG"];

/** A line with this text was logged at this level by a print call the module made during this phase. */
export function printedLine(o: { id: string; text: string; level: number; phase: "init" | "exit" | "deferred"; hint?: string }): Check {
  const when = o.phase === "init" ? "on load (in init)" : o.phase === "exit" ? "on unload (in exit)" : "from deferred work";
  return check(
    o.id,
    `"${o.text}" is printed at ${LEVEL_NAMES[o.level]} ${when}`,
    o.hint ?? `Call printk(${LEVEL_NAMES[o.level]} + "${o.text}\\n") (or pr_${LEVEL_NAMES[o.level].slice(5).toLowerCase()}) in the ${o.phase === "init" ? "init" : "exit"} function.`,
    (c) => {
      const calls = callsOf(c.result);
      if (!calls) return fail("this kernel kept no record of the module's calls");
      const bits = ((c.result.kernel as { layout?: { bits?: number } }).layout?.bits ?? 64) as 32 | 64;
      const era = eraOf(c.result);
      const prints = calls.filter((x) => PRINT_FNS.includes(x.fn));
      const same = prints.filter((x) => renderedText(x, era, bits).replace(/\n$/, "") === o.text);
      if (!same.length) {
        const near = prints.find((x) => renderedText(x, era, bits).toLowerCase().includes(o.text.toLowerCase().slice(0, 5)));
        return fail(near ? `the module printed "${renderedText(near, era, bits).replace(/\n$/, "")}", not "${o.text}"` : `no print call produced "${o.text}"`);
      }
      const inPhase = same.filter((x) => x.phase === o.phase);
      if (!inPhase.length) return fail(`"${o.text}" was printed ${same[0].phase === "init" ? "on load" : same[0].phase === "exit" ? "on unload" : "from deferred work"}, not ${when}`);
      const atLevel = inPhase.filter((x) => callLevel(x) === o.level);
      if (!atLevel.length) {
        const lv = callLevel(inPhase[0]);
        return fail(`printed at ${lv < 0 ? "the default level (no KERN_ prefix)" : LEVEL_NAMES[lv]}, not ${LEVEL_NAMES[o.level]}`);
      }
      // And the kernel logged it: a dmesg line with that text at that level.
      const levels = c.result.dmesgLevels;
      const logged = c.result.dmesg.some((l, i) => lineText(l) === o.text && (levels === undefined || levels[i] === o.level));
      if (!logged) return fail(`the kernel's log has no line "${o.text}" at ${LEVEL_NAMES[o.level]}`);
      return ok();
    },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Allocations

export const mayBlock = (c: CheckContext, a: Allocation): boolean => a.gfp === undefined || gfpAllowsBlocking(eraOf(c.result), a.gfp);

export function gfpName(c: CheckContext, gfp: number | undefined): string {
  if (gfp === undefined) return "GFP_KERNEL (implied)";
  try {
    return formatGfp(eraOf(c.result), gfp);
  } catch {
    return `0x${gfp.toString(16)}`;
  }
}

/** The addresses of these allocations appear in the module's dmesg lines (printed from the returned values). */
export function addressesPrinted(id: string, pick: (c: CheckContext) => Allocation[] | CheckOutcome, what: string): Check {
  return check(id, `Each printed address is the one the allocator returned (${what})`, 'Print the value the allocator returned with printk(KERN_INFO + "...%px\\n", addr) (or %lx): no arithmetic, no other variable.', (c) => {
    const as = pick(c);
    if (isOutcome(as)) return as;
    if (!as.length) return fail("no allocation to compare with");
    const printed = new Set<bigint>();
    for (const l of c.result.dmesg) for (const n of hexNumbersIn(lineText(l))) printed.add(n);
    const missing = as.filter((a) => !printed.has(a.addr));
    if (missing.length) return fail(`not in the log: the address of ${missing.map(describe).join(", ")}`);
    return ok();
  });
}

/** Find allocations made by one of these functions; the check fails naming what was found instead. */
export function findAlloc(c: CheckContext, fns: string[], pred: (a: Allocation) => boolean = () => true): Allocation[] | CheckOutcome {
  const as = allocs(c);
  if (isOutcome(as)) return as;
  return as.filter((a) => fns.includes(a.fn) && pred(a));
}

export function summary(as: Allocation[]): string {
  return as.length ? as.map(describe).join(", ") : "none";
}

export { bytes, toBig };

// ---------------------------------------------------------------------------------------------------------------
// Where an address lies (the kernel's boot layout, from RunResult.kernel.layout)

export interface LayoutView {
  pageOffset: bigint;
  highMemory: bigint;
  vmallocStart: bigint;
  vmallocEnd: bigint;
  bits: number;
}

export function layoutOf(c: CheckContext): LayoutView | undefined {
  const l = (c.result.kernel as { layout?: Record<string, unknown> }).layout;
  if (!l) return undefined;
  const b = (k: string) => toBig(l[k] as string);
  const [pageOffset, highMemory, vmallocStart, vmallocEnd] = [b("pageOffset"), b("highMemory"), b("vmallocStart"), b("vmallocEnd")];
  if (pageOffset === undefined || highMemory === undefined || vmallocStart === undefined || vmallocEnd === undefined) return undefined;
  return { pageOffset, highMemory, vmallocStart, vmallocEnd, bits: Number(l.bits ?? 64) };
}

/** "linear" (lowmem / the direct map), "vmalloc", or "elsewhere". */
export function regionOf(l: LayoutView, a: bigint): "linear" | "vmalloc" | "elsewhere" {
  if (a >= l.pageOffset && a < l.highMemory) return "linear";
  if (a >= l.vmallocStart && a <= l.vmallocEnd) return "vmalloc";
  return "elsewhere";
}

/** Exactly the allocation the task asks for: made by one of `fns`, with this size/order/gfp, in this region. */
export function allocatedAs(o: {
  id: string;
  message: string;
  hint: string;
  fns: string[];
  size?: number;
  order?: number;
  gfp?: (c: CheckContext, gfp: number | undefined) => string | undefined;
  region?: "linear" | "vmalloc";
  count?: number;
  phase?: "init" | "deferred" | "exit";
}): Check {
  return check(o.id, o.message, o.hint, (c) => {
    const all = allocs(c);
    if (isOutcome(all)) return all;
    const byFn = all.filter((a) => o.fns.includes(a.fn) && (o.phase === undefined || a.call.phase === o.phase));
    if (!byFn.length) return fail(`no ${o.fns.join("/")} allocation${o.phase ? ` in ${o.phase}` : ""} in the kernel's records (the module's allocations: ${summary(all)})`);
    const sized = byFn.filter((a) => (o.size === undefined || a.size === o.size) && (o.order === undefined || (a.order ?? 0) === o.order));
    if (!sized.length) return fail(`found ${summary(byFn)}, but the task asks for ${o.order !== undefined ? `order ${o.order} (${bytes(4096 << o.order)})` : bytes(o.size!)}`);
    if (o.gfp) {
      const bad = sized.map((a) => [a, o.gfp!(c, a.gfp)] as const).filter(([, why]) => why);
      if (bad.length === sized.length) return fail(`${describe(bad[0][0])}: ${bad[0][1]}`);
    }
    if (o.region) {
      const l = layoutOf(c);
      if (!l) return fail("the kernel's layout is missing from the run");
      const wrong = sized.filter((a) => regionOf(l, a.addr) !== o.region);
      if (wrong.length) return fail(`${describe(wrong[0])} is not in the ${o.region === "linear" ? "linear map (lowmem)" : "vmalloc area"}`);
    }
    if (o.count !== undefined && sized.length !== o.count) return fail(`expected ${o.count} such allocation${o.count === 1 ? "" : "s"}, found ${sized.length}`);
    return ok(summary(sized.slice(0, 3)));
  });
}

/** A gfp test: exactly this named flag set of the era (e.g. GFP_KERNEL). */
export function gfpIs(name: string) {
  return (c: CheckContext, gfp: number | undefined): string | undefined => {
    const want = gfpFlags(eraOf(c.result))[name];
    if (gfp === undefined) return name === "GFP_KERNEL" ? undefined : `it takes no gfp flags; the task asks for ${name}`;
    return gfp === want ? undefined : `allocated with ${gfpName(c, gfp)}, the task asks for ${name}`;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Memory contents

/** A store call as a byte range and the byte it leaves in every position (null when the bytes differ). */
function storeOf(x: KernelCall): { start: bigint; len: bigint; byte: number | null } | undefined {
  const n = (i: number) => toBig(x.args[i]);
  const uniform = (v: bigint | undefined, width: number): number | null => {
    if (v === undefined) return null;
    const b = Number(v & 0xffn);
    for (let k = 1; k < width; k++) if (Number((v >> BigInt(8 * k)) & 0xffn) !== b) return null;
    return b;
  };
  const W: Record<string, number> = { writeb: 1, writew: 2, writel: 4, writeq: 8 };
  const M: Record<string, number> = { memset16: 2, memset32: 4, memset64: 8 };
  if (x.fn === "memset") {
    const [s, v, len] = [n(0), n(1), n(2)];
    return s === undefined || len === undefined ? undefined : { start: s, len, byte: v === undefined ? null : Number(v & 0xffn) };
  }
  if (x.fn in M) {
    const [s, v, cnt] = [n(0), n(1), n(2)];
    return s === undefined || cnt === undefined ? undefined : { start: s, len: cnt * BigInt(M[x.fn]), byte: uniform(v, M[x.fn]) };
  }
  if (x.fn in W) {
    const [v, s] = [n(0), n(1)];
    return s === undefined ? undefined : { start: s, len: BigInt(W[x.fn]), byte: uniform(v, W[x.fn]) };
  }
  if (x.fn === "memcpy" || x.fn === "memmove") {
    const [s, len] = [n(0), n(2)];
    return s === undefined || len === undefined ? undefined : { start: s, len, byte: null };
  }
  return undefined;
}

/** What the kernel saw in a block when it was freed (RunResult.kernel.freedContents, filled by the free paths). */
export interface FreedContents {
  addr: string;
  size: number;
  /** The byte every position held, or null when they differ. */
  uniform: number | null;
}

export function freedContents(c: CheckContext): FreedContents[] | undefined {
  const f = (c.result.kernel as { freedContents?: unknown }).freedContents;
  return Array.isArray(f) ? (f as FreedContents[]) : undefined;
}

/**
 * The block held `value` in every byte when it was freed. Reads the kernel's record of the freed bytes; a kernel
 * without that record is judged from the memset calls that covered the block (host-recorded, still not the print).
 */
export function contentsWhenFreed(c: CheckContext, a: Allocation, value: number): CheckOutcome {
  const fc = freedContents(c);
  if (fc) {
    const e = fc.find((x) => toBig(x.addr) === a.addr);
    if (!e) return fail(`the kernel has no record of ${describe(a)} being freed`);
    if (e.uniform === value) return ok();
    return fail(e.uniform === null ? `when freed, its bytes were not all 0x${value.toString(16)}` : `when freed, every byte was 0x${e.uniform.toString(16)}, not 0x${value.toString(16)}`);
  }
  const calls = callsOf(c.result) ?? [];
  const end = a.addr + BigInt(a.size);
  const freeAt = a.free?.index ?? Infinity;
  // Coverage by the stores between the allocation and its free (memset/memset16/32/64, writeb/w/l/q, memcpy into
  // it); a later store of anything else over a range undoes that range.
  let covered: [bigint, bigint][] = [];
  calls.forEach((x, i) => {
    if (i <= a.index || i >= freeAt) return;
    const st = storeOf(x);
    if (!st) return;
    const lo = st.start > a.addr ? st.start : a.addr;
    const hi = st.start + st.len < end ? st.start + st.len : end;
    if (lo >= hi) return;
    covered = covered.flatMap(([p, q]) => (q <= lo || p >= hi ? [[p, q]] : ([[p, lo], [hi, q]] as [bigint, bigint][]).filter(([u, w]) => u < w)));
    if (st.byte === value) covered.push([lo, hi]);
  });
  const total = covered.reduce((s, [p, q]) => s + (q - p), 0n);
  if (total === BigInt(a.size)) return ok();
  return fail(`${total} of its ${a.size} bytes were set to 0x${value.toString(16)} before it was freed`);
}
