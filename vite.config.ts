/// <reference types="vitest/config" />
import { availableParallelism } from "node:os";
import { defineConfig } from "vite";
import { notebookServiceWorker } from "./src/notebook/sw-plugin.ts";
import { preloadDynamicEntry } from "./src/notebook/preload-plugin.ts";

export default defineConfig({
  base: "./",
  worker: { format: "es" },
  // the notebook: offline after the first load (emits sw.js listing the build's files)
  // the notebook's chunk, imported by the entry point after it started the run worker, is preloaded by index.html
  plugins: [notebookServiceWorker(), preloadDynamicEntry("src/notebook/main.ts")],
  build: {
    // Monaco's editor core and TypeScript worker are big by nature and load lazily; don't warn about them.
    chunkSizeWarningLimit: 8000,
  },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    environment: "node",
    testTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one worker fewer than the CPUs: one file at a time on the 2-core machines here and in CI,
    // where the suite's wall time reached 795 s of CI's 20 minutes. Test files are CPU-bound and the main process
    // mostly waits, so every core runs a file (no test asserts a time; the host watchdog cases have graces that hold
    // at a load of 2 per core).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
