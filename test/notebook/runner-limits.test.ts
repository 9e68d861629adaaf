// The page's run worker watchdog (src/notebook/runner.ts) names the limit that ended a run: the worker's report that
// QuickJS's WebAssembly memory passed its budget, a worker that died of memory, and a worker that never answered
// after the CPU deadline. A fake Worker stands in for the browser's; the timers are vitest's fake ones.

import { afterEach, describe, expect, it, vi } from "vitest";
import { GRACE_MS, Runner, STARTUP_MS } from "../../src/notebook/runner.ts";
import { WASM_BUDGET_BYTES, type FromWorker, type ToWorker } from "../../src/notebook/protocol.ts";

class FakeWorker {
  onmessage: ((ev: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  sent: ToWorker[] = [];
  terminated = false;
  postMessage(m: ToWorker) {
    this.sent.push(m);
  }
  terminate() {
    this.terminated = true;
  }
  answer(m: FromWorker) {
    this.onmessage?.({ data: m } as MessageEvent<FromWorker>);
  }
}

function setup() {
  const workers: FakeWorker[] = [];
  const runner = new Runner(() => {
    const w = new FakeWorker();
    workers.push(w);
    return w as unknown as Worker;
  });
  return { runner, workers };
}

afterEach(() => vi.useRealTimers());

describe("the page names the limit that ended a run", () => {
  it("WebAssembly memory past the worker's budget: killed, reason memory, the message says memory limit and the sizes", async () => {
    const { runner, workers } = setup();
    const p = runner.run("cell", { timeoutMs: 2000 });
    await Promise.resolve();
    const w = workers[0]!;
    const id = w.sent[0]!.id;
    w.answer({ type: "over-memory", id, bytes: WASM_BUDGET_BYTES + (64 << 20), budget: WASM_BUDGET_BYTES });
    const o = await p;
    expect(o.kind).toBe("killed");
    if (o.kind !== "killed") return;
    expect(o.reason).toBe("memory");
    expect(o.message).toMatch(/^Memory limit: .*WebAssembly memory reached 576 MiB, past the 512 MiB a run may use/);
    expect(w.terminated).toBe(true);
    expect(runner.restarts).toBe(1);
    // the result the old worker may still send is ignored; the next run gets a fresh worker
    w.answer({ type: "result", id, result: {} as never });
    void runner.run("next", { timeoutMs: 2000 });
    await Promise.resolve();
    expect(workers).toHaveLength(2);
  });

  it("a worker that dies of memory: killed, reason memory", async () => {
    const { runner, workers } = setup();
    const p = runner.run("cell", { timeoutMs: 2000 });
    await Promise.resolve();
    workers[0]!.onerror?.({ message: "Uncaught RangeError: Array buffer allocation failed", preventDefault() {} } as ErrorEvent);
    const o = await p;
    expect(o.kind === "killed" && o.reason).toBe("memory");
    expect(o.kind === "killed" && o.message).toMatch(/^Memory limit: .*Array buffer allocation failed/);
  });

  it("no answer after the CPU deadline and the grace: killed, reason unresponsive, the message names the CPU limit", async () => {
    vi.useFakeTimers();
    const { runner, workers } = setup();
    const p = runner.run("cell", { timeoutMs: 2000 });
    await Promise.resolve();
    vi.advanceTimersByTime(2000 + GRACE_MS + STARTUP_MS + 1);
    const o = await p;
    expect(o.kind === "killed" && o.reason).toBe("unresponsive");
    expect(o.kind === "killed" && o.message).toMatch(/^CPU limit: the run did not end within its CPU limit of 2 s plus 10 s of grace/);
    expect(workers[0]!.terminated).toBe(true);
    expect(o.kind === "killed" && o.log).toBeUndefined(); // the worker sent no log
  });

  it("the run's kernel log the worker sent while it ran is kept when the page ends it (each send replaces from its line on)", async () => {
    vi.useFakeTimers();
    const { runner, workers } = setup();
    const p = runner.run("cell", { timeoutMs: 2000 });
    await Promise.resolve();
    const w = workers[0]!;
    const id = w.sent[0]!.id;
    w.answer({ type: "log", id, from: 0, lines: ["[    6.1] loading", "[    6.1] bef"] });
    w.answer({ type: "log", id, from: 1, lines: ["[    6.1] before", "[    6.2] hang next"] });
    w.answer({ type: "log", id: id + 100, from: 0, lines: ["another run's"] }); // not this run's: ignored
    vi.advanceTimersByTime(2000 + GRACE_MS + STARTUP_MS + 1);
    const o = await p;
    expect(o.kind === "killed" && o.log).toEqual(["[    6.1] loading", "[    6.1] before", "[    6.2] hang next"]);
  });

  it("another worker error is still 'could not run', not a limit", async () => {
    const { runner, workers } = setup();
    const p = runner.run("cell", { timeoutMs: 2000 });
    await Promise.resolve();
    workers[0]!.onerror?.({ message: "SyntaxError: bad chunk", preventDefault() {} } as ErrorEvent);
    const o = await p;
    expect(o.kind).toBe("error");
  });
});

describe("the warm-up does not hold back a Run (issue 17: first Run when clicked at once)", () => {
  it("start() creates the worker before any request; a check and a Run asked while warm is unanswered are posted at once", async () => {
    const { runner, workers } = setup();
    runner.start();
    expect(workers).toHaveLength(1);
    expect(workers[0]!.sent).toEqual([]);
    const warm = runner.warm({ profile: "x86_64-6.1" });
    const profiles = runner.profiles();
    const check = runner.check("cell", "x86_64-6.1");
    await Promise.resolve();
    const w = workers[0]!;
    expect(w.sent.map((m) => m.type)).toEqual(["warm", "profiles", "check"]);
    w.answer({ type: "check", id: w.sent[2]!.id, ready: false, diagnostics: [] });
    expect(await check).toBeNull();
    const run = runner.run("cell", { timeoutMs: 2000 });
    await Promise.resolve();
    expect(w.sent.map((m) => m.type)).toEqual(["warm", "profiles", "check", "run"]);
    // answers come in any order; each reaches its own request
    w.answer({ type: "result", id: w.sent[3]!.id, result: { dmesg: [] } as never });
    w.answer({ type: "warm", id: w.sent[0]!.id });
    w.answer({ type: "profiles", id: w.sent[1]!.id, profiles: [] });
    expect((await run).kind).toBe("result");
    expect(await warm).toBe(true);
    expect(await profiles).toEqual([]);
  });

  it("a worker killed while warm is unanswered: the warm resolves false, the profiles request fails, nothing hangs", async () => {
    vi.useFakeTimers();
    const { runner, workers } = setup();
    const warm = runner.warm({ profile: "x86_64-6.1" });
    const profiles = runner.profiles().catch((e: Error) => e);
    const run = runner.run("loop", { timeoutMs: 1000 });
    await Promise.resolve();
    runner.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(workers[0]!.terminated).toBe(true);
    expect((await run).kind).toBe("killed");
    expect(await warm).toBe(false);
    expect(String(await profiles)).toMatch(/restarted/);
  });
});
