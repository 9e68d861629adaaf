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

const FRAME = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?\s*$/;

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
  for (const raw of stack.split("\n")) {
    const m = FRAME.exec(raw);
    if (!m || m[2] !== CELL_FILE) continue;
    const line = Number(m[3]);
    const column = shadowColumn(columns, line, mapColumn(line, Number(m[4])));
    let fn = m[1] ?? "";
    if (fn === "<anonymous>" || fn === "<eval>" || fn === "" || !/^[A-Za-z_$][\w$]*$/.test(fn)) fn = anonymousName(scopes, line, column);
    out.push({ fn, module: "cell", line, column });
  }
  return out;
}
