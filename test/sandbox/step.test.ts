// Step through a run (RunOptions.stopAfterCalls = N): the run ends just before its (N+1)th kernel call, unreported,
// and what it returns (dmesg, the call log, the memory views, /proc) is the kernel after call N, which the kernel's
// determinism makes the full run's state at that point: each step's dmesg and calls are prefixes of the full run's,
// allocations appear one call at a time, and stepping past the end is the full run.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const CELL = `import { kmalloc, vmalloc, __get_free_page, printk, KERN_INFO, GFP_KERNEL, module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
  const a = kmalloc(100, GFP_KERNEL);
  printk(KERN_INFO + "a %px\\n", a);
  const b = vmalloc(20000);
  printk(KERN_INFO + "b %px\\n", b);
  const c = __get_free_page(GFP_KERNEL);
  printk(KERN_INFO + "c %px\\n", c);
  return 0;
});
`;
const opts = { unload: false, proc: ["buddyinfo", "vmallocinfo"] };
type Call = { fn: string; ret?: unknown };
const calls = (r: { kernel: Record<string, unknown> }) => (r.kernel.calls as Call[]).map((c) => c.fn);
const strip = <T extends { stats: { wallMs: number } }>(r: T) => JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 } });

describe("stepping through a run (RunOptions.stopAfterCalls)", () => {
  it("after call N: no report, steppedTo N, N calls in the log and the stats, dmesg and calls prefixes of the full run's", async () => {
    const full = await runModule(CELL, opts);
    const total = full.stats.kernelCalls;
    expect(calls(full)).toEqual(["MODULE_LICENSE", "module_init", "kmalloc", "printk", "vmalloc", "printk", "__get_free_page", "printk"]);
    let lastAllocs = -1;
    for (let n = 0; n < total; n++) {
      const s = await runModule(CELL, { ...opts, stopAfterCalls: n });
      expect(s.reports, `step ${n}`).toEqual([]);
      expect(s.steppedTo).toBe(n);
      expect(s.stats.kernelCalls).toBe(n);
      expect(calls(s)).toEqual(calls(full).slice(0, n));
      expect(full.dmesg.slice(0, s.dmesg.length)).toEqual(s.dmesg);
      const allocs = (s.kernel.allocations as unknown[]).length;
      expect(allocs).toBeGreaterThanOrEqual(lastAllocs);
      lastAllocs = allocs;
      expect(Object.keys(s.proc)).toEqual(["buddyinfo", "vmallocinfo"]);
    }
  });

  it("each printk's line appears at its own step; the vmalloc area appears in vmallocinfo at the step of the vmalloc call", async () => {
    const before = await runModule(CELL, { ...opts, stopAfterCalls: 4 }); // kmalloc, printk done; vmalloc next
    const after = await runModule(CELL, { ...opts, stopAfterCalls: 5 }); // vmalloc done
    expect(before.dmesg.some((l) => / a ffff/.test(l))).toBe(true);
    expect(before.dmesg.some((l) => / b ffff/.test(l))).toBe(false);
    const areas = (r: typeof before) => (r.proc.vmallocinfo.match(/ \[cell\] /g) ?? []).length;
    expect(areas(after)).toBe(areas(before) + 1);
    // 20000 bytes: 5 pages and the guard page, called from the init arrow (line 3)
    expect(after.proc.vmallocinfo).toMatch(/ 24576 cell_line_3\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\] pages=5 vmalloc/);
  });

  it("a step at or past the run's last call is the full run (no steppedTo)", async () => {
    const full = await runModule(CELL, opts);
    const past = await runModule(CELL, { ...opts, stopAfterCalls: full.stats.kernelCalls });
    expect(past.steppedTo).toBeUndefined();
    expect(strip(past)).toBe(strip(full));
  });

  it("a bad step is a clear error naming the option; the run's own kernel-call limit is still reported", async () => {
    for (const bad of [-1, 1.5, NaN]) {
      const r = await runModule(CELL, { ...opts, stopAfterCalls: bad });
      expect(r.reports[0].title).toContain("stopAfterCalls must be an integer >= 0");
    }
    const r = await runModule(CELL, { ...opts, stopAfterCalls: 6, limits: { kernelCalls: 3 } });
    expect(r.steppedTo).toBeUndefined();
    expect(r.reports.map((x) => x.title)).toEqual(["kmodlab: kernel call limit reached (3 calls)"]);
  });
});
