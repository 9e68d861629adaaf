// The shadow stack: the cell's JavaScript instrumented so that a kernel call knows its exact guest stack without
// `new Error()` (2-4 us in this QuickJS build, which has no Error.captureStackTrace or stackTraceLimit).
//
// The stack QuickJS prints for a kernel call is, frame by frame, a function and the position it is at; each frame
// but the innermost is at the call of the frame above it. So the sequence of call positions, from the frame the host
// entered to the kernel-call site, names the stack. The transform keeps that sequence in an Int32Array `__ks` shared
// with the prelude (prelude.ts shadow), and the prelude turns the sequence into a node of a call tree, each distinct
// node taking one real `new Error().stack` the first time (bindings.ts setNode parses it once); every later kernel
// call from the same node costs a few array reads in the guest and no walk at all.
//
//  - every function the cell defines starts with `const __kf = __ks[0]; __ks[0] = U;`: its depth, given by the call
//    that entered it, which is consumed (U, a large negative number, is "unknown": a function entered any other way
//    knows no depth and its kernel calls walk the stack as before);
//  - every call the cell makes writes, once all its arguments are evaluated and just before the call, its site in
//    the caller's slot and the callee's depth: `f(a, b)` -> `f(a, (__kt = (b), __ks[__kf] = S, __ks[0] = __kf + 1,
//    __kt))`; a call without arguments does it before the callee (`(..., f)()`, `o[(..., "m")]()`);
//  - a kernel-call site (transpile.ts markSites: `_linux.kmalloc.call(12    , ...)`) passes its depth with its site:
//    `.call(__kf * 1048576 + 12, ...)`;
//  - the host sets `__ks[0]` before it calls into the guest (bindings.ts primeShadow): 1 for a function the host
//    calls with nothing of the cell's below it (module_init, a timer in the drain), the node's depth + 1 for a
//    callback the kernel runs inside a kernel call whose node it knows (a slab constructor), unknown otherwise;
//  - generators and functions that await (a kernel thread's body) are resumed from elsewhere: their depth is
//    always unknown.
//
// Exactness. A depth is consumed by the first function entered after it was written; a function called implicitly
// (a getter, valueOf/toString, a Proxy trap, an iterator, a tagged template, code built by eval/Function, a class's
// field initialisers or implicit constructor) could consume one meant for another call, so a cell with any of those
// is not instrumented at all (`shadowCell` returns the reason): its stacks are walked as before. A node's frames are
// also checked when first taken (as many cell frames as the depth, the innermost on the site's line); a node that
// fails is never used. What the instrumentation changes: columns (mapped back by `shadowColumn`, so every frame and
// report prints what the plain code prints) and a function's source text (`String(fn)` shows the inserted code).
// The transform runs only where stacks are read at every allocation (run.ts: KASAN or kmemleak on).

import { parse, type SucraseToken } from "sucrase/dist/parser/index.js";
import { TokenType as tt } from "sucrase/dist/parser/tokenizer/types.js";
import { matching } from "./kthread_transform.ts";
import { lineStartsOf, posAt } from "./transpile.ts";

/** Slots of the shared array: [0] the next callee's depth, [d] the site frame d is at. Deeper frames are unknown. */
export const SHADOW_SLOTS = 4096;
/** The site field of a kernel-call site's first argument: depth * SHADOW_SITE_UNIT + site. */
export const SHADOW_SITE_UNIT = 1048576;
/** "Unknown" depth: negative, and stays negative through any recursion a run can make. */
export const SHADOW_UNKNOWN = -1073741824;
/** The name require() gives the shared array to the instrumented top level (prelude.ts). */
export const SHADOW_REQUIRE = "\u0000shadow";

/** Per line of the instrumented code: [instrumented start column, end column, original column, delta after]... */
export type ColumnMap = ReadonlyMap<number, readonly number[]>;

export type ShadowResult = { ok: true; js: string; columns: ColumnMap; sites: number } | { ok: false; reason: string };

interface Edit {
  at: number;
  remove: number;
  insert: string;
  /** Among edits at one offset: closing texts (0) before opening ones (1). */
  order: number;
}

const ENTRY = `const __kf = __ks[0]; __ks[0] = ${SHADOW_UNKNOWN};`;
const ENTRY_UNKNOWN = `const __kf = ${SHADOW_UNKNOWN}; __ks[0] = ${SHADOW_UNKNOWN};`;
const TOP = `const __ks = require(${JSON.stringify(SHADOW_REQUIRE)}), __kf = __ks[0]; let __kt; __ks[0] = ${SHADOW_UNKNOWN};`;

/** Names that mean a function may be called implicitly (or code made outside the transform): the cell is not instrumented. */
const IMPLICIT = new Set([
  "Proxy",
  "Reflect",
  "Symbol",
  "defineProperty",
  "defineProperties",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "getOwnPropertySymbols",
  "setPrototypeOf",
  "__proto__",
  "prototype",
  "create",
  "eval",
  "Function",
  "FinalizationRegistry",
]);
/** Method names the engine calls by itself: defining one (not calling it, `x.toString(16)`) stops the transform. */
const IMPLICIT_METHODS = new Set(["toString", "valueOf", "toJSON", "then", "next", "return", "throw", "get", "set", "handleEvent"]);

/** The original column (1-based) of column `column` on `line` of the instrumented code; unchanged without a map. */
export function shadowColumn(columns: ColumnMap | undefined, line: number, column: number): number {
  const m = columns?.get(line);
  if (!m) return column;
  let out = column;
  for (let i = 0; i < m.length; i += 4) {
    if (column < m[i]) break;
    if (column < m[i + 1]) return m[i + 2]; // inside inserted text: its anchor
    out = column - m[i + 3];
  }
  return out;
}

function parseOrUndefined(js: string): ReturnType<typeof parse> | undefined {
  try {
    return parse(js, false, false, false);
  } catch {
    return undefined;
  }
}

/**
 * Instrument the cell's JavaScript (markSites' output, not yet wrapped). kernelSites: the offsets in `js` of the
 * kernel-call sites' numbers (markSites). firstSite: the first number free for the cell's own call sites.
 */
export function shadowCell(
  js: string,
  kernelSites: readonly number[],
  firstSite: number,
  /** `js` parsed by sucrase (JavaScript), when the caller has it; undefined: it did not parse. */
  parsed: ReturnType<typeof parse> | undefined = parseOrUndefined(js),
): ShadowResult {
  if (!parsed) return { ok: false, reason: "unparsed" };
  const { tokens, scopes } = parsed;
  const text = (t: SucraseToken | undefined) => (t ? js.slice(t.start, t.end) : "");
  const kernelAt = new Set(kernelSites);
  const n = tokens.length;
  const lineStarts = lineStartsOf(js);

  // ---- functions: group sucrase's scopes by their end token (a function's parameters and body end together) ------
  const groups = new Map<number, number[]>();
  for (const sc of scopes) {
    if (!sc.isFunctionScope || (sc.startTokenIndex === 0 && sc.endTokenIndex >= n)) continue;
    const g = groups.get(sc.endTokenIndex);
    if (g) g.push(sc.startTokenIndex);
    else groups.set(sc.endTokenIndex, [sc.startTokenIndex]);
  }
  const edits: Edit[] = [];
  /** Token ranges [from, to) of parameter lists: a call there would run before the function's entry. */
  const params: [number, number][] = [];
  const firstStarts = new Set<number>();
  for (const startsRaw of groups.values()) for (const st of startsRaw) firstStarts.add(st);

  // ---- the gate: constructs through which a function runs without a call of ours --------------------------------
  for (let i = 0; i < n; i++) {
    const t = tokens[i];
    const ty = t.type;
    if (ty === tt._class || ty === tt._super || ty === tt._with || ty === tt.questionDot || ty === tt.hash) return { ok: false, reason: text(t) };
    if (ty === tt.backQuote && i > 0) {
      // an opening backquote right after an expression: a tagged template (a closing one follows template text)
      const p = tokens[i - 1].type;
      if (p === tt.name || p === tt.parenR || p === tt.bracketR) return { ok: false, reason: "tagged template" };
    }
    if (ty === tt._new) {
      // new X(...), new a.b.X(...): a callee of names, and its arguments
      let k = i + 1;
      while (tokens[k]?.type === tt.name && tokens[k + 1]?.type === tt.dot) k += 2;
      const paren = tokens[k]?.type === tt.parenL ? matching(tokens, k, tt.parenL, tt.parenR) : -1; // sucrase: new (0, _linux.X)()
      if (!(paren > 0 && tokens[paren + 1]?.type === tt.parenL) && (tokens[k]?.type !== tt.name || tokens[k + 1]?.type !== tt.parenL))
        return { ok: false, reason: "new" };
    }
    if (ty !== tt.name && ty !== tt.string) continue;
    const s = ty === tt.string ? text(t).slice(1, -1) : text(t);
    if (s.startsWith("__k")) return { ok: false, reason: s };
    if (IMPLICIT.has(s)) return { ok: false, reason: s };
    if (IMPLICIT_METHODS.has(s)) {
      // a property of that name given a value (the engine may call it); a call of it (`x.toString(16)`), a variable
      // or a plain function of that name are fine
      const prev = tokens[i - 1]?.type;
      const next = tokens[i + 1]?.type;
      const inObject = prev === tt.braceL || prev === tt.comma;
      const defined =
        ty === tt.string ||
        (prev === tt.dot && next === tt.eq) ||
        (inObject && (next === tt.colon || next === tt.comma || next === tt.braceR)) ||
        (next === tt.parenL && firstStarts.has(i + 1) && prev !== tt._function && text(tokens[i - 1]) !== "function") ||
        ((s === "get" || s === "set") && prev !== tt.dot && (next === tt.name || next === tt.string || next === tt.num || next === tt.bracketL));
      if (defined) return { ok: false, reason: s };
    }
  }

  /** Tokens [from, to) without the parentheses wrapping all of them: [first, last] inclusive. */
  const unwrapParens = (from: number, to: number): [number, number] => {
    let a = from;
    let b = to - 1;
    while (a < b && tokens[a].type === tt.parenL && matching(tokens, a, tt.parenL, tt.parenR) === b) {
      a++;
      b--;
    }
    return [a, b];
  };
  /** Whether the value in tokens [from, to) ends with a function literal (inside any parentheses). */
  const endsWithFunction = (from: number, to: number): boolean => {
    const [a, b] = unwrapParens(from, to);
    // a function of the value's own (not the one the value is the body of) ends there
    const starts = groups.get(b + 1);
    return starts !== undefined && Math.min(...starts) >= a;
  };
  /** Whether tokens [from, to) are one function literal, in any parentheses. */
  const isFunctionLiteral = (from: number, to: number): boolean => {
    const [a, b] = unwrapParens(from, to);
    const starts = groups.get(b + 1);
    if (!starts) return false;
    const first = Math.min(...starts);
    for (let k = a; k < first; k++) {
      const ty = tokens[k].type;
      if (ty !== tt._function && ty !== tt.name && ty !== tt.star) return false;
    }
    return true;
  };
  // ---- pure functions: declarations that reach no kernel call (fib) ---------------------------------------------
  // A top-level `function f` whose body (nested functions included) has no kernel-call site, no `new`, no yield or
  // await, and calls only other such functions by name, runs no code of the cell's that could make a kernel call or
  // be entered from the host: it is left plain (no entry, no marks), so a recursion that only computes costs
  // nothing. Its name must appear nowhere but in its declaration and as a callee (`f(`): not passed, assigned,
  // shadowed or taken as a parameter, so every `f(` is a call of it.
  const pure = new Map<string, [number, number]>(); // name -> token range of the declaration's body
  for (const [end, startsRaw] of groups) {
    const first = Math.min(...startsRaw);
    const nameTok = tokens[first - 1];
    if (tokens[first].type !== tt.parenL || nameTok?.type !== tt.name || tokens[first - 2]?.type !== tt._function) continue;
    if (tokens[first - 2].scopeDepth !== 0 || tokens[first - 3]?.type === tt.star || text(tokens[first - 3]) === "async") continue;
    pure.set(text(nameTok), [first, end]);
  }
  for (const [name, [from, to]] of [...pure]) {
    let ok = true;
    for (let k = 0; k < n && ok; k++) {
      const t = tokens[k];
      if (t.type === tt.name && text(t) === name && k !== from - 1 && tokens[k + 1]?.type !== tt.parenL) ok = false;
      if (t.type === tt.name && text(t) === name && k !== from - 1 && tokens[k - 1]?.type === tt.dot) ok = false;
      if (t.type === tt.name && text(t) === name && k !== from - 1 && text(tokens[k - 1]) === "function") ok = false;
    }
    for (let k = from; k < to && ok; k++) {
      const t = tokens[k];
      if (t.type === tt._new || t.type === tt._yield || kernelAt.has(t.start) || text(t) === "await" || text(t) === "yield") ok = false;
    }
    if (!ok) pure.delete(name);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, [from, to]] of [...pure]) {
      for (let k = from; k < to; k++) {
        if (tokens[k].type !== tt.parenL || firstStarts.has(k)) continue;
        const c = tokens[k - 1];
        const called = c?.type === tt.name && tokens[k - 2]?.type !== tt.dot && pure.has(text(c));
        if (!called && (c?.type === tt.name || c?.type === tt.parenR || c?.type === tt.bracketR || c?.type === tt._super)) {
          pure.delete(name);
          changed = true;
          break;
        }
      }
    }
  }
  const pureRanges = [...pure.values()];
  const inPure = (i: number) => pureRanges.some(([a, b]) => i >= a && i < b);

  for (const [end, startsRaw] of groups) {
    const starts = [...new Set(startsRaw)].sort((a, b) => a - b);
    if (pureRanges.some(([a, b]) => a === starts[0] && b === end)) continue; // left plain
    const first = starts[0];
    const unknown = isGenerator(tokens, first) || hasAwaitOrYield(tokens, first, end, text);
    const entry = unknown ? ENTRY_UNKNOWN : ENTRY;
    const body = starts[starts.length - 1];
    // a block body: (parameters, body), and a named function expression's name scope before them
    const named = starts.length === 3 && tokens[first].type === tt.name && (text(tokens[first - 1]) === "function" || tokens[first - 1]?.type === tt.star);
    if ((starts.length === 2 || named) && tokens[body].type === tt.braceL && tokens[starts[starts.length - 2]].type === tt.parenL) {
      params.push([first, body]);
      edits.push({ at: tokens[body].end, remove: 0, insert: " " + entry, order: 1 });
    } else if (starts.length === 1) {
      // an arrow with an expression body: `(x) => expr` -> `(x) => { entry const __kr = (expr); return __kr; }`
      // (a call in a return statement reports the return's position, one in an expression body its own: kept)
      const arrow = tokens[first].type === tt.parenL ? matching(tokens, first, tt.parenL, tt.parenR) + 1 : first + 1;
      if (tokens[arrow]?.type !== tt.arrow || arrow + 1 >= end || tokens[arrow + 1].type === tt.braceL) return { ok: false, reason: "arrow" };
      params.push([first, arrow]);
      if (endsWithFunction(arrow + 1, end)) {
        // a function literal would be named __kr; one that is only a literal runs nothing: return it
        if (!isFunctionLiteral(arrow + 1, end)) return { ok: false, reason: "arrow returning a function" };
        edits.push({ at: tokens[arrow].end, remove: 0, insert: ` { ${entry} return (`, order: 1 });
        edits.push({ at: tokens[end - 1].end, remove: 0, insert: `); }`, order: 0 });
      } else {
        edits.push({ at: tokens[arrow].end, remove: 0, insert: ` { ${entry} const __kr = (`, order: 1 });
        edits.push({ at: tokens[end - 1].end, remove: 0, insert: `); return __kr; }`, order: 0 });
      }
    } else {
      // two functions ending on one token (`x => y => 1`), or a shape not foreseen
      return { ok: false, reason: "function shape " + starts.map((t) => text(tokens[t])).join(" ") };
    }
  }
  const inParams = (i: number) => params.some(([a, b]) => i >= a && i < b);

  // ---- calls --------------------------------------------------------------------------------------------------------
  let site = firstSite;
  const lastSite = SHADOW_SITE_UNIT - 1;
  for (let i = 1; i < n; i++) {
    if (tokens[i].type !== tt.parenL) continue;
    const prev = tokens[i - 1];
    const pt = prev.type;
    if (firstStarts.has(i)) continue; // a function's parameters
    if (inPure(i)) continue; // a pure function's calls (of pure functions only)
    if (pt !== tt.name && pt !== tt.parenR && pt !== tt.bracketR) {
      if (tokens[i - 2]?.type === tt.dot) return { ok: false, reason: "keyword method" }; // o.delete(): a call we would miss
      continue;
    }
    const close = matching(tokens, i, tt.parenL, tt.parenR);
    if (inParams(i)) return { ok: false, reason: "call in parameters" };
    // a kernel-call site: its number becomes depth * unit + number
    const firstArg = tokens[i + 1];
    if (firstArg && firstArg.type === tt.num && kernelAt.has(firstArg.start)) {
      edits.push({ at: firstArg.start, remove: 0, insert: `__kf * ${SHADOW_SITE_UNIT} + `, order: 1 });
      continue;
    }
    if (site > lastSite) return { ok: false, reason: "sites" };
    const mark = `__ks[__kf] = ${site}, __ks[0] = __kf + 1`;
    site++;
    if (close === i + 1) {
      // no arguments: before the callee
      if (pt === tt.name) {
        const dot = tokens[i - 2];
        if (dot?.type === tt.dot) {
          if (posAt(lineStarts, dot.start).line !== posAt(lineStarts, prev.end).line) return { ok: false, reason: "member call across lines" };
          edits.push({ at: dot.start, remove: prev.end - dot.start, insert: `[(${mark}, ${JSON.stringify(text(prev))})]`, order: 1 });
        } else {
          // `(` would continue an expression ended on the line before (`x = 1\nfoo()`): the `;` ASI put there
          const b = tokens[i - 2];
          const asi = b !== undefined && js.slice(b.end, prev.start).includes("\n") && endsExpression(b, text(b));
          edits.push({ at: prev.start, remove: 0, insert: `${asi ? ";" : ""}(${mark}, `, order: 1 });
          edits.push({ at: prev.end, remove: 0, insert: `)`, order: 0 });
        }
      } else if (pt === tt.parenR) {
        const open = matchingBack(tokens, i - 1);
        const b = tokens[open - 1];
        if (b && (b.type === tt.name || b.type === tt.parenR || b.type === tt.bracketR || b.type === tt.dot)) return { ok: false, reason: "call of a call" };
        edits.push({ at: tokens[open].start, remove: 0, insert: `(${mark}, `, order: 1 });
        edits.push({ at: prev.end, remove: 0, insert: `)`, order: 0 });
      } else {
        // o[k]() -> o[(__kt = (k), mark, __kt)]()
        const open = matchingBack(tokens, i - 1);
        if (endsWithFunction(open + 1, i - 1)) return { ok: false, reason: "function key" };
        edits.push({ at: tokens[open].end, remove: 0, insert: `(__kt = (`, order: 1 });
        edits.push({ at: tokens[i - 1].start, remove: 0, insert: `), ${mark}, __kt)`, order: 0 });
      }
      continue;
    }
    // the last argument: from the token after the last top-level comma (or the paren) to the closing paren
    let from = i + 1;
    let depth = 0;
    for (let k = i + 1; k < close; k++) {
      const ty = tokens[k].type;
      if (ty === tt.parenL || ty === tt.bracketL || ty === tt.braceL || ty === tt.dollarBraceL || ty === tt.braceBarL) depth++;
      else if (ty === tt.parenR || ty === tt.bracketR || ty === tt.braceR || ty === tt.braceBarR) depth--;
      else if (ty === tt.comma && depth === 0) from = k + 1;
    }
    if (from === close) return { ok: false, reason: "trailing comma" };
    if (tokens[from].type === tt.ellipsis) from++;
    // Arguments that call nothing run none of the cell's code (the cell defines no getter, valueOf... to run): the
    // mark can go before the last one, without a temporary (cheaper: f(n - 1) is most calls in a recursion)
    let calls = false;
    for (let k = i + 1; k < close && !calls; k++) {
      const ty = tokens[k].type;
      calls = ty === tt.parenL || ty === tt._new || ((ty === tt.name || ty === tt._yield) && (text(tokens[k]) === "yield" || text(tokens[k]) === "await"));
    }
    if (!calls || endsWithFunction(from, close)) {
      // or the value is a function literal at its end: nothing runs after its evaluation but its own definition, so
      // the mark goes first (a temporary would name it); anything else before the literal would run after the mark
      if (calls && !isFunctionLiteral(from, close)) return { ok: false, reason: "argument ending with a function" };
      edits.push({ at: tokens[from].start, remove: 0, insert: `(${mark}, `, order: 1 });
      edits.push({ at: tokens[close - 1].end, remove: 0, insert: `)`, order: 0 });
    } else {
      edits.push({ at: tokens[from].start, remove: 0, insert: `(__kt = (`, order: 1 });
      edits.push({ at: tokens[close - 1].end, remove: 0, insert: `), ${mark}, __kt)`, order: 0 });
    }
  }

  // ---- the top level: after the "use strict" directive sucrase writes first --------------------------------------
  let topAt = 0;
  if (tokens[0]?.type === tt.string && text(tokens[0]) === '"use strict"' && tokens[1]?.type === tt.semi) topAt = tokens[1].end;
  edits.push({ at: topAt, remove: 0, insert: TOP, order: 0.5 }); // outside any call that starts there

  // ---- apply, with the column map --------------------------------------------------------------------------------
  edits.sort((a, b) => a.at - b.at || a.order - b.order);
  const columns = new Map<number, number[]>();
  let out = "";
  let pos = 0;
  let line = -1;
  let delta = 0;
  for (const e of edits) {
    if (e.at < pos) return { ok: false, reason: "overlapping edits" };
    const p = posAt(lineStarts, e.at);
    if (js.slice(e.at, e.at + e.remove).includes("\n")) return { ok: false, reason: "edit across lines" };
    if (p.line !== line) {
      line = p.line;
      delta = 0;
    }
    out += js.slice(pos, e.at) + e.insert;
    pos = e.at + e.remove;
    const startCol = p.column + delta;
    delta += e.insert.length - e.remove;
    let m = columns.get(p.line);
    if (!m) columns.set(p.line, (m = []));
    m.push(startCol, startCol + e.insert.length, p.column, delta);
  }
  out += js.slice(pos);
  return { ok: true, js: out, columns, sites: site - firstSite };
}

/** Whether a token can end an expression (a `(` after it on the next line would call what it ends). */
function endsExpression(t: SucraseToken, s: string): boolean {
  const ty = t.type;
  if (ty === tt.name) return !["of", "in", "yield", "await", "async", "let", "static", "get", "set", "typeof", "void", "delete", "new", "return"].includes(s);
  return (
    ty === tt.num ||
    ty === tt.string ||
    ty === tt.parenR ||
    ty === tt.bracketR ||
    ty === tt.braceR ||
    ty === tt.backQuote ||
    ty === tt.regexp ||
    ty === tt.bigint ||
    ty === tt._true ||
    ty === tt._false ||
    ty === tt._null ||
    ty === tt._this ||
    ty === tt.decimal
  );
}

/** `function* f(`, `function*(`, `*m(` (a multiplication right before parameters cannot be). */
function isGenerator(tokens: readonly SucraseToken[], first: number): boolean {
  for (let k = Math.max(0, first - 3); k < first; k++) if (tokens[k].type === tt.star) return true;
  return false;
}

function hasAwaitOrYield(tokens: readonly SucraseToken[], from: number, to: number, text: (t: SucraseToken | undefined) => string): boolean {
  for (let k = from; k < to; k++) {
    const s = text(tokens[k]);
    if (s === "await" || s === "yield") return true;
  }
  return false;
}

function matchingBack(tokens: readonly SucraseToken[], close: number): number {
  const r = tokens[close].type;
  const l = r === tt.parenR ? tt.parenL : tt.bracketL;
  let depth = 0;
  for (let k = close; k >= 0; k--) {
    if (tokens[k].type === r) depth++;
    else if (tokens[k].type === l && --depth === 0) return k;
  }
  return 0;
}
