// src/node/scratch.ts: files read into memory reused from read to read.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTransient } from "../../src/node/scratch.ts";

const dir = mkdtempSync(join(tmpdir(), "kmodlab-scratch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe("readTransient", () => {
  it("gives a file's bytes, in the same memory as the read before it", () => {
    const a = readTransient(file("a", pattern(5000, 1)));
    expect(Buffer.compare(a, Buffer.from(pattern(5000, 1)))).toBe(0);
    const memory = a.buffer;
    const b = readTransient(file("b", pattern(300, 7)));
    expect(b.length).toBe(300);
    expect(Buffer.compare(b, Buffer.from(pattern(300, 7)))).toBe(0);
    expect(b.buffer).toBe(memory); // reused: the first read's bytes are gone
    expect(a[0]).toBe(pattern(300, 7)[0]);
  });

  it("grows for a file larger than its memory, then reuses the larger memory", () => {
    const small = readTransient(file("s", pattern(10, 3)));
    const big = Buffer.alloc(small.buffer.byteLength + 12345, 0xa5);
    big.set(pattern(4096, 5), big.length - 4096);
    const got = readTransient(file("big", big));
    expect(got.length).toBe(big.length);
    expect(Buffer.compare(got, Buffer.from(big))).toBe(0);
    expect(got.buffer).not.toBe(small.buffer);
    expect(readTransient(file("t", pattern(10, 9))).buffer).toBe(got.buffer);
  });

  it("reads an empty file, and throws as readFileSync does for what is not one", () => {
    expect(readTransient(file("empty", new Uint8Array(0))).length).toBe(0);
    expect(() => readTransient(join(dir, "missing"))).toThrow(/ENOENT/);
    expect(() => readTransient(dir)).toThrow(/EISDIR/);
  });
});
