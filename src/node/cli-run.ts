// The `kmodlab run` fast path's code (issue 15): the whole command (src/cli/main.ts, the same parser, the same
// commands), the runner that owns the run worker (isolate.ts) and the one that runs the cell on the command's own
// thread (in-thread.ts), bundled by vite.node.config.ts into one CommonJS script, lib/cli-run.cjs, with
// no imports but Node's built-ins and the package's runtime dependencies. bin/kmodlab.cjs loads it for
// `kmodlab run ...` through code-cache.ts (vm.Script with a V8 code cache), instead of lib/cli.mjs and its chunks
// through Node's ES module loader, which Node 20 cannot give a code cache (measured on the 2-core VM: the main
// thread's CPU from the first statement to the run's start ~30 -> ~10 ms), and sets the in-thread runner as the
// process's shared runner (runInThisThread) before it calls main(). Every other command goes the ES module way
// (lib/cli.mjs): the bundle holds them too (the commands' import()s become lazily run parts of it), so that whatever
// `run ...` asks for (--help, a bad option) is answered by the same code.

import { join } from "node:path";
import { useSharedRunner } from "./isolate.ts";
import { InThreadRunner } from "./in-thread.ts";

export { main } from "../cli/main.ts";
export { adoptRunWorker, setRunWorkerV8Flags, warmIsolated } from "./isolate.ts";
/** For the tests (test/node/in-thread.test.ts): the runner with limits of their own. */
export { InThreadRunner };

/**
 * Runs from now on happen on this thread (in-thread.ts), with the sandbox from `libDir`/isolate-worker-code.cjs,
 * whose code cache is tagged with `v8Flags` (the V8 flags the caller set at run time: code-cache.ts cacheTag).
 */
export function runInThisThread(libDir: string, v8Flags: string): void {
  useSharedRunner(new InThreadRunner(join(libDir, "isolate-worker-code.cjs"), v8Flags));
}
