// View: the kernel's virtual address space for the run's profile, in pieces (one per layout region), with the cell's
// allocations marked. Sizes differ by ten orders of magnitude, so each piece's height grows with log2(size) and says
// its true size; inside a piece, positions are linear. The vmalloc area can be zoomed to show each vmap area and its
// guard page (from /proc/vmallocinfo, the kernel's own record).

import type { RunResult } from "../../../sandbox/result.ts";
import { fmtBig, fmtBytes, h, hex, toBig } from "../dom.ts";
import { digestOf, type AllocGroup } from "../digest.ts";

export interface Region {
  name: string;
  kind: string;
  start: bigint;
  end: bigint;
}

export interface Mark {
  addr: bigint;
  size?: bigint;
  /** The variable (or word) that printed it, or the allocator's caller. */
  label: string;
  source: "dmesg" | "kernel" | "vmallocinfo";
  /** Allocator when known: page, slab, vmalloc... */
  kind?: string;
}

export interface VmapArea {
  start: bigint;
  end: bigint;
  caller: string;
  pages?: number;
  flags: string;
  /** Allocated by the learner's module. */
  mine: boolean;
}

export interface AddrModel {
  regions: Region[];
  marks: (Mark & { region?: Region })[];
  vmap: VmapArea[];
  bits: 32 | 64;
  /** Every allocation of the run grouped by function and size (the run worker's digest), when there were many. */
  groups?: (AllocGroup & { region?: Region })[];
  /** Allocations the run made in all (marks lists the first ones). */
  allocations?: number;
}

/** Past this many addresses the view summarises (groups, counts) and lists addresses on request, a page at a time. */
export const MARKS_LISTED = 40;
/** Addresses per page of the drill-down list. */
export const MARKS_PAGE = 100;

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** The layout the kernel reported, wherever the inspection data keeps it. */
export function findLayout(result: Pick<RunResult, "kernel">): Record<string, unknown> | undefined {
  const k = obj(result.kernel);
  if (!k) return undefined;
  return obj(k.layout) ?? (Array.isArray(k.regions) ? k : undefined);
}

export function regionsOf(layout: Record<string, unknown> | undefined): Region[] {
  const list = Array.isArray(layout?.regions) ? (layout!.regions as unknown[]) : [];
  const out: Region[] = [];
  for (const r of list) {
    const o = obj(r);
    const start = toBig(o?.start);
    const end = toBig(o?.end);
    if (!o || start === undefined || end === undefined || end <= start) continue;
    out.push({ name: String(o.name ?? "?"), kind: String(o.kind ?? "other"), start, end });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

const TS = /^\[\s*\d+\.\d+\]\s?/;
const ADDR = /(?:^|[\s=:([,])((?:0x)?[0-9a-f]{8}(?:[0-9a-f]{8})?)(?![0-9a-fx])/gi;

/** A word that is a number, not a name: "0x991d000" (its "x991d000"), "ffff8880069ae000", "42". */
const NUMBER_WORD = /^(?:0x)?[0-9a-f]*\d[0-9a-f]*$/i;

/**
 * Addresses printed in dmesg, each with the word that names it: "pagemem addr=ffff8880..." -> pagemem. A number
 * before the address names nothing: "three pages: A B C" names B and C as A ("pages"), and "page A is physical
 * 0x991d000 = A - PAGE_OFFSET" names the second A by the first; with no name on the line, "dmesg line N" (the
 * log's line, not the cell's).
 */
export function addressesInDmesg(lines: string[]): { addr: bigint; label: string; line: number }[] {
  const out: { addr: bigint; label: string; line: number }[] = [];
  lines.forEach((raw, i) => {
    const text = raw.replace(TS, "");
    const named = new Map<bigint, string>();
    let lastName: string | undefined;
    for (const m of text.matchAll(ADDR)) {
      const tok = m[1];
      const addr = BigInt(tok.startsWith("0x") || tok.startsWith("0X") ? tok : "0x" + tok);
      const idx = m.index! + m[0].indexOf(tok);
      const before = text.slice(0, idx).replace(/(?:\s|=|:|\(|\[|,|->|=>|\b(?:addr|address|at|ptr|is|va|virt)\b)*$/i, "");
      // the name starts the word (not the "x991d000" of a number 0x991d000); a call names its result:
      // "kmalloc(100) -> ffff..." is kmalloc(100)
      const word = /(?:^|[^\w.\->[\]])([A-Za-z_][\w.\->[\]]*(?:\([^()]*\))?)$/.exec(before)?.[1];
      const label = word && !NUMBER_WORD.test(word) ? word : (named.get(addr) ?? lastName ?? `dmesg line ${i + 1}`);
      if (!named.has(addr)) named.set(addr, label);
      lastName = label;
      out.push({ addr, label, line: i });
    }
  });
  return out;
}

/** Parse /proc/vmallocinfo: "0xffffc90000000000-0xffffc90000005000   20480 caller+0x1a/0x40 [cell] pages=4 vmalloc N0=4". */
export function parseVmallocinfo(text: string | undefined, moduleFns: string[] = []): VmapArea[] {
  if (!text) return [];
  const out: VmapArea[] = [];
  for (const line of text.split("\n")) {
    const m = /^(0x[0-9a-f]+)-(0x[0-9a-f]+)\s+\d+\s*(.*)$/i.exec(line.trim());
    if (!m) continue;
    const rest = m[3];
    const pages = /\bpages=(\d+)/.exec(rest)?.[1];
    const caller = rest.split(/\s+/)[0] ?? "";
    const mine = /\[(cell|[\w-]*module[\w-]*)\]/.test(rest) || moduleFns.some((f) => caller.startsWith(f + "+"));
    out.push({ start: BigInt(m[1]), end: BigInt(m[2]), caller, pages: pages ? Number(pages) : undefined, flags: rest, mine });
  }
  return out;
}

/** Who made a vmap area, as vmallocinfo says: "acpi_os_map_memory (ioremap)". */
function vmapAreaKind(v: VmapArea): string {
  const fn = v.caller.replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/i, "");
  const type = /\b(ioremap|vmalloc|vmap|user|vpages|vm_map_ram)\b/.exec(v.flags.slice(v.caller.length))?.[1];
  return fn && !/^0x/.test(fn) ? (type ? `${fn} (${type})` : fn) : (type ?? "vmap area");
}

/** Allocations the kernel's inspection data lists, in whatever of the likely shapes it has. */
function kernelAllocations(result: Pick<RunResult, "kernel">): Mark[] {
  const k = obj(result.kernel);
  const list = k && (k.allocations ?? k.moduleAllocations ?? obj(k.module)?.allocations);
  if (!Array.isArray(list)) return [];
  const out: Mark[] = [];
  for (const a of list) {
    const o = obj(a);
    const addr = toBig(o?.addr ?? o?.address ?? o?.start ?? o?.va);
    if (!o || addr === undefined) continue;
    const size = toBig(o.size ?? o.bytes);
    out.push({
      addr,
      size,
      label: String(o.label ?? o.name ?? o.caller ?? o.kind ?? "allocation"),
      kind: o.kind ? String(o.kind) : undefined,
      source: "kernel",
    });
  }
  return out;
}

/**
 * The module's allocations (address, size, allocator), from the one record of its memory the worker derived from
 * the call log and the API table (sandbox/memrecords.ts, shipped in the run's digest: digest.ts `allocs`).
 */
export function allocationsOfRun(result: Pick<RunResult, "kernel">): Mark[] {
  return (digestOf(result)?.allocs ?? []).map((a) => {
    const size = BigInt(a.size);
    return { addr: BigInt(a.addr), size, label: `${a.fn} ${fmtBig(size)}`, kind: a.fn, source: "kernel" as const };
  });
}

export function buildAddrModel(result: RunResult, moduleFns: string[] = []): AddrModel | null {
  const layout = findLayout(result);
  const regions = regionsOf(layout);
  if (regions.length === 0) return null;
  const bits = layout?.bits === 32 ? 32 : 64;
  const inRegion = (a: bigint) => regions.find((r) => a >= r.start && a < r.end);
  const marks: AddrModel["marks"] = [];
  const seen = new Set<string>();
  const vmap = parseVmallocinfo(result.proc?.vmallocinfo, moduleFns);
  for (const m of [...kernelAllocations(result), ...allocationsOfRun(result)]) {
    if (seen.has(m.addr.toString())) continue;
    seen.add(m.addr.toString());
    marks.push({ ...m, region: inRegion(m.addr) });
  }
  const named = new Set<string>();
  for (const d of addressesInDmesg(result.dmesg ?? [])) {
    const region = inRegion(d.addr);
    // hashed %p values and other numbers that are not kernel addresses of this layout
    if (!region || region.kind === "user") continue;
    const key = d.addr.toString();
    const existing = marks.find((m) => m.addr === d.addr);
    if (existing) {
      // the variable that first printed it names it (a later line that prints it again does not rename it); the
      // allocator stays in `kind`
      if (!named.has(key) || (/^dmesg line \d+$/.test(existing.label) && !/^dmesg line \d+$/.test(d.label))) existing.label = d.label;
      named.add(key);
      continue;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    named.add(key);
    // an address inside one of the cell's own buffers (lesson 05 prints each page of its vmalloc buffer) is that
    // buffer's, at an offset: not a buffer of its own with the vmap area's size
    const inside = marks.find((m) => m.source === "kernel" && m.size !== undefined && d.addr > m.addr && d.addr < m.addr + m.size);
    if (inside) {
      marks.push({ addr: d.addr, label: d.label, source: "dmesg", region, kind: `${inside.kind ?? "allocation"}, +0x${(d.addr - inside.addr).toString(16)}` });
      continue;
    }
    // an address inside a vmap area the cell did not make (VMALLOC_START: the boot's first ioremap) is that area's:
    // its caller and type from vmallocinfo, not "vmalloc"
    const area = vmap.find((v) => d.addr >= v.start && d.addr < v.end);
    const kind = !area ? undefined : area.mine ? "vmalloc" : vmapAreaKind(area);
    marks.push({ addr: d.addr, label: d.label, source: "dmesg", region, size: area ? area.end - area.start : undefined, kind });
  }
  marks.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  const model: AddrModel = { regions, marks, vmap, bits };
  const d = digestOf(result);
  if (d) {
    const allocations = d.allocGroups.reduce((n, g) => n + g.count, 0);
    if (allocations > MARKS_LISTED || marks.length > MARKS_LISTED) {
      model.allocations = allocations;
      model.groups = d.allocGroups.filter((g) => g.count > 0).map((g) => ({ ...g, region: inRegion(BigInt(g.lo)) }));
    }
  }
  return model;
}

/** log2 of a bigint, as a float. */
function log2(n: bigint): number {
  if (n <= 0n) return 0;
  const s = n.toString(2).length;
  if (s <= 52) return Math.log2(Number(n));
  return s - 1 + Math.log2(Number(n >> BigInt(s - 52)) / 2 ** 51);
}

/** Fraction [0,1] of `a` within [start, end). */
export function fraction(a: bigint, start: bigint, end: bigint): number {
  const span = end - start;
  if (span <= 0n) return 0;
  const off = a - start;
  // 1e6 resolution is plenty for a drawing
  return Number((off * 1_000_000n) / span) / 1_000_000;
}

/** `onPick(addr)`: a click on a mark, an address in the table, or a vmap area / guard page (the walk view). */
export function renderAddrSpace(model: AddrModel, onPick?: (addr: bigint) => void): HTMLElement {
  const w = model.bits === 64 ? 16 : 8;
  const rows: HTMLElement[] = [];
  // high addresses at the top, as the kernel prints its layout
  const regs = [...model.regions].reverse();
  let prevStart: bigint | undefined;
  for (const r of regs) {
    if (prevStart !== undefined && r.end < prevStart) {
      const gap = prevStart - r.end;
      rows.push(
        h(
          "div",
          { class: "as-row as-hole", style: undefined },
          h("div", { class: "as-piece as-piece-hole", "aria-hidden": "true" }),
          h("div", { class: "as-label" }, h("span", { class: "as-name" }, "unused"), " ", h("span", { class: "as-size" }, fmtBig(gap))),
        ),
      );
    }
    prevStart = r.start;
    const size = r.end - r.start;
    const marks = model.marks.filter((m) => m.region === r);
    // rem: grows with log2(size); pieces holding the cell's addresses get room for their labels
    const height = Math.max(marks.length ? 3.5 : 1.3, Math.min(marks.length ? 6 : 3.5, (log2(size) - 10) / 8));
    const piece = h("div", { class: `as-piece as-kind-${r.kind}`, title: `${r.name}: ${hex(r.start, w)} - ${hex(r.end, w)} (${fmtBig(size)})` });
    piece.style.height = `${height}rem`;
    // marks closer than a few percent of the piece share one tick, so their labels never cover each other
    const groups: { f: number; marks: Mark[] }[] = [];
    for (const m of marks) {
      const f = fraction(m.addr, r.start, r.end);
      const g = groups.find((x) => Math.abs(x.f - f) < 0.06);
      if (g) g.marks.push(m);
      else groups.push({ f, marks: [m] });
    }
    for (const g of groups) {
      const label = g.marks.length > 3 ? `${g.marks[0].label} … ×${g.marks.length}` : g.marks.map((m) => m.label).join(", ");
      const desc =
        g.marks.length > 3
          ? `${g.marks.length} addresses from ${hex(g.marks[0].addr, w)} to ${hex(g.marks[g.marks.length - 1].addr, w)}`
          : g.marks.map((m) => `${m.label} = ${hex(m.addr, w)}`).join("; ");
      const tick = h("button", { class: "as-mark", type: "button", title: desc, "aria-label": `${desc} in ${r.name}` }, h("span", {}, label));
      tick.style.bottom = `${(g.f * 100).toFixed(3)}%`;
      if (onPick) tick.addEventListener("click", () => onPick(g.marks[0].addr));
      piece.append(tick);
    }
    rows.push(
      h(
        "div",
        { class: "as-row" + (marks.length ? " as-has-marks" : "") },
        piece,
        h(
          "div",
          { class: "as-label" },
          h("span", { class: "as-name" }, r.name),
          " ",
          h("span", { class: "as-size" }, fmtBig(size)),
          h("div", { class: "as-range" }, `${hex(r.start, w)} – ${hex(r.end - 1n, w)}`),
          marks.length ? h("div", { class: "as-marks-text" }, marksText(marks, model, r, w)) : null,
        ),
      ),
    );
  }
  const legend = h(
    "p",
    { class: "view-note" },
    "Each piece is one region of the kernel's virtual address space, highest address at the top. Heights grow with the logarithm of the size (the true size is written beside it); inside a piece, positions are to scale.",
  );
  const out = h("div", { class: "addrspace" }, legend, h("div", { class: "as-column", role: "list" }, rows));
  rows.forEach((r) => r.setAttribute("role", "listitem"));
  if (model.groups) out.append(groupTable(model, w, onPick));
  if (model.marks.length) {
    const table = marksTable(model, w, onPick);
    if (model.groups || model.marks.length > MARKS_LISTED) {
      // summarised above: the addresses one by one on request, a page at a time
      out.append(
        lazyList(
          `The cell's addresses one by one (${model.marks.length}${model.allocations && model.allocations > model.marks.length ? ` listed of ${model.allocations} allocations` : ""})`,
          table.root,
          table.addRows,
          model.marks.length,
        ),
      );
    } else {
      table.addRows(0, model.marks.length);
      out.append(table.root);
    }
  }
  const vr = model.regions.find((r) => r.kind === "vmalloc");
  if (vr && model.vmap.length) out.append(renderVmallocZoom(vr, model, w, onPick));
  return out;
}

/** Zoom into the used part of the vmalloc area: every vmap area, its guard page, the cell's areas highlighted. */
function renderVmallocZoom(vr: Region, model: AddrModel, w: number, onPick?: (addr: bigint) => void): HTMLElement {
  const areas = model.vmap.filter((a) => a.start >= vr.start && a.end <= vr.end);
  const details = h("details", { class: "vm-zoom" }, h("summary", {}, `Zoom into ${vr.name}: ${areas.length} vmap areas`));
  if (!areas.length) return details;
  const lo = areas[0].start;
  const hi = areas.reduce((m, a) => (a.end > m ? a.end : m), areas[0].end);
  const strip = h("div", { class: "vm-strip", role: "list", "aria-label": `vmap areas from ${hex(lo, w)} to ${hex(hi, w)}` });
  const page = 4096n;
  for (const a of areas) {
    const left = fraction(a.start, lo, hi) * 100;
    const width = Math.max(0.3, (fraction(a.end, lo, hi) - fraction(a.start, lo, hi)) * 100);
    const guard = a.end - a.start > page && !/\bioremap\b|\bvm_map_ram\b/.test(a.flags) ? Math.max(0.15, (Number(page) / Number(a.end - a.start)) * 100) : 0;
    const el = h(
      "div",
      { class: "vm-area" + (a.mine ? " vm-mine" : ""), role: "listitem", title: `${hex(a.start, w)}-${hex(a.end, w)} ${fmtBig(a.end - a.start)} ${a.flags}` },
      h("span", { class: "vm-guard", "aria-label": "guard page" }),
    );
    el.style.left = `${left}%`;
    el.style.width = `${width}%`;
    (el.firstChild as HTMLElement).style.width = `${Math.min(guard, 50)}%`;
    if (onPick) {
      // a click on the hatched end walks the guard page (it stops at an empty entry); elsewhere, the area's first page
      el.style.cursor = "pointer";
      el.addEventListener("click", (ev) => onPick(guard && ev.target === el.firstChild ? a.end - page : a.start));
    }
    strip.append(el);
  }
  details.append(
    h(
      "p",
      { class: "view-note" },
      `From ${hex(lo, w)} to ${hex(hi, w)} (${fmtBig(hi - lo)}), to scale. Each vmap area ends with an unmapped guard page (hatched) that catches overruns. The cell's areas are highlighted.`,
    ),
    strip,
  );
  return details;
}

function marksText(marks: AddrModel["marks"], model: AddrModel, r: Region, w: number): string {
  const groups = model.groups?.filter((g) => g.region === r);
  if (groups?.length) return groups.map((g) => `${g.fn}${g.size !== undefined ? ` ${fmtBytes(g.size)}` : ""} ×${g.count}`).join(", ");
  const shown = marks
    .slice(0, 6)
    .map((m) => `${m.label} ${hex(m.addr, w)}`)
    .join(", ");
  return marks.length > 6 ? `${shown}, … and ${marks.length - 6} more` : shown;
}

/** The run's allocations by function and size: one row per group, whatever the count. */
function groupTable(model: AddrModel, w: number, onPick?: (addr: bigint) => void): HTMLElement {
  const groups = model.groups ?? [];
  const addr = (a: string) =>
    onPick && a
      ? h("button", { type: "button", class: "addr-link", title: "Walk the page tables for this address", onclick: () => onPick(BigInt(a)) }, hex(BigInt(a), w))
      : a
        ? hex(BigInt(a), w)
        : "—";
  return h(
    "table",
    { class: "proc-table as-table as-groups" },
    h("caption", {}, `The cell's ${model.allocations ?? 0} allocations, by function and size`),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "allocated by"),
        h("th", { scope: "col" }, "size"),
        h("th", { scope: "col" }, "count"),
        h("th", { scope: "col" }, "lowest address"),
        h("th", { scope: "col" }, "highest address"),
        h("th", { scope: "col" }, "region"),
        h("th", { scope: "col" }, "line"),
      ),
    ),
    h(
      "tbody",
      {},
      groups.map((g) =>
        h(
          "tr",
          {},
          h("td", { class: "mono" }, g.fn),
          h("td", {}, g.size !== undefined ? fmtBytes(g.size) : ""),
          h("td", { class: "num" }, String(g.count) + (g.failed ? ` (+${g.failed} NULL)` : "")),
          h("td", { class: "mono" }, addr(g.lo)),
          h("td", { class: "mono" }, addr(g.hi)),
          h("td", {}, g.region?.name ?? "—"),
          h("td", {}, g.line !== undefined ? String(g.line) : ""),
        ),
      ),
    ),
  );
}

function marksTable(model: AddrModel, w: number, onPick?: (addr: bigint) => void): { root: HTMLElement; addRows(from: number, to: number): void } {
  const tbody = h("tbody", {});
  const root = h(
    "table",
    { class: "proc-table as-table" },
    h("caption", {}, "The cell's addresses"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "printed as"),
        h("th", { scope: "col" }, "allocated by"),
        h("th", { scope: "col" }, "address"),
        h("th", { scope: "col" }, "region"),
        h("th", { scope: "col" }, "offset in region"),
        h("th", { scope: "col" }, "size"),
      ),
    ),
    tbody,
  );
  const addRows = (from: number, to: number) => {
    for (const m of model.marks.slice(from, to))
      tbody.append(
        h(
          "tr",
          {},
          h("td", {}, m.source === "dmesg" || !m.kind || (m.label !== m.kind && !m.label.startsWith(m.kind + " ")) ? m.label : "—"),
          h("td", { class: "mono" }, m.kind ?? ""),
          h(
            "td",
            { class: "mono" },
            onPick
              ? h(
                  "button",
                  { type: "button", class: "addr-link", title: "Walk the page tables for this address", onclick: () => onPick(m.addr) },
                  hex(m.addr, w),
                )
              : hex(m.addr, w),
          ),
          h("td", {}, m.region?.name ?? "—"),
          h("td", { class: "mono" }, m.region ? "+" + hex(m.addr - m.region.start) : ""),
          h("td", {}, m.size !== undefined ? fmtBig(m.size) : ""),
        ),
      );
  };
  return { root, addRows };
}

/** A closed <details> that shows `total` rows a page at a time once opened ("Show N more"). */
export function lazyList(
  summary: string,
  body: HTMLElement,
  addRows: (from: number, to: number) => void,
  total: number,
  page = MARKS_PAGE,
): HTMLDetailsElement {
  const d = h("details", { class: "as-drill" }, h("summary", {}, summary));
  let shown = 0;
  const more = h("button", { type: "button", class: "btn small as-more" });
  const next = () => {
    const to = Math.min(total, shown + page);
    addRows(shown, to);
    shown = to;
    more.textContent = `Show ${Math.min(page, total - shown)} more (${shown} of ${total} shown)`;
    more.hidden = shown >= total;
  };
  more.addEventListener("click", next);
  d.addEventListener("toggle", () => {
    if (d.open && shown === 0) {
      d.append(body, more);
      next();
    }
  });
  return d;
}
