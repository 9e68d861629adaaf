// The cell's compiler, for the bundled sandbox (issue 15): sandbox/transpile.ts's transpileCell, with sucrase (its
// parser and transformer, ~24 % of the sandbox's script) in a script of its own, lib/cell-compiler.cjs
// (cell-compiler.ts), loaded with its own V8 code cache only when a cell is not in the disk cache of compiled cells
// kept here. vite.node.config.ts builds lib/isolate-worker-code.cjs with this file in place of sandbox/transpile.ts
// for sandbox/run.ts's import (cellCompilerApart); the TypeScript sources (tsx, vitest), the notebook and the grader
// keep sandbox/transpile.ts as it is.
//
// Why: a `kmodlab run` of a cell run before (a learner's cell run again on another machine, a grader's submission
// checked again, the benchmark) no longer reads, deserializes and runs sucrase's code, nor compiles the cell. Measured
// on `kmodlab run examples/memdemo.ts`, whole processes alternating with the build before (see bench/cli.bench.ts and
// README's "Latest benchmark"): CPU 88.3 -> 74.2 ms, 8,160 -> 7,480 page faults (a prototype, 30 rounds, load ~10).
// A cell compiled for the first time costs about what it did (the compiler's script compiles from its own code
// cache; ~1 ms more).
//
// The store: one file per cell in the `cells` folder of the machine store (boot-cache.ts: same folders, same switch,
// KMODLAB_BOOT_CACHE=0 turns it off), keeping CELL_FILES files. The key is the store's (the build's identity, Node's
// version and architecture, CELL_FORMAT) and the cell's whole source, held in the file's header and compared, with
// the payload's length and CRC-32: a file of another build, another source or torn bytes is no cache. The payload is
// the compiler's result as node:v8 serialises it (structured clone: the shadow code's column Map included), frozen
// again when read, as transpileCell's own results are. Only results that compiled are stored: an error is rare to run
// twice, and the compiler's nesting limit (a stack overflow, a LimitError) depends on the thread's stack.

import { deserialize, serialize } from "node:v8";
import type { TranspileResult } from "../../sandbox/transpile.ts";
import { machineStore, readPayload, writeMachine, type MachineStore } from "./boot-cache.ts";
import { loadCachedScript, type CachedScript } from "./code-cache.ts";
import { deepFreeze } from "../../sandbox/deep-freeze.ts";

// what sandbox/run.ts imports from sandbox/transpile.ts besides transpileCell (none of it needs sucrase)
export { CELL_FILE, type ImportSpec } from "../../sandbox/transpile.ts";

/** The payload's format (the store's key holds it). */
export const CELL_FORMAT = 1;
/** The most compiled cells a folder keeps (a few kB each). */
export const CELL_FILES = 64;
/** The entries of the in-memory cache (as sandbox/transpile.ts's). */
const MEMO_ENTRIES = 16;

declare const __KMODLAB_BUILD_ID__: string | undefined;
/** The build's identity (vite.node.config.ts defines it in the bundles); undefined in the sources. */
const BUILD_ID = typeof __KMODLAB_BUILD_ID__ === "string" ? __KMODLAB_BUILD_ID__ : undefined;

interface Compiler {
  transpileCell(src: string): TranspileResult;
}

let place: { file: string; cacheFlags: string; store: MachineStore | undefined } | undefined;
let compiler: CachedScript<Compiler> | undefined;

/** Whether this thread has loaded the compiler's script (tests: a stored cell does not). */
export function cellCompilerLoaded(): boolean {
  return compiler !== undefined;
}

/**
 * Where the compiler's script is (lib/cell-compiler.cjs, `compilerFile`), the V8 flags its code cache is tagged with,
 * and the sandbox's script (`codeFile`), next to which the store is; `build`: the build's identity (default: the one
 * compiled in; none: no store).
 */
export function useCellCompiler(compilerFile: string, cacheFlags: string, codeFile: string, build: string | undefined = BUILD_ID): void {
  place = {
    file: compilerFile,
    cacheFlags,
    store: build === undefined ? undefined : machineStore(codeFile, build, CELL_FORMAT, { folder: "cells", maxFiles: CELL_FILES }),
  };
  memo.clear();
}

function loadCompiler(): Compiler {
  if (!compiler) {
    if (!place) throw new Error("the cell compiler's script was not named (cell-cache.ts useCellCompiler)");
    compiler = loadCachedScript<Compiler>(place.file, process.env.KMODLAB_CODE_CACHE !== "0", place.cacheFlags);
  }
  return compiler.exports;
}

const storeKey = (src: string) => JSON.stringify(["cell", src]);

/** The compiled cell stored for `src`, or undefined: none, stale or corrupt. Never throws. */
export function readCell(store: MachineStore, src: string): TranspileResult | undefined {
  try {
    const payload = readPayload(store, storeKey(src));
    if (payload === undefined) return undefined;
    const r = deserialize(payload) as TranspileResult;
    return r && typeof r === "object" && r.ok === true && typeof r.js === "string" ? deepFreeze(r) : undefined;
  } catch {
    return undefined;
  }
}

/** Store a compiled cell. Never throws; returns whether a file was written. */
export function writeCell(store: MachineStore, src: string, r: TranspileResult): boolean {
  try {
    return r.ok && writeMachine(store, storeKey(src), serialize(r));
  } catch {
    return false;
  }
}

/** The last few cells' results, by source text (as sandbox/transpile.ts keeps them). */
const memo = new Map<string, TranspileResult>();

/** sandbox/transpile.ts's transpileCell: from memory, from the store, or from the compiler (then stored). */
export function transpileCell(src: string): TranspileResult {
  const hit = memo.get(src);
  if (hit !== undefined) {
    memo.delete(src);
    memo.set(src, hit);
    return hit;
  }
  const store = place?.store;
  let r = store && readCell(store, src);
  if (!r) {
    const c = loadCompiler();
    r = c.transpileCell(src);
    compiler?.save("compile"); // the first time: the compiler's code cache then holds what the compile ran
    if (store) writeCell(store, src, r);
  }
  memo.set(src, r);
  if (memo.size > MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
  return r;
}
