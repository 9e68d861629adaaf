// src/node/code-cache.ts: a bundled CommonJS script compiled with a V8 code cache (the run worker's whole sandbox
// loads this way). Pins where the cache goes, that a run of the script is the same with and without it, that a
// cache V8 refuses is made again, and that a folder it cannot write to falls back to the user's cache folder; that a
// cache's header ties it to one build, Node and script, that damaged bytes are refused before V8 sees them, and that
// a cache is written again for a path it was not made on (save(path)).

import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachePaths, cacheTag, format, loadCachedScript, parse, WRAP_HEAD, WRAP_TAIL } from "../../src/node/code-cache.ts";

const dir = mkdtempSync(join(tmpdir(), "kmodlab-codecache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A script with a function that is compiled only when called (lazily), as most of the bundle's are. */
function script(name: string, extra = ""): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  const file = join(folder, "code.cjs");
  writeFileSync(
    file,
    `"use strict";\nconst path = require("node:path");\nfunction fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nexports.fib = fib;\nexports.base = path.basename(__filename);\nexports.dir = __dirname;\n${extra}\n`,
  );
  return file;
}

describe("loadCachedScript", () => {
  it("runs the script as CommonJS (exports, require, __filename, __dirname): without a cache first, then from the one save() wrote next to it", () => {
    const file = script("plain");
    const first = loadCachedScript<{ fib(n: number): number; base: string; dir: string }>(file);
    expect(first.state).toBe("miss");
    expect(first.exports.fib(20)).toBe(6765);
    expect(first.exports.base).toBe("code.cjs");
    expect(first.exports.dir).toBe(join(dir, "plain"));
    first.save();
    const [next] = cachePaths(file);
    expect(next).toBe(`${file}.v8-${cacheTag()}.cache`);
    expect(existsSync(next!)).toBe(true);
    const second = loadCachedScript<{ fib(n: number): number }>(file);
    expect(second.state).toBe("hit");
    expect(second.exports.fib(20)).toBe(6765);
    // no temporary file is left behind
    expect(readdirSync(join(dir, "plain")).sort()).toEqual(["code.cjs", `code.cjs.v8-${cacheTag()}.cache`]);
  });

  it("a script the build wrote inside the CommonJS wrapper (the sandbox's) runs the same, as it is, and from its cache", () => {
    const plain = script("prewrapped");
    const file = join(dir, "prewrapped", "wrapped.cjs");
    writeFileSync(file, WRAP_HEAD + readFileSync(plain, "latin1") + WRAP_TAIL);
    const first = loadCachedScript<{ fib(n: number): number; base: string; dir: string }>(file);
    expect([first.state, first.exports.fib(20), first.exports.base, first.exports.dir]).toEqual(["miss", 6765, "wrapped.cjs", join(dir, "prewrapped")]);
    first.save();
    const second = loadCachedScript<{ fib(n: number): number }>(file);
    expect([second.state, second.exports.fib(20)]).toEqual(["hit", 6765]);
  });

  it("a cache file is a magic line, a JSON header (build, Node, architecture, tag, the script's length, V8's bytes' length and CRC-32, the paths it covers) and V8's bytes", () => {
    const file = script("header");
    const r = loadCachedScript(file, true, "", "build-1");
    r.save("decode");
    const bytes = readFileSync(cachePaths(file, "", "build-1")[0]!);
    const [magic, header] = bytes.toString("latin1").split("\n", 2);
    expect(magic).toBe("kmodlab v8 code cache");
    const h = JSON.parse(header!);
    expect(h).toEqual({
      build: "build-1",
      node: process.version,
      arch: process.arch,
      tag: cacheTag(),
      script: readFileSync(file).length,
      covers: ["decode"],
      length: bytes.length - magic!.length - header!.length - 2,
      crc: expect.any(Number),
    });
    // V8's bytes start 8-byte aligned (the header line padded with spaces): V8 copies a cache that is not before using it
    expect((magic!.length + header!.length + 2) % 8).toBe(0);
    for (const build of ["b", "bu", "bui", "buil", "build", "build-", "build-x", "build-xy"]) {
      const f = format(Buffer.from("v8 bytes"), { build, node: "v20", arch: "x64", tag: "t", script: 1, covers: [] });
      expect(f.indexOf(Buffer.from("v8 bytes")) % 8).toBe(0);
      expect(parse(f, { build, node: "v20", arch: "x64", tag: "t", script: 1 })?.data.toString()).toBe("v8 bytes");
    }
    expect(parse(bytes, { build: "build-1", node: process.version, arch: process.arch, tag: cacheTag(), script: h.script })?.covers).toEqual(["decode"]);
    expect(parse(bytes, { build: "build-2", node: process.version, arch: process.arch, tag: cacheTag(), script: h.script })).toBeUndefined();
    expect(parse(bytes, { build: "build-1", node: "v0.0.0", arch: process.arch, tag: cacheTag(), script: h.script })).toBeUndefined();
    expect(parse(bytes, { build: "build-1", node: process.version, arch: process.arch, tag: cacheTag(), script: h.script + 1 })).toBeUndefined();
  });

  it("a cache of another build, or whose bytes are damaged (V8 would take them: it checks no checksum), is rejected; the script compiles from source and runs the same", () => {
    const file = script("damaged");
    const first = loadCachedScript<{ fib(n: number): number }>(file, true, "", "build-1");
    first.exports.fib(15);
    first.save();
    expect(loadCachedScript(file, true, "", "build-1").state).toBe("hit");
    expect(loadCachedScript(file, true, "", "build-2").state).toBe("rejected");
    const [cache] = cachePaths(file, "", "build-1");
    const good = readFileSync(cache!);
    // one byte in the middle of V8's bytes: V8's own checks (version, flags, source length) still pass
    const nl = good.indexOf(10, good.indexOf(10) + 1);
    const bad = Buffer.from(good);
    bad[nl + 1 + ((bad.length - nl) >> 1)]! ^= 0x55;
    writeFileSync(cache!, bad);
    const r = loadCachedScript<{ fib(n: number): number }>(file, true, "", "build-1");
    expect(r.state).toBe("rejected");
    expect(r.exports.fib(20)).toBe(6765);
    r.save();
    expect(loadCachedScript(file, true, "", "build-1").state).toBe("hit");
    // a file cut short
    writeFileSync(cache!, good.subarray(0, good.length - 100));
    expect(loadCachedScript(file, true, "", "build-1").state).toBe("rejected");
  });

  it("save(path) writes again only for a path the cache it loaded was not made on, keeping the paths it had", () => {
    const file = script("covers");
    const [cache] = cachePaths(file, "", "b");
    loadCachedScript(file, true, "", "b").save("boot");
    const covers = () => JSON.parse(readFileSync(cache!, "latin1").split("\n")[1]!).covers;
    expect(covers()).toEqual(["boot"]);
    const boot = loadCachedScript(file, true, "", "b");
    expect([boot.state, boot.covers]).toEqual(["hit", ["boot"]]);
    const before = readFileSync(cache!);
    boot.save("boot");
    expect(readFileSync(cache!).equals(before)).toBe(true);
    const decode = loadCachedScript(file, true, "", "b");
    decode.save("decode");
    expect(covers()).toEqual(["boot", "decode"]);
    expect(loadCachedScript(file, true, "", "b").covers).toEqual(["boot", "decode"]);
  });

  it("a cache V8 refuses (another source of the same name) is reported as rejected, the script still runs, and save() replaces it", () => {
    const file = script("rejected");
    const [cache] = cachePaths(file);
    writeFileSync(cache!, Buffer.from("not a V8 code cache at all, but long enough to be read as one"));
    const r = loadCachedScript<{ fib(n: number): number }>(file);
    expect(r.state).toBe("rejected");
    expect(r.exports.fib(10)).toBe(55);
    r.save();
    expect(loadCachedScript(file).state).toBe("hit");
  });

  it("useCache false reads and writes no cache", () => {
    const file = script("off");
    const r = loadCachedScript<{ fib(n: number): number }>(file, false);
    r.save();
    expect(r.state).toBe("miss");
    expect(readdirSync(join(dir, "off"))).toEqual(["code.cjs"]);
  });

  it("a cache that cannot be written next to the script goes to $XDG_CACHE_HOME/kmodlab, named after the script's build", () => {
    const file = script("unwritable");
    // a folder where the cache file would go: nothing can be renamed onto it, whoever runs the test (root too)
    mkdirSync(cachePaths(file)[0]!);
    const xdg = join(dir, "xdg");
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = xdg;
    try {
      const r = loadCachedScript(file);
      expect(r.state).toBe("miss");
      r.save();
      const files = readdirSync(join(xdg, "kmodlab"));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^code\.cjs-[0-9a-f]{8}\.v8-/);
      expect(files[0]!.endsWith(`.v8-${cacheTag()}.cache`)).toBe(true);
      expect(loadCachedScript(file).state).toBe("hit");
      expect(readdirSync(join(dir, "unwritable")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it("the tag: Node's version and the architecture, and a hash of the V8 flags when there are any (each set of flags keeps its own cache)", () => {
    const plain = cacheTag();
    expect(plain.startsWith(`${process.version}-${process.arch}`)).toBe(true);
    const liftoff = cacheTag("--liftoff-only");
    expect(liftoff.startsWith(`${process.version}-${process.arch}-`)).toBe(true);
    expect(liftoff).toMatch(/-[0-9a-f]{8}$/);
    expect(liftoff).not.toBe(plain);
    expect(cacheTag("--liftoff-only --no-opt")).not.toBe(liftoff);
    expect(cachePaths("/x/code.cjs", "--liftoff-only")[0]).toBe(`/x/code.cjs.v8-${liftoff}.cache`);
  });

  it("the user cache folder comes second, after the script's own folder", () => {
    const file = script("paths");
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(dir, "xdg2");
    try {
      const paths = cachePaths(file);
      expect(paths).toHaveLength(2);
      expect(paths[1]!.startsWith(join(dir, "xdg2", "kmodlab", "code.cjs-"))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it("a script in ASCII and one with other characters read the same", () => {
    const file = script("utf8", `exports.text = "kernel \\u2014 module";\nexports.raw = "kernel — module";`);
    expect(readFileSync(file).some((b) => b > 0x7f)).toBe(true);
    const r = loadCachedScript<{ text: string; raw: string }>(file);
    expect(r.exports.raw).toBe("kernel — module");
    expect(r.exports.raw).toBe(r.exports.text);
  });
});
