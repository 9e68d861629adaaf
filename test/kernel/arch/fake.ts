// A minimal stand-in for the Kernel that arch setup needs (profile, opts, params, printk), so the arch
// tests do not depend on the rest of the kernel. printk here understands the conversions arch code uses.
import { getProfile } from "../../../src/kernel/profiles.ts";
import { parseCmdline } from "../../../src/kernel/kernel/params.ts";
import { setup_arch, mem_init_print } from "../../../src/kernel/arch/index.ts";
import type { ConfigKind, Layout } from "../../../src/kernel/types.ts";

export interface FakeBoot {
  layout: Layout;
  lines: string[];
  levels: string[];
  profile: ReturnType<typeof getProfile>;
  opts: { mem: number; cmdline: string; seed?: number; config: ConfigKind };
}

export function fakeBoot(name: string, o: { mem?: number; cmdline?: string; seed?: number; config?: ConfigKind } = {}): FakeBoot {
  const profile = getProfile(name);
  const cmdline = o.cmdline ?? profile.defaultCmdline;
  const opts = { mem: o.mem ?? profile.defaultMem, cmdline, seed: o.seed, config: o.config ?? profile.defaultConfig };
  const lines: string[] = [];
  const levels: string[] = [];
  const k = {
    profile,
    opts,
    params: parseCmdline(cmdline),
    printk(fmt: string, ...args: (number | bigint | string)[]): number {
      let level = "";
      const m = /^\u0001([0-7])/.exec(fmt);
      if (m) {
        level = m[1];
        fmt = fmt.slice(2);
      }
      let i = 0;
      const text = fmt.replace(/%(l|ll|L)?[sduxp]/g, () => String(args[i++]));
      for (const line of text.split("\n").slice(0, -1)) {
        lines.push(line);
        levels.push(level);
      }
      return text.length;
    },
    layout: undefined as unknown as Layout,
  };
  k.layout = setup_arch(k);
  mem_init_print(k);
  return { layout: k.layout, lines, levels, profile, opts };
}

export { REAL, realLog, realBootLines, realSection, realZoneLines } from "../real-kernel.ts";

/** Format a zone range the way free_area_init() prints it (6.1). */
export function zoneLine(name: string, startPfn: number, endPfn: number): string {
  const h = (v: number) => "0x" + v.toString(16).padStart(16, "0");
  return `  ${name.padEnd(8)} ` + (endPfn > startPfn ? `[mem ${h(startPfn * 4096)}-${h(endPfn * 4096 - 1)}]` : "empty");
}
