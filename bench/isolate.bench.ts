// The cost of running cells where the host can kill them (src/node/isolate.ts): starting a run worker (from the
// TypeScript sources under tsx, as in development and the tests; and from the bundled lib/isolate-worker.cjs, as the
// installed `kmodlab` command does, when lib/ is built), and a trivial cell's run in a warm worker beside the same
// run in-process (the structured clone of its RunResult and the message round trip are the difference).
import { Worker } from "node:worker_threads";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Suite } from "./harness.ts";
import { IsolatedRunner } from "../src/node/isolate.ts";
import { runModule, loadKernelDeps } from "../sandbox/run.ts";

const CELL = `import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";\nMODULE_LICENSE("GPL");\nmodule_init(() => { printk(KERN_INFO + "hi\\n"); return 0; });\nmodule_exit(() => {});\n`;
const lib = join(dirname(fileURLToPath(import.meta.url)), "..", "lib", "isolate-worker.cjs");

/** Spawn the bundled worker and wait for its "ready" (sandbox and kernel loaded; QuickJS may still be loading). */
function bundledStart(): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(pathToFileURL(lib));
    w.on("message", (m: { type: string }) => {
      if (m.type === "ready") void w.terminate().then(() => resolve());
      else if (m.type === "failed") reject(new Error(JSON.stringify(m)));
    });
    w.on("error", reject);
  });
}

export const suite: Suite = {
  name: "isolate",
  async run(ctx) {
    await ctx.time(
      "isolated run worker start + first run, from sources (tsx)",
      async () => {
        const r = new IsolatedRunner();
        const res = await r.run(CELL);
        await r.close();
        if (res.reports.length) throw new Error(`bench isolate: ${res.reports[0]!.title}`);
      },
      3,
      1,
      "a fresh worker: tsx's loader, the sandbox, the kernel and QuickJS loaded, then one run",
    );
    if (existsSync(lib))
      await ctx.time(
        "isolated run worker start, bundled (lib/isolate-worker.cjs)",
        bundledStart,
        5,
        1,
        "spawn to the sandbox and kernel loaded (QuickJS loads on)",
      );
    const warm = new IsolatedRunner();
    await warm.run(CELL);
    await ctx.time(
      "trivial cell, warm isolated worker (x86_64-6.1)",
      async () => void (await warm.run(CELL)),
      15,
      3,
      "boot, insmod, rmmod in the worker, RunResult cloned back",
    );
    await warm.close();
    await loadKernelDeps();
    await ctx.time("trivial cell, in-process runModule (x86_64-6.1)", async () => void (await runModule(CELL)), 15, 3, "the same run without the worker");
  },
};
