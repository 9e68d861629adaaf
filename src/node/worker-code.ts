// What the isolated run worker (isolate-worker.ts) runs: the sandbox, the kernel and QuickJS's JavaScript glue, as
// one module. The Node build (vite.node.config.ts) bundles this file alone into lib/isolate-worker-code.cjs, a
// single CommonJS script with no imports of its own, which the worker compiles with a V8 code cache
// (code-cache.ts): the worker's start is then mostly running code, not parsing and compiling it. Under tsx the
// worker imports this file directly.

import { newVariant } from "quickjs-emscripten-core";
import RELEASE_SYNC from "@jitl/quickjs-wasmfile-release-sync";
import { setQuickJSVariant, loadQuickJS } from "../../sandbox/quickjs.ts";

export { loadKernelDeps, runModule } from "../../sandbox/run.ts";
export { loadQuickJS };

/**
 * Load QuickJS from a WebAssembly module compiled ahead (the worker starts compiling the .wasm before this code is
 * even loaded). Without it, the variant reads and compiles its .wasm itself.
 */
export function useCompiledWasm(wasmModule: Promise<WebAssembly.Module>): void {
  setQuickJSVariant(newVariant(RELEASE_SYNC, { wasmModule: () => wasmModule }));
}
