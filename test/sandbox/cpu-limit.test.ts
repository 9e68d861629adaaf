// The CPU limit is the run's CPU time, not the machine's wall time (sandbox/cpuclock.ts, Bridge.pastDeadline): on
// a loaded machine a cell gets the CPU time its limit says before it is stopped. The run happens in a child process
// pinned to one CPU that three busy processes share with it (taskset), so its wall time runs about four times its
// CPU time; with the limit on wall time it was stopped after about a quarter of its limit.
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { threadCpuClock, taskCpuClock, currentThreadId, WALL_CAP_FACTOR } from "../../sandbox/cpuclock.ts";

const script = fileURLToPath(new URL("./fixtures/cpu-limit-run.ts", import.meta.url));
const linux = process.platform === "linux" && spawnSync("taskset", ["-c", "0", "true"]).status === 0;

describe("the CPU limit's clock", () => {
  it.runIf(process.platform === "linux")("reads this thread's CPU time, which a busy loop advances and sleeping does not", async () => {
    const clock = threadCpuClock()!;
    expect(clock).toBeTypeOf("function");
    const c0 = clock();
    const w0 = performance.now();
    while (performance.now() - w0 < 60);
    const busy = clock() - c0;
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(performance.now() - w0 + 1);
    const c1 = clock();
    await new Promise((r) => setTimeout(r, 60));
    expect(clock() - c1).toBeLessThan(busy);
    // the same thread read from outside, as the host's watchdog reads a run worker's
    const other = taskCpuClock(currentThreadId()!)!;
    expect(Math.abs(other() - clock())).toBeLessThan(20);
    expect(WALL_CAP_FACTOR).toBeGreaterThan(1);
  });

  it.runIf(linux)(
    "a cell on a CPU shared four ways still gets its whole CPU limit before it is stopped",
    async () => {
      const child = spawn("taskset", ["-c", "0", process.execPath, "--import", "tsx", script, "300"], { stdio: ["pipe", "pipe", "inherit"] });
      let out = "";
      const ready = new Promise<void>((resolve) =>
        child.stdout.setEncoding("utf8").on("data", (s: string) => {
          out += s;
          if (out.includes("ready\n")) resolve();
        }),
      );
      const done = new Promise<void>((resolve) => child.on("close", () => resolve()));
      const hogs: ReturnType<typeof spawn>[] = [];
      try {
        await ready;
        for (let i = 0; i < 3; i++) hogs.push(spawn("taskset", ["-c", "0", process.execPath, "-e", "for (;;) {}"], { stdio: "ignore" }));
        await new Promise((r) => setTimeout(r, 200)); // the busy processes are running
        child.stdin.write("go\n");
        await done;
      } finally {
        for (const h of hogs) h.kill("SIGKILL");
        child.kill("SIGKILL");
      }
      const m = JSON.parse(out.trim().split("\n").pop()!) as { limits: string[]; cpuMs: number; wallMs: number };
      expect(m.limits).toEqual(["cpu"]);
      // its limit of CPU time (300 ms; the compile and the bridge before the limit starts count too), though the wall
      // clock ran well past it: on wall time it was stopped at 300 ms of wall, ~75 ms of CPU
      expect(m.cpuMs).toBeGreaterThanOrEqual(300);
      expect(m.wallMs).toBeGreaterThan(m.cpuMs * 1.5);
      expect(m.wallMs).toBeLessThan(300 * WALL_CAP_FACTOR + 5000);
    },
    150_000,
  );
});
