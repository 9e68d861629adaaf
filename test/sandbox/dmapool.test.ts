// dma_pool (6.1 mm/dmapool.c, before 6.3's rewrite): blocks carved from coherent pages with the real free-list
// layout (a block that would end exactly at a page or boundary end is skipped), the bad-dma and busy messages.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (body: string) => `import { dma_pool, dma_pool_create, dma_pool_alloc, dma_pool_free, dma_pool_destroy, dma_pool_handle, GFP_KERNEL,
  printk, KERN_INFO, module_init, MODULE_LICENSE } from "linux";
import { dma_device } from "sim";
MODULE_LICENSE("GPL");
function t_init(): number {
  const dev = dma_device();
${body}
  return 0;
}
module_init(t_init);
`;
const lines = (d: string[]) => d.map((l) => l.replace(/^\[[^\]]*\] /, ""));

describe("dma_pool", () => {
  it("size 64 in a 4096-byte page: 63 blocks, 64 bytes apart, the 64th starts a second page; free puts the block first again", async () => {
    const r = await runModule(
      cell(`const pool = dma_pool_create("t64", dev, 64, 0, 0);
  const b: bigint[] = [];
  for (let i = 0; i < 64; i++) b.push(dma_pool_alloc(pool, GFP_KERNEL));
  printk(KERN_INFO + "step %d last %d second %d\\n", Number(b[1] - b[0]), Number(b[62] - b[0]), (b[63] - b[0] >= 4096n || b[63] < b[0]) ? 1 : 0);
  printk(KERN_INFO + "dma %d\\n", Number(dma_pool_handle(pool, b[5]) - dma_pool_handle(pool, b[0])));
  dma_pool_free(pool, b[10], dma_pool_handle(pool, b[10]));
  const again = dma_pool_alloc(pool, GFP_KERNEL);
  printk(KERN_INFO + "reuse %d\\n", again === b[10] ? 1 : 0);
  for (let i = 0; i < 64; i++) dma_pool_free(pool, b[i], dma_pool_handle(pool, b[i]));
  dma_pool_destroy(pool);`),
      {},
    );
    expect(r.reports).toEqual([]);
    const d = lines(r.dmesg);
    // 63 blocks at 0..3968: the one at 4032 (ending at 4096) is skipped by pool_initialise_page's '>='
    expect(d).toContain("step 64 last 3968 second 1");
    expect(d).toContain("dma 320");
    expect(d).toContain("reuse 1");
    expect(d.some((l) => /busy|bad dma/.test(l))).toBe(false);
  });

  it("a boundary keeps blocks from crossing it; a bad align or boundary makes create return null", async () => {
    const r = await runModule(
      cell(`const pool = dma_pool_create("tb", dev, 100, 4, 1024);
  const a = dma_pool_alloc(pool, GFP_KERNEL); const b2: bigint[] = [];
  for (let i = 0; i < 10; i++) b2.push(dma_pool_alloc(pool, GFP_KERNEL));
  printk(KERN_INFO + "tenth %d eleventh %d\\n", Number(b2[8] - a), Number(b2[9] - a));
  printk(KERN_INFO + "bad %d %d\\n", dma_pool_create("x", dev, 64, 3, 0) === null ? 1 : 0, dma_pool_create("y", dev, 64, 0, 32) === null ? 1 : 0);
  dma_pool_free(pool, a, dma_pool_handle(pool, a)); for (const x of b2) dma_pool_free(pool, x, dma_pool_handle(pool, x));
  dma_pool_destroy(pool);`),
      {},
    );
    expect(r.reports).toEqual([]);
    // 100-byte blocks at 0..900 (the one at 900 ends at 1000); the next, at 1000, would give 1000 + 100 >= 1024: it starts at the boundary
    expect(lines(r.dmesg)).toContain("tenth 900 eleventh 1024");
    expect(lines(r.dmesg)).toContain("bad 1 1");
  });

  it("dma_pool_destroy with a block still allocated prints 'dma_pool_destroy NAME, ADDR busy' through dev_err; a bad dma is reported and not freed", async () => {
    const r = await runModule(
      cell(`const pool = dma_pool_create("leaky", dev, 32, 0, 0);
  const a = dma_pool_alloc(pool, GFP_KERNEL);
  dma_pool_free(pool, a, 0x1234n);
  dma_pool_destroy(pool);`),
      {},
    );
    const d = lines(r.dmesg);
    expect(d.find((l) => l.includes("(bad dma)"))).toMatch(/^\S+ \S+: dma_pool_free leaky, [0-9a-f(_)a-z]+\/0x0000000000001234 \(bad dma\)$/);
    expect(d.find((l) => l.includes("busy"))).toMatch(/^\S+ \S+: dma_pool_destroy leaky, [0-9a-f(_)a-z]+ busy$/);
  });

  it("the pool keeps the first 31 bytes of its name (char name[32], strscpy): no character cut in half, and a copy (a slice kept a 4 MB name alive per pool)", async () => {
    const r = await runModule(
      cell(`for (const name of ["n".repeat(1 << 22), "\\u00e9".repeat(20)]) {
    const pool = dma_pool_create(name, dev, 32, 0, 0);
    dma_pool_alloc(pool, GFP_KERNEL);
    dma_pool_destroy(pool);
  }`),
      {},
    );
    const busy = lines(r.dmesg).filter((l) => l.includes("busy"));
    expect(busy.map((l) => l.replace(/^\S+ \S+: dma_pool_destroy (.*), \S+ busy$/, "$1"))).toEqual(["n".repeat(31), "\u00e9".repeat(15)]);
  });
});
