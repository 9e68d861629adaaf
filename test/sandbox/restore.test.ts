// A run's QuickJS runtime, context and bridge put back from a copy of the module's memory (sandbox/restore.ts,
// sandbox/wasm_image.ts) instead of built: the layout it cuts the memory by, isolation between runs that share a
// copy (a cell that dirties the guest, then a clean one, gives what the clean one gives on a fresh module), the bound
// on the copies, and a poisoned module keeping none.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import RELEASE_SYNC from "@jitl/quickjs-wasmfile-release-sync";
import { kernelBootCache, loadKernelDeps, releaseCallLog, runModule, runModuleSync, type RunOptions } from "../../sandbox/run.ts";
import { loadQuickJS, poisonQuickJS, quickJSGeneration } from "../../sandbox/quickjs.ts";
import { MAX_SNAPSHOTS, preparedStats } from "../../sandbox/restore.ts";
import { baseImage, findLayout, layoutDeferred, layoutOf, moduleLayout } from "../../sandbox/wasm_image.ts";
import type { RunResult } from "../../sandbox/result.ts";

/** The .wasm's data segments' end and its one global's (the stack pointer's) start value. */
function wasmFacts(): { dataEnd: number; stackTop: number } {
  const b = readFileSync(new URL("../../node_modules/@jitl/quickjs-wasmfile-release-sync/dist/emscripten-module.wasm", import.meta.url));
  let p = 8;
  const leb = () => {
    let r = 0,
      s = 0,
      x: number;
    do {
      x = b[p++]!;
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  const sleb = () => {
    let r = 0,
      s = 0,
      x: number;
    do {
      x = b[p++]!;
      r |= (x & 0x7f) << s;
      s += 7;
    } while (x & 0x80);
    return s < 32 && x & 0x40 ? r | (-1 << s) : r;
  };
  let dataEnd = 0;
  let stackTop = -1;
  while (p < b.length) {
    const id = b[p++]!;
    const size = leb();
    const end = p + size;
    if (id === 6) {
      const n = leb();
      for (let i = 0; i < n; i++) {
        p += 2; // type, mutability
        if (b[p++] !== 0x41) throw new Error("a global not set by i32.const");
        const v = sleb();
        p++; // end
        if (i === 0) stackTop = v;
      }
    }
    if (id === 11) {
      const n = leb();
      for (let i = 0; i < n; i++) {
        if (leb() !== 0) throw new Error("a passive data segment");
        p++; // i32.const
        const off = sleb();
        p++; // end
        const len = leb();
        dataEnd = Math.max(dataEnd, off + len);
        p += len;
      }
    }
    p = end;
  }
  return { dataEnd, stackTop };
}

/** A run's outputs without its wall time, the call log included (RunResult.kernel.calls is made when read). */
const strip = (r: RunResult) => JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 }, kernel: { calls: r.kernel.calls } });

/**
 * One cell shape for all the runs below: the same imports, the same kernel-call sites (so one prepared runtime
 * serves them all), and one line of `dirt` that runs first at the top level.
 */
const cell = (dirt: string) => `import { kmalloc, kfree, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
try { ${dirt} } catch (e) {}
let p = 0n;
function probe(): string {
  const m = new Map([[1, 2]]);
  const a: number[] = [];
  const pushed = a.push(5);
  return JSON.stringify({ names: Object.getOwnPropertyNames(globalThis).sort().join(","), leak: typeof (globalThis as any).leak, polluted: typeof ({} as any).polluted, pushed, a, get: m.get(1), big: typeof (globalThis as any).big, kmalloc: typeof kmalloc, call: typeof Function.prototype.call, str: String(1n << 64n) });
}
function init(): number { p = kmalloc(100, GFP_KERNEL); printk(KERN_INFO + "probe %s\\n", probe()); return 0; }
function exit(): void { kfree(p); }
module_init(init);
module_exit(exit);
`;

const DIRT: [string, string, RunOptions?][] = [
  ["globals and Object.prototype", "(globalThis as any).leak = 1; (Object.prototype as any).polluted = 2; (globalThis as any).Symbol = undefined;"],
  [
    "Array.prototype.push and Map.prototype",
    "Array.prototype.push = function () { return -1; }; Map.prototype.get = () => 42; Map.prototype.set = function () { throw new Error('no'); };",
  ],
  [
    "the prelude's objects and builtins",
    "Function.prototype.call = () => 0; (JSON as any).stringify = () => 'tampered'; Object.freeze = (o: any) => o; (kmalloc as any).x = 1; Reflect.apply = () => 7;",
  ],
  ["a huge allocation kept", "(globalThis as any).big = new Uint8Array(8 << 20).fill(7);"],
  ["a stack overflow", "const down = (n: number): number => down(n + 1) + 1; down(0);"],
  ["a thrown host error", "const f: any = kmalloc; f('not a size', 'nor flags');"],
  ["an interrupted infinite loop", "for (;;) {}", { limits: { cpuMs: 60 } }],
  ["BigInt replaced", "(globalThis as any).BigInt = () => 0n; (BigInt.prototype as any).toString = () => 'x';"],
];

describe("a prepared QuickJS runtime put back instead of built (restore.ts)", () => {
  it("finds this build's memory layout, and the .wasm agrees: the sbrk pointer and the data below the copied low part, the stack's top just below the copied heap", async () => {
    const q = await loadQuickJS();
    const layout = await moduleLayout(q);
    expect(layout).toBeDefined();
    const { dataEnd, stackTop } = wasmFacts();
    expect(layout!.sbrkAddr).toBeLessThan(layout!.lowEnd);
    expect(dataEnd).toBeLessThan(layout!.lowEnd);
    // the stack grows down from stackTop: the heap part starts at most 64 KiB below it, the low part ends far below
    expect(layout!.heapStart).toBeLessThanOrEqual(stackTop);
    expect(stackTop - layout!.heapStart).toBeLessThanOrEqual(64 << 10);
    expect(layout!.lowEnd).toBeLessThan(stackTop - (1 << 20));
  });

  it("the shared module's layout is found only once a second run comes (a one-run process never probes), and the key's second run still keeps its copy", async () => {
    poisonQuickJS(); // a fresh shared module
    const q = await loadQuickJS();
    expect(layoutDeferred(q)).toBe(true);
    const first = await runModule(cell("/* one */"));
    expect(await loadQuickJS()).toBe(q); // this call waits for the probe the first run asked for
    expect(layoutDeferred(q)).toBe(false);
    expect(layoutOf(q)).toBeDefined();
    await runModule(cell("/* one */"));
    const kept = preparedStats(q).snapshots; // the compiled copy and the key's
    expect(kept).toBe(2);
    expect(strip(await runModule(cell("/* one */")))).toBe(strip(first));
    expect(preparedStats(q).snapshots).toBe(kept + 1); // and the cell's compiled code, kept at its second compile on the copy (restore-cell.test.ts)
  });

  it("the twin's layout and base image are the module's own: two fresh instances of the build probe to the same bytes", async () => {
    const a = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
    const b = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
    expect(findLayout(a) && findLayout(b)).toBe(true);
    expect(layoutOf(b)).toEqual(layoutOf(a));
    const [x, y] = [baseImage(a)!, baseImage(b)!];
    expect(y.top).toBe(x.top);
    expect(Buffer.from(y.low).equals(Buffer.from(x.low))).toBe(true);
    expect(Buffer.from(y.heap).equals(Buffer.from(x.heap))).toBe(true);
    expect(await moduleLayout(await loadQuickJS())).toEqual(layoutOf(a));
  });

  it("a module loaded elsewhere has no layout: its runs build their runtime afresh and keep no copy", async () => {
    const other = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
    const deps = await loadKernelDeps();
    const r = runModuleSync(other, cell(";"), {}, deps);
    expect(r.dmesg.some((l) => l.includes("probe "))).toBe(true);
    expect(preparedStats(other)).toEqual({ snapshots: 0, bytes: 0, usable: false });
  });

  it("the third run of a cell is served from the copy its second kept, with the same RunResult", async () => {
    const first = await runModule(cell(";"));
    await runModule(cell(";"));
    const q = await loadQuickJS();
    const stats = preparedStats(q);
    expect(stats.usable).toBe(true);
    expect(stats.snapshots).toBeGreaterThan(0);
    const again = await runModule(cell(";"));
    expect(preparedStats(q).snapshots).toBe(stats.snapshots);
    expect(strip(again)).toBe(strip(first));
  });

  it("a finished run is not kept alive by the sandbox: with its result dropped, its kernel is collected; releaseCallLog hands its call log back (calls read stay, calls not read go)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    await loadKernelDeps(); // makes the boot cache
    const cache = kernelBootCache()!;
    const boot = cache.boot;
    const kernels: WeakRef<object>[] = [];
    cache.boot = (p, o) => {
      const k = boot.call(cache, p, o);
      kernels.push(new WeakRef(k));
      return k;
    };
    try {
      // debug: the prelude's wrappers serve the calls; distro: raw host functions (bindings.ts buildGuest makes both)
      for (const config of ["debug", "distro"] as const) for (let i = 0; i < 3; i++) expect((await runModule(cell(";"), { config })).initReturn).toBe(0);
    } finally {
      cache.boot = boot;
    }
    await new Promise((r) => setTimeout(r, 0)); // a WeakRef's target is held until the job that made it ends
    gc();
    // the last run's kernel, log and bridge: before, validate.ts's readers (closures made in run.ts openBridge) held
    // them until the context's next run. The second run's: its copy is kept (restore.ts keepPrepared, keepCell) with
    // the host functions its Bridge's constructor made, and before, those closures shared the constructor's scope,
    // which held the Bridge (`this`), its kernel and its log for as long as the copy was kept (up to MAX_SNAPSHOTS runs).
    expect(kernels.length).toBe(6);
    expect(kernels.map((w) => w.deref() === undefined)).toEqual([true, true, true, true, true, true]);

    const unread = await runModule(cell(";"));
    releaseCallLog(unread);
    expect("calls" in unread.kernel).toBe(false);
    const read = await runModule(cell(";"));
    const calls = read.kernel.calls as { fn: string }[];
    releaseCallLog(read);
    expect(read.kernel.calls).toBe(calls);
    expect(calls.map((c) => c.fn)).toContain("kmalloc");
  });

  // debug: the prelude's wrappers serve the kernel calls (KASAN reads the guest's stack); distro: raw host functions
  for (const config of ["debug", "distro"] as const) {
    it(`a cell that dirties the guest (globals, prototypes, the prelude's objects, a huge allocation, a stack overflow, a host error, an interrupted loop) leaves nothing to the next: the clean cell gives what it gives on a fresh module (${config})`, async () => {
      const deps = await loadKernelDeps();
      const fresh = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC); // no layout: a runtime built for the run
      const want = strip(runModuleSync(fresh, cell(";"), { config }, deps));
      expect(want).toContain('\\"pushed\\":1');
      expect(want).toContain('"fn":"kmalloc"');
      const q = await loadQuickJS();
      const gen = quickJSGeneration();
      for (const [what, dirt, opts] of DIRT) {
        const dirty = await runModule(cell(dirt), { config, ...opts });
        expect(dirty.module, what).toBeDefined();
        const clean = await runModule(cell(";"), { config });
        expect(strip(clean), what).toBe(want);
      }
      // the same module served them all from one copy (no run poisoned it)
      expect(quickJSGeneration()).toBe(gen);
      expect(await loadQuickJS()).toBe(q);
    });
  }

  it("a key's first run starts from the module's compiled copy (no prelude compiled again) and gives what a fresh module gives, after dirty runs of other keys", async () => {
    const deps = await loadKernelDeps();
    const fresh = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
    for (const config of ["debug", "distro"] as const) {
      for (let n = 1; n <= 3; n++) {
        // a new key each (its own number of sites), after a run of another key that dirtied the guest
        await runModule(cell(DIRT[n]![1]), { config });
        const src = `${cell(";")}// ${config} ${n}\nfunction more(): void { ${"printk(KERN_INFO + 'more\\n'); ".repeat(n)}}\n`;
        const want = strip(runModuleSync(fresh, src, { config }, deps));
        expect(strip(await runModule(src, { config })), `${config} ${n}`).toBe(want);
      }
    }
  });

  it("a runtime someone else made on the module and keeps alive is never overwritten: runs build afresh while it lives", async () => {
    const q = await loadQuickJS();
    await runModule(cell(";"));
    await runModule(cell(";")); // a copy kept for the key
    const rt = q.newRuntime();
    const ctx = rt.newContext();
    try {
      ctx.unwrapResult(ctx.evalCode("globalThis.mine = { n: 41 }; 0")).dispose();
      const r = await runModule(cell(";"));
      expect(r.reports).toEqual([]);
      const h = ctx.unwrapResult(ctx.evalCode("++globalThis.mine.n"));
      expect(ctx.getNumber(h)).toBe(42);
      h.dispose();
    } finally {
      ctx.dispose();
      rt.dispose();
    }
    // gone: the copies serve again, with the same result as before
    const again = await runModule(cell(";"));
    expect(again.reports).toEqual([]);
  });

  it("the dirtying cells do dirty the guest: without the copy put back the clean cell would see it", async () => {
    const r = await runModule(cell("(globalThis as any).leak = 1; Array.prototype.push = function () { return -1; };"));
    const line = r.dmesg.find((l) => l.includes("probe "))!;
    expect(line).toContain('"leak":"number"');
    expect(line).toContain('"pushed":-1');
  });

  it(`keeps at most ${MAX_SNAPSHOTS} copies per module (a key's at its second run), the least recently used dropped`, async () => {
    const q = await loadQuickJS();
    for (let n = 1; n <= MAX_SNAPSHOTS + 4; n++) {
      const prints = Array.from({ length: n }, (_, i) => `printk(KERN_INFO + "line ${i}\\n");`).join(" ");
      for (let twice = 0; twice < 2; twice++) {
        const r = await runModule(`import { printk, KERN_INFO, module_init } from "linux";\nmodule_init(() => { ${prints} return 0; });\n`);
        expect(r.dmesg.at(-1)).toMatch(new RegExp(`line ${n - 1}$`));
      }
    }
    // every key kept a copy at its second run: the store is full, never over
    expect(preparedStats(q).snapshots).toBe(MAX_SNAPSHOTS);
  });

  it("a run whose memory growth is refused poisons the module, and its copies go with it", async () => {
    await runModule(cell(";"));
    const q = await loadQuickJS();
    expect(preparedStats(q).snapshots).toBeGreaterThan(0);
    const gen = quickJSGeneration();
    const r = await runModule(cell("const a: ArrayBuffer[] = []; for (;;) a.push(new ArrayBuffer(1 << 20));"), { limits: { memoryBytes: 16 << 20 } });
    expect(r.reports.some((x) => x.kind === "out-of-memory")).toBe(true);
    expect(quickJSGeneration()).toBeGreaterThan(gen);
    expect(preparedStats(q).snapshots).toBe(0);
    // the next run, on a new module, is clean
    const next = await runModule(cell(";"));
    expect(next.reports).toEqual([]);
  });
});
