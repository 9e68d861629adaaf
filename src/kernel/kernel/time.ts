// Models include/linux/jiffies.h and kernel/time/{jiffies,time}.c (Linux 2.6.32, 3.4, 6.1: unchanged in what is modelled).
//
// The simulated clock. Time is a number of nanoseconds since boot (local_clock(), what printk stamps); it never
// reads the wall clock and only moves when a modelled operation advances it. jiffies are derived from it.
//
// INITIAL_JIFFIES is ((unsigned long)(unsigned int)(-300*HZ)): the kernel starts jiffies five minutes before the
// 32-bit wrap so that wrap bugs show up early. Because of the (unsigned int) cast the boot value is the same
// 4294892296 (HZ=250) on 32-bit and 64-bit; on 32-bit `jiffies` wraps to small numbers 300 s after boot, on
// 64-bit it keeps counting. jiffies_64 is a u64 on every architecture and never wraps here.
//
// Simplifications: one tick every 1e9/HZ ns exactly (no NO_HZ idle, no tick skew); the msecs/usecs conversions
// use the kernel's exact round-up formulas for HZ dividing 1000 (or 1e6), and the general round-up formula
// otherwise (the kernel's MSEC_TO_HZ_MUL32 fixed-point path computes the same value for every HZ it supports).

/** ((unsigned long)(unsigned int)(-300*HZ)) */
export function initialJiffies(hz: number): number {
  return (-300 * hz) >>> 0;
}

const MSEC_PER_SEC = 1000;
const USEC_PER_SEC = 1_000_000;
const NSEC_PER_SEC = 1_000_000_000;

/** MAX_JIFFY_OFFSET = ((LONG_MAX >> 1) - 1), what the conversions return for negative input. */
export function maxJiffyOffset(bitsPerLong: 32 | 64): number {
  // LONG_MAX >> 1 - 1; for 64-bit this is 2^62-2, beyond 2^53: return the nearest double, callers only compare.
  return bitsPerLong === 32 ? 0x3ffffffe : 2 ** 62 - 2;
}

/** msecs_to_jiffies(m): rounds up. A negative m (as (int)m < 0) gives MAX_JIFFY_OFFSET. */
export function msecs_to_jiffies(hz: number, m: number, bitsPerLong: 32 | 64 = 64): number {
  m = Math.trunc(m) >>> 0; // the parameter is an unsigned int
  if (m >= 0x80000000) return maxJiffyOffset(bitsPerLong); // (int)m < 0
  if (hz <= MSEC_PER_SEC && MSEC_PER_SEC % hz === 0) {
    const per = MSEC_PER_SEC / hz;
    return Math.floor((m + per - 1) / per);
  }
  if (hz > MSEC_PER_SEC && hz % MSEC_PER_SEC === 0) return m * (hz / MSEC_PER_SEC);
  return Math.floor((m * hz + MSEC_PER_SEC - 1) / MSEC_PER_SEC);
}

/** usecs_to_jiffies(u): rounds up. */
export function usecs_to_jiffies(hz: number, u: number): number {
  u = Math.trunc(u) >>> 0;
  if (hz <= USEC_PER_SEC && USEC_PER_SEC % hz === 0) {
    const per = USEC_PER_SEC / hz;
    return Math.floor((u + per - 1) / per);
  }
  return Math.floor((u * hz + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

/** jiffies_to_msecs(j) (unsigned int result). */
export function jiffies_to_msecs(hz: number, j: number): number {
  if (hz <= MSEC_PER_SEC && MSEC_PER_SEC % hz === 0) return ((MSEC_PER_SEC / hz) * j) >>> 0;
  return Math.floor((j * MSEC_PER_SEC + hz - 1) / hz) >>> 0;
}

/** jiffies_to_usecs(j) (unsigned int result). */
export function jiffies_to_usecs(hz: number, j: number): number {
  if (hz <= USEC_PER_SEC && USEC_PER_SEC % hz === 0) return ((USEC_PER_SEC / hz) * j) >>> 0;
  return Math.floor((j * USEC_PER_SEC + hz - 1) / hz) >>> 0;
}

export class Clock {
  readonly hz: number;
  /** BITS_PER_LONG of the machine: decides when `jiffies` (an unsigned long) wraps. */
  bitsPerLong: 32 | 64;
  private ns = 0;
  private readonly tickNs: number;
  private readonly initial: number;

  constructor(hz: number, bitsPerLong: 32 | 64 = 64) {
    if (!Number.isInteger(hz) || hz <= 0) throw new RangeError(`bad HZ ${hz}`);
    this.hz = hz;
    this.bitsPerLong = bitsPerLong;
    this.tickNs = NSEC_PER_SEC / hz;
    this.initial = initialJiffies(hz);
  }

  /** local_clock(): nanoseconds since boot. */
  now(): number {
    return this.ns;
  }

  /** Let ns of simulated time pass (a modelled cost, a sleep, a timer). */
  advance(ns: number): void {
    if (!(ns >= 0)) throw new RangeError(`clock cannot go back (${ns} ns)`);
    this.ns += ns;
  }

  /** Move the clock forward to at least ns (never back). */
  setAtLeast(ns: number): void {
    if (ns > this.ns) this.ns = ns;
  }

  /** Ticks since boot. */
  get ticks(): number {
    return Math.floor(this.ns / this.tickNs);
  }

  /** jiffies_64: INITIAL_JIFFIES plus the ticks since boot (u64, never wraps in a simulated run). */
  get jiffies_64(): number {
    return this.initial + this.ticks;
  }

  /** jiffies: an unsigned long, so it wraps at 2^32 on 32-bit machines (300 s after boot). */
  get jiffies(): number {
    const j = this.jiffies_64;
    return this.bitsPerLong === 32 ? j % 0x100000000 : j;
  }

  /** The jiffies value at which ns from now will have passed (round up, as timers do). */
  jiffiesAfterNs(ns: number): number {
    return this.jiffies + Math.ceil(ns / this.tickNs);
  }

  msecs_to_jiffies(m: number): number {
    return msecs_to_jiffies(this.hz, m, this.bitsPerLong);
  }

  usecs_to_jiffies(u: number): number {
    return usecs_to_jiffies(this.hz, u);
  }

  jiffies_to_msecs(j: number): number {
    return jiffies_to_msecs(this.hz, j);
  }

  /** ns of one jiffy (TICK_NSEC). */
  get tickNsec(): number {
    return this.tickNs;
  }
}
