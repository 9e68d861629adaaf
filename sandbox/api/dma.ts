// Rows: the streaming and coherent DMA API (include/linux/dma-mapping.h, kernel/dma/mapping.c) over k.dma, with
// CONFIG_DMA_API_DEBUG's checks on the debug kernel. The device is a handle: `const dev = dma_device()` from "sim".
// dma_addr_t is a bigint (DMA_MAPPING_ERROR is ~0). dma_alloc_coherent returns the CPU address; C's dma_handle
// out-parameter is dma_coherent_handle(dev, cpu_addr) here (the device address the allocation was given).

import type { ApiEntry, CallEnv } from "../table.ts";
import { fn, p } from "../table.ts";
import { handles } from "./handles.ts";
import type { DmaDevice } from "../../src/kernel/kernel/dma.ts";
import type { DmaDirection } from "../../src/kernel/debug/dma_debug.ts";

const dev = (c: CallEnv, id: number, name: string) => handles(c.k).get<DmaDevice>(id, name);
const D = p("dev", "handle:device");
const dir = (d: number): DmaDirection => (d & 3) as DmaDirection;
const EIO = 5;

/** CPU address -> device address of the module's coherent buffers (per kernel). */
const coherent = new WeakMap<object, Map<bigint, bigint>>();
const coherentOf = (c: CallEnv) => {
  let m = coherent.get(c.k);
  if (!m) coherent.set(c.k, (m = new Map()));
  return m;
};

const dirConst = (name: string, value: number, doc: string): ApiEntry => ({ kind: "constant", module: "linux", name, type: "number", value: () => value, doc });

export const DMA_ROWS: ApiEntry[] = [
  dirConst("DMA_BIDIRECTIONAL", 0, "The device reads and writes the buffer."),
  dirConst("DMA_TO_DEVICE", 1, "The device reads the buffer (the CPU wrote it)."),
  dirConst("DMA_FROM_DEVICE", 2, "The device writes the buffer (the CPU reads it afterwards)."),
  dirConst("DMA_NONE", 3, "No direction: only for debugging."),
  {
    kind: "constant",
    module: "linux",
    name: "DMA_MAPPING_ERROR",
    type: "addr",
    value: () => 0xffffffffffffffffn,
    doc: "The dma_addr_t of a failed mapping (~0). Test with dma_mapping_error(), not by comparing.",
  },
  fn({
    name: "dma_map_single",
    memory: { none: "a bus address for memory the module already holds (a streaming mapping, paired by the DMA-API checks)" },
    params: [
      D,
      p("cpu_addr", "addr", "a physically contiguous buffer: kmalloc or the page allocator"),
      p("size", "size"),
      p("dir", "uint", "DMA_TO_DEVICE, DMA_FROM_DEVICE or DMA_BIDIRECTIONAL"),
    ],
    returns: "addr",
    context: "any",
    doc: "Map a buffer for one transfer and return the address the device uses. Check it with dma_mapping_error(); unmap with the same size and direction. vmalloc memory cannot be mapped this way.",
    impl: (c, d: number, addr: bigint, size: number, di: number) => c.k.dma.dma_map_single(dev(c, d, "dma_map_single"), addr, size, dir(di)),
  }),
  fn({
    name: "dma_mapping_error",
    params: [D, p("dma_addr", "addr")],
    returns: "int",
    context: "any",
    doc: "Non-zero (-ENOMEM) if the mapping failed. Every mapping must be checked (DMA-API debug reports the ones that are not).",
    impl: (c, d: number, a: bigint) => c.k.dma.dma_mapping_error(dev(c, d, "dma_mapping_error"), a),
  }),
  fn({
    name: "dma_unmap_single",
    memory: { none: "ends a streaming mapping; the buffer stays the module's" },
    params: [D, p("dma_addr", "addr"), p("size", "size", "the size it was mapped with"), p("dir", "uint", "the direction it was mapped with")],
    returns: "void",
    context: "any",
    doc: "End the mapping: after it the CPU may use the buffer again (and free it).",
    impl: (c, d: number, a: bigint, size: number, di: number) => c.k.dma.dma_unmap_single(dev(c, d, "dma_unmap_single"), a, size, dir(di)),
  }),
  fn({
    name: "dma_alloc_coherent",
    memory: { alloc: { family: "dma-coherent", size: { arg: 1 }, gfp: 2 } },
    params: [D, p("size", "size"), p("gfp", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL",
    doc: "Allocate a buffer the CPU and the device share for a long time (from the zone the device's mask reaches). Returns the CPU address (0n on failure); the device's address is dma_coherent_handle(dev, cpu_addr). Free with dma_free_coherent.",
    impl: (c, d: number, size: number, gfp: number) => {
      const r = c.k.dma.dma_alloc_coherent(dev(c, d, "dma_alloc_coherent"), size, gfp);
      if (r.addr !== 0n) coherentOf(c).set(r.addr, r.dma);
      return r.addr;
    },
  }),
  fn({
    name: "dma_coherent_handle",
    memory: { none: "the bus address of a coherent buffer the module holds" },
    params: [D, p("cpu_addr", "addr", "what dma_alloc_coherent returned")],
    returns: "addr",
    context: "any",
    doc: "The dma_handle that C's dma_alloc_coherent(dev, size, &dma_handle, gfp) writes: the address the device uses for the buffer (0n if cpu_addr is not one).",
    impl: (c, d: number, cpu: bigint) => (dev(c, d, "dma_coherent_handle"), coherentOf(c).get(cpu) ?? 0n),
  }),
  fn({
    name: "dma_free_coherent",
    memory: { free: { addr: 2, families: ["dma-coherent"], size: 1 } },
    params: [D, p("size", "size"), p("cpu_addr", "addr"), p("dma_handle", "addr")],
    returns: "void",
    context: "process context (not with interrupts disabled)",
    doc: "Free a dma_alloc_coherent buffer (same size, both of its addresses).",
    impl: (c, d: number, size: number, cpu: bigint, dma: bigint) => {
      coherentOf(c).delete(cpu);
      c.k.dma.dma_free_coherent(dev(c, d, "dma_free_coherent"), size, cpu, dma);
    },
  }),
  fn({
    name: "dma_set_mask",
    params: [D, p("mask", "addr", "DMA_BIT_MASK(n): (1n << BigInt(n)) - 1n")],
    returns: "int",
    context: "process context",
    doc: "Tell the kernel which addresses the device can reach: 0, or -EIO if the platform cannot do DMA with that mask (below 24 bits here).",
    impl: (c, d: number, mask: bigint) => {
      const x = dev(c, d, "dma_set_mask");
      if (mask < 0xffffffn) return -EIO;
      x.dmaMask = mask;
      return 0;
    },
  }),
  fn({
    name: "dma_set_mask_and_coherent",
    params: [D, p("mask", "addr")],
    returns: "int",
    context: "process context",
    doc: "dma_set_mask and the coherent mask together.",
    impl: (c, d: number, mask: bigint) => {
      const x = dev(c, d, "dma_set_mask_and_coherent");
      if (mask < 0xffffffn) return -EIO;
      x.dmaMask = mask;
      x.coherentMask = mask;
      return 0;
    },
  }),
];
