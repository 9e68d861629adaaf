// struct page metadata is sparse (mm/page_array.ts): host memory follows the frames that were split, allocated or
// written, not the RAM size. A 1 TiB x86_64 machine (the largest the profile accepts) boots, runs memdemo and a cell
// that allocates and frees a lot, keeps its invariants, and the host heap stays under a generous bound. Memory is
// asserted, never time (bench/boot.bench.ts and bench/page_alloc.bench.ts measure the speed).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { boot } from "../../../src/kernel/kernel.ts";
import { checkKernelInvariants } from "../../../src/kernel/debug/invariants.ts";
import { runModule } from "../../../sandbox/run.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";

const TiB = 2 ** 40;
const MiB = 2 ** 20;
const G = gfpFlags("6.1");

/** Heap and array buffers of this process (what a kernel's metadata takes), in bytes. */
function held(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const memdemo = readFileSync(new URL("../../../examples/memdemo.ts", import.meta.url), "utf8");

// allocates and frees 512 MiB of order-10 blocks and 64 MiB of single pages, three times over
const churn = `import { alloc_pages, __free_pages, GFP_KERNEL, printk, KERN_INFO, module_init, module_exit } from "linux";
function churn_init(): number {
  let n = 0;
  for (let round = 0; round < 3; round++) {
    const big = [];
    for (let i = 0; i < 128; i++) { const p = alloc_pages(GFP_KERNEL, 10); if (p) { big.push(p); n++; } }
    const small = [];
    for (let i = 0; i < 16384; i++) { const p = alloc_pages(GFP_KERNEL, 0); if (p) { small.push(p); n++; } }
    for (const p of big) __free_pages(p, 10);
    for (const p of small) __free_pages(p, 0);
  }
  printk(KERN_INFO + "churn: %d allocations\\n", n);
  return 0;
}
function churn_exit(): void {}
module_init(churn_init);
module_exit(churn_exit);
`;

describe("sparse struct page metadata", () => {
  it("a 1 TiB x86_64 machine boots with metadata for the frames it touched, not for 2^28 pages, and its invariants hold", () => {
    const before = held();
    const k = boot("x86_64-6.1", { mem: TiB, config: "distro" });
    const grown = held() - before;
    // flat arrays took 13 bytes a page: 7 GB for the 2^29 PFNs this machine spans (RAM above 4 GiB starts at 1 TiB)
    expect(k.pages.nrPfns).toBeGreaterThan(2 ** 28);
    expect(k.pages.metadataBytes()).toBeLessThan(64 * MiB);
    expect(grown).toBeLessThan(512 * MiB);
    expect(k.pages.checkInvariants()).toEqual([]);
    expect(checkKernelInvariants(k).map((v) => `${v.check}: ${v.message}`)).toEqual([]);
    // the frame map is a few runs, built without a byte per frame
    const runs = k.pages.frameOwnerRuns();
    expect(runs.length).toBeLessThan(10_000);
    expect(runs.reduce((n, r) => n + r[1], 0)).toBe(k.pages.nrPfns);
  });

  it("the owner runs and the flat frame map agree, and allocations give their chunks own arrays, one chunk at a time", () => {
    const k = boot("x86_64-6.1", { mem: 16 * 2 ** 30, config: "distro" });
    const flat = k.pages.frameOwnerMap();
    let p = 0;
    for (const [start, n, o] of k.pages.frameOwnerRuns()) {
      expect(start).toBe(p);
      for (let i = start; i < start + n; i += 997) expect(flat[i]).toBe(o);
      p += n;
    }
    expect(p).toBe(flat.length);
    const meta0 = k.pages.metadataBytes();
    // 64 top-order blocks (4 MiB each) span 8 chunks of 8192 frames: each chunk written costs its own owner, order,
    // flags and refcount arrays (5 bytes a frame), nothing more
    for (let i = 0; i < 64; i++) expect(k.pages.alloc_pages(G.GFP_KERNEL!, k.pages.maxOrder - 1)).toBeGreaterThan(0);
    const grown = k.pages.metadataBytes() - meta0;
    expect(grown).toBeGreaterThan(0);
    expect(grown).toBeLessThanOrEqual(9 * 8192 * 5);
    expect(k.pages.checkInvariants()).toEqual([]);
  });

  it("freeing everything a loop allocated gives the chunks back to the templates (host memory shrinks again)", () => {
    const k = boot("x86_64-6.1", { mem: 64 * 2 ** 30, config: "distro" });
    const meta0 = k.pages.metadataBytes();
    const blocks: number[] = [];
    // 8 GiB of order-10 blocks: 256 chunks of struct pages written
    for (let i = 0; i < 8192; i++) blocks.push(k.pages.alloc_pages(G.GFP_KERNEL!, 10));
    expect(blocks.every((b) => b >= 0)).toBe(true);
    const meta1 = k.pages.metadataBytes();
    expect(meta1).toBeGreaterThan(meta0 + 8 * MiB);
    for (const b of blocks) k.pages.__free_pages(b, 10);
    expect(k.pages.checkInvariants()).toEqual([]);
    expect(k.pages.metadataBytes()).toBeLessThan(meta0 + (meta1 - meta0) / 2);
  });

  it("memdemo and an allocate/free loop run on 1 TiB with bounded host memory and the invariants intact", async () => {
    const before = held();
    const demo = await runModule(memdemo, { profile: "x86_64-6.1", mem: TiB, config: "distro", checkInvariants: true });
    expect(demo.reports.filter((r) => r.kind !== "leak").map((r) => r.title)).toEqual([]);
    expect(demo.dmesg.join("\n")).toMatch(/vmallocmem addr=/);
    const loop = await runModule(churn, { profile: "x86_64-6.1", mem: TiB, config: "distro", checkInvariants: true, limits: { cpuMs: 60_000 } });
    expect(loop.reports.map((r) => r.title)).toEqual([]);
    expect(loop.dmesg.join("\n")).toMatch(/churn: 49536 allocations/);
    expect(held() - before).toBeLessThan(1024 * MiB);
  });
});

describe("the RAM budget counts struct page metadata", () => {
  it("allocations that never write a byte but spread struct page over many chunks stop at the run's ram limit", async () => {
    // order-10 blocks are 4 MiB: 2048 of them (8 GiB, never written) give ~256 chunks their own struct page
    // arrays, ~10 MiB of host memory, past a 4 MiB budget
    const src = `import { alloc_pages, GFP_KERNEL, module_init, module_exit } from "linux";
function grab_init(): number {
  for (let i = 0; i < 2048; i++) alloc_pages(GFP_KERNEL, 10);
  return 0;
}
function grab_exit(): void {}
module_init(grab_init);
module_exit(grab_exit);
`;
    const r = await runModule(src, { profile: "x86_64-6.1", mem: 64 * 2 ** 30, config: "distro", limits: { ramBytes: 4 * MiB } });
    const limit = r.reports.find((x) => x.limit === "ram");
    expect(limit?.title).toMatch(/RAM budget reached/);
    expect(limit?.explain ?? "").toMatch(/struct page bookkeeping/);
  });
});
