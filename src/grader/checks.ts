// Check helpers: each returns a Check (message, hint, and a function over the kernel's records).
// Every check can fail: each reads what the kernel recorded (the host-side call log, /proc snapshots, reports),
// and the printed text only together with those records.

import type { ReportKind } from "../kernel/types.ts";
import { gfpAllowsBlocking, formatGfp, gfpFlags } from "../kernel/gfp.ts";
import { vsprintf, type PrintkArg } from "../kernel/kernel/vsprintf.ts";
import { freeMatches as freeMatchesRole } from "../../sandbox/memrecords.ts";
import { API } from "../../sandbox/api.ts";
import { codeText } from "../../sandbox/transpile.ts";
import type { Check, CheckContext, CheckOutcome, FaultRun, FaultRuns } from "./types.ts";
import { FAULT_CALLS_MAX } from "./grade.ts";
import { bytes, callsOf, describe, eraOf, lineText, roles, toBig, type AllocRecords, type Allocation, type Family, type KernelCall } from "./records.ts";
import { countOf, type MemContext } from "../../sandbox/memrecords.ts";

export const ok = (detail?: string): CheckOutcome => ({ pass: true, detail });
export const fail = (detail: string): CheckOutcome => ({ pass: false, detail });

export function check(
  id: string,
  message: string,
  hint: string,
  run: (c: CheckContext) => CheckOutcome,
  points = 1,
  more: Pick<Check, "requires" | "needs" | "failsOnFaultRun"> = {},
): Check {
  return { id, message, hint, run, points, ...more };
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
  return check(
    "loads",
    "The module loads: its init function returns 0",
    "Make the init function return 0 once everything it needs succeeded (and a negative errno such as -ENOMEM only when something failed).",
    (c) => {
      const r = c.result;
      const ce = r.reports.find((x) => x.kind === "compile-error");
      if (ce)
        return {
          pass: false,
          detail: `it does not compile: ${ce.title}`,
          hint: `Fix the compile error first${ce.line ? ` (line ${ce.line})` : ""}: ${ce.text}. Nothing else can be checked until the module compiles.`,
        };
      if (r.initReturn === null) {
        const why = r.reports.find((x) => x.kind === "exception" || x.kind === "oops" || x.kind === "bug" || x.kind === "timeout" || x.kind === "limit");
        // An exception's report names the JavaScript error on its second line ("TypeError: module_init: hello_init
        // returned undefined; ..."): the learner's reason, which the title ("BUG: kernel exception in hello_init") is not.
        const second = why?.kind === "exception" ? why.text?.split("\n")[1]?.trim() : undefined;
        const error = second && /^\w*Error\b/.test(second) ? second : undefined;
        return fail(
          `init never returned${why ? `: [${why.kind}] ${why.title}${why.line ? ` (line ${why.line})` : ""}${error ? `: ${error}` : ""}` : " (an exception, an Oops or a limit stopped it)"}`,
        );
      }
      if (r.initReturn > 0)
        return fail(
          `init returned ${r.initReturn}: the kernel loaded the module anyway and warned that init "suspiciously returned ${r.initReturn}, it should follow 0/-E convention"; return 0`,
        );
      if (r.initReturn !== 0)
        return fail(`init returned ${r.initReturn}${r.module?.insmodError ? ` (${r.module.insmodError})` : ""}, so the module was not loaded`);
      if (r.module && !r.module.loaded) return fail("the module did not stay loaded");
      return ok();
    },
  );
}

/** No report except the kinds the task expects. */
export function noReports(allowed: readonly ReportKind[] = [], id = "no-reports"): Check {
  return check(
    id,
    allowed.length
      ? `The kernel reports no problem (other than ${allowed.join(", ")})`
      : "The kernel reports no problem (no warning, BUG, Oops, leak or exception)",
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
  return check(
    "no-leak",
    "Everything the module allocated is freed, each with the matching free function",
    "Free in the exit function what init took: kfree for kmalloc, vfree for vmalloc, free_pages with the same order for __get_free_pages, kmem_cache_free for kmem_cache_alloc.",
    (c) => {
      const r = records(c);
      if (isOutcome(r)) return r;
      if (c.result.initReturn === null) return fail("the module never ran to the end of its init function, so there is nothing to judge");
      const leaked = r.allocs.filter((a) => !a.free);
      if (leaked.length) {
        // A free the kernel refused (an Oops ends the task mid-way) leaves the rest unfreed: say so.
        const stop = c.result.reports.find((x) => ["oops", "bug", "invalid-free", "double-free", "exception", "kasan"].includes(x.kind));
        return fail(
          `never freed: ${leaked.slice(0, 3).map(describe).join(", ")}${leaked.length > 3 ? ` and ${leaked.length - 3} more` : ""}${stop ? ` (the kernel reported [${stop.kind}] ${stop.title}${stop.line ? ` at line ${stop.line}` : ""})` : ""}`,
        );
      }
      const wrong = r.allocs.filter((a) => a.free && !freeMatches(a));
      if (wrong.length)
        return fail(
          wrong
            .map(
              (a) =>
                `${describe(a)} was freed with ${a.free!.fn}${a.free!.order !== undefined ? `(order ${a.free!.order})` : ""}${a.fn === "mempool_alloc" ? " (a mempool element goes back to its pool: mempool_free(element, pool))" : ""}`,
            )
            .join("; "),
        );
      const leakReports = c.result.reports.filter((x) => x.kind === "leak");
      if (leakReports.length) return fail(`the kernel reports a leak: ${leakReports[0].title}`);
      const stray = r.strayFrees.filter((s) => s.call.fn !== "krealloc");
      if (stray.length)
        return fail(`${stray[0].call.fn}(0x${stray[0].addr.toString(16)}) freed an address the module did not hold (a double free, or not an allocation)`);
      const n = countOf(r.allocs); // folded repeats counted (sandbox/memrecords.ts)
      return ok(`${n} allocation${n === 1 ? "" : "s"}, all freed`);
    },
  );
}

/** The free call is the one this allocator pairs with (and a page free's order is the allocation's). */
export function freeMatches(a: Allocation): boolean {
  // A mempool element is the pool's: mempool_free gives it back (to the reserve while the reserve is short, which is
  // the pool's point), kfree bypasses the pool. The kernel says nothing (the element is a kmalloc block either way), so
  // the family alone (slab) would take kfree for the matching free.
  if (a.fn === "mempool_alloc" && a.free?.fn !== "mempool_free") return false;
  return freeMatchesRole(a, roles());
}

/**
 * The module does not taint the kernel in a way it could avoid: no proprietary licence (P), no splat (W, D, B...).
 * Every module built outside the kernel tree taints O (and E when unsigned) in a real kernel too; those are
 * facts of how the module was built, not of what it does, and are not held against it.
 */
export function noTaint(): Check {
  return check(
    "no-taint",
    "The module does not taint the kernel (beyond being out of tree): a GPL-compatible MODULE_LICENSE, and no warning",
    'Declare a GPL-compatible licence with MODULE_LICENSE("GPL") at the top of the module, and trigger no warning.',
    (c) => {
      const taint = (c.result.kernel as { taint?: unknown }).taint;
      if (typeof taint === "string") {
        const flags = taint
          .replace(/^Tainted:\s*/, "")
          .replace(/[OE ]/g, "")
          .replace(/^Nottainted$/, "");
        if (/[A-Z]/.test(flags.replace(/^G/, ""))) return fail(`the kernel is tainted: ${taint}`);
      }
      const calls = callsOf(c.result);
      const lic = calls?.find((x) => x.fn === "MODULE_LICENSE");
      const licence = typeof lic?.args[0] === "string" ? (lic.args[0] as string) : undefined;
      if (calls && !lic) return fail("the module declares no licence: loading it taints the kernel (P, proprietary)");
      if (licence !== undefined && !GPL_COMPATIBLE.includes(licence))
        return fail(`licence "${licence}" is not GPL-compatible: loading it taints the kernel (P)`);
      const line = c.result.dmesg.find((l) => /module license '.*' taints kernel|Disabling lock debugging due to kernel taint/.test(l));
      if (line) return fail(`the kernel says: ${lineText(line)}`);
      const splat = c.result.reports.find((x) => x.kind === "warn" || x.kind === "bug" || x.kind === "oops" || x.kind === "kasan");
      if (splat) return fail(`the kernel taints itself after: ${splat.title}`);
      return ok();
    },
  );
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
  const args: PrintkArg[] = call.args
    .slice(1)
    .map((a) => (typeof a === "string" && /^0x[0-9a-f]+$/i.test(a) ? BigInt(a) : typeof a === "number" ? a : String(a)));
  try {
    return vsprintf({ era, bits, physAddrBytes: (bits / 8) as 4 | 8, dmaAddrBytes: (bits / 8) as 4 | 8, hashPointers: false, ptrKey: [0n, 0n] }, body, args);
  } catch {
    return body;
  }
}

export const PRINT_FNS = ["printk", ...Object.keys(PRINT_LEVEL), "pr_cont", "pr_debug"];

const LEVEL_NAMES = ["KERN_EMERG", "KERN_ALERT", "KERN_CRIT", "KERN_ERR", "KERN_WARNING", "KERN_NOTICE", "KERN_INFO", "KERN_DEBUG"];

/** A line with this text was logged at this level by a print call the module made during this phase. */
/**
 * The lines the module's print calls made, in order: a call continues the line before it when it is pr_cont or its
 * format starts with KERN_CONT and that line has no newline yet (printk(KERN_INFO + "hello, "); pr_cont("kernel\n")
 * logs one line "hello, kernel" at KERN_INFO); each line with the call that began it (its level and phase are the
 * line's) and its text without the newline.
 */
export function printedLines(calls: readonly KernelCall[], era: "2.6" | "3.4" | "6.1", bits: 32 | 64): { text: string; first: KernelCall }[] {
  const out: { text: string; first: KernelCall; open: boolean }[] = [];
  for (const x of calls) {
    if (!PRINT_FNS.includes(x.fn)) continue;
    const t = renderedText(x, era, bits);
    const fmt = typeof x.args[0] === "string" ? (x.args[0] as string) : "";
    const cont = x.fn === "pr_cont" || /^\u0001c/.test(fmt);
    const last = out[out.length - 1];
    if (cont && last?.open) {
      last.text += t;
      last.open = !t.endsWith("\n");
    } else out.push({ text: t, first: x, open: !t.endsWith("\n") });
  }
  return out.map(({ text, first }) => ({ text: text.replace(/\n$/, ""), first }));
}

/**
 * The distinct lines of `lines` that have the form of the answer asked for but say another one ("sum 513" beside
 * "sum 168"): a module printing every possible answer (each count 0..20, each sum 0..1020) holds the right one in
 * every run, so the answer asked for must be the only line of its form. Empty when there is none.
 */
export function otherAnswers(lines: readonly { text: string }[], form: RegExp, want: string): string[] {
  return [...new Set(lines.map((x) => x.text.trim()).filter((t) => form.test(t) && t !== want))];
}

/** The message for otherAnswers: what else was printed, and that one answer is asked for. */
export function otherAnswersMessage(others: readonly string[], want: string): string {
  const shown = others
    .slice(0, 3)
    .map((t) => `"${t}"`)
    .join(", ");
  return `besides "${want}" the module printed ${others.length} other line${others.length === 1 ? "" : "s"} of that form (${shown}${others.length > 3 ? ", ..." : ""}): print the one answer, not a list of guesses`;
}

export function printedLine(o: { id: string; text: string; level: number; phase: "init" | "exit" | "deferred"; hint?: string }): Check {
  const when = o.phase === "init" ? "on load (in init)" : o.phase === "exit" ? "on unload (in exit)" : "from deferred work";
  return check(
    o.id,
    `"${o.text}" is printed at ${LEVEL_NAMES[o.level]} ${when}`,
    o.hint ??
      `Call printk(${LEVEL_NAMES[o.level]} + "${o.text}\\n") (or pr_${LEVEL_NAMES[o.level].slice(5).toLowerCase()}) in the ${o.phase === "init" ? "init" : "exit"} function.`,
    (c) => {
      const calls = callsOf(c.result);
      if (!calls) return fail("this kernel kept no record of the module's calls");
      const bits = ((c.result.kernel as { layout?: { bits?: number } }).layout?.bits ?? 64) as 32 | 64;
      const era = eraOf(c.result);
      const lines = printedLines(calls, era, bits);
      const same = lines.filter((x) => x.text === o.text).map((x) => x.first);
      if (!same.length) {
        const near = lines.find((x) => x.text.toLowerCase().includes(o.text.toLowerCase().slice(0, 5)));
        return fail(near ? `the module printed "${near.text}", not "${o.text}"` : `no print call produced "${o.text}"`);
      }
      const inPhase = same.filter((x) => x.phase === o.phase);
      if (!inPhase.length)
        return fail(
          `"${o.text}" was printed ${same[0].phase === "init" ? "on load" : same[0].phase === "exit" ? "on unload" : "from deferred work"}, not ${when}`,
        );
      const atLevel = inPhase.filter((x) => callLevel(x) === o.level);
      if (!atLevel.length) {
        const lv = callLevel(inPhase[0]);
        return fail(`printed at ${lv < 0 ? "the default level (no KERN_ prefix)" : LEVEL_NAMES[lv]}, not ${LEVEL_NAMES[o.level]}`);
      }
      // And the kernel logged it: a dmesg line with that text at that level.
      const levels = c.result.dmesgLevels;
      const logged = c.result.dmesg.some((l, i) => lineText(l) === o.text && (levels === undefined || levels[i] === o.level));
      // a line the log buffer's ring overwrote later (kmemleak's report of many leaks) was logged all the same
      if (!logged && !c.result.dmesgOverwritten) return fail(`the kernel's log has no line "${o.text}" at ${LEVEL_NAMES[o.level]}`);
      return ok();
    },
    1,
    { requires: [o.text, LEVEL_NAMES[o.level]] },
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

/**
 * Each allocation `pick` names was printed from the value the allocator returned: a print call of the module got
 * that very value as an argument, and the kernel logged the line it made. Judged in the graded run and again in a
 * second run with more RAM (ExtraRuns.shifted), where every allocator returns other addresses: a number copied from
 * an earlier run's output matches at most one of the two.
 */
export function printedValue(o: { id: string; pick: (c: CheckContext) => Allocation[] | CheckOutcome; what: string; requires?: string[] }): Check {
  const judgeRun = (c: CheckContext, label: string): CheckOutcome => {
    const as = o.pick(c);
    if (isOutcome(as)) return as;
    if (!as.length) return fail(`${label}no allocation to compare with`);
    const calls = callsOf(c.result) ?? [];
    const prints = calls.filter((x) => PRINT_FNS.includes(x.fn));
    const era = eraOf(c.result);
    const bits = ((c.result.kernel as { layout?: { bits?: number } }).layout?.bits ?? 64) as 32 | 64;
    const logText = c.result.dmesg.map(lineText).join("\n");
    // A list of guesses (every address a page could have, worked out from high_memory or VMALLOC_START) holds the
    // right one in every run, and the other run's in none: more different addresses than PRINTED_ADDRESSES_MAX fail.
    const printed = printedAddresses(prints, era, bits);
    if (printed.size > PRINTED_ADDRESSES_MAX)
      return fail(
        `${label}the module printed ${printed.size} different addresses: print the ${as.length === 1 ? "address" : `${as.length} addresses`} the allocator${as.length === 1 ? "" : "s"} returned (and a few of your own if you like, at most ${PRINTED_ADDRESSES_MAX} in all), not a list of guesses`,
      );
    for (const a of as) {
      const want = [a.addr, a.virt].filter((x): x is bigint => x !== undefined && x !== 0n);
      // Given as an argument (%lx, %px), or written into the text (a string built with toString(16)): either way the
      // line holds the value of this run, which the second run (other addresses) tells from a number copied earlier.
      const inText = (p: KernelCall) => {
        const t = renderedText(p, era, bits);
        return want.some((w) => new RegExp(`(?:^|[^0-9a-f])0*${w.toString(16)}(?![0-9a-f])`, "i").test(t));
      };
      const given = prints.filter((p) => p.args.slice(1).some((v) => want.includes(toBig(v) ?? -1n)) || inText(p));
      if (!given.length) {
        const shown = prints.flatMap((p) =>
          p.args
            .slice(1)
            .map((v) => toBig(v))
            .filter((v): v is bigint => v !== undefined && v > 0xffffn),
        );
        return fail(
          `${label}no print call was given the value ${describe(a)} returned${
            shown.length
              ? ` (the module printed ${shown
                  .slice(0, 3)
                  .map((v) => "0x" + v.toString(16))
                  .join(", ")})`
              : ""
          }`,
        );
      }
      // (a line the log buffer's ring overwrote later was logged all the same: the rendered text is what it held)
      const logged = given.some((p) =>
        want.some((w) => renderedText(p, era, bits).includes(w.toString(16)) && (logText.includes(w.toString(16)) || !!c.result.dmesgOverwritten)),
      );
      if (!logged)
        return fail(
          `${label}the value of ${describe(a)} was passed to ${given[0].fn}, but the kernel's log does not show it in hex (use %px or %lx${era === "6.1" ? ": %p prints a hashed value" : ""})`,
        );
    }
    return ok();
  };
  return check(
    o.id,
    `Each printed address is the one the allocator returned (${o.what}), printed in hex (%px or %lx); a module printing more than ${PRINTED_ADDRESSES_MAX} different addresses fails`,
    'Print the value the allocator returned, with printk(KERN_INFO + "...%px\\n", addr) (or 0x%lx): the variable that holds it, not a number copied from an output.',
    (c) => {
      const first = judgeRun(c, "");
      if (!first.pass) return first;
      const sh = c.runs?.shifted;
      if (!sh)
        return fail(
          c.runs?.unavailable?.["shifted-run"] ?? "the grader made no second run to compare printed addresses with (judge() was called without its extra runs)",
        );
      const shiftedCtx = { ...c, result: sh.result, records: sh.records };
      const second = judgeRun(shiftedCtx, `in a second run with ${sh.mem >> 20} MiB of RAM, `);
      if (!second.pass) return second;
      // A line that holds the value of both runs (numbers copied from the first run's output and from this check's
      // report of the second) matches each run without printing the variable: the value one run's allocation got
      // must not be printed in the other run, where that allocation has another address.
      const mine = o.pick(c);
      const theirs = o.pick(shiftedCtx);
      // The address itself written in the source (copied from an output: the module may pick among copies by
      // checking which run it is in, and each run's line then holds its own value): no module holds a run's address
      // as a literal, the allocator gives it. Comments do not count: a learner may quote an output there.
      const code = codeText(c.source);
      for (const [as, label] of [
        [mine, ""],
        [theirs, `in the second run (${sh.mem >> 20} MiB), `],
      ] as const) {
        if (isOutcome(as)) continue;
        for (const a of as) {
          const w = a.virt ?? a.addr;
          if (w <= 0xffffn) continue;
          const lit = new RegExp(`\\b(?:0x0*${w.toString(16)}|${w.toString(10)})(?:n|ul|l|u)?\\b`, "i");
          if (lit.test(code))
            return fail(
              `${label}the module's source holds 0x${w.toString(16)}, the address ${describe(a)} returned in that run: a number copied from an output, not the value the allocator returned; print the variable`,
            );
        }
      }
      if (!isOutcome(mine) && !isOutcome(theirs))
        for (let i = 0; i < Math.min(mine.length, theirs.length); i++) {
          for (const [here, other, ctx, label] of [
            [mine[i], theirs[i], c, ""],
            [theirs[i], mine[i], shiftedCtx, `in the second run (${sh.mem >> 20} MiB), `],
          ] as const) {
            const foreign = (other.virt ?? other.addr) !== (here.virt ?? here.addr) ? (other.virt ?? other.addr) : undefined;
            const p = foreign !== undefined ? printsHolding(ctx, foreign)[0] : undefined;
            if (p)
              return fail(
                `${label}${p.fn}${p.line !== undefined ? ` at line ${p.line}` : ""} printed 0x${foreign!.toString(16)}, the address ${describe(other)} got in the other run, not in this one: a number copied from an output, not the value the allocator returned`,
              );
          }
        }
      return ok(`right in both runs (${(c.exercise.settings.mem ?? 0) >> 20 || "default"} and ${sh.mem >> 20} MiB)`);
    },
    1,
    { requires: o.requires, needs: ["shifted-run"] },
  );
}

/** The most different addresses a module may print in a run where printedValue judges its printed addresses. */
export const PRINTED_ADDRESSES_MAX = 16;

/**
 * The different addresses the print calls show: the arguments that are numbers of more than 16 bits, and the hex
 * numbers of 6 to 16 digits in the rendered text that have a 0x or a digit a-f (a decimal like 1000000 is a size).
 */
function printedAddresses(prints: readonly KernelCall[], era: "2.6" | "3.4" | "6.1", bits: 32 | 64): Set<bigint> {
  const out = new Set<bigint>();
  for (const p of prints) {
    for (const v of p.args.slice(1)) {
      const b = typeof v === "number" || (typeof v === "string" && /^0x[0-9a-f]+$/i.test(v)) ? toBig(v) : undefined;
      if (b !== undefined && b > 0xffffn) out.add(b);
    }
    for (const m of renderedText(p, era, bits).matchAll(/(?<![0-9a-z])(0x)?([0-9a-f]{6,16})(?![0-9a-z])/gi))
      if (m[1] || /[a-f]/i.test(m[2]!)) out.add(BigInt("0x" + m[2]));
  }
  return out;
}

/** The module's print calls whose arguments or rendered text hold this value (as an address in hex). */
function printsHolding(c: CheckContext, w: bigint): KernelCall[] {
  const era = eraOf(c.result);
  const bits = ((c.result.kernel as { layout?: { bits?: number } }).layout?.bits ?? 64) as 32 | 64;
  const re = new RegExp(`(?:^|[^0-9a-f])0*${w.toString(16)}(?![0-9a-f])`, "i");
  return (callsOf(c.result) ?? [])
    .filter((x) => PRINT_FNS.includes(x.fn))
    .filter((p) => p.args.slice(1).some((v) => toBig(v) === w) || re.test(renderedText(p, era, bits)));
}

/** Find allocations made by one of these functions; the check fails naming what was found instead. */
export function findAlloc(c: CheckContext, fns: string[], pred: (a: Allocation) => boolean = () => true): Allocation[] | CheckOutcome {
  const as = allocs(c);
  if (isOutcome(as)) return as;
  return as.filter((a) => fns.includes(a.fn) && pred(a));
}

/** "kmalloc(256) at 0x... (line 12)", for messages. */
export const describeAlloc = describe;

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

/**
 * Exactly the allocation the task asks for: made by one of `fns` (or of a `family`), with this size/order/gfp, in
 * this region and context. The library's `allocated(family, size, context)`.
 */
export function allocatedAs(o: {
  id: string;
  message: string;
  hint: string;
  fns?: string[];
  family?: Family[];
  size?: number;
  order?: number;
  gfp?: (c: CheckContext, gfp: number | undefined) => string | undefined;
  region?: "linear" | "vmalloc";
  context?: MemContext[];
  count?: number;
  phase?: "init" | "deferred" | "exit";
  /** Kept while the module is loaded: freed in module_exit (or never, which no-leak judges), not before. */
  kept?: boolean;
  /** The allocator's first argument, when the task names it (mempool_create_kmalloc_pool's min_nr, the reserve). */
  firstArg?: number;
  requires?: string[];
}): Check {
  const what = [o.fns?.join("/"), o.family && !o.fns ? o.family.join("/") : undefined].filter(Boolean).join(" ");
  return check(
    o.id,
    o.message,
    o.hint,
    (c) => {
      const all = allocs(c);
      if (isOutcome(all)) return all;
      const byFn = all.filter(
        (a) => (!o.fns || o.fns.includes(a.fn)) && (!o.family || o.family.includes(a.family)) && (o.phase === undefined || a.call.phase === o.phase),
      );
      if (!byFn.length) {
        const failed = (c.records?.failed ?? []).map(
          (f) => `${f.fn}(${f.family === "page" ? `order ${f.order ?? 0}` : (f.size ?? "?")})${f.line !== undefined ? ` (line ${f.line})` : ""}`,
        );
        return fail(
          `no ${what} allocation${o.phase ? ` in ${o.phase}` : ""} in the kernel's records (the module's allocations: ${summary(all)}${failed.length ? `; failed, returning NULL: ${failed.slice(0, 3).join(", ")}` : ""})`,
        );
      }
      const sized = byFn.filter((a) => (o.size === undefined || a.size === o.size) && (o.order === undefined || (a.order ?? 0) === o.order));
      if (!sized.length)
        return fail(`found ${summary(byFn)}, but the task asks for ${o.order !== undefined ? `order ${o.order} (${bytes(4096 << o.order)})` : bytes(o.size!)}`);
      if (o.context) {
        const here = sized.filter((a) => o.context!.includes(a.context));
        if (!here.length)
          return fail(
            `${describe(sized[0])} ran in ${CONTEXT_WORDS[sized[0].context]}, the task asks for ${o.context.map((x) => CONTEXT_WORDS[x]).join(" or ")}`,
          );
      }
      if (o.gfp) {
        const bad = sized.map((a) => [a, o.gfp!(c, a.gfp)] as const).filter(([, why]) => why);
        if (bad.length === sized.length) return fail(`${describe(bad[0][0])}: ${bad[0][1]}`);
      }
      if (o.region) {
        const l = layoutOf(c);
        if (!l) return fail("the kernel's layout is missing from the run");
        const wrong = sized.filter((a) => regionOf(l, a.virt ?? a.addr) !== o.region);
        if (wrong.length) return fail(`${describe(wrong[0])} is not in the ${o.region === "linear" ? "linear map (lowmem)" : "vmalloc area"}`);
      }
      if (o.firstArg !== undefined) {
        const right = sized.filter((a) => Number(a.call.args[0]) === o.firstArg);
        if (!right.length)
          return fail(`${describe(sized[0])} was called with ${String(sized[0].call.args[0])} as its first argument, the task asks for ${o.firstArg}`);
      }
      if (o.count !== undefined && countOf(sized) !== o.count)
        return fail(`expected ${o.count} such allocation${o.count === 1 ? "" : "s"}, found ${countOf(sized)}: ${summary(sized.slice(0, 4))}`);
      if (o.kept) {
        // Taken on load: one made in module_exit (to have a free there) is not the one the task keeps.
        const before = sized.filter((a) => a.call.phase !== "exit");
        if (!before.length)
          return fail(
            `${describe(sized[0])} was made in module_exit, while the module was unloading: the task asks to take it on load and keep it until module_exit`,
          );
        if (before.every((a) => freedBeforeUnload(a))) return fail(freedBeforeUnload(before[0])!);
      }
      return ok(summary(sized.slice(0, 3)));
    },
    1,
    { requires: o.requires },
  );
}

/** Why an allocation a task says to keep was not kept: it was freed before unload (in init, or in deferred work). */
export function freedBeforeUnload(a: Allocation): string | undefined {
  const f = a.free;
  if (!f || f.call.phase === "exit") return undefined;
  return `${describe(a)} was freed with ${f.fn}${f.line !== undefined ? ` at line ${f.line}` : ""} ${f.call.phase === "init" ? "in init" : "from deferred work"}, while the module was still loaded: the task asks to keep it until module_exit`;
}

export const CONTEXT_WORDS: Record<MemContext, string> = {
  process: "process context",
  atomic: "atomic context (a spinlock held or preemption off)",
  softirq: "softirq context",
  hardirq: "hard interrupt context",
};

/** A gfp test: exactly this named flag set of the era (e.g. GFP_KERNEL). */
export function gfpIs(name: string) {
  return (c: CheckContext, gfp: number | undefined): string | undefined => {
    const want = gfpFlags(eraOf(c.result))[name];
    if (gfp === undefined) return name === "GFP_KERNEL" ? undefined : `it takes no gfp flags; the task asks for ${name}`;
    return gfp === want ? undefined : `allocated with ${gfpName(c, gfp)}, the task asks for ${name}`;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Memory read from the simulated kernel (RunResult.kernel.memory, RunSettings.probes)

export interface ProbeView {
  at: "loaded" | "unloading";
  fn?: string;
  addr?: string;
  values?: (number | string | null)[];
  missing?: string;
}

export function probeOf(c: CheckContext, id: string): ProbeView | CheckOutcome {
  const m = (c.result.kernel as { memory?: Record<string, ProbeView> }).memory;
  const p = m?.[id];
  if (!p)
    return fail(
      `the run read no memory for this check (probe "${id}" is not in RunResult.kernel.memory${c.result.initReturn !== 0 ? ": the module did not load" : ""})`,
    );
  if (p.missing || !p.values)
    return fail(`when the module ${p.at === "loaded" ? "had loaded" : "was about to be unloaded"}, ${p.missing ?? "nothing was read"}`);
  return p;
}

/**
 * The values the module left in its buffer, read from simulated memory (not from its calls): `expected(i)` at each
 * position the exercise's probe reads. Whatever width or routine wrote them (writel, writeq, memset32...).
 */
export function valueInMemory(o: {
  id: string;
  probe: string;
  message: string;
  hint: string;
  expected: (i: number) => number;
  unit: string;
  hex?: boolean;
  requires?: string[];
}): Check {
  return check(
    o.id,
    o.message,
    o.hint,
    (c) => {
      const p = probeOf(c, o.probe);
      if (isOutcome(p)) return p;
      const vals = p.values!;
      const bad: number[] = [];
      vals.forEach((v, i) => {
        if (v !== o.expected(i)) bad.push(i);
      });
      if (!bad.length) return ok(`${vals.length} of ${vals.length} ${o.unit}s`);
      const show = (v: number | string | null | undefined) =>
        v === null || v === undefined ? "unmapped" : typeof v === "number" ? (o.hex ? "0x" + v.toString(16) : String(v)) : v;
      return fail(
        `in memory${p.at === "unloading" ? " just before module_exit" : " after load"}, ${vals.length - bad.length} of the ${vals.length} ${o.unit}s ${vals.length - bad.length === 1 ? "holds" : "hold"} the right value; ${o.unit} ${bad[0]} holds ${show(vals[bad[0]])}, not ${show(o.expected(bad[0]))}${bad.length > 1 ? `, ${o.unit} ${bad[1]} holds ${show(vals[bad[1]])}` : ""}`,
      );
    },
    1,
    { requires: o.requires },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Failure paths: the submission run again with one fault site failing at a time (fail-nth)

const ENOMEM = 12;

/** Report kinds a forced allocation failure brings by itself (the kernel's warning and its own injection note). */
const FAULT_EXPECTED_KINDS = ["page-alloc-failure", "vmalloc-failure", "fault-injection"];

/** What the module did differently from the clean run first: the forced failure as the module saw it. */
export function firstDifference(
  clean: readonly KernelCall[],
  faulty: readonly KernelCall[],
): { call: KernelCall; index: number; cleanRet: unknown } | undefined {
  const n = Math.min(clean.length, faulty.length);
  for (let i = 0; i < n; i++) {
    const a = clean[i];
    const b = faulty[i];
    if (a.fn !== b.fn || JSON.stringify(a.args) !== JSON.stringify(b.args) || JSON.stringify(a.ret) !== JSON.stringify(b.ret))
      return { call: b, index: i, cleanRet: a.ret };
  }
  return faulty.length > n ? { call: faulty[n], index: n, cleanRet: undefined } : undefined;
}

/** Parameter types of the table's functions, to write a call as the learner wrote it (gfp masks by name). */
let paramTypes: Map<string, string[]> | undefined;
function describeCall(x: KernelCall, era: "2.6" | "3.4" | "6.1"): string {
  paramTypes ??= new Map(API.filter((r) => r.kind === "function").map((r) => [r.name, (r as { params: { type: string }[] }).params.map((p) => p.type)]));
  const types = paramTypes.get(x.fn) ?? [];
  const args = x.args.slice(0, 3).map((v, i) => {
    if (types[i] === "gfp" && typeof v === "number") {
      try {
        return formatGfp(era, v);
      } catch {
        return String(v);
      }
    }
    if (types[i]?.startsWith("handle:") || types[i] === "fn" || types[i] === "cookie") return types[i].replace(/^handle:/, "");
    return typeof v === "string" && !/^0x/.test(v) ? JSON.stringify(v) : v !== null && typeof v === "object" ? "…" : String(v);
  });
  const ret = x.ret === null || x.ret === "0x0" || x.ret === 0 ? "NULL" : String(x.ret);
  return `${x.fn}(${args.join(", ")})${x.line !== undefined ? ` at line ${x.line}` : ""} returned ${ret}`;
}

/**
 * The module fails cleanly whichever allocation fails: in each fault run, no Oops/BUG/exception, everything it had
 * taken freed (by init's error path, or by exit when it stayed loaded), nothing freed twice, and when the failure
 * hit init, init returns -error (ENOMEM unless said otherwise). `initMayLoad`: a failed allocation is an answer the
 * module handles and loads anyway (find-the-hole's probes).
 */
export function survivesFaultInjection(o: { error?: number; initMayLoad?: boolean; errorName?: string } = {}): Check {
  const errno = o.error ?? ENOMEM;
  const errName = o.errorName ?? "-ENOMEM";
  /** What is wrong with one fault run, or undefined when it failed cleanly. */
  const judgeRun = (c: CheckContext, f: FaultRuns, r: FaultRun): string | undefined => {
    // fail-nth runs compare with the counting run (the same options, nothing failed); attribute runs with the clean run.
    const clean = (r.attr ? c.records?.calls : f.counted?.records?.calls) ?? c.records?.calls ?? [];
    const calls = r.records?.calls ?? [];
    const d = firstDifference(clean, calls);
    const what = d ? describeCall(d.call, eraOf(c.result)) : "a kernel-internal allocation; nothing the module called returned anything else";
    const head = `with ${r.label} failing (${what})`;
    // What the failure brought: reports the clean run did not have (its own are the other checks' business).
    const before = new Set((r.attr ? c.result : (f.counted?.result ?? c.result)).reports.map((x) => `${x.kind}\u0000${x.title}`));
    const bad = r.result.reports.filter(
      (x) =>
        !before.has(`${x.kind}\u0000${x.title}`) &&
        !FAULT_EXPECTED_KINDS.includes(x.kind) &&
        !/fault.?inject/i.test(x.kind) &&
        x.kind !== "leak" &&
        !(c.exercise.allowedReports ?? []).includes(x.kind),
    );
    if (bad.length) return `${head}: the kernel reported [${bad[0].kind}] ${bad[0].title}${bad[0].line ? ` (line ${bad[0].line})` : ""}`;
    // A failure the kernel absorbed (mempool_alloc served from its reserve): the module's call still got memory
    // (not NULL), so nothing asks it to fail; the other conditions (no report, no leak) still hold.
    const absorbed =
      d !== undefined && !(d.call.ret === null || d.call.ret === "0x0" || d.call.ret === 0 || d.call.ret === undefined) && /^mempool_alloc$/.test(d.call.fn);
    const inInit = d?.call.phase === "init" && !absorbed;
    const ir = r.result.initReturn;
    if (ir === null) return `${head}: init never returned`;
    if (inInit && !o.initMayLoad && ir >= 0) return `${head}: init returned ${ir}, so the module loaded without the memory it needed; return ${errName}`;
    if (inInit && ir < 0 && ir !== -errno && !o.initMayLoad) return `${head}: init returned ${ir}, not ${errName} (-${errno})`;
    // Left allocated by the failure: what the clean run freed (a leak of the clean run is no-leak's business).
    const cleanLeaks = new Set((r.attr ? c.records : (f.counted?.records ?? c.records))?.allocs.filter((a) => !a.free).map((a) => a.index) ?? []);
    const left = (r.records?.allocs ?? []).filter((a) => !a.free && !(cleanLeaks.has(a.index) && (d === undefined || a.index < d.index)));
    if (left.length)
      return `${head}: ${ir < 0 ? "init failed and " : ""}left allocated: ${left.slice(0, 3).map(describe).join(", ")}${left.length > 3 ? ` and ${left.length - 3} more` : ""}`;
    const stray = r.records?.strayFrees ?? [];
    if (stray.length)
      return `${head}: ${stray[0].call.fn}(0x${stray[0].addr.toString(16)})${stray[0].call.line ? ` at line ${stray[0].call.line}` : ""} freed an address the module did not hold`;
    return undefined;
  };
  return check(
    "handles-allocation-failure",
    `Handles allocation failure: with any one allocation failing, ${o.initMayLoad ? "it still finishes cleanly" : `init returns ${errName}`}, frees what it took, and the kernel reports no Oops (the grader fails each call that allocates, in a run of its own, every pass of a loop included: in module_init, handlers, timers and work items; on a 6.1 kernel a module_init making more than ${FAULT_CALLS_MAX} such calls fails this check, elsewhere past ${FAULT_CALLS_MAX} calls ${FAULT_CALLS_MAX} are spread over them)`,
    `Check every allocation's result: if (p === 0n) { free what was taken before it; return ${errName}; } — in init, in reverse order of allocation (the kernel's goto-unwind pattern).`,
    (c) => {
      const f = c.runs?.faults;
      if (!f) return fail(c.runs?.unavailable?.["fault-injection"] ?? "the grader made no fault-injection runs (judge() was called without its extra runs)");
      if (c.result.initReturn === null)
        return fail("the module does not get through a run where nothing is made to fail (init never returned), so its failure paths cannot be judged");
      if (f.calls !== undefined)
        return {
          pass: false,
          detail: `module_init makes ${f.calls} kernel calls that allocate (each pass of a loop counts), more than the ${FAULT_CALLS_MAX} the grader fails one by one`,
          hint: "Allocate only what the task asks for in module_init, checking each result; the grader fails each of those calls in a run of its own.",
        };
      if (!f.runs.length) return fail("no allocation of the module could be made to fail (no fault site in the clean run): there is no failure path to judge");
      for (const r of f.runs) {
        const why = judgeRun(c, f, r);
        if (why) return fail(why);
      }
      return ok(
        `${f.runs.length} run${f.runs.length === 1 ? "" : "s"} with one allocation failing${f.sites ? ` (module_init has ${f.sites} fault sites)` : ""}: each failed cleanly`,
      );
    },
    1,
    { requires: o.initMayLoad ? [] : [errName], needs: ["fault-injection"], failsOnFaultRun: (c, f, r) => judgeRun(c, f, r) !== undefined },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The library: every check an exercise declaration may name, with its parameters (issue 15's Markdown exercises).

export const CHECK_LIBRARY = {
  loads,
  noReports,
  noTaint,
  freedWithMatching: nothingLeaked,
  allocated: allocatedAs,
  printedLine,
  printedValue,
  valueInMemory,
  survivesFaultInjection,
} as const;
