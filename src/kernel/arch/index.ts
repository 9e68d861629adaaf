// Models arch/*/kernel/setup.c setup_arch() dispatch and the mem_init() layout prints of arch/x86/mm/init_32.c
// (2.6.2x) and arch/arm/mm/init.c (3.4); which arch runs is the profile's (x86_64, i386, arm, arm64).

import type { Layout } from "../types.ts";
import type { ArchKernel } from "./common.ts";
import { setupX86_64 } from "./x86_64.ts";

export type { ArchKernel } from "./common.ts";

/** setup_arch(): compute the layout from RAM, command line and seed, and print the arch's boot lines. */
export function setup_arch(k: ArchKernel): Layout {
  switch (k.profile.arch) {
    case "x86_64":
      return setupX86_64(k);
    default:
      throw new Error("todo");
  }
}

export function mem_init_print(k: ArchKernel & { layout: Layout }): void {
  void k;
}
