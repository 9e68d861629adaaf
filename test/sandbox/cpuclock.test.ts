// sandbox/cpuclock.ts: the CPU clock of the calling thread. Pins the premise its main-thread check rests on (Linux
// gives the main thread the process's id as its thread id, any other thread another) and that the main thread keeps
// one file of its schedstat open across readings, where a worker thread keeps none.

import { describe, expect, it } from "vitest";
import { readdirSync, readlinkSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { currentThreadId, threadCpuClock } from "../../sandbox/cpuclock.ts";

const onLinux = process.platform === "linux";

/** The open fds of this process on `path`'s file. */
const fdsOn = (suffix: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).endsWith(suffix);
    } catch {
      return false;
    }
  });

describe.runIf(onLinux)("threadCpuClock", () => {
  it("on the main thread (thread id = process id) reads a rising clock through one kept file", () => {
    expect(currentThreadId()).toBe(process.pid);
    const clock = threadCpuClock()!;
    expect(clock).toBeTypeOf("function");
    const a = clock();
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += i % 7;
    expect(x).toBeGreaterThan(0);
    expect(clock()).toBeGreaterThanOrEqual(a);
    expect(fdsOn(`/task/${process.pid}/schedstat`)).toHaveLength(1);
  });

  it("a worker thread's id is not the process's (so a worker does not keep its file: it would outlive the thread)", async () => {
    const tid = await new Promise<string>((resolve, reject) => {
      const w = new Worker(`require("node:worker_threads").parentPort.postMessage(require("node:fs").readlinkSync("/proc/thread-self"))`, { eval: true });
      w.once("message", (m: string) => void w.terminate().then(() => resolve(m)));
      w.once("error", reject);
    });
    expect(tid).toMatch(new RegExp(`^${process.pid}/task/\\d+$`));
    expect(tid).not.toBe(`${process.pid}/task/${process.pid}`);
  });
});
