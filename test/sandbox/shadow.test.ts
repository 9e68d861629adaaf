// The shadow stack (sandbox/shadow.ts): on a debug kernel the cell runs instrumented, and every stack it prints
// (KASAN's alloc/free tracks, kmemleak's backtrace, call traces, exception reports, the stack limit's frames, the
// call log's lines) is the one the stack walk gives: the same run with `shadowStack: false` is byte for byte the same.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { transpileCell } from "../../sandbox/transpile.ts";
import { shadowColumn } from "../../sandbox/shadow.ts";
import { Bridge } from "../../sandbox/bindings.ts";

const HEAD = `import { kmalloc, kfree, kzalloc, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit, printk, KERN_INFO,
  kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, timer_list, timer_setup, mod_timer, del_timer_sync, jiffies } from "linux";
MODULE_LICENSE("GPL");
`;

const CELLS: Record<string, string> = {
  "helpers at several depths, a loop, arrow bodies, a named function expression, zero-argument calls": `
const table: bigint[] = [];
function leaf(n: number) { return kmalloc(n, GFP_KERNEL); }
const mid = (n: number) => leaf(n + 8);
function outer(n: number): bigint {
  if (n > 3) return mid(n);
  return outer(n + 1);
}
function none() { return kzalloc(24, GFP_KERNEL); }
const obj = { grab(n: number) { return mid(n); }, nothing() { return none(); } };
module_init(function my_init(): number {
  for (let i = 0; i < 6; i++) table.push(i % 2 ? outer(i) : mid(i));
  table.push(obj.grab(40), obj.nothing(), none());
  [1, 2, 3].map((x) => leaf(x * 16)).forEach((p) => table.push(p));
  kfree(table.pop()!);
  return 0;
});
module_exit(() => { for (const p of table.slice(0, 4)) kfree(p); });
`,
  "KASAN: a use after free and a double free from helpers": `
function get(n: number) { return kmalloc(n, GFP_KERNEL); }
function put(p: bigint) { kfree(p); }
function twice(p: bigint) { put(p); put(p); }
module_init(() => {
  const p = get(64);
  put(p);
  const q = get(32);
  twice(q);
  return 0;
});
`,
  "kmemleak: leaks from a recursion and from a callback": `
let keep: bigint[] = [];
function deep(n: number): bigint { return n === 0 ? kmalloc(100, GFP_KERNEL) : deep(n - 1); }
const t = new timer_list();
function fire(tl: timer_list) { kmalloc(200, GFP_KERNEL); }
module_init(() => {
  deep(5); deep(2);
  timer_setup(t, fire, 0);
  mod_timer(t, jiffies + 1);
  return 0;
});
module_exit(() => { del_timer_sync(t); });
`,
  "a slab constructor the kernel calls inside kmem_cache_alloc": `
let cache: any;
const objs: bigint[] = [];
function ctor(obj: bigint) { const x = kmalloc(16, GFP_KERNEL); kfree(x); }
function take() { return kmem_cache_alloc(cache, GFP_KERNEL); }
module_init(() => {
  cache = kmem_cache_create("shadow_test", 120, 0, 0, ctor);
  for (let i = 0; i < 3; i++) objs.push(take());
  return 0;
});
module_exit(() => { for (const o of objs) kmem_cache_free(cache, o); kmem_cache_destroy(cache); });
`,
  "an exception in a helper (the report's frames and columns)": `
function bad(n: number): number { const o: any = null; return o.x + n; }
function via(n: number) { return 1 + bad(n); }
module_init(() => { kfree(kmalloc(8, GFP_KERNEL)); return via(3); });
`,
  "no semicolons (a call starting a line stays a statement of its own)": `
let n = 0
function foo() { n++; return kmalloc(8, GFP_KERNEL) }
const g = function () { return 1 }
foo()
module_init(() => {
  let x = g()
  kfree(foo())
  const y = x
  foo()
  printk(KERN_INFO + "n=%d y=%d\\n", n, y)
  return 0
})
`,
  "a pure recursion (left plain) beside helpers that allocate": `
function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
function sq(x: number) { return x * x; }
function grab(n: number) { return kmalloc(sq(n) + fib(n), GFP_KERNEL); }
const apply2 = (f: (n: number) => bigint, n: number) => f(n);
module_init(() => { kfree(grab(fib(6))); const p = apply2(grab, 3); kfree(p); kfree(p); return 0; });
`,
  "a getter: not instrumented, the same outputs": `
const o = { get p() { return kmalloc(8, GFP_KERNEL); } };
module_init(() => { kfree(o.p); kfree(o.p); const q = o.p; kfree(q); kfree(q); return 0; });
`,
};

function comparable(r: Awaited<ReturnType<typeof runModule>>) {
  const kernel = r.kernel as { calls?: unknown } | undefined;
  return { dmesg: r.dmesg, reports: r.reports, calls: kernel?.calls, initReturn: r.initReturn };
}

describe("the shadow stack", () => {
  for (const [name, body] of Object.entries(CELLS)) {
    it(`gives the same outputs as the stack walk: ${name}`, async () => {
      const src = HEAD + body;
      const tr = transpileCell(src);
      expect(tr.ok).toBe(true);
      const a = await runModule(src, { config: "debug", views: false });
      const b = await runModule(src, { config: "debug", views: false, shadowStack: false });
      expect(comparable(a)).toEqual(comparable(b));
    }, 60_000);
  }

  it("gives the stack-limit report for a runaway recursion, with the walk's frames (fewer: instrumented frames are larger)", async () => {
    const src = HEAD + `function f(n: number): number { return f(n + 1) + 1; }\nmodule_init(() => { kfree(kmalloc(8, GFP_KERNEL)); return f(0); });\n`;
    const a = await runModule(src, { config: "debug", views: false });
    const b = await runModule(src, { config: "debug", views: false, shadowStack: false });
    expect(a.dmesg).toEqual(b.dmesg);
    const strip = (r: typeof a) => r.reports.map((x) => ({ ...x, frames: undefined }));
    expect(strip(a)).toEqual(strip(b));
    expect(a.reports[0]).toMatchObject({ kind: "limit", limit: "stack" });
    const fa = a.reports[0].frames ?? [];
    const fb = b.reports[0].frames ?? [];
    expect(fa.length).toBeGreaterThan(100);
    // innermost the same, outermost (the recursion's start, module_init's arrow) the same
    expect(fa.slice(0, 3)).toEqual(fb.slice(0, 3));
    expect(fa.slice(-2)).toEqual(fb.slice(-2));
  }, 60_000);

  it("instruments a plain cell and not one with a getter, a Proxy, a class or a tagged template", () => {
    const ok = transpileCell(HEAD + CELLS["KASAN: a use after free and a double free from helpers"]);
    expect(ok.ok && ok.shadow !== null).toBe(true);
    for (const body of [
      CELLS["a getter: not instrumented, the same outputs"],
      `const p = new Proxy({}, {}); module_init(() => 0);`,
      `class A { f() { return 1; } } module_init(() => new A().f());`,
      "const tag = (s: any) => 0; module_init(() => tag`x`);",
      `const o = { toString() { return "x"; } }; module_init(() => 0);`,
    ]) {
      const tr = transpileCell(HEAD + body);
      expect(tr.ok && tr.shadow === null && tr.shadowReason !== "").toBe(true);
    }
  });

  it("leaves a function that reaches no kernel call plain, and one whose name is passed around instrumented", () => {
    const tr = transpileCell(HEAD + CELLS["a pure recursion (left plain) beside helpers that allocate"]);
    if (!tr.ok || !tr.shadow) throw new Error("not instrumented");
    const line = (name: string) => tr.shadow!.js.split("\n").find((l) => l.startsWith(`function ${name}(`))!;
    expect(line("fib")).not.toContain("__k");
    expect(line("sq")).not.toContain("__k");
    expect(line("grab")).toContain("const __kf = __ks[0]");
    const passed = transpileCell(
      HEAD + `function sq(x: number) { return x * x; }\nconst use = (f: (x: number) => number) => f(2);\nmodule_init(() => use(sq));\n`,
    );
    if (!passed.ok || !passed.shadow) throw new Error("not instrumented");
    expect(passed.shadow.js.split("\n").find((l) => l.startsWith("function sq("))).toContain("const __kf = __ks[0]");
  });

  it("maps the instrumented code's columns back to the plain code's", () => {
    const tr = transpileCell(HEAD + CELLS["KASAN: a use after free and a double free from helpers"]);
    if (!tr.ok || !tr.shadow) throw new Error("not instrumented");
    const plain = tr.js.split("\n");
    const shadow = tr.shadow.js.split("\n");
    expect(shadow.length).toBe(plain.length);
    // every kernel call's opening parenthesis (where QuickJS puts a call) maps to its column in the plain code
    for (let line = 1; line < plain.length; line++) {
      const want = [...plain[line - 1].matchAll(/\.call\(/g)].map((m) => m.index! + 5);
      const got = [...shadow[line - 1].matchAll(/\.call\(/g)].map((m) => shadowColumn(tr.shadow!.columns, line, m.index! + 5));
      expect(got).toEqual(want);
    }
  });

  it("takes no stack walk for a loop allocating through helpers (each distinct stack is taken once, then named by its node)", async () => {
    const proto = Bridge.prototype as unknown as { readGuestStack: () => string };
    const read = proto.readGuestStack;
    let walks = 0;
    proto.readGuestStack = function (this: unknown) {
      walks++;
      return read.call(this);
    };
    try {
      const src =
        HEAD +
        `function get() { return kmalloc(64, GFP_KERNEL); }\nconst put = (p: bigint) => kfree(p);\nmodule_init(() => { for (let i = 0; i < 200; i++) put(get()); return 0; });\n`;
      await runModule(src, { config: "debug", views: false });
      expect(walks).toBe(0);
      await runModule(src, { config: "debug", views: false, shadowStack: false });
      expect(walks).toBeGreaterThan(0);
    } finally {
      proto.readGuestStack = read;
    }
  }, 60_000);

  it("keeps the distro kernel's code plain (no stack is read there)", async () => {
    const src = HEAD + `module_init(() => { kfree(kmalloc(8, GFP_KERNEL)); return 0; });`;
    const a = await runModule(src, { config: "distro", views: false });
    const b = await runModule(src, { config: "distro", views: false, shadowStack: false });
    expect(comparable(a)).toEqual(comparable(b));
  });
});
