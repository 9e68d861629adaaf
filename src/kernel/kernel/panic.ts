// Models kernel/panic.c: add_taint(), test_taint(), print_tainted() and the taint_flags table (Linux 6.1), with the
// shorter tables of 2.6.32 and 3.4.
//
// print_tainted() prints "Not tainted", or "Tainted: " followed by one character per flag the era knows, in table
// order: the flag's letter when set, else ' ' ('G' for an unset P). The tables:
//   6.1 (19 flags):  P F S R M B U D A W C I O E L K X T N
//   3.4 (13 flags):  P F S R M B U D A W C I O        (O: TAINT_OOT_MODULE, 3.2)
//   2.6 (11 flags):  P F S R M B U D A W C            (2.6.32: no I (2.6.35), no O (3.2), no E (3.15))
// A flag the era does not know cannot be set there (add() returns false): a 2.6 kernel loading an out-of-tree
// module does not taint. The bit numbers (for /proc/sys/kernel/tainted) are the enum values, the same in every era.
//
// "Disabling lock debugging due to kernel taint" is printed (pr_warn) the first time a taint is added with
// LOCKDEP_NOW_UNRELIABLE while debug_locks is still on (__debug_locks_off() returns the old value). Which taints
// are NOW_UNRELIABLE follows their callers in 6.1: proprietary or forced module load (P, F), forced rmmod (R),
// machine check (M), bad page and KASAN (B), user request (U), die (D). Everything else (W, O, E, C, ...) passes
// LOCKDEP_STILL_OK. Callers may override per call.

import type { Era } from "../types.ts";
import { KERN_WARNING, type Printer } from "./printk.ts";

export type TaintFlag = "P" | "F" | "S" | "R" | "M" | "B" | "U" | "D" | "A" | "W" | "C" | "I" | "O" | "E" | "L" | "K" | "X" | "T" | "N";

/** The taint_flags table of 6.1 in enum order: [letter, c_false]. */
const TABLE_61: readonly (readonly [TaintFlag, string])[] = [
  ["P", "G"],
  ["F", " "],
  ["S", " "],
  ["R", " "],
  ["M", " "],
  ["B", " "],
  ["U", " "],
  ["D", " "],
  ["A", " "],
  ["W", " "],
  ["C", " "],
  ["I", " "],
  ["O", " "],
  ["E", " "],
  ["L", " "],
  ["K", " "],
  ["X", " "],
  ["T", " "],
  ["N", " "],
];
const COUNT: Record<Era, number> = { "2.6": 11, "3.4": 13, "6.1": 19 };

/** The flags print_tainted() shows in an era, in order. */
export function taintFlagsOf(era: Era): readonly TaintFlag[] {
  return TABLE_61.slice(0, COUNT[era]).map((t) => t[0]);
}

/** The enum bit of a flag (TAINT_PROPRIETARY_MODULE = 0 ... TAINT_TEST = 18). */
export function taintBit(flag: TaintFlag): number {
  return TABLE_61.findIndex((t) => t[0] === flag);
}

const NOW_UNRELIABLE = new Set<TaintFlag>(["P", "F", "R", "M", "B", "U", "D"]);

export interface TaintHost extends Printer {
  profile: { era: Era };
}

export class Taint {
  private readonly k: TaintHost;
  private readonly era: Era;
  private mask = 0;
  /** lib/debug_locks.c debug_locks: 1 until a taint makes lock debugging unreliable. */
  debugLocks = true;

  constructor(k: TaintHost) {
    this.k = k;
    this.era = k.profile.era;
  }

  /** True if the era knows this flag. */
  known(flag: TaintFlag): boolean {
    const b = taintBit(flag);
    return b >= 0 && b < COUNT[this.era];
  }

  /**
   * add_taint(flag, lockdep_ok). Returns false (and does nothing) for a flag the era does not have.
   * lockdepOk defaults to the kernel's choice for that flag (see the header).
   */
  add(flag: TaintFlag, lockdepOk?: boolean): boolean {
    if (!this.known(flag)) return false;
    const ok = lockdepOk ?? !NOW_UNRELIABLE.has(flag);
    if (!ok && this.debugLocks) {
      this.debugLocks = false;
      this.k.printk(KERN_WARNING + "Disabling lock debugging due to kernel taint\n");
    }
    this.mask |= 1 << taintBit(flag);
    return true;
  }

  has(flag: TaintFlag): boolean {
    const b = taintBit(flag);
    return b >= 0 && (this.mask & (1 << b)) !== 0;
  }

  /** tainted_mask, as /proc/sys/kernel/tainted shows it. */
  get value(): number {
    return this.mask;
  }

  /** print_tainted(). */
  print_tainted(): string {
    if (!this.mask) return "Not tainted";
    let s = "Tainted: ";
    const n = COUNT[this.era];
    for (let i = 0; i < n; i++) s += this.mask & (1 << i) ? TABLE_61[i][0] : TABLE_61[i][1];
    return s;
  }
}
