// View: the two address spaces side by side (issue 19, the notebook). On the left the user program's address space,
// its VMAs as /proc/PID/maps lists them with the pages present in each; on the right the kernel's, its layout
// regions with the cell's buffers in them; between them every physical frame that both sides map (a driver's mmap:
// remap_pfn_range, vm_insert_page, remap_vmalloc_range), as one numbered, coloured link that names the frame, the
// user address and the kernel address. Pointing at a link, a VMA or a buffer highlights its links on both sides.
//
// It scales like the other views: the inputs are already bounded (the first LIST_KEPT present pages of the process,
// the first BUFFERS_KEPT buffers of the digest); the view groups the frames of one (VMA, buffer) pair into one link,
// and lists at most VMA_ROWS VMAs and LINK_ROWS links, saying how many more there are.
//
// A frame counts as shared when a present user page maps it and one of the cell's buffers holds it (the frames the
// worker found behind each buffer, session.ts cellBuffers). Frames the process shares with the kernel in other ways
// (every anonymous page is also in the kernel's direct map) are not links: each link is a buffer the module handed out.

import type { RunResult } from "../../../sandbox/result.ts";
import type { UserOutcome } from "../../../sandbox/user.ts";
import type { CellBuffer } from "../protocol.ts";
import { fmtBig, h, hex, toBig } from "../dom.ts";
import { findLayout, regionsOf, type Region } from "./addrspace.ts";

/** VMAs listed (those with links first are always kept); the rest are counted. */
export const VMA_ROWS = 48;
/** Links listed; the rest are counted. */
export const LINK_ROWS = 32;
/** Colours the links cycle through (CSS classes both-c0 .. both-c5). */
const COLOURS = 6;

export interface Vma {
  start: bigint;
  end: bigint;
  perms: string;
  /** The maps line's path or [heap], [stack], ...; "" for an anonymous mapping. */
  name: string;
  /** Present pages in it (of the pages the run kept), by kind (anon, zero, pfnmap...). */
  present: number;
  kinds: Record<string, number>;
}

export interface KBuffer {
  fn: string;
  addr: bigint;
  kind: CellBuffer["kind"];
  frames: number;
  size?: number;
  line?: number;
  /** The kernel region it lies in (layout), when one holds it. */
  region?: string;
}

/** The frames one VMA and one buffer both map (consecutive pages of the pair). */
export interface Link {
  id: number;
  vma: number;
  buffer: number;
  frames: number;
  /** The first shared frame: its pfn, and where each side sees it. */
  pfn: number;
  userAddr: bigint;
  kernelAddr: bigint;
  /** The same frame in the kernel's direct map, when the buffer's address is elsewhere (vmalloc). */
  directMap?: bigint;
}

export interface BothModel {
  pid: number;
  comm: string;
  bits: 32 | 64;
  vmas: Vma[];
  regions: Region[];
  buffers: KBuffer[];
  links: Link[];
  /** Present pages the run kept against how many there were (a big program's list is cut). */
  pagesKept: number;
  pagesTotal: number;
  /** Frames both sides map, over all links. */
  sharedFrames: number;
}

const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) [0-9a-f]+ \S+ \d+\s*(.*)$/;

/** /proc/PID/maps -> VMAs (address order, as the file lists them). */
export function parseMaps(maps: string): Vma[] {
  const out: Vma[] = [];
  for (const line of maps.split("\n")) {
    const m = MAPS_LINE.exec(line);
    if (!m) continue;
    out.push({ start: BigInt("0x" + m[1]), end: BigInt("0x" + m[2]), perms: m[3], name: m[4].trim(), present: 0, kinds: {} });
  }
  return out;
}

/** The VMA holding `addr` (VMAs sorted by start, not overlapping), or -1. */
function vmaOf(vmas: Vma[], addr: bigint): number {
  let lo = 0;
  let hi = vmas.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (addr < vmas[mid].start) hi = mid - 1;
    else if (addr >= vmas[mid].end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The model of the view, or null when the cell ran no user program. */
export function buildBothModel(result: Pick<RunResult, "kernel"> & { user?: UserOutcome }): BothModel | null {
  const u = result.user;
  if (!u) return null;
  const layout = findLayout(result);
  const regions = regionsOf(layout);
  const top = regions.length ? regions[regions.length - 1].end : 0n;
  const bits: 32 | 64 = top > 0xffffffffn || /-[0-9a-f]{9,}/.test(u.maps) ? 64 : 32;
  const vmas = parseMaps(u.maps).sort((a, b) => (a.start < b.start ? -1 : 1));
  const pages = u.pages.map((p) => ({ addr: toBig(p.addr) ?? 0n, pfn: p.pfn, kind: p.kind })).sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  const pageVma = pages.map((p) => vmaOf(vmas, p.addr));
  pages.forEach((p, i) => {
    const v = vmas[pageVma[i]];
    if (!v) return;
    v.present++;
    v.kinds[p.kind] = (v.kinds[p.kind] ?? 0) + 1;
  });
  const kernel = (result.kernel ?? {}) as { cellMemory?: CellBuffer[] };
  const raw = Array.isArray(kernel.cellMemory) ? kernel.cellMemory : [];
  const regionOf = (a: bigint) => regions.find((r) => a >= r.start && a < r.end)?.name;
  const buffers: KBuffer[] = raw.map((b) => {
    const addr = toBig(b.addr) ?? 0n;
    return { fn: b.fn, addr, kind: b.kind, frames: b.frames, size: b.size, line: b.line, region: regionOf(addr) };
  });
  // user pages by frame, to meet the buffers' frame runs (a run is checked against the sorted pfns: a buffer of
  // a million frames costs one binary search per run, not one lookup per frame)
  const byPfn = pages.map((p, i) => ({ pfn: p.pfn, i })).sort((a, b) => a.pfn - b.pfn || a.i - b.i);
  const lowerBound = (pfn: number) => {
    let lo = 0;
    let hi = byPfn.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byPfn[mid].pfn < pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const hits: { page: number; buffer: number; index: number }[] = [];
  raw.forEach((b, bi) => {
    let offset = 0;
    for (const [first, count] of b.pfnRuns) {
      for (let j = lowerBound(first); j < byPfn.length && byPfn[j].pfn < first + count; j++)
        hits.push({ page: byPfn[j].i, buffer: bi, index: offset + byPfn[j].pfn - first });
      offset += count;
    }
  });
  // one link per (VMA, buffer) pair, numbered in the order the cell allocated its buffers
  hits.sort((a, b) => a.buffer - b.buffer || a.page - b.page);
  const linear = regions.find((r) => r.kind === "linear");
  const links: Link[] = [];
  const byPair = new Map<string, Link>();
  for (const x of hits) {
    const vma = pageVma[x.page];
    const key = `${vma}:${x.buffer}`;
    const l = byPair.get(key);
    if (l) {
      l.frames++;
      continue;
    }
    const p = pages[x.page];
    const b = buffers[x.buffer];
    const kernelAddr = (b.addr & ~0xfffn) + BigInt(x.index) * 4096n;
    const direct = linear ? linear.start + BigInt(p.pfn) * 4096n : undefined;
    const link: Link = {
      id: links.length + 1,
      vma,
      buffer: x.buffer,
      frames: 1,
      pfn: p.pfn,
      userAddr: p.addr,
      kernelAddr,
      ...(direct !== undefined && direct !== kernelAddr && direct < linear!.end ? { directMap: direct } : {}),
    };
    byPair.set(key, link);
    links.push(link);
  }
  return {
    pid: u.pid,
    comm: u.comm,
    bits,
    vmas,
    regions,
    buffers,
    links,
    pagesKept: u.pages.length,
    pagesTotal: u.pagesTotal ?? u.pages.length,
    sharedFrames: hits.length,
  };
}

const plural = (n: number, one: string, many = one + "s") => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** One of the three columns: a heading, then its rows as a list. */
function column(cls: string, heading: string, label: string, rows: HTMLElement[]): HTMLElement {
  return h("div", { class: `both-col ${cls}` }, h("h5", {}, heading), h("div", { role: "list", "aria-label": label }, rows));
}

/** "link 1" chips for the links of a VMA or buffer. */
function chips(links: Link[]): HTMLElement[] {
  return links.map((l) =>
    h("span", { class: `both-chip both-c${(l.id - 1) % COLOURS}`, "data-links": String(l.id), title: `shared frame link ${l.id}: pfn ${l.pfn}` }, `⇄${l.id}`),
  );
}

export function renderBoth(model: BothModel): HTMLElement {
  const w = model.bits === 64 ? 16 : 8;
  // the links listed; the VMAs and buffers show chips for these only
  const shown = model.links.slice(0, LINK_ROWS);
  const linksOfVma = (i: number) => shown.filter((l) => l.vma === i);
  const linksOfBuf = (i: number) => shown.filter((l) => l.buffer === i);
  const ids = (ls: Link[]) => ls.map((l) => l.id).join(" ");

  // the process: VMAs, highest address at the top (as the kernel's side); those of the listed links always shown
  const keep = new Set<number>(shown.map((l) => l.vma));
  for (let i = model.vmas.length - 1; i >= 0 && keep.size < VMA_ROWS; i--) keep.add(i);
  const vmaRows: HTMLElement[] = [];
  for (let i = model.vmas.length - 1; i >= 0; i--) {
    if (!keep.has(i)) continue;
    const v = model.vmas[i];
    const ls = linksOfVma(i);
    const kinds = Object.entries(v.kinds)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ");
    vmaRows.push(
      h(
        "div",
        { class: "both-row both-vma" + (ls.length ? " both-linked" : ""), role: "listitem", "data-links": ids(ls) || undefined },
        h("div", { class: "both-name" }, v.name || "(anonymous)", " ", h("span", { class: "both-perms mono" }, v.perms), ...chips(ls)),
        h("div", { class: "both-range mono" }, `${hex(v.start, w)} – ${hex(v.end - 1n, w)}`, " ", h("span", { class: "both-size" }, fmtBig(v.end - v.start))),
        h("div", { class: "both-pages" }, v.present ? `${plural(v.present, "page")} present: ${kinds}` : "no page present"),
      ),
    );
  }
  const hiddenVmas = model.vmas.length - keep.size;
  if (hiddenVmas > 0)
    vmaRows.push(h("div", { class: "both-more", role: "listitem" }, `… and ${plural(hiddenVmas, "more VMA")} (all of them in /proc/${model.pid}/maps above)`));

  // the kernel: its regions, highest at the top, with the cell's buffers inside
  const kernelRows: HTMLElement[] = [];
  const bufRow = (b: KBuffer, i: number) => {
    const ls = linksOfBuf(i);
    return h(
      "div",
      { class: "both-row both-buf" + (ls.length ? " both-linked" : ""), role: "listitem", "data-links": ids(ls) || undefined },
      h("div", { class: "both-name" }, b.fn, b.line ? h("span", { class: "both-line" }, ` (line ${b.line})`) : null, ...chips(ls)),
      h("div", { class: "both-range mono" }, hex(b.addr, w)),
      h(
        "div",
        { class: "both-pages" },
        `${plural(b.frames, "frame")}${b.kind === "vmalloc" ? ", mapped page by page" : ", physically contiguous"}${model.links.some((l) => l.buffer === i) ? "" : ": not mapped by the process"}`,
      ),
    );
  };
  const placed = new Set<number>();
  // (the layout's user region is the left column)
  for (const r of [...model.regions].reverse().filter((x) => x.kind !== "user")) {
    const inside = model.buffers.map((b, i) => [b, i] as const).filter(([b]) => b.region === r.name);
    inside.forEach(([, i]) => placed.add(i));
    // a region holding none of the cell's buffers takes one short line (its range in the tooltip)
    const range = `${hex(r.start, w)} – ${hex(r.end - 1n, w)}`;
    kernelRows.push(
      h(
        "div",
        { class: `both-region as-kind-${r.kind}` + (inside.length ? " both-has" : ""), role: "listitem", title: `${r.name}: ${range}` },
        h("span", { class: "both-name" }, r.name),
        " ",
        inside.length ? h("span", { class: "both-range mono" }, range) : h("span", { class: "both-size" }, fmtBig(r.end - r.start)),
      ),
    );
    for (const [b, i] of inside) kernelRows.push(bufRow(b, i));
  }
  model.buffers.forEach((b, i) => {
    if (!placed.has(i)) kernelRows.push(bufRow(b, i));
  });
  if (!model.buffers.length) kernelRows.push(h("div", { class: "both-more", role: "listitem" }, "(the cell allocated no buffer)"));

  // the frames both see
  const linkRows: HTMLElement[] = shown.map((l) => {
    const v = model.vmas[l.vma];
    const b = model.buffers[l.buffer];
    return h(
      "div",
      { class: `both-row both-link both-c${(l.id - 1) % COLOURS}`, role: "listitem", "data-links": String(l.id), tabindex: "0" },
      h("div", { class: "both-name" }, `⇄${l.id} pfn ${l.pfn} (${hex(BigInt(l.pfn))})`, l.frames > 1 ? ` and ${plural(l.frames - 1, "more frame")}` : ""),
      h("div", { class: "both-range mono" }, `user ${hex(l.userAddr, w)}`),
      h("div", { class: "both-range mono" }, `kernel ${hex(l.kernelAddr, w)}`),
      l.directMap !== undefined ? h("div", { class: "both-range mono both-direct" }, `and ${hex(l.directMap, w)} (direct map)`) : null,
      h("div", { class: "both-pages" }, `${v ? v.name || "(anonymous)" : "?"} ⇄ ${b ? b.fn : "?"}`),
    );
  });
  if (model.links.length > LINK_ROWS)
    linkRows.push(h("div", { class: "both-more", role: "listitem" }, `… and ${plural(model.links.length - LINK_ROWS, "more link")}`));
  if (!model.links.length)
    linkRows.push(h("div", { class: "both-more", role: "listitem" }, "No frame is mapped by both: the process and the cell's buffers use different memory."));

  const cut =
    model.pagesTotal > model.pagesKept
      ? ` Of the ${plural(model.pagesTotal, "present page")}, the first ${model.pagesKept.toLocaleString("en-US")} are counted.`
      : "";
  const summary = model.links.length
    ? `${plural(model.sharedFrames, "physical frame")} mapped by both the process and the kernel, in ${plural(model.links.length, "link")}.`
    : "No physical frame is mapped by both sides.";
  const root = h(
    "div",
    { class: "both" },
    h("p", { class: "both-summary", "data-fig": "shared-frames" }, summary),
    h(
      "p",
      { class: "view-note" },
      `Left, the process's address space (its VMAs, highest address at the top); right, the kernel's, with the cell's buffers in their regions; between them, each physical frame both map, with the address each side uses for it. Point at a link, a VMA or a buffer to see its partners.${cut}`,
    ),
    h(
      "div",
      { class: "both-grid" },
      column("both-user", `process ${model.pid} (${model.comm}): user space`, "the process's address space", vmaRows),
      column("both-links", "frames both map", "frames both map", linkRows),
      column("both-kernel", "the kernel", "the kernel's address space", kernelRows),
    ),
  );
  // highlight a link's three places (its VMA, its row, its buffer) from any of them
  const lit = (target: EventTarget | null) => {
    for (const el of root.querySelectorAll(".both-hl")) el.classList.remove("both-hl");
    const src = (target as Element | null)?.closest?.("[data-links]");
    if (!src) return;
    const want = new Set(src.getAttribute("data-links")!.split(" "));
    for (const el of root.querySelectorAll("[data-links]"))
      if (
        el
          .getAttribute("data-links")!
          .split(" ")
          .some((x) => want.has(x))
      )
        el.classList.add("both-hl");
  };
  root.addEventListener("pointerover", (e) => lit(e.target));
  root.addEventListener("focusin", (e) => lit(e.target));
  root.addEventListener("pointerleave", () => lit(null));
  return root;
}
