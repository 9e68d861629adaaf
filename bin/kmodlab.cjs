#!/usr/bin/env node
// Entry point of the `kmodlab` command: runs the JavaScript built ahead of time into lib/ (vite.node.config.ts),
// so a start costs no TypeScript compilation. CommonJS, so that `kmodlab run` starts its run worker in its first
// statement, before Node has started its ES module loader for lib/ (~10-15 ms; see the run worker below). `npm install` / `npm ci` build it (the "prepare" script); in a
// checkout of the repository (src/ beside lib/) a missing or stale build (a source newer than lib/cli.mjs) is
// rebuilt here on first use, so the command never runs old code. An installed package has no src/ and is never
// rebuilt. Development without building: `npm run kmodlab -- ARGS` (tsx over src/cli/main.ts).
// `kmodlab run ...` takes a faster way (runFast() at the end): the command from one CommonJS script with a V8 code
// cache (lib/cli-run.cjs); every other command, and `run` when that script is missing or stale, loads lib/cli.mjs.
"use strict";
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { availableParallelism, loadavg } = require("node:os");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const root = join(__dirname, "..");
const lib = join(root, "lib");
const entry = join(lib, "cli.mjs");

// V8 flags of the run workers (src/node/isolate.ts, lib/isolate.mjs), tuned for a command that runs one cell or a
// few:
// - --liftoff-only: QuickJS's WebAssembly on V8's baseline compiler (Liftoff) only, without tiering hot functions
//   up to TurboFan: tiering up QuickJS's interpreter loop cost more CPU and memory than it saved (measured in
//   bench/cli.bench.ts: memdemo in one process ~0.45 s -> ~0.30 s CPU, peak RSS ~104 -> ~75 MB; 30 runs of memdemo
//   in a row no slower, 30 runs of a loop-heavy cell ~14 % slower).
// - --interrupt-budget 8x V8's default (67584): the kernel's JavaScript is optimized by TurboFan after 8x as much
//   work, so a short run no longer pays for optimizing code it leaves soon after (4x, measured with hyperfine, 15-30
//   runs: memdemo 245 -> 208 ms CPU, 264 -> 249 ms wall; a cell of 800 kmalloc/kfree pairs 398 -> 280 ms CPU,
//   363 -> 334 ms wall). 4x -> 8x, interleaved runs on a loaded 2-core machine (load 11-16), median CPU: memdemo
//   284 -> 263 ms (the boot alone, in one thread: ~68 -> ~55 ms), 800 kmalloc/kfree pairs 385 -> 374 ms, 4,000
//   pairs 794 -> 736 ms; 16x was no better. Hot code is still optimized, later.
// - --semi-space-growth-factor=16 (V8's default 2): the booted machine (~10 MB of objects that all survive) is built
//   in a young generation that starts at 1 MB and only doubles at a scavenge, so each scavenge copied the machine
//   again (7 scavenges and a mark-compact per run); growing it 16x at once leaves 3 GCs in most runs (memdemo, two
//   sets of 20-30 interleaved runs on a loaded 2-core machine: median CPU 303 -> 268 and 287 -> 272 ms; wall within
//   that machine's noise; peak RSS 84 -> 90 MB).
// - --no-wasm-lazy-compilation, only while a core is idle (the 1-minute load average at most the cores minus one):
//   V8 then compiles QuickJS's whole .wasm on its background threads while the worker loads its code and boots,
//   instead of each function on the worker's own thread at its first call, in the middle of the run (QuickJS's
//   first context, the parse of the bridge's prelude and of the cell). Measured per thread (/proc/thread-self/
//   schedstat, medians of 15 runs): the worker's CPU up to the end of the run 151 -> 133 ms, the process's CPU
//   +4 to +11 ms (the functions no run calls are compiled too). That trade pays only with a core to spare: on a
//   loaded machine the extra CPU is wall time, so there the compilation stays lazy.
// Each worker sets them itself as it starts: set here, before the worker exists, they would cost the worker Node's
// startup snapshot (~25 ms more to start).
const RUN_WORKER_V8_FLAGS = ["--liftoff-only", "--interrupt-budget=540672", "--semi-space-growth-factor=16"];
// KMODLAB_WASM_EAGER=1 or 0 decides it instead of the load average (for measuring both).
const eagerWasm = process.env.KMODLAB_WASM_EAGER ? process.env.KMODLAB_WASM_EAGER === "1" : loadavg()[0] <= availableParallelism() - 1;
if (eagerWasm) RUN_WORKER_V8_FLAGS.push("--no-wasm-lazy-compilation");
// `run`'s fast path (runFast below: the one cell on this thread) takes the run workers' flags with two changes, measured
// on whole processes of `kmodlab run examples/memdemo.ts` (20 alternating rounds each, medians, the shared 2-core VM
// at load 16-19, so every figure is ~3x what an idle machine gives; V8 flags set on the command line instead cost
// `node -e 0` itself ~25 %):
// - --semi-space-growth-factor=4, not 16: a run that decodes its machine from the machine cache allocates a few MB,
//   not the ~10 MB a boot builds; growing the young generation 16x at its third scavenge (V8 commits the new
//   semi-spaces in that pause: 25-34 ms of pause against 3.5-5.5 of scavenging, --trace-gc-nvp) and then allocating
//   through 16 MB of fresh pages cost more than the scavenges it saves. CPU 308 -> 287 ms and 322 -> 293 (2 = V8's
//   default: 320, like 16); a cell of 400 kmalloc/kfree pairs 504 -> 463 ms, peak RSS 78 -> 74 MB.
// - --wasm-lazy-validation (with lazy compilation only): V8 validates each of QuickJS's functions when it compiles it,
//   not all 1,321 when the module is compiled (the .wasm is the package's own file; a function that does not
//   validate would still fail, at its first call instead). The module's compile 11-15 -> 7-9 ms of CPU; whole
//   process 287 -> 276 ms CPU.
// - Feedback vectors (and with them Sparkplug's baseline code, which V8 compiles in batches of functions that have
//   one) after 4x V8's budgets, and batches of 4x its size: most of the kernel's and the sandbox's functions run a few
//   times in one cell, and their feedback vectors and baseline code (~450 page faults of a run's ~8,600, perf record
//   -e page-faults) cost more than they paid back. Alternating whole processes (30 rounds, medians, the shared 2-core
//   VM at load 6-9): memdemo 260.5 -> 250.1 ms of CPU, 8,586 -> 8,269 faults; a cell of 4,000 kmalloc/kfree pairs
//   628.8 -> 619.4 ms (hot functions still tier up). Turning Sparkplug off altogether: memdemo -6 %, that cell +17 %.
const FAST_RUN_V8_FLAGS = [
  ...RUN_WORKER_V8_FLAGS.map((f) => (f.startsWith("--semi-space-growth-factor=") ? "--semi-space-growth-factor=4" : f)),
  "--interrupt-budget-for-feedback-allocation=3760",
  "--interrupt-budget-factor-for-feedback-allocation=32",
  "--baseline-batch-compilation-threshold=16384",
];
if (!eagerWasm) FAST_RUN_V8_FLAGS.push("--wasm-lazy-validation");

// `kmodlab run` the full way (KMODLAB_FAST_RUN=0, or no fast path): its worker starts here, first thing
// (lib/spawn-worker.cjs), and, when the arguments name none of
// the boot options, is told at once to boot the default machine: it loads the sandbox and boots while this thread
// starts the ES module loader, checks the build, loads the command and parses the arguments. The command's runner
// then takes this worker (lib/isolate.mjs adoptRunWorker), with what it said meanwhile, and sends it the run; a
// machine booted ahead is used only by a run that asks for that same machine (src/node/isolate-worker.ts).
// Measured on the shared 2-core VM with a prototype of this entry (timeline marks, medians of 15 interleaved runs of
// memdemo at load ~3): the worker spawned 76.4 instead of 89.6 ms after the process started (from lib/isolate.mjs,
// after the ES module loader), the run ended 250 instead of 265 ms after it. At load ~9-10 both end alike (median
// ~480 ms): with no idle core the start is CPU-bound (~220 ms of CPU, user + system, against ~62 for `node -e 0`).
// (lib/ may be an older build here, its API another: the start is best effort, the stale check settles it.)
let early;
function spawnEarly() {
  try {
    const spawn = require(join(lib, "spawn-worker.cjs"));
    early = spawn.spawnRunWorker({
      entry: join(lib, "isolate-worker.cjs"),
      workerData: {},
      v8Flags: RUN_WORKER_V8_FLAGS,
      heapMb: spawn.DEFAULT_RUN_HEAP_MB,
    });
    const machine = spawn.defaultRunMachine(process.argv.slice(3));
    if (machine) early.worker.postMessage({ type: "boot", ...machine });
  } catch {
    early = undefined; // no build yet, or another start is swapping a new one in: the command starts its worker itself
  }
}
// the fast path (runFast() below) runs the cell on this thread: no worker
const fastRun = process.argv[2] === "run" && process.env.KMODLAB_FAST_RUN !== "0";
if (process.argv[2] === "run" && !fastRun) spawnEarly();

/**
 * The newest modification time under the build's inputs (files and directories, so a deletion counts too). Paths
 * joined by hand, not path.join (whose normalising made this walk of ~240 entries 7-25 ms instead of ~3 ms at the
 * start of a process; "/" is a separator on Windows too).
 */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    newest = Math.max(newest, statSync(dir).mtimeMs);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = dir + "/" + e.name;
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mjs|js|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(root + "/src");
  walk(root + "/sandbox");
  for (const f of ["package.json", "vite.node.config.ts"]) newest = Math.max(newest, statSync(root + "/" + f).mtimeMs);
  return newest;
}

let staleness;
/** Is lib/ missing or older than a source (a checkout only)? Asked once a process, the first time it matters. */
function stale() {
  if (staleness === undefined) {
    if (!existsSync(join(root, "src")) || !existsSync(join(root, "vite.node.config.ts")))
      staleness = false; // installed package
    else {
      try {
        staleness = newestSource() > statSync(entry).mtimeMs;
      } catch {
        staleness = true; // no build yet, or another start is swapping a new one in
      }
    }
  }
  return staleness;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Whether the process that holds the build lock is gone (its pid file names no live process). */
function builderGone(lock) {
  let pid;
  try {
    pid = Number(readFileSync(join(lock, "pid"), "utf8"));
  } catch {
    // no pid file yet: the builder is between mkdir and write, unless the lock is old (a builder from before pid files)
    try {
      return Date.now() - statSync(lock).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === "ESRCH";
  }
}

/** Build lib/ into a fresh directory and swap it in; one builder at a time (the others wait for it). */
async function build() {
  const lock = join(root, "lib.building");
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch {
      // a builder that died (Ctrl+C during the build kills it before it removes the lock): its pid is gone
      if (waited > 120_000 || builderGone(lock)) rmSync(lock, { recursive: true, force: true });
      else if (waited === 1000) process.stderr.write("kmodlab: waiting for another kmodlab to finish building lib/...\n");
      sleep(200);
      if (!stale()) return; // the other builder finished
    }
  }
  try {
    if (!stale()) return;
    const tmp = join(root, `lib.tmp-${process.pid}`);
    process.stderr.write("kmodlab: building the command (lib/), once after each change of the sources...\n");
    const { spawnSync } = require("node:child_process");
    const r = spawnSync(process.execPath, [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "vite.node.config.ts"], {
      cwd: root,
      env: { ...process.env, KMODLAB_LIB_OUT: tmp },
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (r.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      process.stderr.write("kmodlab: the build failed (npm run build:node shows why); `npm run kmodlab -- ARGS` runs the sources\n");
      process.exit(70);
    }
    const old = join(root, `lib.old-${process.pid}-${Date.now()}`);
    if (existsSync(lib)) renameSync(lib, old);
    renameSync(tmp, lib);
    // a command started from the old build may still import its chunks: old builds go after ten minutes
    for (const d of readdirSync(root)) {
      const p = join(root, d);
      if (/^lib\.old-/.test(d) && p !== old && Date.now() - statSync(p).mtimeMs > 600_000) rmSync(p, { recursive: true, force: true });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// `kmodlab profiles | head -1`: a reader that went away is not an error
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e) => (e.code === "EPIPE" ? process.exit(process.exitCode ?? 0) : Promise.reject(e)));

/** Import lib/NAME; once more after a moment if another start was swapping a new build in. */
async function load(name) {
  const url = pathToFileURL(join(lib, name)).href;
  try {
    return await import(url);
  } catch (e) {
    if (e?.code !== "ERR_MODULE_NOT_FOUND") throw e;
    sleep(500);
    return import(`${url}?retry`);
  }
}

async function start() {
  // (lib/ may be an older build here, its API another: the start is best effort, the stale check settles it.)
  const isolateLoaded = existsSync(join(lib, "isolate.mjs"));
  if (isolateLoaded) {
    try {
      const isolate = await load("isolate.mjs");
      isolate.setRunWorkerV8Flags?.(RUN_WORKER_V8_FLAGS);
      if (early && isolate.adoptRunWorker?.(early)) early = undefined; // (it terminates one it would not have started)
      if (process.argv[2] === "run") isolate.warmIsolated?.(); // the worker taken above, or a new one
    } catch {
      // a build being replaced: the stale check below rebuilds it, or the command loads it as it is
    }
  }
  if (early) void early.worker.terminate(); // a worker nobody took
  if (stale()) {
    await build();
    staleness = false;
    if (isolateLoaded) {
      // this process holds the old build's modules: the new one runs in a new process
      const { spawnSync } = require("node:child_process");
      const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
      if (r.signal) process.kill(process.pid, r.signal);
      process.exit(r.status ?? 70);
    }
  }
  const cli = await load("cli.mjs");
  if (!isolateLoaded) (await load("isolate.mjs")).setRunWorkerV8Flags(RUN_WORKER_V8_FLAGS);
  const { main } = cli;
  process.exitCode = await main(process.argv.slice(2));
}

/**
 * `kmodlab run ...` from lib/cli-run.cjs (src/node/cli-run.ts): the same command (main.ts's parser, help, errors and
 * exit codes; only the other commands' code left out), one CommonJS script compiled with a V8 code cache
 * (lib/code-cache.cjs, src/node/code-cache.ts) instead of lib/cli.mjs and its chunks through Node's ES module
 * loader, which Node 20 gives no code cache. Its run happens on this thread (src/node/in-thread.ts: the sandbox from
 * lib/isolate-worker-code.cjs, under a watchdog of Node's own, vm's timeout), with FAST_RUN_V8_FLAGS (the run workers' but two), set here
 * before anything is compiled (the code caches are made under them). Taken only when the first argument is `run`
 * (commander then calls no other command's action) and lib/ is current and has the files; anything else, or a
 * script that fails to load, goes the ES module way (start()) with an isolated run worker. KMODLAB_FAST_RUN=0 turns
 * it off (tests compare both ways).
 * Measured and left (whole processes, alternating, the shared 2-core VM at load 13-20):
 * - Node 20's user-land startup snapshot (`node --snapshot-blob B --build-snapshot`) holding both scripts and the
 *   kernel's modules: it works (same output; Script objects made at load had to go), but a 7.7 MB blob took ~150 ms
 *   of CPU to start against ~55 for `node -e 0`, more than the code caches it replaces (the whole run 488-521 against
 *   448 ms of CPU), and it needs `--snapshot-blob` on Node's command line (a second process, or a shell script for
 *   the bin) and the very Node binary that built it (another one exits at once).
 * - Reading the sandbox's script and code cache ahead on libuv's threads while this thread loads the command: the
 *   main thread's CPU the same (250.9 against 250.3 ms), the process's 18 ms more.
 */
function runFast() {
  if (!fastRun) return false;
  let code;
  try {
    if (stale()) return false;
    const file = join(lib, "cli-run.cjs");
    const { loadCachedScript } = require(join(lib, "code-cache.cjs"));
    const { setFlagsFromString } = require("node:v8");
    for (const f of FAST_RUN_V8_FLAGS) setFlagsFromString(f);
    code = loadCachedScript(file, process.env.KMODLAB_CODE_CACHE !== "0", FAST_RUN_V8_FLAGS.join(" "));
    if (typeof code.exports.runInThisThread !== "function") return false; // an older build
  } catch {
    return false; // an older build without these files, or one being swapped: the ES module way
  }
  const cli = code.exports;
  cli.setRunWorkerV8Flags(RUN_WORKER_V8_FLAGS);
  cli.runInThisThread(lib, FAST_RUN_V8_FLAGS.join(" "));
  void cli.main(process.argv.slice(2)).then((status) => {
    process.exitCode = status;
    code.save("run"); // the first time: the cache then holds what this command compiled
    // The command has written everything and left nothing running: it leaves at once, without Node's teardown of its
    // environment and heap (the ~70 MB the run built; ~3 ms of CPU, alternating with the natural exit). Not while
    // stdout or stderr still hold data (a pipe whose reader is behind, a Windows pipe): those end the natural way.
    if (!process.stdout.writableLength && !process.stderr.writableLength) process.exit(status);
  });
  return true;
}

if (!runFast()) {
  if (fastRun) spawnEarly(); // (after V8 flags were set, if they were: that worker then starts without Node's snapshot)
  void start();
}
