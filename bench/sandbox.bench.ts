// The sandbox end to end and at the boundary: memdemo warm (transpile, boot, run, unload), a tiny cell, and the
// cost of a host call through the bridge + kernel (kmalloc/kfree) beside a bare QuickJS host call that does
// nothing, measured in the same run so the ratio shows what the bridge and the kernel add.
import { readFileSync } from "node:fs";
import type { Suite } from "./harness.ts";
import { runModule, loadKernelDeps } from "../sandbox/run.ts";
import { loadQuickJS } from "../sandbox/quickjs.ts";
import { boot } from "../src/kernel/kernel.ts";

const memdemo = readFileSync(new URL("../examples/memdemo.ts", import.meta.url), "utf8");
const tiny = `import { MODULE_LICENSE, module_init } from "linux"; MODULE_LICENSE("GPL"); module_init(() => 0);`;
const N = 20000;
const loop = (body: string) => `import { kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => { for (let i = 0; i < ${N}; i++) { ${body} } return 0; });`;

export const suite: Suite = {
  name: "sandbox",
  async run(ctx) {
    await loadKernelDeps();
    await ctx.time("memdemo end to end (warm)", () => runModule(memdemo, { profile: "i386-2.6" }), 15, 3);
    await ctx.time("tiny cell end to end (warm)", () => runModule(tiny), 15, 3);
    // Per call: (a loop of 2N calls) - (the same cell with no loop), so setup and boot cancel out.
    const q = await loadQuickJS();
    const bareRun = (n: number) => () => {
      const rt = q.newRuntime();
      rt.setMaxStackSize(256 * 1024);
      const c = rt.newContext();
      const f = c.newFunction("noop", () => undefined);
      c.setProp(c.global, "noop", f);
      f.dispose();
      c.evalCode(`for (let i = 0; i < ${2 * N}; i++) if (i < ${n}) noop();`).unwrap().dispose();
      c.dispose();
      rt.dispose();
    };
    const perCall = (withCalls: number, without: number) => ((withCalls - without) * 1000) / (2 * N);
    const xsBare: number[] = [];
    const xsBridge: number[] = [];
    const xsNative: number[] = [];
    const timeOnce = async (f: () => unknown) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const full = loop("kfree(kmalloc(64, GFP_KERNEL));");
    const empty = loop("if (i < 0) kfree(kmalloc(64, GFP_KERNEL));");
    for (let r = 0; r < 8; r++) {
      const b1 = await timeOnce(bareRun(2 * N));
      const b0 = await timeOnce(bareRun(0));
      const s1 = await timeOnce(() => runModule(full, { limits: { cpuMs: 60000 } }));
      const s0 = await timeOnce(() => runModule(empty, { limits: { cpuMs: 60000 } }));
      const k = boot("x86_64-6.1");
      const n1 = await timeOnce(() => {
        for (let i = 0; i < N; i++) k.slab.kfree(k.slab.kmalloc(64, 0xcc0));
      });
      if (r === 0) continue; // warm-up round
      xsBare.push(perCall(b1, b0));
      xsBridge.push(perCall(s1, s0));
      xsNative.push((n1 * 1000) / (2 * N));
    }
    const bare = ctx.record("bare QuickJS host call noop()", "us/call", xsBare);
    const bridged = ctx.record("kmalloc/kfree through the sandbox", "us/call", xsBridge, "bridge + argument checks + kernel");
    const native = ctx.record("kmalloc/kfree called natively", "us/call", xsNative);
    ctx.ratio("sandbox kmalloc/kfree vs bare host call", bridged, bare);
    ctx.ratio("sandbox kmalloc/kfree vs native kernel call", bridged, native);
  },
};
