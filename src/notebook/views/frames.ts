// View: physical memory as a frame map per zone, coloured by owner (free, kernel image, boot, page tables, slab,
// vmalloc pages, the cell's pages). One square per bucket of frames; a bucket takes the colour of the cell's pages if
// it holds any (so scattered vmalloc pages stay visible), else of its majority owner. A table says the same in numbers.
// Reads the kernel's inspection data defensively: the shape grows with the kernel.

import { h } from "../dom.ts";

export interface FrameZone {
  name: string;
  startPfn: number;
  endPfn: number;
}

export interface FrameModel {
  zones: FrameZone[];
  /** owner name per run of frames: [startPfn, count, owner]. Frames not covered are "Free". */
  runs: [number, number, string][];
  /** PFNs the cell owns (its pages, its vmalloc pages, large kmallocs). */
  mine: Set<number>;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && /^(0x)?[0-9a-f]+$/i.test(v) ? Number(v) : undefined);

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
        if (o && s !== undefined && e !== undefined) runs.push([Math.floor(s / 4096), Math.max(1, Math.ceil((e - s) / 4096)), /kernel|code|data|bss/i.test(String(o.what)) ? "KernelImage" : "Boot"]);
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
        for (const r of o.pageRuns as unknown[]) if (Array.isArray(r) && typeof r[0] === "number" && typeof r[1] === "number") for (let i = 0; i < r[1]; i++) mine.add(r[0] + i);
      }
    }
  return { zones, runs, mine };
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
};

export function renderFrameMap(model: FrameModel): HTMLElement {
  const wrap = h("div", { class: "framemap" });
  wrap.append(h("p", { class: "view-note" }, "Physical memory, one square per group of page frames, lowest address at the top left. A group holding any of the cell's pages shows in the cell's colour: vmalloc pages come from anywhere, kmalloc and __get_free_pages give contiguous frames."));
  const legend = h("ul", { class: "fm-legend" });
  const seen = new Set<string>();
  for (const z of model.zones) {
    const span = z.endPfn - z.startPfn;
    let per = 1;
    while (span / per > 1536) per *= 2;
    const nb = Math.ceil(span / per);
    // owner counts per bucket
    const counts: Map<string, number>[] = Array.from({ length: nb }, () => new Map());
    const mineIn = new Uint32Array(nb);
    const totals = new Map<string, number>();
    let covered = 0;
    for (const [s, c, owner] of model.runs) {
      const a = Math.max(s, z.startPfn);
      const b = Math.min(s + c, z.endPfn);
      if (b <= a) continue;
      covered += b - a;
      totals.set(owner, (totals.get(owner) ?? 0) + (b - a));
      for (let bi = Math.floor((a - z.startPfn) / per); bi * per + z.startPfn < b; bi++) {
        const lo = Math.max(a, z.startPfn + bi * per);
        const hi = Math.min(b, z.startPfn + (bi + 1) * per);
        counts[bi].set(owner, (counts[bi].get(owner) ?? 0) + (hi - lo));
      }
    }
    for (const p of model.mine) if (p >= z.startPfn && p < z.endPfn) mineIn[Math.floor((p - z.startPfn) / per)]++;
    const mineTotal = mineIn.reduce((a, b) => a + b, 0);
    totals.set("Free", Math.max(0, span - covered));
    const grid = h("div", { class: "fm-grid", role: "img", "aria-label": `${z.name} zone: ${span} frames, ${mineTotal} of them the cell's` });
    const frag = document.createDocumentFragment();
    for (let bi = 0; bi < nb; bi++) {
      let owner = "Free";
      if (mineIn[bi]) owner = "Module";
      else {
        let best = 0;
        let used = 0;
        for (const [o, n] of counts[bi]) {
          used += n;
          if (n > best) [best, owner] = [n, o];
        }
        if (per - used > best) owner = "Free";
      }
      seen.add(owner);
      const sq = document.createElement("span");
      sq.className = "fm-sq";
      sq.style.background = `var(${OWNER_VARS[owner] ?? "--fm-kernel"})`;
      frag.append(sq);
    }
    grid.append(frag);
    const rows = [...totals].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    wrap.append(
      h(
        "section",
        { class: "fm-zone" },
        h("h5", {}, `Zone ${z.name}: PFN ${z.startPfn}–${z.endPfn - 1}, ${span} frames; one square = ${per} frame${per > 1 ? "s" : ""}`),
        grid,
        h("p", { class: "fm-totals" }, rows.map(([o, n]) => `${o} ${n}`).join(" · ") + (mineTotal ? ` · the cell's pages ${mineTotal}` : "")),
      ),
    );
  }
  for (const o of seen) legend.append(h("li", {}, h("span", { class: "fm-sq", style: undefined }), o === "Module" ? "the cell's pages" : o));
  legend.querySelectorAll<HTMLElement>("li > .fm-sq").forEach((el, i) => (el.style.background = `var(${OWNER_VARS[[...seen][i]] ?? "--fm-kernel"})`));
  wrap.insertBefore(legend, wrap.children[1] ?? null);
  return wrap;
}
