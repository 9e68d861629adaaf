import { describe, expect, it } from "vitest";
import { decodeShare, encodeShare } from "../../src/notebook/share.ts";
import { hashText, NotebookStore, type KV } from "../../src/notebook/storage.ts";
import { MemKV } from "./mem-kv.ts";
import { parseMem, functionNames } from "../../src/notebook/cell.ts";

describe("share links", () => {
  it("round-trip lesson, cell, code and machine, including unicode and long code", () => {
    const code = 'let s = "µ → ✓";\n'.repeat(200) + 'printk(KERN_INFO + "%px\\n", p);';
    const hash = encodeShare({ lesson: "first-module", cell: "memdemo", code, profile: "i386-2.6", mem: "256M", cmdline: "vmalloc=200M" });
    expect(hash.startsWith("#share=")).toBe(true);
    expect(hash).toMatch(/^#share=[A-Za-z0-9+\-$]+$/); // URL-safe
    expect(decodeShare(hash)).toEqual({ lesson: "first-module", cell: "memdemo", code, profile: "i386-2.6", mem: "256M", cmdline: "vmalloc=200M" });
    expect(hash.length).toBeLessThan(code.length); // compressed
  });

  it("rejects hashes that are not share links or are damaged", () => {
    expect(decodeShare("#/lesson/x")).toBeNull();
    expect(decodeShare("#share=")).toBeNull();
    expect(decodeShare("#share=garbage!!")).toBeNull();
    const good = encodeShare({ lesson: "a", cell: "b", code: "c" });
    expect(decodeShare(good.slice(0, good.length - 6))).toBeNull();
  });
});

describe("NotebookStore", () => {
  it("saves code as typed and gives it back after a 'reload' (new store, same storage)", () => {
    const kv = new MemKV();
    new NotebookStore(kv).saveCell("l1", "c1", "orig", "edited");
    const st = new NotebookStore(kv).cellState("l1", "c1", "orig");
    expect(st).toMatchObject({ kind: "edited", code: "edited" });
  });

  it("typing back the original removes the entry", () => {
    const kv = new MemKV();
    const s = new NotebookStore(kv);
    s.saveCell("l1", "c1", "orig", "edited");
    s.saveCell("l1", "c1", "orig", "orig");
    expect(kv.m.size).toBe(0);
    expect(s.cellState("l1", "c1", "orig")).toEqual({ kind: "original", code: "orig" });
  });

  it("when the lesson's original changed since the edit, the state is stale and offers both", () => {
    const kv = new MemKV();
    const s = new NotebookStore(kv);
    s.saveCell("l1", "c1", "old original", "my edit");
    const st = s.cellState("l1", "c1", "new original");
    expect(st).toMatchObject({ kind: "stale", code: "my edit", original: "new original" });
    // keep typing: still stale (the base stays the one the learner started from)
    s.saveCell("l1", "c1", "new original", "my edit 2");
    expect(s.cellState("l1", "c1", "new original").kind).toBe("stale");
    // keeping mine rebases it
    s.acceptStale("l1", "c1", "new original");
    expect(s.cellState("l1", "c1", "new original")).toMatchObject({ kind: "edited", code: "my edit 2" });
  });

  it("a stashed previous version survives until forgotten", () => {
    const kv = new MemKV();
    new NotebookStore(kv).stashPrevious("l", "c", "mine");
    const s = new NotebookStore(kv);
    expect(s.previous("l", "c")).toBe("mine");
    s.forgetPrevious("l", "c");
    expect(s.previous("l", "c")).toBeUndefined();
  });

  it("cells are keyed by lesson and cell", () => {
    const s = new NotebookStore(new MemKV());
    s.saveCell("l1", "c1", "o", "A");
    s.saveCell("l2", "c1", "o", "B");
    expect(s.cellState("l1", "c1", "o").code).toBe("A");
    expect(s.cellState("l2", "c1", "o").code).toBe("B");
    expect(s.cellState("l1", "c2", "o").code).toBe("o");
  });

  it("remembers the machine choice even with original code", () => {
    const s = new NotebookStore(new MemKV());
    s.saveCell("l", "c", "o", "o", { profile: "i386-2.6", mem: "128M" });
    expect(s.loadCell("l", "c")).toMatchObject({ profile: "i386-2.6", mem: "128M", code: "o" });
  });

  it("survives storage that throws (quota, private mode) and corrupt entries", () => {
    const bad: KV = {
      getItem: () => "{not json",
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
      removeItem: () => {
        throw new Error("nope");
      },
    };
    const s = new NotebookStore(bad);
    expect(s.saveCell("l", "c", "o", "x")).toBe(false);
    expect(s.cellState("l", "c", "o")).toEqual({ kind: "original", code: "o" });
    expect(() => s.resetCell("l", "c")).not.toThrow();
    expect(new NotebookStore(null).saveCell("l", "c", "o", "x")).toBe(false);
  });

  it("progress accumulates cells run and exercises passed without duplicates", () => {
    const s = new NotebookStore(new MemKV());
    s.markProgress("l", { ran: "a" });
    s.markProgress("l", { ran: "a" });
    s.markProgress("l", { ran: "b", passed: "ex1" });
    expect(s.progress("l")).toMatchObject({ ran: ["a", "b"], passed: ["ex1"] });
  });

  it("progress is per exercise: the same exercise passed in lessons 2 and 10 counts once, and shows passed in both", () => {
    const s = new NotebookStore(new MemKV());
    s.markProgress("address-space", { passed: "three-allocators" });
    s.markProgress("eras", { passed: "three-allocators" });
    s.markProgress("vmalloc-cost", { passed: "big-buffer" });
    expect([...s.passedExercises()].sort()).toEqual(["big-buffer", "three-allocators"]);
    // lesson 5 holds big-buffer too: passed there although its cell in lesson 11 was the one run
    expect(s.passedExercises().has("big-buffer")).toBe(true);
    expect(new NotebookStore(null).passedExercises().size).toBe(0);
  });

  it("hashText is stable and distinguishes texts", () => {
    expect(hashText("abc")).toBe(hashText("abc"));
    expect(hashText("abc")).not.toBe(hashText("abd"));
    expect(hashText("")).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe("cell helpers", () => {
  it("parseMem reads kernel-style sizes", () => {
    expect(parseMem("")).toBeUndefined();
    expect(parseMem("256M")).toBe(256 << 20);
    expect(parseMem("4G")).toBe(4 * 2 ** 30);
    expect(parseMem("64k")).toBe(65536);
    expect(parseMem("1048576")).toBe(1048576);
    expect(parseMem("lots")).toBeNaN();
  });
  it("functionNames finds the module's functions", () => {
    expect(functionNames("function a() {}\nfunction b_c(): void {}")).toEqual(["a", "b_c"]);
  });
});
