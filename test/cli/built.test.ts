// The built command as users start it (node bin/kmodlab.cjs: lib/, rebuilt first if a source is newer), whole
// processes: its run worker is lib/isolate-worker.cjs loading the sandbox from lib/isolate-worker-code.cjs with a
// V8 code cache (src/node/code-cache.ts), and `run` starts that worker in the command's first statement (before it
// loads the rest of the command) and boots the run's machine ahead (src/node/spawn-worker.ts, isolate.ts). Pins that all of this changes nothing a user
// sees: the same output with and without the cache, the exit codes, and the host's own limits on a cell the
// sandbox cannot stop. exit-codes.test.ts pins the same rule on the TypeScript sources (tsx).

import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { runModule } from "../../sandbox/run.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin", "kmodlab.cjs");
const memdemo = join(repo, "examples", "memdemo.ts");
const dir = mkdtempSync(join(tmpdir(), "kmodlab-built-"));

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const kmodlab = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 240_000, env: { ...process.env, ...env } });

beforeAll(() => {
  // builds lib/ if it is missing or stale, so that the runs below time and compare the same build
  const r = kmodlab(["profiles"]);
  expect(r.status).toBe(0);
}, 300_000);

describe("kmodlab run from lib/ (the built command)", () => {
  it("the worker's code is one CommonJS script beside its entry; the first run writes its V8 code cache; every run prints the same", () => {
    expect(existsSync(join(repo, "lib", "isolate-worker.cjs"))).toBe(true);
    expect(existsSync(join(repo, "lib", "isolate-worker-code.cjs"))).toBe(true);
    const without = kmodlab(["run", memdemo, "--proc", "meminfo"], { KMODLAB_CODE_CACHE: "0" });
    expect(without.stderr).toBe("");
    expect(without.status).toBe(0);
    expect(without.stdout).toMatch(/vmallocmem addr=ffffc9[0-9a-f]{10}\n/);
    const first = kmodlab(["run", memdemo, "--proc", "meminfo"]);
    // the command sets --liftoff-only (bin/kmodlab.cjs), so its cache carries that flag's tag
    const caches = readdirSync(join(repo, "lib")).filter((f) => f.startsWith(`isolate-worker-code.cjs.v8-${process.version}-${process.arch}-`));
    expect(caches.length).toBeGreaterThan(0);
    const second = kmodlab(["run", memdemo, "--proc", "meminfo"]);
    // the former entry (an ES module that imports bin/kmodlab.cjs) runs the same command
    const formerEntry = spawnSync(process.execPath, [join(repo, "bin", "kmodlab.mjs"), "run", memdemo, "--proc", "meminfo"], {
      encoding: "utf8",
      timeout: 240_000,
    });
    for (const r of [first, second, formerEntry]) {
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(without.stdout);
    }
  }, 240_000);

  it("the worker bin/kmodlab.cjs starts first (lib/spawn-worker.cjs) is the one lib/isolate.mjs's runner takes, not terminated for another", async () => {
    const require = createRequire(import.meta.url);
    const spawn = require(join(repo, "lib", "spawn-worker.cjs"));
    const flags = ["--liftoff-only"];
    const early = spawn.spawnRunWorker({ entry: join(repo, "lib", "isolate-worker.cjs"), workerData: {}, v8Flags: flags, heapMb: spawn.DEFAULT_RUN_HEAP_MB });
    early.worker.postMessage({ type: "boot", ...spawn.defaultRunMachine(["memdemo.ts"]) });
    const isolate = await import(pathToFileURL(join(repo, "lib", "isolate.mjs")).href);
    isolate.setRunWorkerV8Flags(flags);
    expect(isolate.adoptRunWorker(early)).toBe(true);
    const r = await isolate.runIsolated(readFileSync(memdemo, "utf8"), {});
    expect(r.reports).toEqual([]);
    expect(r.dmesg.at(-1)).toMatch(/vmallocmem addr=ffffc9[0-9a-f]{10}$/);
    await early.worker.terminate();
  }, 240_000);

  it("the machine booted ahead is the one asked for: --json with another profile, --mem and --seed equals runModule in this process", async () => {
    const a = kmodlab(["run", memdemo, "--json", "--profile", "i386-6.1", "--mem", "256M", "--seed", "7"]);
    expect(a.status).toBe(0);
    const fromCli = JSON.parse(a.stdout);
    const here = JSON.parse(JSON.stringify(await runModule(readFileSync(memdemo, "utf8"), { profile: "i386-6.1", mem: 256 << 20, seed: 7 })));
    expect(fromCli.bootLog.join("\n")).toMatch(/255MB LOWMEM available/);
    for (const r of [fromCli, here]) r.stats.wallMs = 0;
    expect(fromCli).toEqual(here);
  }, 240_000);

  it("bad usage after the worker started: exit 2 and one line; a machine the profile cannot boot: exit 2", () => {
    const bad = kmodlab(["run", memdemo, "--mem", "lots"]);
    expect([bad.status, bad.signal]).toEqual([2, null]);
    expect(bad.stderr).toMatch(/^kmodlab: bad --mem 'lots'/);
    const small = kmodlab(["run", memdemo, "--mem", "1M"]);
    expect([small.status, small.signal]).toEqual([2, null]);
    expect(small.stderr).toMatch(/^kmodlab: cannot boot x86_64-6\.1 with --mem 1M: .*too little/);
    const missing = kmodlab(["run", join(dir, "nope.ts")]);
    expect([missing.status, missing.signal]).toEqual([2, null]);
    expect(missing.stderr).toMatch(/^kmodlab: cannot read .*nope\.ts/);
    // a name that is not valid UTF-8 (process.argv has it decoded lossily): opened by the argument's own bytes; a name
    // with U+FFFD that no argument's bytes give says why
    writeFileSync(
      Buffer.concat([Buffer.from(join(dir, "bad")), Buffer.from([0xff]), Buffer.from(".ts")]),
      `import { module_init } from "linux";\nmodule_init(() => 0);`,
    );
    const raw = spawnSync("sh", ["-c", `exec "$0" "$1" run "$(printf '%s/bad\\377.ts' "$2")"`, process.execPath, bin, dir], {
      encoding: "utf8",
      timeout: 240_000,
    });
    expect([raw.status, raw.stderr]).toEqual([0, ""]);
    const fffd = kmodlab(["run", join(dir, "bad\ufffd.ts")]);
    expect([fffd.status, fffd.signal]).toEqual([2, null]);
    expect(fffd.stderr).toMatch(/^kmodlab: cannot read .*bad\ufffd\.ts: no file has this name: it holds U\+FFFD, .* not valid UTF-8/);
  }, 240_000);

  it("a built-in that never returns inside QuickJS: the host ends the run, the message names the CPU limit, exit 1", () => {
    const hang = file("hang.ts", `import { module_init } from "linux";\nmodule_init(() => [].indexOf.call({ length: 2 ** 53 - 1 } as any, 1));`);
    const r = kmodlab(["run", hang]);
    expect([r.status, r.signal]).toEqual([1, null]);
    expect(r.stderr).toMatch(/^kmodlab: The module ran for more than 2000 ms of CPU time \(the run's CPU limit\)/m);
  }, 240_000);

  it("a guest memory bomb ends with the sandbox's memory limit named, exit 1", () => {
    const bomb = file(
      "bomb.ts",
      `import { module_init } from "linux";\nconst keep: ArrayBuffer[] = [];\nmodule_init(() => { for (;;) keep.push(new ArrayBuffer(32 << 20)); });`,
    );
    const r = kmodlab(["run", bomb]);
    expect([r.status, r.signal]).toEqual([1, null]);
    expect(r.stderr).toMatch(/^kmodlab: .*memory limit/m);
  }, 240_000);
});
