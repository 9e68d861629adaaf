// Models the end of an Oops taken in interrupt context (6.1 arch/x86/kernel/dumpstack.c oops_end(), arch/arm/kernel/
// traps.c oops_end(), arch/arm64/kernel/traps.c die(); the same test in 2.6.26 and 3.4): no task can be killed, so
// `if (in_interrupt()) panic("Fatal exception in interrupt")`. kernel/panic.c panic() then prints
// "Kernel panic - not syncing: %s" (pr_emerg), no dump_stack() (the Oops set TAINT_DIE), the panic notifiers
// (panic_notifiers.ts: x86's kernel offset, arm64's offset and memory limit, none on 32-bit ARM), and "---[ end Kernel panic - not syncing: %s ]---" (in the 6.1 profiles, as slub_debug.ts's panic; the
// 2.6/3.4 profiles print neither). The machine stops: the simulator records the panic as an "oops" report and throws KernelOops,
// which ends the run (nothing after it runs: no kmemleak scan, no /proc after exit).

import type { Kernel } from "../kernel.ts";
import { KERN_EMERG } from "./printk.ts";
import { recordSplat } from "../debug/splat.ts";
import { KernelOops } from "./module.ts";
import { panicNotifiers } from "./panic_notifiers.ts";

export const FATAL_IN_INTERRUPT = "Fatal exception in interrupt";

export function fatalInInterrupt(k: Kernel): never {
  const { arch, era } = k.profile;
  const mark = k.log.mark();
  const title = `Kernel panic - not syncing: ${FATAL_IN_INTERRUPT}`;
  k.printk(KERN_EMERG + "%s\n", title);
  if (era === "6.1") {
    panicNotifiers(k, arch);
    k.printk(KERN_EMERG + "---[ end %s ]---\n", title);
  }
  const rep = recordSplat(k, "oops", mark, {
    title,
    explain:
      "The Oops above happened in interrupt context (a timer's softirq), where the kernel has no task it could kill: it panics, and the whole machine stops.",
  });
  throw new KernelOops(title, rep);
}
