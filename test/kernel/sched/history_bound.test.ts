// The event loop's history and the workqueue's `ran` list keep the first HISTORY_KEPT entries only: a work item that
// re-arms itself (schedule_work from its own function) until the sandbox's kernel-call limit stops it ran a million
// times and kept a million records in each (~170 MB of the host's heap at 1,000,000 calls). The count goes on.
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { HISTORY_KEPT } from "../../../src/kernel/kernel/events.ts";

describe("deferred work's records are bounded", () => {
  it(`a work item re-armed 3 x HISTORY_KEPT times: history and workqueue.ran hold the first ${HISTORY_KEPT}, eventsRun counts them all`, () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    const rounds = 3 * HISTORY_KEPT;
    let n = 0;
    const w = k.workqueue.INIT_WORK(() => {
      if (++n < rounds) k.workqueue.schedule_work(w);
    }, "rearm");
    const before = k.sched.loop.eventsRun;
    k.workqueue.schedule_work(w);
    k.runDeferred({});
    expect(n).toBe(rounds);
    expect(k.sched.loop.eventsRun - before).toBe(rounds);
    expect(k.sched.loop.history.length).toBe(HISTORY_KEPT);
    expect(k.workqueue.ran.length).toBe(HISTORY_KEPT);
    expect(k.workqueue.ran.every((r) => r.name === "rearm")).toBe(true);
  });
});
