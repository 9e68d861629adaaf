// The sandbox on the real kernel: the examples, determinism, many runs in one process.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { runModule, loadKernelDeps, checkImports } from "../../sandbox/run.ts";
import { transpileCell } from "../../sandbox/transpile.ts";
import { getProfile } from "../../src/kernel/profiles.ts";

const dir = new URL("../../examples/", import.meta.url);
const examples = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .sort();
const deps = await loadKernelDeps();

/** The profile an example is meant for (a `--profile P` in its header), else the default. */
const profileOf = (src: string) => /--profile (\S+)/.exec(src)?.[1] ?? "x86_64-6.1";

/** Imports of an example that the API table does not have for the profile's era (an example must not use any). */
function missingRows(src: string, profile: string): string[] {
  const tr = transpileCell(src);
  if (!tr.ok) return [`(does not compile: ${tr.error.message})`];
  const era = getProfile(profile).era;
  return tr.imports.filter((im) => im.name !== "*" && checkImports([im], deps.api, era)).map((im) => im.name);
}

describe("examples run and their output is pinned", () => {
  for (const f of examples) {
    const src = readFileSync(new URL(f, dir), "utf8");
    const profile = profileOf(src);
    it(`${f} on ${profile}`, async () => {
      expect(missingRows(src, profile), `${f} imports what the API table lacks`).toEqual([]);
      const r = await runModule(src, { profile });
      expect(r.reports.filter((x) => x.kind === "compile-error" || x.kind === "bug")).toEqual([]);
      expect({ dmesg: r.dmesg, reports: r.reports.map((x) => x.title), initReturn: r.initReturn, module: r.module }).toMatchSnapshot();
    });
  }
});

describe("memdemo, the classic 160 MB i386 demo", () => {
  it("on i386-2.6 the page and the kmalloc block are in lowmem (3G..3G+160M), the vmalloc block above VMALLOC_START", async () => {
    const src = readFileSync(new URL("memdemo.ts", dir), "utf8");
    const r = await runModule(src, { profile: "i386-2.6", mem: 160 << 20 });
    expect(r.reports).toEqual([]);
    const addr = (what: string) => BigInt("0x" + /addr=([0-9a-f]+)$/.exec(r.dmesg.find((l) => l.includes(what + " addr="))!)![1]);
    const layout = r.kernel.layout as { vmallocStart: string; vmallocEnd: string };
    const lowmem = (a: bigint) => a >= 0xc0000000n && a < 0xc0000000n + (160n << 20n);
    expect(lowmem(addr("pagemem"))).toBe(true);
    expect(lowmem(addr("kmallocmem"))).toBe(true);
    expect(addr("vmallocmem") >= BigInt(layout.vmallocStart) && addr("vmallocmem") < BigInt(layout.vmallocEnd)).toBe(true);
    expect(r.module).toEqual({ loaded: true, unloaded: true });
  });
});

describe("exceptions on the real kernel", () => {
  it("an exception in init is an Oops-like splat with the module list, the task line and the cell's frames", async () => {
    const r = await runModule(`import { module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function helper(o: any) {
  return o.field.deeper;
}
function mem_module_init(): number {
  return helper(null);
}
module_init(mem_module_init);
`);
    const rep = r.reports[0];
    expect(rep.kind).toBe("exception");
    const lines = rep.text.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "BUG: kernel exception in mem_module_init [cell]",
      "TypeError: cannot read property 'field' of null",
      "Modules linked in: cell(O+)",
    ]);
    expect(lines[3]).toBe("CPU: 0 PID: 108 Comm: insmod Tainted: G           O       6.1.0-56-amd64 #1  Debian 6.1.192-2");
    expect(lines).toContain(" helper+0x30/0x80 [cell]");
    expect(lines.slice(-2)).toEqual(["---[ end trace 0000000000000000 ]---", "Disabling lock debugging due to kernel taint"]);
    expect(rep.frames).toEqual(
      [
        { fn: "helper", line: 4, column: 15 },
        { fn: "mem_module_init", line: 7, column: 16 },
      ].map((f) => ({ ...f, column: expect.any(Number) })),
    );
    expect(r.module?.loaded).toBe(false);
  });
});

describe("determinism", () => {
  it("the same cell and options give identical RunResults except wallMs", async () => {
    const src = readFileSync(new URL("pages.ts", dir), "utf8");
    const opts = { profile: "x86_64-6.1", proc: ["buddyinfo", "meminfo"], seed: 7 };
    const a = await runModule(src, opts);
    const b = await runModule(src, opts);
    expect(a.stats.wallMs).toBeGreaterThan(0);
    a.stats.wallMs = b.stats.wallMs = 0;
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.parse(JSON.stringify(a))).toEqual(a); // JSON-serialisable unchanged
  });
});

describe("many runs in one process", () => {
  it("1000 runs: no QuickJS abort, every run clean, the memory they keep bounded (heap + external after a full GC)", async () => {
    const src = `import { __get_free_page, free_page, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let p = 0n;
module_init(() => { p = __get_free_page(GFP_KERNEL); printk(KERN_INFO + "%px\\n", p); return 0; });
module_exit(() => free_page(p));
`;
    const bad = `import { module_init } from "linux"; module_init(() => { throw new Error("x"); });`;
    for (let i = 0; i < 50; i++) await runModule(i % 2 ? src : bad);
    // What the runs keep: the JS heap plus memory outside it (typed arrays, QuickJS's wasm memories), after a full
    // GC, sampled every 100 runs. Not RSS, and not one sample before and one after: either moved by tens of MiB with
    // when V8 collected and what was still waiting to be freed (RSS grew 50 to 151 MiB over the same 1000 runs). A
    // leak raises the floor: the lowest of the last three samples against the lowest of the first three.
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const held = async () => {
      // Two collections with a turn of the event loop between: V8 frees ArrayBuffer backing stores after the GC
      // that finds them dead, so one gc() and an immediate read counted a run's kernel arrays (~11 MiB) or not.
      gc();
      await new Promise((r) => setTimeout(r, 20));
      gc();
      const m = process.memoryUsage();
      return (m.heapUsed + m.external) / (1 << 20);
    };
    const samples: number[] = [];
    let failures = 0;
    const one = async (i: number) => {
      // its own function, so that the run's result (and the kernel copy its views keep) is dead when sampled
      const r = await runModule(i % 10 === 9 ? bad : src);
      if (i % 10 !== 9 && r.reports.length) failures++;
      if (i % 10 === 9 && r.reports[0]?.kind !== "exception") failures++;
    };
    for (let i = 0; i < 1000; i++) {
      await one(i);
      if (i % 100 === 99) samples.push(await held());
    }
    const grown = Math.min(...samples.slice(-3)) - Math.min(...samples.slice(0, 3));
    console.log(`heap + external, MiB, every 100 runs: ${samples.map((x) => x.toFixed(1)).join(" ")}; floor moved ${grown.toFixed(1)}`);
    expect(failures).toBe(0);
    expect(grown).toBeLessThan(8); // a leak of ~14 KiB a run (8 MiB over the 600 runs between the windows) fails
  }, 600_000);
});
