// A minimal Kernel-like object for the printk/vsprintf/splat tests: the real Clock, Kallsyms, Taint and LogBuffer
// over a hand-written profile (profiles.ts is written separately; these tests do not depend on it).
import type { Arch, Era, Profile, Report } from "../../src/kernel/types.ts";
import { Clock } from "../../src/kernel/kernel/time.ts";
import { Kallsyms } from "../../src/kernel/kernel/kallsyms.ts";
import { Taint } from "../../src/kernel/kernel/panic.ts";
import { LogBuffer, type PrintkArg } from "../../src/kernel/kernel/printk.ts";
import type { ModuleStackFrame } from "../../src/kernel/debug/splat.ts";

const QEMU_PC = "QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014";
const GCC12 = "(debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40)";

export const PROFILES: Record<string, Partial<Profile> & { arch: Arch; era: Era }> = {
  "x86_64-6.1": {
    arch: "x86_64",
    era: "6.1",
    release: "6.1.0-56-amd64",
    versionString: `Linux version 6.1.0-56-amd64 ${GCC12} #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)`,
    board: QEMU_PC,
    hashedPointers: true,
    printkLevelStyle: "soh",
  },
  "i386-6.1": {
    arch: "i386",
    era: "6.1",
    release: "6.1.0-50-686",
    versionString: `Linux version 6.1.0-50-686 ${GCC12} #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)`,
    board: QEMU_PC,
    hashedPointers: true,
    printkLevelStyle: "soh",
  },
  "arm-6.1": {
    arch: "arm",
    era: "6.1",
    release: "6.1.0-50-armmp",
    versionString: `Linux version 6.1.0-50-armmp ${GCC12} #1 SMP Debian 6.1.176-1 (2026-07-02)`,
    board: "Generic DT based system",
    hashedPointers: true,
    printkLevelStyle: "soh",
  },
  "x86_64-custom-6.1": {
    arch: "x86_64",
    era: "6.1",
    release: "6.1.192",
    versionString:
      "Linux version 6.1.192 (root@vm) (gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Sun Nov 22 03:19:03 UTC 2026",
    board: "",
    hashedPointers: true,
    printkLevelStyle: "soh",
  },
  "x86_64-2.6": {
    arch: "x86_64",
    era: "2.6",
    release: "2.6.32-5-amd64",
    versionString:
      "Linux version 2.6.32-5-amd64 (Debian 2.6.32-48squeeze6) (jmm@debian.org) (gcc version 4.3.5 (Debian 4.3.5-4) ) #1 SMP Tue Jul 1 15:04:21 UTC 2014",
    board: "Standard PC (i440FX + PIIX, 1996)",
    hashedPointers: false,
    printkLevelStyle: "angle",
  },
  "i386-3.4": {
    arch: "i386",
    era: "3.4",
    release: "3.4.113",
    versionString: "Linux version 3.4.113 (root@vm) (gcc version 4.7.2 (Debian 4.7.2-5) ) #1 SMP Mon Oct 24 12:00:00 UTC 2016",
    board: "Standard PC (i440FX + PIIX, 1996)",
    hashedPointers: false,
    printkLevelStyle: "angle",
  },
  "arm-3.4": {
    arch: "arm",
    era: "3.4",
    release: "3.4.113",
    versionString: "Linux version 3.4.113 (root@vm) (gcc version 4.7.2 (Debian 4.7.2-5) ) #1 SMP Mon Oct 24 12:00:00 UTC 2016",
    board: "",
    hashedPointers: false,
    printkLevelStyle: "angle",
  },
};

export interface FakeKernel {
  profile: Profile;
  opts: { seed?: number; config: "debug" | "distro" };
  params: Map<string, string | true>;
  clock: Clock;
  kallsyms: Kallsyms;
  taint: Taint;
  log: LogBuffer;
  current: { pid: number; comm: string };
  reports: Report[];
  moduleStack: ModuleStackFrame[];
  captureModuleStack: () => ModuleStackFrame[];
  report(r: Report): void;
  printk(fmt: string, ...args: PrintkArg[]): number;
}

export function fakeKernel(name: string, o: { seed?: number; cmdline?: string[] } = {}): FakeKernel {
  const p = PROFILES[name];
  if (!p) throw new Error(`no fake profile ${name}`);
  const profile: Profile = {
    name,
    description: name,
    release: "",
    versionString: "",
    board: "",
    defaultMem: 512 << 20,
    defaultCmdline: "",
    defaultConfig: "distro",
    hz: 250,
    slab: "SLUB",
    maxOrder: 11,
    kmallocMinSize: 8,
    nrCpus: 1,
    printkLevelStyle: "soh",
    hashedPointers: true,
    ...p,
  } as Profile;
  const params = new Map<string, string | true>();
  for (const c of o.cmdline ?? []) params.set(c, true);
  const k = {
    profile,
    opts: { seed: o.seed, config: "distro" },
    params,
    current: { pid: 0, comm: "swapper/0" },
    reports: [],
    moduleStack: [] as ModuleStackFrame[],
  } as unknown as FakeKernel;
  k.captureModuleStack = () => k.moduleStack;
  k.report = (r) => {
    k.reports.push(r);
  };
  k.printk = (fmt, ...args) => k.log.printk(fmt, ...args);
  k.clock = new Clock(profile.hz);
  k.kallsyms = new Kallsyms(k);
  k.taint = new Taint(k);
  k.log = new LogBuffer(k);
  return k;
}
