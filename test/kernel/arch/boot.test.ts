// Through the real boot(): the arch lines land in dmesg in order, /proc/version, /proc/cmdline and /proc/iomem
// come out of the registered renderers, and absurd RAM is a KernelBootError from kernel.ts.
import { describe, expect, it } from "vitest";
import { boot, KernelBootError } from "../../../src/kernel/kernel.ts";
import { readProc } from "../../../src/kernel/fs/proc.ts";
import { realBootLines, realSection } from "./fake.ts";

describe("setup_arch inside boot()", () => {
  it("x86_64-6.1 dmesg starts with the real banner, e820 map and NUMA lines, before Zone ranges", () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    const texts = k.log.dmesg().map((l) => l.replace(/^\[[ \d.]+\] /, ""));
    const z = texts.indexOf("Zone ranges:");
    expect(texts.slice(0, z)).toEqual(realBootLines("x86_64-512M-nokaslr.log", /^Zone ranges:/).filter((l) => !/^(tsc:|AGP:|x86\/PAT|found SMP|ACPI)/.test(l)));
  });
  it("/proc/version, /proc/cmdline and /proc/iomem of i386-6.1 are the real ones", () => {
    const k = boot("i386-6.1");
    expect(readProc(k, "version")).toBe(realSection("i386-1G.log", "/proc/version")[0] + "\n");
    expect(readProc(k, "cmdline")).toBe(realSection("i386-1G.log", "/proc/cmdline")[0] + "\n");
    expect(readProc(k, "iomem")).toBe(realSection("i386-1G.log", "/proc/iomem").join("\n") + "\n");
  });
  it("the 3.4 ARM layout print comes after mem_init's two Memory: lines (banks in MB, then free/reserved/highmem)", () => {
    const texts = boot("arm-3.4-msm8x25").log.dmesg();
    const mem = texts.map((l) => /\] Memory: /.test(l)).lastIndexOf(true);
    expect(texts[mem - 1]).toMatch(/\] Memory: 190MB 768MB = 958MB total$/);
    expect(texts[mem]).toMatch(/\] Memory: (\d+)k\/\1k available, \d+k reserved, \d+K highmem$/);
    const vkml = texts.findIndex((l) => l.endsWith("Virtual kernel memory layout:"));
    expect(mem).toBeGreaterThan(0);
    expect(vkml).toBe(mem + 1);
  });
  it("6.1 profiles print no layout block", () => {
    for (const p of ["x86_64-6.1", "i386-6.1", "arm-6.1-virt", "arm64-6.1"]) {
      expect(
        boot(p)
          .log.dmesg()
          .some((l) => /irtual kernel memory layout/.test(l)),
      ).toBe(false);
    }
  });
  it("absurd RAM is a KernelBootError with a one-line message", () => {
    for (const p of ["x86_64-6.1", "i386-2.6", "arm-3.4-msm8x25", "arm64-6.1"]) {
      for (const mem of [1024, 2 ** 50]) {
        try {
          boot(p, { mem });
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(KernelBootError);
          expect((e as Error).message).not.toContain("\n");
        }
      }
    }
  });
});
