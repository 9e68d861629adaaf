// The cell's kernel-thread functions as generators: how a thread sleeps on the one host stack.
//
// A kernel thread loops and sleeps (`while (!kthread_should_stop()) { ...; msleep(1000); }`) while other tasks run:
// module_init returns, the drain runs timers, rmmod calls module_exit, whose kthread_stop waits for the thread. One
// synchronous host stack cannot hold a thread suspended in msleep while module_exit runs, and QuickJS cannot suspend
// a plain function. It can suspend a generator: its frame lives on the heap. So, in the JavaScript sucrase emitted,
// each function passed by name to kthread_run / kthread_create becomes `function*`, and each call of a sleeping
// function written in its own body becomes `(yield CALL)`. The kernel's scheduler (src/kernel/kernel/kthread.ts)
// starts the generator and resumes it with the call's return value when the thread wakes.
//
// Lines and line breaks are kept (the insertions are on the same line), so stack lines stay the cell's lines; the
// function scopes (transpile.ts scanScopes) are read after this transform, so their columns match.
//
// The thread function is passed by name and written as a function declaration (`function ticker(data) {...}`), a
// function expression (`const ticker = function (data) {...}`) or an arrow function with a block body
// (`const ticker = (data) => {...}`, `data => {...}`): the last two become `function* (data) {...}` (an arrow has no
// generator form; `this` and `arguments` in it become the function's own, which a thread function has no use for).
//
// Limits (stated in lesson 16 and in kthread.ts): the thread function must be passed by name;
// a sleep inside another function the thread calls (a helper, a callback) does not suspend the thread (it sleeps in
// place: the events run on top of it, no other task runs meanwhile). A thread function with no sleeping call in its
// body is left as it is: it runs to its end when the thread first runs.

import { parse, type SucraseToken } from "sucrase/dist/parser/index.js";
import { TokenType as tt } from "sucrase/dist/parser/tokenizer/types.js";

/** The "linux" functions that sleep: a call in a thread function's body is where the thread is suspended. */
export const KTHREAD_SLEEPERS: ReadonlySet<string> = new Set([
  "msleep",
  "ssleep",
  "msleep_interruptible",
  "usleep_range",
  "schedule",
  "schedule_timeout",
  "schedule_timeout_interruptible",
  "schedule_timeout_uninterruptible",
  "wait_event",
  "wait_event_timeout",
  "wait_for_completion",
  "wait_for_completion_timeout",
  "wait_for_completion_interruptible",
  "wait_event_interruptible",
  "wait_event_interruptible_timeout",
]);

const CREATORS = new Set(["kthread_run", "kthread_create"]);

/** Rewrite the emitted JavaScript; the same text when the cell makes no kernel thread. */
export function transformKthreads(js: string): string {
  if (!js.includes("kthread_run") && !js.includes("kthread_create")) return js;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(js, false, false, false);
  } catch {
    return js; // sucrase's own output parses; if not, QuickJS reports the error as it would have
  }
  const { tokens, scopes } = parsed;
  const text = (t: SucraseToken | undefined) => (t ? js.slice(t.start, t.end) : "");
  const names = new Set<string>();
  for (let i = 2; i < tokens.length; i++) {
    if (!CREATORS.has(text(tokens[i])) || tokens[i - 1].type !== tt.dot) continue;
    const open = argsParen(tokens, i, text);
    const first = tokens[open + 1];
    // sucrase's `.call(void 0, fn, ...)`: the thread function is the second argument there
    const arg = text(tokens[open + 1]) === "void" ? open + 4 : open + 1;
    const a = tokens[arg];
    if (first && a && a.type === tt.name && (tokens[arg + 1]?.type === tt.comma || tokens[arg + 1]?.type === tt.parenR)) names.add(text(a));
  }
  if (!names.size) return js;
  const edits: { at: number; insert: string; remove?: number }[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const fn = threadFunction(tokens, i, names, text);
    if (!fn) continue;
    const bodyStart = fn.body;
    const bodyEnd = matchingBrace(tokens, bodyStart);
    const nested = scopes.filter((sc) => sc.isFunctionScope && sc.startTokenIndex > bodyStart && sc.endTokenIndex <= bodyEnd);
    const inNested = (j: number) => nested.some((sc) => j >= sc.startTokenIndex && j < sc.endTokenIndex);
    const calls: { from: number; to: number }[] = [];
    for (let j = bodyStart + 1; j < bodyEnd; j++) {
      const t = tokens[j];
      if (t.type !== tt.name || !KTHREAD_SLEEPERS.has(text(t)) || tokens[j - 1]?.type !== tt.dot || tokens[j - 2]?.type !== tt.name) continue;
      if (inNested(j)) continue;
      const open = argsParen(tokens, j, text);
      if (tokens[open]?.type !== tt.parenL) continue;
      calls.push({ from: j - 2, to: matching(tokens, open, tt.parenL, tt.parenR) });
    }
    if (!calls.length) continue; // nothing to suspend at: it stays a plain function
    edits.push(...fn.edits);
    for (const c of calls) {
      edits.push({ at: tokens[c.from].start, insert: "(yield " });
      edits.push({ at: tokens[c.to].end, insert: ")" });
    }
  }
  edits.sort((a, b) => b.at - a.at);
  let out = js;
  for (const e of edits) out = out.slice(0, e.at) + e.insert + out.slice(e.at + (e.remove ?? 0));
  return out;
}

/**
 * A thread function starting at token i: `function NAME (`, or `NAME = function (`, `NAME = (...) => {`,
 * `NAME = param => {` after const/let/var; its body's `{` and the edits that make it a generator (on the same line; the
 * arrow's `=>` becomes two spaces).
 */
function threadFunction(
  tokens: readonly SucraseToken[],
  i: number,
  names: ReadonlySet<string>,
  text: (t: SucraseToken | undefined) => string,
): { body: number; edits: { at: number; insert: string; remove?: number }[] } | undefined {
  const bodyAfter = (paren: number) => {
    let k = matching(tokens, paren, tt.parenL, tt.parenR);
    while (k < tokens.length && tokens[k].type !== tt.braceL) k++;
    return k;
  };
  const t = tokens[i];
  if (t.type === tt._function && tokens[i + 1]?.type === tt.name && names.has(text(tokens[i + 1]))) {
    if (text(tokens[i - 1]) === "async" || tokens[i + 2]?.type !== tt.parenL) return undefined;
    return { body: bodyAfter(i + 2), edits: [{ at: t.end, insert: "*" }] };
  }
  const decl = tokens[i - 1]?.type;
  if (t.type !== tt.name || !names.has(text(t)) || tokens[i + 1]?.type !== tt.eq) return undefined;
  if (decl !== tt._const && decl !== tt._let && decl !== tt._var) return undefined;
  const v = i + 2;
  // sucrase's token for `function` in an expression is a name: read its text
  if (tokens[v]?.type === tt._function || (tokens[v]?.type === tt.name && text(tokens[v]) === "function")) {
    const paren = tokens[v + 1]?.type === tt.name ? v + 2 : v + 1;
    if (tokens[paren]?.type !== tt.parenL) return undefined;
    return { body: bodyAfter(paren), edits: [{ at: tokens[v].end, insert: "*" }] };
  }
  // an arrow: `(params) =>` or `param =>`, with a block body
  let arrow: number;
  let edits: { at: number; insert: string; remove?: number }[];
  if (tokens[v]?.type === tt.parenL) {
    arrow = matching(tokens, v, tt.parenL, tt.parenR) + 1;
    edits = [{ at: tokens[v].start, insert: "function* " }];
  } else if (tokens[v]?.type === tt.name && tokens[v + 1]?.type === tt.arrow) {
    arrow = v + 1;
    edits = [
      { at: tokens[v].start, insert: "function* (" },
      { at: tokens[v].end, insert: ")" },
    ];
  } else return undefined;
  if (tokens[arrow]?.type !== tt.arrow || tokens[arrow + 1]?.type !== tt.braceL) return undefined;
  const a = tokens[arrow];
  edits.push({ at: a.start, insert: "  ", remove: a.end - a.start });
  return { body: arrow + 1, edits };
}

/** The `(` of a call whose callee ends at token i: `f(` or sucrase's `f.call(`. */
function argsParen(tokens: readonly SucraseToken[], i: number, text: (t: SucraseToken | undefined) => string): number {
  if (tokens[i + 1]?.type === tt.dot && text(tokens[i + 2]) === "call" && tokens[i + 3]?.type === tt.parenL) return i + 3;
  return i + 1;
}

/** The token closing the bracket pair (type l/r) opened at `open` (the last token if it never closes). */
export function matching(tokens: readonly SucraseToken[], open: number, l: number, r: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    if (tokens[k].type === l) depth++;
    else if (tokens[k].type === r && --depth === 0) return k;
  }
  return tokens.length - 1;
}

/** The `}` matching the `{` at `open` (a template's `${` opens a brace too). */
function matchingBrace(tokens: readonly SucraseToken[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const ty = tokens[k].type;
    if (ty === tt.braceL || ty === tt.dollarBraceL || ty === tt.braceBarL) depth++;
    else if ((ty === tt.braceR || ty === tt.braceBarR) && --depth === 0) return k;
  }
  return tokens.length - 1;
}
