// The panic notifiers that print, in kernel/panic.c panic()'s atomic_notifier_call_chain(&panic_notifier_list, ...):
// x86's dump_kernel_offset() (arch/x86/kernel/setup.c: "Kernel Offset: 0x%lx from 0x%lx (relocation range:
// 0x%lx-0x%lx)" with KASLR, "Kernel Offset: disabled" without, since 3.14's KASLR) and arm64's arm64_panic_block
// (arch/arm64/kernel/setup.c dump_kernel_offset(): "Kernel Offset: disabled", "Memory Limit: none"); 32-bit ARM
// registers none. Shared by a boot's OOM panic (mm/oom_boot.ts) and an Oops's panic in interrupt (panic_oops.ts).
// Simplification: arm64's cpufeature notifier line ("CPU features: 0x...") is not printed.

import type { Kernel } from "../kernel.ts";
import { KERN_EMERG } from "./printk.ts";

/** Print what the notifiers of `arch` print (an empty arch: none registered yet, before the device initcalls). */
export function panicNotifiers(k: Kernel, arch: string): void {
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
}
