// View: /proc tables (vmallocinfo, buddyinfo, slabinfo, ...) as the kernel printed them while the module was loaded,
// with the change against the other snapshot (after rmmod, or before insmod when the kernel supplies it).
// Rows are matched by their leading words; numbers that changed show their delta.

import { h } from "../dom.ts";
import { linkAddresses } from "./walk.ts";

export interface RowDiff {
  key: string;
  cells: string[];
  /** Per cell: numeric delta (loaded minus other), or undefined. */
  delta: (number | undefined)[];
  status: "same" | "changed" | "added" | "removed";
}

const isNum = (s: string) => /^-?\d+$/.test(s);

/** Row key: the words before the first number (so "Node 0, zone   Normal 3 4 5" -> "Node 0, zone Normal"), else the first word. */
export function rowKey(cells: string[]): string {
  const i = cells.findIndex((c, j) => isNum(c) && j > 0 && !/^(Node|node)$/.test(cells[j - 1]));
  return (i > 0 ? cells.slice(0, i) : cells.slice(0, 1)).join(" ");
}

export function splitRow(line: string): string[] {
  return line.trim().split(/\s+/).filter(Boolean);
}

/** Diff two snapshots of a whitespace table. `a` is the one shown (module loaded); `b` the comparison. */
export function diffTable(a: string, b: string | undefined): RowDiff[] {
  const rowsA = a.split("\n").filter((l) => l.trim());
  const rowsB = (b ?? "").split("\n").filter((l) => l.trim());
  const mapB = new Map<string, string[][]>();
  const listB = rowsB.map(splitRow);
  for (const c of listB) {
    const k = rowKey(c);
    (mapB.get(k) ?? mapB.set(k, []).get(k)!).push(c);
  }
  const used = new Set<string[]>();
  const out: RowDiff[] = rowsA.map((l) => {
    const cells = splitRow(l);
    const key = rowKey(cells);
    if (b === undefined) return { key, cells, delta: [], status: "same" };
    const cand = mapB.get(key)?.find((c) => !used.has(c));
    if (!cand) return { key, cells, delta: [], status: "added" };
    used.add(cand);
    const delta = cells.map((c, i) => (isNum(c) && cand[i] !== undefined && isNum(cand[i]) && c !== cand[i] ? Number(c) - Number(cand[i]) : undefined));
    const same = cells.length === cand.length && cells.every((c, i) => c === cand[i]);
    return { key, cells, delta, status: same ? "same" : "changed" };
  });
  // rows only the comparison snapshot has
  if (b !== undefined) for (const c of listB) if (!used.has(c)) out.push({ key: rowKey(c), cells: c, delta: [], status: "removed" });
  return out;
}

/** `pick`: addresses in the cells become buttons that walk them (vmallocinfo's ranges). */
export function renderProcTable(name: string, loaded: string, other: string | undefined, otherLabel: string, pick?: (a: bigint) => void): HTMLElement {
  const rows = diffTable(loaded, other);
  const changed = rows.filter((r) => r.status !== "same");
  const sign = (n: number) => (n > 0 ? `+${n}` : String(n));
  const statusText = { same: "", changed: "changed", added: `only while loaded`, removed: `only ${otherLabel}` } as const;
  const table = (list: RowDiff[], caption: (string | Node | null)[]) =>
    h(
      "table",
      { class: "proc-table" },
      h("caption", {}, ...caption),
      h(
        "tbody",
        {},
        list.map((r) =>
          h(
            "tr",
            { class: `row-${r.status}`, title: statusText[r.status] || undefined },
            r.cells.map((c, i) =>
              h(
                "td",
                { class: isNum(c) ? "num" : "" },
                ...(i === 0 && r.status !== "removed" ? linkAddresses(c, pick) : [c]),
                r.delta[i] !== undefined ? h("span", { class: "delta" }, ` (${sign(r.delta[i]!)})`) : null,
              ),
            ),
            r.status === "added" || r.status === "removed" ? h("td", { class: "row-note" }, statusText[r.status]) : null,
          ),
        ),
      ),
    );
  const note =
    other !== undefined
      ? h("span", { class: "view-note" }, ` — compared with ${otherLabel}: ${changed.length} row${changed.length === 1 ? " differs" : "s differ"}`)
      : null;
  // Long files (vmallocinfo, slabinfo): the rows that changed first, the whole file one click away.
  if (other !== undefined && rows.length > 24) {
    return h(
      "div",
      { class: "proc-wrap" },
      changed.length
        ? table(changed, [`/proc/${name}`, note, h("span", { class: "view-note" }, " (only the rows that differ)")])
        : h("p", { class: "proc-caption" }, h("strong", {}, `/proc/${name}`), note),
      h("details", {}, h("summary", {}, `All ${rows.length} rows of /proc/${name}`), table(rows, [`/proc/${name}`])),
    );
  }
  return h("div", { class: "proc-wrap" }, table(rows, [`/proc/${name}`, note]));
}
