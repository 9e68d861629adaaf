// Models lib/fault-inject.c, mm/failslab.c and the fail_page_alloc part of mm/page_alloc.c of Linux 6.1 (6.1.y:
// should_fail_ex() with FAULT_NOWARN, backported to 6.1 stable), and of 3.4 / 2.6.26 where they differ, as
// Documentation/fault-injection/fault-injection.rst describes them.
//
// Two fault attributes, each a struct fault_attr with FAULT_ATTR_INITIALIZER's defaults (probability 0, interval 1,
// times 1, space 0, verbose 2, task-filter off):
// - failslab (should_failslab(), called by slab_pre_alloc_hook in SLUB / __cache_alloc in 2.6's SLAB): never for
//   __GFP_NOFAIL; with ignore-gfp-wait (default Y) never for an allocation that may sleep (6.1:
//   __GFP_DIRECT_RECLAIM, so GFP_KERNEL is skipped and GFP_ATOMIC is not; 2.6/3.4: __GFP_WAIT); size = the cache's
//   object size.
// - fail_page_alloc (should_fail_alloc_page(), from prepare_alloc_pages() in 6.1 / the top of __alloc_pages_nodemask
//   and __alloc_pages_internal before): never below min-order (default 1), never for __GFP_NOFAIL, with
//   ignore-gfp-highmem (default Y) never for __GFP_HIGHMEM, with ignore-gfp-wait (default Y) never for an
//   allocation that may sleep; size = 1 << order pages. An injected failure returns NULL before the allocator does
//   any work: no warn_alloc ("page allocation failure"), no slab_out_of_memory.
// - should_fail(): 6.1 first consumes the task's fail-nth (in task context only: the Nth call fails whatever the
//   attribute's probability, times or interval say), then returns false at once when probability is 0; then
//   times (0: never again), space (the first `space` bytes/pages are let through), interval (every Nth call),
//   probability (`probability <= prandom_u32_max(100)`: 6.1; `random32() % 100`: 2.6/3.4). A failure prints
//   fail_dump() unless __GFP_NOWARN (6.1), and decrements times unless it is -1.
// - fail_dump(): 6.1 KERN_NOTICE "FAULT_INJECTION: forcing a failure.\nname %pd, interval %lu, probability %lu,
//   space %d, times %d\n" (one record, two lines), then dump_stack() when verbose > 1. Before 3.19 (ratelimit and
//   the name line arrived in Dec 2014): "FAULT_INJECTION: forcing a failure\n" (no period) and dump_stack(), and
//   __GFP_NOWARN did not silence it.
// - Boot parameters failslab= and fail_page_alloc= go through setup_fault_attr(): sscanf "%lu,%lu,%d,%d"
//   (<interval>,<probability>,<space>,<times>); fewer than four fields prints KERN_WARNING "FAULT_INJECTION: failed
//   to parse arguments" and leaves the attribute as it was.
// - /proc/<pid>/task/<tid>/fail-nth (4.13+, so 6.1 only): writeFailNth()/readFailNth(); read back 0 means the
//   fault was injected, a positive value that it was not reached.
// - The debugfs files (/sys/kernel/debug/failslab/*, /sys/kernel/debug/fail_page_alloc/*) are setKnob().
//
// CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS are on in the
// debug kernels only (the developer's config); the distribution kernels have none of it (failslab= is then an
// unknown parameter handed to init, and fail-nth does not exist).
//
// Simplifications (stated): the attributes are armed when boot is over (the simulated boot's own allocations never
// fail; the real kernel applies failslab= from the moment __setup parses it, and its boot allocations are mostly
// GFP_KERNEL, which ignore-gfp-wait skips); no stack-trace filter (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER),
// cache-filter or verbose ratelimit; one CPU, so `count` needs no atomics. The kernel's get_random_u32() (a ChaCha
// CRNG in 6.1) is the seeded LFSR113 prandom generator here, seeded from the boot seed: a run is reproducible.
// Page-table pages are never failed (the real ones are call sites too; vmalloc would then say "failed to map
// pages"). vmalloc's vm_struct, vmap_area and page array are call sites although the simulator does not charge
// them to the slab allocator (mm/vmalloc.ts metaFails). The 6.1 vmap_area preload (preload_this_cpu_lock) is not a
// call site here. The `sites` list keeps a task's first MAX_SITES calls, then the first site of each later kernel
// call of the module (FaultSite.entry), up to MAX_SITES more.

import type { Kernel } from "../kernel.ts";
import type { Era } from "../types.ts";
import { KERN_NOTICE, KERN_WARNING } from "../kernel/printk.ts";
import { formatGfp, gfpAllowsBlocking, gfpFlags } from "../gfp.ts";
import { dump_stack } from "./splat.ts";
import { PrandomState, kaslrRandomLong } from "../arch/x86_64.ts";

export type FaultAttrName = "failslab" | "fail_page_alloc";

/** struct fault_attr, and the per-capability knobs of failslab / fail_page_alloc. */
export interface FaultAttr {
  readonly name: FaultAttrName;
  probability: number;
  interval: number;
  times: number;
  space: number;
  verbose: number;
  /** `task-filter`: only tasks with make-it-fail set (none here, so a filtered attribute never fires). */
  taskFilter: boolean;
  /** Calls that reached the interval check (attr->count). */
  count: number;
  /** failslab/ignore-gfp-wait, fail_page_alloc/ignore-gfp-wait (ignore_gfp_reclaim in 6.1). */
  ignoreGfpWait: boolean;
  /** fail_page_alloc/ignore-gfp-highmem (always false for failslab). */
  ignoreGfpHighmem: boolean;
  /** fail_page_alloc/min-order (0 for failslab). */
  minOrder: number;
}

/** The debugfs file names a run may write, per attribute (values as `echo` would write them). */
export const FAULT_KNOBS: Record<FaultAttrName, readonly string[]> = {
  failslab: ["probability", "interval", "times", "space", "verbose", "task-filter", "ignore-gfp-wait"],
  fail_page_alloc: ["probability", "interval", "times", "space", "verbose", "task-filter", "ignore-gfp-wait", "ignore-gfp-highmem", "min-order"],
};

/** Knob writes: { failslab: { "ignore-gfp-wait": "N" }, fail_page_alloc: { "min-order": 0 } }. */
export type FaultKnobs = Partial<Record<FaultAttrName, Record<string, string | number | boolean>>>;

/** One should_fail() call that returned true. */
export interface InjectedFault {
  attr: FaultAttrName;
  /** What the call allocated, as FaultSite.what ("kmalloc-512", "Slab page", "vmalloc vm_struct"...). */
  what: string;
  /** Object size (failslab) or pages (fail_page_alloc), as passed to should_fail(). */
  size: number;
  gfp: number;
  order?: number;
  pid: number;
  comm: string;
  /** "fail-nth" when the task's fail-nth fired, "attr" when interval/probability did. */
  by: "fail-nth" | "attr";
  /** The 1-based index of this should_fail() call among the task's calls. */
  call: number;
  /** The module function the allocation is charged to. */
  caller?: string;
}

/** One should_fail() call of a task: what was being allocated (RunResult.faultInjection.sites). */
export interface FaultSite {
  /** The 1-based index among the task's should_fail() calls: the N that fail-nth would fail. */
  call: number;
  attr: FaultAttrName;
  /** What the call allocates: "kmalloc-64", "my_cache" (a slab object), "Slab page", "Vmalloc page", "Module page"... */
  what: string;
  size: number;
  order?: number;
  gfp: number;
  caller?: string;
  /**
   * Where in the module's code the allocation was made: its frames, innermost first, as "fn:line:column" joined by
   * "<" (a recursion's repeated frames once); "" outside the module's code.
   */
  where?: string;
  /**
   * The module's kernel call the site was reached in (Kernel.moduleCallNumber): the sites of one call (a vzalloc's
   * page allocations) share it, each pass of a loop has its own. The grader fails the first site of each.
   */
  entry?: number;
}

/**
 * An attribute's interval that counts its calls and never fails one (the count never reaches it): a counting run for
 * the attributes, which lists the first call in each of the module's kernel calls (RunResult.faultInjection.attrCalls)
 * with its count N, the interval that fails it in a run of its own.
 */
export const COUNT_ONLY_INTERVAL = 0xffffffff;

/** One of the module's kernel calls as an attribute's counting run saw it: its first call of the attribute. */
export interface AttrCall {
  /** The attribute's count at that call: interval n (probability 100, times 1) fails it. */
  n: number;
  /** Kernel.moduleCallNumber: the module's call. */
  entry: number;
  pid: number;
  comm: string;
  /** Task context (not an interrupt or softirq): fail-nth reaches only these. */
  inTask: boolean;
  what: string;
  caller?: string;
}

/**
 * How many calls per task FaultInjection.sitesOf keeps (a vmalloc of a gigabyte is 2,600 calls in bulk): the first
 * MAX_SITES, and after them the first site of each later kernel call of the module (FaultSite.entry), up to MAX_SITES
 * more: a call made only late (after a vmalloc of thousands of pages) is listed too.
 */
export const MAX_SITES = 512;

/** FAULT_ATTR_INITIALIZER plus the capability's own defaults (mm/failslab.c, mm/page_alloc.c). */
function newAttr(name: FaultAttrName): FaultAttr {
  return {
    name,
    probability: 0,
    interval: 1,
    times: 1,
    space: 0,
    verbose: 2,
    taskFilter: false,
    count: 0,
    ignoreGfpWait: true,
    ignoreGfpHighmem: name === "fail_page_alloc",
    minOrder: name === "fail_page_alloc" ? 1 : 0,
  };
}

export class FaultInjectionError extends Error {}

/**
 * The kernel's sscanf(str, "%lu,%lu,%d,%d") (lib/vsprintf.c vsscanf): each conversion skips white space and takes
 * decimal digits, %d also a leading '-' (no '+': vsscanf accepts only '-', and only for signed conversions); a
 * literal ',' must follow at once. Returns the values converted before the first mismatch; %lu wraps to unsigned
 * long, %d to int.
 */
export function scanFaultAttr(str: string, longBits: number): number[] {
  const out: number[] = [];
  let i = 0;
  for (let field = 0; field < 4; field++) {
    if (field > 0) {
      if (str[i] !== ",") break;
      i++;
    }
    while (i < str.length && /\s/.test(str[i]!)) i++;
    const m = (field < 2 ? /^\d+/ : /^-?\d+/).exec(str.slice(i));
    if (!m) break;
    i += m[0].length;
    const v = BigInt(m[0]);
    const bits = field < 2 ? longBits : 32;
    // unsigned long for interval/probability, int for space/times (simple_strtol then the cast).
    out.push(field < 2 ? Number(BigInt.asUintN(bits, v)) : Number(BigInt.asIntN(bits, v)));
  }
  return out;
}

export class FaultInjection {
  /** CONFIG_FAULT_INJECTION (+ FAILSLAB, FAIL_PAGE_ALLOC, DEBUG_FS): the debug kernels. */
  readonly available: boolean;
  readonly failslab: FaultAttr = newAttr("failslab");
  readonly failPageAlloc: FaultAttr = newAttr("fail_page_alloc");
  /** Off during boot; on from the end of start_kernel (see the header). */
  armed = false;
  /** Every fault injected, in order. */
  readonly injected: InjectedFault[] = [];
  /** should_fail() calls per pid (every attribute). */
  readonly calls = new Map<number, number>();
  /** The first MAX_SITES should_fail() calls per pid, then the first of each later module call (MAX_SITES above). */
  private readonly sites = new Map<number, FaultSite[]>();
  /** The module call (FaultSite.entry) of each pid's last should_fail() call while its fail-nth was pending. */
  private readonly lastEntry = new Map<number, number>();
  /** Module calls of each pid whose first site the full `sites` list had no room for. */
  private readonly unlisted = new Map<number, number>();
  /** A counting run's attribute calls, one per module call (listAttrCall), and the module call last listed. */
  private readonly attrCalls: Partial<Record<FaultAttrName, AttrCall[]>> = {};
  private readonly attrUnlisted: Partial<Record<FaultAttrName, number>> = {};
  private readonly lastAttrEntry: Partial<Record<FaultAttrName, number>> = {};
  /** moduleWhere's last frames and their key: the sandbox shares one frozen frame object per place among its calls. */
  private lastFrames: readonly unknown[] = [];
  private lastWhere = "";
  private readonly failNth = new Map<number, number>();
  private rng: PrandomState;
  private readonly era: Era;
  private readonly k: Kernel;
  private readonly g: Readonly<Record<string, number>>;

  constructor(k: Kernel) {
    this.k = k;
    this.era = k.profile.era;
    this.g = gfpFlags(this.era);
    this.available = k.opts.config === "debug";
    this.rng = new PrandomState(kaslrRandomLong(k.opts.seed ?? 0) ^ 0x6661756c74n);
  }

  /** The module's frames now as FaultSite.where writes them. */
  private moduleWhere(k: Kernel): string {
    const frames = k.captureModuleStack();
    if (!frames.length) return "";
    if (frames.length === this.lastFrames.length && frames.every((f, i) => f === this.lastFrames[i])) return this.lastWhere;
    const keys: string[] = [];
    for (const f of frames) {
      const key = `${f.fn}:${f.line ?? "?"}:${f.column ?? "?"}`;
      if (!keys.includes(key)) keys.push(key);
    }
    this.lastFrames = frames;
    this.lastWhere = keys.join("<");
    return this.lastWhere;
  }

  /** The __setup("failslab=") and __setup("fail_page_alloc=") handlers, in command-line order (parse_args()). */
  parseBootParams(): void {
    if (!this.available) return;
    for (const [key, attr] of [
      ["failslab", this.failslab],
      ["fail_page_alloc", this.failPageAlloc],
    ] as const) {
      const v = this.k.params.get(key);
      // obsolete_checksetup() matches "failslab=" with its '=': a bare "failslab" is not this parameter.
      if (v === undefined || v === true) continue;
      this.setup_fault_attr(attr, v);
    }
  }

  /** setup_fault_attr(): "<interval>,<probability>,<space>,<times>"; returns 1 on success, 0 (and a warning) otherwise. */
  setup_fault_attr(attr: FaultAttr, str: string): number {
    const v = scanFaultAttr(str, this.k.layout?.bits ?? (this.k.profile.arch === "x86_64" || this.k.profile.arch === "arm64" ? 64 : 32));
    if (v.length < 4) {
      this.k.printk(KERN_WARNING + "FAULT_INJECTION: failed to parse arguments\n");
      return 0;
    }
    attr.interval = v[0]!;
    attr.probability = v[1]!;
    attr.space = v[2]!;
    attr.times = v[3]!;
    return 1;
  }

  attr(name: FaultAttrName): FaultAttr {
    return name === "failslab" ? this.failslab : this.failPageAlloc;
  }

  /**
   * A write to /sys/kernel/debug/<name>/<knob>. Booleans take Y/N/1/0 (debugfs kstrtobool); numbers are decimal
   * (probability, interval, verbose unsigned long; times, space int; min-order u32). Throws FaultInjectionError
   * naming the file for an unknown knob or a value the kernel would refuse (-EINVAL).
   */
  setKnob(name: FaultAttrName, knob: string, value: string | number | boolean): void {
    const file = `/sys/kernel/debug/${name}/${knob}`;
    if (!this.available)
      throw new FaultInjectionError(
        `${file}: No such file or directory (the ${this.k.opts.config} kernel has no CONFIG_FAULT_INJECTION; use the debug config)`,
      );
    if (!FAULT_KNOBS[name]?.includes(knob)) {
      throw new FaultInjectionError(`${file}: No such file or directory (${name} has: ${(FAULT_KNOBS[name] ?? []).join(", ")})`);
    }
    const a = this.attr(name);
    const bool = (): boolean => {
      if (typeof value === "boolean") return value;
      const s = String(value).trim();
      if (/^[yY1]/.test(s)) return true;
      if (/^[nN0]/.test(s)) return false;
      throw new FaultInjectionError(`${file}: Invalid argument: "${value}" (write Y or N)`);
    };
    const num = (min: number, max: number): number => {
      const s = typeof value === "boolean" ? (value ? "1" : "0") : String(value).trim();
      if (!/^-?\d+$/.test(s)) throw new FaultInjectionError(`${file}: Invalid argument: "${value}" (a decimal number)`);
      const n = Number(s);
      if (!Number.isSafeInteger(n) || n < min || n > max) throw new FaultInjectionError(`${file}: Invalid argument: ${value} (from ${min} to ${max})`);
      return n;
    };
    switch (knob) {
      case "probability":
        a.probability = num(0, Number.MAX_SAFE_INTEGER);
        break;
      case "interval":
        a.interval = num(0, Number.MAX_SAFE_INTEGER);
        break;
      case "verbose":
        a.verbose = num(0, Number.MAX_SAFE_INTEGER);
        break;
      case "times":
        a.times = num(-(2 ** 31), 2 ** 31 - 1);
        break;
      case "space":
        a.space = num(-(2 ** 31), 2 ** 31 - 1);
        break;
      case "min-order":
        a.minOrder = num(0, 2 ** 32 - 1);
        break;
      case "task-filter":
        a.taskFilter = bool();
        break;
      case "ignore-gfp-wait":
        a.ignoreGfpWait = bool();
        break;
      case "ignore-gfp-highmem":
        a.ignoreGfpHighmem = bool();
        break;
    }
  }

  /** Apply a set of knob writes (in object order). */
  setKnobs(knobs: FaultKnobs): void {
    for (const name of Object.keys(knobs) as FaultAttrName[]) {
      if (name !== "failslab" && name !== "fail_page_alloc") {
        throw new FaultInjectionError(`/sys/kernel/debug/${name}: No such file or directory (the attributes are failslab and fail_page_alloc)`);
      }
      for (const [knob, v] of Object.entries(knobs[name] ?? {})) this.setKnob(name, knob, v);
    }
  }

  /** echo N > /proc/<pid>/fail-nth (proc_fail_nth_write: 4.13+; N >= 0; 0 disables). */
  writeFailNth(pid: number, n: number): void {
    if (!this.available) {
      throw new FaultInjectionError(
        `/proc/${pid}/fail-nth: No such file or directory (the ${this.k.opts.config} kernel has no CONFIG_FAULT_INJECTION; use the debug config)`,
      );
    }
    if (this.era !== "6.1") {
      throw new FaultInjectionError(
        `/proc/${pid}/fail-nth: No such file or directory (fail-nth arrived in Linux 4.13; this ${this.era} kernel has only the boot parameters failslab= and fail_page_alloc=: <interval>,<probability>,<space>,<times>)`,
      );
    }
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new FaultInjectionError(`/proc/${pid}/fail-nth: Invalid argument: ${n} (an unsigned int: 0 disables, N fails the Nth call)`);
    this.failNth.set(pid, n);
  }

  /** cat /proc/<pid>/fail-nth: 0 once the fault was injected, else what is left of the count. */
  readFailNth(pid: number): number {
    return this.failNth.get(pid) ?? 0;
  }

  /** should_fail() calls the task made so far. */
  callsOf(pid: number): number {
    return this.calls.get(pid) ?? 0;
  }

  /** The task's first MAX_SITES should_fail() calls, in order, then the first site of each later module call (MAX_SITES). */
  sitesOf(pid: number): readonly FaultSite[] {
    return this.sites.get(pid) ?? [];
  }

  /** How many module calls (FaultSite.entry) with a site sitesOf does not list: its list was full. */
  unlistedCallsOf(pid: number): number {
    return this.unlisted.get(pid) ?? 0;
  }

  /** The run's settings before insmod (configureRunFaults). */
  configureRun(insmodPid: number, o: FaultRunOptions): void {
    configureRunFaults(this.k, insmodPid, o);
  }

  /** Whether a run with these options reports RunResult.faultInjection (faultInjectionUsed). */
  usedBy(o: FaultRunOptions): boolean {
    return faultInjectionUsed(this.k, o);
  }

  /** RunResult.faultInjection (faultSummary). */
  summary(insmodPid: number, o: FaultRunOptions): FaultInjectionResult {
    return faultSummary(this.k, insmodPid, o);
  }

  // ---------------------------------------------------------------- the call sites

  /**
   * should_failslab() (6.1 mm/failslab.c; 3.4 mm/failslab.c; 2.6.26 mm/slab.c): true when this slab allocation must
   * fail. `frames` are the allocator's frames above it, innermost first, for the stack dump.
   */
  should_failslab(objectSize: number, gfp: number, frames: readonly string[], what = "slab object"): boolean {
    if (!this.armed) return false;
    const a = this.failslab;
    if (gfp & this.g.__GFP_NOFAIL!) return false;
    if (a.ignoreGfpWait && gfpAllowsBlocking(this.era, gfp)) return false;
    const top = this.era === "6.1" ? ["should_fail_ex", "should_failslab"] : this.era === "3.4" ? ["should_fail", "should_failslab"] : ["should_fail"];
    return this.should_fail(a, objectSize, gfp, undefined, [...top, ...frames], what);
  }

  /** should_fail_alloc_page(): true when this page allocation must fail (before the allocator does anything). */
  should_fail_alloc_page(gfp: number, order: number, frames: readonly string[], what = "page"): boolean {
    if (!this.armed) return false;
    const a = this.failPageAlloc;
    if (order < a.minOrder) return false;
    if (gfp & this.g.__GFP_NOFAIL!) return false;
    if (a.ignoreGfpHighmem && gfp & this.g.__GFP_HIGHMEM!) return false;
    if (a.ignoreGfpWait && gfpAllowsBlocking(this.era, gfp)) return false;
    const top = this.era === "6.1" ? ["should_fail_ex", "should_fail_alloc_page", "prepare_alloc_pages.constprop.0"] : ["should_fail"];
    return this.should_fail(a, 2 ** order, gfp, order, [...top, ...frames], what);
  }

  /** lib/fault-inject.c should_fail() / should_fail_ex(). */
  should_fail(a: FaultAttr, size: number, gfp: number, order: number | undefined, frames: readonly string[], what: string = a.name): boolean {
    const k = this.k;
    const pid = k.current.pid;
    const call = (this.calls.get(pid) ?? 0) + 1;
    this.calls.set(pid, call);
    let sites = this.sites.get(pid);
    if (!sites) this.sites.set(pid, (sites = []));
    // The places and module calls are read only while the task's fail-nth is pending (the grader's counting run, and a
    // fail-nth run up to its site): a run of the attributes alone (2.6/3.4, deferred work) has no use for them, and
    // reading the module's frames at each of a vmalloc's page allocations cost those runs ~10% of a grade.
    const tracking = this.era === "6.1" && (this.failNth.get(pid) ?? 0) > 0;
    const site = (where?: string, entry?: number): FaultSite => ({ call, attr: a.name, what, size, order, gfp, caller: k.allocCaller?.(), where, entry });
    if (!tracking) {
      if (sites.length < MAX_SITES) sites.push(site());
    } else {
      // Past the first MAX_SITES, the first site of each module call is listed (while the list has room, else counted:
      // unlistedCalls), whatever its place: a call from a loop's line is as much the module's as one from a line of its
      // own, and the grader fails each. The module's frames are read only for a site listed (the sandbox caches them
      // per host call, and moduleWhere keeps the last key for the same frames).
      const entry = k.moduleCallNumber();
      const first = this.lastEntry.get(pid) !== entry;
      this.lastEntry.set(pid, entry);
      if (sites.length < MAX_SITES) sites.push(site(this.moduleWhere(k), entry));
      else if (first) {
        if (sites.length < 2 * MAX_SITES) sites.push(site(this.moduleWhere(k), entry));
        else this.unlisted.set(pid, (this.unlisted.get(pid) ?? 0) + 1);
      }
    }
    const sched = (k as { sched?: { in_task(): boolean } }).sched;
    const inTask = sched ? sched.in_task() : true;
    let by: InjectedFault["by"] = "attr";
    let fire = false;
    if (this.era === "6.1" && inTask && (this.failNth.get(pid) ?? 0) > 0) {
      const left = this.failNth.get(pid)! - 1;
      this.failNth.set(pid, left);
      if (left !== 0) return false;
      by = "fail-nth";
      fire = true;
    }
    if (!fire) {
      // 4.13+: no need to check anything else when the probability is 0.
      if (this.era === "6.1" && a.probability === 0) return false;
      if (a.taskFilter) return false; // fail_task(): no task here has make-it-fail set
      if (a.times === 0) return false;
      if (a.space > size) {
        a.space -= size;
        return false;
      }
      if (a.interval > 1) {
        a.count++;
        if (a.interval === COUNT_ONLY_INTERVAL) this.listAttrCall(a, inTask, what);
        if (a.count % a.interval) return false;
      }
      const r = this.rng.u32();
      // 6.1 prandom_u32_max(100) = (u32)(((u64)r * 100) >> 32); 2.6/3.4 random32() % 100.
      const pick = this.era === "6.1" ? Math.floor((r * 100) / 2 ** 32) : r % 100;
      if (a.probability <= pick) return false;
    }
    // 6.1: FAULT_NOWARN for __GFP_NOWARN; the old eras always dumped.
    if (!(this.era === "6.1" && gfp & this.g.__GFP_NOWARN!)) this.fail_dump(a, frames);
    if (a.times !== -1 && a.times !== 0) a.times--;
    this.injected.push({ attr: a.name, what, size, gfp, order, pid, comm: k.current.comm, by, call, caller: k.allocCaller?.() });
    return true;
  }

  /**
   * A counting run's record (interval COUNT_ONLY_INTERVAL): the first call of the attribute in each of the module's
   * kernel calls (Kernel.moduleCallNumber), with its count, the N that interval N fails. Calls with none of the
   * module's frames on the stack (the kernel's own work between the module's calls) are not listed.
   */
  private listAttrCall(a: FaultAttr, inTask: boolean, what: string): void {
    const k = this.k;
    const entry = k.moduleCallNumber();
    if (this.lastAttrEntry[a.name] === entry) return;
    // In the module's code: its frames are on the stack (moduleEntry names no anonymous module_init or handler). One
    // walk per module call: the entry above skips the call's later sites.
    if (!k.captureModuleStack().length) return;
    this.lastAttrEntry[a.name] = entry;
    const list = (this.attrCalls[a.name] ??= []);
    if (list.length >= 2 * MAX_SITES) this.attrUnlisted[a.name] = (this.attrUnlisted[a.name] ?? 0) + 1;
    else list.push({ n: a.count, entry, pid: k.current.pid, comm: k.current.comm, inTask, what, caller: k.allocCaller?.() });
  }

  /** The counting run's list of the attribute's calls, one per module call (listAttrCall), and how many it had no room for. */
  attrCallsOf(name: FaultAttrName): { calls: readonly AttrCall[]; unlisted: number } {
    return { calls: this.attrCalls[name] ?? [], unlisted: this.attrUnlisted[name] ?? 0 };
  }

  /** fail_dump(): the notice, and the stack when verbose > 1. */
  private fail_dump(a: FaultAttr, frames: readonly string[]): void {
    if (a.verbose <= 0) return;
    const k = this.k;
    if (this.era === "6.1") {
      k.printk(
        KERN_NOTICE + "FAULT_INJECTION: forcing a failure.\nname %s, interval %lu, probability %lu, space %d, times %d\n",
        a.name,
        a.interval,
        a.probability,
        a.space,
        a.times,
      );
    } else {
      k.printk(KERN_NOTICE + "FAULT_INJECTION: forcing a failure\n");
    }
    if (a.verbose > 1) dump_stack(k, frames);
  }
}

// ---------------------------------------------------------------- a run's fault-injection settings

/**
 * What `failNth` writes besides the task's fail-nth, so that every allocation a module makes is a call site: the
 * documentation's fail-nth example does `echo N > /sys/kernel/debug/failslab/ignore-gfp-wait` (GFP_KERNEL is
 * skipped otherwise); the page allocator needs the same, plus ignore-gfp-highmem=N (vmalloc's pages carry
 * __GFP_HIGHMEM) and min-order=0 (order-0 pages are skipped otherwise). These are the five writes of syzkaller's
 * setup_fault() (with fail_futex/ignore-private, not modelled).
 */
export const FAIL_NTH_RECIPE: FaultKnobs = {
  failslab: { "ignore-gfp-wait": "N" },
  fail_page_alloc: { "ignore-gfp-wait": "N", "ignore-gfp-highmem": "N", "min-order": 0 },
};

/** A run's fault-injection request (RunOptions.failNth / faultAttrs). */
export interface FaultRunOptions {
  failNth?: number;
  faultAttrs?: FaultKnobs;
}

/** One injected fault as RunResult carries it (JSON). */
export interface InjectedFaultJson extends InjectedFault {
  /** The gfp mask as %pGg prints it. */
  flags: string;
}

/** RunResult.faultInjection. */
export interface FaultInjectionResult {
  /** The value written to the insmod task's fail-nth, when the run set one. */
  failNth?: number;
  /** `cat /proc/<pid>/fail-nth` after module_init: 0 when the fault was injected, N > 0 when the task made fewer calls. */
  failNthLeft?: number;
  /** should_fail() calls of the insmod task (module_init): with failNth they are the sites n = 1..insmodCalls. */
  insmodCalls: number;
  /** The insmod task's calls, in order (the first MAX_SITES, then each later module call's first): what each allocates, with its %pGg flags. */
  sites: (FaultSite & { flags: string })[];
  /** Module calls of the insmod task with a site (read while fail-nth was pending) that `sites` had no room to list. */
  unlistedCalls?: number;
  /** Every fault injected in the run, in order. */
  injected: InjectedFaultJson[];
  /** A counting run's attribute calls (interval COUNT_ONLY_INTERVAL): one per module call, and those not listed. */
  attrCalls?: Partial<Record<FaultAttrName, { calls: AttrCall[]; unlisted: number }>>;
}

/** Does this run use fault injection (so that RunResult gets its faultInjection part)? */
export function faultInjectionUsed(k: Kernel, o: FaultRunOptions): boolean {
  if (o.failNth !== undefined || o.faultAttrs !== undefined) return true;
  return !!k.fault?.available && (k.params.has("failslab") || k.params.has("fail_page_alloc"));
}

/**
 * What user space does before insmod: the debugfs writes (FAIL_NTH_RECIPE first when failNth is set, then
 * faultAttrs, so a run can override the recipe), then `echo N > /proc/<pid>/fail-nth` for the task that will run
 * module_init. Throws FaultInjectionError with the file and the reason for anything the kernel would refuse.
 */
export function configureRunFaults(k: Kernel, insmodPid: number, o: FaultRunOptions): void {
  if (o.failNth !== undefined) {
    if (!Number.isInteger(o.failNth) || o.failNth < 1) {
      throw new FaultInjectionError(`failNth must be an integer >= 1 (the Nth allocation call of module_init fails); got ${o.failNth}`);
    }
    k.fault.writeFailNth(insmodPid, o.failNth);
    k.fault.setKnobs(FAIL_NTH_RECIPE);
  }
  if (o.faultAttrs) k.fault.setKnobs(o.faultAttrs);
}

/** RunResult.faultInjection for a finished run. */
export function faultSummary(k: Kernel, insmodPid: number, o: FaultRunOptions): FaultInjectionResult {
  const f = k.fault;
  const era = k.profile.era;
  const out: FaultInjectionResult = {
    insmodCalls: f.callsOf(insmodPid),
    sites: f.sitesOf(insmodPid).map((x) => ({ ...x, flags: formatGfp(era, x.gfp) })),
    injected: f.injected.map((x) => ({ ...x, flags: formatGfp(era, x.gfp) })),
  };
  const unlisted = f.unlistedCallsOf(insmodPid);
  if (unlisted) out.unlistedCalls = unlisted;
  for (const name of ["failslab", "fail_page_alloc"] as const) {
    if (f.attr(name).interval !== COUNT_ONLY_INTERVAL) continue;
    const { calls, unlisted: more } = f.attrCallsOf(name);
    (out.attrCalls ??= {})[name] = { calls: [...calls], unlisted: more };
  }
  if (o.failNth !== undefined) {
    out.failNth = o.failNth;
    out.failNthLeft = f.readFailNth(insmodPid);
  }
  return out;
}
