// The Node build of kmodlab: the `kmodlab` command, the library entry and the isolated run worker, bundled ahead
// of time with Vite's SSR build (Rolldown) into lib/, so that the command starts without compiling TypeScript
// (bin/kmodlab.mjs imports lib/cli.mjs; `npm run kmodlab` still runs the sources under tsx for development).
//
// - Every output file sits flat in lib/: src/node/isolate.ts looks for isolate-worker.mjs next to the file that
//   contains it, whichever chunk that is.
// - Pure-JavaScript dependencies (commander, sucrase, marked, yaml, cli-progress, fflate)
//   are bundled in: resolving and loading sucrase's hundred CommonJS files cost more than a run.
// - Left outside: typescript (23 MB, loaded only by `kmodlab check`), quickjs-emscripten-core (the library's types
//   name it) and the QuickJS WebAssembly variant (it reads
//   its .wasm file next to itself). They are the package's runtime dependencies.
// - Commands stay behind dynamic import() in src/cli/main.ts, so each becomes a chunk loaded on use.
//
// Declarations for the library (lib/types/) come from tsc (tsconfig.lib.json), not from this file.

import { defineConfig } from "vite";
import { existsSync } from "node:fs";

const entries: Record<string, string> = {
  cli: "src/cli/main.ts",
  index: "src/index.ts",
};
// The isolated run worker (src/node/isolate.ts starts it), a separate entry by design.
if (existsSync("src/node/isolate-worker.ts")) entries["isolate-worker"] = "src/node/isolate-worker.ts";

export const RUNTIME_EXTERNALS = ["typescript", "quickjs-emscripten-core", "@jitl/quickjs-wasmfile-release-sync"];

export default defineConfig({
  // no public/ copying, no HTML: a library build for Node
  publicDir: false,
  logLevel: "warn",
  build: {
    ssr: true,
    outDir: process.env.KMODLAB_LIB_OUT ?? "lib",
    emptyOutDir: true,
    target: "node20",
    minify: false,
    sourcemap: false,
    reportCompressedSize: false,
    copyPublicDir: false,
    rolldownOptions: {
      input: entries,
      output: {
        format: "es",
        entryFileNames: "[name].mjs",
        chunkFileNames: "[name]-[hash].mjs",
      },
    },
  },
  ssr: {
    target: "node",
    noExternal: true,
    external: RUNTIME_EXTERNALS,
  },
});
