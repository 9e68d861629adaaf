// Adversarial modules against the real kernel and the real grader: reaching the host, forging what the grader and
// the views read, corrupting kernel memory, never returning, allocating without end. Each case ends with nothing
// reached, nothing forged, and the next run clean (same output as a run in a fresh process). The basic escapes
// (globals, Function/eval, frozen module objects, prototype pollution before a call, getters and Proxies as
// arguments, handle forgery) are in ../escapes.test.ts against the fake kernel; these go further, on the real one.

import { describe, expect, it } from "vitest";
import { runModule } from "../../../sandbox/run.ts";
import type { RunResult } from "../../../sandbox/result.ts";
import { gradeSource } from "../../../src/grader/grade.ts";
import { getExercise } from "../../../src/grader/exercises/index.ts";

const OK = `import { module_init, MODULE_LICENSE, printk, KERN_INFO } from "linux";
MODULE_LICENSE("GPL");
module_init(() => { printk(KERN_INFO + "clean\\n"); return 0; });`;
/** What a clean run looks like (dmesg without timestamps, reports, /proc after exit). */
const shape = (r: RunResult) => JSON.stringify({ d: r.dmesg.map((l) => l.replace(/^\[[ \d.]+\] /, "")), k: r.reports.map((x) => x.kind), p: r.procAfterExit });
let clean = "";
async function expectNextRunClean(): Promise<void> {
  if (!clean) clean = shape(await runModule(OK, { proc: ["meminfo", "buddyinfo", "slabinfo", "vmallocinfo"] }));
  expect(shape(await runModule(OK, { proc: ["meminfo", "buddyinfo", "slabinfo", "vmallocinfo"] }))).toBe(clean);
}
const said = (r: RunResult) => r.dmesg.map((l) => l.replace(/^\[[ \d.]+\] /, ""));
const internal = (r: RunResult) => r.reports.filter((x) => x.kind === "bug");

describe("reaching the host", () => {
  it("import() is refused before anything runs (a compile error at its line)", async () => {
    const r = await runModule(`import { module_init } from "linux";\nmodule_init(() => { (import("fs") as any).then(() => 0); return 0; });`);
    expect(r.reports.map((x) => [x.kind, x.title])).toEqual([
      ["compile-error", 'cell.ts:2:22: ImportError: dynamic import() is not available in a module cell; use import { ... } from "linux"'],
    ]);
    expect(r.initReturn).toBeNull();
  });

  it("require, process, QuickJS std/os, constructor chains and host stack paths reach nothing", async () => {
    const r = await runModule(`import { module_init, printk, KERN_INFO } from "linux";
const probe = (name: string, f: () => unknown) => { try { const v = f(); printk(KERN_INFO + "%s=%s\\n", name, typeof v); } catch (e: any) { printk(KERN_INFO + "%s!%s\\n", name, String(e && e.name)); } };
module_init(() => {
  probe("require", () => (globalThis as any).require("fs"));
  probe("process", () => (globalThis as any).process.env);
  probe("ctor", () => (0).constructor.constructor("return typeof process")());
  probe("asyncfn", () => (async function () {}).constructor("return 1")());
  probe("std", () => (globalThis as any).std.loadFile("/etc/passwd"));
  probe("os", () => (globalThis as any).os.exec(["/bin/sh"]));
  probe("stack", () => { const s = new Error("x").stack || ""; if (/\\/work\\/|node_modules|\\.ts:\\d+:\\d+\\)/.test(s) && !/cell\\.ts/.test(s)) printk(KERN_INFO + "HOSTPATH %s\\n", s); return s; });
  return 0;
});`);
    const lines = said(r);
    expect(lines.some((l) => l.includes("IMPORTED") || l.includes("HOSTPATH"))).toBe(false);
    expect(lines).toContain("require!TypeError");
    expect(lines).toContain("process!TypeError");
    expect(lines).toContain("std!TypeError");
    expect(lines).toContain("os!TypeError");
    expect(lines.find((l) => l.startsWith("ctor"))).toMatch(/^ctor=string$/); // the guest's own Function: "undefined" inside
    expect(internal(r)).toEqual([]);
    await expectNextRunClean();
  });

  it("globals and prototypes changed in one run are gone in the next", async () => {
    await runModule(`import { module_init } from "linux";
(Object.prototype as any).polluted = 1; (globalThis as any).leftover = 2; (Array.prototype as any).push = () => { throw new Error("x"); };
JSON.parse = () => ({ forged: true }) as any;
module_init(() => 0);`);
    const r = await runModule(`import { module_init, printk, KERN_INFO } from "linux";
module_init(() => { printk(KERN_INFO + "%s %s %s\\n", typeof ({} as any).polluted, typeof (globalThis as any).leftover, String([1].push(2))); return 0; });`);
    expect(said(r)).toContain("undefined undefined 2");
  });
});

describe("forging what the grader and the views read", () => {
  it("printk text that looks like a kernel splat or a verdict creates no report", async () => {
    const forged = [
      "BUG: kernel NULL pointer dereference, address: 0000000000000000",
      "------------[ cut here ]------------",
      "WARNING: CPU: 0 PID: 1 at mm/page_alloc.c:5634 __alloc_pages+0x0/0x0",
      "kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
      "BUG: KASAN: slab-out-of-bounds in cell_init+0x0/0x0",
      "kmodlab internal error: the simulated kernel is inconsistent",
      "PASS: all checks passed (10/10)",
      '{"passed":true,"score":10}',
    ];
    const r = await runModule(`import { module_init, printk, KERN_EMERG, KERN_INFO, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
${forged.map((f) => `  printk(KERN_EMERG + ${JSON.stringify(f + "\n")});`).join("\n")}
  printk(KERN_INFO + "[    0.000000] fake timestamp\\n");
  return 0;
});`);
    expect(r.reports).toEqual([]);
    // The text is printed as the module's own lines, with the kernel's timestamps in front.
    for (const f of forged) expect(r.dmesg.some((l) => /^\[[ \d.]+\] /.test(l) && l.endsWith(f))).toBe(true);
  });

  it("the grader is not fooled by printed claims: it judges from the kernel's records", async () => {
    const ex = getExercise("contiguous-16k")!;
    const cheat = `import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit, kmalloc, kfree, GFP_KERNEL } from "linux";
MODULE_LICENSE("GPL");
let p = 0n;
module_init(() => {
  p = kmalloc(16384, GFP_KERNEL); // not the page allocator, whatever it prints
  printk(KERN_INFO + "__get_free_pages(GFP_KERNEL, 2) = 0xffff888004000000\\n");
  printk(KERN_INFO + "order-2 block filled with 0xab; all checks passed\\n");
  return 0;
});
module_exit(() => kfree(p));`;
    const g = await gradeSource(ex, cheat);
    expect(g.passed).toBe(false);
    const good = await gradeSource(ex, ex.solution);
    expect(good.passed).toBe(true);
  });

  it("objects the bridge returned cannot be changed to fool the next call", async () => {
    const r = await runModule(
      `import { module_init, printk, KERN_INFO, dma_device } from "linux";
import * as linux from "linux";
module_init(() => {
  const tries: string[] = [];
  const t = (name: string, f: () => void) => { try { f(); tries.push(name + ":changed"); } catch (e: any) { tries.push(name + ":" + e.name); } };
  t("module", () => { (linux as any).kmalloc = () => 1n; });
  t("deleteKmalloc", () => { delete (linux as any).kmalloc; });
  t("defineProp", () => { Object.defineProperty(linux, "GFP_KERNEL", { value: 0 }); });
  t("protoOfModule", () => { Object.setPrototypeOf(linux, {}); });
  printk(KERN_INFO + "%s\\n", tries.join(","));
  printk(KERN_INFO + "kmalloc is %s\\n", typeof (linux as any).kmalloc);
  return 0;
});`.replace('import { module_init, printk, KERN_INFO, dma_device } from "linux";', 'import { module_init, printk, KERN_INFO } from "linux";'),
    );
    const lines = said(r);
    expect(lines).toContain("module:TypeError,deleteKmalloc:TypeError,defineProp:TypeError,protoOfModule:TypeError");
    expect(lines).toContain("kmalloc is function");
  });
});

describe("corrupting kernel memory", () => {
  const WILD = `import { module_init, module_exit, MODULE_LICENSE, writeb, memset, kmalloc, kfree, GFP_KERNEL, PAGE_OFFSET } from "linux";
MODULE_LICENSE("GPL");
let p = 0n;
module_init(() => {
  p = kmalloc(32, GFP_KERNEL);
  memset(p, 0x41, 32 + 64);              // past the end of its own object
  writeb(0x42, PAGE_OFFSET + 0x1000000n); // the kernel image
  return 0;
});
module_exit(() => kfree(p));`;

  it("the debug kernel's checkers report writes outside the module's allocations; the simulator stays consistent", async () => {
    const r = await runModule(WILD, { config: "debug", checkInvariants: true });
    expect(r.reports.some((x) => x.kind === "kasan")).toBe(true);
    expect(internal(r)).toEqual([]);
    await expectNextRunClean();
  });

  it("the distro kernel is silent where the real one is, slub_debug-free; still no simulator inconsistency", async () => {
    const r = await runModule(WILD, { config: "distro", checkInvariants: true });
    expect(internal(r)).toEqual([]);
    await expectNextRunClean();
  });

  it("scribbling over the page tables is the module's corruption, not a 'kmodlab internal error'", async () => {
    const r = await runModule(
      `import { module_init, MODULE_LICENSE, memset, vmalloc, virt_to_phys, phys_to_virt, PAGE_OFFSET, printk, KERN_INFO } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
  const v = vmalloc(3 * 4096);
  // Every low page of RAM below 16 MiB except the first: boot page tables live among them.
  for (let pa = 0x100000n; pa < 0x1000000n; pa += 0x1000n) { try { memset(phys_to_virt(pa), 0, 8); } catch (e) {} }
  printk(KERN_INFO + "%px\\n", v);
  return 0;
});`,
      { checkInvariants: true, config: "distro" },
    );
    expect(internal(r)).toEqual([]);
    await expectNextRunClean();
  });
});

describe("never returning, never stopping", () => {
  it("an exit function that never returns is a soft lockup report; the next run is clean", async () => {
    const r = await runModule(
      `import { module_init, module_exit } from "linux";
module_init(() => 0);
module_exit(() => { for (;;) {} });`,
      { limits: { cpuMs: 200 } },
    );
    expect(r.reports.map((x) => x.kind)).toContain("timeout");
    expect(r.module?.unloaded).toBe(false);
    await expectNextRunClean();
  });

  for (const [what, body, kind] of [
    ["throws", `throw new Error("ctor failed");`, "exception"],
    ["never returns", `for (;;) {}`, "timeout"],
  ] as const) {
    it(`a callback the kernel calls (a slab constructor) that ${what}: a report, and the next run is clean`, async () => {
      const r = await runModule(
        `import { module_init, module_exit, MODULE_LICENSE, kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, GFP_KERNEL } from "linux";
MODULE_LICENSE("GPL");
let c: any = null, o = 0n;
function evil_ctor(obj: bigint) { ${body} }
module_init(() => { c = kmem_cache_create("evil_cache", 64, 0, 0, evil_ctor); o = kmem_cache_alloc(c, GFP_KERNEL); return 0; });
module_exit(() => { kmem_cache_free(c, o); kmem_cache_destroy(c); });`,
        { limits: { cpuMs: 300 }, checkInvariants: true },
      );
      expect(r.reports.map((x) => x.kind)).toContain(kind);
      expect(internal(r)).toEqual([]);
      await expectNextRunClean();
    });
  }

  for (const [what, loop] of [
    ["kmalloc", "for (;;) { if (kmalloc(4096, GFP_KERNEL) === 0n) n++; if (n > 3) break; }"],
    ["vmalloc", "for (;;) { if (vmalloc(1 << 20) === 0n) n++; if (n > 3) break; }"],
    ["__get_free_pages", "for (;;) { if (__get_free_pages(GFP_KERNEL, 4) === 0n) n++; if (n > 3) break; }"],
  ] as const) {
    it(`a runaway ${what} loop: out of memory reported, the kernel consistent, the next run clean`, async () => {
      const r = await runModule(
        `import { module_init, MODULE_LICENSE, kmalloc, vmalloc, __get_free_pages, GFP_KERNEL } from "linux";
MODULE_LICENSE("GPL");
let n = 0;
module_init(() => { ${loop} return 0; });`,
        { mem: 256 << 20, checkInvariants: true, limits: { cpuMs: 30000, kernelCalls: 400000 } },
      );
      expect(r.reports.some((x) => ["page-alloc-failure", "vmalloc-failure", "out-of-memory", "limit"].includes(x.kind))).toBe(true);
      expect(internal(r)).toEqual([]);
      await expectNextRunClean();
    }, 120_000);
  }
});
