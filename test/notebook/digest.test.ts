// The run worker's digest of a RunResult for the page (src/notebook/digest.ts): bounded whatever the run did.
import { describe, expect, it } from "vitest";
import type { RunResult } from "../../sandbox/result.ts";
import type { CellBuffer } from "../../src/notebook/protocol.ts";
import {
  AREAS_KEPT,
  BUFFERS_KEPT,
  CALLS_KEPT,
  DMESG_HEAD,
  DMESG_TAIL,
  dedupeBuffers,
  digestForPage as digestWith,
  digestOf,
  freedBeforeExit,
  groupAllocations,
  groupReports,
  mergeRuns,
  PROC_LINES_KEPT,
  recordsOf,
  type PageReport,
} from "../../src/notebook/digest.ts";
import { API } from "../../sandbox/api.ts";
import { memoryRoles } from "../../sandbox/memrecords.ts";

/** The table's memory roles, as the worker's session passes them. */
const roles = memoryRoles(API);
const digestForPage = (r: RunResult, bufs: CellBuffer[]) => digestWith(r, bufs, roles);

function run(over: Partial<RunResult> = {}): RunResult {
  return {
    profile: "x86_64-6.1",
    initReturn: 0,
    dmesg: [],
    bootLog: [],
    reports: [],
    proc: {},
    procAfterExit: {},
    stats: { kernelCalls: 0, simTimeNs: 0, tlbHits: 0, tlbMisses: 0, wallMs: 0 },
    kernel: {},
    ...over,
  };
}

const leak = (a: number) => ({
  kind: "leak" as const,
  title: `kmemleak: unreferenced object 0x${(0xffff888000100000 + a * 4096).toString(16)} (size 4096):`,
  text: "...",
});

describe("digest for the page", () => {
  it("groups 27,438 kmemleak objects into one report with the count and the next titles", () => {
    const reports = [
      ...Array.from({ length: 27438 }, (_, i) => leak(i)),
      { kind: "oops" as const, title: "BUG: kernel NULL pointer dereference, address: 0000000000000000", text: "" },
    ];
    const g = groupReports(reports);
    expect(g).toHaveLength(2);
    expect(g[0].count).toBe(27438);
    expect(g[0].title).toBe(reports[0].title);
    expect(g[0].others!.length).toBeLessThanOrEqual(12);
    expect(g[0].others![0]).toBe(reports[1].title);
    expect(g[1]).toMatchObject({ kind: "oops", count: 1 });
  });

  it("keeps reports of different kinds or titles apart, in first-seen order", () => {
    const g = groupReports([
      { kind: "warn", title: "WARNING: CPU: 0 PID: 108 at mm/page_alloc.c:5527", text: "" },
      { kind: "leak", title: "kmemleak: unreferenced object 0xffff888000101000 (size 64):", text: "" },
      { kind: "warn", title: "WARNING: CPU: 0 PID: 108 at mm/page_alloc.c:5527", text: "" },
    ]);
    expect(g.map((r) => [r.kind, r.count])).toEqual([
      ["warn", 2],
      ["leak", 1],
    ]);
  });

  it("a long dmesg keeps its head and tail and says which lines are left out", () => {
    const dmesg = Array.from({ length: 529507 }, (_, i) => `[    6.164218] line ${i}`);
    const p = digestForPage(run({ dmesg, dmesgLevels: dmesg.map(() => 4) }), []);
    expect(p.dmesg).toHaveLength(DMESG_HEAD + DMESG_TAIL);
    expect(p.dmesgLevels).toHaveLength(DMESG_HEAD + DMESG_TAIL);
    expect(digestOf(p)!.dmesgOmitted).toEqual({ at: DMESG_HEAD, count: 529507 - DMESG_HEAD - DMESG_TAIL });
    expect(p.dmesg[DMESG_HEAD]).toBe(dmesg[529507 - DMESG_TAIL]);
  });

  it("100,000 allocations: the first calls, and every allocation grouped by function and size with its address span", () => {
    const calls = Array.from({ length: 100000 }, (_, i) => ({
      fn: "kmalloc",
      args: [4096, 0xcc0],
      ret: "0x" + (0xffff888000100000n + BigInt(i) * 4096n).toString(16),
      line: 2,
    }));
    calls.push({ fn: "kmalloc", args: [4096, 0xcc0], ret: "0x0", line: 2 });
    const p = digestForPage(run({ kernel: { calls } }), []);
    expect((p.kernel.calls as unknown[]).length).toBe(CALLS_KEPT);
    const d = digestOf(p)!;
    expect(d.callsTotal).toBe(100001);
    expect(d.allocGroups).toEqual([
      {
        fn: "kmalloc",
        size: 4096,
        count: 100000,
        failed: 1,
        line: 2,
        lo: "0xffff888000100000",
        hi: "0x" + (0xffff888000100000n + 99999n * 4096n).toString(16),
      },
    ]);
    expect(
      groupAllocations(recordsOf(run({ kernel: { calls: [{ fn: "__get_free_pages", args: [0xcc0, 2], ret: "0xffff888000200000" }] } }), roles))[0].size,
    ).toBe(16384);
    // the address-space view's marks: the first ALLOCS_KEPT allocations of the one record model
    expect(d.allocs[0]).toEqual({ fn: "kmalloc", family: "slab", addr: "0xffff888000100000", size: 4096, line: 2 });
  });

  it("lists each buffer once, the first ones in full, and groups the rest; all their frames stay in the map", () => {
    const b = (i: number): CellBuffer => ({
      fn: "kmalloc",
      addr: "0x" + (0xffff888000100000 + i * 4096).toString(16),
      size: 4096,
      kind: "kmalloc",
      pfnRuns: [[256 + i, 1]],
      frames: 1,
    });
    const bufs = [b(0), b(0), ...Array.from({ length: 999 }, (_, i) => b(i + 1))];
    expect(dedupeBuffers(bufs)).toHaveLength(1000);
    const p = digestForPage(run(), bufs);
    expect((p.kernel.cellMemory as unknown[]).length).toBe(BUFFERS_KEPT);
    const d = digestOf(p)!;
    expect(d.buffersTotal).toBe(1000);
    expect(d.bufferGroups).toEqual([
      { fn: "kmalloc", size: 4096, kind: "kmalloc", count: 1000 - BUFFERS_KEPT, frames: 1000 - BUFFERS_KEPT, runs: 1000 - BUFFERS_KEPT },
    ]);
    expect(d.cellFrames.contig).toEqual([256, 1000]);
  });

  it("a page freed during init and handed to a later vmalloc is not listed twice", () => {
    const calls = [
      { fn: "__get_free_page", args: [0xcc0], ret: "0xffff888005340000", phase: "init" },
      { fn: "free_page", args: ["0xffff888005340000"], ret: null, phase: "init" },
      { fn: "__get_free_page", args: [0xcc0], ret: "0xffff888005340000", phase: "init" },
      { fn: "vmalloc", args: [4096], ret: "0xffffc90000621000", phase: "init" },
      { fn: "free_page", args: ["0xffff888005340000"], ret: null, phase: "exit" },
    ];
    const page = (addr: string, fn = "__get_free_page"): CellBuffer => ({ fn, addr, kind: "pages", pfnRuns: [[0x5340, 1]], frames: 1 });
    const bufs = [page("0xffff888005340000"), page("0xffff888005340000"), { ...page("0xffffc90000621000", "vmalloc"), kind: "vmalloc" as const }];
    expect(freedBeforeExit(recordsOf(run({ kernel: { calls } }), roles), bufs)).toEqual([true, false, false]);
    const d = digestOf(digestForPage(run({ kernel: { calls } }), bufs))!;
    expect(d.freedEarly).toBe(1);
    expect(d.buffersTotal).toBe(2);
  });

  it("merges frame runs", () => {
    expect(
      mergeRuns([
        [10, 2],
        [12, 3],
        [1, 1],
        [11, 1],
      ]),
    ).toEqual([
      [1, 1],
      [10, 5],
    ]);
  });

  it("leaves a small run as it was (no digest fields change what the page shows)", () => {
    const r = run({ dmesg: ["[    6.154646] hello"], reports: [leak(0)], kernel: { calls: [{ fn: "kmalloc", args: [64, 0], ret: "0xffff888000100000" }] } });
    const p = digestForPage(r, []);
    expect(p.dmesg).toEqual(r.dmesg);
    expect((p.reports as PageReport[]).map((x) => x.count)).toEqual([1]);
    expect(digestOf(p)!.dmesgOmitted).toBeUndefined();
  });
});

describe("the page's copy of a run with a million kernel objects", () => {
  it("keeps the first vmalloc areas and the module's pages of the rest as merged runs, and each /proc file's first lines with a count of the rest", () => {
    const n = 10_000;
    const areas = Array.from({ length: n }, (_, i) => ({
      start: "0x" + (0xffffc90000000000n + BigInt(i) * 8192n).toString(16),
      owner: "module",
      pages: [100_000 + i],
    }));
    const vmallocinfo =
      Array.from({ length: n }, (_, i) => `0x${i.toString(16)}-0x${(i + 2).toString(16)}    8192 cell_init+0x10/0x40 [cell] pages=1 vmalloc`).join("\n") + "\n";
    const full = run({ kernel: { vmallocAreas: areas }, proc: { vmallocinfo, meminfo: "MemTotal: 1 kB\n" }, procAfterExit: { vmallocinfo } });
    const page = digestForPage(full, []);
    const kept = page.kernel.vmallocAreas as { owner: string; aggregate?: number; pageRuns?: [number, number][] }[];
    expect(kept).toHaveLength(AREAS_KEPT + 1);
    expect(kept.at(-1)).toEqual({ owner: "module", aggregate: n - AREAS_KEPT, pageRuns: [[100_000 + AREAS_KEPT, n - AREAS_KEPT]] });
    for (const p of [page.proc.vmallocinfo!, page.procAfterExit.vmallocinfo!]) {
      const lines = p.split("\n").filter(Boolean);
      expect(lines).toHaveLength(PROC_LINES_KEPT + 1);
      expect(lines.at(-1)).toBe(`[kmodlab: ${n - PROC_LINES_KEPT} more lines of /proc/vmallocinfo are not shown here]`);
      expect(lines.slice(0, PROC_LINES_KEPT)).toEqual(vmallocinfo.split("\n").slice(0, PROC_LINES_KEPT));
    }
    expect(page.proc.meminfo).toBe("MemTotal: 1 kB\n");
    expect(JSON.stringify(page).length).toBeLessThan(JSON.stringify(full).length / 3);
    // the worker's own result is untouched (the grader and dmesg slices read it)
    expect(full.kernel.vmallocAreas).toHaveLength(n);
    expect(full.proc.vmallocinfo).toBe(vmallocinfo);
  });
});
