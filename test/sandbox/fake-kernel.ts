// A kernel for the sandbox's machinery tests, made of the real kernel's log, clock, kallsyms and taint on a real
// profile, with a small page allocator stand-in (a bump allocator that records what is live). It lets the
// limits, escapes, handles and determinism tests run without depending on the whole boot path; tests of the
// real behaviour use boot() (test/sandbox/real.test.ts).

import { getProfile } from "../../src/kernel/profiles.ts";
import { Clock } from "../../src/kernel/kernel/time.ts";
import { LogBuffer, KERN_INFO } from "../../src/kernel/kernel/printk.ts";
import { Kallsyms } from "../../src/kernel/kernel/kallsyms.ts";
import { Taint } from "../../src/kernel/kernel/panic.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";
import type { BootOptions, Report } from "../../src/kernel/types.ts";
import type { KernelDeps } from "../../sandbox/run.ts";
import type { ApiEntry } from "../../sandbox/table.ts";
import { MODULE_ROWS } from "../../sandbox/api/module.ts";
import { PRINTK_ROWS } from "../../sandbox/api/printk.ts";
import { GFP_ROWS } from "../../sandbox/api/gfp.ts";
import { TIME_ROWS } from "../../sandbox/api/time.ts";
import { PAGE_ALLOC_ROWS } from "../../sandbox/api/page_alloc.ts";
import { SIM_ROWS } from "../../sandbox/api/sim.ts";
import { p } from "../../sandbox/table.ts";

class BumpPages {
  next: bigint;
  live = new Map<bigint, number>();
  constructor(
    private k: { printk: (f: string, ...a: (string | number | bigint)[]) => number },
    base: bigint,
  ) {
    this.next = base + 0x100000n;
  }
  __get_free_pages(_gfp: number, order: number): bigint {
    const a = this.next;
    this.next += 4096n << BigInt(order);
    this.live.set(a, order);
    return a;
  }
  get_zeroed_page(gfp: number): bigint {
    return this.__get_free_pages(gfp, 0);
  }
  free_pages(addr: bigint, order: number): void {
    if (this.live.get(addr) !== order) this.k.printk(KERN_INFO + "bad free_pages(%px, %d)\n", addr, order);
    this.live.delete(addr);
  }
  virt_to_phys(addr: bigint): number {
    return Number(addr - 0xffff888000000000n);
  }
  phys_to_virt(pa: number): bigint {
    return 0xffff888000000000n + BigInt(pa);
  }
  virt_addr_valid(addr: bigint): boolean {
    return addr >= 0xffff888000000000n && addr < 0xffff888020000000n;
  }
}

export function fakeBoot(profileName: string, opts: BootOptions = {}): Kernel {
  const profile = getProfile(profileName);
  const reports: Report[] = [];
  const wide = profile.arch === "x86_64" || profile.arch === "arm64";
  const k: Record<string, unknown> = {
    profile,
    opts: {
      mem: opts.mem ?? profile.defaultMem,
      cmdline: opts.cmdline ?? profile.defaultCmdline,
      config: opts.config ?? profile.defaultConfig,
      seed: opts.seed,
    },
    params: new Map(),
    clock: new Clock(profile.hz),
    reports,
    current: { pid: 0, comm: "swapper/0" },
    captureModuleStack: () => [],
    report(r: Report) {
      reports.push(r);
    },
    printk(fmt: string, ...args: (number | bigint | string)[]) {
      return (k.log as LogBuffer).printk(fmt, ...args);
    },
    layout: wide
      ? {
          bits: 64,
          pageSize: 4096,
          pageShift: 12,
          pageOffset: 0xffff888000000000n,
          highMemory: 0xffff888020000000n,
          vmallocStart: 0xffffc90000000000n,
          vmallocEnd: 0xffffe8ffffffffffn,
          image: [],
        }
      : {
          bits: 32,
          pageSize: 4096,
          pageShift: 12,
          pageOffset: 0xc0000000n,
          highMemory: 0xca000000n,
          vmallocStart: 0xca800000n,
          vmallocEnd: 0xff7fe000n,
          image: [],
        },
  };
  k.log = new LogBuffer(k as never);
  k.kallsyms = new Kallsyms(k as never);
  k.taint = new Taint(k as never);
  k.pages = new BumpPages(k as never, wide ? 0xffff888000000000n : 0xc0000000n);
  (k.log as LogBuffer).printk(KERN_INFO + "Linux version %s (fake boot for sandbox tests)\n", profile.release);
  return k as unknown as Kernel;
}

/** A host function that does nothing: the bare cost of the boundary, measured beside the real rows. */
export const NOOP_ROW: ApiEntry = {
  kind: "function",
  module: "sim",
  name: "noop",
  params: [],
  returns: "void",
  context: "any",
  doc: "test only",
  impl: () => undefined,
};

export const TEST_ROWS: ApiEntry[] = [
  { kind: "class", module: "linux", name: "spinlock_t", madeWith: "DEFINE_SPINLOCK()", doc: "test handle" },
  {
    kind: "function",
    module: "linux",
    name: "DEFINE_SPINLOCK",
    params: [],
    returns: "handle:spinlock_t",
    context: "any",
    doc: "test handle maker",
    impl: (c) => {
      const s = c.k as unknown as { __locks?: number };
      s.__locks = (s.__locks ?? 0) + 1;
      return 100 + s.__locks;
    },
  },
  {
    kind: "function",
    module: "linux",
    name: "spin_lock",
    params: [p("lock", "handle:spinlock_t")],
    returns: "int",
    context: "any",
    doc: "test: returns the lock id it got",
    impl: (_c, id: number) => id,
  },
  {
    kind: "class",
    module: "linux",
    name: "timer_list",
    create: (c) => ((c.k as unknown as { __t?: number }).__t = ((c.k as unknown as { __t?: number }).__t ?? 0) + 1),
    doc: "test handle",
  },
  {
    kind: "function",
    module: "linux",
    name: "call_me_back",
    params: [
      p("t", "handle:timer_list"),
      p("fn", "fn", undefined, {
        params: [
          { name: "t", type: "handle:timer_list" },
          { name: "v", type: "addr" },
        ],
        returns: "int",
      }),
    ],
    returns: "int",
    context: "any",
    doc: "test: calls fn(t, 0x1234n) at once and returns its result (or -1)",
    impl: (_c, t: number, fn: (...a: unknown[]) => unknown) => {
      const r = fn(t, 0x1234n);
      return typeof r === "number" ? r : -1;
    },
  },
  NOOP_ROW,
];

export function fakeDeps(extra: ApiEntry[] = TEST_ROWS): KernelDeps {
  return {
    boot: (name, opts) => fakeBoot(name, opts),
    readProc: (k, name) => {
      if (name === "live") return `${(k.pages as unknown as BumpPages).live.size} live\n`;
      throw new Error(`no such file: /proc/${name}`);
    },
    api: [...MODULE_ROWS, ...PRINTK_ROWS, ...GFP_ROWS, ...TIME_ROWS, ...PAGE_ALLOC_ROWS, ...SIM_ROWS, ...extra],
    inspect: (k) => ({ live: [...(k.pages as unknown as BumpPages).live.keys()].map((a) => "0x" + a.toString(16)) }),
    defaultProfile: "x86_64-6.1",
  };
}
