// Vmalloc.moduleVmallocAreas: kmemleak's scan reads the module's vmalloc areas through it instead of areas().
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";

describe("the module's vmalloc areas", () => {
  it("moduleVmallocAreas() is areas() filtered to the module's busy VM_ALLOC areas, in the same order, on a fresh boot and after vmalloc, vmap, ioremap, vfree and lazy frees", () => {
    for (const profile of ["x86_64-6.1", "i386-2.6", "arm64-6.1"]) {
      const k = boot(profile);
      const want = () =>
        k.vmalloc
          .areas()
          .filter((a) => a.owner === "module" && a.state === "busy" && a.flagNames.includes("vmalloc"))
          .map((a) => ({ start: a.start, size: a.size, caller: a.caller }));
      expect(k.vmalloc.moduleVmallocAreas()).toEqual(want());
      expect(want()).toEqual([]);
      k.current = { pid: 110, comm: "insmod" };
      const a = k.vmalloc.vmalloc(1000000, { caller: "cell_init+0x10/0x80 [cell]" });
      const b = k.vmalloc.vzalloc(3 * 4096, { caller: "cell_init+0x20/0x80 [cell]" });
      const c = k.vmalloc.vmalloc(5000);
      const pfn = k.pages.alloc_pages(0xcc0, 0);
      const m = k.vmalloc.vmap([pfn], 1);
      const io = k.vmalloc.ioremap(0xfebf1000, 0x100, { caller: "cell_probe+0x10/0x80 [cell]" });
      expect([a, b, c, m]).not.toContain(0n);
      expect(k.vmalloc.moduleVmallocAreas()).toEqual(want());
      expect(k.vmalloc.moduleVmallocAreas().map((x) => x.start)).toEqual([a, b, c].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
      k.vmalloc.vfree(b);
      k.vmalloc.vunmap(m);
      if (io) k.vmalloc.iounmap(io);
      expect(k.vmalloc.moduleVmallocAreas()).toEqual(want());
      expect(k.vmalloc.moduleVmallocAreas().map((x) => x.start)).toEqual([a, c].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    }
  });
});
