// The sandbox end to end and at the boundary: memdemo warm (transpile, boot, run, unload), a tiny cell, and the
// cost of a host call through the bridge + kernel (kmalloc/kfree) beside a bare QuickJS host call that does
// nothing, measured in the same run so the ratio shows what the bridge and the kernel add.
import { readFileSync } from "node:fs";
import type { Suite } from "./harness.ts";
import { runModule, loadKernelDeps } from "../sandbox/run.ts";
import { installLeanHostCalls, loadQuickJS } from "../sandbox/quickjs.ts";
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
    // The boundary alone: a host function that does nothing, through quickjs-emscripten's own dispatcher (what
    // the library gives) and through the sandbox's synchronous one (installLeanHostCalls: what a run uses), called
    // as kmalloc/kfree are (two number arguments and a number result, then one argument).
    const bareRun = (n: number, lean: boolean) => () => {
      const rt = q.newRuntime();
      rt.setMaxStackSize(256 * 1024);
      const c = rt.newContext();
      if (lean && !installLeanHostCalls(c)) throw new Error("bench: the lean dispatcher did not install");
      let next = 0x1000;
      const alloc = c.newFunction("alloc", () => c.newNumber((next += 64)));
      const free = c.newFunction("free", () => undefined);
      c.setProp(c.global, "alloc", alloc);
      c.setProp(c.global, "free", free);
      alloc.dispose();
      free.dispose();
      c.evalCode(`for (let i = 0; i < ${N}; i++) if (i < ${n}) free(alloc(64, 3264));`).unwrap().dispose();
      c.dispose();
      rt.dispose();
    };
    const perCall = (withCalls: number, without: number) => ((withCalls - without) * 1000) / (2 * N);
    const xs = { bare: [] as number[], lean: [] as number[], distro: [] as number[], debug: [] as number[], nDistro: [] as number[], nDebug: [] as number[] };
    const timeOnce = async (f: () => unknown) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const full = loop("kfree(kmalloc(64, GFP_KERNEL));");
    const empty = loop("if (i < 0) kfree(kmalloc(64, GFP_KERNEL));");
    const sandboxed = async (config: "debug" | "distro") => {
      const s1 = await timeOnce(() => runModule(full, { config, limits: { cpuMs: 60000 } }));
      const s0 = await timeOnce(() => runModule(empty, { config, limits: { cpuMs: 60000 } }));
      return perCall(s1, s0);
    };
    const native = async (config: "debug" | "distro") => {
      const k = boot("x86_64-6.1", { config });
      return (
        ((await timeOnce(() => {
          for (let i = 0; i < N; i++) k.slab.kfree(k.slab.kmalloc(64, 0xcc0));
        })) *
          1000) /
        (2 * N)
      );
    };
    for (let r = 0; r < 8; r++) {
      const bare = perCall(await timeOnce(bareRun(N, false)), await timeOnce(bareRun(0, false)));
      const lean = perCall(await timeOnce(bareRun(N, true)), await timeOnce(bareRun(0, true)));
      const distro = await sandboxed("distro");
      const debug = await sandboxed("debug");
      const nDistro = await native("distro");
      const nDebug = await native("debug");
      if (r === 0) continue; // warm-up round
      xs.bare.push(bare);
      xs.lean.push(lean);
      xs.distro.push(distro);
      xs.debug.push(debug);
      xs.nDistro.push(nDistro);
      xs.nDebug.push(nDebug);
    }
    const bare = ctx.record(
      "bare QuickJS host call, library dispatcher",
      "us/call",
      xs.bare,
      "quickjs-emscripten's newFunction path; alloc(64, 3264) / free(p)",
    );
    const lean = ctx.record("bare QuickJS host call, sandbox dispatcher", "us/call", xs.lean, "installLeanHostCalls; the same calls");
    const distro = ctx.record("kmalloc/kfree through the sandbox (distro)", "us/call", xs.distro, "bridge + argument checks + call log + kernel");
    const debug = ctx.record(
      "kmalloc/kfree through the sandbox (debug)",
      "us/call",
      xs.debug,
      "as above, on the debug kernel (slub_debug, KASAN, kmemleak's stack per allocation)",
    );
    const nDistro = ctx.record("kmalloc/kfree called natively (distro)", "us/call", xs.nDistro);
    const nDebug = ctx.record("kmalloc/kfree called natively (debug)", "us/call", xs.nDebug);
    ctx.ratio("sandbox kmalloc/kfree (distro) vs bare host call (library dispatcher)", distro, bare);
    ctx.ratio("sandbox kmalloc/kfree (distro) vs bare host call (sandbox dispatcher)", distro, lean);
    ctx.ratio("sandbox kmalloc/kfree (debug) vs bare host call (library dispatcher)", debug, bare);
    ctx.ratio("sandbox kmalloc/kfree (distro) vs native kernel call", distro, nDistro);
    ctx.ratio("sandbox kmalloc/kfree (debug) vs native kernel call", debug, nDebug);
    ctx.ratio("bare host call: library dispatcher vs sandbox dispatcher", bare, lean);
  },
};
