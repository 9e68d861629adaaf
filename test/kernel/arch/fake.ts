// A minimal stand-in for the Kernel that arch setup needs (profile, opts, params, printk), so the arch
// tests do not depend on the rest of the kernel. printk here understands the conversions arch code uses.
import { readFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
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

export const REAL = resolve(__dirname, "../../../../shared/reference/real-kernel");
export const haveReal = existsSync(resolve(REAL, "SUMMARY.md"));

/** A real log with CRLF stripped. */
export function realLog(file: string): string[] {
  return readFileSync(resolve(REAL, file), "utf8").replace(/\r/g, "").split("\n");
}

/** The boot messages of the first (live) boot, without timestamps, up to (excluding) the first line matching `stop`. */
export function realBootLines(file: string, stop: RegExp): string[] {
  const out: string[] = [];
  for (const raw of realLog(file)) {
    const m = /\[\s*\d+\.\d{6}\] (.*)$/.exec(raw);
    if (!m) continue;
    if (stop.test(m[1])) break;
    out.push(m[1]);
  }
  return out;
}

/** Lines of a MEMDEMO-MARK section (e.g. "/proc/iomem"), up to the blank line that ends it. */
export function realSection(file: string, mark: string): string[] {
  const lines = realLog(file);
  const i = lines.findIndex((l) => l.includes(`MEMDEMO-MARK: BEGIN ${mark} =====`));
  const out: string[] = [];
  for (let j = i + 1; j < lines.length && lines[j] !== ""; j++) out.push(lines[j]);
  return out;
}

/** Format a zone range the way free_area_init() prints it (6.1). */
export function zoneLine(name: string, startPfn: number, endPfn: number): string {
  const h = (v: number) => "0x" + v.toString(16).padStart(16, "0");
  return `  ${name.padEnd(8)} ` + (endPfn > startPfn ? `[mem ${h(startPfn * 4096)}-${h(endPfn * 4096 - 1)}]` : "empty");
}

/** The real "Zone ranges:" block (first boot), without the Device line (ZONE_DEVICE is not an arch zone). */
export function realZoneLines(file: string): string[] {
  const lines = realBootLines(file, /^Movable zone start/);
  const i = lines.indexOf("Zone ranges:");
  return lines.slice(i + 1).filter((l) => !/^\s+Device /.test(l));
}
