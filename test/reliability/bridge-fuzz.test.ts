// Bridge fuzz: every export of the table, called with random argument values and types (bigint vs number, huge,
// negative, fractional, NaN, strings, objects, arrays, Proxies, getters, functions, too few and too many). Every
// call must end in a value, an error that names the function (a TypeError naming the parameter, or the kernel's
// own refusal), or a kernel report (an Oops ends the task); never a host exception, a hang, a forged handle or a
// broken invariant. One run per function and profile, so that an Oops in one does not hide the others.

import { describe, expect, it } from "vitest";
import { API } from "../../sandbox/api.ts";
import { NOT_FUZZED_YET } from "../../fuzz/gen.ts";
import { inEra, type FunctionEntry } from "../../sandbox/table.ts";
import { runModule } from "../../sandbox/run.ts";
import { Rng } from "../../fuzz/gen.ts";
import { isKmodlabBug } from "../../fuzz/oracle.ts";
import type { Era } from "../../src/kernel/types.ts";

/** Guest expressions of every kind a module could pass. */
const VALUES = [
  "0",
  "1",
  "-1",
  "4096",
  "1.5",
  "NaN",
  "Infinity",
  "-Infinity",
  "2 ** 53",
  "2 ** 64",
  "-(2 ** 31)",
  "0n",
  "1n",
  "-1n",
  "4096n",
  "2n ** 64n",
  "2n ** 200n",
  "-(2n ** 63n)",
  '""',
  '"12"',
  '"%s%n%p"',
  '"x".repeat(10000)',
  "true",
  "false",
  "null",
  "undefined",
  "{}",
  "[]",
  "[1, 2]",
  "{ valueOf() { return 8; } }",
  "{ get x() { throw new Error('getter ran'); } }",
  "new Proxy({}, { get() { throw new Error('proxy trap ran'); } })",
  "new Proxy(function () {}, { apply() { throw new Error('proxy apply ran'); } })",
  "() => 0",
  "function named() { return 1; }",
  "Symbol('s')",
  "new Date(0)",
  "/re/",
  "new Uint8Array(4)",
  "Object.create(null)",
];

/**
 * Real handles of each class, made the way a module makes them (names imported with an H_ alias, so that the
 * function under test may be one of the makers): the context rows (locks, timers, work, the DMA device) are
 * reached with live objects, not only refused for a wrong type. Sometimes a handle of another class is passed.
 */
const HANDLES: Record<string, { module: "linux" | "sim"; name: string; expr: string }> = {
  spinlock_t: { module: "linux", name: "DEFINE_SPINLOCK", expr: "H_DEFINE_SPINLOCK()" },
  mutex: { module: "linux", name: "DEFINE_MUTEX", expr: "H_DEFINE_MUTEX()" },
  timer_list: { module: "linux", name: "timer_list", expr: "new H_timer_list()" },
  tasklet_struct: { module: "linux", name: "tasklet_struct", expr: "new H_tasklet_struct()" },
  work_struct: { module: "linux", name: "work_struct", expr: "new H_work_struct()" },
  delayed_work: { module: "linux", name: "delayed_work", expr: "new H_delayed_work()" },
  workqueue_struct: { module: "linux", name: "alloc_workqueue", expr: 'H_alloc_workqueue("bf_wq", 0, 1)' },
  device: { module: "sim", name: "dma_device", expr: "H_dma_device()" },
  kmem_cache: { module: "linux", name: "kmem_cache_create", expr: 'H_kmem_cache_create("bf_cache", 64, 0, 0, null)' },
};
const inTable = (name: string, era: Era) => API.some((e) => e.name === name && inEra(e, era));

function program(f: FunctionEntry, seed: number, calls: number, era: Era = "6.1"): string {
  const r = new Rng(seed);
  const lines: string[] = [];
  const used = new Set<string>();
  const handleFor = (type: string): string | undefined => {
    const kinds = Object.keys(HANDLES).filter((k) => inTable(HANDLES[k]!.name, era));
    const want = r.chance(0.85) && kinds.includes(type) ? type : r.pick(kinds);
    used.add(want);
    return HANDLES[want]!.expr;
  };
  for (let i = 0; i < calls; i++) {
    const fixed = f.params.filter((p) => p.type !== "printk-args").length;
    const n = r.chance(0.1) ? r.int(fixed + 3) : fixed + (f.params.some((p) => p.type === "printk-args") ? r.int(3) : 0);
    const args = Array.from({ length: n }, (_, j) => {
      const p = f.params[j];
      if (p?.type.startsWith("handle:") && r.chance(0.6)) return handleFor(p.type.slice(7)) ?? r.pick(VALUES);
      return r.pick(VALUES);
    });
    lines.push(`  t(() => ${f.name}(${args.join(", ")}));`);
  }
  const imp = (m: "linux" | "sim") => {
    const xs = [...used]
      .map((k) => HANDLES[k]!)
      .filter((h) => h.module === m)
      .map((h) => `${h.name} as H_${h.name}`);
    return xs.length ? `import { ${xs.join(", ")} } from "${m}";\n` : "";
  };
  const handleImports = imp("linux") + imp("sim");
  // Names the bridge may put in its messages: the function's own and, for handle parameters, the prelude's wording.
  return `${handleImports}import { ${f.name}, printk, KERN_ERR, module_init, MODULE_LICENSE } from "${f.module === "sim" ? "sim" : "linux"}";
${f.module === "sim" ? 'import { printk as _p } from "linux";' : ""}
MODULE_LICENSE("GPL");
let done = 0;
function t(call: () => unknown) {
  try {
    call();
  } catch (e: any) {
    const msg = e && typeof e.message === "string" ? e.message : String(e);
    if (msg === "interrupted") throw e;
    const named = msg.indexOf(${JSON.stringify(f.name)}) >= 0;
    const ok = (e instanceof TypeError || e instanceof RangeError || e instanceof Error) && named && msg.indexOf("simulated kernel failed") < 0;
    if (!ok) ${f.module === "sim" ? "_p" : "printk"}(KERN_ERR + "BRIDGE-BAD %s\\n", String(e && e.name) + ": " + msg);
  }
  done++;
}
function fz_init(): number {
${lines.join("\n")}
  ${f.module === "sim" ? "_p" : "printk"}(KERN_ERR + "BRIDGE-DONE %d\\n", done);
  return 0;
}
module_init(fz_init);
`.replace(
    `import { ${f.name}, printk, KERN_ERR, module_init, MODULE_LICENSE } from "sim";`,
    `import { ${f.name} } from "sim";\nimport { KERN_ERR, module_init, MODULE_LICENSE } from "linux";`,
  );
}

const TARGETS: { profile: string; era: Era }[] = [
  { profile: "x86_64-6.1", era: "6.1" },
  { profile: "i386-2.6", era: "2.6" },
];
const CALLS = 40;

describe("bridge fuzz: every export, random argument types and values", () => {
  for (const t of TARGETS) {
    it(`${t.profile}: every call ends in a value, a named error or a kernel report`, async () => {
      // The "user" module's rows are called from a user program (user_main), not from module code: fuzz/gen.ts's user
      // block drives them (test/reliability/fuzz.test.ts checks that it reaches every row).
      const fns = API.filter(
        (e): e is FunctionEntry =>
          e.kind === "function" && e.module !== "user" && inEra(e, t.era) && !["module_init", "module_exit"].includes(e.name) && !NOT_FUZZED_YET.has(e.name),
      );
      expect(fns.length).toBeGreaterThan(20);
      const problems: string[] = [];
      let completed = 0;
      for (const [i, f] of fns.entries()) {
        const src = program(f, 1000 + i, CALLS, t.era);
        const r = await runModule(src, { profile: t.profile, checkInvariants: true, limits: { cpuMs: 10000 } });
        const ctx = `${f.name} (${t.profile})`;
        for (const l of r.dmesg) if (l.includes("BRIDGE-BAD")) problems.push(`${ctx}: ${l.replace(/^.*BRIDGE-BAD /, "")}`);
        for (const rep of r.reports) {
          // A kernel BUG() or a hang the kernel models (wait_event, a deadlock) is a kernel report; kmodlab's own
          // "bug" and the sandbox's CPU deadline are not.
          if ((rep.kind === "bug" && isKmodlabBug(rep.title)) || (rep.kind === "timeout" && rep.limit === "cpu") || rep.kind === "compile-error")
            problems.push(`${ctx}: ${rep.kind}: ${rep.title}`);
          if (rep.kind === "exception" && !/BRIDGE|interrupted/.test(rep.text) && /simulated kernel failed/.test(rep.text))
            problems.push(`${ctx}: ${rep.title}`);
        }
        const done = r.dmesg.find((l) => l.includes("BRIDGE-DONE"));
        // An Oops (a wild address) ends the task early: that is a kernel report, and it must be there.
        if (done) completed += Number(/BRIDGE-DONE (\d+)/.exec(done)![1]);
        // (kfree of a wild pointer Oopses with kind invalid-free; a BUG() or a modelled deadlock ends the function too.)
        else if (!r.reports.some((x) => ["oops", "kasan", "exception", "invalid-free", "double-free", "bug", "timeout"].includes(x.kind)))
          problems.push(`${ctx}: neither finished nor reported why (${r.reports.map((x) => `${x.kind}: ${x.title}`).join("; ")})`);
      }
      expect(problems).toEqual([]);
      expect(completed).toBeGreaterThan(fns.length * CALLS * 0.5);
    }, 180_000);
  }

  it("a TypeError from the bridge names the function and the parameter", async () => {
    const r = await runModule(`import { kmalloc, printk, KERN_INFO, module_init } from "linux";
module_init(() => {
  for (const v of [1n, "8", null, {}, 1.5, -1, NaN, 2 ** 64]) {
    try { kmalloc(v as any, 0); } catch (e: any) { printk(KERN_INFO + "E %s\\n", e.name + ": " + e.message); }
  }
  return 0;
});`);
    const errs = r.dmesg.filter((l) => / E /.test(l)).map((l) => l.replace(/^.* E /, ""));
    expect(errs).toHaveLength(8);
    for (const e of errs) expect(e).toMatch(/^TypeError: kmalloc: parameter 'size' must be /);
  });
});
