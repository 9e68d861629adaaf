// Memblock.freeRanges() is a sweep over the reservations' union; it must give exactly what subtracting the
// reservations one by one gives (freeRangesBySubtraction, the reference), since every memblock allocation of the
// boot (and with it each address, the Memory: line and the free lists) follows from it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Memblock } from "../../../src/kernel/arch/common.ts";
import type { PhysRange, Reservation } from "../../../src/kernel/types.ts";
import { boot } from "../../../src/kernel/kernel.ts";
import { profileNames } from "../../../src/kernel/profiles.ts";
import { Rng } from "../../../fuzz/gen.ts";

/** The fuzzer's deterministic generator (mulberry32), so that a failure names a reproducible seed. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function randomLists(seed: number, degenerate: boolean): { memory: PhysRange[]; reserved: Reservation[] } {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const memory: PhysRange[] = [];
  let at = int(8);
  for (let i = 0, n = 1 + int(4); i < n; i++) {
    const start = at + int(3); // 0: adjacent to the previous range
    const end = start + 1 + int(60);
    memory.push(i === 1 ? ({ start, end, nid: 0 } as PhysRange) : { start, end }); // an extra field is kept by the copy
    at = end;
  }
  const reserved: Reservation[] = [];
  for (let i = 0, n = int(25); i < n; i++) {
    const start = int(at + 10);
    let len = 1 + int(12);
    if (degenerate && r() < 0.2) len = r() < 0.5 ? 0 : -1 - int(3);
    reserved.push({ start, end: start + len, what: `r${i}` });
  }
  return { memory, reserved };
}

describe("Memblock.freeRanges", () => {
  afterEach(() => vi.restoreAllMocks());

  it("gives the one-by-one subtraction's ranges (order, pieces, the untouched ranges' own fields) on random lists", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const { memory, reserved } = randomLists(seed, seed % 3 === 0);
      const mb = Memblock.over(memory, reserved);
      const fast = mb.freeRanges();
      expect(fast, `seed ${seed}`).toStrictEqual(mb.freeRangesBySubtraction());
      for (const f of fast) expect(memory).not.toContain(f); // copies, never the memory list's own objects
    }
  });

  it("a zero-length reservation inside a free range cuts it in two, as the subtraction does", () => {
    const mb = Memblock.over([{ start: 0, end: 100 }], [{ start: 40, end: 40, what: "empty" }]);
    expect(mb.freeRanges()).toStrictEqual([
      { start: 0, end: 40 },
      { start: 40, end: 100 },
    ]);
  });

  it("every boot's allocations see the same free ranges both ways (each profile, small and large RAM)", () => {
    const orig = Memblock.prototype.freeRanges;
    let calls = 0;
    vi.spyOn(Memblock.prototype, "freeRanges").mockImplementation(function (this: Memblock) {
      const fast = orig.call(this);
      expect(fast).toStrictEqual(this.freeRangesBySubtraction());
      calls++;
      return fast;
    });
    for (const name of profileNames()) {
      for (const mem of [256 * 2 ** 20, 2 * 2 ** 30]) boot(name, { mem });
    }
    expect(calls).toBeGreaterThan(50);
  });
});
