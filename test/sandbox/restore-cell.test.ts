// A cell's code compiled once and put back with its copy (sandbox/restore.ts keepCell, run.ts evaluateTopLevel):
// from a cell's third run on, the wrapper function its second run compiled is called instead of compiling the code
// again. Only the compile is kept, never the top level's evaluation: a cell whose top level dirties the guest (globals,
// prototypes, its own module-level state, a thrown error, an interrupted loop) gives, at every run, what it gives on a
// fresh module.
import { afterEach, describe, expect, it, vi } from "vitest";
import { newQuickJSWASMModuleFromVariant, QuickJSContext } from "quickjs-emscripten-core";
import RELEASE_SYNC from "@jitl/quickjs-wasmfile-release-sync";
import { loadKernelDeps, runModule, runModuleSync, type RunOptions } from "../../sandbox/run.ts";
import { loadQuickJS, quickJSGeneration } from "../../sandbox/quickjs.ts";
import { preparedStats } from "../../sandbox/restore.ts";
import { CELL_FILE } from "../../sandbox/transpile.ts";
import type { RunResult } from "../../sandbox/result.ts";

/** A run's outputs without its wall time, the call log included. */
const strip = (r: RunResult) => JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 }, kernel: { calls: r.kernel.calls } });

/** A cell whose top level dirties the guest before module_init reads it back (`tag` makes each test's text its own). */
const dirtyCell = (tag: string, extra = "") => `// ${tag}
import { kmalloc, kfree, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
const g = globalThis as any;
g.runs = (g.runs ?? 0) + 1;
(Object.prototype as any).polluted = ((Object.prototype as any).polluted ?? 0) + 1;
Array.prototype.push = function () { return -1; };
let counter = 0;
counter += 10;
let p = 0n;
${extra}
function init(): number {
  p = kmalloc(64, GFP_KERNEL);
  printk(KERN_INFO + "runs=%d polluted=%d counter=%d push=%d\\n", g.runs, ({} as any).polluted, counter, [].push(1));
  return 0;
}
function exit(): void { kfree(p); }
module_init(init);
module_exit(exit);
`;

/** How many times the cell's own code is compiled (its file name) during f. */
async function cellCompiles(f: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(QuickJSContext.prototype, "evalCode");
  try {
    await f();
    return spy.mock.calls.filter((c) => c[1] === CELL_FILE).length;
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("a cell's compiled code put back with its copy (restore.ts keepCell)", () => {
  for (const config of ["debug", "distro"] as const) {
    it(`a cell is compiled at its first runs only, and a top level that dirties the guest leaves nothing to its next run: every run gives what a fresh module gives (${config})`, async () => {
      const src = dirtyCell(`dirty ${config}`);
      const deps = await loadKernelDeps();
      const fresh = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC); // no layout: built afresh, compiled each run
      const want = strip(runModuleSync(fresh, src, { config }, deps));
      expect(want).toContain("runs=1 polluted=1 counter=10 push=-1");
      const q = await loadQuickJS();
      const gen = quickJSGeneration();
      const compiles: number[] = [];
      for (let i = 0; i < 6; i++) {
        let r: RunResult | undefined;
        compiles.push(await cellCompiles(async () => void (r = await runModule(src, { config }))));
        expect(strip(r!), `run ${i + 1}`).toBe(want);
      }
      // the first runs compile (the second on a kept runtime keeps the copy: the third in a process whose first run
      // came before the module's layout was found); the later ones call the kept wrapper
      expect(compiles[0]).toBe(1);
      expect(compiles.slice(3)).toEqual([0, 0, 0]);
      expect(quickJSGeneration()).toBe(gen);
      expect(await loadQuickJS()).toBe(q);
    });
  }

  const ENDINGS: [string, string, boolean, RunOptions?][] = [
    ["a thrown error at the top level", "throw new Error('top level fails');", true],
    ["a stack overflow at the top level", "const down = (n: number): number => down(n + 1) + 1; down(0);", true],
    ["an interrupted infinite loop at the top level", "for (;;) {}", true, { limits: { cpuMs: 60 } }],
    ["a huge allocation kept by the top level", "g.big = new Uint8Array(8 << 20).fill(7);", false],
  ];
  it("a cell whose top level fails or is stopped, run again and again from its kept compile, ends the same way each time and leaves the next cell clean", async () => {
    const deps = await loadKernelDeps();
    const fresh = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
    const clean = dirtyCell("clean after endings");
    const wantClean = strip(runModuleSync(fresh, clean, {}, deps));
    for (const [what, extra, fails, opts] of ENDINGS) {
      const src = dirtyCell(`ending ${what}`, extra);
      const firsts: RunResult[] = [];
      let later = 0;
      for (let i = 0; i < 5; i++) {
        let r: RunResult | undefined;
        const n = await cellCompiles(async () => void (r = await runModule(src, opts)));
        if (i >= 3) later += n;
        firsts.push(r!);
        expect(strip(await runModule(clean)), `${what}: the clean cell after run ${i + 1}`).toBe(wantClean);
      }
      expect(later, what).toBe(0);
      // the same report every time (the CPU limit's frames and text do not depend on which run it was)
      const shape = (r: RunResult) => JSON.stringify({ dmesg: r.dmesg.filter((l) => !/\d+ ms|cpu/i.test(l)).length, kinds: r.reports.map((x) => x.kind) });
      for (const r of firsts.slice(1)) expect(shape(r), what).toBe(shape(firsts[0]!));
      expect(firsts[0]!.module?.loaded, what).toBe(!fails);
      if (!fails) expect(firsts[4]!.dmesg.join("\n"), what).toContain("runs=1 polluted=1 counter=10 push=-1");
    }
  });

  it("the same text on another config, or with the shadow stack off, is compiled for its own code: each gives what a fresh module gives", async () => {
    const deps = await loadKernelDeps();
    const fresh = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
    const src = dirtyCell("codes");
    const variants: RunOptions[] = [{ config: "debug" }, { config: "distro" }, { config: "debug", shadowStack: false }];
    const want = variants.map((o) => strip(runModuleSync(fresh, src, o, deps)));
    for (let round = 0; round < 4; round++)
      for (const [i, o] of variants.entries()) expect(strip(await runModule(src, o)), `${JSON.stringify(o)} round ${round}`).toBe(want[i]);
    expect(preparedStats(await loadQuickJS()).usable).toBe(true);
  });
});
