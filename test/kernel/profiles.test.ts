import { describe, expect, it } from "vitest";
import { PROFILES, getProfile, profileNames, UnknownProfileError } from "../../src/kernel/profiles.ts";
import { realSection } from "./real-kernel.ts";

/** The first line of a /proc file as the real kernel printed it (test/fixtures/real-kernel). */
const realProc = (file: string, name: string): string => realSection(file, name)[0];

describe("boot profiles", () => {
  it("has the eight profiles, names unique", () => {
    expect(profileNames()).toEqual(["i386-2.6", "arm-3.4-msm8x25", "x86_64-6.1", "x86_64-6.1-la57", "i386-6.1", "i386-6.1-pae", "arm-6.1-virt", "arm64-6.1"]);
    expect(new Set(profileNames()).size).toBe(PROFILES.length);
  });
  it("getProfile throws UnknownProfileError naming the known profiles", () => {
    expect(() => getProfile("sparc-1.0")).toThrow(UnknownProfileError);
    expect(() => getProfile("sparc-1.0")).toThrow(/x86_64-6\.1.*arm64-6\.1/);
  });
  it("the 6.1 version strings and command lines are the real /proc/version and /proc/cmdline", () => {
    for (const [name, log] of [
      ["x86_64-6.1", "x86_64-512M-nokaslr.log"],
      ["i386-6.1", "i386-1G.log"],
      ["arm-6.1-virt", "armhf-virt-1G.log"],
    ]) {
      expect(getProfile(name).versionString).toBe(realProc(log, "/proc/version"));
      expect(getProfile(name).defaultCmdline).toBe(realProc(log, "/proc/cmdline"));
      expect(getProfile(name).versionString).toContain(getProfile(name).release);
    }
  });
  it("pins each era's constants: printk levels changed in 3.6, %p hashing in 4.15, SLAB only on 2.6", () => {
    const p = Object.fromEntries(PROFILES.map((x) => [x.name, x]));
    expect(p["i386-2.6"].printkLevelStyle).toBe("angle");
    expect(p["arm-3.4-msm8x25"].printkLevelStyle).toBe("angle");
    for (const n of ["x86_64-6.1", "i386-6.1", "arm-6.1-virt", "arm64-6.1"]) {
      expect(p[n].printkLevelStyle).toBe("soh");
      expect(p[n].hashedPointers).toBe(true);
      expect(p[n].slab).toBe("SLUB");
    }
    expect(p["i386-2.6"].hashedPointers || p["arm-3.4-msm8x25"].hashedPointers).toBe(false);
    expect(p["i386-2.6"].slab).toBe("SLAB");
    expect(p["arm-6.1-virt"].maxOrder).toBe(12);
    expect(p["arm-6.1-virt"].kmallocMinSize).toBe(64);
    expect(p["x86_64-6.1"].maxOrder).toBe(11);
    expect(p["i386-2.6"].defaultMem).toBe(163840 * 1024);
    expect(p["x86_64-6.1"].defaultMem).toBe(512 * 1024 * 1024);
    for (const x of PROFILES) {
      expect(x.defaultConfig).toBe("debug");
      expect(x.description.length).toBeGreaterThan(20);
    }
  });
});
