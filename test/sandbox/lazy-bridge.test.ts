// What a run builds only when it needs it (issue 18, the per-run cost of the sandbox): the table's classes a cell's
// handles use (sandbox/rows.ts), the prelude's takeStack (prelude.ts TAKE_STACK), RunResult.kernel.layout.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { QuickJSContext } from "quickjs-emscripten-core";
import { bridgeRows } from "../../sandbox/rows.ts";
import { API } from "../../sandbox/api.ts";
import { TAKE_STACK } from "../../sandbox/prelude.ts";
import { loadKernelDeps, runModule } from "../../sandbox/run.ts";
import { toJson } from "../../src/kernel/inspect.ts";
import { inEra, type ApiEntry } from "../../sandbox/table.ts";

const memdemo = readFileSync(new URL("../../examples/memdemo.ts", import.meta.url), "utf8");
const names = (rows: readonly ApiEntry[], kind: ApiEntry["kind"]) => rows.filter((e) => e.kind === kind).map((e) => e.name);

describe("the rows a cell's bridge builds (rows.ts)", () => {
  it("memdemo's imports build its 13 functions and constants and no class", () => {
    const imported = new Set(
      [
        "__get_free_page",
        "free_page",
        "kmalloc",
        "kfree",
        "vmalloc",
        "vfree",
        "printk",
        "KERN_INFO",
        "GFP_KERNEL",
        "MODULE_LICENSE",
        "module_init",
        "module_exit",
      ].map((n) => `linux:${n}`),
    );
    const rows = bridgeRows(API, "6.1", imported);
    expect(rows.map((e) => e.name).sort()).toEqual([...imported].map((k) => k.slice(6)).sort());
    expect(names(rows, "class")).toEqual([]);
  });

  it("a handle a function takes, returns or hands to its callback brings its class; an imported class comes too", () => {
    const rows = (...n: string[]) => bridgeRows(API, "6.1", new Set(n.map((x) => `linux:${x}`)));
    expect(names(rows("spin_lock"), "class")).toEqual(["spinlock_t"]); // its parameter's error names DEFINE_SPINLOCK()
    expect(names(rows("kmem_cache_create"), "class")).toEqual(["kmem_cache"]); // the handle it returns
    expect(names(rows("proc_create_single"), "class").sort()).toEqual(["proc_dir_entry", "seq_file"]); // returned, and its show callback's
    expect(names(rows("timer_list"), "class")).toEqual(["timer_list"]);
    expect(names(rows("kmalloc"), "class")).toEqual([]);
  });

  it("a namespace import, require() or a re-export gets every row of the era; a choice is made once per era and imports", () => {
    const all = bridgeRows(API, "6.1", undefined);
    expect(all).toEqual(API.filter((e) => inEra(e, "6.1")));
    expect(names(all, "class").length).toBeGreaterThan(15);
    expect(bridgeRows(API, "6.1", new Set(["linux:kmalloc", "linux:kfree"]))).toBe(bridgeRows(API, "6.1", new Set(["linux:kfree", "linux:kmalloc"])));
    expect(bridgeRows(API, "2.6", new Set(["linux:kmalloc"]))).not.toBe(bridgeRows(API, "6.1", new Set(["linux:kmalloc"])));
  });

  it("a cell that never imports a handle's class still gets the class's error message and its handles", async () => {
    const forged = await runModule(`import { spin_lock, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => { spin_lock({} as never); return 0; });`);
    expect(forged.reports.map((r) => r.text).join("\n")).toContain(
      "spin_lock: parameter 'lock' must be a spinlock_t (made with DEFINE_SPINLOCK()), got an object",
    );
    // the article follows the type's name: "an atomic_t"
    const atomic = await runModule(`import { atomic_inc, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => { atomic_inc({} as never); return 0; });`);
    expect(atomic.reports.map((r) => r.text).join("\n")).toContain("atomic_inc: parameter 'v' must be an atomic_t (made with new atomic_t()), got an object");
    const made = await runModule(`import { kmem_cache_create, kmem_cache_destroy, printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
  const c = kmem_cache_create("lazy_cache", 96, 0, 0, null);
  printk(KERN_INFO + "handle %s %s\\n", typeof c, String(Object.isFrozen(c)));
  kmem_cache_destroy(c);
  return 0;
});`);
    expect(made.reports).toEqual([]);
    expect(made.dmesg.join("\n")).toContain("handle object true");
  });
});

describe("the prelude's spec text, made once per cell, rows and constants' values", () => {
  it("the same cell on machines of one era whose layouts differ gets each machine's constants", async () => {
    const deps = await loadKernelDeps();
    const cell = `import { PAGE_OFFSET, VMALLOC_START, HZ, printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => { printk(KERN_INFO + "layout %lx %lx %d\\n", PAGE_OFFSET, VMALLOC_START, HZ); return 0; });`;
    const seen = new Set<string>();
    for (const profile of ["x86_64-6.1", "arm64-6.1", "i386-6.1", "x86_64-6.1-la57", "arm-6.1-virt", "x86_64-6.1"]) {
      const r = await runModule(cell, { profile });
      const k = deps.boot(profile, {});
      const want = `layout ${k.layout.pageOffset.toString(16)} ${k.layout.vmallocStart.toString(16)} ${k.profile.hz}`;
      expect(r.dmesg.join("\n")).toContain(want);
      seen.add(want);
    }
    expect(seen.size).toBe(5); // five machines, five layouts: one cached text would have printed one
  });
});

describe("the prelude's takeStack is compiled only for a run whose row turns hungry", () => {
  afterEach(() => vi.restoreAllMocks());
  const compiledTake = () => {
    const spy = vi.spyOn(QuickJSContext.prototype, "evalCode");
    return () => spy.mock.calls.filter((c) => c[0] === TAKE_STACK).length;
  };
  const loop = `import { kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
function helper(i: number) { const p = kmalloc(64 + i, GFP_KERNEL); kfree(p); }
module_init(() => { for (let i = 0; i < 40; i++) helper(i); return 0; });`;

  it("memdemo on the debug kernel (its shadow stack names every call) never compiles it", async () => {
    const count = compiledTake();
    const r = await runModule(memdemo);
    expect(r.reports).toEqual([]);
    expect(count()).toBe(0);
  });

  it("a loop that walks the guest's stack compiles it once, and its stacks are those the shadow stack gives", async () => {
    const count = compiledTake();
    const walked = await runModule(loop, { shadowStack: false });
    expect(count()).toBe(1);
    const shadowed = await runModule(loop);
    expect(count()).toBe(1);
    const view = (r: typeof walked) => ({ dmesg: r.dmesg, reports: r.reports, calls: r.kernel.calls, allocations: r.kernel.allocations });
    expect(JSON.stringify(view(walked))).toBe(JSON.stringify(view(shadowed)));
  });
});

describe("a hostile cell before a clean one", () => {
  afterEach(() => vi.restoreAllMocks());
  const loop = (prefix: string) => `import { kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
${prefix}
MODULE_LICENSE("GPL");
function helper(i: number) { const p = kmalloc(64 + i, GFP_KERNEL); kfree(p); }
module_init(() => { for (let i = 0; i < 40; i++) helper(i); return 0; });`;
  // replaces what takeStack would use were it made from the globals when the row turns hungry, after the cell's top level
  const tamper = `const seen: unknown[] = [];
Object.defineProperty(Map.prototype, "size", { get() { seen.push(this); return 0; } });
Map.prototype.get = function () { return 1; };
Map.prototype.set = function () { return this; };
(globalThis as any).Map = function () { return {}; };
(globalThis as any).Error = function () { return { stack: "" }; };`;

  it("takeStack made after the cell tampered with Map and Error works as one made before: the same calls, lines and stacks", async () => {
    const spy = vi.spyOn(QuickJSContext.prototype, "evalCode");
    const hostile = await runModule(loop(tamper), { shadowStack: false });
    expect(spy.mock.calls.filter((c) => c[0] === TAKE_STACK).length).toBe(1);
    const plain = await runModule(loop(tamper.replace(/[^\n]/g, " ")), { shadowStack: false }); // the same lines, nothing tampered
    const view = (r: typeof plain) => JSON.stringify({ dmesg: r.dmesg, reports: r.reports, calls: r.kernel.calls });
    expect(hostile.reports).toEqual([]);
    expect(view(hostile) === view(plain)).toBe(true);
    expect(JSON.stringify(hostile.kernel.allocations) === JSON.stringify(plain.kernel.allocations)).toBe(true);
  });

  it("memdemo after hostile runs is byte for byte memdemo after memdemo (the process-wide caches hold no run's state)", async () => {
    const strip = (r: Awaited<ReturnType<typeof runModule>>) => JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 } });
    await runModule(memdemo);
    const alone = strip(await runModule(memdemo));
    await runModule(loop(tamper), { shadowStack: false });
    await runModule(loop(tamper));
    await runModule(memdemo.replace('MODULE_LICENSE("GPL");', `MODULE_LICENSE("GPL");\n${tamper.replace(/\n/g, " ")}`));
    expect(strip(await runModule(memdemo))).toBe(alone);
  });
});

describe("RunResult.kernel.layout is made when read", () => {
  it("reads as the kernel's layout, first in kernel's JSON as before, and can be replaced", async () => {
    const deps = await loadKernelDeps();
    const r = await runModule(memdemo);
    expect(Object.keys(r.kernel)[0]).toBe("layout");
    expect(r.kernel.layout).toEqual(toJson(deps.boot("x86_64-6.1", {}).layout));
    expect(JSON.parse(JSON.stringify(r)).kernel.layout).toEqual(r.kernel.layout);
    const s = await runModule(memdemo);
    (s.kernel as Record<string, unknown>).layout = "replaced";
    expect(s.kernel.layout).toBe("replaced");
  });
});
