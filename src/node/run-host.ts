// The side of a run that holds the sandbox (issue 15): its code, QuickJS's .wasm, the machine booted ahead, and the
// run itself. The isolated run worker (isolate-worker.ts, a worker_threads Worker) and `kmodlab run`'s run on the
// command's own thread (in-thread.ts) are both this; only who watches the limits differs.
//
// - The code: bundled, lib/isolate-worker-code.cjs (worker-code.ts: the sandbox, the kernel and QuickJS's glue),
//   compiled with a V8 code cache (code-cache.ts); from the TypeScript sources (tsx, vitest), worker-code.ts itself.
// - The cell's compiler (sucrase): bundled apart, lib/cell-compiler.cjs, loaded on the first cell that the disk cache
//   of compiled cells does not hold (cell-cache.ts).
// - QuickJS's .wasm: read and compiled here (its package's file), handed to the variant (worker-code.ts
//   useCompiledWasm).
// - A machine booted ahead (bootAhead): the next run takes it if it asks for the same machine (profile, mem, cmdline,
//   seed, config: all the boot depends on, sandbox/run.ts), and boots its own otherwise; a boot that failed fails that
//   run the same way. Bundled, it comes from the disk cache of booted machines when that has it (worker-code.ts
//   bootCached).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { loadCachedScript, type CachedScript } from "./code-cache.ts";
import { readTransient } from "./scratch.ts";
import type { GuestWatch, RunOptions } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";

export type Sandbox = typeof import("./worker-code.ts");
export type KernelDeps = Awaited<ReturnType<Sandbox["loadKernelDeps"]>>;
export type BootOptionsAhead = Pick<RunOptions, "mem" | "cmdline" | "seed" | "config">;

export interface RunHostOptions {
  /** The bundled sandbox (lib/isolate-worker-code.cjs); undefined: the TypeScript sources (worker-code.ts). */
  codeFile?: string;
  /** The V8 flags set at run time that the code cache is made under (code-cache.ts cacheTag). */
  cacheFlags: string;
}

export interface RunHost {
  /** The sandbox's code and the kernel's (QuickJS may still be loading). */
  readonly loaded: Promise<{ sandbox: Sandbox; deps: KernelDeps }>;
  /** Everything a run needs, QuickJS included. */
  readonly ready: Promise<{ sandbox: Sandbox; deps: KernelDeps }>;
  /** Boot this machine now, for the next run. */
  bootAhead(profile: string, boot: BootOptionsAhead): void;
  /**
   * One run (one at a time); rejects only when the sandbox could not load. Saves the code cache when it has news.
   * `around`: the run's synchronous part (sandbox/run.ts runModuleSync, everything QuickJS executes) is called through
   * it (the in-thread runner puts a watchdog around it, and its GuestWatch around the module's part: guest-watch.ts);
   * whatever it throws, the run rejects with.
   */
  run(source: string, options: RunOptions, around?: (runSync: (watch?: GuestWatch) => RunResult) => RunResult): Promise<RunResult>;
  /**
   * After the host stopped this thread's JavaScript in the middle of a run, for its CPU limit: that run's RunResult
   * as the sandbox's own CPU-limit stop gives it, the kernel's log up to the stop (sandbox/run.ts salvageStoppedRun);
   * undefined when no run was in flight or the sandbox is not loaded. QuickJS's module is dropped, a new one loads.
   */
  salvage(): RunResult | undefined;
}

const machineKey = (profile: string, o: BootOptionsAhead) => JSON.stringify([profile, o.mem ?? null, o.cmdline ?? null, o.seed ?? null, o.config ?? null]);

/** A specifier the bundler does not follow: the bundles never import the sources. */
const DEV_CODE = "./worker-code.ts";

export function createRunHost(o: RunHostOptions): RunHost {
  let code: CachedScript<Sandbox> | undefined;
  const loaded = (async (): Promise<{ sandbox: Sandbox; deps: KernelDeps }> => {
    let sandbox: Sandbox;
    if (!o.codeFile) sandbox = (await import(/* @vite-ignore */ DEV_CODE)) as Sandbox;
    else {
      const wasm = compileQuickJSWasm();
      code = loadCachedScript(o.codeFile, process.env.KMODLAB_CODE_CACHE !== "0", o.cacheFlags);
      sandbox = code.exports;
      sandbox.useCompiledWasm(wasm.module, wasm.id);
      // the cell's compiler, loaded only for a cell the disk cache has not compiled (cell-cache.ts)
      sandbox.useCellCompiler(join(dirname(o.codeFile), "cell-compiler.cjs"), o.cacheFlags, o.codeFile);
    }
    return { sandbox, deps: await sandbox.loadKernelDeps() };
  })();
  // bundled: QuickJS with its compiled copy from the disk cache (worker-code.ts loadQuickJSWithState)
  const ready = loaded.then(async (l) => {
    await (o.codeFile ? l.sandbox.loadQuickJSWithState(o.codeFile) : l.sandbox.loadQuickJS());
    return l;
  });

  let spare: { key: string; kernel?: unknown; error?: unknown; path?: string } | undefined;
  /** How the current run's machine was had (worker-code.ts MachinePath): the code cache is named after it. */
  let runPath = "boot";
  let booting: Promise<void> | undefined;

  async function boot(profile: string, opts: BootOptionsAhead): Promise<void> {
    const { sandbox, deps } = await loaded;
    const key = machineKey(profile, opts);
    if (spare?.key === key) return;
    try {
      const kernel = o.codeFile ? await sandbox.bootCached(o.codeFile, profile, opts, deps.boot) : deps.boot(profile, opts);
      spare = { key, kernel, path: o.codeFile ? sandbox.lastMachinePath() : "boot" };
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
      boot: (profile, opts) => {
        if (machineKey(profile, opts) !== s.key) return deps.boot(profile, opts);
        if ("error" in s) throw s.error;
        runPath = s.path ?? "boot";
        return s.kernel as ReturnType<KernelDeps["boot"]>;
      },
    };
  }

  let sandboxNow: Sandbox | undefined;
  loaded.then(
    (l) => void (sandboxNow = l.sandbox),
    () => {},
  );
  return {
    loaded,
    ready,
    salvage() {
      try {
        return sandboxNow?.salvageStoppedRun();
      } catch {
        return undefined;
      }
    },
    bootAhead(profile, opts) {
      booting = boot(profile, opts).catch(() => {}); // a sandbox that did not load fails the run itself
    },
    async run(source, options, around) {
      const { sandbox, deps } = await ready;
      await booting;
      runPath = "boot";
      let result: RunResult;
      if (!around) result = await sandbox.runModule(source, options, depsForRun(deps));
      else {
        const qjs = await sandbox.loadQuickJS();
        const d = depsForRun(deps);
        result = around((watch) => sandbox.runModuleSync(qjs, source, options, d, undefined, watch));
      }
      // after the first run, and after the first that had its machine another way (booted, decoded from the disk
      // cache): the cache then holds what those runs compiled too (code-cache.ts)
      code?.save(runPath);
      // QuickJS's compiled copy, when the disk cache had none for this build (once; made on a fresh instance)
      if (o.codeFile) await sandbox.storeQuickJSState();
      return result;
    },
  };
}

/**
 * Start compiling the release build's .wasm, the file its package ships (a runtime dependency); with the file's
 * identity (its length and CRC-32, as quickjs-cache.ts wasmIdentity gives it), undefined when it cannot be read.
 */
function compileQuickJSWasm(): { module: Promise<WebAssembly.Module>; id: string | undefined } {
  let bytes: Buffer<ArrayBuffer> | undefined;
  try {
    bytes = readTransient(quickJSWasmPath()); // (WebAssembly.compile copies it at once, before anything else is read)
  } catch {
    // reported where QuickJS loads
  }
  const read = bytes;
  const compiling = (async () => WebAssembly.compile(read ?? readFileSync(quickJSWasmPath())))();
  compiling.catch(() => {}); // handled where QuickJS loads (the run's "could not load the sandbox")
  const zlib = process.getBuiltinModule("node:zlib") as typeof import("node:zlib"); // (loaded on first use, as code-cache.ts)
  return { module: compiling, id: read && `${read.length}:${zlib.crc32(read)}` };
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
