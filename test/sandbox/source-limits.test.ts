import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { MAX_SOURCE_BYTES, transpileCell } from "../../sandbox/transpile.ts";
import { READ_CAP, readCellFile } from "../../src/cli/read-cell.ts";
import { fakeDeps } from "./fake-kernel.ts";

const deps = fakeDeps();
const HEAD = `import { printk, KERN_INFO, module_init } from "linux";\nfunction my_init(): number {\n  let a = 0;\n`;
const TAIL = `  printk(KERN_INFO + "a=%d\\n", a);\n  return 0;\n}\nmodule_init(my_init);\n`;
/** A valid cell of exactly `bytes` bytes of UTF-8, made of `a++;` lines. */
function cellOf(bytes: number, line = "  a++;\n"): string {
  const room = bytes - HEAD.length - TAIL.length;
  const body = line.repeat(Math.floor(room / line.length));
  return HEAD + body + " ".repeat(room - body.length) + TAIL;
}
const utf8 = (s: string) => new TextEncoder().encode(s).length;

describe("the source size limit (a cell's compile costs the host memory in proportion to its source)", () => {
  it("a cell of exactly the limit compiles and runs", async () => {
    const src = cellOf(MAX_SOURCE_BYTES);
    expect(utf8(src)).toBe(MAX_SOURCE_BYTES);
    expect(transpileCell(src).ok).toBe(true);
    const r = await runModule(src, {}, deps);
    expect(r.reports.filter((x) => x.kind === "compile-error")).toEqual([]);
  });

  it("one byte more is a LimitError that names the limit, on the line where the limit falls", async () => {
    const src = cellOf(MAX_SOURCE_BYTES + 1);
    const tr = transpileCell(src);
    expect(tr.ok).toBe(false);
    if (tr.ok) return;
    expect(tr.error.name).toBe("LimitError");
    expect(tr.error.message).toContain("more than the 256 KiB a cell may hold (the source size limit");
    // the limit falls inside the last line of padding before TAIL: the line holding byte MAX_SOURCE_BYTES
    const line = src.slice(0, MAX_SOURCE_BYTES).split("\n").length;
    expect(tr.error.line).toBe(line);
    const r = await runModule(src, {}, deps);
    const rep = r.reports.find((x) => x.kind === "compile-error")!;
    expect(rep.title).toMatch(/^cell\.ts:\d+:\d+: LimitError: the cell is 256 KiB of source/);
    expect(rep.line).toBe(line);
    expect(r.initReturn).toBeNull();
  });

  it("counts UTF-8 bytes, not UTF-16 units: a cell of three-byte characters is over at a third of the length", () => {
    const euros = "€".repeat(Math.ceil(MAX_SOURCE_BYTES / 3) + 10); // ~87,000 units, ~262,000 bytes
    const src = HEAD + `  // ${euros}\n` + TAIL;
    expect(src.length).toBeLessThan(MAX_SOURCE_BYTES);
    const tr = transpileCell(src);
    expect(tr.ok).toBe(false);
    if (!tr.ok) {
      expect(tr.error.name).toBe("LimitError");
      expect(tr.error.line).toBe(4); // the comment's line
    }
    // the same number of ASCII characters is well under
    expect(transpileCell(HEAD + `  // ${"e".repeat(euros.length)}\n` + TAIL).ok).toBe(true);
  });

  it("source far over the limit is refused fast, before the compiler sees it", () => {
    const src = cellOf(8 * MAX_SOURCE_BYTES);
    const tr = transpileCell(src);
    expect(!tr.ok && tr.error.message).toContain("the cell is 2048 KiB of source");
  });
});

describe("the compiler's nesting limit (it parses by recursive descent)", () => {
  const deep: [string, string][] = [
    ["parentheses", "(".repeat(100_000) + "1" + ")".repeat(100_000)],
    ["array literals", "[".repeat(60_000) + "]".repeat(60_000)],
    ["unary operators", "!".repeat(200_000) + "1"],
    ["arrow functions", "() => ".repeat(40_000) + "1"],
    ["a chain of a hundred thousand additions", "1" + "+1".repeat(100_000)],
  ];
  for (const [what, expr] of deep) {
    it(`${what} nested past it give a LimitError, not a crash`, async () => {
      const src = HEAD + `  const x = ${expr};\n` + TAIL;
      expect(utf8(src)).toBeLessThanOrEqual(MAX_SOURCE_BYTES);
      const r = await runModule(src, {}, deps);
      const rep = r.reports.find((x) => x.kind === "compile-error")!;
      expect(rep.title).toMatch(/^cell\.ts:1:1: LimitError: the cell's code nests too deeply to compile \(the compiler's nesting limit/);
      expect(r.initReturn).toBeNull();
    });
  }

  it("ordinary nesting (a few dozen levels) compiles", () => {
    const src = HEAD + `  const x = ${"(".repeat(60)}1${")".repeat(60)};\n` + TAIL;
    expect(transpileCell(src).ok).toBe(true);
  });
});

describe("the CLI reads a cell file (run, check, grade)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kmodlab-read-cell-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a file over the limit is refused from its size, without reading it", () => {
    const f = join(dir, "huge.ts");
    writeFileSync(f, "");
    truncateSync(f, 700 * 1024 * 1024); // sparse: reading it would build a 700 MB string
    expect(() => readCellFile(f)).toThrow("it is 700.0 MiB, far more than the 256 KiB a cell may hold (the source size limit)");
  });

  it("a file up to the read cap is read whole, and the compile gives it its LimitError with a line", () => {
    const f = join(dir, "max.ts");
    writeFileSync(f, cellOf(MAX_SOURCE_BYTES));
    expect(readCellFile(f)).toBe(cellOf(MAX_SOURCE_BYTES));
    writeFileSync(f, "");
    truncateSync(f, READ_CAP);
    expect(readCellFile(f).length).toBe(READ_CAP);
    truncateSync(f, READ_CAP + 1);
    expect(() => readCellFile(f)).toThrow("the source size limit");
  });

  it("a missing file says so", () => {
    expect(() => readCellFile(join(dir, "nope.ts"))).toThrow(/ENOENT/);
  });

  it("a directory says so", () => {
    mkdirSync(join(dir, "sub.ts"));
    expect(() => readCellFile(join(dir, "sub.ts"))).toThrow("it is a directory, not a cell file");
  });

  it("a device that never ends (/dev/zero) is refused at the read cap (it was read forever)", () => {
    expect(() => readCellFile("/dev/zero")).toThrow(
      `it gave more than 16.0 MiB without ending, far more than the 256 KiB a cell may hold (the source size limit)`,
    );
  });

  it("a FIFO nobody writes to reads as empty (opening it waited forever); one whose writer sends nothing is refused after the wait", () => {
    const f = join(dir, "pipe.ts");
    execFileSync("mkfifo", [f]);
    expect(readCellFile(f, 300)).toBe("");
    // a writer that holds the FIFO open and writes nothing: a child shell keeps it open for 5 s
    const writer = spawn("sh", ["-c", `exec 3>"${f}"; sleep 5`], { stdio: "ignore" });
    try {
      // the writer's open blocks until a reader opens: keep opening until it is in (at most ~5 s)
      let err: unknown;
      for (let i = 0; i < 100 && err === undefined; i++) {
        try {
          readCellFile(f, 100);
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        } catch (e) {
          err = e;
        }
      }
      expect(String(err)).toContain("no bytes came from it for 0.1 s (a FIFO or a device that is not a cell file)");
    } finally {
      writer.kill();
    }
  });
});
