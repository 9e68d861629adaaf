// Raw host calls (bindings.ts hostCall, quickjs.ts newRawFunction / RawValues): on a kernel that reads no stack at
// every allocation, the calls at the cell's kernel-call sites reach the host without the prelude's wrapper, their
// numbers and addresses read from QuickJS's memory. What must not change: every output of a run (dmesg, reports,
// the call log with its lines, init's return, the stats but the wall time) and every message a wrong argument gets,
// against the same run with the wrappers (hostCalls: false).
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import DEBUG_SYNC from "@jitl/quickjs-wasmfile-debug-sync";
import { installLeanHostCalls, loadQuickJS, quickJSGeneration, rawValuesFor, RawValues } from "../../sandbox/quickjs.ts";
import { loadKernelDeps, runModule, runModuleSync, type RunOptions } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";

const dir = new URL("../../examples/", import.meta.url);
const examples = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => [f, readFileSync(new URL(f, dir), "utf8")] as const);

const head = `import { kmalloc, kzalloc, kfree, vmalloc, vfree, __get_free_pages, free_pages, krealloc, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
`;
/** Arguments a check refuses, counts that are not the row's, NULL-able and odd values: each message as the wrapper's. */
const ODD = [
  `kmalloc("100" as never, GFP_KERNEL)`,
  `kmalloc(-1, GFP_KERNEL)`,
  `kmalloc(1.5, GFP_KERNEL)`,
  `kmalloc(2 ** 60, GFP_KERNEL)`,
  `kmalloc(NaN, GFP_KERNEL)`,
  `kmalloc(64, 2 ** 33)`,
  `kmalloc(64n as never, GFP_KERNEL)`,
  `(kmalloc as any)(64)`,
  `(kmalloc as any)(64, GFP_KERNEL, 1)`,
  `(kmalloc as any)()`,
  `kfree(0n)`,
  `kfree(-5n)`,
  `kfree(-(2n ** 40n))`,
  `kfree(2n ** 64n)`,
  `kfree(2n ** 63n)`,
  `kfree(2n ** 53n + 1n)`,
  `kfree(0xdeadbeefn)`,
  `kfree(0xffff888000000000n)`,
  `kfree(64 as never)`,
  `kfree(null as never)`,
  `kfree({ valueOf() { throw new Error("ran"); } } as never)`,
  `(kfree as any).call(undefined, kmalloc(8, GFP_KERNEL))`,
  `(kfree as any).call(3, kmalloc(8, GFP_KERNEL))`,
  `(kfree as any).call(1e9, kmalloc(8, GFP_KERNEL))`,
  `free_pages(__get_free_pages(GFP_KERNEL, 1), 1)`,
  `free_pages(__get_free_pages(GFP_KERNEL, 1), 2.5)`,
  `kfree(krealloc(kmalloc(8, GFP_KERNEL), 100, GFP_KERNEL))`,
  `vfree(vmalloc(100000))`,
  `printk(KERN_INFO + "%px %d %s\\n", kzalloc(16, GFP_KERNEL), 7, "x")`,
];

/** A run's outputs without its wall time. */
const outputs = (r: RunResult) => JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 }, kernel: { calls: r.kernel.calls } });

const both = async (src: string, opts: RunOptions) => {
  const host = await runModule(src, opts);
  const wrapped = await runModule(src, { ...opts, hostCalls: false });
  return [outputs(host), outputs(wrapped)];
};

describe("raw host calls", () => {
  it("the raw value layout holds on this build of QuickJS (an upgrade that changes it turns the raw path off, and this fails)", async () => {
    const q = await loadQuickJS();
    const rt = q.newRuntime();
    const ctx = rt.newContext();
    try {
      expect(installLeanHostCalls(ctx)).toBe(true);
      expect(rawValuesFor(q, ctx)).toBeInstanceOf(RawValues);
    } finally {
      ctx.dispose();
      rt.dispose();
    }
  });

  it("a distro kernel serves the sites with the host's own call(); a debug kernel (KASAN) and hostCalls: false keep the wrapper", async () => {
    const src = `${head}module_init(() => { kfree(kmalloc(8, GFP_KERNEL)); printk(KERN_INFO + "native=%d\\n", String((kfree as any).call).includes("[native code]") ? 1 : 0); return 0; });\n`;
    const said = (r: RunResult) => r.dmesg.filter((l) => l.includes("native=")).map((l) => l.slice(l.indexOf("native=")));
    expect(said(await runModule(src, { config: "distro" }))).toEqual(["native=1"]);
    expect(said(await runModule(src, { config: "distro", hostCalls: false }))).toEqual(["native=0"]);
    expect(said(await runModule(src, { config: "debug" }))).toEqual(["native=0"]);
  });

  for (const config of ["distro", "debug"] as const) {
    it(`every example gives the same outputs with raw host calls and with the wrappers (${config})`, async () => {
      for (const [name, src] of examples) {
        const [a, b] = await both(src, { config });
        expect(a, name).toBe(b);
      }
    });
  }

  it("arguments a check refuses, wrong counts and a cell's own call() get the wrappers' messages and outputs", async () => {
    for (const expr of ODD) {
      const src = `${head}module_init(() => { try { ${expr}; } catch (e) { printk(KERN_INFO + "caught %s: %s\\n", (e as Error).name, (e as Error).message); } return 0; });\n`;
      const [a, b] = await both(src, { config: "distro" });
      expect(a, expr).toBe(b);
    }
  });

  it("a cell that replaces BigInt, BigInt.prototype and Number.prototype still gets its addresses as bigints", async () => {
    const src = `${head}
(BigInt.prototype as any).toString = () => "0";
(Number.prototype as any).valueOf = () => 7;
(globalThis as any).BigInt = () => 0n;
module_init(() => {
  const ps: bigint[] = [];
  for (let i = 0; i < 3; i++) ps.push(kmalloc(32, GFP_KERNEL));
  printk(KERN_INFO + "%s %d\\n", typeof ps[0], ps[0] > 0xffff000000000000n ? 1 : 0);
  for (const p of ps) kfree(p);
  return 0;
});
`;
    const r = await runModule(src, { config: "distro" });
    expect(r.reports).toEqual([]);
    expect(r.dmesg.filter((l) => l.includes("bigint"))).toHaveLength(1);
    expect(r.dmesg.find((l) => l.includes("bigint"))).toMatch(/bigint 1$/);
    const [a, b] = await both(src, { config: "distro" });
    expect(a).toBe(b);
  });

  it("the kernel-call and CPU limits stop a loop of raw host calls with their messages", async () => {
    const loop = `${head}module_init(() => { for (;;) kfree(kmalloc(64, GFP_KERNEL)); });\n`;
    const calls = await runModule(loop, { config: "distro", limits: { kernelCalls: 1000 } });
    expect(calls.reports.map((r) => r.title)).toContain("kmodlab: kernel call limit reached (1000 calls)");
    const [a, b] = await both(loop, { config: "distro", limits: { kernelCalls: 1000 } });
    expect(a).toBe(b);
    const cpu = await runModule(loop, { config: "distro", limits: { cpuMs: 50, kernelCalls: 1e9 } });
    expect(cpu.reports.some((r) => r.kind === "timeout")).toBe(true);
  });

  it("a context made after a run calls its own host functions (the module's direct path forgets a freed context's raw ones)", async () => {
    const q = await loadQuickJS();
    for (let round = 0; round < 3; round++) {
      const r = await runModule(`${head}module_init(() => { for (let i = 0; i < 10; i++) kfree(kmalloc(8, GFP_KERNEL)); return 0; });\n`, { config: "distro" });
      expect(r.reports).toEqual([]);
      // a new runtime numbers its host functions from the same first id, and its context may take the freed one's
      // address: as many functions as the run's bridge made, each answering its own index (on the library's own
      // dispatcher: a lean context would take the direct path's slot over)
      const rt = q.newRuntime();
      const ctx = rt.newContext();
      try {
        for (let i = 0; i < 300; i++) {
          const f = ctx.newFunction(`f${i}`, () => ctx.newNumber(i));
          ctx.setProp(ctx.global, `f${i}`, f);
          f.dispose();
        }
        const res = ctx.unwrapResult(
          ctx.evalCode(`let bad = []; for (let i = 0; i < 300; i++) { const v = globalThis["f" + i](); if (v !== i) bad.push(i + "->" + v); } bad.join(",")`),
        );
        expect(ctx.getString(res)).toBe("");
        res.dispose();
      } finally {
        ctx.dispose();
        rt.dispose();
      }
    }
  });

  it("raw host calls free every QuickJS object they make (the debug build's leak assertion), past the 4096 bigints they hold", async () => {
    const qjs = await newQuickJSWASMModuleFromVariant(DEBUG_SYNC);
    const deps = await loadKernelDeps();
    const cells = [
      ...examples.map(([, src]) => src),
      ...ODD.slice(0, 12).map(
        (expr) => `${head}module_init(() => { try { ${expr}; } catch (e) { printk(KERN_INFO + "%s\\n", (e as Error).message); } return 0; });\n`,
      ),
      // more distinct addresses than the bridge holds bigints for (it drops them all at 4096)
      `${head}const ps: bigint[] = [];\nmodule_init(() => { for (let i = 0; i < 4200; i++) ps.push(kmalloc(8, GFP_KERNEL)); for (const p of ps) kfree(p); return 0; });\n`,
      `${head}module_init(() => { for (;;) kfree(kmalloc(8, GFP_KERNEL)); });\n`,
    ];
    for (const src of cells) {
      const generation = quickJSGeneration();
      const r = runModuleSync(qjs, src, { config: "distro", limits: { cpuMs: 60_000, kernelCalls: 20_000 } }, deps);
      expect(quickJSGeneration(), `a QuickJS object leaked in the run of:\n${src}`).toBe(generation);
      expect(r.reports.filter((x) => /internal error/.test(x.title))).toEqual([]);
    }
  }, 300_000);
});
