// Compare two machines: the same cell's run on two profiles or configs, side by side (cell.ts "Compare with…").
// DOM-free: the line alignment of the two dmesg texts and the table of run figures; cell.ts renders them.
//
// The alignment is a longest common subsequence over whole lines, after the "[    1.234567] " timestamps are
// stripped (two machines boot for different times, so every stamp differs). Between two common lines, the lines of
// the same shape (the same text with other numbers: "GFP_KERNEL=0xcc0" and "GFP_KERNEL=0xd0") are paired as "changed"
// lines, the others in order; what is left over stays on its own side. Simplification: above
// MAX_LCS_CELLS (lines × lines) the table would be too big for the page, so the lines are paired by position instead,
// and the result says so (`positional`).

import type { RunResult } from "../../sandbox/result.ts";

/** One row of the side-by-side view. `left`/`right` are the lines without their timestamps. */
export type AlignedRow =
  | { kind: "same"; left: string; right: string }
  | { kind: "changed"; left: string; right: string }
  | { kind: "left"; left: string }
  | { kind: "right"; right: string };

export interface Alignment {
  rows: AlignedRow[];
  /** Rows that are not "same". */
  differences: number;
  /** The inputs were too long for the LCS table: lines were paired by position. */
  positional: boolean;
}

/** Above this many LCS table cells (left lines × right lines), lines are paired by position. */
export const MAX_LCS_CELLS = 4_000_000;

/** "[    1.234567] text" -> "text"; a line without a timestamp is unchanged. */
export function stripTimestamp(line: string): string {
  return line.replace(/^\[\s*\d+\.\d+\]\s?/, "");
}

/** A line's shape: its numbers (decimal or hex, with or without 0x) as "#", so "p=0xcc0" and "p=0xd0" have one shape. */
export function lineShape(line: string): string {
  return line.replace(/\b(?:0x)?[0-9a-f]*\d[0-9a-f]*\b/gi, "#");
}

/** The index pairs [i, j] of a longest common subsequence of a and b under `eq`, in order. */
function lcsPairs<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): [number, number][] {
  const n = a.length;
  const m = b.length;
  // lcs[i * w + j]: the LCS length of a[i..] and b[j..]
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i * w + j] = eq(a[i], b[j]) ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (eq(a[i], b[j])) pairs.push([i++, j++]);
    else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) i++;
    else j++;
  }
  return pairs;
}

/**
 * Align two dmesg texts line by line (timestamps stripped) and mark the lines that differ. Between two common lines,
 * the lines of the same shape (lineShape: the same words, other numbers) are paired as "changed"; the rest are paired
 * in order, and what is left over stays on its own side.
 */
export function alignLines(leftLines: readonly string[], rightLines: readonly string[]): Alignment {
  const a = leftLines.map(stripTimestamp);
  const b = rightLines.map(stripTimestamp);
  const rows: AlignedRow[] = [];
  const inOrder = (l: string[], r: string[]) => {
    const k = Math.min(l.length, r.length);
    for (let i = 0; i < k; i++) rows.push(l[i] === r[i] ? { kind: "same", left: l[i], right: r[i] } : { kind: "changed", left: l[i], right: r[i] });
    for (let i = k; i < l.length; i++) rows.push({ kind: "left", left: l[i] });
    for (let i = k; i < r.length; i++) rows.push({ kind: "right", right: r[i] });
  };
  // a gap between two common lines: pair by shape where it can, in order between those pairs
  const gap = (l: string[], r: string[]) => {
    if (l.length * r.length > MAX_LCS_CELLS) return inOrder(l, r);
    const ls = l.map(lineShape);
    const rs = r.map(lineShape);
    let i = 0;
    let j = 0;
    for (const [pi, pj] of lcsPairs(ls, rs, (x, y) => x === y)) {
      inOrder(l.slice(i, pi), r.slice(j, pj));
      rows.push({ kind: "changed", left: l[pi], right: r[pj] });
      i = pi + 1;
      j = pj + 1;
    }
    inOrder(l.slice(i), r.slice(j));
  };
  const positional = a.length * b.length > MAX_LCS_CELLS;
  if (positional) inOrder(a, b);
  else {
    let i = 0;
    let j = 0;
    for (const [pi, pj] of lcsPairs(a, b, (x, y) => x === y)) {
      gap(a.slice(i, pi), b.slice(j, pj));
      rows.push({ kind: "same", left: a[pi], right: b[pj] });
      i = pi + 1;
      j = pj + 1;
    }
    gap(a.slice(i), b.slice(j));
  }
  return { rows, differences: rows.filter((r) => r.kind !== "same").length, positional };
}

/** One figure of the two runs; `differ` when the two values are not the same. */
export interface FigureRow {
  name: "init" | "reports" | "time" | "calls" | "tlbMisses";
  label: string;
  left: string;
  right: string;
  differ: boolean;
}

/** "none", or the reports counted by kind in the order they first came: "bug ×1, warning ×2". */
export function reportsByKind(r: Pick<RunResult, "reports">): string {
  const counts = new Map<string, number>();
  for (const rep of r.reports ?? []) counts.set(rep.kind, (counts.get(rep.kind) ?? 0) + 1);
  return counts.size === 0 ? "none" : [...counts].map(([k, c]) => `${k} ×${c}`).join(", ");
}

/**
 * The run figures of the two machines: init's return, the reports by kind, the module's simulated time, its kernel
 * calls and TLB misses. `fmtNs` formats a simulated time (output.ts fmtNs on the page).
 */
export function compareFigures(left: RunResult, right: RunResult, fmtNs: (ns: number) => string = (ns) => `${ns} ns`): FigureRow[] {
  const row = (name: FigureRow["name"], label: string, f: (r: RunResult) => string): FigureRow => {
    const l = f(left);
    const r = f(right);
    return { name, label, left: l, right: r, differ: l !== r };
  };
  const init = (r: RunResult) => (r.initReturn === null ? "did not return" : String(r.initReturn));
  const time = (r: RunResult) => (r.stats?.moduleTimeNs === undefined ? "—" : fmtNs(r.stats.moduleTimeNs));
  return [
    row("init", "module_init returned", init),
    row("reports", "reports by kind", reportsByKind),
    row("time", "simulated time of the module", time),
    row("calls", "kernel calls", (r) => String(r.stats?.kernelCalls ?? 0)),
    row("tlbMisses", "TLB misses", (r) => String(r.stats?.tlbMisses ?? 0)),
  ];
}
