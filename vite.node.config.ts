// The Node build of kmodlab: the `kmodlab` command, the library entry and the isolated run worker, bundled ahead
// of time with Vite's SSR build (Rolldown) into lib/, so that the command starts without compiling TypeScript
// (bin/kmodlab.cjs imports lib/cli.mjs; `npm run kmodlab` still runs the sources under tsx for development).
//
// - Every output file sits flat in lib/: src/node/isolate.ts looks for the worker's entry (isolate-worker.cjs)
//   next to the file that contains it, whichever chunk that is.
// - Pure-JavaScript dependencies (commander, sucrase, marked, yaml, cli-progress, fflate)
//   are bundled in: resolving and loading sucrase's hundred CommonJS files cost more than a run.
// - Left outside: typescript (23 MB, loaded only by `kmodlab check`), quickjs-emscripten-core (the library's types
//   name it) and the QuickJS WebAssembly variant (it reads
//   its .wasm file next to itself). They are the package's runtime dependencies.
// - Commands stay behind dynamic import() in src/cli/main.ts, so each becomes a chunk loaded on use.
// - src/node/isolate.ts is an entry too (lib/isolate.mjs): bin/kmodlab.cjs imports it to hand `run`'s worker to
//   it before it loads the rest of the command.
//
// The isolated run worker is built apart, by the plugin below, as CommonJS files, each one bundle:
// - lib/isolate-worker.cjs (src/node/isolate-worker.ts): the worker's entry. A worker whose entry is CommonJS
//   starts without Node's ES module loader (measured: ~35 against ~65 ms to its first line on the loaded 2-core VM).
// - lib/isolate-worker-code.cjs (src/node/worker-code.ts): the sandbox, the kernel and QuickJS's JavaScript glue
//   (quickjs-emscripten-core included), one script without imports that the worker compiles with a V8 code cache
//   (src/node/code-cache.ts), which Node 20 cannot do for ES modules. Only the QuickJS .wasm stays in its package:
//   the worker reads and compiles it.
// - lib/cell-compiler.cjs (src/node/cell-compiler.ts): the cell's compiler (sucrase), which the sandbox's script loads
//   with a code cache of its own only for a cell the disk cache of compiled cells lacks (src/node/cell-cache.ts,
//   cellCompilerApart below).
// - lib/spawn-worker.cjs (src/node/spawn-worker.ts): what starts that worker, for bin/kmodlab.cjs to require in its
//   first statement (a CommonJS file needs no ES module loader, whose start takes ~10-15 ms).
// - lib/cli-run.cjs (src/node/cli-run.ts): the command for `kmodlab run ...`, one script that bin/kmodlab.cjs compiles
//   with a V8 code cache through lib/code-cache.cjs (src/node/code-cache.ts); the other commands' code is left out of
//   it (onlyTheRunCommand below). It runs the cell on the command's own thread (src/node/in-thread.ts), loading
//   lib/isolate-worker-code.cjs itself.

// Declarations for the library (types/, outside lib/, which this build empties) come from tsc (tsconfig.lib.json), not from this file.

import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, defineConfig, type Plugin } from "vite";
import { WRAP_HEAD, WRAP_TAIL } from "./src/node/code-cache.ts";

/**
 * This build's identity, compiled into the run worker's code: the disk cache of booted machines
 * (src/node/boot-cache.ts) keys its files by it, so a machine stored by one build is never read by another (a file's
 * size and time would not do: npm pack gives every file the same time).
 */
const BUILD_ID = randomUUID();

const entries: Record<string, string> = {
  cli: "src/cli/main.ts",
  index: "src/index.ts",
  isolate: "src/node/isolate.ts",
};

export const RUNTIME_EXTERNALS = ["typescript", "quickjs-emscripten-core", "@jitl/quickjs-wasmfile-release-sync"];

const outDir = process.env.KMODLAB_LIB_OUT ?? "lib";

/**
 * sucrase in one copy: its package's main entry resolves to its ES build (dist/esm/) and the parser's deep imports
 * (sandbox/transpile.ts, sandbox/kthread_transform.ts) to its CommonJS build (dist/), so a bundle held the tokenizer
 * and the parser twice (~280 KB more for the run worker's code cache to load, and a second copy to warm up at each
 * start). Here the deep imports take the ES build too: the same version's modules, the same exports.
 */
const SUCRASE_ESM = [{ find: /^sucrase\/dist\/(?!esm\/)(.*)$/, replacement: "sucrase/dist/esm/$1" }];

/**
 * lib/cli-run.cjs holds src/cli/main.ts whole (its parser, its help and errors), but of the commands behind main.ts's
 * import()s only `run`'s: bin/kmodlab.cjs loads it for `kmodlab run ...` alone, where commander calls no other
 * command's action. The others' modules (the grader, the sandbox, QuickJS's glue, the lesson tools) would make the
 * script ~2.1 MB, with quickjs-emscripten-core required at its top. Each is replaced here by a module with the same
 * export names whose functions throw: reached, it would say so (main.ts reports it as an internal error).
 */
function onlyTheRunCommand(): Plugin {
  /** The import()s `kmodlab run` never takes: main.ts's of every other command; the grader's of the sandbox (grade()). */
  const UNREACHED: [RegExp, (specifier: string) => boolean][] = [
    [/[\\/]src[\\/]cli[\\/]main\.ts$/, (s) => s !== "./run.ts"],
    [/[\\/]src[\\/]grader[\\/]grade\.ts$/, (s) => s === "../../sandbox/run.ts"],
  ];
  const PREFIX = "\0kmodlab-not-in-cli-run:";
  return {
    name: "kmodlab-only-the-run-command",
    enforce: "pre",
    async resolveId(source, importer, options) {
      if (!importer || options.kind !== "dynamic-import" || !UNREACHED.some(([from, to]) => from.test(importer) && to(source))) return null;
      const resolved = await this.resolve(source, importer, { skipSelf: true });
      return resolved && PREFIX + resolved.id;
    },
    load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const file = id.slice(PREFIX.length);
      const names = [...readFileSync(file, "utf8").matchAll(/^export (?:async )?(?:function\*?|class|const|let) ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!);
      const body = names.map(
        (n) =>
          `export function ${n}() { throw new Error(${JSON.stringify(`${n} (${file.replace(/.*[\\/]src[\\/]/, "src/")}) is not in lib/cli-run.cjs: bin/kmodlab.cjs loads it for \`kmodlab run\` only`)}); }`,
      );
      return body.join("\n") + "\n";
    },
  };
}

/**
 * commander requires node:child_process at its top, for the executable subcommands kmodlab has none of: Node's startup
 * snapshot does not hold it, and loading it (with net, dgram, streams) cost `kmodlab run` ~10 ms of its start (CPU
 * profile of the fast path, Node 20). Here commander gets it on first use instead, the same module.
 */
function lazyChildProcessInCommander(): Plugin {
  const REQUIRE = "const childProcess = require('node:child_process');";
  return {
    name: "kmodlab-lazy-child-process-in-commander",
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/.test(id)) return null;
      if (!code.includes(REQUIRE)) this.error(`commander's ${id} no longer holds \`${REQUIRE}\`: see lazyChildProcessInCommander`);
      const lazy = "const childProcess = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });";
      return { code: code.replace(REQUIRE, lazy), map: null };
    },
  };
}

/**
 * lib/isolate-worker-code.cjs without the cell's compiler: sandbox/run.ts's import of sandbox/transpile.ts takes
 * src/node/cell-cache.ts instead (the same names; the compiler, lib/cell-compiler.cjs, loaded on a cell the disk cache
 * of compiled cells lacks), so sucrase (~24 % of the script) is neither read nor deserialized by a run of a cell
 * compiled before. The other importers of transpile.ts in the sandbox take only what needs no sucrase.
 */
function cellCompilerApart(): Plugin {
  let taken = false;
  return {
    name: "kmodlab-cell-compiler-apart",
    enforce: "pre",
    resolveId(source, importer) {
      if (!importer || source !== "./transpile.ts" || !/[\\/]sandbox[\\/]run\.ts$/.test(importer)) return null;
      taken = true;
      return join(import.meta.dirname, "src", "node", "cell-cache.ts");
    },
    buildEnd() {
      if (!taken) this.error("sandbox/run.ts no longer imports ./transpile.ts: see cellCompilerApart");
    },
  };
}

/** After the main build: the worker's CommonJS files (see the header). */
function workerScripts(): Plugin {
  return {
    name: "kmodlab-worker-scripts",
    apply: "build",
    async closeBundle() {
      for (const [name, input, external] of [
        ["isolate-worker", "src/node/isolate-worker.ts", []],
        ["isolate-worker-code", "src/node/worker-code.ts", []],
        ["cell-compiler", "src/node/cell-compiler.ts", []],
        ["spawn-worker", "src/node/spawn-worker.ts", []],
        ["code-cache", "src/node/code-cache.ts", []],
        ["cli-run", "src/node/cli-run.ts", RUNTIME_EXTERNALS],
      ] as const) {
        await build({
          configFile: false,
          publicDir: false,
          logLevel: "warn",
          plugins: name === "cli-run" ? [onlyTheRunCommand(), lazyChildProcessInCommander()] : name === "isolate-worker-code" ? [cellCompilerApart()] : [],
          build: {
            ssr: true,
            outDir,
            emptyOutDir: false,
            target: "node20",
            minify: false,
            sourcemap: false,
            reportCompressedSize: false,
            copyPublicDir: false,
            rolldownOptions: {
              input: { [name]: input },
              // sucrase declares no sideEffects: its enums' modules (TokenType, ContextualKeyword...) would stay in the
              // sandbox's script for the light names it takes from sandbox/transpile.ts (cellCompilerApart), unused
              ...(name === "isolate-worker-code" && { treeshake: { moduleSideEffects: (id: string) => !/[\\/]node_modules[\\/]sucrase[\\/]/.test(id) } }),
              // dynamicImportInCjs: import() of Node built-ins becomes require(): a script compiled by vm.Script may not import()
              output: {
                // whitespace and comments out (no renaming, no rewriting): the two scripts a `kmodlab run` compiles are
                // ~18 % smaller to read and to hold as strings (isolate-worker-code 1.65 -> 1.35 MB)
                minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
                format: "cjs",
                entryFileNames: "[name].cjs",
                codeSplitting: false,
                dynamicImportInCjs: false,
                charset: "ascii",
                comments: { legal: true, annotation: false, jsdoc: false },
              },
            },
          },
          ssr: { target: "node", noExternal: true, external: [...external] },
          resolve: { alias: SUCRASE_ESM },
          define: { __KMODLAB_BUILD_ID__: JSON.stringify(BUILD_ID) },
        });
        // the two scripts code-cache.ts loads (the sandbox's and `kmodlab run`'s) inside the function it compiles a
        // script in: the loader then compiles the file's text as it is, not a concatenation V8 flattens into one more
        // copy (1.4 MB and 0.35 MB; ~85 page faults a run for cli-run alone). Written here, not as Rolldown's banner
        // and footer (with them the output came out empty). Neither is for require() (test fixtures load cli-run.cjs
        // through lib/code-cache.cjs too).
        if (name === "isolate-worker-code" || name === "cli-run" || name === "cell-compiler") {
          const file = join(outDir, `${name}.cjs`);
          writeFileSync(file, WRAP_HEAD + readFileSync(file, "latin1") + WRAP_TAIL, "latin1");
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [workerScripts(), lazyChildProcessInCommander()],
  // no public/ copying, no HTML: a library build for Node
  publicDir: false,
  logLevel: "warn",
  build: {
    ssr: true,
    outDir,
    emptyOutDir: true,
    target: "node20",
    minify: false,
    sourcemap: false,
    reportCompressedSize: false,
    copyPublicDir: false,
    rolldownOptions: {
      input: entries,
      // the plugin's closeBundle is the worker's two builds: Rolldown's note that it took long is no news
      checks: { bundlerTimings: false },
      output: {
        format: "es",
        entryFileNames: "[name].mjs",
        chunkFileNames: "[name]-[hash].mjs",
      },
    },
  },
  resolve: { alias: SUCRASE_ESM },
  ssr: {
    target: "node",
    noExternal: true,
    external: RUNTIME_EXTERNALS,
  },
});
