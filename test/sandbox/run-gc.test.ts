// A finished run nobody holds dies young: V8's minor GC collects its kernel, call log and bridge. Before, a few of
// the run's own hooks and getters kept it alive through every minor GC until the next full one (run.ts setHook,
// lazyprops.ts, the call logs' table), so each run's kernel was promoted to the old generation. Its own file: measured
// in a fresh worker, whose young generation holds nothing of other tests' runs.
import { expect, it } from "vitest";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadKernelDeps, runModuleSync } from "../../sandbox/run.ts";
import { loadQuickJS } from "../../sandbox/quickjs.ts";
import type { RunResult } from "../../sandbox/result.ts";

const cell = `import { kmalloc, kfree, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let p = 0n;
module_init(() => { p = kmalloc(64, GFP_KERNEL); printk(KERN_INFO + "hi\\n"); return 0; });
module_exit(() => { kfree(p); });
`;

it("runs whose results are dropped leave their kernels to the minor GC (views on and off)", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (o?: { type: "minor" }) => void;
  const deps = await loadKernelDeps();
  const qjs = await loadQuickJS();
  const young = () => getHeapSpaceStatistics().find((x) => x.space_name === "new_space")!.space_used_size;
  for (let i = 0; i < 3; i++) expect(runModuleSync(qjs, cell, {}, deps).initReturn).toBe(0); // the boot cache's copy, compiled code
  /** The young generation's bytes after a minor GC that follows `n` runs, the last `keep` of their results held. */
  const after = (n: number, keep: number, views: boolean) => {
    gc(); // the young generation empty: the runs fit in it
    const held: RunResult[] = [];
    for (let i = 0; i < n; i++) {
      const r = runModuleSync(qjs, cell, { views }, deps);
      if (i >= n - keep) held.push(r);
    }
    gc({ type: "minor" });
    const used = young();
    expect(held.map((r) => r.initReturn)).toEqual(Array(keep).fill(0));
    return used;
  };
  const one = Math.min(after(1, 1, true), after(1, 1, true)); // one run's result held, its kernel with it: ~0.4 MB
  expect(one).toBeGreaterThan(100_000);
  for (const views of [true, false]) {
    // eight made, none held: before, ~2.5 MB (each run's kernel survived: 6.5x one); now ~0.4 MB in Vitest's worker
    const eight = Math.min(after(8, 0, views), after(8, 0, views));
    expect(eight).toBeLessThan(2 * one);
  }
});
