// The kernel's fault injection for allocations (src/kernel/debug/fault_inject.ts): failslab=, fail_page_alloc=,
// the debugfs knobs, the task's fail-nth, fail_dump's text per era, and what a failed allocation then does.
import { describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { gfp } from "../../src/kernel/gfp.ts";
import { scanFaultAttr, FaultInjectionError } from "../../src/kernel/debug/fault_inject.ts";

const INSMOD = 108;

function machine(profile = "x86_64-6.1", cmdline = "console=ttyS0", opts: { seed?: number; config?: "debug" | "distro" } = {}): Kernel {
  const k = boot(profile, { cmdline, ...opts });
  k.current = { pid: INSMOD, comm: "insmod" };
  return k;
}
const G = (k: Kernel, name: string) => gfp(k.profile.era, name);
/** n kmalloc(64) calls with the given flags: true where the call failed. */
function kmallocs(k: Kernel, n: number, flags: number): boolean[] {
  return Array.from({ length: n }, () => k.slab.kmalloc(64, flags) === 0n);
}
const since = (k: Kernel, mark: number) => k.log.dmesg(mark).map((l) => l.replace(/^\[[ \d.]+\] /, ""));

describe("setup_fault_attr(): the boot parameters failslab= and fail_page_alloc=", () => {
  it("sscanf %lu,%lu,%d,%d: four fields, blanks before a number allowed, -1 for times, garbage after ignored", () => {
    expect(scanFaultAttr("10,100,0,-1", 64)).toEqual([10, 100, 0, -1]);
    expect(scanFaultAttr("1, 50, 4096, 3junk", 64)).toEqual([1, 50, 4096, 3]);
    expect(scanFaultAttr("1,2", 64)).toEqual([1, 2]);
    expect(scanFaultAttr("1 ,2,3,4", 64)).toEqual([1]); // the literal ',' must follow the number
    expect(scanFaultAttr("-1,0,0,0", 32)).toEqual([]); // vsscanf takes '-' for signed conversions only
    expect(scanFaultAttr("1,2,-3,+4", 32)).toEqual([1, 2, -3]); // and never '+'
    expect(scanFaultAttr("4294967297,0,0,0", 32)).toEqual([1, 0, 0, 0]); // %lu wraps to a 32-bit unsigned long
  });

  it("a well-formed failslab= and fail_page_alloc= set interval, probability, space and times", () => {
    const k = machine("x86_64-6.1", "console=ttyS0 failslab=3,40,128,7 fail_page_alloc=2,100,16,-1");
    expect(k.fault.failslab).toMatchObject({ interval: 3, probability: 40, space: 128, times: 7 });
    expect(k.fault.failPageAlloc).toMatchObject({ interval: 2, probability: 100, space: 16, times: -1 });
  });

  for (const bad of ["failslab=1,2", "fail_page_alloc=x", "failslab="]) {
    it(`"${bad}" prints the kernel's KERN_WARNING "FAULT_INJECTION: failed to parse arguments" and keeps the defaults`, () => {
      const k = machine("x86_64-6.1", `console=ttyS0 ${bad}`);
      const i = k.log.records.findIndex((r) => r.text === "FAULT_INJECTION: failed to parse arguments");
      expect(i).toBeGreaterThan(k.log.records.findIndex((r) => r.text.startsWith("Kernel command line:")));
      expect(k.log.records[i]!.level).toBe(4);
      expect(k.fault.failslab).toMatchObject({ interval: 1, probability: 0, space: 0, times: 1, verbose: 2 });
    });
  }

  it('a bare "failslab" (no =) is not the failslab= parameter: no warning, defaults kept', () => {
    const k = machine("x86_64-6.1", "console=ttyS0 failslab");
    expect(k.log.records.some((r) => r.text.startsWith("FAULT_INJECTION"))).toBe(false);
    expect(k.fault.failslab.probability).toBe(0);
  });

  it("the defaults are FAULT_ATTR_INITIALIZER's and the capabilities' own (ignore-gfp-wait Y; fail_page_alloc min-order 1, ignore-gfp-highmem Y)", () => {
    const k = machine();
    expect(k.fault.failslab).toMatchObject({
      probability: 0,
      interval: 1,
      times: 1,
      space: 0,
      verbose: 2,
      taskFilter: false,
      ignoreGfpWait: true,
      minOrder: 0,
    });
    expect(k.fault.failPageAlloc).toMatchObject({
      probability: 0,
      interval: 1,
      times: 1,
      space: 0,
      verbose: 2,
      ignoreGfpWait: true,
      ignoreGfpHighmem: true,
      minOrder: 1,
    });
  });

  it("the distro kernel has no CONFIG_FAULT_INJECTION: failslab= does nothing and fail-nth does not exist", () => {
    const k = machine("x86_64-6.1", "console=ttyS0 failslab=1,100,0,-1", { config: "distro" });
    expect(kmallocs(k, 5, G(k, "GFP_ATOMIC"))).toEqual([false, false, false, false, false]);
    expect(() => k.fault.writeFailNth(INSMOD, 1)).toThrow(/fail-nth: No such file or directory .*CONFIG_FAULT_INJECTION/);
  });
});

describe("should_fail(): times, interval, space, probability", () => {
  it("times: failslab=1,100,0,2 fails the first two GFP_ATOMIC allocations, then never again", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,0,2");
    expect(kmallocs(k, 5, G(k, "GFP_ATOMIC"))).toEqual([true, true, false, false, false]);
    expect(k.fault.failslab.times).toBe(0);
  });

  it("times -1 is unlimited and is never decremented", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,0,-1");
    expect(kmallocs(k, 4, G(k, "GFP_ATOMIC"))).toEqual([true, true, true, true]);
    expect(k.fault.failslab.times).toBe(-1);
  });

  it("interval 3: every third call fails", () => {
    const k = machine("x86_64-6.1", "failslab=3,100,0,-1");
    expect(kmallocs(k, 7, G(k, "GFP_ATOMIC"))).toEqual([false, false, true, false, false, true, false]);
  });

  it("space: the first `space` bytes of object size are let through (200 bytes over kmalloc-64: three calls)", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,200,-1");
    expect(kmallocs(k, 5, G(k, "GFP_ATOMIC"))).toEqual([false, false, false, true, true]);
    expect(k.fault.failslab.space).toBe(8);
  });

  it("probability 30: about 30% of 300 calls fail, the same ones for the same seed, others for another seed", () => {
    const run = (seed: number) => {
      const k = machine("x86_64-6.1", "failslab=1,30,0,-1", { seed });
      return kmallocs(k, 300, G(k, "GFP_ATOMIC"));
    };
    const a = run(1);
    const failed = a.filter(Boolean).length;
    expect(failed).toBeGreaterThan(60);
    expect(failed).toBeLessThan(120);
    expect(run(1)).toEqual(a);
    expect(run(2)).not.toEqual(a);
  });

  it("3.4 (random32() % 100): probability 50 fails about half, reproducibly per seed", () => {
    const run = (seed: number) => {
      const k = machine("arm-3.4-msm8x25", "failslab=1,50,0,-1", { seed });
      return kmallocs(k, 200, G(k, "GFP_ATOMIC"));
    };
    const a = run(7);
    expect(a.filter(Boolean).length).toBeGreaterThan(70);
    expect(a.filter(Boolean).length).toBeLessThan(130);
    expect(run(7)).toEqual(a);
  });

  it("probability 0 never fails (6.1 returns before counting the interval)", () => {
    const k = machine("x86_64-6.1", "failslab=2,0,0,-1");
    expect(kmallocs(k, 6, G(k, "GFP_ATOMIC")).some(Boolean)).toBe(false);
    expect(k.fault.failslab.count).toBe(0);
  });

  it("ignore-gfp-wait: GFP_KERNEL (may sleep) is skipped by default and fails once the knob is N", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,0,-1");
    expect(kmallocs(k, 2, G(k, "GFP_KERNEL"))).toEqual([false, false]);
    k.fault.setKnob("failslab", "ignore-gfp-wait", "N");
    expect(kmallocs(k, 2, G(k, "GFP_KERNEL"))).toEqual([true, true]);
  });

  it("__GFP_NOFAIL is never failed, by the attribute or by fail-nth", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,0,-1 fail_page_alloc=1,100,0,-1");
    k.fault.setKnobs({ failslab: { "ignore-gfp-wait": "N" }, fail_page_alloc: { "ignore-gfp-wait": "N", "min-order": 0 } });
    k.fault.writeFailNth(INSMOD, 1);
    const nofail = G(k, "GFP_KERNEL") | G(k, "__GFP_NOFAIL");
    expect(k.slab.kmalloc(64, nofail)).not.toBe(0n);
    expect(k.pages.alloc_pages(nofail, 0)).toBeGreaterThanOrEqual(0);
    expect(k.fault.callsOf(INSMOD)).toBe(0);
    expect(k.fault.readFailNth(INSMOD)).toBe(1);
  });

  it("a debugfs write the kernel would refuse is an error naming the file", () => {
    const k = machine();
    expect(() => k.fault.setKnob("failslab", "min-order", 0)).toThrow(FaultInjectionError);
    expect(() => k.fault.setKnob("failslab", "min-order", 0)).toThrow("/sys/kernel/debug/failslab/min-order: No such file or directory");
    expect(() => k.fault.setKnob("fail_page_alloc", "probability", "lots")).toThrow(/fail_page_alloc\/probability: Invalid argument/);
    expect(() => k.fault.setKnob("failslab", "ignore-gfp-wait", "maybe")).toThrow(/Y or N/);
  });
});

describe("fail_page_alloc", () => {
  it("min-order 1 by default: order-0 GFP_ATOMIC pages never fail, an order-1 block does, with no warn_alloc", () => {
    const k = machine("x86_64-6.1", "fail_page_alloc=1,100,0,-1");
    const mark = k.log.mark();
    expect(k.pages.alloc_pages(G(k, "GFP_ATOMIC"), 0)).toBeGreaterThanOrEqual(0);
    expect(k.pages.alloc_pages(G(k, "GFP_ATOMIC"), 1)).toBe(-1);
    const text = since(k, mark);
    expect(text[0]).toBe("FAULT_INJECTION: forcing a failure.");
    expect(text[1]).toBe("name fail_page_alloc, interval 1, probability 100, space 0, times -1");
    expect(text.join("\n")).not.toContain("page allocation failure");
    expect(k.reports.filter((r) => r.kind === "page-alloc-failure")).toEqual([]);
  });

  it("ignore-gfp-highmem: a __GFP_HIGHMEM block is skipped until the knob is N", () => {
    const k = machine("i386-6.1", "fail_page_alloc=1,100,0,-1");
    const hi = G(k, "GFP_ATOMIC") | G(k, "__GFP_HIGHMEM");
    expect(k.pages.alloc_pages(hi, 1)).toBeGreaterThanOrEqual(0);
    k.fault.setKnob("fail_page_alloc", "ignore-gfp-highmem", "N");
    expect(k.pages.alloc_pages(hi, 1)).toBe(-1);
  });

  it("space counts pages (1 << order)", () => {
    const k = machine("x86_64-6.1", "fail_page_alloc=1,100,5,-1");
    const at = G(k, "GFP_ATOMIC");
    expect([1, 1, 1].map(() => k.pages.alloc_pages(at, 1) < 0)).toEqual([false, false, true]);
  });
});

describe("fail-nth (/proc/<pid>/fail-nth, 4.13+)", () => {
  it("the Nth should_fail() call of the task fails although the attribute's probability is 0; read back 0 after", () => {
    const k = machine();
    k.fault.setKnob("failslab", "ignore-gfp-wait", "N");
    k.fault.writeFailNth(INSMOD, 3);
    expect(kmallocs(k, 5, G(k, "GFP_KERNEL"))).toEqual([false, false, true, false, false]);
    expect(k.fault.readFailNth(INSMOD)).toBe(0);
    expect(k.fault.callsOf(INSMOD)).toBe(5);
    expect(k.fault.injected).toMatchObject([{ attr: "failslab", by: "fail-nth", call: 3, size: 64, pid: INSMOD, comm: "insmod" }]);
  });

  it("not reached: the count left reads back positive", () => {
    const k = machine();
    k.fault.setKnob("failslab", "ignore-gfp-wait", "N");
    k.fault.writeFailNth(INSMOD, 10);
    kmallocs(k, 4, G(k, "GFP_KERNEL"));
    expect(k.fault.readFailNth(INSMOD)).toBe(6);
  });

  it("another task's calls do not count", () => {
    const k = machine();
    k.fault.setKnob("failslab", "ignore-gfp-wait", "N");
    k.fault.writeFailNth(INSMOD, 1);
    k.current = { pid: 200, comm: "kworker/0:1" };
    expect(kmallocs(k, 3, G(k, "GFP_KERNEL"))).toEqual([false, false, false]);
    k.current = { pid: INSMOD, comm: "insmod" };
    expect(kmallocs(k, 1, G(k, "GFP_KERNEL"))).toEqual([true]);
  });

  it("fail-nth does not exist before 4.13: the 2.6 and 3.4 kernels say so", () => {
    for (const p of ["i386-2.6", "arm-3.4-msm8x25"]) {
      expect(() => machine(p).fault.writeFailNth(INSMOD, 1)).toThrow(/fail-nth arrived in Linux 4.13/);
    }
  });
});

describe("fail_dump(): the kernel's own lines per era", () => {
  it("6.1: 'FAULT_INJECTION: forcing a failure.' and the name line as one KERN_NOTICE record, then dump_stack() from should_fail_ex", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,0,1");
    const mark = k.log.mark();
    expect(k.slab.kmalloc(100, G(k, "GFP_ATOMIC"))).toBe(0n);
    const text = since(k, mark);
    expect(text.slice(0, 2)).toEqual(["FAULT_INJECTION: forcing a failure.", "name failslab, interval 1, probability 100, space 0, times 1"]);
    expect(k.log.records[mark]!.level).toBe(5);
    expect(k.log.records[mark]!.tsNs).toBe(k.log.records[mark + 1]!.tsNs);
    expect(text[2]).toMatch(/^CPU: 0 PID: 108 Comm: insmod /);
    const trace = text.slice(text.indexOf("Call Trace:"));
    expect(trace.slice(1, 8).map((l) => l.trim().replace(/\+0x.*/, ""))).toEqual([
      "<TASK>",
      "dump_stack_lvl",
      "should_fail_ex",
      "should_failslab",
      "slab_pre_alloc_hook.constprop.0",
      "__kmem_cache_alloc_node",
      "__kmalloc",
    ]);
    // times was 1 when printed, 0 after: no more failures.
    expect(k.slab.kmalloc(100, G(k, "GFP_ATOMIC"))).not.toBe(0n);
  });

  it("6.1: __GFP_NOWARN silences fail_dump (FAULT_NOWARN) but the allocation still fails", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,0,-1");
    const mark = k.log.mark();
    expect(k.slab.kmalloc(100, G(k, "GFP_ATOMIC") | G(k, "__GFP_NOWARN"))).toBe(0n);
    expect(since(k, mark)).toEqual([]);
  });

  for (const p of ["arm-3.4-msm8x25", "i386-2.6"]) {
    it(`${p}: 'FAULT_INJECTION: forcing a failure' without the period and without the name line (added in 3.19), even with __GFP_NOWARN`, () => {
      const k = machine(p, "failslab=1,100,0,-1");
      const mark = k.log.mark();
      expect(k.slab.kmalloc(100, G(k, "GFP_ATOMIC") | G(k, "__GFP_NOWARN"))).toBe(0n);
      const text = since(k, mark);
      expect(text[0]).toBe("FAULT_INJECTION: forcing a failure");
      expect(text.some((l) => l.startsWith("name "))).toBe(false);
      expect(text.some((l) => /should_fail\+/.test(l))).toBe(true);
    });
  }

  it("verbose 1 prints the notice without the stack; verbose 0 prints nothing", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,0,-1");
    k.fault.setKnob("failslab", "verbose", 1);
    let mark = k.log.mark();
    k.slab.kmalloc(8, G(k, "GFP_ATOMIC"));
    expect(since(k, mark)).toEqual(["FAULT_INJECTION: forcing a failure.", "name failslab, interval 1, probability 100, space 0, times -1"]);
    k.fault.setKnob("failslab", "verbose", 0);
    mark = k.log.mark();
    expect(k.slab.kmalloc(8, G(k, "GFP_ATOMIC"))).toBe(0n);
    expect(since(k, mark)).toEqual([]);
  });
});

describe("what a failed allocation then does", () => {
  it("kmem_cache_alloc of a module's cache fails with the cache's object size as should_fail's size", () => {
    const k = machine("x86_64-6.1", "failslab=1,100,0,1");
    const c = k.slab.kmem_cache_create("my_cache", 72, 0, 0)!;
    expect(k.slab.kmem_cache_alloc(c, G(k, "GFP_ATOMIC"))).toBe(0n);
    expect(k.fault.injected[0]).toMatchObject({ attr: "failslab", size: 72 });
  });

  it("6.1 vmalloc: a failed vm_struct kzalloc prints 'vmalloc error: size N, vm_struct allocation failed'", () => {
    const k = machine();
    k.fault.setKnobs({ failslab: { "ignore-gfp-wait": "N" } });
    k.fault.writeFailNth(INSMOD, 1);
    const mark = k.log.mark();
    expect(k.vmalloc.vmalloc(5 * 4096)).toBe(0n);
    expect(since(k, mark).some((l) => l.startsWith("insmod: vmalloc error: size 20480, vm_struct allocation failed, mode:0xcc0(GFP_KERNEL)"))).toBe(true);
  });

  it("6.1 vmalloc takes its pages in bulk: a fault injected into the bulk call is made up page by page (the vmalloc succeeds)", () => {
    const k = machine();
    k.fault.setKnobs({ fail_page_alloc: { "ignore-gfp-wait": "N", "ignore-gfp-highmem": "N", "min-order": 0 } });
    k.fault.writeFailNth(INSMOD, 1);
    expect(k.vmalloc.vmalloc(250 * 4096)).not.toBe(0n);
    expect(k.fault.injected).toMatchObject([{ attr: "fail_page_alloc", order: 0, size: 1, call: 1 }]);
    // 1 failed bulk call, then 250 single pages
    expect(k.fault.callsOf(INSMOD)).toBe(251);
  });

  it("6.1 vmalloc without faults: one should_fail per bulk call of at most 100 pages", () => {
    const k = machine();
    k.fault.setKnobs({ fail_page_alloc: { "ignore-gfp-wait": "N", "ignore-gfp-highmem": "N", "min-order": 0 } });
    expect(k.vmalloc.vmalloc(250 * 4096)).not.toBe(0n);
    expect(k.fault.callsOf(INSMOD)).toBe(3);
  });
});
