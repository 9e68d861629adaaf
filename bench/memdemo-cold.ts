// One memdemo run in a fresh process (spawned by memdemo.bench.ts): prints {"loadMs", "firstRunMs"} as JSON.
// loadMs: importing the sandbox and the kernel; firstRunMs: the first runModule (QuickJS load, cold JIT, boot, run).
import { readFileSync } from "node:fs";

const t0 = performance.now();
const { runModule, loadKernelDeps } = await import("../sandbox/run.ts");
await loadKernelDeps();
const t1 = performance.now();
const src = readFileSync(new URL("../examples/memdemo.ts", import.meta.url), "utf8");
const r = await runModule(src, { profile: process.argv[2] ?? "x86_64-6.1" });
const t2 = performance.now();
if (r.initReturn !== 0) throw new Error(`memdemo failed: ${JSON.stringify(r.reports)}`);
console.log(JSON.stringify({ loadMs: t1 - t0, firstRunMs: t2 - t1 }));
