// Cell TypeScript -> the JavaScript QuickJS runs, with every line where it was.
//
// sucrase (transforms typescript + imports) strips types and turns `import { kmalloc } from "linux"` into
// `var _linux = require('linux')` with each use rewritten to `_linux.kmalloc`: that is what makes `jiffies` a
// live binding (a getter on the module object) with no scope analysis of our own. sucrase keeps lines, so a
// QuickJS stack line is the cell's line. The code is wrapped as `(function (require, exports) {...})` on line 1
// (a column shift on line 1 only, undone by `mapColumn`), so the cell's declarations stay local to it and the
// guest never sees a global `require`.
//
// Before that, sucrase's own parser gives the token stream, from which come the imports (name, module, line,
// column: checked against the table for the profile's era before anything runs) and the top-level functions
// (registered as module symbols for call traces). A syntax error is returned, never thrown.

import { transform } from "sucrase";
import { parse, type SucraseToken } from "sucrase/dist/parser/index.js";
import { TokenType as tt } from "sucrase/dist/parser/tokenizer/types.js";
import { ContextualKeyword as ck } from "sucrase/dist/parser/tokenizer/keywords.js";

export const CELL_FILE = "cell.ts";
export const WRAP_PREFIX = "(function (require, exports) {";
export const WRAP_SUFFIX = "\n})";

export interface Pos {
  line: number; // 1-based
  column: number; // 1-based
}

export interface ImportSpec extends Pos {
  module: string;
  /** The exported name asked for ("*" for `import * as x`). */
  name: string;
}

export interface CellFunction extends Pos {
  name: string;
  /** Offset of the function's first character in the cell source, and its length in characters. */
  start: number;
  size: number;
}

export interface CompileError extends Pos {
  /** "SyntaxError" from the parser; "ImportError" for an import a cell may not have. */
  name?: "SyntaxError" | "ImportError";
  message: string;
}

export type TranspileResult =
  | { ok: true; js: string; imports: ImportSpec[]; functions: CellFunction[]; lineStarts: number[] }
  | { ok: false; error: CompileError };

export function lineStartsOf(src: string): number[] {
  const starts = [0];
  for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function posAt(lineStarts: number[], offset: number): Pos {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}

/** Column in the cell for a column QuickJS reported (only line 1 carries the wrapper). */
export function mapColumn(line: number, column: number): number {
  return line === 1 ? Math.max(1, column - WRAP_PREFIX.length) : column;
}

function syntaxError(e: unknown, src: string, lineStarts: number[]): CompileError {
  const err = e as { message?: string; pos?: number };
  const message = String(err.message ?? e).replace(/\s*\(\d+:\d+\)$/, "");
  const at = typeof err.pos === "number" ? posAt(lineStarts, Math.min(err.pos, src.length)) : { line: 1, column: 1 };
  return { name: "SyntaxError", message, ...at };
}

const unquote = (s: string) => s.slice(1, -1);

/** The import declarations of the cell, from the token stream. */
function scanImports(src: string, toks: SucraseToken[], lineStarts: number[]): ImportSpec[] | CompileError {
  const out: ImportSpec[] = [];
  const text = (t: SucraseToken) => src.slice(t.start, t.end);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.type !== tt._import) continue;
    const next = toks[i + 1];
    if (!next) break;
    if (next.type === tt.parenL) {
      return { name: "ImportError", message: 'dynamic import() is not available in a module cell; use import { ... } from "linux"', ...posAt(lineStarts, t.start) };
    }
    if (next.type === tt.dot) continue; // import.meta (QuickJS will refuse it in a script)
    // `import type { X } from "linux"`: erased entirely.
    const typeOnly = next.type === tt.name && next.contextualKeyword === ck._type && toks[i + 2] && toks[i + 2].contextualKeyword !== ck._from;
    // Find the module string that ends this declaration.
    let j = i + 1;
    while (j < toks.length && toks[j].type !== tt.string) j++;
    if (j >= toks.length) break;
    const modTok = toks[j];
    const module = unquote(text(modTok));
    if (module !== "linux" && module !== "sim" && module !== "user") {
      return {
        name: "ImportError",
        message: `cannot import "${module}": a module cell can import only from "linux" (the kernel API), "sim" (the simulated board) and "user" (the cell's user program: malloc, mmap, open, read...)`,
        ...posAt(lineStarts, modTok.start),
      };
    }
    const specs: ImportSpec[] = [];
    if (!typeOnly) {
      let k = i + 1;
      if (toks[k].type === tt.string) {
        // `import "linux"`: a side-effect import, harmless.
      } else if (toks[k].type === tt.star) {
        specs.push({ module, name: "*", ...posAt(lineStarts, toks[k].start) });
      } else {
        if (toks[k].type === tt.name && toks[k].contextualKeyword !== ck._from) {
          return {
            name: "ImportError",
            message: `"${module}" has no default export: write import { name, ... } from "${module}"`,
            ...posAt(lineStarts, toks[k].start),
          };
        }
        if (toks[k].type === tt.braceL) {
          for (k++; k < j && toks[k].type !== tt.braceR; k++) {
            const s = toks[k];
            if (s.type === tt.comma || s.isType) continue;
            // `a as b`: the exported name is the first; skip `as b`.
            specs.push({ module, name: text(s), ...posAt(lineStarts, s.start) });
            if (toks[k + 1]?.contextualKeyword === ck._as) k += 2;
          }
        }
      }
    }
    out.push(...specs);
    i = j;
  }
  return out;
}

/** Top-level named functions: `function f() {}` and `const f = (...) => ...` / `const f = function ...`. */
function scanFunctions(src: string, toks: SucraseToken[], lineStarts: number[]): CellFunction[] {
  const out: CellFunction[] = [];
  const endOf = (from: number): number => {
    // The function spans the tokens up to the last one nested deeper than the top level.
    let k = from;
    while (k + 1 < toks.length && toks[k + 1].scopeDepth > 0) k++;
    return toks[k].end;
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.scopeDepth !== 0) continue;
    if (t.type === tt._function && toks[i + 1]?.type === tt.name) {
      const start = i > 0 && toks[i - 1].type === tt.name && toks[i - 1].contextualKeyword === ck._async ? toks[i - 1].start : t.start;
      out.push({ name: src.slice(toks[i + 1].start, toks[i + 1].end), start, size: endOf(i + 1) - start, ...posAt(lineStarts, start) });
    } else if ((t.type === tt._const || t.type === tt._let || t.type === tt._var) && toks[i + 1]?.type === tt.name && toks[i + 2]?.type === tt.eq) {
      const v = toks[i + 3];
      if (!v) continue;
      const isFn = v.type === tt._function || (v.type === tt.name && v.contextualKeyword === ck._async) || isArrowAt(toks, i + 3);
      if (!isFn) continue;
      const start = toks[i + 1].start;
      out.push({ name: src.slice(start, toks[i + 1].end), start, size: endOf(i + 3) - start, ...posAt(lineStarts, start) });
    }
  }
  return out;
}

function isArrowAt(toks: SucraseToken[], k: number): boolean {
  if (toks[k].type === tt.name && toks[k + 1]?.type === tt.arrow) return true;
  if (toks[k].type !== tt.parenL) return false;
  // Skip the parameter list (depth-nested tokens) and an optional return type, then look for `=>`.
  for (let m = k + 1; m < toks.length && m < k + 200; m++) {
    if (toks[m].type === tt.arrow) return true;
    if (toks[m].scopeDepth === 0 && (toks[m].type === tt.semi || toks[m].type === tt._const || toks[m].type === tt._let || toks[m].type === tt._function)) return false;
  }
  return false;
}

/** Transpile a cell. Never throws: a syntax error comes back as `{ ok: false, error }` with line and column. */
/**
 * The last few cells' results, by source text: a learner re-runs the same cell (another profile, another RAM
 * size), the grader runs one submission per check, and a transpile is a sizeable part of a warm run. Results are
 * frozen, so a caller cannot change what the next run of the same text gets.
 */
const cache = new Map<string, TranspileResult>();
const CACHE_ENTRIES = 16;

export function transpileCell(src: string): TranspileResult {
  const hit = cache.get(src);
  if (hit !== undefined) {
    cache.delete(src); // most recently used last
    cache.set(src, hit);
    return hit;
  }
  const r = deepFreeze(transpileUncached(src));
  cache.set(src, r);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return r;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}

function transpileUncached(src: string): TranspileResult {
  const lineStarts = lineStartsOf(src);
  let toks: SucraseToken[];
  let code: string;
  try {
    toks = parse(src, false, true, false).tokens;
    code = transform(src, { transforms: ["typescript", "imports"], disableESTransforms: true, keepUnusedImports: false }).code;
  } catch (e) {
    return { ok: false, error: syntaxError(e, src, lineStarts) };
  }
  const imports = scanImports(src, toks, lineStarts);
  if (!Array.isArray(imports)) return { ok: false, error: imports };
  const functions = scanFunctions(src, toks, lineStarts);
  // sucrase emits `"use strict";` first: inside the wrapper it makes the whole cell strict, as an ES module is.
  return { ok: true, js: WRAP_PREFIX + code + WRAP_SUFFIX, imports, functions, lineStarts };
}
