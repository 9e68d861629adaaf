import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { fakeDeps, TEST_ROWS } from "./fake-kernel.ts";
import { DEFAULT_LIMITS } from "../../sandbox/limits.ts";

const deps = fakeDeps();
const HEAD = `import { MODULE_LICENSE, module_init, printk, KERN_INFO, __get_free_page, free_page, GFP_KERNEL } from "linux";
import { noop } from "sim";
MODULE_LICENSE("GPL");
`;
const run = (body: string, opts = {}) => runModule(HEAD + body, opts, deps);
const ok = `module_init(() => { printk(KERN_INFO + "fine\\n"); return 0; });`;

async function expectNextRunFine() {
  const r = await run(ok);
  expect(r.reports).toEqual([]);
  expect(r.dmesg.at(-1)).toMatch(/fine$/);
}

describe("limits: each stops the run with its message, and the next run works", () => {
  it("CPU: while(true){} in init is a soft lockup (timeout) naming insmod's pid", async () => {
    const r = await run(`function spin_init() { while (true) {} return 0; }\nmodule_init(spin_init);`, { limits: { cpuMs: 100 } });
    const rep = r.reports.find((x) => x.kind === "timeout")!;
    expect(rep.title).toBe("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]");
    expect(rep.explain).toMatch(/more than 100 ms of CPU time .*limits\.cpuMs/);
    expect(rep.line).toBe(4);
    expect(r.dmesg.at(-1)).toMatch(/watchdog: BUG: soft lockup - CPU#0 stuck for 22s! \[insmod:108\]$/);
    expect(r.initReturn).toBeNull();
    await expectNextRunFine();
  });

  it("CPU: a try/catch around the loop cannot swallow the interrupt", async () => {
    const r = await run(`module_init(() => { for (;;) { try { while (true) {} } catch (e) {} } });`, { limits: { cpuMs: 80 } });
    expect(r.reports.map((x) => x.kind)).toEqual(["timeout"]);
  });

  it("guest memory: a growing array is stopped as out-of-memory", async () => {
    const r = await run(`module_init(() => { const a = []; for (;;) a.push({ x: a.length, s: "y".repeat(64) }); });`, {
      limits: { memoryBytes: 8 << 20, cpuMs: 30000 },
    });
    const rep = r.reports.find((x) => x.kind === "out-of-memory")!;
    expect(rep.title).toBe("kmodlab: guest memory limit reached (8388608 bytes)");
    expect(rep.explain).toMatch(/8 MiB .*limits\.memoryBytes/);
    await expectNextRunFine();
  });

  it("stack: unbounded recursion stops at the 256 KiB stack limit, naming the recursive function", async () => {
    const r = await run(`function down(n: number): number { return down(n + 1) + 1; }\nmodule_init(() => down(0));`);
    const rep = r.reports.find((x) => x.kind === "limit")!;
    expect(rep.title).toBe("kmodlab: stack depth limit reached (262144 bytes)");
    expect(rep.frames?.[0]).toMatchObject({ fn: "down", line: 4 });
    await expectNextRunFine();
  });

  it("stack: the host's stack running out inside one kernel call (no module -> kernel nesting) is said as that, not as MAX_NESTING nested calls", async () => {
    // a kernel call whose host work throws V8's RangeError, at module -> kernel depth 1
    const overflow = fakeDeps([
      ...TEST_ROWS,
      {
        kind: "function",
        module: "sim",
        name: "host_overflow",
        params: [],
        returns: "void",
        context: "any",
        doc: "test: the host's stack runs out",
        impl: () => {
          throw new RangeError("Maximum call stack size exceeded");
        },
      },
    ]);
    const r = await runModule(HEAD.replace("{ noop }", "{ host_overflow }") + `module_init(() => {\n  host_overflow();\n  return 0;\n});`, {}, overflow);
    expect(r.reports.map((x) => ({ kind: x.kind, title: x.title, line: x.line }))).toEqual([
      { kind: "limit", title: "kmodlab: stack depth limit reached (the host's stack ran out before the guest's 262144 bytes)", line: 5 },
    ]);
    await expectNextRunFine();
  });

  it("kernel calls: the call past the limit stops the run, even when the loop catches the error", async () => {
    const r = await run(`module_init(() => { for (let i = 0; ; i++) { try { noop(); } catch (e) {} } });`, { limits: { kernelCalls: 20000 } });
    const rep = r.reports.find((x) => x.kind === "limit")!;
    expect(rep.title).toBe("kmodlab: kernel call limit reached (20000 calls)");
    expect(r.stats.kernelCalls).toBe(20001);
    await expectNextRunFine();
  });

  it("log size: a printk flood hits the log limit", async () => {
    const r = await run(`module_init(() => { for (;;) printk(KERN_INFO + "flood %d\\n", 12345); });`, { limits: { logBytes: 4096 } });
    const rep = r.reports.find((x) => x.kind === "limit")!;
    expect(rep.title).toBe("kmodlab: log size limit reached (4096 bytes)");
    expect(r.dmesg.length).toBeLessThan(400);
    await expectNextRunFine();
  });

  it("a runaway allocation loop hits the kernel-call limit (default 1e6; 30000 here to keep the test fast)", async () => {
    expect(DEFAULT_LIMITS.kernelCalls).toBe(1_000_000);
    const r = await run(`module_init(() => { for (;;) { const p = __get_free_page(GFP_KERNEL); free_page(p); } });`, {
      limits: { cpuMs: 60000, kernelCalls: 30000 },
    });
    expect(r.reports.map((x) => x.title)).toEqual(["kmodlab: kernel call limit reached (30000 calls)"]);
    await expectNextRunFine();
  }, 60_000);

  it("limits are validated: a non-positive limit is a report, not a throw", async () => {
    const r = await run(ok, { limits: { cpuMs: -1 } });
    expect(r.reports[0].title).toBe("kmodlab: limits.cpuMs must be a positive number, got -1");
  });
});
