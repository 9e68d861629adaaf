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
// A function the cell passes to kthread_run/kthread_create becomes a generator, each sleeping call in its body a
// `yield` (kthread_transform.ts: how a kernel thread sleeps on the one host stack), before the scopes are read.
// The emitted JavaScript is parsed once more for its function scopes (`scopes`, in the coordinates QuickJS's
// stack positions use): a frame QuickJS calls <anonymous> (an arrow or function expression no variable or property
// names, as in `module_init(() => ...)`) becomes the symbol `cell_line_N` of the function starting on line N
// (`cell_line_N_2`... for a second one on that line), the way a compiler names a function it made up; a frame in
// no function is the cell's top-level code (stack.ts TOP_LEVEL). Every scope is registered as a module symbol with
// its size and first line (run.ts), so a nested function's frame offset follows its line too.

import { transform } from "sucrase";
import { parse, type SucraseToken } from "sucrase/dist/parser/index.js";
import { TokenType as tt } from "sucrase/dist/parser/tokenizer/types.js";
import { ContextualKeyword as ck } from "sucrase/dist/parser/tokenizer/keywords.js";
import { transformKthreads } from "./kthread_transform.ts";
import { shadowCell, type ColumnMap } from "./shadow.ts";
import { MAX_SOURCE_BYTES } from "./limits.ts";
import { deepFreeze } from "./deep-freeze.ts";

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

/** A function in the emitted JavaScript (lines are the cell's; columns the JavaScript's, as QuickJS reports them). */
export interface CellScope {
  /** Its kernel symbol: the declaration's or assignment's name (as QuickJS gives it), else `cell_line_N`. */
  name: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface CompileError extends Pos {
  /**
   * "SyntaxError" from the parser; "ImportError" for an import a cell may not have; "LimitError" for a cell past one of
   * the compiler's limits (source size, nesting depth).
   */
  name?: "SyntaxError" | "ImportError" | "LimitError";
  message: string;
}

export type TranspileResult =
  | {
      ok: true;
      js: string;
      imports: ImportSpec[];
      functions: CellFunction[];
      scopes: CellScope[];
      lineStarts: number[];
      /** The kernel-call sites (markSites): sites[n] is the cell line of site n's call (sites[0] unused). */
      sites: number[];
      /** The names of the imported functions called at a site. */
      siteNames: string[];
      /**
       * The same code keeping a shadow stack (shadow.ts), for runs that read a stack at every allocation, with the map
       * from its columns to `js`'s; null when the cell cannot be instrumented exactly (`shadowReason` says why).
       */
      shadow: { js: string; columns: ColumnMap } | null;
      shadowReason: string;
    }
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
  // The compiler parses by recursive descent: code nested thousands deep (brackets, unary operators, arrows, generic
  // types, a chain of a million `+1`) overflows its stack. That is a limit of the compiler, not a mistake in the cell.
  if (e instanceof RangeError) {
    return {
      name: "LimitError",
      message:
        "the cell's code nests too deeply to compile (the compiler's nesting limit: its stack overflowed). Real code nests a few dozen levels deep; look for generated code",
      line: 1,
      column: 1,
    };
  }
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
      return {
        name: "ImportError",
        message: 'dynamic import() is not available in a module cell; use import { ... } from "linux"',
        ...posAt(lineStarts, t.start),
      };
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

/**
 * A TypeScript namespace (`namespace X { ... }`, `module X { ... }`) that holds values: sucrase erases every namespace as
 * it erases types (its tokens are all type tokens), so `X.f()` would fail at run time with "'X' is not defined". A
 * namespace of types only, or a `declare namespace`, has nothing to run and is erased rightly. The error names the way
 * round (the statement of no exercise asks for a namespace; an object or top-level declarations do the same).
 */
function namespaceWithValues(src: string, toks: SucraseToken[], lineStarts: number[]): CompileError | undefined {
  const VALUE = new Set([tt._const, tt._let, tt._var, tt._function, tt._class]);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (!t.isType || (t.contextualKeyword !== ck._namespace && t.contextualKeyword !== ck._module)) continue;
    if (toks[i - 1]?.contextualKeyword === ck._declare) continue;
    let j = i + 1;
    while (j < toks.length && (toks[j].type === tt.name || toks[j].type === tt.dot)) j++;
    if (toks[j]?.type !== tt.braceL || j === i + 1) continue;
    let depth = 0;
    let k = j;
    for (; k < toks.length; k++) {
      if (toks[k].type === tt.braceL || toks[k].type === tt.dollarBraceL) depth++;
      else if (toks[k].type === tt.braceR) depth--;
      if (depth === 0) break;
      if (VALUE.has(toks[k].type) || toks[k].contextualKeyword === ck._enum) {
        const name = src.slice(toks[i + 1].start, toks[j - 1].end);
        return {
          name: "SyntaxError",
          message: `TypeScript namespaces that hold values are not supported in a module cell (its compiler, sucrase, erases namespace ${name} as if it were a type, and ${name}.x would not be defined): use an object (const ${name} = { ... }) or top-level functions and constants`,
          ...posAt(lineStarts, t.start),
        };
      }
    }
    i = k;
  }
  return undefined;
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

/** The function scopes of the emitted JavaScript, by start, each with its symbol name. */
function scanScopes(js: string, parsed: ReturnType<typeof parse> | undefined): CellScope[] {
  if (!parsed) return []; // sucrase's own output always parses; without scopes anonymous frames read as top-level code
  const { tokens, scopes } = parsed;
  // sucrase records a function's body scope (from its brace) and its own scope (from its parameters), both
  // ending at the same token: one function per end token, from its earliest start. The program's scope is not one.
  const byEnd = new Map<number, number>();
  for (const sc of scopes) {
    if (!sc.isFunctionScope || (sc.startTokenIndex === 0 && sc.endTokenIndex >= tokens.length)) continue;
    if (!tokens[sc.startTokenIndex] || !tokens[sc.endTokenIndex - 1]) continue;
    const had = byEnd.get(sc.endTokenIndex);
    if (had === undefined || sc.startTokenIndex < had) byEnd.set(sc.endTokenIndex, sc.startTokenIndex);
  }
  const starts = lineStartsOf(js);
  const perLine = new Map<number, number>();
  return [...byEnd]
    .sort((x, y) => x[1] - y[1])
    .map(([end, startTok]) => {
      const a = posAt(starts, tokens[startTok].start);
      const b = posAt(starts, tokens[end - 1].end);
      const before = tokens[startTok - 1];
      const given = assignedName(js, tokens, startTok);
      let name: string;
      const kw = tokens[startTok - 2];
      if (before?.type === tt.name && kw && js.slice(kw.start, kw.end) === "function") name = js.slice(before.start, before.end);
      else if (given) name = given;
      else {
        const n = (perLine.get(a.line) ?? 0) + 1;
        perLine.set(a.line, n);
        name = n === 1 ? `cell_line_${a.line}` : `cell_line_${a.line}_${n}`;
      }
      return { name, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
    });
}

/**
 * The name JavaScript gives an anonymous function from where it is assigned (what QuickJS then prints): `x = () =>`,
 * `const x = function () {}`, `{ key: () => ... }`; undefined for a member assignment, an argument, a ternary branch.
 */
function assignedName(js: string, tokens: readonly SucraseToken[], startTok: number): string | undefined {
  let p = startTok - 1;
  if (tokens[p]?.type === tt.name && tokens[p].contextualKeyword === ck._async) p--;
  // sucrase's tokenizer types the keyword of a function expression as a name: test the text
  if (tokens[p] && js.slice(tokens[p].start, tokens[p].end) === "function") p--;
  if (tokens[p]?.type === tt.name && tokens[p].contextualKeyword === ck._async) p--;
  const op = tokens[p];
  const id = tokens[p - 1];
  if (!op || !id || id.type !== tt.name) return undefined;
  const prev = tokens[p - 2];
  if (op.type === tt.eq) return prev?.type === tt.dot ? undefined : js.slice(id.start, id.end);
  if (op.type === tt.colon) return prev?.type === tt.braceL || prev?.type === tt.comma ? js.slice(id.start, id.end) : undefined;
  return undefined;
}

function isArrowAt(toks: SucraseToken[], k: number): boolean {
  if (toks[k].type === tt.name && toks[k + 1]?.type === tt.arrow) return true;
  if (toks[k].type !== tt.parenL) return false;
  // Skip the parameter list (depth-nested tokens) and an optional return type, then look for `=>`.
  for (let m = k + 1; m < toks.length && m < k + 200; m++) {
    if (toks[m].type === tt.arrow) return true;
    if (toks[m].scopeDepth === 0 && (toks[m].type === tt.semi || toks[m].type === tt._const || toks[m].type === tt._let || toks[m].type === tt._function))
      return false;
  }
  return false;
}

/**
 * The cell's code without its comments: its tokens' texts, one space apart (the source itself when it does not parse).
 * For the grader, which looks for numbers copied into the code and must not count a comment that quotes an output.
 */
export function codeText(src: string): string {
  try {
    return parse(src, false, true, false)
      .tokens.map((t) => src.slice(t.start, t.end))
      .join(" ");
  } catch {
    return src;
  }
}

/** The most sites a cell's calls are numbered with (a site number takes the 6 characters of `void 0`). */
export const MAX_SITES = 999_999;

/**
 * Kernel-call sites: sucrase calls an imported function as `_linux.kmalloc.call(void 0, ...)`; each such call gets a
 * number n, written where `void 0` was, padded to its 6 characters (`_linux.kmalloc.call(12    , ...)`), so every
 * line and column QuickJS reports stays where it was. The prelude gives each kernel function a `call` that takes the
 * site (prelude.ts), and the bridge knows which site a host call came from without walking the guest's stack: the
 * call's line (sites[n], the line of its opening parenthesis, where QuickJS puts a call) and, after one walk, its
 * innermost frame (bindings.ts siteFrame). Calls written otherwise (`L.kmalloc(...)` through a namespace import,
 * `const f = kmalloc; f()`) have no site and cost a walk when their line is asked for.
 */
export function markSites(code: string): { js: string; sites: number[]; siteNames: string[]; offsets: number[] } {
  const bindings: string[] = [];
  for (const m of code.matchAll(/\bvar (_[A-Za-z0-9_$]*) = require\('(?:linux|sim|user)'\);/g)) bindings.push(m[1]);
  const sites = [0];
  const names = new Set<string>();
  const offsets: number[] = [];
  if (!bindings.length) return { js: code, sites, siteNames: [], offsets };
  const re = new RegExp(`(?<![\\w$.])(?:${bindings.map((b) => b.replace(/\$/g, "\\$")).join("|")})\\.([A-Za-z_$][\\w$]*)\\.call\\((void 0)(?=[,)])`, "g");
  const starts = lineStartsOf(code);
  const js = code.replace(re, (whole: string, name: string, _v: string, offset: number) => {
    if (sites.length > MAX_SITES) return whole;
    names.add(name);
    const paren = offset + whole.length - "void 0".length - 1;
    sites.push(posAt(starts, paren).line);
    offsets.push(paren + 1); // same length as what it replaces: offsets hold in the result
    return whole.slice(0, whole.length - 6) + String(sites.length - 1).padEnd(6);
  });
  return { js, sites, siteNames: [...names], offsets };
}

export { MAX_SOURCE_BYTES }; // (defined in limits.ts, which the CLI's fast path can import without the compiler)

/** The cell's source over MAX_SOURCE_BYTES (UTF-8), as a compile error on the line where the limit falls. */
function sourceTooBig(src: string): CompileError | undefined {
  if (src.length * 3 <= MAX_SOURCE_BYTES) return undefined; // a UTF-16 unit is at most 3 bytes of UTF-8
  const bytes = new TextEncoder().encode(src);
  if (bytes.length <= MAX_SOURCE_BYTES) return undefined;
  // the character offset where the limit falls: decode the bytes up to it (a cut character is dropped)
  const at = new TextDecoder().decode(bytes.subarray(0, MAX_SOURCE_BYTES)).replace(/\uFFFD$/, "").length;
  const kib = (n: number) => `${Math.round(n / 1024)} KiB`;
  const pos = posAt(lineStartsOf(src.slice(0, at + 1)), at);
  return {
    name: "LimitError",
    message: `the cell is ${kib(bytes.length)} of source, more than the ${kib(MAX_SOURCE_BYTES)} a cell may hold (the source size limit, reached on this line): compiling it would cost the host's time and memory. Kernel modules are small; look for generated or pasted code`,
    ...pos,
  };
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
  const tooBig = sourceTooBig(src);
  if (tooBig) return { ok: false, error: tooBig };
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

function parseJs(js: string): ReturnType<typeof parse> | undefined {
  try {
    return parse(js, false, false, false);
  } catch {
    return undefined;
  }
}

function transpileUncached(src: string): TranspileResult {
  const lineStarts = lineStartsOf(src);
  let toks: SucraseToken[];
  let code: string;
  try {
    toks = parse(src, false, true, false).tokens;
    code = transformKthreads(transform(src, { transforms: ["typescript", "imports"], disableESTransforms: true, keepUnusedImports: false }).code);
  } catch (e) {
    return { ok: false, error: syntaxError(e, src, lineStarts) };
  }
  const imports = scanImports(src, toks, lineStarts);
  if (!Array.isArray(imports)) return { ok: false, error: imports };
  const dropped = namespaceWithValues(src, toks, lineStarts);
  if (dropped) return { ok: false, error: dropped };
  const functions = scanFunctions(src, toks, lineStarts);
  const { js, sites, siteNames, offsets } = markSites(code);
  // one parse of the emitted code for the scopes and the shadow stack: markSites writes each site's number in the
  // place of `void 0`, padded to its length, so every function and position is where it was in sucrase's output
  const parsed = parseJs(js);
  const scopes = scanScopes(js, parsed);
  const sh = shadowCell(js, offsets, sites.length, parsed);
  const shadow = sh.ok ? { js: WRAP_PREFIX + sh.js + WRAP_SUFFIX, columns: sh.columns } : null;
  // sucrase emits `"use strict";` first: inside the wrapper it makes the whole cell strict, as an ES module is.
  return {
    ok: true,
    js: WRAP_PREFIX + js + WRAP_SUFFIX,
    imports,
    functions,
    scopes,
    lineStarts,
    sites,
    siteNames,
    shadow,
    shadowReason: sh.ok ? "" : sh.reason,
  };
}
