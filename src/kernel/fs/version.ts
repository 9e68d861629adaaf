// Models fs/proc/version.c and fs/proc/cmdline.c, Linux 6.1 (unchanged in substance since 2.6):
// /proc/version is the kernel's banner (linux_proc_banner filled with the build's utsname), /proc/cmdline the
// command line the kernel booted with, each followed by a newline.

import type { Kernel } from "../kernel.ts";
import { registerProc } from "./proc.ts";

export function procVersion(k: Pick<Kernel, "profile">): string {
  return k.profile.versionString + "\n";
}

export function procCmdline(k: Pick<Kernel, "opts">): string {
  return k.opts.cmdline + "\n";
}

registerProc("version", procVersion);
registerProc("cmdline", procCmdline);
