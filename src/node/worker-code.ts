// What the isolated run worker (isolate-worker.ts) runs: the sandbox, the kernel and QuickJS's JavaScript glue, as
// one module. The Node build (vite.node.config.ts) bundles this file alone into lib/isolate-worker-code.cjs, a
// single CommonJS script with no imports of its own, which the worker compiles with a V8 code cache
// (code-cache.ts): the worker's start is then mostly running code, not parsing and compiling it. Under tsx the
// worker imports this file directly.

import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import RELEASE_SYNC from "@jitl/quickjs-wasmfile-release-sync";
import { setQuickJSVariant, loadQuickJS, rawVerdicts } from "../../sandbox/quickjs.ts";
import type { EncodedMachine } from "../kernel/snapshot_disk.ts";
import { bootedBefore, fromPayload, machineStore, readMachine, toPayload, writeMachine } from "./boot-cache.ts";
import { adoptStored, storeState } from "./quickjs-cache.ts";

export { loadKernelDeps, runModule, runModuleSync, salvageStoppedRun } from "../../sandbox/run.ts";
export { loadQuickJS };
export { useCellCompiler, cellCompilerLoaded } from "./cell-cache.ts";

/** The variant useCompiledWasm set, and the identity of its .wasm (quickjs-cache.ts wasmIdentity). */
let compiled: { variant: QuickJSSyncVariant; wasmId: string } | undefined;

/**
 * Load QuickJS from a WebAssembly module compiled ahead (the worker starts compiling the .wasm before this code is
 * even loaded). Without it, the variant reads and compiles its .wasm itself. `wasmId`: the .wasm's identity
 * (quickjs-cache.ts wasmIdentity), which keys the module's state on disk (loadQuickJSWithState).
 */
export function useCompiledWasm(wasmModule: Promise<WebAssembly.Module>, wasmId?: string): void {
  const variant = newVariant(RELEASE_SYNC, { wasmModule: () => wasmModule });
  setQuickJSVariant(variant);
  compiled = wasmId === undefined ? undefined : { variant, wasmId };
}

/** Whether the module's state was looked for on disk (once a process), and whether it is to be written. */
let stateLooked = false;
let stateMissing: (() => Promise<boolean>) | undefined;

/**
 * loadQuickJS(), and the first time, the module's compiled copy from the disk cache (quickjs-cache.ts) next to
 * `codeFile` (the bundle), when the build has an identity and useCompiledWasm named the .wasm: the module's runs then
 * start from it (no runtime, context or prelude to make). When there is none, or a bad one, storeQuickJSState()
 * makes and writes it.
 */
export async function loadQuickJSWithState(codeFile: string, build: string | undefined = BUILD_ID): Promise<QuickJSWASMModule> {
  const qjs = await loadQuickJS();
  if (stateLooked) return qjs;
  stateLooked = true;
  const c = compiled;
  if (build === undefined || c === undefined) return qjs;
  const store = machineStore(codeFile, build, 0); // (the record format of machines does not concern this file: 0)
  if (store && !adoptStored(store, c.wasmId, qjs))
    stateMissing = async () =>
      storeState(store, c.wasmId, await newQuickJSWASMModuleFromVariant(c.variant), await newQuickJSWASMModuleFromVariant(c.variant), rawVerdicts(qjs));
  return qjs;
}

/** Write the module's state to disk if loadQuickJSWithState found none (on a fresh instance, once). Never rejects. */
export async function storeQuickJSState(): Promise<boolean> {
  const store = stateMissing;
  stateMissing = undefined;
  try {
    return store ? await store() : false;
  } catch {
    return false;
  }
}

declare const __KMODLAB_BUILD_ID__: string | undefined;
/** The build's identity (vite.node.config.ts defines it); undefined in the TypeScript sources (tsx, vitest). */
const BUILD_ID = typeof __KMODLAB_BUILD_ID__ === "string" ? __KMODLAB_BUILD_ID__ : undefined;

/**
 * The machine `profile` + `opts` from the disk cache of booted machines (boot-cache.ts), or booted by `boot`; the
 * second time a machine is booted (boot-cache.ts bootedBefore) it is stored, and that run too gets the machine decoded
 * from the stored bytes, as every later run does (whose decoder's code is then in the V8 code cache). `build` is the build's identity, compiled into the bundle
 * (BUILD_ID): the TypeScript sources have none, so they always boot. The files go next to `codeFile` (the bundle).
 * A machine the disk form cannot name (snapshot_disk.ts DiskFormError) is booted every time.
 */
/** How bootCached() got its last machine: decoded from the disk cache, booted, or booted and stored (then decoded). */
export type MachinePath = "decode" | "boot" | "store";
let lastPath: MachinePath = "boot";
/** How bootCached() got its last machine (the run worker names its code cache's coverage by it: code-cache.ts). */
export function lastMachinePath(): MachinePath {
  return lastPath;
}

export async function bootCached<K extends object, O extends object>(
  codeFile: string,
  profile: string,
  opts: O,
  boot: (p: string, o: O) => K,
  build: string | undefined = BUILD_ID,
): Promise<K> {
  lastPath = "boot";
  if (build === undefined) return boot(profile, opts);
  // loaded here, after the kernel (loadKernelDeps): it imports the kernel's modules, whose order of evaluation
  // (registrations, SideTables) must stay the one loadKernelDeps gives them
  const [disk, { bootKey }] = await Promise.all([import("../kernel/snapshot_disk.ts"), import("../kernel/snapshot.ts")]);
  const store = machineStore(codeFile, build, disk.MACHINE_FORMAT);
  if (!store) return boot(profile, opts);
  const machine = bootKey(profile, opts);
  const records = readMachine(store, machine);
  if (records !== undefined) {
    try {
      const k = disk.decodeMachine(records as EncodedMachine) as unknown as K;
      lastPath = "decode";
      return k;
    } catch {
      // records this build cannot place: boot, and replace them
    }
  }
  const k = boot(profile, opts);
  if (!bootedBefore(store, machine)) return k; // stored the second time it is booted (boot-cache.ts)
  let payload: Buffer;
  try {
    payload = toPayload(disk.encodeMachine(k as never));
  } catch {
    return k; // a machine the disk form cannot name: no cache
  }
  writeMachine(store, machine, payload);
  lastPath = "store";
  try {
    return disk.decodeMachine(fromPayload(payload) as EncodedMachine) as unknown as K;
  } catch {
    return k;
  }
}
