// The body of an isolated run worker (src/node/isolate.ts starts it as a worker_threads Worker): it loads the
// sandbox and the kernel once, then runs one cell per message with sandbox/run.ts's runModule and posts the
// RunResult back. It is a separate entry on purpose: under tsx (development) isolate-worker-dev.mjs registers the
// TypeScript loader and imports this file; the Node build (vite.node.config.ts) makes it lib/isolate-worker.cjs,
// CommonJS (a worker whose entry is CommonJS starts faster: it needs no ES module loader), next to the bundle that
// contains isolate.ts (isolate.ts's workerEntry() looks for it there).
//
// The worker also watches the one host memory V8's heap limit (resourceLimits) does not see: the QuickJS
// module's WebAssembly memory, which guest ArrayBuffers, typed arrays and strings live in. Every growth passes
// through WebAssembly.Memory.prototype.grow (the emscripten glue calls it from its resize-heap import); past the
// run's budget the worker tells the parent and waits to be terminated, so the parent ends the run with the
// memory limit's report. The worker never decides a run's fate by itself: the parent owns the limits.

import { parentPort, workerData } from "node:worker_threads";
import { setFlagsFromString } from "node:v8";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { loadCachedScript, type CachedScript } from "./code-cache.ts";
import type { RunOptions } from "../../sandbox/run.ts";
import type { ToIsolate, FromIsolate } from "./isolate-protocol.ts";

const port = parentPort!;
const t0 = performance.now();
/** V8 flags the parent asked for (isolate.ts setRunWorkerV8Flags), set before anything is compiled. */
const v8Flags: string[] = Array.isArray(workerData?.v8Flags) ? (workerData.v8Flags as string[]) : [];
for (const f of v8Flags) setFlagsFromString(f);
// Say so to a parent that waits for it (bin/kmodlab.cjs): V8 checks a code cache against the process's flags, and a
// cache the command's thread makes after a run carries these; it loads its own script once they are set.
const flagsSet: unknown = workerData?.flagsSet;
if (flagsSet instanceof Int32Array && flagsSet.buffer instanceof SharedArrayBuffer) {
  Atomics.store(flagsSet, 0, 1);
  Atomics.notify(flagsSet, 0);
}
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
 * The sandbox. Bundled (lib/isolate-worker.cjs), it is lib/isolate-worker-code.cjs, compiled with a V8 code cache
 * (code-cache.ts), and QuickJS's .wasm starts compiling (on V8's background threads) before that script is even
 * read. From the TypeScript sources (tsx, vitest), worker-code.ts is imported as it is (a specifier the bundler
 * does not follow: the bundle never imports it).
 */
type Sandbox = typeof import("./worker-code.ts");
type KernelDeps = Awaited<ReturnType<Sandbox["loadKernelDeps"]>>;
const DEV_CODE = "./worker-code.ts";
let code: CachedScript<Sandbox> | undefined;
/** The bundled sandbox's file (lib/isolate-worker-code.cjs): it names the build for the disk cache of machines. */
let codeFile: string | undefined;
/** The sandbox's code and the kernel's (QuickJS may still be loading). */
const loaded = (async (): Promise<{ sandbox: Sandbox; deps: KernelDeps }> => {
  let sandbox: Sandbox;
  if (/\.[cm]?ts$/.test(new URL(import.meta.url).pathname)) sandbox = (await import(/* @vite-ignore */ DEV_CODE)) as Sandbox;
  else {
    const wasm = compileQuickJSWasm();
    codeFile = fileURLToPath(new URL("./isolate-worker-code.cjs", import.meta.url));
    code = loadCachedScript(codeFile, process.env.KMODLAB_CODE_CACHE !== "0", v8Flags.join(" "));
    sandbox = code.exports;
    sandbox.useCompiledWasm(wasm);
  }
  return { sandbox, deps: await sandbox.loadKernelDeps() };
})();
/** Everything a run needs, QuickJS included. */
const ready = loaded.then(async (l) => {
  await l.sandbox.loadQuickJS();
  return l;
});

/** Start compiling the release build's .wasm, the file its package ships (a runtime dependency). */
function compileQuickJSWasm(): Promise<WebAssembly.Module> {
  const compiling = (async () => WebAssembly.compile(readFileSync(quickJSWasmPath())))();
  compiling.catch(() => {}); // handled where QuickJS loads (the run's "could not load the sandbox")
  return compiling;
}

/**
 * The variant's .wasm: its package's dist/emscripten-module.wasm in the nearest node_modules up from here, as Node
 * would find it, without the cost of a resolution (~5 ms); the resolver when the file is not there.
 */
function quickJSWasmPath(): string {
  const rel = join("node_modules", "@jitl", "quickjs-wasmfile-release-sync", "dist", "emscripten-module.wasm");
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    if (dirname(dir) === dir) break;
  }
  return createRequire(import.meta.url).resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
}

// "ready" once the sandbox and the kernel are loaded: the parent then sends the run, which waits here for QuickJS
// (still loading on V8's threads, or behind the machine booted ahead) instead of for a round trip after it.
// QuickJS failing to load after that is reported the same way, and the parent ends the run with it.
loaded.then(
  () => {
    post({ type: "ready", ms: performance.now() - t0 });
    ready.catch((e: unknown) => post({ type: "failed", id: 0, message: `could not load QuickJS: ${(e as Error)?.message ?? e}` }));
  },
  (e: unknown) => post({ type: "failed", id: 0, message: `could not load the sandbox: ${(e as Error)?.message ?? e}` }),
);

// ---- the next run's kernel, booted ahead --------------------------------------------------------------------------
//
// A "boot" message (IsolatedRunner.bootAhead: `kmodlab run` sends it as soon as it has parsed its options) boots
// that machine as soon as the kernel's code is loaded, while QuickJS still loads and the parent still prepares the
// run. The next run takes it if it asks for the same machine (profile, mem, cmdline, seed, config: all the boot
// depends on, sandbox/run.ts), and boots its own otherwise. A boot that failed fails that run the same way.

type BootRequest = Extract<ToIsolate, { type: "boot" }>;
const machineKey = (profile: string, o: BootRequest["boot"]) => JSON.stringify([profile, o.mem ?? null, o.cmdline ?? null, o.seed ?? null, o.config ?? null]);
let spare: { key: string; kernel?: unknown; error?: unknown; path?: string } | undefined;
/** How the current run's machine was had (worker-code.ts MachinePath): the code cache is named after it. */
let runPath = "boot";
let booting: Promise<void> | undefined;

async function bootAhead(m: BootRequest): Promise<void> {
  const { sandbox, deps } = await loaded;
  const key = machineKey(m.profile, m.boot);
  if (spare?.key === key) return;
  try {
    // bundled: from the disk cache of booted machines when it has this one (worker-code.ts bootCached)
    const kernel = codeFile ? await sandbox.bootCached(codeFile, m.profile, m.boot, deps.boot) : deps.boot(m.profile, m.boot);
    spare = { key, kernel, path: codeFile ? sandbox.lastMachinePath() : "boot" };
  } catch (error) {
    spare = { key, error };
  }
}

/** The kernel deps for a run: boot() hands out the spare machine once if it is the one asked for. */
function depsForRun(deps: KernelDeps): KernelDeps {
  const s = spare;
  spare = undefined;
  if (!s) return deps;
  return {
    ...deps,
    boot: (profile, o) => {
      if (machineKey(profile, o) !== s.key) return deps.boot(profile, o);
      if ("error" in s) throw s.error;
      runPath = s.path ?? "boot";
      return s.kernel as ReturnType<KernelDeps["boot"]>;
    },
  };
}

port.on("message", async (m: ToIsolate) => {
  if (m.type === "boot") {
    booting = bootAhead(m).catch(() => {}); // a sandbox that did not load fails the run itself
    return;
  }
  if (m.type !== "run") return;
  try {
    const { sandbox, deps } = await ready;
    await booting;
    currentId = m.id;
    wasmBudget = m.wasmBudget;
    runPath = "boot";
    const result = await sandbox.runModule(m.source, m.options as RunOptions, depsForRun(deps));
    currentId = 0;
    // after the first run, and after the first that had its machine another way (booted, decoded from the disk
    // cache): the cache then holds what those runs compiled too (code-cache.ts)
    code?.save(runPath);
    post({ type: "result", id: m.id, result });
  } catch (e) {
    currentId = 0;
    post({ type: "failed", id: m.id, message: (e as Error)?.message ?? String(e) });
  }
});
