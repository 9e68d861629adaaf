// Models kernel/dma/debug.c of Linux 6.1 (err_printk, check_unmap, debug_dma_mapping_error, the pending-allocations check) — CONFIG_DMA_API_DEBUG in the "debug" config.
//
// Every mapping is an entry (device address, size, direction, type, whether dma_mapping_error() checked it, the
// module frames that made it). err_printk() is WARN(1, "DMA-API: %s %s: " fmt, dev_driver_string(dev), dev_name(dev))
// followed by "DMA-API: Mapped at:" and the entry's saved stack. As in the kernel, only the first error is printed
// (show_num_errors = 1, no show_all_errors); later ones are counted (errorCount) and recorded as facts.
// Texts (6.1): "device driver tries to free DMA memory it has not allocated [device address=0x%016llx] [size=%llu
// bytes]", "device driver frees DMA memory with different size [device address=0x%016llx] [map size=%llu bytes]
// [unmap size=%llu bytes]", "device driver frees DMA memory with different direction [device address=0x%016llx]
// [size=%llu bytes] [mapped with %s] [unmapped with %s]", "device driver failed to check map error[device
// address=0x%016llx] [size=%llu bytes] [mapped as %s]", "device driver has pending DMA allocations while released from
// device [count=%d]\nOne of leaked entries details: [device address=0x%016llx] [size=%llu bytes] [mapped with %s]
// [mapped as %s]", and (old eras, debug_dma_map_single) "device driver maps memory from vmalloc area [addr=%p] [len=%lu]".
// WARN locations: kernel/dma/debug.c:963 (check_unmap, the 5.19/6.1 line of the first check; the following checks use
// the nearby lines 976, 1000, 1016 — approximate) and 874 for the release check (approximate).
// Simplification: the pending-allocations check runs at rmmod, as if the module were the device's driver being
// unbound; the device keeps its bus name as driver string ("pci", "platform") as an unbound device does.

import type { Kernel } from "../kernel.ts";
import { warn } from "./splat.ts";
import { kernLevels } from "../kernel/printk.ts";
import type { StackFrame } from "../kernel.ts";

export type DmaDirection = 0 | 1 | 2 | 3;
export const DIR_NAMES = ["DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE", "DMA_NONE"];
export const TYPE_NAMES = { single: "single", sg: "scather-gather", coherent: "coherent", resource: "resource" } as const;

export interface DmaEntry {
  dev: DmaDeviceLike;
  dmaAddr: bigint;
  cpuAddr: bigint;
  size: number;
  direction: DmaDirection;
  type: keyof typeof TYPE_NAMES;
  checked: boolean;
  stack: StackFrame[];
}

export interface DmaDeviceLike {
  /** dev_driver_string(): the driver's name, or the bus name for an unbound device. */
  driverString: string;
  /** dev_name(): "0000:00:04.0". */
  name: string;
}

export interface DmaError {
  what: "not-allocated" | "size" | "direction" | "unchecked" | "pending" | "vmalloc";
  message: string;
  printed: boolean;
}

export class DmaDebug {
  private readonly k: Kernel;
  readonly enabled: boolean;
  entries: DmaEntry[] = [];
  errorCount = 0;
  private showNumErrors = 1;
  readonly errors: DmaError[] = [];

  constructor(k: Kernel) {
    this.k = k;
    this.enabled = k.debug;
  }

  private hex16(v: bigint): string {
    return "0x" + v.toString(16).padStart(16, "0");
  }

  /** err_printk(). */
  err(dev: DmaDeviceLike, entry: DmaEntry | undefined, what: DmaError["what"], msg: string, line: number, fn: string, explain: string): void {
    this.errorCount++;
    const message = `DMA-API: ${dev.driverString} ${dev.name}: ${msg}`;
    const printed = this.enabled && this.showNumErrors > 0;
    this.errors.push({ what, message, printed });
    if (!printed) return;
    this.showNumErrors--;
    const k = this.k;
    const r = warn(k, { file: "kernel/dma/debug.c", line, fn, message, kernelFrames: this.framesFor(fn), kind: "dma-api", explain });
    if (entry && entry.stack.length) {
      const lines = ["DMA-API: Mapped at:", ...entry.stack.map((f) => " " + k.kallsyms.moduleFrame(f.fn, f.module ?? k.sched.moduleName(), f.line))];
      for (const l of lines) k.printk(kernLevels(k.profile).KERN_WARNING + "%s\n", l);
      r.text += "\n" + lines.join("\n");
    }
  }

  private framesFor(fn: string): string[] {
    switch (fn) {
      case "check_unmap":
        return ["debug_dma_unmap_page", "dma_unmap_page_attrs"];
      case "dma_debug_device_change":
        return ["blocking_notifier_call_chain", "device_release_driver_internal"];
      default:
        return ["debug_dma_map_page", "dma_map_page_attrs"];
    }
  }

  add(e: DmaEntry): void {
    this.entries.push(e);
  }

  find(dev: DmaDeviceLike, dmaAddr: bigint): DmaEntry | undefined {
    return this.entries.find((e) => e.dev === dev && e.dmaAddr === dmaAddr);
  }

  /** debug_dma_mapping_error(): the entry is checked. */
  mappingError(dev: DmaDeviceLike, dmaAddr: bigint): void {
    for (const e of this.entries) if (e.dev === dev && e.dmaAddr === dmaAddr) e.checked = true;
  }

  /** check_unmap(): the checks of an unmap/free against the entry; removes the entry. */
  checkUnmap(dev: DmaDeviceLike, dmaAddr: bigint, size: number, direction: DmaDirection, type: DmaEntry["type"]): DmaEntry | undefined {
    const e = this.find(dev, dmaAddr);
    if (!e) {
      this.err(
        dev,
        undefined,
        "not-allocated",
        `device driver tries to free DMA memory it has not allocated [device address=${this.hex16(dmaAddr)}] [size=${size} bytes]`,
        963,
        "check_unmap",
        "dma_unmap_single()/dma_free_coherent() got an address that no mapping of this device returned (already unmapped, or never mapped).",
      );
      return undefined;
    }
    if (e.size !== size) {
      this.err(
        dev,
        e,
        "size",
        `device driver frees DMA memory with different size [device address=${this.hex16(dmaAddr)}] [map size=${e.size} bytes] [unmap size=${size} bytes]`,
        976,
        "check_unmap",
        "Unmap with the same size you mapped: the kernel uses it to sync and release exactly the mapped range.",
      );
    }
    if (e.type === "single" && e.direction !== direction) {
      this.err(
        dev,
        e,
        "direction",
        `device driver frees DMA memory with different direction [device address=${this.hex16(dmaAddr)}] [size=${e.size} bytes] [mapped with ${DIR_NAMES[e.direction]}] [unmapped with ${DIR_NAMES[direction]}]`,
        1000,
        "check_unmap",
        "Unmap with the same direction you mapped with.",
      );
    }
    if (type === "single" && !e.checked) {
      this.err(
        dev,
        e,
        "unchecked",
        `device driver failed to check map error[device address=${this.hex16(dmaAddr)}] [size=${e.size} bytes] [mapped as ${TYPE_NAMES[e.type]}]`,
        1016,
        "check_unmap",
        "Every dma_map_single() result must be tested with dma_mapping_error() before the device uses it: mapping can fail.",
      );
    }
    this.entries = this.entries.filter((x) => x !== e);
    return e;
  }

  /** The release check at rmmod: mappings and coherent buffers the module never gave back. */
  checkRelease(dev: DmaDeviceLike): number {
    const mine = this.entries.filter((e) => e.dev === dev);
    if (!mine.length) return 0;
    const e = mine[0];
    this.err(
      dev,
      e,
      "pending",
      `device driver has pending DMA allocations while released from device [count=${mine.length}]\nOne of leaked entries details: [device address=${this.hex16(e.dmaAddr)}] [size=${e.size} bytes] [mapped with ${DIR_NAMES[e.direction]}] [mapped as ${TYPE_NAMES[e.type]}]`,
      874,
      "dma_debug_device_change",
      "Every dma_map_single() needs its dma_unmap_single(), every dma_alloc_coherent() its dma_free_coherent(), before module_exit returns.",
    );
    return mine.length;
  }
}
