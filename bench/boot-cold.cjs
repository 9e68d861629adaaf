// One boot on a cold JIT, as `kmodlab run` pays it: in a fresh process, the run worker's built code
// (lib/isolate-worker-code.cjs) loaded with its V8 code cache, under the run worker's V8 flags (bin/kmodlab.cjs
// RUN_WORKER_V8_FLAGS, lazy wasm), then one boot() timed. Prints the boot's milliseconds.
//
//   npm run build:node && KMODLAB_WASM_EAGER=0 node bin/kmodlab.cjs run examples/memdemo.ts   # builds the cache
//   for i in $(seq 21); do node bench/boot-cold.cjs [profile] [config]; done | sort -n           # then the median
//
// LIBDIR=another/lib compares another build (alternate the two, on this shared machine). A code cache V8 rejects
// (another Node, other flags) is said on stderr: the figure is then not a cold start's.
"use strict";
const { readFileSync, readdirSync } = require("node:fs");
const { join } = require("node:path");
const { createRequire } = require("node:module");
const { setFlagsFromString } = require("node:v8");
const vm = require("node:vm");

for (const f of ["--liftoff-only", "--interrupt-budget=540672", "--semi-space-growth-factor=16"]) setFlagsFromString(f);
const dir = process.env.LIBDIR ?? join(__dirname, "..", "lib");
const file = join(dir, "isolate-worker-code.cjs");
const bytes = readFileSync(file);
const source = require("node:buffer").isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
const cacheName = readdirSync(dir).find((f) => f.startsWith("isolate-worker-code.cjs.v8-") && f.endsWith(".cache"));
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData: cacheName ? readFileSync(join(dir, cacheName)) : undefined,
});
if (!cacheName) console.error("no code cache in", dir);
else if (script.cachedDataRejected) console.error("code cache rejected:", cacheName);
const mod = { exports: {} };
script.runInThisContext()(mod.exports, createRequire(file), mod, file, dir);
mod.exports.loadKernelDeps().then((deps) => {
  const profile = process.argv[2] ?? "x86_64-6.1";
  const opts = process.argv[3] ? { config: process.argv[3] } : {};
  const t0 = performance.now();
  deps.boot(profile, opts);
  console.log((performance.now() - t0).toFixed(2));
});
