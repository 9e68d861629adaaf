// KASAN and a slab cache's constructor (mm/slub.c setup_object): the object is unpoisoned for the ctor
// (kasan_unpoison_object_data) and poisoned again after it, so a ctor that fills its whole object is not a bug,
// and one that writes past object_size still is.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (
  ctorBody: string,
) => `import { kmem_cache_create, kmem_cache_destroy, kmem_cache_alloc, kmem_cache_free, kmem_cache, GFP_KERNEL, memset, writeb, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let c: kmem_cache | null = null;
let o = 0n;
function item_ctor(obj: bigint): void { ${ctorBody} }
module_init(() => { c = kmem_cache_create("kmodlab_item", 72, 0, 0, item_ctor); o = kmem_cache_alloc(c, GFP_KERNEL); return 0; });
module_exit(() => { kmem_cache_free(c, o); kmem_cache_destroy(c); });
`;

describe("KASAN during a slab constructor (6.1 debug, x86_64)", () => {
  it("a ctor that writes every byte of its 72-byte object is not reported", async () => {
    const r = await runModule(cell("memset(obj, 0, 72); writeb(1, obj + 71n);"));
    expect(r.reports.map((x) => x.title)).toEqual([]);
  });

  it("a ctor that writes past the object (80 bytes of 72) is a slab-out-of-bounds in the ctor", async () => {
    const r = await runModule(cell("memset(obj, 0, 80);"));
    expect(r.reports.find((x) => x.kind === "kasan")?.title).toMatch(/KASAN: slab-out-of-bounds in item_ctor/);
  });
});
