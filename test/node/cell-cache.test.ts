// The disk cache of compiled cells (issue 15): src/node/cell-cache.ts, the transpileCell the bundled sandbox takes in
// place of sandbox/transpile.ts's, with the compiler (sucrase) in a script of its own that it loads only for a cell
// the cache lacks. Pins that a stored cell reads back equal to what the compiler gives (the shadow code's column Map
// included) and frozen, without a compile; that another build's file, another source or a damaged byte is compiled
// again; that failed compiles are not stored; that the cells keep to their own folder and number, leaving the machines
// alone; and that KMODLAB_BOOT_CACHE=0 turns it off. The built command's side: test/cli/fast-run.test.ts.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { transpileCell as compile, type TranspileResult } from "../../sandbox/transpile.ts";
import { CELL_FILES, CELL_FORMAT, readCell, transpileCell, useCellCompiler, writeCell } from "../../src/node/cell-cache.ts";
import { machineStore, readMachine, toPayload, writeMachine, type MachineStore } from "../../src/node/boot-cache.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const fixtureSource = fileURLToPath(new URL("./fixtures/cell-compiler.cjs", import.meta.url));
const examples = readdirSync(join(repo, "examples"))
  .filter((f) => f.endsWith(".ts"))
  .sort()
  .map((f) => readFileSync(join(repo, "examples", f), "utf8"));
/** A cell whose shadow code has a column map (a call inside a nested call), and a cell that does not compile. */
const NESTED = `import { kmalloc, kfree, printk, module_init } from "linux";\nmodule_init(() => { printk("%d\\n", Number(kfree(kmalloc(8, 0)) ?? 0)); return 0; });\n`;
const BROKEN = `import { module_init } from "linux";\nmodule_init(() => {\n  return 0 +;\n});\n`;

let dir: string;
let code: string;
/** The stand-in compiler, copied into the test's folder (its V8 code cache is written next to it). */
let fixture: string;
let compiles: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kmodlab-cells-"));
  code = join(dir, "code.cjs");
  writeFileSync(code, "// a build\n");
  fixture = join(dir, "cell-compiler.cjs");
  cpSync(fixtureSource, fixture);
  process.env.KMODLAB_BOOT_CACHE_DIR = join(dir, "machines");
  compiles = 0;
  (globalThis as Record<string, unknown>).__kmodlabTestCellCompiler = (src: string) => (compiles++, compile(src));
});
afterEach(() => {
  delete process.env.KMODLAB_BOOT_CACHE_DIR;
  delete process.env.KMODLAB_BOOT_CACHE;
  delete (globalThis as Record<string, unknown>).__kmodlabTestCellCompiler;
});

const cellStore = (build = "build-1"): MachineStore => machineStore(code, build, CELL_FORMAT, { folder: "cells", maxFiles: CELL_FILES })!;
const cellFiles = () => readdirSync(join(dir, "machines", "cells")).filter((f) => f.endsWith(".bin"));

function expectFrozen(v: unknown): void {
  if (v && typeof v === "object") {
    expect(Object.isFrozen(v)).toBe(true);
    for (const x of Object.values(v)) expectFrozen(x);
  }
}

describe("cell-cache: compiled cells on disk", () => {
  it("a cell compiled once is read back equal to the compiler's result, frozen, without compiling it again", () => {
    const cells = [...examples, NESTED];
    expect(compile(NESTED).ok && (compile(NESTED) as Extract<TranspileResult, { ok: true }>).shadow?.columns.size).toBeGreaterThan(0);
    useCellCompiler(fixture, "", code, "build-1");
    for (const src of cells) expect(transpileCell(src)).toEqual(compile(src));
    expect(compiles).toBe(cells.length);
    expect(cellFiles()).toHaveLength(cells.length);
    // a new process, as it were: the in-memory cache emptied
    useCellCompiler(fixture, "", code, "build-1");
    for (const src of cells) {
      const r = transpileCell(src);
      expect(r).toEqual(compile(src));
      expectFrozen(r);
    }
    expect(compiles).toBe(cells.length);
  });

  it("another build's file, another source, a damaged byte: no cell (compiled again)", () => {
    const src = examples[0]!;
    expect(writeCell(cellStore(), src, compile(src))).toBe(true);
    expect(readCell(cellStore(), src)).toEqual(compile(src));
    expect(readCell(cellStore("build-2"), src)).toBeUndefined();
    expect(readCell(cellStore(), src + " ")).toBeUndefined();
    const file = join(dir, "machines", "cells", cellFiles()[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 5]! ^= 0x55;
    writeFileSync(file, bytes);
    expect(readCell(cellStore(), src)).toBeUndefined();
    useCellCompiler(fixture, "", code, "build-1");
    expect(transpileCell(src)).toEqual(compile(src));
    expect(compiles).toBe(1);
    expect(readCell(cellStore(), src)).toEqual(compile(src)); // written again
  });

  it("a cell that does not compile is not stored: its error comes from the compiler each time", () => {
    useCellCompiler(fixture, "", code, "build-1");
    const r = transpileCell(BROKEN);
    expect(r.ok).toBe(false);
    expect(r).toEqual(compile(BROKEN));
    expect(writeCell(cellStore(), BROKEN, r)).toBe(false);
    useCellCompiler(fixture, "", code, "build-1");
    expect(transpileCell(BROKEN)).toEqual(r);
    expect(compiles).toBe(2);
    expect(existsSync(join(dir, "machines", "cells")) ? cellFiles() : []).toEqual([]);
  });

  it("keeps the newest CELL_FILES cells in their own folder and leaves the machines alone", () => {
    const machines = machineStore(code, "build-1", 1)!;
    expect(writeMachine(machines, "m", toPayload({ a: 1 }))).toBe(true);
    const base = examples[0]!;
    for (let i = 0; i < CELL_FILES + 3; i++) {
      const src = `${base}\n// ${i}\n`;
      expect(writeCell(cellStore(), src, compile(src))).toBe(true);
    }
    expect(cellFiles()).toHaveLength(CELL_FILES);
    expect(readCell(cellStore(), `${base}\n// ${CELL_FILES + 2}\n`)).toBeDefined();
    expect(readMachine(machines, "m")).toEqual({ a: 1 });
  });

  it("KMODLAB_BOOT_CACHE=0: no store, every new process compiles", () => {
    process.env.KMODLAB_BOOT_CACHE = "0";
    const src = examples[0]!;
    for (let i = 0; i < 2; i++) {
      useCellCompiler(fixture, "", code, "build-1");
      expect(transpileCell(src)).toEqual(compile(src));
    }
    expect(compiles).toBe(2);
    expect(existsSync(join(dir, "machines"))).toBe(false);
  });
});
