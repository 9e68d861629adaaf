// A run worker started before its runner exists (src/node/spawn-worker.ts; bin/kmodlab.cjs starts `kmodlab run`'s
// worker in its first statement and boots the default machine when the arguments name no boot option): the runner
// that takes it (IsolatedRunner.adopt) gets the events it sent meanwhile, in order; it takes only a worker it would
// have started itself; a machine booted ahead serves only a run that asks for that machine; and the guess of the
// machine from the arguments knows every option of `kmodlab run`.

import { afterAll, describe, expect, it } from "vitest";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { IsolatedRunner, setRunWorkerV8Flags, workerEntry } from "../../src/node/isolate.ts";
import {
  DEFAULT_RUN_HEAP_MB,
  DEFAULT_RUN_PROFILE,
  RUN_FLAGS,
  RUN_FLAGS_WITH_VALUE,
  defaultRunMachine,
  spawnRunWorker,
  type SpawnedRunWorker,
} from "../../src/node/spawn-worker.ts";
import { buildProgram } from "../../src/cli/main.ts";
import { runModule, type RunOptions } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";

const memdemo = readFileSync(fileURLToPath(new URL("../../examples/memdemo.ts", import.meta.url)), "utf8");
const runners: IsolatedRunner[] = [];
afterAll(() => Promise.all(runners.map((r) => r.close())));

function runner(limits = {}): IsolatedRunner {
  const r = new IsolatedRunner(limits);
  runners.push(r);
  return r;
}

/** A worker as the command starts it: the runner's entry and flags, optionally told to boot a machine at once. */
function spawn(boot?: { profile: string; boot: RunOptions }, heapMb = DEFAULT_RUN_HEAP_MB): SpawnedRunWorker {
  const { url, workerData } = workerEntry();
  const s = spawnRunWorker({ entry: url, workerData, v8Flags: [], heapMb });
  if (boot) s.worker.postMessage({ type: "boot", ...boot });
  return s;
}

/** A RunResult as JSON, its wall time zeroed (the only field that differs between two runs of one cell). */
function comparable(r: RunResult) {
  const j = JSON.parse(JSON.stringify(r));
  j.stats.wallMs = 0;
  return j;
}

describe("defaultRunMachine: the machine `kmodlab run ARGS` boots, guessed before the arguments are parsed", () => {
  it("no boot option: the default profile, no boot options (the other options and module parameters do not change the machine)", () => {
    for (const args of [
      ["cell.ts"],
      ["cell.ts", "--json", "--boot", "--keep-loaded", "--check-invariants"],
      ["cell.ts", "--proc", "meminfo,slabinfo", "--fail-nth", "3", "--events", "button@30ms"],
      ["cell.ts", "--proc=meminfo", "size=64", "name=x"],
      ["--json", "cell.ts", "--", "--mem"],
    ]) {
      expect(defaultRunMachine(args)).toEqual({ profile: DEFAULT_RUN_PROFILE, boot: {} });
    }
  });

  it("a boot option, a short option, help or an option it does not know: no guess", () => {
    for (const args of [
      ["cell.ts", "--profile", "arm64-6.1"],
      ["cell.ts", "--profile=arm64-6.1"],
      ["cell.ts", "-p", "i386-6.1"],
      ["cell.ts", "-m256M"],
      ["cell.ts", "--mem", "256M"],
      ["cell.ts", "--cmdline", "slub_debug"],
      ["cell.ts", "--seed", "7"],
      ["cell.ts", "--config=debug"],
      ["cell.ts", "--proc", "meminfo", "--seed", "1"],
      ["-h"],
      ["cell.ts", "--help"],
      ["cell.ts", "--some-new-option"],
    ]) {
      expect(defaultRunMachine(args)).toBeUndefined();
    }
  });

  it("every option of the run command is either one the guess skips (with or without its value) or a boot option; the default profile is the command's", () => {
    const run = buildProgram(() => {}).commands.find((c) => c.name() === "run")!;
    const boot = ["--profile", "--mem", "--cmdline", "--seed", "--config"];
    const longs = run.options.map((o) => o.long!);
    expect([...longs].sort()).toEqual([...RUN_FLAGS, ...RUN_FLAGS_WITH_VALUE, ...boot].sort());
    for (const o of run.options) {
      if (RUN_FLAGS.includes(o.long!)) expect(o.required || o.optional).toBe(false);
      if (RUN_FLAGS_WITH_VALUE.includes(o.long!)) expect(o.required).toBe(true);
    }
    expect(run.options.find((o) => o.long === "--profile")!.defaultValue).toBe(DEFAULT_RUN_PROFILE);
  });
});

describe("IsolatedRunner.adopt: a worker started before the runner", () => {
  it("its 'ready' sent before the runner listened is delivered; the default machine booted ahead gives the same run as runModule here", async () => {
    setRunWorkerV8Flags([]);
    const s = spawn({ profile: DEFAULT_RUN_PROFILE, boot: {} });
    await once(s.worker, "message"); // the worker said "ready" while nobody but the queue listened
    const r = runner();
    expect(r.adopt(s)).toBe(true);
    const got = await r.run(memdemo, {});
    expect(r.starts).toHaveLength(1); // no second worker
    expect(comparable(got)).toEqual(comparable(await runModule(memdemo, {})));
  }, 120_000);

  it("a machine booted ahead with other parameters is not used: the run with another profile, --mem and --seed equals runModule here", async () => {
    setRunWorkerV8Flags([]);
    const s = spawn({ profile: DEFAULT_RUN_PROFILE, boot: {} });
    const r = runner();
    expect(r.adopt(s)).toBe(true);
    const opts: RunOptions = { profile: "i386-6.1", mem: 256 << 20, seed: 7 };
    const got = await r.run(memdemo, opts);
    expect(got.bootLog.join("\n")).toMatch(/255MB LOWMEM available/);
    expect(comparable(got)).toEqual(comparable(await runModule(memdemo, opts)));
    // the same worker's next run, on the default machine (booted now, not the spare one of before)
    expect(comparable(await r.run(memdemo, {}))).toEqual(comparable(await runModule(memdemo, {})));
    expect(r.starts).toHaveLength(1);
  }, 120_000);

  it("a worker it would not have started (another heap limit, other V8 flags, after its own) is terminated, and the runner starts its own", async () => {
    setRunWorkerV8Flags([]);
    const other = spawn(undefined, DEFAULT_RUN_HEAP_MB / 2);
    const r = runner();
    const exited = once(other.worker, "exit");
    expect(r.adopt(other)).toBe(false);
    await exited;
    const flagged = spawn();
    setRunWorkerV8Flags(["--liftoff-only"]);
    const exited2 = once(flagged.worker, "exit");
    expect(r.adopt(flagged)).toBe(false);
    await exited2;
    setRunWorkerV8Flags([]);
    expect((await r.run(memdemo, {})).reports).toEqual([]);
    const late = spawn();
    const exited3 = once(late.worker, "exit");
    expect(r.adopt(late)).toBe(false); // the runner has its worker already
    await exited3;
    expect(r.starts).toHaveLength(1);
  }, 120_000);

  it("a worker that died before it was taken: its error and exit reach the runner, which reports the run as not started instead of waiting", async () => {
    setRunWorkerV8Flags([]);
    const s = spawn(undefined, 1); // a 1 MiB heap: the worker runs out of memory while it loads
    await new Promise((exited) => s.worker.once("exit", exited)); // (events.once would reject at the 'error' before it)
    const r = runner({ heapMb: 1 });
    expect(r.adopt(s)).toBe(true);
    const got = await r.run(memdemo, {});
    expect(got.reports).toHaveLength(1);
    expect(got.reports[0]!.title).toMatch(/^kmodlab: the run's worker failed: /);
  }, 120_000);
});
