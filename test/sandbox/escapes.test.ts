import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { fakeDeps } from "./fake-kernel.ts";

const deps = fakeDeps();
const HEAD = `import { MODULE_LICENSE, module_init, module_exit, printk, KERN_INFO, __get_free_page, free_page, GFP_KERNEL, DEFINE_SPINLOCK, spin_lock, timer_list, call_me_back } from "linux";
MODULE_LICENSE("GPL");
`;
const run = (body: string, opts = {}) => runModule(HEAD + body, opts, deps);
/** The module prints what it found; each line is "name=value". */
const said = (r: { dmesg: string[] }) => r.dmesg.map((l) => l.slice(15)).filter((l) => !/taints kernel|Disabling lock/.test(l));

describe("the guest sees ECMAScript and the two modules, nothing of the host", () => {
  it("globalThis holds only ECMAScript globals (no process, require, fetch, setTimeout, console, host objects)", async () => {
    const r = await run(`
const names = Object.getOwnPropertyNames(globalThis).sort();
const host = ["process", "require", "module", "exports", "fetch", "setTimeout", "setInterval", "console", "window", "self", "importScripts", "postMessage", "WebAssembly", "Deno", "Bun", "global", "std", "os"];
printk(KERN_INFO + "found=%s\\n", host.filter((n) => n in globalThis).join(","));
printk(KERN_INFO + "nonstandard=%s\\n", names.filter((n) => !/^[A-Z]/.test(n) && !["globalThis", "undefined", "NaN", "Infinity", "eval", "isFinite", "isNaN", "parseFloat", "parseInt", "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "unescape"].includes(n)).join(","));
`);
    expect(said(r)).toEqual(["found=", "nonstandard="]);
  });

  it("the Function constructor and eval reach only the guest's own global", async () => {
    const r = await run(`
const g = Function("return this")();
const viaEval = (0, eval)("typeof process + ',' + typeof require + ',' + typeof _linux");
printk(KERN_INFO + "same=%d eval=%s ctor=%s\\n", g === globalThis ? 1 : 0, viaEval, (function(){}).constructor("return typeof fetch")());
`);
    expect(said(r)).toEqual(["same=1 eval=undefined,undefined,undefined ctor=undefined"]);
  });

  it("the linux module object is frozen and null-prototyped; its functions carry no host internals", async () => {
    const r = await run(`
import * as L from "linux";
let threw = 0;
try { (L as any).kmalloc = 1; } catch (e) { threw++; }
try { (L as any).printk = () => 0; } catch (e) { threw++; }
const ks = Object.getOwnPropertyNames(printk).sort().join(",");
printk(KERN_INFO + "frozen=%d threw=%d proto=%s fnprops=%s src=%s\\n", Object.isFrozen(L) ? 1 : 0, threw, String(Object.getPrototypeOf(L)), ks, String(printk).replace(/\\s+/g, " "));
`);
    expect(said(r)).toEqual(["frozen=1 threw=2 proto=null fnprops=length,name src=function printk() { [native code] }"]);
  });

  it("prototype pollution before a call changes nothing the bridge returns or reads", async () => {
    const r = await run(`
(Object.prototype as any).valueOf = () => 42;
(BigInt.prototype as any).toString = () => "0";
(Number.prototype as any).valueOf = () => 7;
Object.defineProperty(Object.prototype, "then", { get() { throw new Error("getter ran"); } });
(globalThis as any).BigInt = () => 0n;
(globalThis as any).JSON = { parse() { throw new Error("json"); }, stringify() { return "x"; } };
(WeakMap.prototype as any).get = () => ({ type: "spinlock_t", id: 999 });
(Reflect as any).apply = () => 0;
const p = __get_free_page(GFP_KERNEL);
const l = DEFINE_SPINLOCK();
printk(KERN_INFO + "p=%px lock=%d typeof=%s\\n", p, spin_lock(l), typeof p);
free_page(p);
`);
    expect(r.reports).toEqual([]);
    expect(said(r)).toEqual(["p=ffff888000100000 lock=101 typeof=bigint"]);
  });

  it("getters, Proxies and valueOf objects as arguments are refused without being run", async () => {
    const r = await run(`
let ran = 0;
const tricky = [
  { valueOf() { ran++; return 100; } },
  new Proxy({}, { get() { ran++; return 1; }, has() { ran++; return true; }, getPrototypeOf() { ran++; return null; } }),
  Object.defineProperty({}, "length", { get() { ran++; return 1; } }),
  Object(100),
];
const errs: string[] = [];
for (const t of tricky) { try { __get_free_page(t as any); } catch (e) { errs.push((e as Error).message); } }
try { spin_lock(new Proxy(DEFINE_SPINLOCK(), {}) as any); } catch (e) { errs.push((e as Error).message); }
printk(KERN_INFO + "ran=%d\\n", ran);
for (const e of errs) printk(KERN_INFO + "%s\\n", e);
`);
    expect(said(r)).toEqual([
      "ran=0",
      "__get_free_page: parameter 'gfp_mask' must be a gfp_t (a non-negative integer number such as GFP_KERNEL), got an object",
      "__get_free_page: parameter 'gfp_mask' must be a gfp_t (a non-negative integer number such as GFP_KERNEL), got an object",
      "__get_free_page: parameter 'gfp_mask' must be a gfp_t (a non-negative integer number such as GFP_KERNEL), got an object",
      "__get_free_page: parameter 'gfp_mask' must be a gfp_t (a non-negative integer number such as GFP_KERNEL), got an object",
      "spin_lock: parameter 'lock' must be a spinlock_t (made with DEFINE_SPINLOCK()), got an object",
    ]);
  });

  it("handles cannot be forged, copied or made with new when the kernel makes them another way", async () => {
    const r = await run(`
const l = DEFINE_SPINLOCK();
const out: string[] = [];
const tryIt = (f: () => unknown) => { try { out.push(String(f())); } catch (e) { out.push((e as Error).message); } };
tryIt(() => spin_lock({ ...l } as any));
tryIt(() => spin_lock(Object.create(l)));
tryIt(() => spin_lock({ id: 101, type: "spinlock_t" } as any));
tryIt(() => new (l.constructor as any)());
tryIt(() => { try { (l as any).id = 5; } catch (e) { return "frozen"; } return "mutable"; });
tryIt(() => spin_lock(l));
const t = new timer_list();
tryIt(() => spin_lock(t as any));
tryIt(() => t instanceof timer_list);
for (const o of out) printk(KERN_INFO + "%s\\n", o);
`);
    expect(said(r)).toEqual([
      "spin_lock: parameter 'lock' must be a spinlock_t (made with DEFINE_SPINLOCK()), got an object",
      "spin_lock: parameter 'lock' must be a spinlock_t (made with DEFINE_SPINLOCK()), got an object",
      "spin_lock: parameter 'lock' must be a spinlock_t (made with DEFINE_SPINLOCK()), got an object",
      "spinlock_t is made with DEFINE_SPINLOCK(), not new spinlock_t()",
      "frozen",
      "101",
      "spin_lock: parameter 'lock' must be a spinlock_t (made with DEFINE_SPINLOCK()), got an object",
      "true",
    ]);
  });

  it("callbacks: the kernel gets the same handle back, and returning objects or throwing from a callback breaks nothing (each is the callback's exception, no getter or trap runs)", async () => {
    const r = await run(`
const t = new timer_list();
let seen = "";
function cb_num(x: timer_list, v: bigint) { seen = (x === t) + "," + v.toString(16); return 5; }
function cb_obj() { return { valueOf() { throw new Error("valueOf ran"); } } as any; }
const cb_proxy = () => new Proxy({}, { get() { throw new Error("trap ran"); } }) as any;
function cb_throw_str() { throw "just a string"; }
printk(KERN_INFO + "num=%d seen=%s\\n", call_me_back(t, cb_num), seen);
printk(KERN_INFO + "obj=%d proxy=%d\\n", call_me_back(t, cb_obj), call_me_back(t, cb_proxy));
printk(KERN_INFO + "str=%d\\n", call_me_back(t, cb_throw_str));
`);
    expect(said(r).filter((l) => /^(num|obj|str)=/.test(l))).toEqual(["num=5 seen=true,1234", "obj=-1 proxy=-1", "str=-1"]);
    const ex = r.reports.filter((x) => x.kind === "exception");
    // an object returned where the kernel takes an int is the callback's TypeError (sandbox/bindings.ts callback)
    expect(ex.map((x) => x.title)).toEqual(["cb_obj", "cb_proxy", "cb_throw_str"].map((f) => `BUG: kernel exception in ${f} [cell]`));
    expect(ex[0].text).toContain("TypeError: call_me_back: cb_obj returned an object; the kernel takes an integer (int) from its fn");
    expect(ex[2].text).toContain('uncaught throw of "just a string" (not an Error)');
    expect(r.dmesg.join("\n")).not.toMatch(/valueOf ran|trap ran/);
  });

  it("throwing non-Error values out of init is an exception report each, never a host crash", async () => {
    for (const [v, shown] of [
      ["42", "42"],
      ["null", "null"],
      ["undefined", "undefined"],
      ["{ a: 1 }", "an object that is not an Error"],
      ["Symbol('s')", "a symbol"],
      ["10n", "10n"],
    ] as const) {
      const r = await run(`function bad_init(): number { throw ${v}; }\nmodule_init(bad_init);`);
      const rep = r.reports.find((x) => x.kind === "exception")!;
      expect(rep.title).toBe("BUG: kernel exception in bad_init [cell]");
      expect(rep.text).toContain(shown);
      expect(r.initReturn).toBeNull();
      expect(r.module?.loaded).toBe(false);
    }
  });

  it("an Error with a throwing getter for its message is read safely", async () => {
    const r = await run(
      `module_init(function evil_init() { const e = new Error("x"); Object.defineProperty(e, "message", { get() { throw new Error("gotcha"); } }); throw e; });`,
    );
    expect(r.reports.map((x) => x.kind)).toEqual(["exception"]);
  });
});
