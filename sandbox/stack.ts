// QuickJS stack text -> the module's frames: `    at mem_module_init (cell.ts:12:7)` -> {fn, line, column}.
// Only frames in the cell count (the prelude's and native frames are the bridge, not the module).
// QuickJS names a function after the variable or property it was assigned to (`const f = () => ...` is `f`);
// one it calls <anonymous> gets the symbol of the innermost function scope of the cell containing the frame's
// position (transpile.ts scanScopes: `cell_line_N`), and a frame in no function is the cell's top-level code.
// Kernel symbols are C identifiers, so every name here is one: a trace prints `cell_line_4+0x30/0x80 [cell]`.

import { CELL_FILE, mapColumn, type CellScope } from "./transpile.ts";
import { shadowColumn, type ColumnMap } from "./shadow.ts";
import type { StackFrame } from "../src/kernel/kernel.ts";

/** The anonymous wrapper around the cell: the module's top-level code (a symbol name, as traces print it). */
export const TOP_LEVEL = "cell_top_level";

/**
 * The most cell frames a trace shows: more than QuickJS's 256 KiB stack holds (about 1,500 frames of the smallest
 * function), so a real stack is never cut; a stack text the cell wrote itself (`e.stack = "..."`) can claim millions,
 * which the host would otherwise parse and print one by one (2,000,000 lines held the host 22 s and 1.3 GB).
 */
export const MAX_TRACE_FRAMES = 2048;

/** The frames parseStack cut at MAX_TRACE_FRAMES (the stack text named more cell frames): a trace says so (oops.ts). */
const cutStacks = new WeakSet<readonly CellFrame[]>();
export function stackWasCut(frames: readonly CellFrame[]): boolean {
  return cutStacks.has(frames);
}

/** `name (file:line:column)` or `file:line:column` after "at ": the location, from the end of the line. */
const LOCATION = /:(\d+):(\d+)$/;

export interface CellFrame extends StackFrame {
  fn: string;
  module: "cell";
  line: number;
  column: number;
}

/** The symbol of an anonymous frame at (line, column): the innermost scope holding it, else the top level. */
export function anonymousName(scopes: readonly CellScope[], line: number, column: number): string {
  let best: CellScope | undefined;
  for (const s of scopes) {
    if (s.line > line) break; // sorted by start
    const afterStart = s.line < line || s.column <= column;
    const beforeEnd = s.endLine > line || (s.endLine === line && s.endColumn >= column);
    if (afterStart && beforeEnd) best = s; // a later start that still contains the point is nested deeper
  }
  return best?.name ?? TOP_LEVEL;
}

/**
 * The cell's frames in a QuickJS stack, innermost first. scopes: the cell's function scopes (transpile.ts); columns:
 * when the run's code keeps a shadow stack, its columns -> the plain code's (shadow.ts).
 */
export function parseStack(stack: string, scopes: readonly CellScope[] = [], columns?: ColumnMap): CellFrame[] {
  const out: CellFrame[] = [];
  // One pass, no backtracking (a frame regex with two lazy groups was quadratic in a hostile line: a 224 KB
  // `at  (a:1:1 (a:1:1 ...` took 11 s), and at most MAX_TRACE_FRAMES cell frames.
  for (let start = 0; start < stack.length;) {
    let end = stack.indexOf("\n", start);
    if (end < 0) end = stack.length;
    const frame = parseFrame(stack.slice(start, end).trim());
    start = end + 1;
    if (!frame || frame.file !== CELL_FILE) continue;
    if (out.length === MAX_TRACE_FRAMES) {
      cutStacks.add(out);
      break;
    }
    const column = shadowColumn(columns, frame.line, mapColumn(frame.line, frame.column));
    let fn = frame.fn;
    if (fn === "<anonymous>" || fn === "<eval>" || fn === "" || !/^[A-Za-z_$][\w$]*$/.test(fn)) fn = anonymousName(scopes, frame.line, column);
    out.push({ fn, module: "cell", line: frame.line, column });
  }
  return out;
}

/** QuickJS's `at NAME (FILE:LINE:COLUMN)` or `at FILE:LINE:COLUMN` (a trimmed line), or undefined. */
function parseFrame(l: string): { fn: string; file: string; line: number; column: number } | undefined {
  if (!l.startsWith("at ")) return undefined;
  let fn = "";
  let loc = l.slice(3);
  if (loc.endsWith(")")) {
    const open = loc.lastIndexOf(" (");
    if (open < 0) return undefined;
    fn = loc.slice(0, open);
    loc = loc.slice(open + 2, -1);
  }
  const m = LOCATION.exec(loc.slice(-32));
  if (!m) return undefined;
  return { fn, file: loc.slice(0, loc.length - m[0].length), line: Number(m[1]), column: Number(m[2]) };
}
