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
// What it covers: V8 compiles a function lazily, and a cache holds only the functions compiled before it was made.
// A caller names the path each process took (save("decode"), save("boot")): a process that took a path the cache
// was not made on writes it again, with what it loaded from the old one and what it compiled itself (the run
// worker's first run of a build boots its machine, the runs after it decode it from the disk cache of machines,
// boot-cache.ts: the cache then comes to hold both, after the second and third run of a build at most).
//
// Where: next to the script (FILE.v8-TAG.cache, cacheTag), or, when that folder is not writable (a package
// installed by another user), in the user's cache folder ($XDG_CACHE_HOME or ~/.cache, kmodlab/), named after the
// build. A file is a magic line, a JSON header and V8's bytes; the header holds the build's identity (compiled in by
// vite.node.config.ts), Node's version, the architecture, the tag, the script's length, the bytes' length and
// CRC-32, and the paths the cache covers. A file whose header does not match, whose bytes do not check out (V8 itself
// checks only its version, its flags and the source's length, and runs corrupt bytecode: measured on Node 20) or
// that V8 refuses (cachedDataRejected) is no cache: the script compiles from source, and the cache is made again. A
// cache is written to a temporary name and renamed into place, so concurrent writers (the workers of
// `kmodlab grade -j N`) never leave a torn file. Nothing here may fail a run: a cache that cannot be read or written
// is no cache.

import { Script } from "node:vm";
import { isAscii } from "node:buffer";
import { createRequire } from "node:module";
import { mkdirSync, renameSync, statSync, writeFileSync, unlinkSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { readTransient } from "./scratch.ts";

/**
 * zlib's CRC-32, loaded on first use: node:zlib required at the top of the run worker's entry, before the worker has
 * set its V8 flags, made V8 size the worker's young generation otherwise and add a full mark-compact to every run
 * (--trace-gc, 5 runs of 5; measured in the run worker: ~10-15 ms more CPU on V8's threads).
 */
function crc32(data: Buffer): number {
  return (process.getBuiltinModule("node:zlib") as typeof import("node:zlib")).crc32(data);
}

/** How the script was compiled: from a cache V8 accepted, without one, or with one V8 (or its header) refused. */
export type CacheState = "hit" | "miss" | "rejected";

export interface CachedScript<T> {
  exports: T;
  state: CacheState;
  /** The paths the cache it was compiled from covers (save()'s `path`s); none without one. */
  covers: readonly string[];
  /**
   * Write the cache now, with everything compiled so far, if this process compiled without one or took `path`, a
   * path the cache it loaded was not made on. Never throws.
   */
  save(path?: string): void;
}

declare const __KMODLAB_BUILD_ID__: string | undefined;
/** The build's identity (vite.node.config.ts defines it in the CommonJS bundles); undefined in the sources. */
const BUILD_ID = typeof __KMODLAB_BUILD_ID__ === "string" ? __KMODLAB_BUILD_ID__ : undefined;

const MAGIC = "kmodlab v8 code cache\n";

interface Header {
  build: string;
  node: string;
  arch: string;
  tag: string;
  /** The script's length in bytes. */
  script: number;
  /** V8's bytes: length and CRC-32. */
  length: number;
  crc: number;
  covers: string[];
}

/** 32-bit FNV-1a of a string, as 8 hex digits (file names). */
function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/**
 * What a cache is made for besides the script: Node's version, the architecture and, when there are any, the V8
 * flags (the process's options, NODE_OPTIONS, and `v8Flags`, the ones set at run time: the run worker's), as a
 * short hash. V8 refuses a cache made under other flags, so the command and a library caller that sets none keep a
 * cache each instead of replacing each other's.
 */
export function cacheTag(v8Flags = ""): string {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? "", v8Flags].join(" ").trim();
  return `${process.version}-${process.arch}${flags ? `-${fnv(flags)}` : ""}`;
}

/**
 * The build a script belongs to: the identity compiled into the bundles, or, for a script built without one (the
 * tests' scripts), its size and modification time.
 */
function buildOf(file: string, build: string | undefined): string {
  if (build !== undefined) return build;
  try {
    const st = statSync(file);
    return `${st.size}-${Math.round(st.mtimeMs)}`;
  } catch {
    return "unknown";
  }
}

/** The cache files tried, in order: next to the script, then in the user's cache folder (named after the build). */
export function cachePaths(file: string, v8Flags = "", build: string | undefined = BUILD_ID): string[] {
  const tag = cacheTag(v8Flags);
  const paths = [`${file}.v8-${tag}.cache`];
  try {
    const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
    paths.push(join(base, "kmodlab", `${basename(file)}-${fnv(buildOf(file, build))}.v8-${tag}.cache`));
  } catch {
    // no user cache folder: only the one next to the script
  }
  return paths;
}

/** The first cache file that is there, parsed: V8's bytes and the header, or a header that does not check out. */
function readCache(paths: string[], want: Omit<Header, "length" | "crc" | "covers">): { data: Buffer; covers: string[] } | "bad" | undefined {
  for (const p of paths) {
    let bytes: Buffer;
    try {
      bytes = readTransient(p); // (read by the compile, then no longer: scratch.ts)
    } catch {
      continue; // not there: try the next
    }
    return parse(bytes, want) ?? "bad";
  }
  return undefined;
}

/** V8's bytes of a cache file and the paths it covers, when its header matches `want` and the bytes check out. */
export function parse(bytes: Buffer, want: Omit<Header, "length" | "crc" | "covers">): { data: Buffer; covers: string[] } | undefined {
  try {
    if (bytes.toString("latin1", 0, MAGIC.length) !== MAGIC) return undefined;
    const nl = bytes.indexOf(10, MAGIC.length);
    if (nl < 0) return undefined;
    const h = JSON.parse(bytes.toString("utf8", MAGIC.length, nl)) as Partial<Header>;
    for (const k of ["build", "node", "arch", "tag", "script"] as const) if (h[k] !== want[k]) return undefined;
    const data = bytes.subarray(nl + 1);
    if (data.length !== h.length || crc32(data) !== h.crc || !Array.isArray(h.covers)) return undefined;
    return { data, covers: h.covers.filter((c) => typeof c === "string") };
  } catch {
    return undefined;
  }
}

/**
 * The bytes of a cache file: magic, header, V8's bytes. The header line is padded with spaces to a multiple of 8
 * bytes, so that V8's bytes, read into scratch.ts's page-aligned buffer, start 8-byte aligned: V8 copies a code cache
 * that is not pointer-aligned before it deserializes it (AlignedCachedData), which for the sandbox's 1.4 MB cache was
 * ~380 of a `kmodlab run`'s page faults (perf record -e page-faults).
 */
export function format(data: Buffer, header: Omit<Header, "length" | "crc">): Buffer {
  const h: Header = { ...header, length: data.length, crc: crc32(data) };
  const line = MAGIC + JSON.stringify(h);
  const pad = (8 - ((Buffer.byteLength(line, "utf8") + 1) % 8)) % 8;
  return Buffer.concat([Buffer.from(line + " ".repeat(pad) + "\n", "utf8"), data]);
}

function writeCache(paths: string[], bytes: Buffer): void {
  for (const p of paths) {
    const tmp = `${p}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    try {
      mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, bytes, { mode: 0o644 });
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
 * The function a script is compiled in (its CommonJS module scope). A bundle the build wrote inside it already
 * (vite.node.config.ts: the sandbox's script, lib/isolate-worker-code.cjs) is compiled as it is: adding the wrapper
 * copies the whole text once more (1.6 MB, ~400 pages of the process's memory touched).
 */
export const WRAP_HEAD = "(function (exports, require, module, __filename, __dirname) {";
export const WRAP_TAIL = "\n})";

/**
 * Compile and run the CommonJS script `file` (a bundle: its require() resolves from its own folder) with a code
 * cache; returns its module.exports. `v8Flags`: the V8 flags set at run time (setFlagsFromString), for cacheTag.
 * `build`: the script's build (default: the one compiled into this code; a cache of another is not read). The script
 * may not use import() (Node 20 gives a vm.Script none without --experimental-vm-modules): the build turns those
 * into require() (vite.node.config.ts, dynamicImportInCjs).
 */
export function loadCachedScript<T>(file: string, useCache = true, v8Flags = "", build: string | undefined = BUILD_ID): CachedScript<T> {
  // The build writes the script in ASCII (vite.node.config.ts, charset): read as Latin-1, it is a copy, and V8 keeps
  // it one byte a character. Decoding 1.5 MB as UTF-8 cost 5-20 ms more on the shared 2-core VM. The bytes are
  // scratch.ts's (the string is a copy; the cache is read into the same memory next).
  const bytes = readTransient(file);
  const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  const paths = useCache ? cachePaths(file, v8Flags, build) : [];
  const want = { build: buildOf(file, build), node: process.version, arch: process.arch, tag: cacheTag(v8Flags), script: bytes.length };
  const cached = useCache ? readCache(paths, want) : undefined;
  const cachedData = typeof cached === "object" ? cached.data : undefined;
  const script = new Script(source.startsWith(WRAP_HEAD) ? source : WRAP_HEAD + source + WRAP_TAIL, { filename: file, cachedData });
  const state: CacheState = cached === undefined ? "miss" : cached === "bad" || script.cachedDataRejected ? "rejected" : "hit";
  const covers = state === "hit" && typeof cached === "object" ? cached.covers : [];
  const mod = { exports: {} as T };
  (script.runInThisContext() as (e: T, r: NodeJS.Require, m: { exports: T }, f: string, d: string) => void)(
    mod.exports,
    createRequire(file),
    mod,
    file,
    dirname(file),
  );
  let saved = !useCache;
  return {
    exports: mod.exports,
    state,
    covers,
    save(path = "") {
      if (saved || (state === "hit" && covers.includes(path))) return;
      saved = true;
      try {
        writeCache(paths, format(script.createCachedData(), { ...want, covers: [...new Set([...covers, path])] }));
      } catch {
        // no cache this time
      }
    },
  };
}
