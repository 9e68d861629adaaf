// What the run worker posts to the page: the RunResult with its unbounded parts aggregated, so that a cell with
// 100,000 allocations (or a leaking loop stopped by a limit) costs the page a bounded message and a bounded number
// of elements. The full result stays in the worker (the grader judges it there); the page asks for more of the dmesg
// when the learner opens it (protocol.ts "dmesg").
//
// - reports: one entry per kind of report ("kmemleak: unreferenced object 0x...", with addresses and numbers set
//   aside), the first in full, with how many there were and the titles of the next few;
// - dmesg: the first and last lines, with how many lines lie between;
// - kernel.calls: the first calls, and every allocation grouped by function and size (count, address span, line),
//   from the one record of the module's memory (sandbox/memrecords.ts, with the table's roles the worker has); the
//   first ALLOCS_KEPT allocations themselves (address, size, function, family) for the address-space view;
// - kernel.cellMemory: each buffer once (a frame reused after a free is listed once per buffer, not twice), the
//   first buffers in full and the rest grouped by function and size.
// Pure data in, data out: tested in Node (test/notebook/digest.test.ts).

import type { RunResult } from "../../sandbox/result.ts";
import type { Report } from "../kernel/types.ts";
import type { CellBuffer } from "./protocol.ts";
import { memRecords, type MemFamily, type MemRecords } from "../../sandbox/memrecords.ts";
import type { CallRecord } from "../../sandbox/calllog.ts";
import type { MemoryRole } from "../../sandbox/table.ts";

/** A report as the page gets it: the first of a group of alike reports, and how many there were. */
export interface PageReport extends Report {
  /** How many reports of this kind and title shape the run made (1 when alone). */
  count?: number;
  /** Titles of the next few reports of the group (the first is this report's own). */
  others?: string[];
}

/** Allocations of one function and size, from the run's call log. */
export interface AllocGroup {
  fn: string;
  /** Bytes asked for, when the arguments say. */
  size?: number;
  count: number;
  /** Lowest and highest address returned ("0x..."). */
  lo: string;
  hi: string;
  /** Cell line of the first call. */
  line?: number;
  /** Calls of this group that returned NULL. */
  failed: number;
}

/** Buffers of one function, size and kind that the page does not list one by one. */
export interface BufferGroup {
  fn: string;
  size?: number;
  kind: CellBuffer["kind"];
  count: number;
  frames: number;
  /** Physically contiguous runs, summed over the group's buffers. */
  runs: number;
}

/** One allocation of the module as the page's address-space view marks it. */
export interface AllocMark {
  fn: string;
  family: MemFamily;
  /** "0x..." (alloc_pages: the block's kernel address when the module named it). */
  addr: string;
  size: number;
  line?: number;
}

export interface Digest {
  /** dmesg lines left out between the head and the tail: lines [at, at + count) of the full dmesg. */
  dmesgOmitted?: { at: number; count: number };
  /** Reports before grouping. */
  reportsTotal: number;
  /** Calls in the full call log (kernel.calls keeps the first CALLS_KEPT). */
  callsTotal: number;
  allocGroups: AllocGroup[];
  /** The first ALLOCS_KEPT allocations of the module (allocGroups counts them all). */
  allocs: AllocMark[];
  /** Buffers in cellMemory after removing duplicates (kernel.cellMemory keeps the first BUFFERS_KEPT). */
  buffersTotal: number;
  bufferGroups: BufferGroup[];
  /** Buffers the cell freed again before rmmod (their frames may hold a later buffer): left out of the map. */
  freedEarly: number;
  /**
   * The frames of all the cell's buffers (not only the ones listed), merged into runs per kind, flat:
   * [firstPfn0, count0, firstPfn1, count1, ...] (one array of numbers: 100,000 runs cost the page one copy, not
   * 100,000 small arrays).
   */
  cellFrames: { vmalloc: number[]; contig: number[] };
}

export const DMESG_HEAD = 120;
export const DMESG_TAIL = 60;
export const CALLS_KEPT = 400;
export const BUFFERS_KEPT = 40;
/** Allocations the page's address-space view marks one by one (allocGroups counts every one). */
export const ALLOCS_KEPT = 2000;
/** kernel.vmallocAreas keeps the first AREAS_KEPT areas; the module's pages of the rest ride in one aggregate area. */
export const AREAS_KEPT = 2000;
/** Each /proc file keeps its first PROC_LINES_KEPT lines and a line saying how many more there were. */
export const PROC_LINES_KEPT = 2000;
export const OTHERS_KEPT = 12;
export const REPORT_GROUPS_KEPT = 60;

/** A report's shape: its kind and title with addresses and numbers set aside. */
export function reportShape(r: Pick<Report, "kind" | "title">): string {
  return `${r.kind}\u0000${r.title.replace(/0x[0-9a-f]+|\b[0-9a-f]{8,16}\b|\d+/gi, "#")}`;
}

export function groupReports(reports: readonly Report[], keepGroups = REPORT_GROUPS_KEPT): PageReport[] {
  const byShape = new Map<string, PageReport>();
  const out: PageReport[] = [];
  for (const r of reports) {
    const key = reportShape(r);
    const g = byShape.get(key);
    if (g) {
      g.count = (g.count ?? 1) + 1;
      if ((g.others ??= []).length < OTHERS_KEPT) g.others.push(r.title);
      continue;
    }
    if (out.length >= keepGroups) {
      // more kinds than the page lists: count them in the last group's tally of "other reports"
      const last = out[out.length - 1];
      if (last.kind !== "bug" || !last.title.startsWith("kmodlab: ")) {
        const rest: PageReport = {
          kind: "bug",
          title: "kmodlab: more reports than the page lists",
          text: "",
          count: 0,
          explain: "This run made reports of more kinds than the page lists one by one; the first of each kind is above.",
        };
        out.push(rest);
      }
      out[out.length - 1].count = (out[out.length - 1].count ?? 0) + 1;
      continue;
    }
    const first: PageReport = { ...r, count: 1 };
    byShape.set(key, first);
    out.push(first);
  }
  return out;
}

/** The module's memory records for a run (the calls and layout of RunResult.kernel, the table's roles). */
export function recordsOf(result: Pick<RunResult, "kernel">, roles: Map<string, MemoryRole>): MemRecords {
  const k = (result.kernel ?? {}) as { calls?: unknown; layout?: Record<string, unknown> };
  const calls = Array.isArray(k.calls) ? (k.calls as CallRecord[]) : [];
  const big = (v: unknown) => (typeof v === "string" && /^0x[0-9a-f]+$/i.test(v) ? BigInt(v) : typeof v === "number" ? BigInt(v) : undefined);
  return memRecords(calls, roles, {
    pageSize: Number(k.layout?.pageSize ?? 4096),
    vmallocStart: big(k.layout?.vmallocStart),
    vmallocEnd: big(k.layout?.vmallocEnd),
  });
}

const HANDLE_FAMILIES: readonly MemFamily[] = ["cache", "workqueue"];
/** A buffer's address as the views name it: alloc_pages' block by its kernel address (page_address), if named. */
const bufferAddr = (a: MemRecords["allocs"][number]): bigint | undefined => (a.call.fn.startsWith("alloc_page") ? a.virt : a.addr);

/** Every allocation of the module grouped by function and size (failed ones counted apart). */
export function groupAllocations(records: MemRecords): AllocGroup[] {
  const groups = new Map<string, AllocGroup & { loB: bigint; hiB: bigint; first: number }>();
  const group = (fn: string, size: number | undefined, line: number | undefined, index: number) => {
    const key = `${fn}\u0000${size ?? ""}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { fn, size, count: 0, lo: "", hi: "", line, failed: 0, loB: -1n, hiB: -1n, first: index }));
    return g;
  };
  for (const a of records.allocs) {
    if (HANDLE_FAMILIES.includes(a.family)) continue;
    const g = group(a.fn, a.size, a.line, a.index);
    g.count += a.count ?? 1; // the call log's folded repeats
    if (g.loB < 0n || a.addr < g.loB) g.loB = a.addr;
    if (a.addr > g.hiB) g.hiB = a.addr;
  }
  for (const f of records.failed) {
    if (f.family === "cache" || f.family === "workqueue") continue;
    group(f.fn, f.size, f.line, f.index).failed += f.count ?? 1;
  }
  return [...groups.values()]
    .sort((x, y) => x.first - y.first)
    .map(({ loB, hiB, first: _first, ...g }) => ({ ...g, lo: loB < 0n ? "" : "0x" + loB.toString(16), hi: hiB < 0n ? "" : "0x" + hiB.toString(16) }));
}

/** Each buffer once: the call log can name the same address twice (freed, then handed out again). */
export function dedupeBuffers(buffers: readonly CellBuffer[]): CellBuffer[] {
  const seen = new Set<string>();
  const out: CellBuffer[] = [];
  for (const b of buffers) {
    const key = `${b.addr}\u0000${b.fn}\u0000${b.pfnRuns.map((r) => r.join(":")).join(",")}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(b);
  }
  return out;
}

export function groupBuffers(buffers: readonly CellBuffer[]): BufferGroup[] {
  const groups = new Map<string, BufferGroup>();
  for (const b of buffers) {
    const key = `${b.fn}\u0000${b.size ?? ""}\u0000${b.kind}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { fn: b.fn, size: b.size, kind: b.kind, count: 0, frames: 0, runs: 0 }));
    g.count++;
    g.frames += b.frames;
    g.runs += b.pfnRuns.length;
  }
  return [...groups.values()];
}

/**
 * Which of the cell's buffers were freed before rmmod began (in module_init or deferred work), from the call log:
 * the allocation calls in order, each matched with a later free of its address (before that address came back from
 * another allocation). A buffer freed early is not "while the module was loaded", and its frames may since hold
 * another buffer (a freed page handed straight back): listing both would show those frames twice.
 */
export function freedBeforeExit(records: MemRecords, buffers: readonly CellBuffer[]): boolean[] {
  // buffers are a subsequence of the allocations, in order: each takes the next unclaimed one of its fn and address
  const byKey = new Map<string, MemRecords["allocs"]>();
  for (const a of records.allocs) {
    const addr = bufferAddr(a);
    if (addr === undefined || HANDLE_FAMILIES.includes(a.family)) continue;
    const key = `${a.fn} 0x${addr.toString(16)}`;
    (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(a);
  }
  const next = new Map<string, number>();
  return buffers.map((b) => {
    const key = `${b.fn} ${b.addr.toLowerCase()}`;
    const i = next.get(key) ?? 0;
    next.set(key, i + 1);
    const a = byKey.get(key)?.[i];
    return !!a?.free && a.free.call.phase !== "exit";
  });
}

/** Sorted, merged [first, count] runs covering every run given. */
export function mergeRuns(runs: [number, number][]): [number, number][] {
  const sorted = runs.filter((r) => r[1] > 0).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, c] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[0] + last[1]) last[1] = Math.max(last[1], s + c - last[0]);
    else out.push([s, c]);
  }
  return out;
}

/**
 * The page's copy of a run: `result` is not changed (the worker keeps it for the grader and for dmesg slices). The
 * digest rides in `kernel.digest`; cellMemory is the run's buffers (session.ts).
 */
export function digestForPage(result: RunResult, cellMemory: readonly CellBuffer[], roles: Map<string, MemoryRole>): RunResult {
  const kernel = { ...(result.kernel ?? {}) };
  const calls = Array.isArray(kernel.calls) ? (kernel.calls as unknown[]) : [];
  const records = recordsOf(result, roles);
  const early = freedBeforeExit(records, cellMemory);
  const buffers = dedupeBuffers(cellMemory.filter((_, i) => !early[i]));
  const digest: Digest = {
    freedEarly: early.filter(Boolean).length,
    reportsTotal: result.reports.length,
    callsTotal: calls.length,
    allocGroups: groupAllocations(records),
    allocs: records.allocs
      .filter((a) => !HANDLE_FAMILIES.includes(a.family) && bufferAddr(a) !== undefined)
      .slice(0, ALLOCS_KEPT)
      .map((a) => ({ fn: a.fn, family: a.family, addr: "0x" + bufferAddr(a)!.toString(16), size: a.size, ...(a.line !== undefined ? { line: a.line } : {}) })),
    buffersTotal: buffers.length,
    bufferGroups: buffers.length > BUFFERS_KEPT ? groupBuffers(buffers.slice(BUFFERS_KEPT)) : [],
    cellFrames: {
      vmalloc: mergeRuns(buffers.filter((b) => b.kind === "vmalloc").flatMap((b) => b.pfnRuns.map((r) => [r[0], r[1]] as [number, number]))).flat(),
      contig: mergeRuns(buffers.filter((b) => b.kind !== "vmalloc").flatMap((b) => b.pfnRuns.map((r) => [r[0], r[1]] as [number, number]))).flat(),
    },
  };
  kernel.calls = calls.length > CALLS_KEPT ? calls.slice(0, CALLS_KEPT) : calls;
  if (Array.isArray(kernel.vmallocAreas) && kernel.vmallocAreas.length > AREAS_KEPT) kernel.vmallocAreas = keptAreas(kernel.vmallocAreas);
  kernel.cellMemory = buffers.slice(0, BUFFERS_KEPT);
  kernel.digest = digest;
  let dmesg = result.dmesg;
  let dmesgLevels = result.dmesgLevels;
  if (dmesg.length > DMESG_HEAD + DMESG_TAIL) {
    const at = DMESG_HEAD;
    const count = dmesg.length - DMESG_HEAD - DMESG_TAIL;
    digest.dmesgOmitted = { at, count };
    dmesg = [...dmesg.slice(0, at), ...dmesg.slice(at + count)];
    dmesgLevels = dmesgLevels ? [...dmesgLevels.slice(0, at), ...dmesgLevels.slice(at + count)] : undefined;
  }
  return {
    ...result,
    dmesg,
    dmesgLevels,
    reports: groupReports(result.reports),
    kernel,
    proc: keptProc(result.proc),
    procAfterExit: keptProc(result.procAfterExit),
  };
}

/**
 * The first AREAS_KEPT vmalloc areas, and the module's pages of the others as one area of merged page runs (the frame
 * map marks the module's pages from them: views/frames.ts). A cell that made a million areas sent them all: 240 MB of
 * them for the page, which, with /proc/vmallocinfo's million rows, took Chromium's renderer past 11 GB.
 */
function keptAreas(areas: unknown[]): unknown[] {
  const runs: [number, number][] = [];
  for (const a of areas.slice(AREAS_KEPT)) {
    const o = a as { owner?: unknown; pages?: unknown; pageRuns?: unknown } | null;
    if (!o || o.owner !== "module") continue;
    if (Array.isArray(o.pages)) for (const p of o.pages) if (typeof p === "number") runs.push([p, 1]);
    if (Array.isArray(o.pageRuns))
      for (const r of o.pageRuns) if (Array.isArray(r) && typeof r[0] === "number" && typeof r[1] === "number") runs.push([r[0], r[1]]);
  }
  return [...areas.slice(0, AREAS_KEPT), { owner: "module", aggregate: areas.length - AREAS_KEPT, pageRuns: mergeRuns(runs) }];
}

/** Each /proc file's first PROC_LINES_KEPT lines, and a line saying how many more the file had. */
function keptProc(proc: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(proc ?? {})) {
    let at = -1;
    for (let i = 0; i < PROC_LINES_KEPT && (at = text.indexOf("\n", at + 1)) >= 0; i++);
    if (at < 0 || at === text.length - 1) out[name] = text;
    else {
      let more = 0;
      for (let i = at + 1; i < text.length; i = text.indexOf("\n", i) + 1 || text.length) more++;
      out[name] = text.slice(0, at + 1) + `[kmodlab: ${more} more lines of /proc/${name} are not shown here]\n`;
    }
  }
  return out;
}

/** The page's digest of a run, when the worker sent one. */
export function digestOf(result: Pick<RunResult, "kernel">): Digest | undefined {
  const d = (result.kernel as { digest?: unknown } | undefined)?.digest;
  return d && typeof d === "object" ? (d as Digest) : undefined;
}
