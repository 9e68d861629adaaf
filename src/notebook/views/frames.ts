// View: physical memory as a frame map per zone, coloured by owner (free, kernel image, boot, page tables, slab,
// vmalloc pages, the cell's pages), drawn on a canvas (a 4 GiB machine is a million frames: one square per bucket of
// frames, at most BUCKETS_PER_ZONE squares a zone, never one DOM node per frame). A bucket takes the colour of the
// cell's buffers if it holds any of their frames (so a scattered vmalloc buffer stays visible), else of its majority
// owner. Below, each of the cell's buffers as "virtual pages -> frames": parallel lines for a physically contiguous
// buffer (kmalloc, __get_free_pages), crossing ones for pages taken wherever they were free (vmalloc).
// Reads the kernel's inspection data defensively: the shape grows with the kernel. The cell's buffers come from
// RunResult.kernel.cellMemory (the run worker's KernelSession: the frames before module_exit freed them).

import { h } from "../dom.ts";
import { linkAddresses } from "./walk.ts";
import type { CellBuffer } from "../protocol.ts";
import { fmtBytes } from "../dom.ts";
import type { BufferGroup } from "../digest.ts";

export interface FrameZone {
  name: string;
  startPfn: number;
  endPfn: number;
}

export interface FrameModel {
  zones: FrameZone[];
  /** owner name per run of frames: [startPfn, count, owner]. Frames not covered are "Free". */
  runs: [number, number, string][];
  /** PFNs the cell owns (its pages, its vmalloc pages, large kmallocs) as the kernel's records show them after the run. */
  mine: Set<number>;
  /** The cell's buffers and their frames (while the module was loaded), when the worker supplied them. */
  buffers: CellBuffer[];
  /** All the cell's frames (merged runs per kind) when the worker listed only the first buffers (digest.ts). */
  cellFrames?: { vmalloc: number[]; contig: number[] };
  /** The buffers past the listed ones, grouped; and how many buffers there were in all. */
  bufferGroups?: BufferGroup[];
  buffersTotal?: number;
  /** Buffers the cell freed before rmmod (not listed: their frames may hold a later buffer). */
  freedEarly?: number;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && /^(0x)?[0-9a-f]+$/i.test(v) ? Number(v) : undefined;

function pick(k: Record<string, unknown>, paths: string[]): unknown {
  for (const p of paths) {
    let v: unknown = k;
    for (const part of p.split(".")) v = obj(v)?.[part];
    if (v !== undefined) return v;
  }
  return undefined;
}

export function buildFrameModel(kernel: Record<string, unknown> | undefined): FrameModel | null {
  if (!kernel) return null;
  const zonesRaw = pick(kernel, ["zones", "pages.zones", "layout.zones"]);
  const zones: FrameZone[] = [];
  if (Array.isArray(zonesRaw))
    for (const z of zonesRaw) {
      const o = obj(z);
      const s = num(o?.startPfn);
      const e = num(o?.endPfn);
      if (o && s !== undefined && e !== undefined && e > s) zones.push({ name: String(o.name), startPfn: s, endPfn: e });
    }
  if (!zones.length) return null;
  const runs: FrameModel["runs"] = [];
  const mine = new Set<number>();
  const frames = obj(pick(kernel, ["frames", "frameMap"]));
  const names = Array.isArray(frames?.ownerNames) ? (frames!.ownerNames as string[]) : [];
  if (frames && Array.isArray(frames.runs)) {
    for (const r of frames.runs as unknown[]) {
      if (!Array.isArray(r)) continue;
      const [s, c, o] = r as [number, number, number | string];
      runs.push([s, c, typeof o === "number" ? (names[o] ?? String(o)) : String(o)]);
    }
  } else {
    // Only the allocated blocks are known: everything else in the zones counts as free, the memblock reservations
    // (kernel image, initrd, mem_map...) as what they are.
    const res = pick(kernel, ["layout.reservations", "reservations"]);
    if (Array.isArray(res))
      for (const r of res) {
        const o = obj(r);
        const s = num(o?.start);
        const e = num(o?.end);
        if (o && s !== undefined && e !== undefined)
          runs.push([Math.floor(s / 4096), Math.max(1, Math.ceil((e - s) / 4096)), /kernel|code|data|bss/i.test(String(o.what)) ? "KernelImage" : "Boot"]);
      }
    const allocs = pick(kernel, ["allocations", "pages.allocations", "pageAllocations"]);
    if (!Array.isArray(allocs)) return null;
    for (const a of allocs) {
      const o = obj(a);
      const pfn = num(o?.pfn);
      if (!o || pfn === undefined) continue;
      const count = 2 ** (num(o.order) ?? 0);
      const owner = String(o.ownerName ?? o.owner ?? "Kernel");
      runs.push([pfn, count, owner]);
      if (owner === "Module" || owner === "KmallocLarge" || owner === "Dma") for (let i = 0; i < count; i++) mine.add(pfn + i);
    }
  }
  const areas = pick(kernel, ["vmalloc.areas", "vmallocAreas", "vmap"]);
  if (Array.isArray(areas))
    for (const a of areas) {
      const o = obj(a);
      if (!o || o.owner !== "module") continue;
      if (Array.isArray(o.pages)) {
        for (const p of o.pages as unknown[]) if (typeof p === "number") mine.add(p);
      } else if (Array.isArray(o.pageRuns)) {
        // Large areas list their pages as [firstPfn, count] runs only (sandbox/kview.ts).
        for (const r of o.pageRuns as unknown[])
          if (Array.isArray(r) && typeof r[0] === "number" && typeof r[1] === "number") for (let i = 0; i < r[1]; i++) mine.add(r[0] + i);
      }
    }
  const buffers: CellBuffer[] = [];
  const cm = pick(kernel, ["cellMemory"]);
  if (Array.isArray(cm))
    for (const b of cm) {
      const o = obj(b);
      if (!o || !Array.isArray(o.pfnRuns) || typeof o.fn !== "string") continue;
      const kind = o.kind === "vmalloc" || o.kind === "kmalloc" || o.kind === "pages" ? o.kind : "pages";
      const pfnRuns = (o.pfnRuns as unknown[]).filter((r): r is [number, number] => Array.isArray(r) && typeof r[0] === "number" && typeof r[1] === "number");
      buffers.push({ fn: o.fn, addr: String(o.addr), size: num(o.size), line: num(o.line), kind, pfnRuns, frames: pfnRuns.reduce((n, r) => n + r[1], 0) });
    }
  const model: FrameModel = { zones, runs, mine, buffers };
  const d = obj(kernel.digest);
  const cf = obj(d?.cellFrames);
  if (cf && Array.isArray(cf.vmalloc) && Array.isArray(cf.contig)) {
    model.cellFrames = { vmalloc: cf.vmalloc as number[], contig: cf.contig as number[] };
    model.bufferGroups = Array.isArray(d!.bufferGroups) ? (d!.bufferGroups as BufferGroup[]) : [];
    model.buffersTotal = num(d!.buffersTotal);
    model.freedEarly = num(d!.freedEarly);
  }
  return model;
}

const OWNER_VARS: Record<string, string> = {
  Free: "--fm-free",
  Reserved: "--fm-reserved",
  KernelImage: "--fm-image",
  Boot: "--fm-boot",
  PageTable: "--fm-pt",
  Slab: "--fm-slab",
  Vmalloc: "--fm-vmalloc",
  Module: "--fm-mine",
  KmallocLarge: "--fm-mine",
  Dma: "--fm-mine",
  Bad: "--fm-bad",
  Kernel: "--fm-kernel",
  PageCache: "--fm-pagecache",
  Anon: "--fm-anon",
};
/** Pseudo-owners for the cell's buffers (drawn over the kernel's owner of the frame). */
const CELL_VMALLOC = "cell: vmalloc buffer";
const CELL_CONTIG = "cell: kmalloc / page buffer";
const CELL_VARS: Record<string, string> = { [CELL_VMALLOC]: "--fm-mine", [CELL_CONTIG]: "--fm-mine-k", Module: "--fm-mine" };

/** At most this many squares per zone (128 columns x 32 rows). */
export const BUCKETS_PER_ZONE = 4096;
const COLS = 128;
const SQ = 5; // px, plus a 1 px gap

export interface ZoneBuckets {
  zone: FrameZone;
  /** Frames per square (a power of two). */
  per: number;
  /** The owner name drawn for each square. */
  owner: string[];
  /** Square bi's frames per owner (the cell's buffers included), largest first: for the details line. */
  countsAt(bi: number): [string, number][];
  totals: Map<string, number>;
  /** Frames of the cell's buffers in this zone. */
  cellFrames: number;
}

/** Bucket one zone's frames: O(runs + squares x owners) in typed arrays, whatever the RAM size. */
export function bucketZone(model: FrameModel, z: FrameZone, maxSquares = BUCKETS_PER_ZONE): ZoneBuckets {
  const span = z.endPfn - z.startPfn;
  let per = 1;
  while (span / per > maxSquares) per *= 2;
  const nb = Math.ceil(span / per);
  const names: string[] = [];
  const index = new Map<string, number>();
  const idx = (o: string) => index.get(o) ?? (index.set(o, names.length), names.push(o), names.length - 1);
  for (const [, , o] of model.runs) idx(o);
  const cellNames = model.buffers.length || model.cellFrames ? [CELL_VMALLOC, CELL_CONTIG] : ["Module"];
  const cellIdx = cellNames.map(idx);
  idx("Free");
  const K = names.length;
  const counts = new Uint32Array(nb * K);
  const totals = new Map<string, number>();
  const add = (s: number, c: number, o: number) => {
    const a = Math.max(s, z.startPfn);
    const b = Math.min(s + c, z.endPfn);
    if (b <= a) return 0;
    for (let bi = Math.floor((a - z.startPfn) / per); bi * per + z.startPfn < b; bi++) {
      const lo = Math.max(a, z.startPfn + bi * per);
      const hi = Math.min(b, z.startPfn + (bi + 1) * per);
      counts[bi * K + o] += hi - lo;
    }
    return b - a;
  };
  let covered = 0;
  for (const [s, c, owner] of model.runs) {
    const n = add(s, c, idx(owner));
    covered += n;
    if (n) totals.set(owner, (totals.get(owner) ?? 0) + n);
  }
  totals.set("Free", (totals.get("Free") ?? 0) + Math.max(0, span - covered));
  // the cell's frames: its buffers when the worker listed them, else the pages the records still show as its own
  let cellFrames = 0;
  if (model.cellFrames) {
    const { vmalloc, contig } = model.cellFrames;
    for (let i = 0; i + 1 < vmalloc.length; i += 2) cellFrames += add(vmalloc[i], vmalloc[i + 1], cellIdx[0]);
    for (let i = 0; i + 1 < contig.length; i += 2) cellFrames += add(contig[i], contig[i + 1], cellIdx[1]);
  } else if (model.buffers.length) {
    for (const buf of model.buffers) for (const [s, c] of buf.pfnRuns) cellFrames += add(s, c, buf.kind === "vmalloc" ? cellIdx[0] : cellIdx[1]);
  } else {
    for (const p of model.mine) cellFrames += add(p, 1, cellIdx[0]);
  }
  const isCell = new Uint8Array(K);
  for (const i of cellIdx) isCell[i] = 1;
  const owner: string[] = new Array(nb);
  for (let bi = 0; bi < nb; bi++) {
    const row = bi * K;
    let best = 0;
    let o = -1;
    for (const i of cellIdx) if (counts[row + i] > best) [best, o] = [counts[row + i], i];
    if (o < 0) {
      let used = 0;
      for (let i = 0; i < K; i++) {
        if (isCell[i]) continue;
        used += counts[row + i];
        if (counts[row + i] > best) [best, o] = [counts[row + i], i];
      }
      const inZone = Math.min(per, z.endPfn - (z.startPfn + bi * per));
      if (inZone - used > best || o < 0) o = idx("Free");
    }
    owner[bi] = names[o];
  }
  const countsAt = (bi: number): [string, number][] => {
    const row = bi * K;
    const out: [string, number][] = [];
    let used = 0;
    for (let i = 0; i < K; i++) {
      if (!counts[row + i]) continue;
      out.push([names[i], counts[row + i]]);
      if (!isCell[i]) used += counts[row + i];
    }
    const inZone = Math.min(per, z.endPfn - (z.startPfn + bi * per));
    if (inZone > used) {
      const f = out.find(([n]) => n === "Free");
      if (f) f[1] += inZone - used;
      else out.push(["Free", inZone - used]);
    }
    return out.sort((x, y) => y[1] - x[1]);
  };
  return { zone: z, per, owner, countsAt, totals, cellFrames };
}

/** The stylesheet's colour for a variable (light or dark theme); one style read per frame map, not per square. */
let styleCache: { at: number; style: CSSStyleDeclaration } | undefined;
function cssColor(v: string): string {
  if (typeof getComputedStyle !== "function") return "#888";
  const now = performance.now();
  if (!styleCache || now - styleCache.at > 100) styleCache = { at: now, style: getComputedStyle(document.documentElement) };
  return styleCache.style.getPropertyValue(v).trim() || "#888";
}

const colorVar = (owner: string) => CELL_VARS[owner] ?? OWNER_VARS[owner] ?? "--fm-kernel";

const hexPfn = (p: number) => "0x" + p.toString(16);

function zoneCanvas(zb: ZoneBuckets, onInfo: (text: string) => void): HTMLCanvasElement {
  const nb = zb.owner.length;
  const cols = Math.min(COLS, nb);
  const rows = Math.ceil(nb / cols);
  const canvas = h("canvas", {
    class: "fm-canvas",
    role: "img",
    "aria-label": `${zb.zone.name} zone: ${zb.zone.endPfn - zb.zone.startPfn} frames, ${zb.cellFrames} of them the cell's`,
  });
  const dpr = Math.min(2, (globalThis as { devicePixelRatio?: number }).devicePixelRatio || 1);
  canvas.width = cols * (SQ + 1) * dpr;
  canvas.height = rows * (SQ + 1) * dpr;
  canvas.style.width = `${cols * (SQ + 1)}px`;
  canvas.style.height = `${rows * (SQ + 1)}px`;
  const draw = () => {
    const g = canvas.getContext("2d");
    if (!g) return;
    g.scale(dpr, dpr);
    const palette = new Map<string, string>();
    for (let bi = 0; bi < nb; bi++) {
      const o = zb.owner[bi];
      let col = palette.get(o);
      if (!col) palette.set(o, (col = cssColor(colorVar(o))));
      g.fillStyle = col;
      g.fillRect((bi % cols) * (SQ + 1), Math.floor(bi / cols) * (SQ + 1), SQ, SQ);
    }
  };
  // colours come from the stylesheet's variables: draw once the canvas is in the page
  requestAnimationFrame(draw);
  const describe = (ev: MouseEvent) => {
    const r = canvas.getBoundingClientRect();
    const bi = Math.floor((ev.clientY - r.top) / (SQ + 1)) * cols + Math.floor((ev.clientX - r.left) / (SQ + 1));
    if (bi < 0 || bi >= nb) return;
    const lo = zb.zone.startPfn + bi * zb.per;
    const hi = Math.min(zb.zone.endPfn, lo + zb.per) - 1;
    const parts = zb.countsAt(bi).map(([o, n]) => `${o} ${n}`);
    onInfo(`${zb.zone.name}: PFN ${hexPfn(lo)}${hi > lo ? `–${hexPfn(hi)}` : ""} (${hi - lo + 1} frame${hi > lo ? "s" : ""}): ${parts.join(", ")}`);
  };
  canvas.addEventListener("mousemove", describe);
  canvas.addEventListener("click", describe);
  return canvas;
}

/** A buffer's virtual pages (top, in order) joined to their frames (bottom, the frames' span to scale). */
function bufferCanvas(b: CellBuffer): HTMLCanvasElement {
  const pfns: number[] = [];
  for (const [s, c] of b.pfnRuns) for (let i = 0; i < c && pfns.length < 4096; i++) pfns.push(s + i);
  const W = 560;
  const H = 58;
  const canvas = h("canvas", {
    class: "fm-buf-canvas",
    role: "img",
    "aria-label": `${b.fn} at ${b.addr}: ${pfns.length} virtual pages drawn to their frames, ${b.pfnRuns.length} contiguous run${b.pfnRuns.length === 1 ? "" : "s"}`,
  });
  const dpr = Math.min(2, (globalThis as { devicePixelRatio?: number }).devicePixelRatio || 1);
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  canvas.style.width = `${W}px`;
  canvas.style.height = `${H}px`;
  requestAnimationFrame(() => {
    const g = canvas.getContext("2d");
    if (!g) return;
    g.scale(dpr, dpr);
    const lo = Math.min(...pfns);
    const hi = Math.max(...pfns);
    const n = pfns.length;
    const vx = (i: number) => 4 + ((W - 8) * (i + 0.5)) / n;
    const px = (p: number) => 4 + (hi === lo ? (W - 8) / 2 : ((W - 8) * (p - lo)) / (hi - lo));
    const line = cssColor(b.kind === "vmalloc" ? "--fm-mine" : "--fm-mine-k");
    g.fillStyle = cssColor("--muted");
    g.font = "10px system-ui, sans-serif";
    g.fillText("virtual pages, in order", 4, 9);
    g.fillText(`frames PFN ${hexPfn(lo)}–${hexPfn(hi)}`, 4, H - 1);
    g.globalAlpha = n > 64 ? 0.55 : 0.9;
    g.strokeStyle = line;
    g.lineWidth = 1;
    g.beginPath();
    pfns.forEach((p, i) => {
      g.moveTo(vx(i), 14);
      g.lineTo(px(p), H - 14);
    });
    g.stroke();
    g.globalAlpha = 1;
    g.fillStyle = line;
    g.fillRect(4, 11, W - 8, 3);
    pfns.forEach((p) => g.fillRect(px(p) - 1, H - 14, 2, 3));
  });
  return canvas;
}

function bufferRow(b: CellBuffer, label: string | undefined, pick?: (a: bigint) => void): HTMLElement {
  const runs = b.pfnRuns.length;
  const first = b.pfnRuns[0];
  const what =
    b.frames === 1
      ? `one frame, PFN ${hexPfn(first[0])}${b.kind === "kmalloc" ? " (a slab page: the object is part of it)" : ""}`
      : runs === 1
        ? `${b.frames} frames, all consecutive: PFN ${hexPfn(first[0])}–${hexPfn(first[0] + first[1] - 1)}`
        : `${b.frames} frames in ${runs} separate runs (scattered)`;
  const why =
    b.kind === "vmalloc"
      ? runs === 1 && b.frames > 1
        ? "vmalloc took these pages one at a time; on a freshly booted machine the free list hands out neighbours, so they happen to be consecutive. Nothing relies on that: after some use they scatter, and only the page tables make them look contiguous."
        : b.frames > 1
          ? "vmalloc took the pages one at a time, wherever they were free; only the page tables make them look contiguous."
          : ""
      : b.frames > 1
        ? "One block from the buddy allocator: physically contiguous, as a device doing DMA needs."
        : "";
  return h(
    "div",
    { class: `fm-buf fm-buf-${b.kind}` },
    h(
      "p",
      {},
      h("strong", {}, label ?? b.fn),
      " ",
      h("code", {}, `${b.fn}${b.size !== undefined ? `(${b.size})` : ""}`),
      " at ",
      ...linkAddresses(b.addr, pick),
      `${b.line ? ` (line ${b.line})` : ""}: ${what}.`,
      why ? h("span", { class: "view-note" }, " " + why) : null,
    ),
    b.frames > 1 ? bufferCanvas(b) : null,
  );
}

/** `labels`: the variable that printed each address (from dmesg), keyed by "0x..." address; `pick` walks an address. */
export function renderFrameMap(model: FrameModel, labels: Map<string, string> = new Map(), pick?: (a: bigint) => void): HTMLElement {
  const wrap = h("div", { class: "framemap" });
  wrap.append(
    h(
      "p",
      { class: "view-note" },
      "Physical memory per zone, lowest frame at the top left; each square is a group of page frames, coloured by who owns most of them, or by the cell's buffer when any of its frames is there. Point at a square for its frames.",
    ),
  );
  const legend = h("ul", { class: "fm-legend" });
  const info = h("p", { class: "fm-info", "aria-live": "polite" }, "\u00a0");
  const seen = new Set<string>();
  const sections: HTMLElement[] = [];
  for (const z of model.zones) {
    const zb = bucketZone(model, z);
    for (const o of zb.owner) seen.add(o);
    const rows = [...zb.totals].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    const span = z.endPfn - z.startPfn;
    sections.push(
      h(
        "section",
        { class: "fm-zone" },
        h(
          "h5",
          {},
          `Zone ${z.name}: PFN ${hexPfn(z.startPfn)}–${hexPfn(z.endPfn - 1)}, ${span} frames (${fmtMiB(span)}); one square = ${zb.per} frame${zb.per > 1 ? "s" : ""}`,
        ),
        zoneCanvas(zb, (t) => (info.textContent = t)),
        h("p", { class: "fm-totals" }, rows.map(([o, n]) => `${o} ${n}`).join(" · ") + (zb.cellFrames ? ` · the cell's buffers ${zb.cellFrames}` : "")),
      ),
    );
  }
  const order = [CELL_VMALLOC, CELL_CONTIG, "Module", ...Object.keys(OWNER_VARS)];
  for (const o of [...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b))) {
    const sw = h("span", { class: "fm-sq" });
    sw.style.background = `var(${colorVar(o)})`;
    legend.append(h("li", {}, sw, o === "Module" ? "the cell's pages" : o));
  }
  wrap.append(legend, ...sections, info);
  if (model.buffers.length) {
    wrap.append(
      h("h5", { class: "fm-bufs-h" }, "The cell's buffers in physical memory (while the module was loaded)"),
      ...model.buffers.map((b) => bufferRow(b, labels.get(b.addr), pick)),
    );
    if (model.freedEarly)
      wrap.append(
        h(
          "p",
          { class: "view-note fm-freed" },
          `Not listed: ${model.freedEarly} buffer${model.freedEarly === 1 ? "" : "s"} the cell freed again before rmmod (their frames went back to the free lists, and a later allocation may hold them now).`,
        ),
      );
    const total = model.buffersTotal ?? model.buffers.length;
    if (total > model.buffers.length) {
      wrap.append(
        h(
          "div",
          { class: "fm-buf fm-buf-more" },
          h(
            "p",
            {},
            h("strong", {}, `… and ${total - model.buffers.length} more buffers`),
            ` (the first ${model.buffers.length} are above; all ${total} are coloured in the map):`,
          ),
          h(
            "ul",
            {},
            (model.bufferGroups ?? []).map((g) =>
              h(
                "li",
                {},
                h("code", {}, `${g.fn}${g.size !== undefined ? `(${g.size})` : ""}`),
                ` ×${g.count}: ${g.frames} frames (${fmtBytes(g.frames * 4096)}) in ${g.runs} contiguous run${g.runs === 1 ? "" : "s"}`,
              ),
            ),
          ),
        ),
      );
    }
  }
  return wrap;
}

function fmtMiB(frames: number): string {
  const mib = (frames * 4096) / (1 << 20);
  return mib >= 1024 ? `${(mib / 1024).toFixed(mib % 1024 ? 2 : 0)} GiB` : `${mib >= 10 ? Math.round(mib) : mib.toFixed(1)} MiB`;
}
