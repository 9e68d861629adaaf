// The kmodlab CLI: exit codes and output of the kernel-only commands (boot, proc, profiles).
import { describe, expect, it, vi, afterEach } from "vitest";
import { main } from "../../src/cli/main.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  return { out: () => out.join(""), err: () => err.join("") };
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
    expect(c.err()).toMatch(/^kmodlab: vmalloc area too small, limiting to 16MB; then this board's static device mappings at 0xfa000000 fall below the vmalloc area .*use vmalloc=88M or more\n$/);
  });
  it("msm8x25 with vmalloc=2000M: the clamp leaves 32 MB of lowmem and the boot panics, exit 2", async () => {
    const c = capture();
    expect(await main(["boot", "--profile", "arm-3.4-msm8x25", "--cmdline", "vmalloc=2000M"])).toBe(2);
    expect(c.err()).toMatch(/^kmodlab: vmalloc area is too big, limiting to \d+MB; then Kernel panic - not syncing: out of memory .* only 32 MB of lowmem/);
  });
  it("msm8x25 with vmalloc=96M boots; its boot-time vmalloc failure warning is a report, so exit 1", async () => {
    const c = capture();
    expect(await main(["boot", "--profile", "arm-3.4-msm8x25", "--cmdline", "vmalloc=96M"])).toBe(1);
    expect(c.out()).toMatch(/vmalloc : 0x[0-9a-f]{8} - 0xff000000/);
  });
});
