// One exit-code rule for every command (src/cli/main.ts EXIT_CODES): 0 only when the run ended with no report of
// any kind; 1 when the kernel reported anything, a sandbox limit stopped the run or the cell did not compile; 2 for
// bad usage, a --mem or --cmdline the profile cannot boot included. `kmodlab run` goes through the isolated worker
// (src/node/isolate.ts), so these also pin that the CLI's runs come back from it intact.

import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { cli, restoreSpiesAfterEach } from "./capture.ts";

const dir = mkdtempSync(join(tmpdir(), "kmodlab-exit-"));
function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

restoreSpiesAfterEach();

const L = `MODULE_LICENSE("GPL");\n`;
/** A cell per report class, and the report kind (and limit) it must end with. */
const CASES: { what: string; kind: string; limit?: string; src: string }[] = [
  {
    what: "Oops (NULL pointer dereference)",
    kind: "oops",
    src: `import { memset, MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { memset(0n, 0, 8); return 0; });`,
  },
  {
    what: "kernel BUG (vmalloc in an IRQ handler)",
    kind: "bug",
    src: `import { request_irq, free_irq, vmalloc, IRQ_HANDLED, MODULE_LICENSE, module_init, module_exit } from "linux";\nimport { BUTTON_IRQ, raise_irq_at } from "sim";\n${L}function handler(irq: number, dev: unknown): number { vmalloc(8192); return IRQ_HANDLED; }\nmodule_init(() => { raise_irq_at(1, BUTTON_IRQ); return request_irq(BUTTON_IRQ, handler, 0, "btn", 1); });\nmodule_exit(() => { free_irq(BUTTON_IRQ, 1); });`,
  },
  {
    what: "WARNING (freeing an IRQ never requested)",
    kind: "warn",
    src: `import { free_irq, MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { free_irq(5, 1); return 0; });`,
  },
  {
    what: "KASAN (slab out of bounds)",
    kind: "kasan",
    src: `import { kmalloc, kfree, writeb, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { const b = kmalloc(16, GFP_KERNEL); writeb(0x41, b + 16n); kfree(b); return 0; });`,
  },
  {
    what: "leak",
    kind: "leak",
    src: `import { kmalloc, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";\n${L}module_init(() => { kmalloc(100, GFP_KERNEL); return 0; });\nmodule_exit(() => {});`,
  },
  {
    what: "lockdep (AB-BA)",
    kind: "lockdep",
    src: `import { DEFINE_MUTEX, mutex_lock, mutex_unlock, MODULE_LICENSE, module_init } from "linux";\n${L}const a = DEFINE_MUTEX(), b = DEFINE_MUTEX();\nmodule_init(() => { mutex_lock(a); mutex_lock(b); mutex_unlock(b); mutex_unlock(a); mutex_lock(b); mutex_lock(a); mutex_unlock(a); mutex_unlock(b); return 0; });`,
  },
  {
    what: "DMA-API (mapping vmalloc memory)",
    kind: "dma-api",
    src: `import { vmalloc, vfree, dma_map_single, DMA_TO_DEVICE, MODULE_LICENSE, module_init } from "linux";\nimport { dma_device } from "sim";\n${L}module_init(() => { const v = vmalloc(4096); dma_map_single(dma_device(), v, 4096, DMA_TO_DEVICE); vfree(v); return 0; });`,
  },
  {
    what: "sleep in atomic (GFP_KERNEL under a spinlock)",
    kind: "sleep-in-atomic",
    src: `import { DEFINE_SPINLOCK, spin_lock, spin_unlock, kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";\n${L}const l = DEFINE_SPINLOCK();\nmodule_init(() => { spin_lock(l); kfree(kmalloc(8, GFP_KERNEL)); spin_unlock(l); return 0; });`,
  },
  {
    what: "scheduling while atomic",
    kind: "scheduling-while-atomic",
    src: `import { preempt_disable, preempt_enable, schedule, MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { preempt_disable(); schedule(); preempt_enable(); return 0; });`,
  },
  {
    // an order-4 block: orders 0-3 go to the per-CPU lists, which 6.1 without CONFIG_DEBUG_VM does not check on the way out
    what: "Bad page state (an order-4 block freed twice, then handed out again)",
    kind: "bad-page",
    src: `import { __get_free_pages, free_pages, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { const p = __get_free_pages(GFP_KERNEL, 4); free_pages(p, 4); free_pages(p, 4); for (let i = 0; i < 64; i++) __get_free_pages(GFP_KERNEL, 4); return 0; });`,
  },
  {
    what: "double free",
    kind: "double-free",
    src: `import { kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { const p = kmalloc(64, GFP_KERNEL); kfree(p); kfree(p); return 0; });`,
  },
  {
    what: "uncaught exception",
    kind: "exception",
    src: `import { MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { throw new Error("boom"); });`,
  },
  { what: "compile error", kind: "compile-error", src: `import { module_init } from "linux";\nmodule_init(() => { return 0 ;;; );` },
  {
    what: "stack limit",
    kind: "limit",
    limit: "stack",
    src: `import { MODULE_LICENSE, module_init } from "linux";\n${L}function f(n: number): number { return f(n + 1) + 1; }\nmodule_init(() => f(0));`,
  },
  {
    what: "guest memory limit",
    kind: "out-of-memory",
    limit: "memory",
    src: `import { MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => "y".repeat(1 << 27).length);`,
  },
  {
    what: "log limit",
    kind: "limit",
    limit: "log",
    src: `import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { for (;;) printk(KERN_INFO + "%s\\n", "x".repeat(1000)); });`,
  },
  {
    what: "the sandbox's CPU limit",
    kind: "timeout",
    limit: "cpu",
    src: `import { MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => { for (;;) {} });`,
  },
  {
    what: "the host's CPU watchdog (a built-in that never returns)",
    kind: "timeout",
    limit: "cpu",
    src: `import { MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => [].indexOf.call({ length: 2 ** 53 - 1 } as any, 1));`,
  },
];

describe("kmodlab run: exit code 1 for every report class", () => {
  for (const c of CASES) {
    it(`${c.what}: a ${c.kind}${c.limit ? ` (limit ${c.limit})` : ""} report, exit 1`, async () => {
      const r = await cli(["run", file(`${c.kind}-${c.limit ?? "k"}.ts`, c.src), "--json"]);
      const res = JSON.parse(r.out) as { reports: { kind: string; limit?: string }[] };
      expect(
        res.reports.some((x) => x.kind === c.kind && (c.limit === undefined || x.limit === c.limit)),
        JSON.stringify(res.reports),
      ).toBe(true);
      expect(r.code).toBe(1);
    }, 60_000);
  }

  it("the CPU limit, which dmesg shows as the watchdog's soft lockup, is still named on stderr", async () => {
    const r = await cli(["run", file("cpu-stderr.ts", CASES.find((c) => c.what === "the sandbox's CPU limit")!.src)]);
    expect(r.out).toMatch(/BUG: soft lockup - CPU#0 stuck for 22s!/);
    expect(r.err).toMatch(/^kmodlab: The module ran for more than \d+ ms of CPU time \(the run's CPU limit\) and was stopped\./m);
    expect(r.code).toBe(1);
  }, 60_000);

  it("a clean run exits 0; so does one whose init fails with -ENOMEM (insmod's error, no kernel report)", async () => {
    const ok = await cli([
      "run",
      file(
        "clean.ts",
        `import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";\n${L}module_init(() => { printk(KERN_INFO + "hi\\n"); return 0; });\nmodule_exit(() => {});`,
      ),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.err).toBe("");
    const enomem = await cli(["run", file("enomem.ts", `import { ENOMEM, MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => -ENOMEM);`)]);
    expect(enomem.err).toMatch(/insmod: ERROR: could not insert module .*Cannot allocate memory/);
    expect(enomem.code).toBe(0);
  }, 60_000);
});

describe("exit code 2 for bad usage, the same for every command", () => {
  const GOOD = () => file("good.ts", `import { MODULE_LICENSE, module_init } from "linux";\n${L}module_init(() => 0);`);
  const cases: [string, () => string[], RegExp][] = [
    ["run --mem 0", () => ["run", GOOD(), "--mem", "0"], /^kmodlab: cannot boot x86_64-6\.1 with --mem 0: .+\n$/],
    ["run --mem 1K", () => ["run", GOOD(), "--mem", "1K"], /^kmodlab: cannot boot x86_64-6\.1 with --mem 1K: .+\n$/],
    ["boot --mem 1K", () => ["boot", "--mem", "1K"], /^kmodlab: .+\n$/],
    ["proc meminfo --mem 0", () => ["proc", "meminfo", "--mem", "0"], /^kmodlab: .+\n$/],
    ["run --mem 1P", () => ["run", GOOD(), "--mem", "1P"], /^kmodlab: cannot boot x86_64-6\.1 with --mem 1P: .+\n$/],
    ["run --mem lots", () => ["run", GOOD(), "--mem", "lots"], /^kmodlab: bad --mem 'lots'/],
    ["run of a missing file", () => ["run", join(dir, "nope.ts")], /^kmodlab: cannot read /],
    ["run with an unknown option", () => ["run", GOOD(), "--frobnicate"], /unknown option/],
    ["grade --jobs 0", () => ["grade", "three-allocators", GOOD(), "--jobs", "0"], /^kmodlab: bad --jobs '0'/],
    ["grade of an unknown exercise", () => ["grade", "no-such-exercise", GOOD()], /^kmodlab: unknown exercise/],
  ];
  for (const [what, argv, err] of cases) {
    it(`${what}: exit 2 with one line`, async () => {
      const r = await cli(argv());
      expect({ code: r.code, err: r.err }).toMatchObject({ code: 2 });
      expect(r.err).toMatch(err);
      expect(r.err).not.toMatch(/\n\s+at /);
    }, 60_000);
  }
});

describe("the rule is documented", () => {
  it("--help ends with the exit codes of every command", async () => {
    const r = await cli(["--help"]);
    const text = r.out + r.err;
    expect(text).toMatch(/Exit codes \(every command\):\n\s+0 +the run ended with no report of any kind/);
    expect(text).toMatch(/\n\s+1 +the kernel reported something/);
    expect(text).toMatch(/\n\s+2 +bad usage: .*--mem/s);
  });
});

describe("a whole kmodlab process ends with the rule's code (the run worker keeps nothing waiting)", () => {
  const cliTs = join(__dirname, "..", "..", "src", "cli", "main.ts");
  const proc = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", cliTs, ...args], { encoding: "utf8", timeout: 120_000 });
  it("bad usage after the worker was started: exit 2, one line", () => {
    const r = proc(["run", file("p-good.ts", `import { module_init } from "linux";\nmodule_init(() => 0);`), "--mem", "lots"]);
    expect([r.status, r.signal]).toEqual([2, null]);
    expect(r.stderr).toMatch(/^kmodlab: bad --mem 'lots'/m);
  }, 130_000);
  it("a built-in that never returns: the host ends the run, exit 1", () => {
    const r = proc(["run", file("p-hang.ts", `import { module_init } from "linux";\nmodule_init(() => Array(2 ** 32 - 1).join().length);`)]);
    expect([r.status, r.signal]).toEqual([1, null]);
    expect(r.stderr).toMatch(/^kmodlab: The module ran for more than 2000 ms of CPU time \(the run's CPU limit\)/m);
  }, 130_000);
});
