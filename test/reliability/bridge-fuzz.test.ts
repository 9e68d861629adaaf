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
import type { Era } from "../../src/kernel/types.ts";

/** Guest expressions of every kind a module could pass. */
const VALUES = [
  "0", "1", "-1", "4096", "1.5", "NaN", "Infinity", "-Infinity", "2 ** 53", "2 ** 64", "-(2 ** 31)",
  "0n", "1n", "-1n", "4096n", "2n ** 64n", "2n ** 200n", "-(2n ** 63n)",
  '""', '"12"', '"%s%n%p"', '"x".repeat(10000)', "true", "false", "null", "undefined",
  "{}", "[]", "[1, 2]", "{ valueOf() { return 8; } }", "{ get x() { throw new Error('getter ran'); } }",
  "new Proxy({}, { get() { throw new Error('proxy trap ran'); } })", "new Proxy(function () {}, { apply() { throw new Error('proxy apply ran'); } })",
  "() => 0", "function named() { return 1; }", "Symbol('s')", "new Date(0)", "/re/", "new Uint8Array(4)", "Object.create(null)",
];

function program(f: FunctionEntry, seed: number, calls: number): string {
  const r = new Rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < calls; i++) {
    const fixed = f.params.filter((p) => p.type !== "printk-args").length;
    const n = r.chance(0.1) ? r.int(fixed + 3) : fixed + (f.params.some((p) => p.type === "printk-args") ? r.int(3) : 0);
    const args = Array.from({ length: n }, () => r.pick(VALUES));
    lines.push(`  t(() => ${f.name}(${args.join(", ")}));`);
  }
  // Names the bridge may put in its messages: the function's own and, for handle parameters, the prelude's wording.
  return `import { ${f.name}, printk, KERN_ERR, module_init, MODULE_LICENSE } from "${f.module === "sim" ? "sim" : "linux"}";
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
`.replace(`import { ${f.name}, printk, KERN_ERR, module_init, MODULE_LICENSE } from "sim";`, `import { ${f.name} } from "sim";\nimport { KERN_ERR, module_init, MODULE_LICENSE } from "linux";`);
}

const TARGETS: { profile: string; era: Era }[] = [
  { profile: "x86_64-6.1", era: "6.1" },
  { profile: "i386-2.6", era: "2.6" },
];
const CALLS = 40;

describe("bridge fuzz: every export, random argument types and values", () => {
  for (const t of TARGETS) {
    it(`${t.profile}: every call ends in a value, a named error or a kernel report`, async () => {
      const fns = API.filter((e): e is FunctionEntry => e.kind === "function" && inEra(e, t.era) && !["module_init", "module_exit"].includes(e.name) && !NOT_FUZZED_YET.has(e.name));
      expect(fns.length).toBeGreaterThan(20);
      const problems: string[] = [];
      let completed = 0;
      for (const [i, f] of fns.entries()) {
        const src = program(f, 1000 + i, CALLS);
        const r = await runModule(src, { profile: t.profile, checkInvariants: true, limits: { cpuMs: 10000 } });
        const ctx = `${f.name} (${t.profile})`;
        for (const l of r.dmesg) if (l.includes("BRIDGE-BAD")) problems.push(`${ctx}: ${l.replace(/^.*BRIDGE-BAD /, "")}`);
        for (const rep of r.reports) {
          if (rep.kind === "bug" || rep.kind === "timeout" || rep.kind === "compile-error") problems.push(`${ctx}: ${rep.kind}: ${rep.title}`);
          if (rep.kind === "exception" && !/BRIDGE|interrupted/.test(rep.text) && /simulated kernel failed/.test(rep.text)) problems.push(`${ctx}: ${rep.title}`);
        }
        const done = r.dmesg.find((l) => l.includes("BRIDGE-DONE"));
        // An Oops (a wild address) ends the task early: that is a kernel report, and it must be there.
        if (done) completed += Number(/BRIDGE-DONE (\d+)/.exec(done)![1]);
        else if (!r.reports.some((x) => x.kind === "oops" || x.kind === "kasan" || x.kind === "exception")) problems.push(`${ctx}: neither finished nor reported why`);
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
