// The classic memdemo cell end to end (transpile, boot, insmod + module_init, rmmod + module_exit, leak check):
// warm (the same process, many runs: issue 6's target) on the 6.1 debug kernel and the 2.6 PC, wall and CPU time;
// and cold (a fresh Node process per run: module loading, QuickJS instantiation and an unoptimised JIT included).
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Suite } from "./harness.ts";
import { runModule, loadKernelDeps } from "../sandbox/run.ts";

const memdemo = readFileSync(new URL("../examples/memdemo.ts", import.meta.url), "utf8");
const cold = fileURLToPath(new URL("./memdemo-cold.ts", import.meta.url));

export const suite: Suite = {
  name: "memdemo",
  async run(ctx) {
    await loadKernelDeps();
    for (const profile of ["x86_64-6.1", "i386-2.6"]) {
      await ctx.timeWallAndCpu(`memdemo ${profile} end to end (warm)`, () => runModule(memdemo, { profile }), 31, 5);
    }
    const load: number[] = [];
    const first: number[] = [];
    const whole: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const out = execFileSync(process.execPath, ["--import", "tsx", cold, "x86_64-6.1"], { encoding: "utf8" });
      whole.push(performance.now() - t0);
      const { loadMs, firstRunMs } = JSON.parse(out.trim().split("\n").pop()!) as { loadMs: number; firstRunMs: number };
      load.push(loadMs);
      first.push(firstRunMs);
    }
    ctx.record("memdemo x86_64-6.1 cold process: first run", "ms", first, "fresh process; after the imports");
    ctx.record("memdemo x86_64-6.1 cold process: imports", "ms", load, "sandbox + kernel modules through tsx");
    ctx.record("memdemo x86_64-6.1 cold process: whole process", "ms", whole, "spawn to exit, tsx included");
  },
};
