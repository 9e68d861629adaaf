// What insmod and rmmod print around a cell, per era: models kernel/module/main.c load_module() (6.1;
// kernel/module.c in 2.6.32 and 3.4) for a module built out of tree, and what userspace insmod says when
// init fails. The module is named "cell" (cell.ko).
//
// Order in 6.1 load_module(): check_modinfo() prints the out-of-tree taint, then set_license() the licence
// taint (with "Disabling lock debugging" the first time a taint makes lockdep unreliable); after
// layout_and_allocate() comes the signature notice (distribution kernels have CONFIG_MODULE_SIG; the
// developer's own kernel here does not). TAINT_OOT_MODULE appeared in 3.2, module signing in 3.7.

import type { Kernel } from "../src/kernel/kernel.ts";
import type { Era } from "../src/kernel/types.ts";
import type { ModuleState } from "./table.ts";
import { kernLevels, type KernLevels } from "../src/kernel/kernel/printk.ts";
import type { TaintFlag } from "../src/kernel/kernel/panic.ts";

export const MODULE_NAME = "cell";

/** The KERN_* prefix string of the profile's era: "<4>" before 3.6, "\x014" after. */
export function kernLevel(k: Kernel, level: keyof KernLevels): string {
  return kernLevels(k.profile)[level];
}

/** license_is_gpl_compatible() (include/linux/license.h, unchanged 2.6.32 .. 6.1). */
export function licenseIsGplCompatible(license: string): boolean {
  return ["GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"].includes(license);
}

/** The PIDs of the real logs' insmod (x86 and i386: 108; armhf: 102); rmmod runs next. */
export function insmodPid(k: Kernel): number {
  return k.profile.arch === "arm" ? 102 : 108;
}

function taint(k: Kernel, flag: TaintFlag): void {
  k.taint.add(flag);
}

/** The kernel's messages while loading the module, before its init runs. */
export function loadMessages(k: Kernel, mod: ModuleState): void {
  const era: Era = k.profile.era;
  const warn = kernLevel(k, "KERN_WARNING");
  if (era !== "2.6") {
    k.printk(warn + "%s: loading out-of-tree module taints kernel.\n", mod.name);
    taint(k, "O");
  }
  const license = mod.license ?? "unspecified";
  if (!licenseIsGplCompatible(license)) {
    k.printk(warn + "%s: module license '%s' taints kernel.\n", mod.name, license);
    taint(k, "P"); // add_taint_module(.., LOCKDEP_NOW_UNRELIABLE): "Disabling lock debugging due to kernel taint"
  }
  if (era === "6.1" && k.opts.config === "distro") {
    k.printk(kernLevel(k, "KERN_NOTICE") + "%s: module verification failed: signature and/or required key missing - tainting kernel\n", mod.name);
    taint(k, "E");
  }
}

/** do_init_module() (sys_init_module() before 3.7) on a positive init return: warn and load anyway. */
export function suspiciousInitReturn(k: Kernel, mod: ModuleState, ret: number): void {
  const fn = k.profile.era === "6.1" ? "do_init_module" : "sys_init_module";
  k.printk(kernLevel(k, "KERN_WARNING") + "%s: '%s'->init suspiciously returned %d, it should follow 0/-E convention\n", fn, mod.name, ret);
  k.printk(kernLevel(k, "KERN_WARNING") + "%s: loading module anyway...\n", fn);
}

/** strerror() of the errnos an init function returns, as insmod prints them. */
const STRERROR: Record<number, string> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  4: "Interrupted system call",
  5: "Input/output error",
  6: "No such device or address",
  11: "Resource temporarily unavailable",
  12: "Cannot allocate memory",
  13: "Permission denied",
  14: "Bad address",
  16: "Device or resource busy",
  17: "File exists",
  19: "No such device",
  22: "Invalid argument",
  28: "No space left on device",
  34: "Numerical result out of range",
  38: "Function not implemented",
  95: "Operation not supported",
  110: "Connection timed out",
};

/** What userspace insmod prints when init_module() fails with -errno (the kernel itself prints nothing). */
export function insmodError(errno: number): string {
  const msg = STRERROR[errno] ?? `Unknown error ${errno}`;
  return `insmod: ERROR: could not insert module ${MODULE_NAME}.ko: ${msg}`;
}
