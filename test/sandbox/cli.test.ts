import { afterEach, describe, expect, it, vi } from "vitest";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/cli/run.ts";
import { checkCommand } from "../../src/cli/check.ts";

const dir = mkdtempSync(join(tmpdir(), "kmodlab-cli-"));
const file = (name: string, src: string) => {
  const p = join(dir, name);
  writeFileSync(p, src);
  return p;
};
function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  return { out: () => out.join(""), err: () => err.join("") };
}
afterEach(() => vi.restoreAllMocks());

describe("kmodlab run / check", () => {
  it("memdemo on i386-2.6: exit 0, three addresses printed", async () => {
    const c = capture();
    const code = await runCommand("examples/memdemo.ts", { profile: "i386-2.6" });
    expect(code).toBe(0);
    expect(c.out().match(/(pagemem|kmallocmem|vmallocmem) addr=[0-9a-f]{8}$/gm)).toHaveLength(3);
  });

  it("--json prints exactly the RunResult; an exception exits 1", async () => {
    const c = capture();
    const code = await runCommand(file("bad.ts", `import { module_init } from "linux";\nmodule_init(() => { throw new Error("boom"); });\n`), { json: true });
    expect(code).toBe(1);
    const r = JSON.parse(c.out());
    expect(r.reports.map((x: { kind: string }) => x.kind)).toEqual(["exception"]);
    expect(Object.keys(r)).toEqual(
      expect.arrayContaining(["profile", "initReturn", "dmesg", "bootLog", "reports", "proc", "procAfterExit", "stats", "kernel"]),
    );
  });

  it("a syntax error is reported as FILE:line:col on stderr, exit 1", async () => {
    const c = capture();
    const p = file("syntax.ts", `import { printk } from "linux";\nlet x = (;\n`);
    expect(await runCommand(p, {})).toBe(1);
    expect(c.err()).toBe(`${p}:2:10: SyntaxError: Unexpected token\n`);
  });

  it("bad usage exits 2: unknown profile, bad --mem, unknown /proc file", async () => {
    capture();
    expect(await runCommand("examples/memdemo.ts", { profile: "vax-1.0" })).toBe(2);
    expect(await runCommand("examples/memdemo.ts", { mem: "lots" })).toBe(2);
    expect(await runCommand("examples/memdemo.ts", { proc: "nosuchfile" })).toBe(2);
    expect(await runCommand(join(dir, "missing.ts"), {})).toBe(2);
  });

  it("check prints file:line:col - error TSxxxx and exits 1", async () => {
    const c = capture();
    const p = file("types.ts", `import { free_page } from "linux";\nfree_page(1);\n`);
    expect(await checkCommand(p, {})).toBe(1);
    expect(c.out()).toBe(`${p}:2:11 - error TS2345: Argument of type 'number' is not assignable to parameter of type 'bigint'.\n`);
  });
});
