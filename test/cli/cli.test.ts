// The kmodlab CLI: exit codes and output of the kernel-only commands (boot, proc, profiles), through the built command
// as a user runs it (bin/kmodlab.cjs over lib/; a stale build is rebuilt by its first start).
import { describe, expect, it, vi, afterEach } from "vitest";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/kmodlab.cjs", import.meta.url));
let last = { out: "", err: "" };

/** Run `kmodlab ARGV` as a process; its exit code (stdout and stderr go to capture()'s readers). */
function main(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on("data", (b: Buffer) => out.push(b));
    p.stderr.on("data", (b: Buffer) => err.push(b));
    p.on("error", reject);
    p.on("close", (code) => {
      // a rebuild's one progress line is not the command's output
      last = {
        out: Buffer.concat(out).toString(),
        err: Buffer.concat(err)
          .toString()
          .replace(/^kmodlab: building the command .*\n/m, ""),
      };
      resolve(code ?? -1);
    });
  });
}

function capture() {
  return { out: () => last.out, err: () => last.err };
}

afterEach(() => vi.restoreAllMocks());

describe("kmodlab CLI", () => {
  it("profiles lists the six required profiles with a description", async () => {
    const c = capture();
    expect(await main(["profiles"])).toBe(0);
    for (const name of ["i386-2.6", "arm-3.4-msm8x25", "x86_64-6.1", "i386-6.1", "arm-6.1-virt", "arm64-6.1"]) {
      expect(c.out()).toMatch(new RegExp(`^${name.replace(/\./g, "\\.")}\\s+\\S`, "m"));
    }
  });

  it("boot prints the era's banner first and the command line", async () => {
    const c = capture();
    expect(await main(["boot", "--profile", "x86_64-6.1"])).toBe(0);
    const lines = c.out().split("\n");
    expect(lines[0]).toMatch(/^\[    0\.000000\] Linux version 6\.1\./);
    expect(c.out()).toContain("Kernel command line: ");
  });

  it("proc buddyinfo prints one line per populated zone", async () => {
    const c = capture();
    expect(await main(["proc", "buddyinfo", "--profile", "x86_64-6.1"])).toBe(0);
    expect(c.out()).toMatch(/^Node 0, zone      DMA( +\d+){11} \nNode 0, zone    DMA32( +\d+){11} \n$/);
  });

  it("an unknown profile is a one-line error with exit code 2", async () => {
    const c = capture();
    expect(await main(["boot", "--profile", "vax-1.0"])).toBe(2);
    expect(c.err().trim().split("\n")).toHaveLength(1);
    expect(c.err()).toMatch(/^kmodlab: .*vax-1\.0/);
  });

  it("a bad --mem is a one-line error with exit code 2", async () => {
    const c = capture();
    expect(await main(["boot", "--mem", "lots"])).toBe(2);
    expect(c.err()).toMatch(/^kmodlab: bad --mem 'lots'/);
  });

  it("absurd RAM sizes are refused with exit code 2, not a stack trace", async () => {
    for (const mem of ["0", "1K", "1P"]) {
      const c = capture();
      expect(await main(["boot", "--mem", mem])).toBe(2);
      expect(c.err()).not.toMatch(/\n\s+at /);
      vi.restoreAllMocks();
    }
  });

  it("an unknown /proc file is exit code 2", async () => {
    const c = capture();
    expect(await main(["proc", "nosuchfile"])).toBe(2);
    expect(c.err()).toMatch(/no such file: \/proc\/nosuchfile/);
  });

  it("an unknown command is exit code 2", async () => {
    capture();
    expect(await main(["frobnicate"])).toBe(2);
  });
});

describe("kmodlab boot refuses command lines no machine could boot with", () => {
  it("msm8x25 with vmalloc=8M: one line naming the static mappings and the vmalloc= that works, exit 2", async () => {
    const c = capture();
    expect(await main(["boot", "--profile", "arm-3.4-msm8x25", "--cmdline", "vmalloc=8M"])).toBe(2);
    expect(c.err()).toMatch(
      /^kmodlab: vmalloc area too small, limiting to 16MB; then this board's static device mappings at 0xfa000000 fall below the vmalloc area .*use vmalloc=88M or more\n$/,
    );
  });
  it("msm8x25 with vmalloc=2000M: the clamp leaves 32 MB of lowmem and the boot panics, exit 2", async () => {
    const c = capture();
    expect(await main(["boot", "--profile", "arm-3.4-msm8x25", "--cmdline", "vmalloc=2000M"])).toBe(2);
    expect(c.err()).toMatch(/^kmodlab: vmalloc area is too big, limiting to \d+MB; then Kernel panic - not syncing: .*out of memory.* 32 MB of lowmem/i);
  });
  it("msm8x25 with vmalloc=96M boots; exit 0, or 1 when the boot itself reported something (the one exit-code rule)", async () => {
    const { boot } = await import("../../src/kernel/kernel.ts");
    const reported = boot("arm-3.4-msm8x25", { cmdline: "vmalloc=96M" }).reports.length > 0;
    const c = capture();
    expect(await main(["boot", "--profile", "arm-3.4-msm8x25", "--cmdline", "vmalloc=96M"])).toBe(reported ? 1 : 0);
    expect(c.out()).toMatch(/vmalloc : 0x[0-9a-f]{8} - 0xff000000/);
  });
});

describe("the built kmodlab command", () => {
  it("runs JavaScript from lib/, rebuilt from the current sources (no tsx)", async () => {
    expect(await main(["profiles"])).toBe(0);
    const { statSync, readFileSync } = await import("node:fs");
    const lib = fileURLToPath(new URL("../../lib/cli.mjs", import.meta.url));
    expect(statSync(lib).mtimeMs).toBeGreaterThanOrEqual(statSync(fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))).mtimeMs);
    expect(readFileSync(bin, "utf8")).not.toMatch(/from "tsx/);
  });
  it("run examples/memdemo.ts prints the three addresses and exits 0", async () => {
    const c = capture();
    expect(await main(["run", fileURLToPath(new URL("../../examples/memdemo.ts", import.meta.url))])).toBe(0);
    expect(c.out()).toMatch(/pagemem addr=ffff8880[0-9a-f]{8}\n.*kmallocmem addr=ffff8880[0-9a-f]{8}\n.*vmallocmem addr=ffffc9[0-9a-f]{10}\n/s);
  });
  it("check passes the example; TypeScript is imported by check's own chunk only, never at start", async () => {
    const c = capture();
    expect(await main(["check", fileURLToPath(new URL("../../examples/memdemo.ts", import.meta.url))])).toBe(0);
    expect(c.err()).toMatch(/no type errors/);
    const { readdirSync, readFileSync } = await import("node:fs");
    const lib = fileURLToPath(new URL("../../lib/", import.meta.url));
    const importers = readdirSync(lib).filter((f) => f.endsWith(".mjs") && /^import .* from "typescript";$/m.test(readFileSync(lib + f, "utf8")));
    expect(importers.length).toBe(1);
    expect(importers[0]).toMatch(/^check-/);
  });
  it("output cut short by a closed pipe ends quietly", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync("bash", ["-c", `"${process.execPath}" "${bin}" profiles | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: "utf8" });
    expect(r.stderr).not.toMatch(/EPIPE|at /);
    expect(r.stdout.trim()).toBe("0");
  });
});

describe("kmodlab run without --json", () => {
  it("asks for no memory views: RunOptions.views false leaves them out of RunResult.kernel, layout and call log stay", async () => {
    const { runModule } = await import("../../sandbox/run.ts");
    const { readFileSync } = await import("node:fs");
    const src = readFileSync(fileURLToPath(new URL("../../examples/memdemo.ts", import.meta.url)), "utf8");
    const full = await runModule(src, {});
    const lean = await runModule(src, { views: false });
    expect(Object.keys(full.kernel)).toEqual(expect.arrayContaining(["layout", "calls", "frames", "zones", "allocations", "vmallocAreas"]));
    expect(Object.keys(lean.kernel)).toEqual(expect.arrayContaining(["layout", "calls"]));
    for (const k of ["frames", "zones", "allocations", "vmallocAreas"]) expect(lean.kernel, k).not.toHaveProperty(k);
    expect(lean.dmesg).toEqual(full.dmesg);
  });
});
