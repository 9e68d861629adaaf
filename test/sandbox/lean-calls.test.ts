// The synchronous guest -> host dispatcher (sandbox/quickjs.ts installLeanHostCalls) and handle ownership under
// QuickJS's own leak check.
//
// 1. The dispatcher replaces a library internal; these tests fail if an upgrade of quickjs-emscripten-core moves
//    it (installLeanHostCalls returns false and runs fall back to the library's slower path), and pin that the
//    replacement behaves as the library's: results, { error } results, host exceptions, `this`, no leaks.
// 2. The debug build of QuickJS (@jitl/quickjs-wasmfile-debug-sync) asserts at JS_FreeRuntime that every object
//    was freed (list_empty(&rt->gc_obj_list)); a handle the bridge forgets to dispose aborts the module there.
//    Runs of every example and of the failure paths (exceptions, limits, kills, callbacks) must leave nothing.
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import DEBUG_SYNC from "@jitl/quickjs-wasmfile-debug-sync";
import { installLeanHostCalls, loadQuickJS, quickJSGeneration } from "../../sandbox/quickjs.ts";
import { loadKernelDeps, runModuleSync } from "../../sandbox/run.ts";

describe("lean host calls", () => {
  it("installs on this version of quickjs-emscripten-core and behaves as the library's dispatcher", async () => {
    const q = await loadQuickJS();
    const results: string[] = [];
    for (const lean of [false, true]) {
      const rt = q.newRuntime();
      const ctx = rt.newContext();
      if (lean) expect(installLeanHostCalls(ctx)).toBe(true);
      const add = ctx.newFunction("add", (a, b) => ctx.newNumber(ctx.getNumber(a) + ctx.getNumber(b)));
      const self = ctx.newFunction("self", function (this: typeof add) {
        return ctx.newString(ctx.typeof(this) === "number" ? `this=${ctx.getNumber(this)}` : `this:${ctx.typeof(this)}`);
      });
      const fail = ctx.newFunction("fail", () => ({ error: ctx.newError({ name: "TypeError", message: "bad argument" }) }));
      const boom = ctx.newFunction("boom", () => {
        throw new Error("host exception");
      });
      const none = ctx.newFunction("none", () => undefined);
      for (const [n, f] of [
        ["add", add],
        ["self", self],
        ["fail", fail],
        ["boom", boom],
        ["none", none],
      ] as const) {
        ctx.setProp(ctx.global, n, f);
        f.dispose();
      }
      const r = ctx.evalCode(`
        const out = [];
        out.push(add(2, 40));
        out.push(Reflect.apply(self, 7, []));
        try { fail(); } catch (e) { out.push(e.name === "TypeError", e.message); }
        try { boom(); } catch (e) { out.push(e.name, e.message); }
        out.push(String(none()));
        let n = 0; for (let i = 0; i < 10000; i++) n = add(n, 1);
        out.push(n);
        JSON.stringify(out);`);
      results.push(ctx.getString(ctx.unwrapResult(r)));
      ctx.dispose();
      rt.dispose();
    }
    expect(results[1]).toBe(results[0]);
    expect(JSON.parse(results[1])).toEqual([42, "this=7", true, "bad argument", "Error", "host exception", "undefined", 10000]);
  });
});

describe("handles under the debug build's leak assertion", () => {
  // The debug build is ASan-instrumented and about 100x slower, hence the generous CPU limit; its allocator does
  // not honour QuickJS's memory limit (a memory bomb grows the WASM heap to 2 GiB and aborts), so the guest
  // memory limit is tested on the release build only (limits.test.ts).
  it("every example and every failure path frees all of its QuickJS objects", async () => {
    const qjs = await newQuickJSWASMModuleFromVariant(DEBUG_SYNC);
    const deps = await loadKernelDeps();
    const dir = new URL("../../examples/", import.meta.url);
    const examples = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(new URL(f, dir), "utf8"));
    const cells: [string, number][] = [
      ...examples.map((src) => [src, 60_000] as [string, number]),
      [`import { module_init } from "linux"; module_init(() => { throw new Error("x"); });`, 60_000],
      [`import { module_init } from "linux"; module_init(() => { throw { weird: true }; });`, 60_000],
      [`import { kmalloc, GFP_KERNEL, module_init } from "linux"; module_init(() => { kmalloc("100" as never, GFP_KERNEL); return 0; });`, 60_000],
      [`import { kfree, module_init } from "linux"; module_init(() => { kfree(0xdeadbeefn); return 0; });`, 60_000],
      [
        `import { timer_list, timer_setup, mod_timer, jiffies, kmalloc, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
const t = new timer_list();
module_init(() => { timer_setup(t, () => { kmalloc(64, GFP_KERNEL); throw new Error("in the timer"); }, 0); mod_timer(t, jiffies + 2); return 0; });
module_exit(() => {});`,
        60_000,
      ],
      [`import { module_init } from "linux"; module_init(() => { while (true) {} });`, 3_000],
      [`import { module_init } from "linux"; function f(n: number): number { return f(n + 1) + 1; } module_init(() => f(0));`, 60_000],
      [`syntax error here (`, 60_000],
    ];
    const kinds: string[] = [];
    for (const [src, cpuMs] of cells) {
      const generation = quickJSGeneration();
      const r = runModuleSync(qjs, src, { limits: { cpuMs } }, deps);
      kinds.push(r.reports.map((x) => x.kind).join(","));
      // A leaked object makes JS_FreeRuntime abort ("Assertion failed: list_empty(&rt->gc_obj_list)"); the run
      // catches that in its dispose and drops the module (poisonQuickJS), which moves the generation.
      expect(quickJSGeneration(), `a QuickJS object leaked in the run of:\n${src}`).toBe(generation);
      expect(r.reports.filter((x) => /internal error/.test(x.title))).toEqual([]);
    }
    expect(kinds.filter((k) => k.includes("timeout")).length).toBe(1);
    expect(kinds.filter((k) => k.includes("exception")).length).toBeGreaterThanOrEqual(4);
    expect(kinds.filter((k) => k.includes("limit")).length).toBe(1); // the recursion (stack)
    expect(kinds.filter((k) => k.includes("compile-error")).length).toBe(1);
  }, 300_000);
});
