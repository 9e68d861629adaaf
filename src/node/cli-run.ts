// The `kmodlab run` fast path's code (issue 15): the whole command (src/cli/main.ts, the same parser, the same
// commands) and the runner that owns the run worker (isolate.ts), bundled by vite.node.config.ts into one CommonJS
// script, lib/cli-run.cjs, with no imports but Node's built-ins and the package's runtime dependencies.
// bin/kmodlab.cjs loads it for `kmodlab run ...` through code-cache.ts (vm.Script with a V8 code cache), instead of
// lib/cli.mjs and its chunks through Node's ES module loader, which Node 20 cannot give a code cache (measured on the
// 2-core VM: the main thread's CPU from the first statement to the run's start ~30 -> ~10 ms). Every other command
// goes the ES module way (lib/cli.mjs): the bundle holds them too (the commands' import()s become lazily run parts of
// it), so that whatever `run ...` asks for (--help, a bad option) is answered by the same code.

export { main } from "../cli/main.ts";
export { adoptRunWorker, setRunWorkerV8Flags, warmIsolated } from "./isolate.ts";
