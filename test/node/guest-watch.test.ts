// The host's CPU stop on the caller's own thread (src/node/guest-watch.ts), which the library's runModule
// (src/node/watched-run.ts) and `kmodlab run` (in-thread.ts) use: Node's vm timeout over the module's part of a run,
// and the thread's CPU time deciding when it fires. Small limits so that it is quick; nothing asserts a time.

import { describe, expect, it } from "vitest";
import { guestWatch, RunAgain, verdict, wallCapMs, firstTimeoutMs, nextTimeoutMs } from "../../src/node/guest-watch.ts";
import { watchedRunModule } from "../../src/node/watched-run.ts";
import type { RunResult } from "../../sandbox/result.ts";
import { quickJSGeneration } from "../../sandbox/quickjs.ts";

const cell = (body: string) => `import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";\nMODULE_LICENSE("GPL");\n${body}\n`;
const fake = { dmesg: ["salvaged"] } as unknown as RunResult;

describe("what a timeout means", () => {
  const l = { cpuMs: 1000, graceMs: 500 };
  it("past the CPU limit, or with no clock: the stop; short of it: the run again, until the wall cap", () => {
    expect(verdict(l, 1500, 1200, 1500)).toBe("stop");
    expect(verdict(l, 1500, NaN, 1500)).toBe("stop");
    expect(verdict(l, 1500, 300, 1500)).toBe("again");
    expect(verdict(l, wallCapMs(l), 300, 1500)).toBe("stop");
    expect(verdict(l, 1500, 300, wallCapMs(l))).toBe("stop");
  });
  it("an attempt after an early stop: stretched by the wall time per CPU time seen, at least twice the last, at most the cap", () => {
    expect(nextTimeoutMs(l, 1500, 3000, 1000)).toBe(5625); // 1500 ms x 3 x 1.25
    expect(nextTimeoutMs(l, 1500, 1600, 1500)).toBe(3000); // twice the last
    expect(nextTimeoutMs(l, 9000, 9000, 10)).toBe(wallCapMs(l));
  });
  it("the first timeout is the limit plus the grace, stretched by the load, at most the cap", () => {
    expect(firstTimeoutMs(l, 0.2)).toBe(1500);
    expect(firstTimeoutMs(l, 3)).toBe(4500);
    expect(firstTimeoutMs(l, 50)).toBe(wallCapMs(l));
  });
});

describe("guestWatch", () => {
  it("a guest part that sleeps past the timeout (wall time, no CPU time): dropped and made again with the wall cap, not stopped for its CPU limit", () => {
    const l = { cpuMs: 1000, graceMs: 0 };
    let salvaged = 0;
    const w = guestWatch(l, 100, () => (salvaged++, fake));
    const sleep = new Int32Array(new SharedArrayBuffer(4));
    let thrown: unknown;
    try {
      w(() => {
        Atomics.wait(sleep, 0, 0, 5000); // the timeout's termination wakes it
        return fake;
      });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RunAgain);
    // a thread that got (almost) no CPU time: the next attempt has the wall cap
    expect((thrown as RunAgain).timeoutMs).toBe(wallCapMs(l));
    expect(salvaged).toBe(1); // the stopped run let go
  });

  it("a guest part that spins past its CPU limit: the salvage is the result", () => {
    // at the wall cap whatever the CPU time says (a loaded machine gives the thread less than the wall time)
    const l = { cpuMs: 20, graceMs: 0 };
    const w = guestWatch(l, wallCapMs(l), () => fake);
    const r = w(() => {
      for (;;);
    });
    expect(r).toBe(fake);
  });
});

describe("the library's runModule", () => {
  it("one built-in call that never returns ends as the CPU-limit stop with its log (it held the caller for ever); the next run is normal", async () => {
    const runModule = watchedRunModule({ graceMs: 200 });
    const r = await runModule(cell(`module_init(() => { printk(KERN_INFO + "before\\n"); return [].indexOf.call({ length: 2 ** 53 - 1 } as any, 1); });`), {
      limits: { cpuMs: 200 },
    });
    expect(r.reports.map((x) => [x.kind, x.limit, x.title])).toEqual([["timeout", "cpu", "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]"]]);
    expect(r.stoppedByHost).toBe("cpu");
    expect(r.dmesg.slice(-2).map((l) => l.replace(/^\[[ .\d]+\] /, ""))).toEqual(["before", "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]"]);
    const next = await runModule(cell(`module_init(() => { printk(KERN_INFO + "after\\n"); return 0; });`));
    expect(next.reports).toEqual([]);
    expect(next.dmesg.some((l) => l.endsWith("after"))).toBe(true);
  }, 60_000);

  it("a timeout that comes before the module had its CPU time (here: 1 ms) makes the run again, with the result the run gives", async () => {
    const runModule = watchedRunModule({ firstTimeoutMs: 1 });
    const generation = quickJSGeneration();
    const r = await runModule(cell(`module_init(() => { let n = 0; for (let i = 0; i < 3e5; i++) n += i & 1; printk(KERN_INFO + "%d\\n", n); return 0; });`));
    expect(r.reports).toEqual([]);
    expect(r.stoppedByHost).toBeUndefined();
    expect(r.dmesg.at(-1)).toMatch(/\] 150000$/);
    expect(quickJSGeneration()).toBeGreaterThan(generation); // the first attempt's module was dropped
  }, 60_000);
});
