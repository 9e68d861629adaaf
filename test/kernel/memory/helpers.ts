// A booted kernel as insmod sees it: the module "cell" loading, its init function on the stack, pid 108.
import { boot, type Kernel } from "../../../src/kernel/kernel.ts";
import type { ConfigKind } from "../../../src/kernel/types.ts";
import { KernelOops } from "../../../src/kernel/kernel/module.ts";

export const GFP_KERNEL = 0xcc0;

export function insmod(profile: string, config: ConfigKind, opts: { cmdline?: string; mem?: number } = {}): Kernel {
  const k = boot(profile, { config, ...opts });
  k.captureModuleStack = () => [{ fn: "mem_module_init", module: "cell", line: 5 }];
  k.current = { pid: 108, comm: "insmod" };
  k.modules.load("cell", "OE");
  return k;
}

/** Run f; return the dmesg lines it printed (no timestamps) and the KernelOops it threw, if any. */
export function during(k: Kernel, f: () => void): { lines: string[]; oops?: KernelOops } {
  const m = k.log.mark();
  let oops: KernelOops | undefined;
  try {
    f();
  } catch (e) {
    if (!(e instanceof KernelOops)) throw e;
    oops = e;
  }
  return { lines: k.log.texts(m), oops };
}
