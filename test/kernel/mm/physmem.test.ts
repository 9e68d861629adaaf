// The sparse physical byte store: zeros until written, little-endian, page-crossing accesses, memmove semantics.
import { describe, expect, it } from "vitest";
import { PhysMem } from "../../../src/kernel/mm/physmem.ts";

describe("PhysMem", () => {
  it("untouched frames read as zeros and cost nothing; a write materialises exactly one frame", () => {
    const m = new PhysMem();
    expect(m.read64(0x12345000)).toBe(0n);
    expect(m.touchedFrames()).toEqual([]);
    m.write8(0x12345abc, 0x1ff);
    expect(m.read8(0x12345abc)).toBe(0xff);
    expect(m.touchedFrames()).toEqual([0x12345]);
  });

  it("is little-endian at every width, aligned or not, across a page boundary", () => {
    const m = new PhysMem();
    m.write32(0x1000, 0xdeadbeef);
    expect([m.read8(0x1000), m.read8(0x1003)]).toEqual([0xef, 0xde]);
    expect(m.read16(0x1001)).toBe(0xadbe);
    m.write64(0x1ffc, 0x1122334455667788n); // straddles pfn 1 and 2
    expect(m.read64(0x1ffc)).toBe(0x1122334455667788n);
    expect(m.read32(0x2000)).toBe(0x11223344);
    expect(m.touchedFrames()).toEqual([1, 2]);
    m.write16(0x2fff, 0xabcd);
    expect(m.read16(0x2fff)).toBe(0xabcd);
    expect(m.read8(0x3000)).toBe(0xab);
    m.write64(0x5000, -1n);
    expect(m.read64(0x5000)).toBe(0xffffffffffffffffn);
  });

  it("readBytes/writeBytes/fill/copy work across pages; copy has memmove semantics", () => {
    const m = new PhysMem();
    const src = Uint8Array.from({ length: 6000 }, (_, i) => i & 0xff);
    m.writeBytes(0x7f00, src);
    expect(m.readBytes(0x7f00, 6000)).toEqual(src);
    m.copy(0x7f10, 0x7f00, 100); // overlapping, forwards
    expect(m.readBytes(0x7f10, 100)).toEqual(src.subarray(0, 100));
    m.fill(0xa000, 5000, 0x6b);
    expect(m.read8(0xa000)).toBe(0x6b);
    expect(m.read8(0xa000 + 4999)).toBe(0x6b);
    expect(m.read8(0xa000 + 5000)).toBe(0);
    m.fill(0x100000, 4096, 0); // zero fill of an untouched frame stays free
    expect(m.isTouched(0x100)).toBe(false);
  });

  it("dropPage/zeroPage forget a frame: it reads as zero again", () => {
    const m = new PhysMem();
    m.write32(0x4000, 7);
    m.zeroPage(4);
    expect(m.read32(0x4000)).toBe(0);
    expect(m.isTouched(4)).toBe(false);
  });
});
