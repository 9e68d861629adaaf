// KernelBootError: a boot input no machine could boot with (a bad mem=, an impossible command line). A leaf module
// of its own so that the arch files can throw it without importing kernel.ts (which imports them: that cycle let a
// bundler evaluate arch/i386.ts before arch/common.ts, and the page's worker failed with "Cannot access 'SZ_1M'
// before initialization").
// A boot that panics (mm/oom_boot.ts: out of memory during the boot) carries the boot log up to and including the
// kernel's panic text (`log`, dmesg lines) and the index of the panic's first line in it (`panicFrom`).

export class KernelBootError extends Error {
  /** The boot log (dmesg lines) up to the panic, when the kernel itself stopped the boot. */
  log?: string[];
  /** Index in `log` of the first line of the kernel's out-of-memory report. */
  panicFrom?: number;
}
