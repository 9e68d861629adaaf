// Models the end of an Oops taken in interrupt context (6.1 arch/x86/kernel/dumpstack.c oops_end(), arch/arm/kernel/
// traps.c oops_end(), arch/arm64/kernel/traps.c die(); the same test in 2.6.26 and 3.4): no task can be killed, so
// `if (in_interrupt()) panic("Fatal exception in interrupt")`. kernel/panic.c panic() then prints
// "Kernel panic - not syncing: %s" (pr_emerg), no dump_stack() (the Oops set TAINT_DIE), the panic notifiers (x86
// dump_kernel_offset(): "Kernel Offset: 0x%lx from 0x%lx (relocation range: 0x%lx-0x%lx)" with KASLR, "Kernel Offset:
// disabled" without, since 3.14's KASLR; arm64's "Kernel Offset: disabled" and "Memory Limit: none"; 32-bit ARM has
// none), and "---[ end Kernel panic - not syncing: %s ]---" (in the 6.1 profiles, as slub_debug.ts's panic; the
// 2.6/3.4 profiles print neither). The machine stops: the simulator records the panic as an "oops" report and throws KernelOops,
// which ends the run (nothing after it runs: no kmemleak scan, no /proc after exit).
// Simplification: arm64's cpufeature notifier line ("CPU features: 0x...") is not printed (as in mm/oom_boot.ts).

import type { Kernel } from "../kernel.ts";
import { KERN_EMERG } from "./printk.ts";
import { recordSplat } from "../debug/splat.ts";
import { KernelOops } from "./module.ts";

export const FATAL_IN_INTERRUPT = "Fatal exception in interrupt";

export function fatalInInterrupt(k: Kernel): never {
  const { arch, era } = k.profile;
  const mark = k.log.mark();
  const title = `Kernel panic - not syncing: ${FATAL_IN_INTERRUPT}`;
  k.printk(KERN_EMERG + "%s\n", title);
  if (era === "6.1") {
    if (arch === "x86_64" || arch === "i386") {
      // kaslr_offset() = _text - __START_KERNEL; __START_KERNEL_map is the image map's base (i386: PAGE_OFFSET)
      const startKernel = arch === "x86_64" ? 0xffffffff81000000n : 0xc1000000n;
      const off = k.kallsyms.textBase() - startKernel;
      if (off) {
        const map = arch === "x86_64" ? 0xffffffff80000000n : k.layout.pageOffset;
        const range = [off, startKernel, map, k.layout.modulesVaddr - 1n].map((v) => v.toString(16));
        k.printk(KERN_EMERG + "Kernel Offset: 0x%s from 0x%s (relocation range: 0x%s-0x%s)\n", ...range);
      } else k.printk(KERN_EMERG + "Kernel Offset: disabled\n");
    } else if (arch === "arm64") {
      k.printk(KERN_EMERG + "Kernel Offset: disabled\n");
      k.printk(KERN_EMERG + "Memory Limit: none\n");
    }
    k.printk(KERN_EMERG + "---[ end %s ]---\n", title);
  }
  const rep = recordSplat(k, "oops", mark, {
    title,
    explain:
      "The Oops above happened in interrupt context (a timer's softirq), where the kernel has no task it could kill: it panics, and the whole machine stops.",
  });
  throw new KernelOops(title, rep);
}
