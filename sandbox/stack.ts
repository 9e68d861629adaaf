// QuickJS stack text -> the module's frames: `    at mem_module_init (cell.ts:12:7)` -> {fn, line, column}.
// Only frames in the cell count (the prelude's and native frames are the bridge, not the module).

import { CELL_FILE, mapColumn } from "./transpile.ts";
import type { StackFrame } from "../src/kernel/kernel.ts";

/** The anonymous wrapper around the cell: the module's top-level code. */
export const TOP_LEVEL = "(top level)";

const FRAME = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?\s*$/;

export interface CellFrame extends StackFrame {
  fn: string;
  module: "cell";
  line: number;
  column: number;
}

/** The cell's frames in a QuickJS stack, innermost first. */
export function parseStack(stack: string): CellFrame[] {
  const out: CellFrame[] = [];
  for (const raw of stack.split("\n")) {
    const m = FRAME.exec(raw);
    if (!m || m[2] !== CELL_FILE) continue;
    const line = Number(m[3]);
    let fn = m[1] ?? TOP_LEVEL;
    if (fn === "<anonymous>" || fn === "<eval>" || fn === "") fn = TOP_LEVEL;
    out.push({ fn, module: "cell", line, column: mapColumn(line, Number(m[4])) });
  }
  return out;
}
