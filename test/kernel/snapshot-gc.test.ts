// A restored machine (src/kernel/snapshot.ts SnapshotPlan) that nobody holds is collected by V8's minor GC: the side
// tables' entries for it live on it (KeyedSlots), not in module-level WeakMaps, whose values V8's scavenger keeps
// alive, so that each copy survived every minor GC and was promoted to the old generation. Its own file: measured in a
// fresh worker, whose young generation holds nothing of other tests' runs.
import { expect, it } from "vitest";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { SnapshotPlan } from "../../src/kernel/snapshot.ts";

it("a restored machine nobody holds dies young: the side tables' entries for it keep it through no minor GC", () => {
  // Before, SideTables were module-level WeakMaps, and V8's young-generation collector keeps the values of an old
  // WeakMap's entries alive: each copy's entries (a process, the percpu state...) held the copy, which survived every
  // minor GC and was promoted (a run's kernel went to the old generation at each scavenge).
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (o?: { type: "minor" }) => void;
  const plan = new SnapshotPlan(boot("x86_64-6.1", { config: "distro" }));
  plan.copy(); // the copiers compiled
  const young = () => getHeapSpaceStatistics().find((x) => x.space_name === "new_space")!.space_used_size;
  /** The young generation's bytes after a minor GC that follows `n` copies, the last `keep` of them held. */
  const after = (n: number, keep: number) => {
    gc(); // the young generation empty: the copies fit in it
    const held: Kernel[] = [];
    for (let i = 0; i < n; i++) {
      const c = plan.copy();
      if (i >= n - keep) held.push(c);
    }
    gc({ type: "minor" });
    const used = young();
    expect(held.length).toBe(keep);
    return used;
  };
  const one = Math.min(after(1, 1), after(1, 1)); // one copy held: ~0.3 MB
  const six = Math.min(after(6, 0), after(6, 0)); // six made, none held; before: ~1.7 MB (each copy survived)
  expect(one).toBeGreaterThan(100_000);
  expect(six).toBeLessThan(3 * one); // after: about one copy (the last one made may be held through one minor GC)
});
