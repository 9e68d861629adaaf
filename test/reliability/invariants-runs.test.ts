// The invariant checker takes the page allocator's allocated blocks a run at a time (src/kernel/debug/invariants.ts
// checkFrames, PageAllocator.forEachAllocationRun: blocks of one owner, each starting where the one before ends). A run
// is marked at once only when the block-by-block walk would find nothing in it; these corruptions sit inside runs and
// must be named as that walk names them.
import { describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { checkKernelInvariants, type Violation } from "../../src/kernel/debug/invariants.ts";
import { PageOwner } from "../../src/kernel/mm/page_flags.ts";

const lines = (vs: Violation[]) => vs.map((v) => `${v.check}: ${v.message}`);
type Arrays = { owner: { set(p: number, v: number): void }; flags: { get(p: number): number; set(p: number, v: number): void } };
const pa = (k: Kernel) => k.pages as unknown as Arrays;

/** Three allocated blocks of one owner, of order >= 1, each starting where the one before ends. */
function adjacentBlocks(k: Kernel, owner: number): [number, number][] {
  const blocks: [number, number, number][] = [];
  k.pages.forEachAllocation((pfn, order, o) => blocks.push([pfn, order, o]));
  for (let i = 0; i + 2 < blocks.length; i++) {
    const run = blocks.slice(i, i + 3);
    if (
      run.every(([, order, o]) => o === owner && order >= 1) &&
      run[1]![0] === run[0]![0] + (1 << run[0]![1]) &&
      run[2]![0] === run[1]![0] + (1 << run[1]![1])
    )
      return run.map(([p, order]) => [p, order]);
  }
  throw new Error("no three adjacent blocks");
}

describe("corruptions inside runs of adjacent allocated blocks are named block by block", () => {
  for (const sinceVerified of [false, true]) {
    const mode = sinceVerified ? "a run's check (sinceVerified)" : "the full check";
    it(`${mode}: a frame of the middle one of three adjacent Slab blocks owned by another user`, () => {
      const k = boot("x86_64-6.1", { config: "debug", mem: 128 << 20, seed: 3 });
      const [, [head, order]] = adjacentBlocks(k, PageOwner.Slab) as [[number, number], [number, number]];
      const bad = head + (1 << order) - 1;
      pa(k).owner.set(bad, PageOwner.Anon);
      const vs = lines(checkKernelInvariants(k, { sinceVerified }));
      expect(vs).toContain(`frames: order-${order} Slab block at 0x${head.toString(16)}: pfn 0x${bad.toString(16)} owned by Anon`);
    });

    it(`${mode}: a block head inside the middle one of three adjacent blocks: inside two allocated blocks`, () => {
      const k = boot("x86_64-6.1", { config: "debug", mem: 128 << 20, seed: 3 });
      const [, [head, order]] = adjacentBlocks(k, PageOwner.Slab) as [[number, number], [number, number]];
      const inner = head + (1 << order) - 1;
      // the frame carries the head flags of an order-0 block of its own while it lies inside the block at `head`
      pa(k).flags.set(inner, pa(k).flags.get(head));
      (k.pages as unknown as { order: { set(p: number, v: number): void } }).order.set(inner, 0);
      const vs = lines(checkKernelInvariants(k, { sinceVerified }));
      expect(vs).toContain(`frames: pfn 0x${inner.toString(16)} is inside two allocated blocks (one at 0x${inner.toString(16)})`);
    });
  }

  it("forEachAllocationRun covers forEachAllocation's blocks, each run's blocks adjacent and of one owner", () => {
    for (const [profile, mem] of [
      ["x86_64-6.1", 128 << 20],
      ["arm-3.4-msm8x25", undefined],
      ["i386-2.6", 128 << 20],
    ] as const) {
      const k = boot(profile, { config: "debug", mem, seed: 2 });
      const blocks: [number, number, number][] = [];
      k.pages.forEachAllocation((p, o, ow) => blocks.push([p, o, ow]));
      const fromRuns: [number, number, number][] = [];
      let runs = 0;
      const bad: string[] = [];
      k.pages.forEachAllocationRun((a, b, owner, n) => {
        runs++;
        const inRun: [number, number, number][] = [];
        k.pages.forEachAllocationIn(a, b, (p, o, ow) => inRun.push([p, o, ow]));
        if (inRun.length !== n || inRun[0]![0] !== a) bad.push(`run at ${a}: ${inRun.length} blocks, said ${n}`);
        for (let i = 0; i < inRun.length; i++) {
          if (inRun[i]![2] !== owner) bad.push(`run at ${a}: block ${inRun[i]![0]} of another owner`);
          if (inRun[i]![0] + (1 << inRun[i]![1]) !== (i + 1 < inRun.length ? inRun[i + 1]![0] : b)) bad.push(`run at ${a}: block ${inRun[i]![0]} not adjacent`);
        }
        for (const x of inRun) fromRuns.push(x);
      });
      expect(bad).toEqual([]);
      expect(fromRuns).toEqual(blocks);
      expect(runs).toBeLessThan(blocks.length);
    }
  });
});
