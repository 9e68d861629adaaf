// The QuickJS module's compiled copy kept between processes (issue 15): sandbox/quickjs_state.ts (made on a twin, put
// back in a fresh module) and src/node/quickjs-cache.ts (its file in the machine cache's folder). Pins that a module
// given the copy runs byte for byte like a fresh module, that the copy is the one a key's first run keeps in-process,
// that a module something ran in, another build's module, a file with another key, a changed byte or cut short is not
// used, and that the built command prints the same with the file cold, warm, corrupt and off, and writes a damaged
// file again.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { newQuickJSWASMModuleFromVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import RELEASE_SYNC from "@jitl/quickjs-wasmfile-release-sync";
import { loadKernelDeps, runModuleSync, type RunOptions } from "../../sandbox/run.ts";
import { adoptState, makeState } from "../../sandbox/quickjs_state.ts";
import { deferLayout, findLayout, layoutOf, takeImage } from "../../sandbox/wasm_image.ts";
import { compiledCopy, preparedStats } from "../../sandbox/restore.ts";
import { adoptStored, decodeState, encodeState, stateKey, storeState, wasmIdentity } from "../../src/node/quickjs-cache.ts";
import { rawVerdicts } from "../../sandbox/quickjs.ts";
import { format, machineStore, payloadOf, readPayload } from "../../src/node/boot-cache.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const example = (name: string) => readFileSync(join(repo, "examples", name), "utf8");
const fresh = (): Promise<QuickJSWASMModule> => newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
/** A module as loadQuickJS() leaves it: its layout deferred to a twin. */
async function loaded(): Promise<QuickJSWASMModule> {
  const m = await fresh();
  deferLayout(m, fresh);
  return m;
}

/** A run's result as JSON, without the wall-clock figure. */
async function runOn(qjs: QuickJSWASMModule, source: string, options: RunOptions): Promise<string> {
  const r = runModuleSync(qjs, source, options, await loadKernelDeps());
  return JSON.stringify({ ...r, stats: { ...r.stats, wallMs: 0 } }, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
}

/** A state through its bytes (what a process reads back). */
async function stateBytes(): Promise<Buffer> {
  const twin = await fresh();
  const state = makeState(twin)!;
  expect(state).toBeDefined();
  return encodeState(state, takeImage(await fresh(), state.layout));
}

/**
 * `body` with a machine store of a test build in a fresh folder (KMODLAB_BOOT_CACHE_DIR set meanwhile) and the
 * identity of the package's QuickJS .wasm.
 */
async function inStore(body: (store: NonNullable<ReturnType<typeof machineStore>>, id: string, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kmodlab-quickjs-"));
  const code = join(dir, "code.cjs");
  writeFileSync(code, "// a build\n");
  process.env.KMODLAB_BOOT_CACHE_DIR = join(dir, "machines");
  try {
    const store = machineStore(code, "test-build", 0)!;
    await body(store, wasmIdentity(readFileSync(join(repo, "node_modules/@jitl/quickjs-wasmfile-release-sync/dist/emscripten-module.wasm"))), dir);
  } finally {
    delete process.env.KMODLAB_BOOT_CACHE_DIR;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("a module given the compiled copy of another instance", () => {
  it("runs byte for byte like a fresh module (examples x configs, twice each)", async () => {
    const bytes = await stateBytes();
    for (const config of [undefined, "debug", "distro"] as const) {
      for (const [name, options] of [
        ["memdemo.ts", { proc: ["meminfo", "slabinfo"] }],
        ["leak.ts", {}],
        ["oob.ts", {}],
        ["user-space.ts", {}],
      ] as [string, RunOptions][]) {
        const o = { ...options, config };
        const expected = await runOn(await fresh(), example(name), o);
        const m = await loaded();
        const got = decodeState(bytes)!;
        expect(adoptState(m, got.state, () => true)).toBe(true);
        expect(preparedStats(m)).toMatchObject({ snapshots: 1, usable: true });
        expect(await runOn(m, example(name), o)).toBe(expected);
        expect(await runOn(m, example(name), o)).toBe(expected);
      }
    }
  }, 240_000);

  it("is the copy a key's first run keeps in-process (run.ts openBridge), byte for byte but for Math.random's seed", async () => {
    const m = await fresh();
    expect(findLayout(m)).toBe(true);
    await runOn(m, example("memdemo.ts"), {});
    const kept = compiledCopy(m)!.image;
    const made = decodeState(await stateBytes())!.state;
    const again = decodeState(await stateBytes())!.state;
    const differing = (x: Uint8Array, y: Uint8Array) => [...x.keys()].filter((i) => x[i] !== y[i]);
    expect(made.image.top).toBe(kept.top);
    expect(made.image.low.length).toBe(kept.low.length);
    expect(differing(made.image.low, kept.low)).toEqual([]);
    // QuickJS seeds a context's Math.random from the clock (JS_NewContext): copies made alike differ in that one
    // 64-bit word of the context, and nowhere else
    const diffs = new Set([
      ...differing(made.image.heap, again.image.heap),
      ...differing(made.image.heap, kept.heap),
      ...differing(again.image.heap, kept.heap),
    ]);
    const words = [...new Set([...diffs].map((i) => i >> 3))];
    expect(words.length).toBeLessThanOrEqual(1);
    for (const w of words) expect(w * 8 - (made.ctx - made.layout.heapStart)).toSatisfy((at: number) => at >= 0 && at < 512);
  }, 60_000);

  it("is refused by a module something ran in, or whose base image is not the copy's; the module runs as before", async () => {
    const bytes = await stateBytes();
    const expected = await runOn(await fresh(), example("memdemo.ts"), {});
    const other = await loaded();
    expect(adoptState(other, decodeState(bytes)!.state, () => false)).toBe(false);
    expect(preparedStats(other).usable).toBe(false);
    expect(await runOn(other, example("memdemo.ts"), {})).toBe(expected);
    const ran = await loaded();
    expect(await runOn(ran, example("memdemo.ts"), {})).toBe(expected);
    expect(layoutOf(ran)).toBeUndefined(); // asked for, not found yet: something ran
    expect(adoptState(ran, decodeState(bytes)!.state, () => true)).toBe(false);
    expect(await runOn(ran, example("memdemo.ts"), {})).toBe(expected);
  }, 60_000);
});

describe("the state file", () => {
  it("is read back under its key only; a changed byte or a cut file is not used", async () => {
    const payload = await stateBytes();
    const key = stateKey("1:2");
    const file = format(payload, key);
    expect(payloadOf(file, key)?.equals(payload)).toBe(true);
    expect(payloadOf(file, stateKey("1:3"))).toBeUndefined();
    for (let i = 0; i < file.length; i += 997) {
      const bad = Buffer.from(file);
      bad[i] ^= 0x10;
      const p = payloadOf(bad, key);
      if (p !== undefined) expect(p.equals(payload)).toBe(true); // a change in the header's JSON that leaves it equal
    }
    for (const cut of [file.length - 1, file.length - 4096, 100, 0]) expect(payloadOf(file.subarray(0, cut), key)).toBeUndefined();
    // a payload that is not a state (its own header cut or wrong) is not one
    expect(decodeState(payload.subarray(0, payload.length - 1))).toBeUndefined();
    expect(decodeState(Buffer.from("\x05\x00\x00\x00{}{}{"))).toBeUndefined();
  }, 30_000);

  it("is stored by one process and adopted by the next, keyed by the .wasm; a damaged file is refused", async () => {
    await inStore(async (store, id, dir) => {
      const code = join(dir, "code.cjs");
      expect(adoptStored(store, id, await loaded())).toBe(false); // none yet
      expect(storeState(store, id, await fresh(), await fresh())).toBe(true);
      expect(readPayload(store, stateKey(id))).toBeDefined();
      const m = await loaded();
      expect(adoptStored(store, id, m)).toBe(true);
      expect(await runOn(m, example("memdemo.ts"), {})).toBe(await runOn(await fresh(), example("memdemo.ts"), {}));
      expect(adoptStored(store, "503134:1", await loaded())).toBe(false); // another .wasm
      expect(adoptStored(machineStore(code, "other-build", 0)!, id, await loaded())).toBe(false);
      const [f] = readdirSync(join(dir, "machines")).filter((n) => n.endsWith(".bin"));
      const path = join(dir, "machines", f!);
      const good = readFileSync(path);
      const bad = Buffer.from(good);
      bad[bad.length - 5000] ^= 0xff;
      writeFileSync(path, bad);
      expect(adoptStored(store, id, await loaded())).toBe(false);
      writeFileSync(path, good.subarray(0, good.length - 1));
      expect(adoptStored(store, id, await loaded())).toBe(false);
    });
  }, 60_000);
});

describe("the raw-layout verdicts kept with the state", () => {
  it("are the writer's, adopted with the state (no probes); a state without them leaves the checks to the reader", async () => {
    await inStore(async (store, id) => {
      const expected = await runOn(await fresh(), example("memdemo.ts"), {});
      // the writer's own module after a run: both checks held
      const writer = await loaded();
      await runOn(writer, example("memdemo.ts"), {});
      const verdicts = rawVerdicts(writer);
      expect(verdicts).toEqual({ values: true, strings: true });
      // stored without them: the reader's module has none until its first run checks
      expect(storeState(store, id, await fresh(), await fresh())).toBe(true);
      const without = await loaded();
      expect(adoptStored(store, id, without)).toBe(true);
      expect(rawVerdicts(without)).toBeUndefined();
      expect(await runOn(without, example("memdemo.ts"), {})).toBe(expected);
      expect(rawVerdicts(without)).toEqual(verdicts);
      // stored with them: adopted with the state, before anything ran; the run is the same
      expect(storeState(store, id, await fresh(), await fresh(), verdicts)).toBe(true);
      const m = await loaded();
      expect(adoptStored(store, id, m)).toBe(true);
      expect(rawVerdicts(m)).toEqual(verdicts);
      expect(await runOn(m, example("memdemo.ts"), {})).toBe(expected);
      // a stored "does not hold" turns the raw readers off (the library's readers then), with the same output
      expect(storeState(store, id, await fresh(), await fresh(), { values: false, strings: false })).toBe(true);
      const off = await loaded();
      expect(adoptStored(store, id, off)).toBe(true);
      expect(rawVerdicts(off)).toEqual({ values: false, strings: false });
      expect(await runOn(off, example("memdemo.ts"), {})).toBe(expected);
      // a header whose verdicts are not two booleans is no state
      const st = makeState(await fresh())!;
      const bytes = encodeState(st, takeImage(await fresh(), st.layout), verdicts);
      expect(decodeState(bytes)?.raw).toEqual(verdicts);
      const n = bytes.readUInt32LE(0);
      const json = bytes.toString("utf8", 4, 4 + n).replace('"strings":true', '"strings":"1" ');
      expect(json.length).toBe(n);
      expect(decodeState(Buffer.concat([bytes.subarray(0, 4), Buffer.from(json), bytes.subarray(4 + n)]))).toBeUndefined();
    });
  }, 120_000);
});

describe("kmodlab run from lib/ with the QuickJS state on disk", () => {
  // a copy of the built package (bin/, lib/, package.json, node_modules linked), as fast-run.test.ts makes: a build of
  // the checkout swapped in meanwhile (another source changed) would key its state otherwise
  const top = mkdtempSync(join(tmpdir(), "kmodlab-quickjs-pkg-"));
  const pkg = join(top, "kmodlab");
  afterAll(() => rmSync(top, { recursive: true, force: true }));
  const kmodlab = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(pkg, "bin", "kmodlab.cjs"), ...args], { encoding: "utf8", timeout: 240_000, env: { ...process.env, ...env } });
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(repo, "bin", "kmodlab.cjs"), "profiles"], { encoding: "utf8", timeout: 300_000 });
    expect(r.status).toBe(0);
    cpSync(join(repo, "bin"), join(pkg, "bin"), { recursive: true });
    cpSync(join(repo, "lib"), join(pkg, "lib"), { recursive: true, filter: (f) => !/\.cache$|[\\/]machines$/.test(f) });
    cpSync(join(repo, "package.json"), join(pkg, "package.json"));
    symlinkSync(join(repo, "node_modules"), join(pkg, "node_modules"));
  }, 300_000);

  it("prints the same with the state cold, warm, damaged and off; writes a damaged file again", () => {
    const dir = mkdtempSync(join(tmpdir(), "kmodlab-quickjs-"));
    const env = { KMODLAB_BOOT_CACHE_DIR: dir };
    const args = ["run", join(repo, "examples", "memdemo.ts"), "--proc", "meminfo"];
    const off = kmodlab(args, { KMODLAB_BOOT_CACHE: "0" });
    expect(off.status).toBe(0);
    const same = (r: ReturnType<typeof kmodlab>) => {
      expect(r.status).toBe(off.status);
      expect(r.stderr).toBe(off.stderr);
      expect(r.stdout).toBe(off.stdout);
    };
    same(kmodlab(args, env)); // writes the state (the machine is only marked)
    const states = readdirSync(dir).filter((n) => n.endsWith(".bin"));
    expect(states).toHaveLength(1);
    const path = join(dir, states[0]!);
    const good = readFileSync(path);
    const written = statSync(path).mtimeMs;
    same(kmodlab(args, env)); // adopts it (and stores the machine)
    same(kmodlab(args, env));
    expect(statSync(path).mtimeMs).toBe(written); // adopted, not written again
    for (const damage of [
      (b: Buffer) => Buffer.concat([b.subarray(0, b.length - 5000), Buffer.from([b[b.length - 5000]! ^ 1]), b.subarray(b.length - 4999)]),
      (b: Buffer) => b.subarray(0, b.length >> 1),
    ]) {
      const bad = damage(good);
      writeFileSync(path, bad);
      same(kmodlab(args, env)); // refuses it, writes it again
      expect(readFileSync(path).equals(bad)).toBe(false);
      const rewritten = statSync(path).mtimeMs;
      same(kmodlab(args, env)); // adopts the new one
      expect(statSync(path).mtimeMs).toBe(rewritten);
    }
  }, 300_000);
});
