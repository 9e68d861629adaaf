// The body of an isolated run worker (src/node/isolate.ts starts it as a worker_threads Worker): it loads the
// sandbox and the kernel once, then runs one cell per message with sandbox/run.ts's runModule and posts the
// RunResult back. It is a separate entry on purpose: under tsx (development) isolate-worker-dev.mjs registers the
// TypeScript loader and imports this file; a bundled CLI builds this file as its own entry, `isolate-worker.mjs`,
// next to the bundle that contains isolate.ts (isolate.ts's workerEntry() looks for it there).
//
// The worker also watches the one host memory V8's heap limit (resourceLimits) does not see: the QuickJS
// module's WebAssembly memory, which guest ArrayBuffers, typed arrays and strings live in. Every growth passes
// through WebAssembly.Memory.prototype.grow (the emscripten glue calls it from its resize-heap import); past the
// run's budget the worker tells the parent and waits to be terminated, so the parent ends the run with the
// memory limit's report. The worker never decides a run's fate by itself: the parent owns the limits.

import { parentPort, workerData } from "node:worker_threads";
import type { RunOptions } from "../../sandbox/run.ts";
import type { ToIsolate, FromIsolate } from "./isolate-protocol.ts";

const port = parentPort!;
const t0 = performance.now();
/** Budget in bytes for the WebAssembly memory of the current run (0: none). */
let wasmBudget = 0;
let currentId = 0;
/** Atomics.wait target: the worker sleeps here until the parent terminates it. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

const post = (m: FromIsolate) => port.postMessage(m);

const proto = WebAssembly.Memory.prototype;
const grow = proto.grow;
proto.grow = function (this: WebAssembly.Memory, delta: number): number {
  const before = grow.call(this, delta);
  const bytes = this.buffer.byteLength;
  if (wasmBudget > 0 && currentId !== 0 && bytes > wasmBudget) {
    post({ type: "over-memory", id: currentId, what: "wasm", bytes, budget: wasmBudget });
    // Nothing more of this run may happen: the parent terminates the worker (terminate() ends the wait).
    for (;;) Atomics.wait(sleeper, 0, 0);
  }
  return before;
};

const ready = (async () => {
  const { loadKernelDeps, runModule } = await import("../../sandbox/run.ts");
  const { loadQuickJS } = await import("../../sandbox/quickjs.ts");
  await Promise.all([loadKernelDeps(), loadQuickJS()]);
  return runModule;
})();

ready.then(
  () => post({ type: "ready", ms: performance.now() - t0 }),
  (e: unknown) => post({ type: "failed", id: 0, message: `could not load the sandbox: ${(e as Error)?.message ?? e}` }),
);

port.on("message", async (m: ToIsolate) => {
  if (m.type !== "run") return;
  try {
    const runModule = await ready;
    currentId = m.id;
    wasmBudget = m.wasmBudget;
    const result = await runModule(m.source, m.options as RunOptions);
    currentId = 0;
    post({ type: "result", id: m.id, result });
  } catch (e) {
    currentId = 0;
    post({ type: "failed", id: m.id, message: (e as Error)?.message ?? String(e) });
  }
});

void workerData;
