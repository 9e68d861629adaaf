// mempool (mm/mempool.c): min_nr elements taken at creation, an allocator failure absorbed by the reserve,
// mempool_free refilling the reserve before the allocator, GFP_ATOMIC with both empty returning NULL.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (
  body: string,
) => `import { mempool_create_kmalloc_pool, mempool_create_slab_pool, mempool_alloc, mempool_free, mempool_destroy, kmem_cache_create, kmem_cache_destroy,
  GFP_KERNEL, GFP_ATOMIC, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function t_init(): number {
${body}
  return 0;
}
module_init(t_init);
`;
const lines = (d: string[]) => d.map((l) => l.replace(/^\[[^\]]*\] /, ""));
/** The should_fail() call numbers of a clean run (fail-nth past them all), to aim fail-nth at one allocation. */
async function sites(src: string) {
  const r = await runModule(src, { config: "debug", failNth: 100000 });
  return r.faultInjection!.sites.filter((x) => x.attr === "failslab");
}

describe("mempool", () => {
  it("creation takes the pool, its array and min_nr elements: the second element failing (fail-nth) makes create return null", async () => {
    const r = await runModule(
      cell(`const pool = mempool_create_kmalloc_pool(3, 100);
  printk(KERN_INFO + "pool %d\\n", pool === null || pool === 0 ? 0 : 1);`),
      { config: "debug", failNth: (await sites(cell(`mempool_create_kmalloc_pool(3, 100);`))).filter((x) => x.what === "kmalloc-128")[1]!.call },
    );
    expect(r.faultInjection?.injected.length).toBe(1);
    expect(lines(r.dmesg)).toContain("pool 0");
    const ok = await runModule(
      cell(`const pool = mempool_create_kmalloc_pool(3, 100);
  printk(KERN_INFO + "pool %d\\n", pool === null || pool === 0 ? 0 : 1); mempool_destroy(pool);`),
      {},
    );
    expect(lines(ok.dmesg)).toContain("pool 1");
  });

  it("an allocator failure (fail-nth) is served from the reserve: the element is one taken at creation", async () => {
    // should_fail() calls: 1 the pool, 2 its array, 3-4 the two reserve elements, 5 mempool_alloc's kmalloc (fails)
    const src = cell(`const pool = mempool_create_kmalloc_pool(2, 64);
  const a = mempool_alloc(pool, GFP_KERNEL);
  const b = mempool_alloc(pool, GFP_KERNEL);
  printk(KERN_INFO + "a %px b %px\\n", a, b);
  mempool_free(a, pool); mempool_free(b, pool); mempool_destroy(pool);`);
    // mempool_alloc's first try: without direct reclaim and IO, with NOMEMALLOC|NORETRY|NOWARN added
    const first = (await sites(src)).find((x) => x.flags === "GFP_NOWAIT|__GFP_FS|__GFP_NOWARN|__GFP_NORETRY|__GFP_NOMEMALLOC")!;
    const r = await runModule(src, { config: "debug", failNth: first.call });
    expect(r.faultInjection?.injected.length).toBe(1);
    const line = lines(r.dmesg).find((l) => l.startsWith("a "))!;
    const [, a, b] = /^a ([0-9a-f]+) b ([0-9a-f]+)$/.exec(line)!;
    expect(a).not.toBe(b);
    expect(a).not.toMatch(/^0+$/);
  });

  it("GFP_ATOMIC with the allocator failing and the reserve empty returns NULL", async () => {
    // min_nr 0: no reserve; mempool_alloc's try fails; GFP_ATOMIC has no reclaim to retry with: NULL
    const src = cell(`const pool = mempool_create_kmalloc_pool(0, 64);
  printk(KERN_INFO + "got %d\\n", mempool_alloc(pool, GFP_ATOMIC) === 0n ? 0 : 1);
  mempool_destroy(pool);`);
    const r = await runModule(src, { config: "debug", failNth: (await sites(src)).filter((x) => x.what === "kmalloc-64").at(-1)!.call });
    expect(lines(r.dmesg)).toContain("got 0");
  });

  it("a slab pool's elements come from its kmem_cache", async () => {
    const r = await runModule(
      cell(`const kc = kmem_cache_create("mp_obj", 48, 0, 0, null);
  const pool = mempool_create_slab_pool(4, kc);
  const a = mempool_alloc(pool, GFP_KERNEL);
  printk(KERN_INFO + "ok %d\\n", a !== 0n ? 1 : 0);
  mempool_free(a, pool); mempool_destroy(pool); kmem_cache_destroy(kc);`),
      {},
    );
    expect(r.reports).toEqual([]);
    expect(lines(r.dmesg)).toContain("ok 1");
  });
});
