// The disk cache of booted machines (issue 15): src/kernel/snapshot_disk.ts (a Kernel as records) and
// src/node/boot-cache.ts (the file), used by `kmodlab run`'s worker (src/node/worker-code.ts bootCached). Pins that a
// machine read back runs byte for byte like a fresh boot on every profile and config, that a file with another key, a
// wrong length or checksum, or records this build cannot place is ignored (and replaced), and that the built command
// prints the same with the cache cold, warm and off.

import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { profileNames } from "../../src/kernel/profiles.ts";
import { DiskFormError, decodeMachine, encodeMachine, type EncodedMachine } from "../../src/kernel/snapshot_disk.ts";
import { format, fromPayload, machineStore, parse, readMachine, toPayload, writeMachine } from "../../src/node/boot-cache.ts";
import { bootCached } from "../../src/node/worker-code.ts";
import { loadKernelDeps, runModule, type RunOptions } from "../../sandbox/run.ts";
import type { BootOptions } from "../../src/kernel/types.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const example = (name: string) => readFileSync(join(repo, "examples", name), "utf8");

/** A machine through its disk form: encoded, serialised, deserialised, decoded (what a cache hit gives). */
const roundTrip = (k: Kernel): Kernel => decodeMachine(fromPayload(toPayload(encodeMachine(k))) as EncodedMachine);

/** A run's result as JSON, without the wall-clock figure (the one field that is not the machine's). */
async function runOn(k: Kernel, source: string, options: RunOptions): Promise<string> {
  const deps = await loadKernelDeps();
  const r = await runModule(source, options, { ...deps, boot: () => k });
  return JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 } }, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
}

const RUNS: [string, RunOptions][] = [
  ["memdemo.ts", { proc: ["meminfo", "buddyinfo", "slabinfo", "vmallocinfo"] }],
  ["leak.ts", {}],
  ["pages.ts", { proc: ["buddyinfo", "zoneinfo"] }],
];

describe("a machine read back from its disk form", () => {
  for (const profile of profileNames()) {
    for (const config of [undefined, "debug", "distro"] as const) {
      it(`runs byte for byte like a fresh boot: ${profile}${config ? ` ${config}` : ""}`, async () => {
        const opts: BootOptions = config ? { config } : {};
        const original = boot(profile, opts);
        const restored = roundTrip(original);
        expect(restored).not.toBe(original);
        expect(restored.constructor).toBe(original.constructor);
        for (const [name, options] of RUNS) {
          const src = example(name);
          const fresh = await runOn(boot(profile, opts), src, { ...options, profile, config });
          expect(await runOn(roundTrip(boot(profile, opts)), src, { ...options, profile, config })).toBe(fresh);
        }
        // the records do not share state with the machine they came from: a run on it leaves the original as booted
        await runOn(restored, example("memdemo.ts"), { profile, config });
        expect(await runOn(original, example("memdemo.ts"), { profile, config })).toBe(
          await runOn(boot(profile, opts), example("memdemo.ts"), { profile, config }),
        );
      }, 120_000);
    }
  }

  it("with other boot options (mem, cmdline, seed) runs like a fresh boot", async () => {
    const opts: BootOptions = { mem: 512 << 20, cmdline: "console=ttyS0 slub_debug=FZP", seed: 7 };
    const fresh = await runOn(boot("x86_64-6.1", opts), example("oob.ts"), { profile: "x86_64-6.1", ...opts });
    expect(await runOn(roundTrip(boot("x86_64-6.1", opts)), example("oob.ts"), { profile: "x86_64-6.1", ...opts })).toBe(fresh);
  }, 60_000);

  it("refuses what it cannot name (a closure, an unexported class): the caller boots instead", () => {
    const k = boot("x86_64-6.1", {});
    (k as unknown as Record<string, unknown>).hook = () => k;
    expect(() => encodeMachine(k)).toThrow(DiskFormError);
    const k2 = boot("x86_64-6.1", {});
    (k2 as unknown as Record<string, unknown>).extra = new (class Unexported {})();
    expect(() => encodeMachine(k2)).toThrow(/not exported/);
  });

  it("refuses records that name what this build does not have", () => {
    const e = encodeMachine(boot("i386-2.6", {}));
    expect(() => decodeMachine({ ...e, names: e.names.map((n, i) => (i === 0 ? "slub:NoSuchClass.prototype" : n)) })).toThrow(DiskFormError);
    expect(() => decodeMachine({ ...e, format: e.format + 1 })).toThrow(DiskFormError);
    expect(() => decodeMachine({ ...e, sideTables: e.sideTables + 1 })).toThrow(DiskFormError);
  });
});

describe("the machine file", () => {
  const payload = toPayload({ hello: [1, 2n, "three"] });

  it("reads back what was written under the same key only", () => {
    const bytes = format(payload, "key-a");
    expect(parse(bytes, "key-a")).toEqual({ hello: [1, 2n, "three"] });
    expect(parse(bytes, "key-b")).toBeUndefined();
  });

  it("is ignored when a byte is changed, or it is cut short, or it is not one", () => {
    const bytes = format(payload, "key-a");
    for (let i = 0; i < bytes.length; i += 7) {
      const bad = Buffer.from(bytes);
      bad[i] ^= 0x20;
      const r = parse(bad, "key-a");
      // a change in the header's JSON may leave it readable and equal (a space for a space): then the payload is intact
      if (r !== undefined) expect(r).toEqual({ hello: [1, 2n, "three"] });
    }
    for (let i = bytes.length - 1; i > bytes.length - 20; i--) expect(parse(bytes.subarray(0, i), "key-a")).toBeUndefined();
    expect(parse(Buffer.from("not a machine\n{}\n"), "key-a")).toBeUndefined();
    expect(parse(Buffer.alloc(0), "key-a")).toBeUndefined();
  });

  it("is keyed by the build and the record format: another build's file misses", () => {
    const dir = mkdtempSync(join(tmpdir(), "kmodlab-machines-"));
    const code = join(dir, "code.cjs");
    writeFileSync(code, "// a build\n");
    process.env.KMODLAB_BOOT_CACHE_DIR = join(dir, "machines");
    try {
      const store = machineStore(code, "build-1", 1)!;
      expect(writeMachine(store, "m", payload)).toBe(true);
      expect(readMachine(store, "m")).toEqual({ hello: [1, 2n, "three"] });
      expect(readMachine(store, "other")).toBeUndefined();
      expect(readMachine(machineStore(code, "build-2", 1)!, "m")).toBeUndefined();
      expect(readMachine(machineStore(code, "build-1", 2)!, "m")).toBeUndefined();
      process.env.KMODLAB_BOOT_CACHE = "0";
      expect(machineStore(code, "build-1", 1)).toBeUndefined();
    } finally {
      delete process.env.KMODLAB_BOOT_CACHE_DIR;
      delete process.env.KMODLAB_BOOT_CACHE;
    }
  });

  it("bootCached stores a machine the second time it boots it, then reads it back; a corrupt file is booted again and replaced", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kmodlab-machines-"));
    const code = join(dir, "code.cjs");
    writeFileSync(code, "// a build\n");
    const machines = join(dir, "machines");
    process.env.KMODLAB_BOOT_CACHE_DIR = machines;
    try {
      let boots = 0;
      const counted = (p: string, o: BootOptions) => (boots++, boot(p, o));
      const src = example("memdemo.ts");
      const fresh = await runOn(boot("x86_64-6.1", {}), src, { proc: ["meminfo"] });
      // the sources have no build identity: they boot every time
      await bootCached(code, "x86_64-6.1", {}, counted);
      expect(boots).toBe(1);
      boots = 0;
      const cached = (p: string, o: BootOptions) => bootCached(code, p, o, counted, "test-build");
      // booted once: not stored (a marker says it was asked for); booted a second time: stored
      const zeroth = await cached("x86_64-6.1", {});
      expect(boots).toBe(1);
      expect(readdirSync(machines).filter((f) => f.endsWith(".bin"))).toHaveLength(0);
      const first = await cached("x86_64-6.1", {});
      expect(boots).toBe(2);
      const files = readdirSync(machines).filter((f) => f.endsWith(".bin"));
      expect(files).toHaveLength(1);
      const second = await cached("x86_64-6.1", {});
      expect(boots).toBe(2);
      expect(await runOn(zeroth, src, { proc: ["meminfo"] })).toBe(fresh);
      expect(await runOn(first, src, { proc: ["meminfo"] })).toBe(fresh);
      expect(await runOn(second, src, { proc: ["meminfo"] })).toBe(fresh);
      // corrupt the payload: the next start boots (and writes a good file again)
      const path = join(machines, files[0]!);
      const bytes = readFileSync(path);
      bytes[bytes.length - 100] ^= 0xff;
      writeFileSync(path, bytes);
      const third = await cached("x86_64-6.1", {});
      expect(boots).toBe(3);
      expect(await runOn(third, src, { proc: ["meminfo"] })).toBe(fresh);
      await cached("x86_64-6.1", {});
      expect(boots).toBe(3);
      // a boot the kernel refuses is refused the same way, and nothing is stored
      await expect(cached("x86_64-6.1", { mem: 1 << 20 })).rejects.toThrow();
      await expect(cached("x86_64-6.1", { mem: 1 << 20 })).rejects.toThrow();
      expect(readdirSync(machines).filter((f) => f.endsWith(".bin"))).toHaveLength(1);
    } finally {
      delete process.env.KMODLAB_BOOT_CACHE_DIR;
    }
  }, 60_000);
});

describe("kmodlab run from lib/ with the machine cache", () => {
  const kmodlab = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(repo, "bin", "kmodlab.cjs"), ...args], { encoding: "utf8", timeout: 240_000, env: { ...process.env, ...env } });
  // builds lib/ if it is missing or stale, so that the runs below use one build
  beforeAll(() => expect(kmodlab(["profiles"]).status).toBe(0), 300_000);

  it("prints the same with the cache cold, storing, warm and off", () => {
    const machines = mkdtempSync(join(tmpdir(), "kmodlab-machines-"));
    for (const args of [
      ["run", join(repo, "examples", "memdemo.ts"), "--boot", "--proc", "meminfo,buddyinfo"],
      ["run", join(repo, "examples", "leak.ts"), "--profile", "i386-6.1", "--config", "debug"],
    ]) {
      const off = kmodlab(args, { KMODLAB_BOOT_CACHE: "0" });
      const cold = kmodlab(args, { KMODLAB_BOOT_CACHE_DIR: machines }); // boots, leaves a marker
      const storing = kmodlab(args, { KMODLAB_BOOT_CACHE_DIR: machines }); // boots, stores, runs the stored machine
      const warm = kmodlab(args, { KMODLAB_BOOT_CACHE_DIR: machines }); // reads it back
      expect(off.stdout.length).toBeGreaterThan(0);
      for (const r of [cold, storing, warm]) {
        expect(r.status).toBe(off.status);
        expect(r.stderr).toBe(off.stderr);
        expect(r.stdout).toBe(off.stdout);
      }
    }
    // the two machines, and QuickJS's compiled copy beside them (src/node/quickjs-cache.ts: its key names it)
    const files = readdirSync(machines).filter((f) => f.endsWith(".bin"));
    const state = (f: string) => readFileSync(join(machines, f), "latin1").split("\n", 2)[1]!.includes("quickjs-state");
    expect(files.filter((f) => !state(f))).toHaveLength(2);
    expect(files.filter(state)).toHaveLength(1);
  }, 300_000);
});
