// SlubDebug.initObject() writes an object's red zones and poison straight into its frame when they lie in one frame
// (a new debug slab runs it for each object). It must leave physical memory exactly as the fills one by one do:
// the same bytes, the same frames materialised, in the same order.
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import type { KmemCache, Slab } from "../../../src/kernel/mm/slub.ts";
import type { PhysMem } from "../../../src/kernel/mm/physmem.ts";
import {
  POISON_END,
  POISON_FREE,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLUB_RED_ACTIVE,
  SLUB_RED_INACTIVE,
  __OBJECT_POISON,
} from "../../../src/kernel/mm/slab_common.ts";
import { Rng } from "../../../fuzz/gen.ts";

/** The reference: the fills and the write8 one by one, as init_object() is written. */
function initObjectByFills(pm: PhysMem, s: KmemCache, slab: Slab, i: number, val: number): void {
  const p = slab.objPhys + i * s.size;
  if (s.flags & SLAB_RED_ZONE && s.redLeftPad) pm.fill(p - s.redLeftPad, s.redLeftPad, val);
  if (s.flags & __OBJECT_POISON) {
    pm.fill(p, s.objectSize - 1, POISON_FREE);
    pm.write8(p + s.objectSize - 1, POISON_END);
  }
  if (s.flags & SLAB_RED_ZONE) pm.fill(p + s.objectSize, s.inuse - s.objectSize, val);
}

/** The fuzzer's deterministic generator (mulberry32), so that a failure names a reproducible seed. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function frames(pm: PhysMem): [number, number[]][] {
  const m = (pm as unknown as { frames: Map<number, Uint8Array> }).frames;
  return [...m].map(([pfn, f]) => [pfn, [...f]]);
}

describe("SlubDebug.initObject", () => {
  it("leaves the same bytes and frames (in the same order) as the fills one by one: random layouts, flags, frame edges", () => {
    const a = boot("x86_64-6.1", { config: "debug" });
    const b = boot("x86_64-6.1", { config: "debug" });
    expect(frames(a.physmem)).toStrictEqual(frames(b.physmem));
    const r = rng(7);
    const int = (n: number) => Math.floor(r() * n);
    const flagSets = [
      SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | __OBJECT_POISON,
      SLAB_RED_ZONE,
      __OBJECT_POISON | SLAB_POISON,
      SLAB_STORE_USER,
      SLAB_RED_ZONE | SLAB_STORE_USER,
    ];
    // fresh frames far from the boot's (and some already written ones) so that materialisation order shows
    const base = 0x1000_0000;
    for (let n = 0; n < 4000; n++) {
      const objectSize = 1 + int(300);
      const redLeftPad = r() < 0.5 ? 0 : 8 * (1 + int(4));
      const inuse = objectSize + int(40);
      const size = redLeftPad + inuse + int(64);
      const s = { flags: flagSets[int(flagSets.length)]!, objectSize, redLeftPad, inuse, size } as unknown as KmemCache;
      // objects at random offsets, many near or across a frame's end
      const objPhys = base + int(64) * 4096 + (r() < 0.5 ? 4096 - int(400) : int(4096)) + redLeftPad;
      const slab = { objPhys } as unknown as Slab;
      const i = int(3);
      const val = r() < 0.5 ? SLUB_RED_INACTIVE : SLUB_RED_ACTIVE;
      a.slab.debug.initObject(s, slab, i, val);
      initObjectByFills(b.physmem, s, slab, i, val);
    }
    expect(a.physmem.touchedFrames().length).toBeGreaterThan(20);
    expect(frames(a.physmem)).toStrictEqual(frames(b.physmem));
  });
});
