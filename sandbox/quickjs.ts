// The QuickJS WebAssembly module: one per process (or Web Worker), loaded once and reused by every run.
// A fresh runtime + context per run is cheap (about 0.3 ms); the module itself is not (about 10 ms), so it is
// shared. After a WebAssembly abort, a host-side RangeError or a failed dispose, the module's linear memory
// may be corrupt: it is dropped and the next run loads a new one (stack-notes §1.7, §2).
// Browser and Node alike: no Node-only imports here.

import { newQuickJSWASMModuleFromVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import RELEASE_SYNC from "@jitl/quickjs-wasmfile-release-sync";

let loading: Promise<QuickJSWASMModule> | undefined;
let loaded: QuickJSWASMModule | undefined;
let generation = 0;

/** WASM linear memory never shrinks: past this high-water mark the module is recycled between runs. */
export const MODULE_RECYCLE_BYTES = 256 << 20;

/** The shared module, loading it on first use (or after it was poisoned). */
export function loadQuickJS(): Promise<QuickJSWASMModule> {
  if (!loading) {
    const gen = generation;
    loading = newQuickJSWASMModuleFromVariant(RELEASE_SYNC).then(
      (m) => {
        if (gen === generation) loaded = m;
        return m;
      },
      (e) => {
        loading = undefined;
        throw e;
      },
    );
  }
  return loading;
}

/** The module if it is loaded and healthy (for synchronous callers that awaited loadQuickJS before). */
export function loadedQuickJS(): QuickJSWASMModule | undefined {
  return loaded;
}

/** Forget the module: the next loadQuickJS() loads a fresh one. Called after anything that may have corrupted it. */
export function poisonQuickJS(): void {
  generation++;
  loading = undefined;
  loaded = undefined;
}

/** How many times the module was thrown away (tests and stats read it). */
export function quickJSGeneration(): number {
  return generation;
}

/** True for host-side errors that mean the WASM module can no longer be trusted. */
export function isPoisoningError(e: unknown): boolean {
  if (e instanceof RangeError) return true; // host stack overflow inside the wasm
  if (typeof WebAssembly !== "undefined" && e instanceof WebAssembly.RuntimeError) return true;
  const msg = e instanceof Error ? e.message : String(e);
  return /Aborted\(|unreachable|memory access out of bounds|list_empty/.test(msg);
}
