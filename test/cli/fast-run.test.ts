// `kmodlab run ...` has two ways through bin/kmodlab.cjs: the fast path (lib/cli-run.cjs, one CommonJS script loaded
// with a V8 code cache: src/node/cli-run.ts) and the full command (lib/cli.mjs through Node's ES module loader), which
// KMODLAB_FAST_RUN=0 forces. Pins that a user cannot tell them apart: the same stdout, stderr and exit code for every
// profile and config on the bundled examples, for the options, and for every kind of bad usage; that the fast path is
// the one taken (it leaves its own code cache); and that a corrupt or foreign cache of it changes nothing. The runs
// use a copy of the built package (bin/, lib/, package.json, node_modules linked), as an installed package is: a
// build of the checkout swapped in meanwhile (a source changed) cannot put two builds side by side.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROFILES } from "../../src/kernel/profiles.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "kmodlab-fastrun-"));
const pkg = join(dir, "kmodlab");
const bin = join(pkg, "bin", "kmodlab.cjs");
const lib = join(pkg, "lib");
const examples = join(repo, "examples");
// the machines these runs boot stay out of lib/machines (a folder keeps 16)
const env = { ...process.env, KMODLAB_BOOT_CACHE_DIR: join(dir, "machines") };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Out {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], extra: Record<string, string> = {}): Promise<Out> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    p.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    p.on("error", reject);
    // --json prints the RunResult, whose stats.wallMs is the run's wall time: the one figure two runs never share
    p.on("close", (status, signal) => resolve({ status, signal, stdout: stdout.replace(/("wallMs": )[\d.e+-]+/g, "$10"), stderr }));
  });
}

/** Both ways, the full command first; two processes at a time (the machine has few cores). */
async function bothWays(cases: string[][]): Promise<{ args: string[]; full: Out; fast: Out }[]> {
  const results: { args: string[]; full: Out; fast: Out }[] = [];
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const args = cases[next++]!;
      const full = await run(args, { KMODLAB_FAST_RUN: "0" });
      const fast = await run(args);
      results.push({ args, full, fast });
    }
  };
  await Promise.all([lane(), lane()]);
  return results;
}

function expectSame(results: { args: string[]; full: Out; fast: Out }[]) {
  for (const { args, full, fast } of results) {
    const label = `kmodlab ${args.join(" ")}`;
    expect(fast.status, label).toBe(full.status);
    expect(fast.signal, label).toBe(full.signal);
    expect(fast.stdout, label).toBe(full.stdout);
    expect(fast.stderr, label).toBe(full.stderr);
  }
}

const cells = readdirSync(examples)
  .filter((f) => f.endsWith(".ts"))
  .sort();

beforeAll(() => {
  // builds lib/ if it is missing or stale, then copies the package without its caches
  const r = spawnSync(process.execPath, [join(repo, "bin", "kmodlab.cjs"), "profiles"], { encoding: "utf8", timeout: 300_000 });
  expect(r.status).toBe(0);
  cpSync(join(repo, "bin"), join(pkg, "bin"), { recursive: true });
  cpSync(join(repo, "lib"), lib, { recursive: true, filter: (f) => !/\.cache$|[\\/]machines$/.test(f) });
  cpSync(join(repo, "package.json"), join(pkg, "package.json"));
  symlinkSync(join(repo, "node_modules"), join(pkg, "node_modules"));
  expect(existsSync(join(lib, "cli-run.cjs"))).toBe(true);
}, 300_000);

describe("kmodlab run: the fast path (lib/cli-run.cjs) prints what the full command prints", () => {
  it("every bundled example on every profile, debug and distro kernels", async () => {
    expect(cells.length).toBeGreaterThanOrEqual(5);
    // memdemo on every profile with both configs (each its own cached machine); every other example on every profile
    // with one config, alternating along the profiles and the examples, so each example meets both configs and each
    // profile both. The full matrix (108 cases, 216 processes) was the suite's longest test, for the same code paths.
    const cases = PROFILES.flatMap((p, i) =>
      cells.flatMap((c, j) =>
        (c === "memdemo.ts" ? ["debug", "distro"] : [(i + j) % 2 ? "debug" : "distro"]).map((config) => [
          "run",
          join(examples, c),
          "--profile",
          p.name,
          "--config",
          config,
        ]),
      ),
    );
    for (const c of cells)
      for (const config of ["debug", "distro"])
        expect(
          cases.some((a) => a[1]!.endsWith(c) && a[5] === config),
          `${c} ${config}`,
        ).toBe(true);
    const results = await bothWays(cases);
    expectSame(results);
    // they ran: memdemo printed its three addresses on each, and some example made a report (exit 1)
    expect(results.filter((r) => r.args[1]!.endsWith("memdemo.ts") && /vmallocmem addr=/.test(r.fast.stdout))).toHaveLength(PROFILES.length * 2);
    expect(results.some((r) => r.fast.status === 1)).toBe(true);
  }, 900_000);

  it("the options: --json, --boot, --proc, --keep-loaded, --check-invariants, --fail-nth, --events, --mem, --cmdline, --seed, module parameters", async () => {
    const memdemo = join(examples, "memdemo.ts");
    const results = await bothWays([
      ["run", memdemo, "--json"],
      ["run", memdemo, "--boot", "--proc", "meminfo,/proc/buddyinfo"],
      ["run", "--keep-loaded", memdemo, "--proc", "vmallocinfo"],
      ["run", memdemo, "--check-invariants", "--mem=512M", "--seed", "3"],
      ["run", memdemo, "--fail-nth", "2"],
      ["run", memdemo, "--events", "button@30ms", "--profile", "arm-3.4-msm8x25"],
      ["run", memdemo, "--cmdline", "vmalloc=200M", "--profile", "i386-2.6"],
      ["run", memdemo, "answer=42"],
      ["run", "-p", "i386-6.1", memdemo],
    ]);
    expectSame(results);
    for (const r of results) expect(r.fast.status, r.args.join(" ")).not.toBe(2);
  }, 600_000);

  it("bad usage, help and broken cells: the same message and exit code", async () => {
    const broken = join(dir, "broken.ts");
    writeFileSync(broken, `import { module_init } from "linux";\nmodule_init(() => {\n  return 0 +;\n});\n`);
    const throws = join(dir, "throws.ts");
    writeFileSync(throws, `import { module_init } from "linux";\nmodule_init(() => { throw new Error("no"); });\n`);
    const memdemo = join(examples, "memdemo.ts");
    const results = await bothWays([
      ["run"],
      ["run", "--help"],
      ["run", "-h"],
      ["run", memdemo, "--help"],
      ["run", join(dir, "missing.ts")],
      ["run", broken],
      ["run", throws],
      ["run", memdemo, "--bogus"],
      ["run", memdemo, "-x"],
      ["run", memdemo, "--profile", "pdp11"],
      ["run", memdemo, "--profile"],
      ["run", memdemo, "--mem", "lots"],
      ["run", memdemo, "--mem", "1M"],
      ["run", memdemo, "--seed", "-1"],
      ["run", memdemo, "--config", "tiny"],
      ["run", memdemo, "--fail-nth", "0"],
      ["run", memdemo, "--events", "soon"],
      ["run", memdemo, "--events", "irq99@1ms"],
      ["run", memdemo, "--proc", "no such file"],
      ["run", memdemo, "--proc", "nosuchfile"],
      ["run", memdemo, "1abc"],
      ["run", memdemo, "--", "--json"],
    ]);
    expectSame(results);
    const byArgs = (...a: string[]) => results.find((r) => r.args.join(" ") === ["run", ...a].join(" "))!.fast;
    expect(byArgs("--help").status).toBe(0);
    expect(byArgs("--help").stdout).toMatch(/^Usage: kmodlab run \[options\] <file> \[params\.\.\.\]/);
    expect(byArgs().status).toBe(2);
    expect(byArgs(memdemo, "--bogus").stderr).toMatch(/unknown option '--bogus'/);
    expect(byArgs(memdemo, "--mem", "lots").stderr).toMatch(/^kmodlab: bad --mem 'lots'/);
    expect(byArgs(join(dir, "missing.ts")).stderr).toMatch(/^kmodlab: cannot read /);
    expect(byArgs(broken).status).toBe(1);
    expect(byArgs(broken).stderr).toMatch(/broken\.ts:\d+:\d+: SyntaxError/);
  }, 600_000);

  it.skipIf(process.platform === "win32")(
    "leaves at once only with its output written: a pipe read late, past its buffer, still gets all of it",
    async () => {
      const args = ["run", join(examples, "memdemo.ts"), "--json", "--proc", "meminfo,slabinfo,buddyinfo,vmallocinfo,zoneinfo"];
      const full = await run(args, { KMODLAB_FAST_RUN: "0" });
      expect(full.stdout.length).toBeGreaterThan(128 << 10); // more than a pipe holds
      // the command writes into a pipe nobody reads for 1.5 s (sh's), then into its reader
      const quoted = [process.execPath, bin, ...args].map((a) => `'${a}'`).join(" ");
      const r = spawnSync("sh", ["-c", `${quoted} | (sleep 1.5; cat)`], { cwd: dir, env, encoding: "utf8", timeout: 120_000 });
      expect(r.status).toBe(0);
      expect(r.stdout.replace(/("wallMs": )[\d.e+-]+/g, "$10")).toBe(full.stdout);
      expect(r.stderr).toBe(full.stderr);
    },
    120_000,
  );

  it("holds the command without the compiler: sucrase is in lib/cell-compiler.cjs alone, not in lib/cli-run.cjs nor in the sandbox's script", () => {
    // a static import of sandbox/transpile.ts from the CLI (src/cli/read-cell.ts, for the source size limit) once put
    // the transpiler and the API tables in it: 396 -> 522 KB, its code cache 176 -> 329 KB, loaded by every run
    // (the build strips comments: modules are told by names of theirs that the build keeps). The sandbox's script
    // takes src/node/cell-cache.ts for sandbox/transpile.ts (vite.node.config.ts cellCompilerApart).
    const text = readFileSync(join(lib, "cli-run.cjs"), "latin1");
    const sandbox = readFileSync(join(lib, "isolate-worker-code.cjs"), "latin1");
    const compiler = readFileSync(join(lib, "cell-compiler.cjs"), "latin1");
    expect(text).toContain("_checkForBrokenPassThrough"); // commander
    // sucrase's TypeScript parser, its tokens' enum, sandbox/transpile.ts's own compile
    for (const name of ["tsAfterParseVarHead", "ContextualKeyword", "function transpileUncached("]) {
      expect(compiler).toContain(name);
      expect(sandbox).not.toContain(name);
      expect(text).not.toContain(name);
    }
    expect(sandbox).toContain("function readCell("); // src/node/cell-cache.ts
  });

  it("a cell compiled before is not compiled again: its stored compile stands for lib/cell-compiler.cjs, both ways; a damaged one is compiled again", async () => {
    const cell = join(dir, "stored.ts");
    writeFileSync(cell, readFileSync(join(examples, "memdemo.ts"), "utf8") + "\n// stored\n");
    const first = await run(["run", cell]);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/vmallocmem addr=/);
    const cellsDir = join(dir, "machines", "cells");
    const stored = readdirSync(cellsDir).filter((f) => f.endsWith(".bin"));
    expect(stored.length).toBeGreaterThan(0);
    const compilerFile = join(lib, "cell-compiler.cjs");
    const aside = join(dir, "cell-compiler.cjs.aside");
    renameSync(compilerFile, aside);
    try {
      for (const extra of [{}, { KMODLAB_FAST_RUN: "0" }] as Record<string, string>[]) {
        const again = await run(["run", cell], extra);
        expect([again.status, again.stdout, again.stderr]).toEqual([first.status, first.stdout, first.stderr]);
      }
      // a cell never compiled needs the compiler: without it the run cannot start
      const fresh = join(dir, "fresh.ts");
      writeFileSync(fresh, readFileSync(cell, "utf8") + "// fresh\n");
      const without = await run(["run", fresh]);
      expect(without.stdout).not.toMatch(/vmallocmem addr=/);
    } finally {
      renameSync(aside, compilerFile);
    }
    // every stored cell damaged (a byte of its payload): compiled again, the same output, and stored again
    for (const f of readdirSync(cellsDir).filter((f) => f.endsWith(".bin"))) {
      const bytes = readFileSync(join(cellsDir, f));
      bytes[bytes.length - 3] ^= 0x55;
      writeFileSync(join(cellsDir, f), bytes);
    }
    renameSync(compilerFile, aside);
    try {
      const damaged = await run(["run", cell]);
      expect(damaged.stdout).not.toMatch(/vmallocmem addr=/); // proof that the damaged compile was not used
    } finally {
      renameSync(aside, compilerFile);
    }
    const mended = await run(["run", cell]);
    expect([mended.status, mended.stdout, mended.stderr]).toEqual([first.status, first.stdout, first.stderr]);
  }, 240_000);

  it("is the way taken: it leaves its own V8 code cache beside lib/cli-run.cjs, and a corrupt or foreign one changes nothing", async () => {
    const memdemo = join(examples, "memdemo.ts");
    const full = await run(["run", memdemo], { KMODLAB_FAST_RUN: "0" });
    await run(["run", memdemo]);
    const caches = () => readdirSync(lib).filter((f) => /^cli-run\.cjs\.v8-.*\.cache$/.test(f));
    expect(caches().length).toBeGreaterThan(0);
    const header = readFileSync(join(lib, caches()[0]!), "latin1").split("\n");
    expect(header[0]).toBe("kmodlab v8 code cache");
    expect(JSON.parse(header[1]!)).toMatchObject({ node: process.version, arch: process.arch, covers: ["run"] });
    // every cache of the script: a byte of V8's flipped (the header's CRC-32 no longer matches), then another build's
    for (const damage of ["byte", "build"] as const) {
      for (const f of caches()) {
        const bytes = readFileSync(join(lib, f));
        const nl = bytes.indexOf(10, bytes.indexOf(10) + 1);
        if (damage === "byte") bytes[nl + 1 + ((bytes.length - nl) >> 1)] ^= 0x55;
        else bytes.write(JSON.stringify("0".repeat(36)), bytes.indexOf('"build":') + 8, "latin1");
        writeFileSync(join(lib, f), bytes);
      }
      const again = await run(["run", memdemo]);
      expect([again.status, again.stdout, again.stderr]).toEqual([full.status, full.stdout, full.stderr]);
    }
  }, 240_000);
});
