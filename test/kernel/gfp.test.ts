import { describe, expect, it } from "vitest";
import { formatGfp, gfp, gfpAllowsBlocking, gfpFlags, gfpZone, pGgSupported } from "../../src/kernel/gfp.ts";

describe("GFP values per era (kernel-facts 3.1/3.2)", () => {
  it("6.1 uses the gfp_types.h layout", () => {
    const f = gfpFlags("6.1");
    expect(f.GFP_KERNEL).toBe(0xcc0);
    expect(f.GFP_ATOMIC).toBe(0xa20);
    expect(f.__GFP_ATOMIC).toBe(0x200);
    expect(f.GFP_NOWAIT).toBe(0x800);
    expect(f.GFP_NOIO).toBe(0xc00);
    expect(f.GFP_NOFS).toBe(0xc40);
    expect(f.GFP_USER).toBe(0x100cc0);
    expect(f.GFP_HIGHUSER).toBe(0x100cc2);
    expect(f.GFP_HIGHUSER_MOVABLE).toBe(0x100cca);
    expect(f.GFP_KERNEL_ACCOUNT).toBe(0x400cc0);
    expect(f.GFP_TRANSHUGE_LIGHT).toBe(0x1c20ca);
    expect(f.GFP_TRANSHUGE).toBe(0x1c24ca);
    expect(f.__GFP_ZERO).toBe(0x100);
    expect(f.__GFP_COMP).toBe(0x40000);
    expect(f.__GFP_RETRY_MAYFAIL).toBe(0x4000);
    expect(f.GFP_DMA).toBe(1);
    expect(f.GFP_DMA32).toBe(4);
    expect(f.__GFP_WAIT).toBeUndefined();
    expect(f.__GFP_COLD).toBeUndefined();
    expect(f.__GFP_REPEAT).toBeUndefined();
  });
  it("2.6 and 3.4 use the <=4.3 layout with __GFP_WAIT, __GFP_COLD and __GFP_REPEAT", () => {
    for (const era of ["2.6", "3.4"] as const) {
      const f = gfpFlags(era);
      expect(f.GFP_KERNEL).toBe(0xd0);
      expect(f.GFP_ATOMIC).toBe(0x20);
      expect(f.GFP_NOIO).toBe(0x10);
      expect(f.GFP_NOFS).toBe(0x50);
      expect(f.GFP_USER).toBe(0x200d0);
      expect(f.GFP_NOWAIT).toBe(0);
      expect(f.__GFP_WAIT).toBe(0x10);
      expect(f.__GFP_COLD).toBe(0x100);
      expect(f.__GFP_REPEAT).toBe(0x400);
      expect(f.__GFP_ZERO).toBe(0x8000);
      expect(f.__GFP_COMP).toBe(0x4000);
      expect(f.__GFP_DIRECT_RECLAIM).toBeUndefined();
      expect(f.__GFP_ATOMIC).toBeUndefined();
      expect(f.__GFP_MEMALLOC).toBeUndefined(); // 3.6
    }
    expect(gfpFlags("3.4").__GFP_WRITE).toBe(0x1000000);
    expect(gfpFlags("2.6").__GFP_WRITE).toBeUndefined();
    expect(() => gfp("2.6", "__GFP_RETRY_MAYFAIL")).toThrow(/not defined in Linux 2.6/);
  });
  it("decides blocking by __GFP_DIRECT_RECLAIM (6.1) or __GFP_WAIT (old)", () => {
    expect(gfpAllowsBlocking("6.1", 0xcc0)).toBe(true);
    expect(gfpAllowsBlocking("6.1", 0xa20)).toBe(false);
    expect(gfpAllowsBlocking("6.1", 0x800)).toBe(false);
    expect(gfpAllowsBlocking("2.6", 0xd0)).toBe(true);
    expect(gfpAllowsBlocking("3.4", 0x20)).toBe(false);
  });
  it("maps zone modifiers like GFP_ZONE_TABLE", () => {
    expect(gfpZone("6.1", 0xcc0)).toBe("Normal");
    expect(gfpZone("6.1", 0xcc1)).toBe("DMA");
    expect(gfpZone("6.1", 0xcc4)).toBe("DMA32");
    expect(gfpZone("6.1", 0x100cc2)).toBe("HighMem");
    expect(gfpZone("6.1", 0x100cca)).toBe("Movable");
    expect(gfpZone("6.1", 0x100cc2, ["DMA", "DMA32", "Normal"])).toBe("Normal"); // no CONFIG_HIGHMEM
    expect(gfpZone("6.1", 0x3)).toBe("BAD");
  });
});

describe("%pGg rendering (format_flags over mmflags.h)", () => {
  it.each<[number, string]>([
    [0xdc0, "GFP_KERNEL|__GFP_ZERO"],
    [0x40cc0, "GFP_KERNEL|__GFP_COMP"],
    [0x1, "GFP_DMA"],
    [0xcc1, "GFP_KERNEL|GFP_DMA"],
    [0xcc0, "GFP_KERNEL"],
    [0xa20, "GFP_ATOMIC"],
    [0x100cc2, "GFP_HIGHUSER"],
    [0xc04, "GFP_NOIO|GFP_DMA32"],
    [0x194dc2, "GFP_HIGHUSER|__GFP_RETRY_MAYFAIL|__GFP_NORETRY|__GFP_ZERO|__GFP_NOMEMALLOC"],
    [0x2dc0, "GFP_KERNEL|__GFP_NOWARN|__GFP_ZERO"],
    [0x2a20, "GFP_ATOMIC|__GFP_NOWARN"],
    [0x400, "__GFP_DIRECT_RECLAIM"],
    [0x80000000, "0x80000000"],
    [0xcc0 | 0x10000000, "GFP_KERNEL|0x10000000"],
    [0, ""],
  ])("6.1 %#x -> %s", (v, s) => {
    expect(formatGfp("6.1", v)).toBe(s);
  });
  it("old eras render with the 4.x table order including __GFP_COLD; %pGg itself is 4.5+", () => {
    expect(formatGfp("2.6", 0xd0)).toBe("GFP_KERNEL");
    expect(formatGfp("2.6", 0xd0 | 0x8000)).toBe("GFP_KERNEL|__GFP_ZERO");
    expect(formatGfp("3.4", 0x20 | 0x100 | 0x200)).toBe("GFP_ATOMIC|__GFP_COLD|__GFP_NOWARN");
    expect(formatGfp("2.6", 0x10)).toBe("GFP_NOIO");
    expect(pGgSupported("6.1")).toBe(true);
    expect(pGgSupported("3.4")).toBe(false);
    expect(pGgSupported("2.6")).toBe(false);
  });
});
