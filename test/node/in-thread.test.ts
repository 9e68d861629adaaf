// `kmodlab run`'s cell on the command's own thread (src/node/in-thread.ts; the fast path, lib/cli-run.cjs): what the
// sandbox cannot stop from inside is stopped by Node's own watchdog (vm's timeout and breakOnSigint), with the same
// report an isolated run gets (src/node/isolate.ts hostStoppedResult), and the process goes on to print it. Each case
// is a process of its own (fixtures/in-thread-run.cjs) with small limits, so that it is quick; nothing here asserts a
// time. The whole command through this path: fast-run.test.ts (the same output as the full command), built.test.ts
// and exit-codes.test.ts (a built-in that never returns, exit 1).

import { beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const fixture = join(repo, "test", "node", "fixtures", "in-thread-run.cjs");
const MiB = 1 << 20;
const cell = (body: string) => `import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";\nMODULE_LICENSE("GPL");\n${body}\n`;
const HANG = cell(`module_init(() => { printk(KERN_INFO + "before\\n"); return [].indexOf.call({ length: 2 ** 53 - 1 } as any, 1); });`);
const STRINGS = cell(`const keep: string[] = [];\nmodule_init(() => { for (let i = 0; ; i++) keep.push("x".repeat(1 << 20) + i); });`);
// no code cache written into lib/ by these runs (their flags are not the command's)
const env = { ...process.env, KMODLAB_CODE_CACHE: "0" };

interface Brief {
  kind: string;
  limit?: string;
  title: string;
}

function inThread(args: { source: string; options?: object; limits?: object; again?: boolean }): {
  reports: Brief[];
  dmesg: string[];
  again?: Brief[];
  retries: number;
} {
  const r = spawnSync(process.execPath, [fixture, JSON.stringify(args)], { encoding: "utf8", env, timeout: 120_000 });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(() => {
  // builds lib/ if it is missing or stale (the fixture loads lib/cli-run.cjs)
  expect(spawnSync(process.execPath, [join(repo, "bin", "kmodlab.cjs"), "profiles"], { encoding: "utf8" }).status).toBe(0);
}, 300_000);

describe("a run on the command's own thread", () => {
  it("an ordinary cell: its dmesg, no report", () => {
    const r = inThread({ source: cell(`module_init(() => { printk(KERN_INFO + "hello\\n"); return 0; });\nmodule_exit(() => {});`) });
    expect(r.reports).toEqual([]);
    expect(r.dmesg.some((l) => l.endsWith("hello"))).toBe(true);
  }, 120_000);

  it("one built-in call that never returns: stopped at the limit plus grace, the sandbox's own CPU-limit stop with the log (salvaged); the runner runs nothing more", () => {
    const r = inThread({ source: HANG, options: { limits: { cpuMs: 300 } }, limits: { graceMs: 1000 }, again: true });
    expect(r.reports).toEqual([{ kind: "timeout", limit: "cpu", title: "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]" }]);
    // The host's timeout starts where the module's CPU limit does (src/node/guest-watch.ts), not at the run's start: it
    // came between the load messages and module_init's first line at load ~10 when it counted the boot and the compile.
    const lines = r.dmesg.map((l) => l.replace(/^\[[ .\d]+\] /, ""));
    expect(lines.slice(-2)).toEqual(["before", "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]"]);
    expect(r.again).toEqual([{ kind: "bug", title: "kmodlab: the run's worker failed: the sandbox was stopped in the middle of the previous run" }]);
  }, 120_000);

  it("a host timeout before the module had its CPU time (a 1 ms first timeout) makes the run again: the run's own result, and the runner goes on", () => {
    const r = inThread({
      source: cell(`module_init(() => { let n = 0; for (let i = 0; i < 3e5; i++) n += i & 1; printk(KERN_INFO + "%d\\n", n); return 0; });`),
      limits: { firstTimeoutMs: 1 },
      again: true,
    });
    expect(r.reports).toEqual([]);
    expect(r.dmesg.at(-1)).toMatch(/\] 150000$/);
    expect(r.again).toEqual([]);
    expect(r.retries).toBeGreaterThanOrEqual(2); // each of the two runs at least once
  }, 120_000);

  it("guest strings past the WebAssembly memory budget (guest limit raised to 1 GiB): the WebAssembly budget's host report", () => {
    const r = inThread({ source: STRINGS, options: { limits: { memoryBytes: 1 << 30, cpuMs: 20_000 } }, limits: { wasmBytes: 96 * MiB } });
    expect(r.reports).toEqual([
      { kind: "out-of-memory", limit: "memory", title: "kmodlab: stopped by the host: memory limit (the sandbox's WebAssembly memory budget of 96 MiB)" },
    ]);
  }, 120_000);

  it("the process's resident set past the host budget as the WebAssembly memory grows: the host memory report", () => {
    const r = inThread({ source: STRINGS, options: { limits: { memoryBytes: 1 << 30, cpuMs: 20_000 } }, limits: { rssBytes: 64 * MiB } });
    expect(r.reports).toEqual([
      { kind: "out-of-memory", limit: "memory", title: "kmodlab: stopped by the host: memory limit (the host's memory budget of 64 MiB)" },
    ]);
  }, 120_000);

  it("Ctrl+C (SIGINT from outside) during a run that hangs ends the process by SIGINT, as it would without the watchdog", async () => {
    const p = spawn(process.execPath, [fixture, JSON.stringify({ source: HANG, options: { limits: { cpuMs: 60_000 } } })], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    p.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    // the signal once the run is under way: the cell's hang is the only thing left for the process to do
    await new Promise((r) => setTimeout(r, 3000));
    p.kill("SIGINT");
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => p.on("close", (c, s) => r([c, s])));
    expect([code, signal]).toEqual([null, "SIGINT"]);
    expect(stdout).toBe("");
  }, 120_000);
});
