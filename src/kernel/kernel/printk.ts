// Models kernel/printk/printk.c (vprintk_store, printk_parse_prefix, print_time; 6.1) and the 2.6.32/3.4 log
// buffer's line assembly (vprintk / vprintk_emit with the cont buffer), plus include/linux/kern_levels.h.
//
// A record is one dmesg line: { tsNs, level, text }. The timestamp is the simulated clock (local_clock()) when
// the record was started; continuations keep it, as the kernel does. Text with embedded newlines becomes one
// record per line, all with the same timestamp and level (the kernel stores one record and prints each line with
// the same prefix: the same dmesg output).
//
// Continuation, per era:
// - 6.1: only KERN_CONT ("\001c") appends, and only to the last record when it was not ended by a newline and came
//   from the same caller (task pid); otherwise the text starts a new record (since 4.9 a message without KERN_CONT
//   never continues a line).
// - 2.6/3.4: a message with no level prefix (or with KERN_CONT) continues an unterminated line (3.4: of the same
//   task); a level prefix ends it first.
// Levels: a message without one gets default_message_loglevel (4); a continuation keeps its record's level.
//
// Simplifications: printk accepts both the "<N>" (before 3.6) and the "\001N" (3.6+) prefixes in every era (a real
// 6.1 kernel would print a literal "<6>"); console loglevel and the syslog/kmsg forms are not modelled (dmesg shows every
// record); rate limits are the callers' (RatelimitState below, printk_ratelimit()).
//
// Bounds, per era: one printk() formats into a buffer of the era's size and keeps what fits (vscnprintf): 6.1 and
// 3.4 reserve at most LOG_LINE_MAX = 1024 - PREFIX_MAX (32, no CONFIG_PRINTK_CALLER) = 992 bytes, i.e. 991
// characters of formatted text, level prefix and newline included, before both are stripped; 2.6.32 formats into
// printk_buf[1024] (1023 characters). A continuation that would make the record longer than LOG_LINE_MAX starts a
// new record in 6.1 (prb_reserve_in_last() refuses) and 3.4 (cont_add() flushes); 2.6.32's character log has no
// per-line bound. The multi-byte view: the simulator counts JS characters where the kernel counts bytes.
// `budget` lets a caller (the sandbox's log limit) refuse a message before it is stored: vprintk throws
// LogBudgetExceeded and stores nothing.
// printk itself costs no simulated time unless `costNs` is set (the kernel's console output does cost time; the
// simulator leaves the clock to the operations that call it).
//
// The log buffer is a ring of LOG_BUF_LEN = 1 << CONFIG_LOG_BUF_SHIFT bytes (17 on every modelled config: 128 KiB):
// once it is full, each new record overwrites the oldest ones, which dmesg no longer shows. 6.1's printk_ringbuffer
// (printk_ringbuffer.c): a record's data block is ALIGN(sizeof(unsigned long) + text_len, sizeof(unsigned long)); a
// block that would cross the ring's end starts at its beginning, the tail space going with it (data_alloc); and the
// descriptor ring holds 1 << (CONFIG_LOG_BUF_SHIFT - PRB_AVGBITS (5)) records. 3.4's log_buf: a struct log header
// (16 bytes) + text, aligned to the header's alignment (8 on 64-bit and ARM EABI, 4 on i386). 2.6's character
// buffer holds "<L>" + text + "\n" per line. Simplifications: 3.4's wrap (an empty header marks the end) and 2.6's
// char ring are modelled with 6.1's block rule, and 2.6 drops whole lines where the real one shows the oldest line
// cut; a continuation's block is sized by its final text. The drop keeps the host's memory bounded too: a module
// that leaks 100,000 objects makes kmemleak print 1.3 million lines, of which dmesg keeps the last 128 KiB.

import type { Arch, Era, Profile } from "../types.ts";
import type { Clock } from "./time.ts";
import { immutable, rebindable } from "../snapshot.ts";
import { detachedSlice, vsprintf, ptrKeyFromSeed, VSPRINTF_DEFAULT_CAP, type PrintkArg, type VaFormat, type VsprintfEnv } from "./vsprintf.ts";

export type { PrintkArg, VaFormat, VsprintfEnv };

export const KERN_SOH = "\u0001";
export const KERN_EMERG = "\u00010";
export const KERN_ALERT = "\u00011";
export const KERN_CRIT = "\u00012";
export const KERN_ERR = "\u00013";
export const KERN_WARNING = "\u00014";
export const KERN_NOTICE = "\u00015";
export const KERN_INFO = "\u00016";
export const KERN_DEBUG = "\u00017";
/** 6.1: KERN_DEFAULT is "" (5.4 and later). */
export const KERN_DEFAULT = "";
export const KERN_CONT = "\u0001c";

export const LOGLEVEL_EMERG = 0;
export const LOGLEVEL_ALERT = 1;
export const LOGLEVEL_CRIT = 2;
export const LOGLEVEL_ERR = 3;
export const LOGLEVEL_WARNING = 4;
export const LOGLEVEL_NOTICE = 5;
export const LOGLEVEL_INFO = 6;
export const LOGLEVEL_DEBUG = 7;
/** default_message_loglevel (CONFIG_MESSAGE_LOGLEVEL_DEFAULT=4). */
export const DEFAULT_MESSAGE_LOGLEVEL = 4;

export interface KernLevels {
  KERN_EMERG: string;
  KERN_ALERT: string;
  KERN_CRIT: string;
  KERN_ERR: string;
  KERN_WARNING: string;
  KERN_NOTICE: string;
  KERN_INFO: string;
  KERN_DEBUG: string;
  KERN_DEFAULT: string;
  KERN_CONT: string;
}

const SOH_LEVELS: KernLevels = Object.freeze({
  KERN_EMERG,
  KERN_ALERT,
  KERN_CRIT,
  KERN_ERR,
  KERN_WARNING,
  KERN_NOTICE,
  KERN_INFO,
  KERN_DEBUG,
  KERN_DEFAULT,
  KERN_CONT,
});
function angleLevels(era: Era): KernLevels {
  return Object.freeze({
    KERN_EMERG: "<0>",
    KERN_ALERT: "<1>",
    KERN_CRIT: "<2>",
    KERN_ERR: "<3>",
    KERN_WARNING: "<4>",
    KERN_NOTICE: "<5>",
    KERN_INFO: "<6>",
    KERN_DEBUG: "<7>",
    KERN_DEFAULT: "<d>",
    // 2.6.32 defined KERN_CONT as "" (a message without a prefix continued the line); "<c>" by 3.x
    KERN_CONT: era === "2.6" ? "" : "<c>",
  });
}
const ANGLE_26 = angleLevels("2.6");
const ANGLE_34 = angleLevels("3.4");

/** The KERN_* strings a module of this profile's era sees ("<N>" before 3.6, "\001N" from 3.6). */
export function kernLevels(profile: Pick<Profile, "printkLevelStyle" | "era">): KernLevels {
  if (profile.printkLevelStyle === "soh") return SOH_LEVELS;
  return profile.era === "2.6" ? ANGLE_26 : ANGLE_34;
}

/** LOG_LINE_MAX of 3.4 and 6.1: CONSOLE_LOG_MAX (1024) - PREFIX_MAX (32). */
export const LOG_LINE_MAX = 1024 - 32;
/** How many characters of formatted text one printk() keeps (vscnprintf into the era's buffer). */
export function printkMaxChars(era: Era): number {
  return era === "2.6" ? 1024 - 1 : LOG_LINE_MAX - 1;
}

/** A message the caller's budget (LogBuffer.budget) could not take: nothing was stored. */
export class LogBudgetExceeded extends Error {
  constructor(readonly chars: number) {
    super(`printk: a message of ${chars} characters passes the log budget`);
  }
}

export interface LogRecord {
  /** local_clock() when the record was started, ns since boot. */
  tsNs: number;
  level: number;
  text: string;
}

/** What LogBuffer reads of the Kernel (kept minimal so tests can build a fake). */
export interface LogHost {
  profile: Pick<Profile, "arch" | "era" | "hashedPointers" | "pae">;
  opts: { seed?: number };
  params?: Map<string, string | true>;
  clock: Clock;
  kallsyms?: { symbolize(addr: bigint): string; symbolName(addr: bigint): string };
  current: { pid: number; comm: string };
}

export function bitsOf(arch: Arch): 32 | 64 {
  return arch === "x86_64" || arch === "arm64" ? 64 : 32;
}

/** The vsprintf environment of a machine. */
export function makeVsprintfEnv(k: LogHost): VsprintfEnv {
  const bits = bitsOf(k.profile.arch);
  // phys_addr_t and dma_addr_t are 64-bit on 64-bit kernels and with PAE (CONFIG_PHYS_ADDR_T_64BIT).
  const addrBytes: 4 | 8 = bits === 64 || k.profile.pae === true ? 8 : 4;
  return {
    era: k.profile.era,
    bits,
    physAddrBytes: addrBytes,
    dmaAddrBytes: addrBytes,
    hashPointers: k.profile.hashedPointers && !(k.params?.has("no_hash_pointers") ?? false),
    ptrKey: ptrKeyFromSeed(k.opts.seed),
    symbolize: k.kallsyms ? rebindable(symbolizeOn, k) : undefined,
  };
}

/** %pS / %ps through the machine's kallsyms (bound to the machine: a kernel snapshot rebinds it to its copy). */
export function symbolizeOn(this: LogHost, addr: bigint, mode: string): string {
  return mode === "s" ? this.kallsyms!.symbolName(addr) : this.kallsyms!.symbolize(addr);
}

/**
 * The dmesg lines of a boot's closed records (LogBuffer.shareClosedRecords), by the first of them: those records are
 * immutable() and every copy of the machine shares them, so each run's boot log (sandbox/run.ts reads it at every run)
 * is read from here instead of formatted again. A cache of what dmesg() would make, nothing else.
 */
const closedLines = new WeakMap<LogRecord, { readonly recs: readonly LogRecord[]; readonly lines: readonly string[] }>(); // snapshot: cache

/** CONFIG_LOG_BUF_SHIFT of every modelled config (Debian's 2.6.26, 2.6.32 and 6.1 kernels, the msm8x25's 3.4). */
export const LOG_BUF_SHIFT = 17;
const LOG_BUF_LEN = 1 << LOG_BUF_SHIFT;
/** A record the ring overwrote: its slot keeps the record indices (mark()) of the later ones. */
const DROPPED: LogRecord = Object.freeze({ tsNs: 0, level: 0, text: "" });

/** The bytes one record takes in the era's log buffer (see the header). */
function blockBytes(era: Era, arch: Arch, text: string): number {
  if (era === "2.6") return text.length + 4; // "<L>" + text + "\n"
  const align = era === "6.1" ? bitsOf(arch) / 8 : arch === "i386" ? 4 : 8;
  const header = era === "6.1" ? bitsOf(arch) / 8 : 16;
  return (header + text.length + align - 1) & -align;
}

/** "[%5lu.%06lu] " of print_time(), without the trailing space. */
export function formatTimestamp(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns - sec * 1e9) / 1000);
  const s = String(sec);
  const u = String(usec);
  return "[" + (s.length < 5 ? "     ".slice(s.length) + s : s) + "." + "000000".slice(u.length) + u + "]";
}

/**
 * struct ratelimit_state and ___ratelimit() (lib/ratelimit.c): at most `burst` callers pass in each `interval` jiffies;
 * the first caller after an interval that suppressed some prints `"<func>: N callbacks suppressed"` at KERN_WARNING
 * before its own message. `time_is_before_jiffies(begin + interval)`: a new interval starts only when jiffies is past
 * begin + interval. The same in every modelled era (2.6.26's rewrite into lib/ratelimit.c already has it, printing
 * "__ratelimit" as the function; 3.4 and 6.1 print the caller's __func__). A class, so that a snapshot copies it.
 */
export class RatelimitState {
  private begin = -1;
  private printed = 0;
  private missed = 0;
  constructor(
    readonly interval: number,
    readonly burst: number,
  ) {}

  /** ___ratelimit(rs, func): true when the caller may print. */
  check(log: LogBuffer, jiffies: number, func: string): boolean {
    if (!this.interval) return true;
    if (this.begin < 0) this.begin = jiffies;
    if (jiffies > this.begin + this.interval) {
      if (this.missed) {
        log.printk(KERN_WARNING + "%s: %d callbacks suppressed\n", func, this.missed);
        this.missed = 0;
      }
      this.begin = jiffies;
      this.printed = 0;
    }
    if (this.burst && this.burst > this.printed) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}

export class LogBuffer {
  readonly records: LogRecord[] = [];
  /** The machine's vsprintf environment (readString may be installed by the memory model). */
  readonly env: VsprintfEnv;
  /** Simulated ns each stored record costs (console output); 0 = printk leaves the clock alone. */
  costNs = 0;
  /** Called with each new record's text before it is stamped: the boot's timeline (init/boot_timeline.ts). */
  beforeRecord: ((text: string) => void) | undefined = undefined;
  private readonly k: LogHost;
  private readonly era: Era;
  /** The last record is not yet ended by a newline. */
  private open = false;
  private openCaller = -1;
  /** printk_ratelimit_state: DEFINE_RATELIMIT_STATE(printk_ratelimit_state, 5 * HZ, 10), made on first use. */
  private printkRs: RatelimitState | null = null;
  /** Characters the current caller may still store (the sandbox's log limit); Infinity: no bound. */
  budget = Infinity;
  private readonly maxChars: number;
  /** The ring (see the header): the oldest record still held, its begin_lpos, and the last record's. */
  private ringFirst = 0;
  private ringTail = 0;
  private ringLast = 0;
  /** How many records the ring overwrote (dmesg no longer shows them): they are the first ones, up to ringFirst. */
  get dropped(): number {
    return this.ringFirst;
  }

  constructor(k: LogHost) {
    this.k = k;
    this.era = k.profile.era;
    this.env = makeVsprintfEnv(k);
    this.maxChars = printkMaxChars(this.era);
    // kernel.ts builds the Clock from HZ alone; jiffies is an unsigned long, so its wrap follows the word size.
    k.clock.bitsPerLong = this.env.bits;
  }

  /** vscnprintf with this machine's rules, into a buffer of `cap` characters (vsprintf's default buffer if none). */
  format(fmt: string, args: readonly PrintkArg[], cap = VSPRINTF_DEFAULT_CAP): string {
    // detached: a slice would be a view that keeps a long format (a cell's 30 MB string) alive in the log's record
    if (fmt.indexOf("%") < 0) return fmt.length > cap ? detachedSlice(fmt, 0, cap) : fmt;
    return vsprintf(this.env, fmt, args, cap);
  }

  /**
   * printk_ratelimit(): the one kernel-wide state every printk_ratelimit() caller shares (5 * HZ, burst 10). `func` is
   * the caller's name as the era prints it in "callbacks suppressed" (2.6.26: "__ratelimit").
   */
  printk_ratelimit(hz: number, func: string): boolean {
    this.printkRs ??= new RatelimitState(5 * hz, 10);
    return this.printkRs.check(this, this.k.clock.jiffies_64, this.era === "2.6" ? "__ratelimit" : func);
  }

  /** printk(): format, parse the level prefix, store. Returns the number of characters stored. */
  printk(fmt: string, ...args: PrintkArg[]): number {
    return this.vprintk(fmt, args);
  }

  vprintk(fmt: string, args: readonly PrintkArg[]): number {
    const raw = this.format(fmt, args, this.maxChars);
    // printk_parse_prefix(): any run of "\001X" / "<X>" prefixes
    let level = -1;
    let cont = false;
    let prefixed = false;
    let p = 0;
    for (;;) {
      const c0 = raw.charCodeAt(p);
      let lc: number;
      if (c0 === 1 && raw.length >= p + 2) lc = raw.charCodeAt(p + 1);
      else if (c0 === 60 && raw.length >= p + 3 && raw.charCodeAt(p + 2) === 62) lc = raw.charCodeAt(p + 1);
      else break;
      if (lc >= 48 && lc <= 55) {
        if (level < 0) level = lc - 48;
        prefixed = true;
      } else if (lc === 99)
        cont = true; // 'c'
      else if (lc === 100)
        prefixed = true; // 'd' KERN_DEFAULT
      else break;
      p += c0 === 1 ? 2 : 3;
    }
    const text = p ? raw.slice(p) : raw;
    const caller = this.k.current.pid;
    let appendTo: LogRecord | undefined;
    if (this.open && this.records.length) {
      const canCont = this.era === "6.1" ? cont && this.openCaller === caller : (cont || !prefixed) && (this.era === "2.6" || this.openCaller === caller);
      if (canCont) appendTo = this.records[this.records.length - 1];
    }
    const len = text.length;
    // an empty message stores nothing (and does not end an open line)
    if (len === 0) return 0;
    if (len > this.budget) throw new LogBudgetExceeded(len);
    // 6.1/3.4: a continuation that would pass LOG_LINE_MAX goes to a record of its own
    if (appendTo && this.era !== "2.6") {
      const nl0 = text.indexOf("\n");
      const add = this.era === "6.1" ? raw.length + 1 : nl0 < 0 ? len : nl0;
      if (appendTo.text.length + add > LOG_LINE_MAX) appendTo = undefined;
    }
    const nl = text.indexOf("\n");
    if (nl < 0 || nl === len - 1) {
      // common cases: one line, with or without its newline
      const line = nl < 0 ? text : text.slice(0, -1);
      if (appendTo) appendTo.text += line;
      else this.push(level, line);
      this.open = nl < 0;
      this.openCaller = caller;
      return len;
    }
    const endsNl = text.charCodeAt(len - 1) === 10;
    const body = endsNl ? text.slice(0, -1) : text;
    let start = 0;
    let first = true;
    let lvl = appendTo ? appendTo.level : level;
    for (;;) {
      const e = body.indexOf("\n", start);
      const line = e < 0 ? body.slice(start) : body.slice(start, e);
      if (first && appendTo) appendTo.text += line;
      else {
        this.push(lvl, line);
        lvl = this.records[this.records.length - 1].level;
      }
      first = false;
      if (e < 0) break;
      start = e + 1;
    }
    this.open = !endsNl;
    this.openCaller = caller;
    return len;
  }

  private push(level: number, text: string): void {
    if (this.beforeRecord) this.beforeRecord(text);
    this.reserve(text);
    this.records.push({ tsNs: this.k.clock.now(), level: level < 0 ? DEFAULT_MESSAGE_LOGLEVEL : level, text });
    if (this.costNs) this.k.clock.advance(this.costNs);
  }

  /** Where a block of `text` that begins at logical position `begin` ends, moved to the ring's start if it would wrap. */
  private blockEnd(begin: number, text: string): number {
    const size = blockBytes(this.era, this.k.profile.arch, text);
    const lap = Math.floor(begin / LOG_BUF_LEN);
    return lap !== Math.floor((begin + size - 1) / LOG_BUF_LEN) ? (lap + 1) * LOG_BUF_LEN + size : begin + size;
  }

  /** Make room for a new record of `text` (data_alloc / desc_reserve): overwrite the oldest records it needs. */
  private reserve(text: string): void {
    const n = this.records.length;
    const begin = n ? this.blockEnd(this.ringLast, this.records[n - 1]!.text) : 0;
    const end = this.blockEnd(begin, text);
    const maxRecords = this.era === "6.1" ? 1 << (LOG_BUF_SHIFT - 5) : Infinity;
    while (this.ringFirst < n && (end - this.ringTail > LOG_BUF_LEN || n + 1 - this.ringFirst > maxRecords)) {
      this.ringTail = this.blockEnd(this.ringTail, this.records[this.ringFirst]!.text);
      this.records[this.ringFirst++] = DROPPED;
    }
    if (this.ringFirst === n) this.ringTail = begin;
    this.ringLast = begin;
  }

  /** How many records from index `from` on the ring has overwritten (they are gone from dmesg). */
  overwrittenSince(from: number): number {
    return Math.max(0, this.ringFirst - from);
  }

  /** The index the next record will get: pass it to dmesg() to read what was printed since. */
  mark(): number {
    return this.records.length;
  }

  /** dmesg lines "[    0.000000] text" of records [from, to). */
  dmesg(from = 0, to = this.records.length): string[] {
    const out: string[] = [];
    const records = this.records;
    const end = Math.min(to, records.length);
    let i = Math.max(0, from);
    // the boot's closed records, formatted once for every copy of the machine that shares them (closedLines)
    const closed = i < end ? closedLines.get(records[0]!) : undefined;
    if (closed !== undefined) for (; i < end && i < closed.recs.length && records[i] === closed.recs[i]; i++) out.push(closed.lines[i]!);
    for (; i < end; i++) {
      const r = records[i]!;
      if (r !== DROPPED) out.push(formatTimestamp(r.tsNs) + " " + r.text);
    }
    return out;
  }

  /** The log levels of the records dmesg(from, to) shows, one per line. */
  levels(from = 0, to = this.records.length): number[] {
    const out: number[] = [];
    for (let i = Math.max(0, from); i < to && i < this.records.length; i++) if (this.records[i] !== DROPPED) out.push(this.records[i]!.level);
    return out;
  }

  /**
   * The end of the boot: its records are never written again (only the last one, while its line is still open, takes a
   * continuation), so a kernel snapshot shares them with the copies instead of copying each (immutable()).
   */
  shareClosedRecords(): void {
    const n = this.open ? this.records.length - 1 : this.records.length;
    for (let i = 0; i < n; i++) immutable(this.records[i]!);
    // (the ring drops the oldest records first: a boot whose first record is still there dropped none)
    if (n > 0 && this.records[0] !== DROPPED) {
      const recs = this.records.slice(0, n);
      closedLines.set(recs[0]!, { recs, lines: recs.map((r) => formatTimestamp(r.tsNs) + " " + r.text) });
    }
  }

  /** The texts (no timestamps) of records [from, to). */
  texts(from = 0, to = this.records.length): string[] {
    const out: string[] = [];
    for (let i = Math.max(0, from); i < to && i < this.records.length; i++) if (this.records[i] !== DROPPED) out.push(this.records[i]!.text);
    return out;
  }
}

/** What the pr_* helpers need: a kernel with printk. */
export interface Printer {
  printk(fmt: string, ...args: PrintkArg[]): number;
}

export const pr_emerg = (k: Printer, fmt: string, ...a: PrintkArg[]) => k.printk(KERN_EMERG + fmt, ...a);
export const pr_alert = (k: Printer, fmt: string, ...a: PrintkArg[]) => k.printk(KERN_ALERT + fmt, ...a);
export const pr_crit = (k: Printer, fmt: string, ...a: PrintkArg[]) => k.printk(KERN_CRIT + fmt, ...a);
export const pr_err = (k: Printer, fmt: string, ...a: PrintkArg[]) => k.printk(KERN_ERR + fmt, ...a);
export const pr_warn = (k: Printer, fmt: string, ...a: PrintkArg[]) => k.printk(KERN_WARNING + fmt, ...a);
export const pr_notice = (k: Printer, fmt: string, ...a: PrintkArg[]) => k.printk(KERN_NOTICE + fmt, ...a);
export const pr_info = (k: Printer, fmt: string, ...a: PrintkArg[]) => k.printk(KERN_INFO + fmt, ...a);
export const pr_cont = (k: Printer, fmt: string, ...a: PrintkArg[]) => k.printk(KERN_CONT + fmt, ...a);
/** pr_debug() is compiled out (no DEBUG, dynamic debug off by default): prints nothing. */
export const pr_debug = (_k: Printer, _fmt: string, ..._a: PrintkArg[]) => 0;
