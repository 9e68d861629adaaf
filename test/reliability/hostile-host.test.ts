// The host's own limits (src/node/isolate.ts): cells the sandbox cannot stop from inside are ended by the host, as
// their own RunResult with a limit report, and the process goes on. Each case asserts the report, the exit code,
// the parent's memory against a generous bound, and that the next run in the same runner is a normal run.
// The watchdog limits are set in options (small CPU limits, a small heap or WebAssembly budget) so that the cases
// are quick; no test asserts how long anything took.

import { afterAll, describe, expect, it, vi } from "vitest";
import { Session } from "node:inspector";
import { hostStoppedResult, hostStopOf, IsolatedRunner, RunnerPool } from "../../src/node/isolate.ts";
import { exitCodeOf } from "../../src/cli/run.ts";
import { stoppedReason } from "../../src/grader/grade.ts";
import type { RunResult } from "../../sandbox/result.ts";

const MiB = 1 << 20;
const cell = (body: string, imports = "") =>
  `import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit${imports} } from "linux";\nMODULE_LICENSE("GPL");\n${body}\n`;
const GOOD = cell(`module_init(() => { printk(KERN_INFO + "still here\\n"); return 0; });\nmodule_exit(() => {});`);

/** The parent's memory stays bounded whatever the cells did (generous: the workers' memory is not the parent's heap). */
function expectBoundedHost() {
  const m = process.memoryUsage();
  expect(m.heapUsed).toBeLessThan(512 * MiB);
  expect(m.rss).toBeLessThan(3 * 1024 * MiB);
}

async function expectGoesOn(r: IsolatedRunner) {
  const after = await r.run(GOOD);
  expect(after.reports).toEqual([]);
  expect(after.dmesg.some((l) => l.endsWith("still here"))).toBe(true);
}

// One runner for the CPU cases: a terminated worker is replaced on the next run, the others reuse it warm.
const cpuRunner = new IsolatedRunner({ graceMs: 1000 });
afterAll(() => cpuRunner.close());

describe("host hang inside one built-in call, or a loop of long ones: the host's CPU watchdog stops the worker's JavaScript, and the run ends as the sandbox's own CPU-limit stop, with its log", () => {
  const hangs: [string, string][] = [
    ["indexOf over a 2^53-1 array-like", "[].indexOf.call({ length: 2 ** 53 - 1 } as any, 1)"],
    // in a user program: its output so far and exit status 1, as a limit leaves it (user.ts salvageUserProgram)
    ["includes over a 2^53-1 array-like, in the user program", "[].includes.call({ length: 2 ** 53 - 1 } as any, 1)"],
    ["Array(2^32-1).join()", "Array(2 ** 32 - 1).join().length"],
    // QuickJS asks its interrupt handler every 10,000 turns: each turn here is ~0.1-0.3 s of one built-in call
    [
      "a loop of JSON.stringify over a 20 MB string",
      `(() => { const s = "x".repeat(20e6); let n = 0; for (let i = 0; i < 1000; i++) n += JSON.stringify(s).length; return n; })()`,
    ],
  ];
  for (const [what, expr] of hangs) {
    it(`${what}: the soft lockup's timeout report naming the CPU limit, the log before it kept, exit code 1, the next run is normal`, async () => {
      const user = what.endsWith("user program");
      const r = await cpuRunner.run(
        user
          ? `import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";\nimport { user_main, puts } from "user";\nMODULE_LICENSE("GPL");\nmodule_init(() => { printk(KERN_INFO + "before\\n"); return 0; });\nuser_main(() => { puts("out"); return ${expr}; });\n`
          : cell(`module_init(() => { printk(KERN_INFO + "before\\n"); const x = ${expr}; printk(KERN_INFO + "%d\\n", Number(x)); return 0; });`),
        { limits: { cpuMs: 300 } },
      );
      expect(r.reports).toHaveLength(1);
      const rep = r.reports[0]!;
      expect(rep.kind).toBe("timeout");
      expect(rep.limit).toBe("cpu");
      expect(rep.title).toBe(`watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [${user ? "a.out:109" : "insmod:108"}]`);
      if (user) expect([r.user?.stdout, r.user?.exitCode, r.user?.status]).toEqual(["out\n", 1, 1]);
      else expect(r.user).toBeUndefined();
      expect(rep.explain).toMatch(/more than 300 ms of CPU time \(the run's CPU limit\)/);
      expect(r.dmesg.slice(-2).map((l) => l.replace(/^\[[ .\d]+\] /, ""))).toEqual(["before", rep.title]);
      expect(hostStopOf(r)).toBeUndefined();
      expect(r.stoppedByHost).toBe("cpu");
      expect(exitCodeOf(r)).toBe(1);
      expect(stoppedReason(r)).toMatch(/^stopped: CPU limit/);
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
      expectBoundedHost();
      const starts = cpuRunner.starts.length;
      await expectGoesOn(cpuRunner);
      expect(cpuRunner.starts.length).toBe(starts + 1); // exactly one fresh worker, for the run after the kill
    }, 60_000);
  }

  it("an ordinary endless loop is still the sandbox's own CPU report (with the kernel's soft lockup line), not the host's", async () => {
    // its own runner with a long grace: the host's watchdog counts wall time from the post, boot and compile included,
    // and on a loaded machine 300 + 1000 ms of wall time ran out before the sandbox's 300 ms of run time did (the
    // host's report then). The sandbox stops the loop at its 300 ms all the same, so this takes no longer.
    const patient = new IsolatedRunner({ graceMs: 8000 });
    const r = await patient.run(cell(`module_init(() => { for (;;) {} });`), { limits: { cpuMs: 300 } }).finally(() => patient.close());
    expect(r.reports.map((x) => [x.kind, x.limit])).toEqual([["timeout", "cpu"]]);
    expect(r.reports[0]!.title).toMatch(/soft lockup/);
    expect(hostStopOf(r)).toBeUndefined();
    expect(r.stoppedByHost).toBeUndefined();
    expect(r.dmesg.some((l) => l.includes("soft lockup"))).toBe(true);
  }, 60_000);
});

describe("the worker's own CPU stop on a loaded machine", () => {
  it("a timeout before the module had its CPU time (a 1 ms first timeout) makes the run again in the worker: the run's own result, the parent told each time", async () => {
    const r = new IsolatedRunner({ firstTimeoutMs: 1 });
    try {
      const src = cell(`module_init(() => { let n = 0; for (let i = 0; i < 3e5; i++) n += i & 1; printk(KERN_INFO + "%d\\n", n); return 0; });`);
      const res = await r.run(src);
      expect(res.reports).toEqual([]);
      expect(res.dmesg.at(-1)).toMatch(/\] 150000$/);
      expect(res.stoppedByHost).toBeUndefined();
      expect(r.retries).toBeGreaterThanOrEqual(1); // the worker's "again": the parent watched the next attempt's boot and compile
      await expectGoesOn(r);
    } finally {
      await r.close();
    }
  }, 120_000);
});

describe("memory the guest's accounting does not see: the host's limits end the run", () => {
  it("guest strings past the WebAssembly memory budget (guest limit raised to 1 GiB): out-of-memory, limit memory, exit 1", async () => {
    const r = new IsolatedRunner({ wasmBytes: 96 * MiB });
    try {
      const res = await r.run(cell(`const keep: string[] = [];\nmodule_init(() => { for (let i = 0; ; i++) keep.push("x".repeat(1 << 20) + i); });`), {
        limits: { memoryBytes: 1 << 30, cpuMs: 20_000 },
      });
      expect(res.reports.map((x) => [x.kind, x.limit])).toEqual([["out-of-memory", "memory"]]);
      expect(res.reports[0]!.title).toBe("kmodlab: stopped by the host: memory limit (the sandbox's WebAssembly memory budget of 96 MiB)");
      expect(exitCodeOf(res)).toBe(1);
      expect(stoppedReason(res)).toMatch(/^stopped: memory limit \(the sandbox's WebAssembly memory budget of 96 MiB; the host ended the run\)$/);
      expectBoundedHost();
      await expectGoesOn(r);
    } finally {
      await r.close();
    }
  }, 120_000);

  it("kernel records past the worker's JavaScript heap limit: the worker dies of it, out-of-memory, limit memory, exit 1", async () => {
    const r = new IsolatedRunner({ heapMb: 48 });
    try {
      const res = await r.run(cell(`module_init(() => { for (let i = 0; i < 2_000_000; i++) kmalloc(32, GFP_KERNEL); return 0; });`, ", kmalloc, GFP_KERNEL"), {
        limits: { cpuMs: 120_000, kernelCalls: 5_000_000 },
      });
      expect(res.reports.map((x) => [x.kind, x.limit])).toEqual([["out-of-memory", "memory"]]);
      expect(res.reports[0]!.title).toBe("kmodlab: stopped by the host: memory limit (the run's JavaScript heap of 48 MiB)");
      expect(exitCodeOf(res)).toBe(1);
      expectBoundedHost();
      await expectGoesOn(r);
    } finally {
      await r.close();
    }
  }, 240_000);

  it("the process's resident set past the host budget: the running cell is ended with the host memory report", async () => {
    const r = new IsolatedRunner({ rssBytes: 64 * MiB }); // below any Node process: the poll ends the first run that lasts
    try {
      const res = await r.run(cell(`module_init(() => { for (;;) {} });`), { limits: { cpuMs: 60_000 } });
      expect(res.reports.map((x) => [x.kind, x.limit])).toEqual([["out-of-memory", "memory"]]);
      expect(res.reports[0]!.title).toBe("kmodlab: stopped by the host: memory limit (the host's memory budget of 64 MiB)");
    } finally {
      await r.close();
    }
  }, 120_000);
});

describe("a pool grades everything, whatever some cells do", () => {
  it("two workers, hostile and good cells mixed: every run resolves, each with its own outcome, in order; the parent opens no inspector session", async () => {
    // The workers stop their own hangs (guest-watch.ts in isolate-worker.ts). The parent used to stop them through the
    // inspector (NodeWorker.enable, Runtime.terminateExecution), and with workers coming and going Node 20 crashed the
    // whole process in WorkerAgent::enable now and then (a segfault: a graded class lost every result).
    const connect = vi.spyOn(Session.prototype, "connect");
    // a 3 s grace: each GOOD cell boots in a worker that may be fresh, and at 300 + 1000 ms of wall time a loaded
    // machine had the host end good runs too (the hostile ones take 3.3 s to end instead of 1.3)
    const pool = new RunnerPool(2, { graceMs: 3000 });
    try {
      const srcs = [
        GOOD,
        cell(`module_init(() => [].indexOf.call({ length: 2 ** 53 - 1 } as any, 1));`),
        GOOD,
        cell(`module_init(() => Array(2 ** 32 - 1).join().length);`),
        GOOD,
      ];
      const rs = await Promise.all(srcs.map((s) => pool.run(s, { limits: { cpuMs: 300 } })));
      expect(rs.map((r) => r.reports.map((x) => x.limit ?? x.kind))).toEqual([[], ["cpu"], [], ["cpu"], []]);
      expect(rs.map(exitCodeOf)).toEqual([0, 1, 0, 1, 0]);
      expect(pool.starts.length).toBeLessThanOrEqual(4); // 2 to begin with, at most one more per kill
      expect(connect).not.toHaveBeenCalled();
      expectBoundedHost();
    } finally {
      connect.mockRestore();
      await pool.close();
    }
  }, 120_000);
});

describe("limits the sandbox refuses are its to report", () => {
  it("limits.cpuMs NaN or Infinity: the sandbox's own error at once, never the host's watchdog firing early", async () => {
    for (const cpuMs of [NaN, Infinity, -1]) {
      const r = await cpuRunner.run(GOOD, { limits: { cpuMs } });
      expect(hostStopOf(r)).toBeUndefined();
      expect(r.reports.map((x) => x.title)).toEqual([`kmodlab: limits.cpuMs must be a positive number, got ${cpuMs}`]);
    }
  }, 60_000);
});

describe("the host-stop RunResult", () => {
  it("a worker that failed is worded for the grader as 'the grader failed on this submission: ...'", () => {
    const d = { cpuMs: 2000, graceMs: 3000, heapMb: 1024, wasmBytes: 512 * MiB, rssBytes: 4096 * MiB, message: "the worker exited (code 1)" };
    const r: RunResult = hostStoppedResult({ profile: "arm64-6.1" }, "crash", d, 12);
    expect(r.profile).toBe("arm64-6.1");
    expect(r.reports).toEqual([
      {
        kind: "bug",
        title: "kmodlab: the run's worker failed: the worker exited (code 1)",
        text: "kmodlab: the run's worker failed: the worker exited (code 1)",
      },
    ]);
    expect(stoppedReason(r)).toBe("the grader failed on this submission: the worker exited (code 1)");
    expect(exitCodeOf(r)).toBe(1);
  });
});
