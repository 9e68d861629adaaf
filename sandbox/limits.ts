// The limits of one run, and the words each one is reported with. Every limit names itself and what to do.

export interface Limits {
  /** Guest CPU time for the whole run (insmod, deferred work, rmmod), in ms of wall time. */
  cpuMs: number;
  /** QuickJS heap for the guest, in bytes. */
  memoryBytes: number;
  /** Calls from the module into the kernel. */
  kernelCalls: number;
  /** Bytes the module may print (printk and friends). */
  logBytes: number;
  /**
   * Simulated RAM the run may write, in bytes: every page frame written holds 4 KiB of the host's memory (frames
   * nobody wrote cost nothing), so filling the free pages of a machine of many GiB is stopped here.
   */
  ramBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  cpuMs: 2000,
  memoryBytes: 64 << 20,
  kernelCalls: 1_000_000,
  logBytes: 1 << 20,
  // Above every default profile's RAM (at most 1 GiB), so a leaking cell on a default machine meets the kernel's
  // own out-of-memory path before this host budget.
  ramBytes: 1 << 30,
};

/**
 * What one record in the kernel's log counts against limits.logBytes besides its text: its header (3.4's struct log is
 * 16 bytes: ts_nsec, len, text_len, dict_len, facility, flags and level). The host keeps a record and a dmesg line for
 * each, whatever its length, so without it a flood of one-character lines reached the 1 MiB limit only after 524,292
 * records (a RunResult of 36 MB of JSON, ~500 MB peak RSS through the CLI's worker); with it, after ~58,000.
 */
export const LOG_RECORD_BYTES = 16;

/** QuickJS's own stack for the guest: 256 KiB. Larger overflows the host's stack (stack-notes §1.4). */
export const GUEST_STACK_BYTES = 256 * 1024;

/**
 * How deep calls may nest between the module and the kernel (module_init -> kmem_cache_alloc -> the cache's ctor ->
 * kmem_cache_alloc -> ...; a wait_event condition that calls wait_event): each level holds host frames that QuickJS's
 * own stack limit does not see, so without this bound the host's stack overflows first. Real call chains in the
 * lessons nest 3 or 4 deep (init -> sim.advance -> a timer -> mod_timer).
 */
export const MAX_NESTING = 32;

export type LimitName = "cpu" | "memory" | "stack" | "kernel-calls" | "log" | "ram";

export function resolveLimits(l: Partial<Limits> | undefined): Limits {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const v = l?.[key];
    if (v !== undefined) {
      if (!(typeof v === "number" && v > 0 && Number.isFinite(v))) throw new RangeError(`limits.${key} must be a positive number, got ${v}`);
      out[key] = v;
    }
  }
  return out;
}

/** The plain sentence for the learner, per limit. */
export function limitSentence(name: LimitName, l: Limits): string {
  switch (name) {
    case "cpu":
      return `The module ran for more than ${l.cpuMs} ms of CPU time (the run's CPU limit) and was stopped. Look for a loop that never ends, or raise limits.cpuMs.`;
    case "memory":
      return `The module's own JavaScript data grew past ${fmtBytes(l.memoryBytes)} (the run's guest memory limit) and was stopped. Look for an array or string that keeps growing, or raise limits.memoryBytes.`;
    case "stack":
      return `The module's call stack grew past ${fmtBytes(GUEST_STACK_BYTES)}, or its calls into the kernel and back (a callback that calls the kernel, which calls a callback...) nested more than ${MAX_NESTING} deep (the stack depth limit): probably a recursion without an end. The real kernel gives a module only a 16 KiB stack, so recursion is best avoided.`;
    case "kernel-calls":
      return `The module made more than ${l.kernelCalls} calls into the kernel (the run's kernel-call limit) and was stopped. Look for a loop that never ends, or raise limits.kernelCalls.`;
    case "log":
      return `The module printed more than ${fmtBytes(l.logBytes)} (the run's log size limit) and was stopped. Print less inside loops, or raise limits.logBytes.`;
    case "ram":
      return `The run wrote to more than ${fmtBytes(l.ramBytes)} of simulated RAM (the run's RAM budget: every page frame written is kept in the host's memory, and so is the page allocator's struct page bookkeeping for the memory the run allocated, 5 bytes a frame) and was stopped. Write to fewer pages, or raise limits.ramBytes.`;
  }
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} bytes`;
}

/**
 * The source size limit (transpile.ts). The compiler's host memory and time grow with the source: 1.5 MB of source
 * (300,000 lines) took 1.9 s and 500 MB to transpile, and 5 MB took the run past its CPU limit at 1.3 GB of the host's
 * memory, before the cell ran at all. The largest bundled cell is under 8 KiB; a real module's source file is rarely
 * 100 KiB. Here, not in transpile.ts, so that the CLI (src/cli/read-cell.ts) reads it without loading the compiler:
 * `kmodlab run`'s fast path (lib/cli-run.cjs) would otherwise hold the transpiler and the API tables.
 */
export const MAX_SOURCE_BYTES = 256 * 1024;
