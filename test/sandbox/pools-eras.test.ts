// Completions, mempool and dma_pool exist in every era the simulator models: the same cell runs on 2.6 (i386),
// 3.4 (ARM) and 6.1 (arm64), with 2.6/3.4's %lx in dma_pool_free's bad-dma line and 6.1's %pad.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const src = `import { completion, complete_all, wait_for_completion_timeout, mempool_create_kmalloc_pool, mempool_alloc, mempool_free, mempool_destroy,
  dma_pool_create, dma_pool_alloc, dma_pool_free, dma_pool_destroy, dma_pool_handle, GFP_KERNEL, printk, KERN_INFO, module_init, MODULE_LICENSE } from "linux";
import { dma_device } from "sim";
MODULE_LICENSE("GPL");
function t_init(): number {
  const c = new completion(); complete_all(c);
  const w = wait_for_completion_timeout(c, 5) + wait_for_completion_timeout(c, 5);
  const mp = mempool_create_kmalloc_pool(2, 32); const e = mempool_alloc(mp, GFP_KERNEL); mempool_free(e, mp); mempool_destroy(mp);
  const dp = dma_pool_create("p", dma_device(), 16, 16, 0); const b = dma_pool_alloc(dp, GFP_KERNEL);
  dma_pool_free(dp, b, 0x10n); dma_pool_free(dp, b, dma_pool_handle(dp, b)); dma_pool_destroy(dp);
  printk(KERN_INFO + "waits %d element %d block %d\\n", w, e !== 0n ? 1 : 0, b !== 0n ? 1 : 0);
  return 0;
}
module_init(t_init);
`;
const lines = (d: string[]) => d.map((l) => l.replace(/^\[[^\]]*\] /, ""));

describe("completions and pools on every era", () => {
  for (const [profile, dma] of [
    ["i386-2.6", /, [0-9a-f]{8}\/10 \(bad dma\)$/],
    ["arm-3.4-msm8x25", /, [0-9a-f]{8}\/10 \(bad dma\)$/],
    ["arm64-6.1", /, [0-9a-f]{16}\/0x0000000000000010 \(bad dma\)$/],
  ] as const) {
    it(`${profile}: complete_all releases both waits, a pool element and a block; the bad-dma line in the era's format`, async () => {
      const r = await runModule(src, { profile });
      expect(r.reports).toEqual([]);
      const d = lines(r.dmesg);
      expect(d).toContain("waits 10 element 1 block 1");
      expect(d.find((l) => l.includes("bad dma"))).toMatch(dma);
    });
  }
});
