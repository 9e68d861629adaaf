// The body of an isolated run worker (src/node/isolate.ts starts it as a worker_threads Worker): it loads the
// sandbox and the kernel once, then runs one cell per message with sandbox/run.ts's runModule and posts the
// RunResult back. It is a separate entry on purpose: under tsx (development) isolate-worker-dev.mjs registers the
// TypeScript loader and imports this file; the Node build (vite.node.config.ts) makes it lib/isolate-worker.cjs,
// CommonJS (a worker whose entry is CommonJS starts faster: it needs no ES module loader), next to the bundle that
// contains isolate.ts (isolate.ts's workerEntry() looks for it there).
//
// The worker stops its own runs at their CPU limit where the sandbox cannot (one long built-in call that never
// returns to QuickJS's interrupt handler): the module's part runs under Node's vm timeout (guest-watch.ts, as `kmodlab
// run` on its own thread does), and a stopped run ends as the sandbox's own CPU-limit stop with its kernel log
// (sandbox/run.ts salvageStoppedRun). The parent is told when each attempt starts and with what timeout ("watching"),
// and terminates the worker only if no answer comes well after it.
//
// The worker also watches the one host memory V8's heap limit (resourceLimits) does not see: the QuickJS
// module's WebAssembly memory, which guest ArrayBuffers, typed arrays and strings live in. Every growth passes
// through WebAssembly.Memory.prototype.grow (the emscripten glue calls it from its resize-heap import); past the
// run's budget the worker tells the parent and waits to be terminated, so the parent ends the run with the
// memory limit's report. The worker never decides a run's fate by itself: the parent owns the limits.

import { parentPort, workerData } from "node:worker_threads";
import { setFlagsFromString } from "node:v8";
import { fileURLToPath } from "node:url";
import { createRunHost } from "./run-host.ts";
import type { RunOptions } from "../../sandbox/run.ts";
import type { ToIsolate, FromIsolate } from "./isolate-protocol.ts";
import { currentThreadId } from "../../sandbox/cpuclock.ts";
import { firstTimeoutMs, guestWatch, withRunAgain } from "./guest-watch.ts";

const port = parentPort!;
const t0 = performance.now();
/** V8 flags the parent asked for (isolate.ts setRunWorkerV8Flags), set before anything is compiled. */
const v8Flags: string[] = Array.isArray(workerData?.v8Flags) ? (workerData.v8Flags as string[]) : [];
for (const f of v8Flags) setFlagsFromString(f);
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

/**
 * The sandbox (run-host.ts). Bundled (lib/isolate-worker.cjs), it is lib/isolate-worker-code.cjs, compiled with a V8
 * code cache (code-cache.ts), and QuickJS's .wasm starts compiling (on V8's background threads) before that script is
 * even read. From the TypeScript sources (tsx, vitest), worker-code.ts is imported as it is.
 */
const host = createRunHost({
  codeFile: /\.[cm]?ts$/.test(new URL(import.meta.url).pathname) ? undefined : fileURLToPath(new URL("./isolate-worker-code.cjs", import.meta.url)),
  cacheFlags: v8Flags.join(" "),
});

// "ready" once the sandbox and the kernel are loaded: the parent then sends the run, which waits here for QuickJS
// (still loading on V8's threads, or behind the machine booted ahead) instead of for a round trip after it.
// QuickJS failing to load after that is reported the same way, and the parent ends the run with it.
host.loaded.then(
  () => {
    post({ type: "ready", ms: performance.now() - t0, tid: currentThreadId() });
    host.ready.catch((e: unknown) => post({ type: "failed", id: 0, message: `could not load QuickJS: ${(e as Error)?.message ?? e}` }));
  },
  (e: unknown) => post({ type: "failed", id: 0, message: `could not load the sandbox: ${(e as Error)?.message ?? e}` }),
);

// A "boot" message (IsolatedRunner.bootAhead: `kmodlab run` sends it as soon as it has parsed its options) boots
// that machine as soon as the kernel's code is loaded, while QuickJS still loads and the parent still prepares the
// run (run-host.ts).
port.on("message", async (m: ToIsolate) => {
  if (m.type === "boot") {
    host.bootAhead(m.profile, m.boot);
    return;
  }
  if (m.type !== "run") return;
  try {
    await host.ready;
    currentId = m.id;
    wasmBudget = m.wasmBudget;
    // each attempt (a second one when the machine's load had the first stopped short of the CPU limit: guest-watch.ts)
    // tells the parent its timeout as its module part starts
    const result = await withRunAgain(
      m.watch.firstMs ?? firstTimeoutMs(m.watch),
      (timeoutMs) =>
        host.run(m.source, m.options as RunOptions, (runSync) =>
          runSync((guestPart) => {
            post({ type: "watching", id: m.id, timeoutMs });
            return guestWatch(m.watch, timeoutMs, () => host.salvage())(guestPart);
          }),
        ),
      () => post({ type: "again", id: m.id }),
    );
    currentId = 0;
    post({ type: "result", id: m.id, result });
  } catch (e) {
    currentId = 0;
    post({ type: "failed", id: m.id, message: (e as Error)?.message ?? String(e) });
  }
});
