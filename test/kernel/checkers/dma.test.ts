import { describe, expect, it } from "vitest";
import { harness, GFP_KERNEL } from "../sched/harness.ts";
import { DMA_MAPPING_ERROR } from "../../../src/kernel/kernel/dma.ts";

const TO_DEVICE = 1 as const;
const FROM_DEVICE = 2 as const;

function setup(config: "debug" | "distro" = "debug") {
  const h = harness("x86_64-6.1", config);
  h.k.current = { pid: 108, comm: "insmod" };
  return h;
}

describe("DMA-API (6.1, CONFIG_DMA_API_DEBUG in the debug config)", () => {
  it("a correct map / mapping_error / unmap and alloc/free coherent: silent; dma address = physical address", () => {
    const h = setup();
    const { k } = h;
    const dev = k.board.dmaDevice();
    h.call("init", 3, () => {
      const buf = k.slab.kmalloc(512, GFP_KERNEL);
      const dma = k.dma.dma_map_single(dev, buf, 512, TO_DEVICE);
      expect(dma).toBe(BigInt(k.pages.virt_to_phys(buf)));
      expect(k.dma.dma_mapping_error(dev, dma)).toBe(0);
      k.dma.dma_unmap_single(dev, dma, 512, TO_DEVICE);
      const c = k.dma.dma_alloc_coherent(dev, 8192, GFP_KERNEL);
      expect(c.dma < 0x100000000n).toBe(true);
      k.dma.dma_free_coherent(dev, 8192, c.addr, c.dma);
      k.slab.kfree(buf);
    });
    expect(k.reports).toEqual([]);
    expect(k.dma.release()).toBe(0);
  });

  it("mapping vmalloc memory: dev_WARN_ONCE 'rejecting DMA map of vmalloc memory' and DMA_MAPPING_ERROR", () => {
    const h = setup();
    const { k } = h;
    const dev = k.board.dmaDevice();
    const mark = k.log.mark();
    h.call("init", 3, () => {
      const v = k.vmalloc.vmalloc(4096);
      expect(k.dma.dma_map_single(dev, v, 4096, TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
      expect(k.dma.dma_map_single(dev, v, 4096, TO_DEVICE)).toBe(DMA_MAPPING_ERROR); // once
    });
    const out = h.since(mark);
    expect(out[0]).toBe("------------[ cut here ]------------");
    expect(out[1]).toBe("pci 0000:00:04.0: rejecting DMA map of vmalloc memory");
    expect(out[2]).toMatch(/^WARNING: CPU: 0 PID: 108 at include\/linux\/dma-mapping\.h:327 dma_map_single_attrs\+/);
    expect(k.reports.filter((r) => r.kind === "dma-api")).toHaveLength(1);
  });

  it("unmapping with a different size: check_unmap's text, then 'Mapped at:' with the module frame", () => {
    const h = setup();
    const { k } = h;
    const dev = k.board.dmaDevice();
    const mark = k.log.mark();
    let dma = 0n;
    h.call("init", 3, () => {
      const buf = k.slab.kmalloc(64, GFP_KERNEL);
      dma = k.dma.dma_map_single(dev, buf, 64, FROM_DEVICE);
      k.dma.dma_mapping_error(dev, dma);
      k.dma.dma_unmap_single(dev, dma, 42, FROM_DEVICE);
    });
    const out = h.since(mark);
    expect(out[1]).toBe(
      `DMA-API: pci 0000:00:04.0: device driver frees DMA memory with different size [device address=0x${dma.toString(16).padStart(16, "0")}] [map size=64 bytes] [unmap size=42 bytes]`,
    );
    expect(out[2]).toMatch(/^WARNING: CPU: 0 PID: 108 at kernel\/dma\/debug\.c:976 check_unmap\+/);
    const m = out.indexOf("DMA-API: Mapped at:");
    expect(out[m + 1]).toMatch(/^ init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
  });

  it("unmapping an address never mapped", () => {
    const h = setup();
    const { k } = h;
    h.call("exit", 9, () => k.dma.dma_unmap_single(k.board.dmaDevice(), 0x1234000n, 4096, TO_DEVICE));
    expect(k.reports[0].text).toContain(
      "DMA-API: pci 0000:00:04.0: device driver tries to free DMA memory it has not allocated [device address=0x0000000001234000] [size=4096 bytes]",
    );
  });

  it("a missing dma_mapping_error() check is reported at unmap", () => {
    const h = setup();
    const { k } = h;
    const dev = k.board.dmaDevice();
    h.call("init", 3, () => {
      const buf = k.slab.kmalloc(256, GFP_KERNEL);
      const dma = k.dma.dma_map_single(dev, buf, 256, TO_DEVICE);
      k.dma.dma_unmap_single(dev, dma, 256, TO_DEVICE);
    });
    expect(k.reports[0].text).toMatch(
      /DMA-API: pci 0000:00:04\.0: device driver failed to check map error\[device address=0x[0-9a-f]{16}\] \[size=256 bytes\] \[mapped as single\]/,
    );
  });

  it("only the first DMA-API error is printed (show_num_errors = 1); the rest are counted", () => {
    const h = setup();
    const { k } = h;
    const dev = k.board.dmaDevice();
    h.call("init", 3, () => {
      k.dma.dma_unmap_single(dev, 0x1000n, 1, TO_DEVICE);
      k.dma.dma_unmap_single(dev, 0x2000n, 1, TO_DEVICE);
    });
    expect(k.reports).toHaveLength(1);
    expect(k.dma.debug.errorCount).toBe(2);
    expect(k.dma.debug.errors.map((e) => e.printed)).toEqual([true, false]);
  });

  it("a mapping still pending at rmmod: 'device driver has pending DMA allocations while released from device'", () => {
    const h = setup();
    const { k } = h;
    const dev = k.board.dmaDevice();
    h.call("init", 3, () => {
      const buf = k.slab.kmalloc(128, GFP_KERNEL);
      const dma = k.dma.dma_map_single(dev, buf, 128, TO_DEVICE);
      k.dma.dma_mapping_error(dev, dma);
    });
    k.current = { pid: 109, comm: "rmmod" };
    k.leakCheck();
    const r = k.reports.find((r) => r.kind === "dma-api")!;
    expect(r.text).toMatch(
      /DMA-API: pci 0000:00:04\.0: device driver has pending DMA allocations while released from device \[count=1\]\nOne of leaked entries details: \[device address=0x[0-9a-f]{16}\] \[size=128 bytes\] \[mapped with DMA_TO_DEVICE\] \[mapped as single\]/,
    );
  });

  it("distro config: no DMA-API debug output, but vmalloc mapping is still refused (that check is not debug)", () => {
    const h = setup("distro");
    const { k } = h;
    const dev = k.board.dmaDevice();
    h.call("init", 3, () => {
      k.dma.dma_unmap_single(dev, 0x1000n, 1, TO_DEVICE);
      expect(k.dma.dma_map_single(dev, k.vmalloc.vmalloc(4096), 4096, TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    });
    expect(k.reports.map((r) => r.title)).toEqual([expect.stringMatching(/^WARNING: CPU: 0 PID: 108 at include\/linux\/dma-mapping\.h:327/)]);
  });
});
