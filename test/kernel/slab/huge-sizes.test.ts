// Sizes past 2^32 pages: get_order() must not wrap (fuzz seed 8737: kcalloc(4194304, KMALLOC_MAX_SIZE + 1) asked
// for 16 TiB and got an order-10 block, because fls() only saw the low 32 bits of the page count).
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { get_order } from "../../../src/kernel/mm/slab_common.ts";

describe("huge kmalloc sizes", () => {
  it("get_order() of sizes beyond 2^44 bytes", () => {
    expect(get_order(2 ** 44)).toBe(32);
    expect(get_order(17592190238720)).toBe(33); // 4194304 * (4 MiB + 1) = 2^44 + 2^22
    expect(get_order(2 ** 44 + 1)).toBe(33);
    expect(get_order(2 ** 22)).toBe(10);
  });

  it("kcalloc(4194304, KMALLOC_MAX_SIZE + 1) on x86_64-6.1 distro is NULL, as kmalloc of 16 TiB is", () => {
    const k = boot("x86_64-6.1", { config: "distro", mem: 128 << 20 });
    const max = 4 << 20; // KMALLOC_MAX_SIZE on x86_64 6.1 (MAX_ORDER 11)
    const p = k.slab.kcalloc(4194304, max + 1, 0xcc0);
    expect(p).toBe(0n);
    expect(k.checkInvariants()).toEqual([]);
  });
});
