// Cells written to break the sandbox's own limits (issue 13), one class per describe: the CPU deadline inside long
// kernel calls, the guest memory limit against ArrayBuffers, the call log's size, printk's bounds, nesting between
// the module and the kernel, kmem_cache_destroy at the wrong moment, argument checks that must not run guest code,
// and the RAM a run may write. Each asserts the limit report (or the kernel's own message), that the kernel is
// consistent afterwards (checkInvariants: no kmodlab bug report), and that the host's memory stayed bounded
// (generous bounds: before the fixes these cells took 1.6-4.3 GB, or crashed Node). Times are never asserted
// (bench/ measures them; the figures are in the closing note).

import { describe, expect, it } from "vitest";
import { runModule, type RunOptions } from "../../sandbox/run.ts";
import { loadQuickJS, quickJSGeneration } from "../../sandbox/quickjs.ts";
import { CALL_LOG_BUDGET, DROPPED_MARKER, type CallRecord } from "../../sandbox/calllog.ts";
import { MAX_NESTING } from "../../sandbox/limits.ts";
import type { RunResult } from "../../sandbox/result.ts";

const MiB = 1 << 20;
/** Generous host bounds: resident memory of the whole test process, and the RunResult's JSON. */
const RSS_BOUND = 1.5e9;

const HEAD = `import { MODULE_LICENSE, module_init, module_exit, printk, KERN_INFO, kmalloc, kfree, GFP_KERNEL, vmalloc, vfree,
  kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, wait_event, timer_list, timer_setup, mod_timer,
  jiffies, alloc_pages, page_address, memset, udelay } from "linux";
import { advance } from "sim";
MODULE_LICENSE("GPL");
`;
/** Line numbers in a cell: HEAD is 5 lines, so the cell's first own line is 6. */
const FIRST = 6;

/** The imports every era has (timer_setup, for one, is 4.15+). */
const OLD_HEAD = `import { MODULE_LICENSE, module_init, printk, KERN_INFO, GFP_KERNEL, kmem_cache_create, kmem_cache_alloc, kmem_cache_destroy } from "linux";
MODULE_LICENSE("GPL");
`;

async function hostile(body: string, options: RunOptions = {}, head = HEAD): Promise<RunResult> {
  const r = await runModule(head + body, { checkInvariants: true, ...options });
  // The kernel is consistent afterwards, and nothing was kmodlab's own failure.
  expect(r.reports.filter((x) => x.kind === "bug" && /^kmodlab/.test(x.title)).map((x) => x.title)).toEqual([]);
  expect(process.memoryUsage().rss).toBeLessThan(RSS_BOUND);
  return r;
}

const limitOf = (r: RunResult) => r.reports.find((x) => x.limit)?.limit;
const jsonSize = (r: RunResult) => JSON.stringify(r).length;

async function expectNextRunFine(): Promise<void> {
  const r = await runModule(`import { module_init } from "linux"; module_init(() => 0);`);
  expect(r.reports).toEqual([]);
}

describe("the CPU deadline reaches inside kernel calls", () => {
  it("a loop of vmalloc(400 MiB) + vfree on the debug kernel stops at the CPU limit, not thousands of calls later", async () => {
    const r = await hostile(`module_init(() => { for (;;) { const p = vmalloc(400 * 1024 * 1024); vfree(p); } });`, {
      config: "debug",
      limits: { cpuMs: 1000 },
    });
    const t = r.reports.find((x) => x.kind === "timeout")!;
    expect(t.limit).toBe("cpu");
    expect(t.title).toBe("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]");
    // QuickJS looks at its interrupt handler every few thousand bytecodes (a thousand loop turns here): the
    // deadline is seen at the next kernel call instead.
    expect(r.stats.kernelCalls).toBeLessThan(200);
  }, 60_000);

  it("one vmalloc of 6 GiB stops inside the call and gives its pages back (the kernel stays consistent)", async () => {
    const r = await hostile(`module_init(() => { const p = vmalloc(6 * 1024 * 1024 * 1024); printk(KERN_INFO + "got %px\\n", p); return 0; });`, {
      mem: 8 * 1024 * MiB,
      config: "debug",
      limits: { cpuMs: 200 },
    });
    expect(limitOf(r)).toBe("cpu");
    expect(r.dmesg.some((l) => l.includes("got "))).toBe(false);
  }, 60_000);
});

describe("the CPU deadline reaches inside ioremap", () => {
  it("ioremap of 16 GiB in a loop stops at the CPU limit, inside the mapping, with the area released", async () => {
    const r = await runModule(
      `import { MODULE_LICENSE, module_init, ioremap, iounmap } from "linux";\nMODULE_LICENSE("GPL");\nmodule_init(() => { for (;;) { const p = ioremap(0x100000000n, 16 * 1024 * 1024 * 1024); if (p) iounmap(p); } });`,
      { checkInvariants: true, limits: { cpuMs: 500 } },
    );
    expect(limitOf(r)).toBe("cpu");
    expect(r.reports.filter((x) => x.kind === "bug")).toEqual([]);
    expect(r.stats.kernelCalls).toBeLessThan(4);
  }, 60_000);
});

describe("the guest memory limit counts ArrayBuffers and every other byte of the guest heap", () => {
  const cases: [string, string][] = [
    ["ArrayBuffer", `const keep: ArrayBuffer[] = []; for (let i = 0; i < 40; i++) keep.push(new ArrayBuffer(50 * 1024 * 1024));`],
    ["Uint8Array", `const keep: Uint8Array[] = []; for (let i = 0; i < 40; i++) keep.push(new Uint8Array(50 * 1024 * 1024));`],
    ["SharedArrayBuffer", `const keep: SharedArrayBuffer[] = []; for (let i = 0; i < 40; i++) keep.push(new SharedArrayBuffer(50 * 1024 * 1024));`],
    [
      "Float64Array of 8 MiB, each caught",
      `const keep: Float64Array[] = []; for (let i = 0; i < 400; i++) { try { keep.push(new Float64Array(1 << 20)); } catch (e) {} }`,
    ],
    ["flat strings of doubling length", `let s = "x"; const keep: string[] = []; for (let i = 0; i < 40; i++) { s = s + s; keep.push(s.substring(1)); }`],
  ];
  for (const [what, code] of cases) {
    it(`${what}: stopped as out-of-memory naming the limit, with the WebAssembly memory bounded by it`, async () => {
      const qjs = await loadQuickJS();
      const mem = qjs.getWasmMemory();
      const before = mem.buffer.byteLength;
      const r = await hostile(`module_init(() => { ${code} return 0; });`);
      const oom = r.reports.find((x) => x.kind === "out-of-memory")!;
      expect(oom.limit).toBe("memory");
      expect(oom.title).toBe(`kmodlab: guest memory limit reached (${64 * MiB} bytes)`);
      expect(oom.explain).toContain("64 MiB (the run's guest memory limit)");
      expect(mem.buffer.byteLength).toBeLessThanOrEqual(before + 64 * MiB);
      await expectNextRunFine();
    }, 60_000);
  }
});

describe("the call log is bounded", () => {
  it("400 x printk('%.0s', a 1 MiB string): strings cut with their length kept, the result stays small", async () => {
    const r = await hostile(`module_init(() => { const s = "x".repeat(1 << 20); for (let i = 0; i < 400; i++) printk("%.0s", s); return 0; });`, {
      limits: { cpuMs: 60_000 },
    });
    const calls = r.kernel.calls as CallRecord[];
    const printks = calls.filter((c) => c.fn === "printk");
    expect(printks.length).toBe(400);
    expect(printks[0]!.args[1]).toBe("x".repeat(CALL_LOG_BUDGET.stringChars));
    expect(printks[0]!.cut).toEqual([[1, 1 << 20]]);
    expect(jsonSize(r)).toBeLessThan(2 * MiB);
  }, 120_000);

  it("300000 cheap calls: past the budget the droppable ones go behind one marker; allocations and frees are kept", async () => {
    const r = await hostile(
      `module_init(() => { for (let i = 0; i < 300000; i++) udelay(0); const p = kmalloc(64, GFP_KERNEL); printk(KERN_INFO + "kept %d\\n", 7); kfree(p); return 0; });`,
      { limits: { cpuMs: 120_000 } },
    );
    const calls = r.kernel.calls as CallRecord[];
    const marker = calls.find((c) => c.fn === DROPPED_MARKER)!;
    const kept = calls.filter((c) => c.fn === "udelay").length;
    expect(kept).toBeLessThanOrEqual(CALL_LOG_BUDGET.entries);
    expect(marker.dropped).toBe(300000 - kept);
    expect((r.kernel as { callsDropped?: Record<string, number> }).callsDropped).toEqual({ udelay: 300000 - kept });
    expect(calls.filter((c) => c.fn === "kmalloc" || c.fn === "kfree").length).toBe(2);
    expect(calls.find((c) => c.fn === "printk")?.args).toEqual(["\u00016kept %d\n", 7]);
    expect(jsonSize(r)).toBeLessThan(40 * MiB);
  }, 120_000);
});

describe("printk formats into a bounded buffer and keeps at most the era's record", () => {
  it("6.1: a field width of 8 MiB builds no 8 MiB string; a record holds at most LOG_LINE_MAX - 1 characters", async () => {
    const r = await hostile(`module_init(() => { for (let i = 0; i < 20; i++) printk(KERN_INFO + "%*d|%*d\\n", 8 << 20, 1, 8 << 20, 2); return 0; });`);
    const lines = r.dmesg.filter((l) => /^\[[ \d.]+\] {100}/.test(l));
    expect(lines.length).toBe(20);
    // "\0016" + 989 spaces: 991 characters formatted (LOG_LINE_MAX 992 with the NUL), the level prefix stripped
    for (const l of lines) expect(l.replace(/^\[[ \d.]+\] /, "")).toBe(" ".repeat(989));
    expect(jsonSize(r)).toBeLessThan(2 * MiB);
  });

  it("2.6: printk_buf[1024] keeps 1023 characters of one call, its '<6>' prefix included", async () => {
    const r = await hostile(`module_init(() => { printk(KERN_INFO + "%s\\n", "y".repeat(5000)); return 0; });`, { profile: "i386-2.6" }, OLD_HEAD);
    const l = r.dmesg.find((x) => x.includes("yyy"))!;
    expect(l.replace(/^\[[ \d.]+\] /, "")).toBe("y".repeat(1020));
  });

  it("3.4: a width past 32767 reads as the s16 printf_spec holds it (2^23 reads as 0: no padding at all)", async () => {
    const r = await hostile(`module_init(() => { printk(KERN_INFO + "[%*d]\\n", 8 << 20, 5); return 0; });`, { profile: "arm-3.4-msm8x25" }, OLD_HEAD);
    expect(r.dmesg.some((l) => l.endsWith("] [5]"))).toBe(true);
  });

  it("the log limit is checked before a record is stored: the message past it never reaches dmesg", async () => {
    const r = await hostile(`module_init(() => { printk(KERN_INFO + "%s\\n", "a".repeat(60)); printk(KERN_INFO + "%s\\n", "b".repeat(60)); return 0; });`, {
      limits: { logBytes: 100 },
    });
    expect(limitOf(r)).toBe("log");
    expect(r.dmesg.some((l) => l.includes("a".repeat(60)))).toBe(true);
    expect(r.dmesg.some((l) => l.includes("bbbb"))).toBe(false);
  });
});

describe("nesting between the module and the kernel ends in the stack-limit report at the cell's line", () => {
  const cases: [string, string, number][] = [
    [
      "a slab ctor that allocates from its own cache",
      `let c: any;\nmodule_init(() => { c = kmem_cache_create("rec", 64, 0, 0, () => { kmem_cache_alloc(c, GFP_KERNEL); });\n  kmem_cache_alloc(c, GFP_KERNEL); return 0; });`,
      FIRST + 1,
    ],
    [
      "a wait_event condition that calls wait_event",
      `const f = (): boolean => { wait_event(f); return false; };\nmodule_init(() => { wait_event(f); return 0; });`,
      FIRST,
    ],
  ];
  for (const [what, code, line] of cases) {
    it(
      what,
      async () => {
        const generation = quickJSGeneration();
        const r = await hostile(code);
        const rep = r.reports.find((x) => x.limit === "stack")!;
        expect(rep.title).toBe(`kmodlab: stack depth limit reached (${MAX_NESTING} nested calls between the module and the kernel)`);
        expect(rep.kind).toBe("limit");
        expect(rep.line).toBe(line);
        expect(r.reports.filter((x) => /Maximum call stack|internal error/.test(x.title))).toEqual([]);
        // no host stack overflow inside the WebAssembly, so no teardown abort and no module thrown away
        expect(quickJSGeneration()).toBe(generation);
        await expectNextRunFine();
      },
      60_000,
    );
  }
});

describe("timers re-entering", () => {
  it("a timer callback that re-arms itself and lets time pass ends at a limit, with no host failure", async () => {
    const generation = quickJSGeneration();
    const r = await hostile(
      `const t = new timer_list();\nfunction tick() { mod_timer(t, jiffies + 1); advance(10); }\nmodule_init(() => { timer_setup(t, tick, 0); mod_timer(t, jiffies + 1); advance(10); return 0; });`,
      { limits: { cpuMs: 1000 } },
    );
    expect(["cpu", "stack"]).toContain(limitOf(r));
    expect(r.reports.filter((x) => /Maximum call stack|internal error/.test(x.title))).toEqual([]);
    expect(quickJSGeneration()).toBe(generation);
    await expectNextRunFine();
  }, 60_000);
});

describe("kmem_cache_destroy at the wrong moment prints the era's message and leaves the kernel consistent", () => {
  it("6.1: from the cache's own ctor, the slab being built counts: 'Slab cache still has objects' with its WARN", async () => {
    const r = await hostile(
      `let c: any;\nmodule_init(() => { c = kmem_cache_create("selfd", 64, 0, 0, () => { kmem_cache_destroy(c); }); kmem_cache_alloc(c, GFP_KERNEL); return 0; });`,
    );
    expect(r.dmesg.some((l) => /kmem_cache_destroy selfd: Slab cache still has objects when called from /.test(l))).toBe(true);
    expect(r.reports.some((x) => /^WARNING: CPU: 0 PID: \d+ at mm\/slab_common\.c:\d+ kmem_cache_destroy/.test(x.title))).toBe(true);
  });

  const live = `module_init(() => { const c = kmem_cache_create("live", 64, 0, 0, null); kmem_cache_alloc(c, GFP_KERNEL); kmem_cache_destroy(c); return 0; });`;
  it("6.1 with live objects: the slab_err and the WARN", async () => {
    const r = await hostile(live);
    expect(r.dmesg.some((l) => l.includes("Objects remaining in live on __kmem_cache_shutdown()"))).toBe(true);
    expect(r.dmesg.some((l) => l.includes("kmem_cache_destroy live: Slab cache still has objects when called from"))).toBe(true);
  });

  it("3.4 with live objects: the era's own words", async () => {
    const r = await hostile(live, { profile: "arm-3.4-msm8x25" }, OLD_HEAD);
    expect(r.dmesg.some((l) => /kmem_cache_destroy live: Slab cache still has objects|Can't free all objects/.test(l))).toBe(true);
  });

  it("2.6 (SLAB) with live objects: 'slab error in kmem_cache_destroy()'", async () => {
    const r = await hostile(live, { profile: "i386-2.6" }, OLD_HEAD);
    expect(r.dmesg.some((l) => l.includes("slab error in kmem_cache_destroy(): cache `live': Can't free all objects"))).toBe(true);
  });
});

describe("argument checks never run guest code", () => {
  const traps = `const p = kmalloc(64, GFP_KERNEL);
const handler: ProxyHandler<any> = {};
for (const k of ["get", "getOwnPropertyDescriptor", "has", "ownKeys", "getPrototypeOf", "defineProperty", "isExtensible", "preventExtensions", "set", "deleteProperty"])
  (handler as any)[k] = (...a: any[]) => { printk(KERN_INFO + "TRAP %s\\n", k); kfree(p); return (Reflect as any)[k](...a); };`;

  it("a Proxy-wrapped timer callback: timer_setup reads it without firing a trap (and no trap can kfree mid-call)", async () => {
    const r = await hostile(`${traps}
const t = new timer_list();
module_init(() => { timer_setup(t, new Proxy(function tick() {}, handler), 0); return 0; });
module_exit(() => kfree(p));`);
    expect(r.dmesg.filter((l) => l.includes("TRAP"))).toEqual([]);
    expect((r.kernel.calls as CallRecord[]).filter((c) => c.fn === "kfree").length).toBe(1); // module_exit's only
  });

  it("a thrown Proxy is reported without reading it through its traps", async () => {
    const r = await hostile(`${traps}
module_init(() => { throw new Proxy(new Error("boom"), handler); });`);
    expect(r.dmesg.filter((l) => l.includes("TRAP"))).toEqual([]);
    expect(r.reports.some((x) => x.kind === "exception")).toBe(true);
  });

  it("Proxy still works for the module itself (new Proxy, Proxy.revocable, and not without new)", async () => {
    const r = await hostile(`module_init(() => {
  const o = new Proxy({ a: 1 }, { get: (t, k) => (k === "a" ? 2 : undefined) });
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  let threw = false; try { (Proxy as any)({}, {}); } catch (e) { threw = e instanceof TypeError; }
  let revoked = false; try { (proxy as any).x; } catch (e) { revoked = true; }
  printk(KERN_INFO + "%d %d %d %s\\n", o.a, threw ? 1 : 0, revoked ? 1 : 0, typeof Proxy.prototype);
  return 0;
});`);
    expect(r.dmesg.some((l) => l.endsWith("] 2 1 1 undefined"))).toBe(true);
  });
});

describe("simulated RAM costs host memory only within the run's RAM budget", () => {
  it("a cell filling every free page of 8 GiB is stopped by the 'ram' limit", async () => {
    const r = await hostile(
      `module_init(() => { for (;;) { const p = alloc_pages(GFP_KERNEL, 10); if (!p) break; memset(page_address(p), 1, 4 << 20); } return 0; });`,
      { mem: 8 * 1024 * MiB, limits: { cpuMs: 60_000 } },
    );
    const rep = r.reports.find((x) => x.limit === "ram")!;
    expect(rep.title).toBe(`kmodlab: RAM budget reached (${1024 * MiB} bytes of written page frames)`);
    expect(rep.explain).toContain("1024 MiB of simulated RAM");
  }, 120_000);
});
