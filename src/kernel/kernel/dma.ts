// Models kernel/dma/mapping.c and kernel/dma/direct.c of Linux 6.1 (dma_map_single_attrs, dma_unmap_single_attrs, dma_mapping_error, dma_alloc_coherent, dma_free_coherent) for one simulated DMA-capable device per board, without an IOMMU.
//
// The board's device: on the x86 PC boards a PCI device 0000:00:04.0 with a 32-bit DMA mask (what QEMU's pc
// machine gives an emulated PCI NIC); on the ARM boards a platform device "a000000.dma" with a 32-bit mask; the
// old i386-2.6 board's device is an ISA-style controller with a 24-bit mask (GFP_DMA memory, the first 16 MiB).
// These devices are the simulator's (no real driver is modelled). dma_addr_t is bigint; DMA_MAPPING_ERROR is ~0.
// dma_map_single(dev, cpu_addr, size, dir): 6.1 refuses vmalloc memory (dev_WARN_ONCE "rejecting DMA map of vmalloc
// memory" and DMA_MAPPING_ERROR, since ~5.10); older eras map it and DMA-API debug says "device driver maps memory
// from vmalloc area [addr=%p] [len=%lu]" (the simulator then maps the physical page under the first vmalloc page —
// the driver's bug made visible). A lowmem buffer maps to its physical address (dma-direct), unless it lies above the
// device's mask: then, without swiotlb in the simulator, the mapping fails (DMA_MAPPING_ERROR).
// dma_alloc_coherent(dev, size, gfp) returns { addr, dma } (the sandbox cannot pass dma_handle by reference):
// pages from the zone the mask needs (GFP_DMA for 24 bits, GFP_DMA32 for 32 bits on x86_64).
// Simplifications: no swiotlb bouncing, no cache maintenance, no sg lists.

import type { Kernel } from "../kernel.ts";
import { DmaDebug, type DmaDeviceLike, type DmaDirection } from "../debug/dma_debug.ts";
import { warn } from "../debug/splat.ts";

export const DMA_MAPPING_ERROR = 0xffffffffffffffffn;

export interface DmaDevice extends DmaDeviceLike {
  dmaMask: bigint;
  coherentMask: bigint;
  /** dev_WARN_ONCE state of the vmalloc rejection. */
  warnedVmalloc: boolean;
}

export class Dma {
  private readonly k: Kernel;
  readonly device: DmaDevice;
  readonly debug: DmaDebug;

  constructor(k: Kernel) {
    this.k = k;
    const x86 = k.profile.arch === "x86_64" || k.profile.arch === "i386";
    const mask = k.profile.era === "2.6" ? 0xffffffn : 0xffffffffn;
    this.device = {
      driverString: x86 ? "pci" : "platform",
      name: x86 ? "0000:00:04.0" : "a000000.dma",
      dmaMask: mask,
      coherentMask: mask,
      warnedVmalloc: false,
    };
    this.debug = new DmaDebug(k);
  }

  private isVmalloc(addr: bigint): boolean {
    const l = this.k.layout;
    return addr >= l.vmallocStart && addr < l.vmallocEnd;
  }

  private frames() {
    return this.k.captureModuleStack();
  }

  dma_map_single(dev: DmaDevice, addr: bigint, size: number, dir: DmaDirection): bigint {
    const k = this.k;
    if (this.isVmalloc(addr)) {
      if (k.profile.era === "6.1") {
        if (!dev.warnedVmalloc) {
          dev.warnedVmalloc = true;
          warn(k, {
            file: "include/linux/dma-mapping.h",
            line: 327,
            fn: "dma_map_single_attrs",
            message: `${dev.driverString} ${dev.name}: rejecting DMA map of vmalloc memory`,
            kind: "dma-api",
            explain:
              "vmalloc memory is only virtually contiguous: a device needs physically contiguous memory. Use kmalloc() or dma_alloc_coherent() for DMA buffers.",
          });
        }
        return DMA_MAPPING_ERROR;
      }
      const pfn = (k.vmalloc as unknown as { vmalloc_to_pfn(a: bigint): number }).vmalloc_to_pfn(addr);
      this.debug.err(
        dev,
        undefined,
        "vmalloc",
        `device driver maps memory from vmalloc area [addr=${k.log.format("%p", [addr])}] [len=${size}]`,
        1290,
        "debug_dma_map_single",
        "vmalloc memory is only virtually contiguous: a device needs physically contiguous memory.",
      );
      const dma = BigInt(Math.max(0, pfn) * 4096) + (addr & 0xfffn);
      this.debug.add({ dev, dmaAddr: dma, cpuAddr: addr, size, direction: dir, type: "single", checked: false, stack: this.frames() });
      return dma;
    }
    let phys: number;
    try {
      phys = k.pages.virt_to_phys(addr);
    } catch {
      return DMA_MAPPING_ERROR;
    }
    const dma = BigInt(phys);
    if (dma + BigInt(Math.max(0, size - 1)) > dev.dmaMask) return DMA_MAPPING_ERROR;
    this.debug.add({ dev, dmaAddr: dma, cpuAddr: addr, size, direction: dir, type: "single", checked: false, stack: this.frames() });
    return dma;
  }

  dma_mapping_error(dev: DmaDevice, dma: bigint): number {
    this.debug.mappingError(dev, dma);
    return dma === DMA_MAPPING_ERROR ? -12 : 0;
  }

  dma_unmap_single(dev: DmaDevice, dma: bigint, size: number, dir: DmaDirection): void {
    this.debug.checkUnmap(dev, dma, size, dir, "single");
  }

  dma_alloc_coherent(dev: DmaDevice, size: number, gfp: number): { addr: bigint; dma: bigint } {
    const k = this.k;
    const order = Math.max(0, Math.ceil(Math.log2(Math.max(4096, size) / 4096)));
    const zone = dev.coherentMask <= 0xffffffn ? 0x1 : dev.coherentMask <= 0xffffffffn && k.profile.arch === "x86_64" ? 0x4 : 0;
    const addr = k.pages.__get_free_pages(gfp | zone, order);
    if (addr === 0n) return { addr: 0n, dma: 0n };
    const dma = BigInt(k.pages.virt_to_phys(addr));
    this.debug.add({ dev, dmaAddr: dma, cpuAddr: addr, size, direction: 0, type: "coherent", checked: true, stack: this.frames() });
    return { addr, dma };
  }

  dma_free_coherent(dev: DmaDevice, size: number, addr: bigint, dma: bigint): void {
    const e = this.debug.checkUnmap(dev, dma, size, 0, "coherent");
    const order = Math.max(0, Math.ceil(Math.log2(Math.max(4096, e?.size ?? size) / 4096)));
    if (addr) this.k.pages.free_pages(addr, order);
  }

  /** At rmmod: the device is released by the module (pending mappings are reported). */
  release(): number {
    return this.debug.checkRelease(this.device);
  }
}
