// Bad input to `kmodlab run` and runModule: each case ends in a clear message (one line, no host stack trace)
// and an exit code or a RunResult. The CLI's boot/proc commands are covered in test/cli; this is `run`.

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { runModule } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kmodlab-bad-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    const code = await main(argv);
    return { code, out: out.join(""), err: err.join("") };
  } finally {
    vi.restoreAllMocks();
  }
}

/** No host stack trace anywhere ("    at fn (file:line:col)" lines, node: internals, .ts paths of the host). */
function noHostTrace(s: string): void {
  expect(s).not.toMatch(/^\s+at .*(\(|node:|\.ts:\d+)/m);
  expect(s).not.toMatch(/src\/kernel\/|sandbox\/|node_modules/);
}

const OK = `import { module_init, MODULE_LICENSE } from "linux";\nMODULE_LICENSE("GPL");\nmodule_init(() => 0);\n`;

describe("kmodlab run: bad files", () => {
  const cases: { name: string; content: () => string | Buffer; code: number; err: RegExp; out?: RegExp }[] = [
    { name: "empty.ts", content: () => "", code: 0, err: /^$/ },
    {
      name: "binary.ts",
      content: () => Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0xff, 0xfe, 0x0a, 0x00, 0x13]),
      code: 1,
      err: /^.*binary\.ts:\d+:\d+: SyntaxError: .+\n$/,
    },
    {
      name: "syntax.ts",
      content: () => `import { module_init } from "linux";\nfunction f( { return 0; }\nmodule_init(f);\n`,
      code: 1,
      err: /^.*syntax\.ts:2:\d+: SyntaxError: .+\n$/,
    },
    { name: "no-init.ts", content: () => `import { printk, KERN_INFO } from "linux";\nprintk(KERN_INFO + "top level only\\n");\n`, code: 0, err: /^$/ },
    // An init that returns a non-number: the exception splat is kernel text (dmesg on stdout), stderr stays empty.
    {
      name: "object-init.ts",
      content: () => `import { module_init } from "linux";\nmodule_init(() => ({}) as any);\n`,
      code: 1,
      err: /^$/,
      out: /^\[[ \d.]+\] TypeError: module_init: the init function returned an object; an init function returns 0, or a negative errno such as -ENOMEM$/m,
    },
    {
      name: "undefined-init.ts",
      content: () => `import { module_init } from "linux";\nmodule_init(() => {});\n`,
      code: 1,
      err: /^$/,
      out: /TypeError: module_init: the init function returned undefined; an init function returns 0/,
    },
    {
      name: "bad-import.ts",
      content: () => `import { kmallok } from "linux";\n`,
      code: 1,
      err: /^.*bad-import\.ts:1:\d+: ImportError: "linux" has no export named 'kmallok' \(did you mean kmalloc\?\)\n$/,
    },
    {
      name: "node-import.ts",
      content: () => `import { readFileSync } from "fs";\nreadFileSync("/etc/passwd");\n`,
      code: 1,
      err: /ImportError|no module|cannot import|only "linux"/i,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exit ${c.code}, ${c.err.source.slice(0, 60)}`, async () => {
      const r = await cli(["run", file(c.name, c.content())]);
      expect({ code: r.code, err: r.err }).toMatchObject({ code: c.code });
      expect(r.err).toMatch(c.err);
      if (c.out) expect(r.out).toMatch(c.out);
      noHostTrace(r.err + r.out);
    });
  }

  // sandbox/run.ts: the guest value arrives wrapped ({ invalid: "string" }); the message names what it was.
  it("an init returning a string is described as returning a string", async () => {
    const r = await cli(["run", file("string-init.ts", `import { module_init } from "linux";\nmodule_init(() => "zero" as any);\n`)]);
    expect(r.out).toMatch(/the init function returned (a )?string/);
  });

  // How long it takes is a figure of npm run bench -- reliability; vitest's timeout catches a hang.
  it("a 5 MB file runs (or is refused) with at most one line on stderr", async () => {
    const body = `// ${"x".repeat(100)}\n`.repeat(Math.ceil((5 << 20) / 104));
    const p = file("big.ts", OK + body);
    const r = await cli(["run", p]);
    expect([0, 1]).toContain(r.code);
    expect(r.err.split("\n").filter(Boolean).length).toBeLessThanOrEqual(2);
    noHostTrace(r.err + r.out);
  });

  it("a 5 MB file of statements hits a limit with its message, not a host crash", async () => {
    const p = file(
      "big2.ts",
      `import { module_init, jiffies_to_msecs } from "linux";\nlet s = 0;\n` + "s += jiffies_to_msecs(1);\n".repeat(200_000) + "module_init(() => 0);\n",
    );
    const r = await cli(["run", p]);
    expect([0, 1]).toContain(r.code);
    noHostTrace(r.err + r.out);
  });

  it("a missing file is exit 2 with one line", async () => {
    const r = await cli(["run", join(dir, "nope.ts")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kmodlab: cannot read .*nope\.ts: ENOENT[^\n]*\n$/);
  });
});

describe("kmodlab run: bad options", () => {
  const cases: { argv: string[]; err: RegExp }[] = [
    { argv: ["--profile", "pdp11-v7"], err: /^kmodlab: .*pdp11-v7.*\n$/ },
    { argv: ["--mem", "0"], err: /^kmodlab: .*\n$/ },
    { argv: ["--mem", "1K"], err: /^kmodlab: .*\n$/ },
    { argv: ["--mem", "1P"], err: /^kmodlab: .*\n$/ },
    { argv: ["--mem", "lots"], err: /^kmodlab: bad --mem 'lots'.*\n$/ },
    { argv: ["--seed", "-4"], err: /^kmodlab: bad --seed '-4'.*\n$/ },
    // past 2^53 two seeds would be the same double: refused, not rounded
    { argv: ["--seed", "99999999999999999999999"], err: /^kmodlab: bad --seed '99999999999999999999999': expected an integer from 0 to 9007199254740991\n$/ },
    { argv: ["--config", "paranoid"], err: /^error: option '--config <kind>' argument 'paranoid' is invalid/ },
    { argv: ["--proc", "meminfo,nonesuch"], err: /^kmodlab: no such \/proc file: nonesuch/ },
  ];
  for (const c of cases) {
    it(`${c.argv.join(" ")}: exit 2, one line`, async () => {
      const r = await cli(["run", file("ok.ts", OK), ...c.argv]);
      // absurd RAM may be refused before the run (exit 2) or by the boot inside the run (exit 1, a bug-free report)
      expect([1, 2]).toContain(r.code);
      expect(r.err).toMatch(c.err);
      expect(r.err.trim().split("\n").length).toBeLessThanOrEqual(2);
      noHostTrace(r.err + r.out);
    });
  }

  it("--proc naming the module's own file, in a run a limit stopped before the module made it: the limit's report, exit 1, not 'no such /proc file'", async () => {
    const bomb = `import { module_init } from "linux";\nconst keep: ArrayBuffer[] = [];\nmodule_init(() => { for (;;) keep.push(new ArrayBuffer(16 << 20)); });`;
    const r = await cli(["run", file("bomb.ts", bomb), "--proc", "mine"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kmodlab: guest memory limit reached/m);
    expect(r.err).not.toMatch(/no such \/proc file/);
  });

  for (const cmdline of ["vmalloc=abc", "vmalloc=-1", "vmalloc=", "mem=-5M", "vmalloc=99999999999999999999G", "=\u0000"]) {
    it(`--cmdline "${cmdline}": the kernel boots (ignoring or clamping it) or refuses in one line`, async () => {
      const r = await cli(["run", file("ok.ts", OK), "--cmdline", cmdline]);
      expect([0, 1, 2]).toContain(r.code);
      if (r.code !== 0) expect(r.err.trim().split("\n").length).toBeLessThanOrEqual(2);
      noHostTrace(r.err + r.out);
    });
  }
});

describe("runModule: bad input is a RunResult with a clear report, never a rejection", () => {
  const oneLine = (r: RunResult) => r.reports.every((x) => !x.title.includes("\n") && x.title.length < 300);
  const cases: { what: string; src: string; opts?: Parameters<typeof runModule>[1]; kind?: string; title?: RegExp }[] = [
    { what: "unknown profile", src: OK, opts: { profile: "vax-4.3bsd" }, kind: "bug", title: /^kmodlab: cannot boot vax-4\.3bsd: .+/ },
    { what: "0 bytes of RAM", src: OK, opts: { mem: 0 }, kind: "bug", title: /^kmodlab: cannot boot x86_64-6\.1: .*(memory|RAM).*/i },
    { what: "1 KB of RAM", src: OK, opts: { mem: 1024 }, kind: "bug", title: /^kmodlab: cannot boot x86_64-6\.1: .*/ },
    { what: "1 PB of RAM", src: OK, opts: { mem: 2 ** 50 }, kind: "bug", title: /^kmodlab: cannot boot x86_64-6\.1: .*/ },
    { what: "NaN RAM", src: OK, opts: { mem: NaN }, kind: "bug", title: /^kmodlab: cannot boot x86_64-6\.1: bad memory size: NaN$/ },
    ...[NaN, -1, 1.5, 2 ** 60, Infinity].map((seed) => ({
      what: `seed ${seed}`,
      src: OK,
      opts: { seed },
      kind: "bug",
      title: new RegExp(`^kmodlab: cannot boot x86_64-6\\.1: bad seed: ${String(seed).replace(".", "\\.")}: expected an integer from 0 to 9007199254740991$`),
    })),
    { what: "negative CPU limit", src: OK, opts: { limits: { cpuMs: -1 } }, kind: "bug", title: /^kmodlab: limits\.cpuMs must be a positive number, got -1$/ },
    { what: "a NUL byte in the source", src: "\u0000", kind: "compile-error" },
    { what: "syntax error", src: "module_init(() => {", kind: "compile-error", title: /^cell\.ts:1:\d+: SyntaxError: / },
    { what: "init returning a bigint", src: `import { module_init } from "linux"; module_init(() => 0n as any);`, kind: "exception", title: /.*/ },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const r = await runModule(c.src, c.opts);
      expect(() => JSON.stringify(r)).not.toThrow();
      const rep = r.reports.find((x) => x.kind === c.kind);
      expect(rep, JSON.stringify(r.reports.map((x) => [x.kind, x.title]))).toBeDefined();
      if (c.title) expect(rep!.title).toMatch(c.title);
      expect(oneLine(r)).toBe(true);
      noHostTrace(r.reports.map((x) => x.title).join("\n"));
    });
  }
});
