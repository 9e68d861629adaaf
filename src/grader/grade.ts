// The grader: run a submission as the exercise says (profile, RAM, command line, events), then judge it with the
// exercise's checks over the RunResult. judge() is pure (the notebook runs the cell in its worker and judges the
// RunResult there); gradeWith() runs and judges in one step with any runner (the CLI's isolated workers, the
// notebook's worker, runModule in the tests), and gradeSource() is gradeWith over runModule.
//
// Extra runs, made only when a check needs them (Check.needs):
// - "shifted-run": the same machine with 8 to 64 MiB more RAM and another driver's vmalloc buffer (shiftFor: both drawn
//   from the submission's text), so that every allocator returns other addresses: a printed address copied from an
//   earlier run's output, or from the grader's report of another text's second run, cannot match both runs.
// - "other-loaded-time": the same machine with the module loaded OTHER_LOADED_MS while its kernel threads live (5 s
//   otherwise, RunOptions.loadedMs), so that a thread's count differs: a count copied from an earlier run cannot match.
// - "busy-run": the same machine, busy: another task holds the CPU in windows (busyWindows, RunOptions.busy), so that
//   the module's kernel threads wake up late and count less: a count worked out from the time loaded (jiffies /
//   500 ms) no longer matches the thread's own. The windows follow from the submission's text (a number copied into
//   it moves them).
// - "other-writer": the same machine, with RunSettings.otherWrites stored into the module's buffers before a moment of
//   the run (another program writing through its own mapping): a result printed without reading the bytes (the sum
//   the statement gives) cannot match both runs.
// - "high-memory-run": the same profile with HIGH_MEM of RAM, where GFP_KERNEL memory comes from above 4 GiB: a
//   streaming DMA mapping for a 32-bit device fails there (no swiotlb in the simulator), and the error path runs.
// - "other-cmdline": the same machine booted with RunSettings.otherCmdline, where the task's answer differs
//   (find-the-hole: vmalloc=240M instead of 200M, another largest hole): a number copied from a run cannot match both;
//   with RunSettings.otherCmdlineVmalloc another driver holds a vmalloc buffer there (its size drawn from the text), so
//   that the answer is not a function of the command line either (VMALLOC_START minus a constant).
// - "fault-injection": a counting run (fail-nth set beyond reach, so the kernel counts module_init's fault sites
//   without failing any: RunResult.faultInjection.insmodCalls), then one run per chosen site n with fail-nth = n
//   (src/kernel/debug/fault_inject.ts). Every site up to FAULT_RUNS_ALL; past that the first FAULT_RUNS_FIRST,
//   FAULT_RUNS_SPREAD more spread evenly up to the last (a 4 MiB vzalloc is a thousand page allocations), and the first
//   site of each of the module's kernel calls (FaultSite.entry) not yet covered: every call, each pass of a loop
//   included, so that no allocation hides among others (a check skipped on one pass, a line among many). A module_init
//   making more than FAULT_CALLS_MAX calls that allocate fails the check, as its message says (a run per call is what
//   makes the check sound; object-cache's 100 objects are the most a reference solution or a fixture makes), and gets
//   no fail-nth runs. fail-nth exists on 6.1 debug kernels only (Linux 4.13+, CONFIG_FAULT_INJECTION): other machines
//   say so.

import type { RunResult } from "../../sandbox/result.ts";
import type { RunOptions } from "../../sandbox/run.ts";
import type { MemoryProbe } from "../../sandbox/probes.ts";
import { getProfile } from "../kernel/profiles.ts";
import { allocations } from "./records.ts";
import type { CheckContext, CheckResult, Exercise, ExtraRuns, GradeResult, RunSettings } from "./types.ts";

/** The board's push-button line (src/kernel/kernel/irq.ts: IRQ 5 on the x86 PCs, 40 on the ARM boards). */
export function buttonIrq(profile: string): number {
  const arch = getProfile(profile).arch;
  return arch === "x86_64" || arch === "i386" ? 5 : 40;
}

/** The options runModule needs to run a submission of this exercise. */
export function runOptionsFor(s: RunSettings): RunOptions {
  return {
    profile: s.profile,
    mem: s.mem,
    cmdline: s.cmdline,
    seed: s.seed,
    config: s.config,
    proc: s.proc,
    events: s.events?.map((e) => ({ atMs: e.atMs, irq: e.irq === "button" ? buttonIrq(s.profile) : e.irq })),
    probes: s.probes,
  };
}

/** Runs a submission: runModule, an isolated worker's run, the notebook worker's. */
export type Runner = (source: string, options: RunOptions) => Promise<RunResult>;

/** The least RAM the shifted run adds: enough to move the linear map's top, the slab pages and the vmalloc area. */
export const SHIFT_MEM = 8 << 20;
/** The shifted run adds SHIFT_MEM plus 0 to SHIFT_MEM_STEPS - 1 MiB more, and another driver holds 1 to OTHER_VMALLOC_MAX pages of vmalloc. */
export const SHIFT_MEM_STEPS = 57;
export const OTHER_VMALLOC_MAX = 1024;

/**
 * The shifted run's machine for this submission, drawn from its text (textRandom): SHIFT_MEM to SHIFT_MEM + 56 MiB more
 * RAM (whole MiB, as a machine has), which moves the linear map's top, the page allocator's and the slabs' pages and
 * (in 8 MiB steps on 32-bit) VMALLOC_START; and another driver's vmalloc buffer of 1 to 1024 pages taken before insmod,
 * which moves the module's vmalloc areas within the area. The same text always gets the same machine (a grade is
 * repeatable); another text gets another: addresses copied from the grader's report of one submission's second run
 * (written in, obfuscated, and picked by checking which run the module is in) are not those of the next submission's,
 * and neither is VMALLOC_START plus an offset seen in a run.
 */
export function shiftFor(source: string, secret = ""): { extraMem: number; otherVmallocPages: number } {
  const next = textRandom(source, salted(secret, "shifted-run\0"));
  return { extraMem: SHIFT_MEM + (next() % SHIFT_MEM_STEPS) * (1 << 20), otherVmallocPages: 1 + (next() % OTHER_VMALLOC_MAX) };
}
/** RAM of the "high-memory-run": enough that the zone the allocators serve GFP_KERNEL from lies above 4 GiB. */
export const HIGH_MEM = 6 * 2 ** 30;
/** How long the "other-loaded-time" run keeps the module loaded while its threads live, in simulated ms (not 5000). */
export const OTHER_LOADED_MS = 3000;
export const FAULT_RUNS_ALL = 16;
export const FAULT_RUNS_FIRST = 8;
export const FAULT_RUNS_SPREAD = 8;
/**
 * The most kernel calls of module_init that allocate (FaultSite.entry: each pass of a loop is one) the grader fails
 * one by one, a run each: a module making more fails handles-allocation-failure, whose message says so. Each call
 * costs a run (3-20 ms of CPU on a debug kernel, the later the more), so this bounds what one submission costs: at
 * most FAULT_RUNS_MAX fail-nth runs. object-cache's reference makes 100 (its 100 objects).
 */
export const FAULT_CALLS_MAX = 128;
/** At most this many fail-nth runs: the first, the spread and one per call of the module (chooseSites). */
export const FAULT_RUNS_MAX = FAULT_RUNS_FIRST + FAULT_RUNS_SPREAD + FAULT_CALLS_MAX;
/** The busy run's windows start before this (ms after insmod), so that the last ends well before rmmod at 5 s. */
export const BUSY_BEFORE_MS = 4000;

/**
 * The busy run's windows (ms after insmod) in which another task holds the CPU: each 600 to 899 ms (under the RT
 * throttling's 950 ms a second that a real-time task gets), 150 to 399 ms apart, from 200 to 499 ms on, starting
 * before BUSY_BEFORE_MS. A window of L ms holds back at least one wake-up of a thread that wakes every 504 ms
 * (msleep(500) at HZ=250) by L - 504 ms or more, so over 5 s such a thread counts 3 to 6 fewer times than on an idle
 * machine (test/grader/busy.test.ts), while the time loaded stays 5 s. Seeded from the text (FNV-1a, then xorshift32).
 */
export function busyWindows(source: string, secret = ""): { atMs: number; ms: number }[] {
  const next = textRandom(source, salted(secret, ""));
  const out: { atMs: number; ms: number }[] = [];
  for (let at = 200 + (next() % 300); at < BUSY_BEFORE_MS;) {
    const ms = 600 + (next() % 300);
    out.push({ atMs: at, ms });
    at += ms + 150 + (next() % 250);
  }
  return out;
}

/**
 * The salt of a draw from the text: `what` alone (the notebook, and `kmodlab grade` without KMODLAB_GRADE_SECRET), or an
 * instructor's secret before it. Everything the grader draws from a text (shiftFor, busyWindows, otherWritesFor, the
 * other-cmdline run's buffer) is computable by anyone who runs the grader's own code on that text; with a secret the
 * learners do not have, it is not, and the same text still gets the same machine (a grade stays repeatable).
 */
export const salted = (secret: string, what: string): string => (secret ? `${secret}\0${what}` : what);

/** Numbers drawn from a submission's text (FNV-1a, then xorshift32): the same text always gets the same ones. */
export function textRandom(source: string, salt = ""): () => number {
  let h = 0x811c9dc5;
  const text = salt + source;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  h ||= 1;
  return () => {
    h ^= h << 13;
    h >>>= 0;
    h ^= h >>> 17;
    h ^= h << 5;
    h >>>= 0;
    return h;
  };
}

/** The exercise's other writes for this submission: `seeded` ones get values and `pick` drawn from its text. */
export function otherWritesFor(writes: NonNullable<RunSettings["otherWrites"]>, source: string, secret = ""): MemoryProbe[] {
  const next = textRandom(source, salted(secret, "other-writer\0"));
  return writes.map(({ seeded, ...p }) =>
    seeded ? { ...p, ...(p.write ? { write: p.write.map(() => 16 + (next() % 240)) } : {}), ...(p.pick !== undefined ? { pick: next() } : {}) } : p,
  );
}

/** fail-nth beyond any module's reach: the counting run's value (an unsigned int, as /proc/PID/fail-nth takes). */
const FAIL_NTH_NEVER = 0xffffffff;

/** The fault sites module_init hit (should_fail() calls of the insmod task), when the run counted them. */
export function faultSitesOf(r: RunResult): number | undefined {
  const f = (r as { faultInjection?: { insmodCalls?: unknown } }).faultInjection;
  return typeof f?.insmodCalls === "number" ? f.insmodCalls : undefined;
}

/** A listed site's module call (FaultSite.entry; its place where the kernel gave no entry). */
const callKey = (x: { entry?: number; where?: string }): number | string => x.entry ?? x.where ?? "";

/**
 * The sites to fail, 1-based: all of them up to FAULT_RUNS_ALL; else the first few, an even spread to the last, and
 * the first site of each of the module's kernel calls the counting run listed (`listed`: RunResult.faultInjection.sites,
 * each with its FaultSite.entry), so that an allocation made once among many others (a module padded with throwaway
 * allocations, a check skipped on one pass of a loop) is failed too. At most FAULT_RUNS_MAX runs: with more than
 * FAULT_CALLS_MAX calls (which extraRuns never asks for: the check fails first, callsOfInit) an even spread over them.
 */
export function chooseSites(sites: number, listed: readonly { call: number; where?: string; entry?: number }[] = []): number[] {
  if (sites <= FAULT_RUNS_ALL) return Array.from({ length: sites }, (_, i) => i + 1);
  const out = new Set<number>(Array.from({ length: FAULT_RUNS_FIRST }, (_, i) => i + 1));
  for (let j = 1; j <= FAULT_RUNS_SPREAD; j++) out.add(FAULT_RUNS_FIRST + Math.round(((sites - FAULT_RUNS_FIRST) * j) / FAULT_RUNS_SPREAD));
  const covered = new Set(listed.filter((x) => out.has(x.call)).map(callKey));
  const firsts: number[] = []; // the first site of each call not covered yet, in order
  for (const x of listed) {
    const key = callKey(x);
    if (covered.has(key) || x.call > sites) continue;
    covered.add(key);
    firsts.push(x.call);
  }
  // more calls than runs left: an even spread over them, the first and the last included
  const room = Math.max(0, FAULT_RUNS_MAX - out.size);
  if (firsts.length <= room) for (const n of firsts) out.add(n);
  else for (const x of evenSpread(firsts, room)) out.add(x);
  return [...out].sort((a, b) => a - b);
}

/** `count` of `items` (count < items.length), evenly spread over them, the first and (count > 1) the last included. */
function evenSpread<T>(items: readonly T[], count: number): T[] {
  return Array.from({ length: count }, (_, j) => items[count === 1 ? 0 : Math.round(((items.length - 1) * j) / (count - 1))]!);
}

/** How many of the module's kernel calls (FaultSite.entry) module_init's sites came from: listed and unlisted. */
export function callsOfInit(listed: readonly { where?: string; entry?: number }[], unlisted = 0): number {
  return new Set(listed.map(callKey)).size + unlisted;
}

/** Module calls the counting run's list had no room for (RunResult.faultInjection.unlistedCalls). */
export function unlistedCallsOf(r: RunResult): number {
  const n = (r as { faultInjection?: { unlistedCalls?: unknown } }).faultInjection?.unlistedCalls;
  return typeof n === "number" ? n : 0;
}

/** The sites a counting run listed (RunResult.faultInjection.sites): each call's index, place and module call. */
export function listedSitesOf(r: RunResult): { call: number; where?: string; entry?: number }[] {
  const f = (r as { faultInjection?: { sites?: unknown } }).faultInjection;
  return Array.isArray(f?.sites) ? (f!.sites as { call: number; where?: string; entry?: number }[]) : [];
}

/** Why this machine has no fail-nth (Linux 4.13+), or no fault injection at all (CONFIG_FAULT_INJECTION). */
export function faultInjectionUnavailable(s: RunSettings): { failNth?: string; any?: string } {
  const p = getProfile(s.profile);
  if ((s.config ?? "debug") !== "debug") {
    const any = "this exercise's machine is the distribution kernel, which has no CONFIG_FAULT_INJECTION: its failure paths cannot be tested";
    return { failNth: any, any };
  }
  return p.era === "6.1" ? {} : { failNth: `Linux ${p.era} has no fail-nth (it arrived in 4.13)` };
}

/** The knobs that make the Nth call of one attribute (after boot) fail once: interval N, probability 100, times 1. */
function nthCallKnobs(attr: "failslab" | "fail_page_alloc", n: number): Record<string, Record<string, string | number>> {
  const common = { interval: n, probability: 100, times: 1, "ignore-gfp-wait": "N" };
  return { [attr]: attr === "fail_page_alloc" ? { ...common, "ignore-gfp-highmem": "N", "min-order": 0 } : common };
}

/** The attribute interval that counts and never fails (src/kernel/debug/fault_inject.ts COUNT_ONLY_INTERVAL; not imported: the grader loads no kernel code). */
const COUNT_ONLY_INTERVAL = 0xffffffff;

/** Both attributes counting every call and failing none (COUNT_ONLY_INTERVAL): the run lists each module call's first. */
function countingKnobs(): Record<string, Record<string, string | number>> {
  const common = { interval: COUNT_ONLY_INTERVAL, probability: 100, times: 1, "ignore-gfp-wait": "N" };
  return { failslab: common, fail_page_alloc: { ...common, "ignore-gfp-highmem": "N", "min-order": 0 } };
}

/** A counting run's attribute calls (RunResult.faultInjection.attrCalls): one per module call, each with its N. */
export function attrCallsOf(r: RunResult): Partial<Record<"failslab" | "fail_page_alloc", { calls: { n: number; comm: string; inTask: boolean }[] }>> {
  const f = (r as { faultInjection?: { attrCalls?: unknown } }).faultInjection;
  return (f?.attrCalls ?? {}) as Partial<Record<"failslab" | "fail_page_alloc", { calls: { n: number; comm: string; inTask: boolean }[] }>>;
}

/** Faults the kernel injected in a run (RunResult.faultInjection.injected). */
export function injectedOf(r: RunResult): { attr: string; by: string; call: number; caller?: string }[] {
  const f = (r as { faultInjection?: { injected?: unknown } }).faultInjection;
  return Array.isArray(f?.injected) ? (f!.injected as { attr: string; by: string; call: number; caller?: string }[]) : [];
}

const nth = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th")}`;

/**
 * The extra runs the exercise's checks need (none when no check asks).
 * Fault injection has two series, both the kernel's own framework (src/kernel/debug/fault_inject.ts):
 * - fail-nth (6.1): module_init's fault sites are counted in a run with fail-nth out of reach, then each chosen
 *   site n fails in a run of its own (fail-nth = n; the kernel's recipe makes every allocation a site).
 * - attributes: when the module allocates outside module_init (an interrupt handler, a timer, a work item: fail-nth
 *   is the insmod task's only), or on an era without fail-nth, the Nth failslab call and the Nth fail_page_alloc call
 *   after boot fail once (interval N, probability 100, times 1), for N = 1, 2, ... until a run injects nothing or
 *   FAULT_RUNS_FIRST runs were made per attribute; and when the module allocates outside module_init, or on an era
 *   without fail-nth, a counting run (interval COUNT_ONLY_INTERVAL) lists each of the module's kernel calls (outside
 *   module_init's task where fail-nth covers it) with the N of its first attribute call, and each is failed (at most
 *   FAULT_CALLS_MAX per attribute, an even spread past that: a find-the-hole searching linearly, 200 vmalloc probes,
 *   costs 128 runs, ~14 s of CPU).
 * A run that already fails a check reading these runs (Check.failsOnFaultRun) ends both series.
 */
export async function extraRuns(ex: Exercise, source: string, run: Runner, clean?: RunResult, secret = ""): Promise<ExtraRuns> {
  const needs = new Set(ex.checks.flatMap((c) => c.needs ?? []));
  const out: ExtraRuns = { unavailable: {} };
  // A submission that does not compile or was stopped is judged on its one run.
  if (clean && (stoppedReason(clean) || clean.reports.some((r) => r.kind === "compile-error"))) return out;
  const base = runOptionsFor(ex.settings);
  if (needs.has("shifted-run")) {
    const shift = shiftFor(source, secret);
    const mem = (ex.settings.mem ?? getProfile(ex.settings.profile).defaultMem) + shift.extraMem;
    const result = await run(source, { ...base, mem, otherVmallocPages: shift.otherVmallocPages });
    out.shifted = { result, records: allocations(result), mem, otherVmallocPages: shift.otherVmallocPages };
  }
  if (needs.has("other-loaded-time")) {
    const result = await run(source, { ...base, loadedMs: OTHER_LOADED_MS, views: false });
    out.otherLoaded = { result, records: allocations(result), loadedMs: OTHER_LOADED_MS };
  }
  if (needs.has("busy-run")) {
    const windows = busyWindows(source, secret);
    const result = await run(source, { ...base, busy: windows, views: false });
    out.busy = { result, records: allocations(result), windows };
  }
  if (needs.has("other-writer")) {
    const writes = ex.settings.otherWrites;
    if (!writes?.length) out.unavailable!["other-writer"] = "the exercise names no other writes (settings.otherWrites)";
    else {
      const result = await run(source, { ...base, probes: [...(base.probes ?? []), ...otherWritesFor(writes, source, secret)], views: false });
      out.otherWriter = { result, records: allocations(result) };
    }
  }
  if (needs.has("high-memory-run")) {
    const result = await run(source, { ...base, mem: HIGH_MEM, views: false });
    out.highMem = { result, records: allocations(result), mem: HIGH_MEM };
  }
  if (needs.has("other-cmdline")) {
    const cmdline = ex.settings.otherCmdline;
    if (cmdline === undefined) out.unavailable!["other-cmdline"] = "the exercise names no second command line (settings.otherCmdline)";
    else {
      const held = ex.settings.otherCmdlineVmalloc;
      const otherVmallocPages = held
        ? held.minPages + (textRandom(source, salted(secret, "other-cmdline\0"))() % (held.maxPages - held.minPages + 1))
        : undefined;
      const result = await run(source, { ...base, cmdline, otherVmallocPages });
      out.otherCmdline = { result, records: allocations(result), cmdline, otherVmallocPages };
    }
  }
  if (needs.has("fault-injection")) {
    const why = faultInjectionUnavailable(ex.settings);
    if (why.any) {
      out.unavailable!["fault-injection"] = why.any;
      return out;
    }
    const faults: NonNullable<ExtraRuns["faults"]> = { sites: 0, runs: [] };
    // A run that already fails a check reading these runs ends the series (the check reports the first failing run
    // in order: the verdict and its message are the same), so a wrong submission costs a few runs, not one per call.
    const judges = ex.checks.filter((ch) => ch.failsOnFaultRun);
    const cleanCtx: CheckContext | undefined =
      clean && judges.length ? { result: clean, source, exercise: ex, records: allocations(clean), runs: out } : undefined;
    const failsHere = (run: (typeof faults.runs)[number]): boolean => {
      faults.runs.push(run);
      return !!cleanCtx && judges.some((ch) => ch.failsOnFaultRun!(cleanCtx, faults, run));
    };
    // The fault check reads the runs' reports, init return, call log and faultInjection, never the memory views
    // (RunResult.kernel's frame map, zones...): left out, they cost each of these runs a millisecond and their transfer.
    const fbase: RunOptions = { ...base, views: false };
    let outsideInit = true;
    if (!why.failNth) {
      const counted = await run(source, { ...fbase, failNth: FAIL_NTH_NEVER });
      const sites = faultSitesOf(counted);
      if (sites === undefined) {
        out.unavailable!["fault-injection"] = "the kernel did not count the module's fault sites (RunResult.faultInjection is missing)";
        return out;
      }
      faults.sites = sites;
      faults.counted = { result: counted, records: allocations(counted) };
      const listed = listedSitesOf(counted);
      const calls = callsOfInit(listed, unlistedCallsOf(counted));
      // more calls than the grader fails one by one: the check fails on that (its message says the limit), no run
      if (sites > FAULT_RUNS_ALL && calls > FAULT_CALLS_MAX) {
        out.faults = { ...faults, calls };
        return out;
      }
      for (const n of chooseSites(sites, listed)) {
        const result = await run(source, { ...fbase, failNth: n });
        if (failsHere({ label: `the ${nth(n)} of module_init's ${sites} fault sites`, nth: n, result, records: allocations(result) })) {
          out.faults = faults;
          return out;
        }
      }
      const recs = faults.counted.records ?? (clean ? allocations(clean) : undefined);
      outsideInit = !!recs && (recs.allocs.some((a) => a.phase !== "init") || recs.failed.some((f) => f.phase !== "init"));
    }
    if (outsideInit) {
      const attrRun = async (attr: "failslab" | "fail_page_alloc", n: number): Promise<"none" | "failed" | "ok"> => {
        const result = await run(source, { ...fbase, faultAttrs: nthCallKnobs(attr, n) });
        const injected = injectedOf(result);
        if (!injected.length) return "none";
        // With fail-nth available, module_init's sites are covered already: keep the runs that failed something later.
        const f = injected[0];
        const label = `the ${nth(n)} ${attr} call after boot${f.caller ? ` (in ${f.caller})` : ""}`;
        return failsHere({ label, attr, nth: n, result, records: allocations(result) }) ? "failed" : "ok";
      };
      const done = { failslab: new Set<number>(), fail_page_alloc: new Set<number>() };
      for (const attr of ["failslab", "fail_page_alloc"] as const) {
        for (let n = 1; n <= FAULT_RUNS_FIRST; n++) {
          const v = await attrRun(attr, n);
          if (v === "none") break;
          done[attr].add(n);
          if (v === "failed") {
            out.faults = faults;
            return out;
          }
        }
      }
      // Each of the module's kernel calls made outside module_init's task (an interrupt handler, a timer, a work item,
      // module_exit) fails too, whatever came before it: a counting run lists each call's first attribute call
      // (COUNT_ONLY_INTERVAL), so that eight throwaway allocations in init do not hide the handler's.
      // Without fail-nth (2.6, 3.4) module_init's own calls are listed and failed the same way.
      const recs = faults.counted?.records ?? (clean ? allocations(clean) : undefined);
      const noNth = !!why.failNth;
      const elsewhere = !!recs && (recs.allocs.some((a) => a.phase !== "init") || recs.failed.some((f) => f.phase !== "init"));
      if (elsewhere || noNth) {
        const counting = await run(source, { ...fbase, faultAttrs: countingKnobs() });
        const lists = attrCallsOf(counting);
        for (const attr of ["failslab", "fail_page_alloc"] as const) {
          const ns = [...new Set((lists[attr]?.calls ?? []).filter((x) => noNth || !(x.comm === "insmod" && x.inTask)).map((x) => x.n))].filter(
            (n) => !done[attr].has(n),
          );
          // more calls than runs: an even spread over them, the first and the last included
          const pick = ns.length <= FAULT_CALLS_MAX ? ns : evenSpread(ns, FAULT_CALLS_MAX);
          for (const n of pick) {
            if ((await attrRun(attr, n)) === "failed") {
              out.faults = faults;
              return out;
            }
          }
        }
      }
    }
    out.faults = faults;
  }
  return out;
}

/** Run the submission (and the extra runs its checks need) with `run`, and judge it. */
export async function gradeWith(ex: Exercise, source: string, run: Runner, file?: string, secret = ""): Promise<GradeResult> {
  const result = await run(source, runOptionsFor(ex.settings));
  const extra = await extraRuns(ex, source, run, result, secret);
  return judge(ex, result, source, file, extra);
}

const LIMIT_WORDS: Record<string, string> = { cpu: "CPU", memory: "memory", stack: "stack", "kernel-calls": "kernel-call", log: "log" };

/**
 * Why a run cannot be graded, if it cannot: a limit stopped it (the sandbox's own, or the host's when it ended the
 * worker: "stopped: CPU limit ..."), or the run's worker failed ("the grader failed on this submission: ...").
 * Such a run scores zero with that reason. A hang the kernel models (a timeout without a limit) is graded as usual.
 */
export function stoppedReason(result: RunResult): string | undefined {
  for (const r of result.reports) {
    if (r.limit) {
      const host = /^kmodlab: stopped by the host: \S+ limit \((.*)\)$/.exec(r.title);
      return `stopped: ${LIMIT_WORDS[r.limit] ?? r.limit} limit (${host ? `${host[1]}; the host ended the run` : r.title.replace(/^kmodlab:? /, "")})`;
    }
    if (/^kmodlab: the run's worker failed: /.test(r.title))
      return `the grader failed on this submission: ${r.title.replace(/^kmodlab: the run's worker failed: /, "")}`;
  }
  return undefined;
}

/**
 * Whether a run's outcome is the kernel's alone, so that the same source with the same options gives the same
 * RunResult again (the kernel is deterministic: DESIGN.md). Not so for a run the wall clock or the host stopped (the
 * CPU limit, the host's own stop, the host's stack running out first), one the guest memory limit stopped (it counts the growth of the WebAssembly memory,
 * whose free space at the start depends on the runs before: quickjs.ts), or one whose worker failed.
 */
export function repeatableRun(result: RunResult): boolean {
  return !result.reports.some(
    (r) =>
      r.limit === "cpu" ||
      r.limit === "memory" ||
      /the host's stack ran out/.test(r.title) ||
      /^kmodlab:? (stopped by the host|the run's worker failed|internal error)/.test(r.title),
  );
}

/** Judge a finished run. Never throws: a check that throws fails with the error as its detail. */
export function judge(ex: Exercise, result: RunResult, source: string, file?: string, runs?: ExtraRuns): GradeResult {
  const stopped = stoppedReason(result);
  if (stopped)
    return { ...unrunnable(ex, stopped, file), dmesg: result.dmesg, reports: result.reports.map((r) => ({ kind: r.kind, title: r.title, line: r.line })) };
  const ctx: CheckContext = { result, source, exercise: ex, records: allocations(result), runs };
  const compileError = result.reports.find((r) => r.kind === "compile-error");
  const checks: CheckResult[] = ex.checks.map((ch) => {
    const points = ch.points ?? 1;
    // A module that does not compile never ran: only `loads` speaks (about the compile error); the rest were not checked.
    if (compileError && ch.id !== "loads")
      return { id: ch.id, message: ch.message, hint: ch.hint, pass: false, detail: "not checked: the module does not compile", points, score: 0 };
    let pass = false;
    let detail: string | undefined;
    let hint = ch.hint;
    try {
      const o = ch.run(ctx);
      pass = o.pass === true;
      detail = o.detail;
      hint = o.hint ?? ch.hint;
    } catch (e) {
      detail = `the check itself failed: ${(e as Error)?.message ?? e}`;
    }
    return { id: ch.id, message: ch.message, hint, pass, detail, points, score: pass ? points : 0 };
  });
  const score = checks.reduce((s, c) => s + c.score, 0);
  const maxScore = checks.reduce((s, c) => s + c.points, 0);
  const firstFail = checks.find((c) => !c.pass);
  return {
    exercise: ex.id,
    statement: ex.statement,
    file,
    passed: !firstFail,
    score,
    maxScore,
    checks,
    firstHint: firstFail?.hint,
    dmesg: result.dmesg,
    reports: result.reports.map((r) => ({ kind: r.kind, title: r.title, line: r.line })),
  };
}

/** Run the submission on a fresh kernel and judge it. */
export async function gradeSource(ex: Exercise, source: string, file?: string): Promise<GradeResult> {
  const { runModule } = await import("../../sandbox/run.ts");
  return gradeWith(ex, source, (src, o) => runModule(src, o), file);
}

/** A GradeResult for a submission that could not be run (unreadable file): every check failed. */
export function unrunnable(ex: Exercise, error: string, file?: string): GradeResult {
  const checks: CheckResult[] = ex.checks.map((ch) => ({
    id: ch.id,
    message: ch.message,
    hint: ch.hint,
    pass: false,
    detail: error,
    points: ch.points ?? 1,
    score: 0,
  }));
  return { exercise: ex.id, file, passed: false, score: 0, maxScore: checks.reduce((s, c) => s + c.points, 0), checks, firstHint: checks[0]?.hint, error };
}
