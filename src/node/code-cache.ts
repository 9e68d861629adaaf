// Load a bundled CommonJS script with a V8 code cache, so that a new thread or process does not parse and compile
// the same code again. Node 20 has no compile cache for ES modules (module.enableCompileCache is Node 22), but
// vm.Script takes and makes V8 code caches: the isolated run worker (isolate-worker.ts) loads its whole sandbox
// this way, from lib/isolate-worker-code.cjs (src/node/worker-code.ts, bundled by vite.node.config.ts).
//
// The cache is made after the first run, not at compile time: script.createCachedData() then holds the bytecode of
// every function that run compiled (V8 compiles functions lazily, on their first call), so the next process skips
// most of the compiling, not only the top level's. Measured on `kmodlab run examples/memdemo.ts` in one thread:
// compiling the script 29 -> 7 ms, running its top level 23 -> 12 ms, loading the kernel 12 -> 2 ms, the run itself
// ~80 -> ~60 ms (bench/cli.bench.ts has the whole-process rows).
//
// Where: next to the script (FILE.v8-TAG.cache, cacheTag), or, when that folder is not writable (a package
// installed by another user), in the user's cache folder ($XDG_CACHE_HOME or ~/.cache, kmodlab/), named after the
// script's size and modification time. V8 checks a cache against its version, its flags and the source, and
// rejects one that does not match (cachedDataRejected): the script then compiles from source as without a cache,
// and the cache is made again. A cache is written to a temporary name and renamed into place, so concurrent
// writers (the workers of `kmodlab grade -j N`) never leave a torn file. Nothing here may fail a run: a cache that
// cannot be read or written is no cache.

import { Script } from "node:vm";
import { isAscii } from "node:buffer";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, unlinkSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";

/** How the script was compiled: from a cache V8 accepted, without one, or with one V8 refused. */
export type CacheState = "hit" | "miss" | "rejected";

export interface CachedScript<T> {
  exports: T;
  state: CacheState;
  /** Write the cache now, with everything compiled so far (when the state is not "hit"). Never throws. */
  save(): void;
}

/**
 * What a cache is made for besides the script: Node's version, the architecture and, when there are any, the V8
 * flags (the process's options, NODE_OPTIONS, and `v8Flags`, the ones set at run time: the run worker's), as a
 * short hash. V8 refuses a cache made under other flags, so the command and a library caller that sets none keep a
 * cache each instead of replacing each other's.
 */
export function cacheTag(v8Flags = ""): string {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? "", v8Flags].join(" ").trim();
  let tag = `${process.version}-${process.arch}`;
  if (flags) {
    let h = 0x811c9dc5; // FNV-1a, 32 bits
    for (let i = 0; i < flags.length; i++) h = Math.imul(h ^ flags.charCodeAt(i), 0x01000193) >>> 0;
    tag += `-${h.toString(16).padStart(8, "0")}`;
  }
  return tag;
}

/** The cache files tried, in order: next to the script, then in the user's cache folder. */
export function cachePaths(file: string, v8Flags = ""): string[] {
  const tag = cacheTag(v8Flags);
  const paths = [`${file}.v8-${tag}.cache`];
  try {
    const st = statSync(file);
    const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
    paths.push(join(base, "kmodlab", `${basename(file)}-${st.size}-${Math.round(st.mtimeMs)}.v8-${tag}.cache`));
  } catch {
    // no user cache folder: only the one next to the script
  }
  return paths;
}

function readCache(paths: string[]): Buffer | undefined {
  for (const p of paths) {
    try {
      return readFileSync(p);
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

function writeCache(paths: string[], data: Buffer): void {
  for (const p of paths) {
    const tmp = `${p}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    try {
      mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, data, { mode: 0o644 });
      renameSync(tmp, p);
      return;
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // never written
      }
    }
  }
}

/**
 * Compile and run the CommonJS script `file` (a bundle: its require() resolves from its own folder) with a code
 * cache; returns its module.exports. `v8Flags`: the V8 flags set at run time (setFlagsFromString), for cacheTag. The script may not use import() (Node 20 gives a vm.Script none without
 * --experimental-vm-modules): the build turns those into require() (vite.node.config.ts, dynamicImportInCjs).
 */
export function loadCachedScript<T>(file: string, useCache = true, v8Flags = ""): CachedScript<T> {
  // The build writes the script in ASCII (vite.node.config.ts, charset): read as Latin-1, it is a copy, and V8 keeps
  // it one byte a character. Decoding 1.5 MB as UTF-8 cost 5-20 ms more on the shared 2-core VM.
  const bytes = readFileSync(file);
  const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  const paths = useCache ? cachePaths(file, v8Flags) : [];
  const cachedData = useCache ? readCache(paths) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const state: CacheState = cachedData === undefined ? "miss" : script.cachedDataRejected ? "rejected" : "hit";
  const mod = { exports: {} as T };
  (script.runInThisContext() as (e: T, r: NodeJS.Require, m: { exports: T }, f: string, d: string) => void)(
    mod.exports,
    createRequire(file),
    mod,
    file,
    dirname(file),
  );
  let saved = state === "hit" || !useCache;
  return {
    exports: mod.exports,
    state,
    save() {
      if (saved) return;
      saved = true;
      try {
        writeCache(paths, script.createCachedData());
      } catch {
        // no cache this time
      }
    },
  };
}
