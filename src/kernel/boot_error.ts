// KernelBootError: a boot input no machine could boot with (a bad mem=, an impossible command line). A leaf module
// of its own so that the arch files can throw it without importing kernel.ts (which imports them: that cycle let a
// bundler evaluate arch/i386.ts before arch/common.ts, and the page's worker failed with "Cannot access 'SZ_1M'
// before initialization").

export class KernelBootError extends Error {}
