// Exercise dma-buffer: streaming DMA done right — contiguous memory, map, check, unmap with the same size, free.

import type { Exercise } from "../types.ts";
import { allocs, check, fail, isOutcome, layoutOf, loads, noReports, nothingLeaked, ok, regionOf, survivesFaultInjection } from "../checks.ts";
import { callsTo, describe, toBig, toNum, type Allocation, type KernelCall } from "../records.ts";
import type { CheckContext, CheckOutcome } from "../types.ts";

const SIZE = 64 * 1024;
const DMA_TO_DEVICE = 1;
const EIO = 5;

/** The buffer: the allocation the module mapped, else its first allocation of at least 64 KiB. */
function buffer(c: CheckContext): Allocation | CheckOutcome {
  const as = allocs(c);
  if (isOutcome(as)) return as;
  const bufs = as.filter((a) => a.family === "slab" || a.family === "page" || a.family === "vmalloc" || a.family === "dma-coherent");
  for (const m of callsTo(c.result, "dma_map_single")) {
    const p = toBig(m.args[1]);
    const a = p === undefined ? undefined : bufs.find((x) => p >= (x.virt ?? x.addr) && p < (x.virt ?? x.addr) + BigInt(Math.max(1, x.size)));
    if (a) return a;
  }
  return (
    bufs.find((a) => a.size >= SIZE) ??
    fail(`no buffer of 64 KiB was allocated (the module's allocations: ${bufs.length ? bufs.map(describe).join(", ") : "none"})`)
  );
}

/** DMA_MAPPING_ERROR: (dma_addr_t)~0, what dma_map_single returns when it cannot map. */
const DMA_MAPPING_ERROR = (bits: number) => (1n << BigInt(bits)) - 1n;

function mapping(c: CheckContext, a: Allocation): KernelCall | CheckOutcome {
  const m = callsTo(c.result, "dma_map_single").filter((x) => toBig(x.args[1]) === (a.virt ?? a.addr));
  if (!m.length) return fail("the buffer was never mapped with dma_map_single");
  return m[0];
}

/** The buffer and its dma_map_single call, or the outcome that says which is missing (the mapping checks' preamble). */
function bufferAndMapping(c: CheckContext): { a: Allocation; m: KernelCall } | CheckOutcome {
  const a = buffer(c);
  if (isOutcome(a)) return a;
  const m = mapping(c, a);
  return isOutcome(m) ? m : { a, m };
}

/** The device's DMA mask: the kernel's record of the board's device, else the module's dma_set_mask call. */
function dmaMask(c: CheckContext): bigint | undefined {
  const k = c.result.kernel as { dma?: { mask?: string | number; devices?: { mask?: string | number }[] } };
  const m = k.dma?.mask ?? k.dma?.devices?.[0]?.mask;
  if (m !== undefined) return toBig(m);
  const set = callsTo(c.result, "dma_set_mask", "dma_set_mask_and_coherent").find((x) => x.ret === 0);
  return set ? toBig(set.args[1]) : undefined;
}

export const dmaBuffer: Exercise = {
  id: "dma-buffer",
  title: "A buffer the device can read",
  lesson: "dma",
  settings: { profile: "x86_64-6.1" },
  statement: `Allocate a 64 KiB buffer for the board's DMA device (\`dma_device()\` from "sim"), map it with
\`dma_map_single\` for DMA_TO_DEVICE, check the mapping with \`dma_mapping_error\` (on error, free the buffer and
return -EIO), then unmap it (same size, same direction) and free it, all in init. The device reads physical memory:
the buffer must be physically contiguous, in the linear map, and the mapping inside the device's DMA mask. If the
allocation fails, init returns -ENOMEM. The grader also runs your module with 6 GiB of RAM, where a GFP_KERNEL buffer
lies above the device's 32-bit mask and the mapping fails: your error path runs there.`,
  starter: `import { vmalloc, vfree, dma_map_single, dma_unmap_single, DMA_TO_DEVICE,
         MODULE_LICENSE, module_init, module_exit } from "linux";
import { dma_device } from "sim";

MODULE_LICENSE("GPL");
const SIZE = 64 * 1024;

function dma_init(): number {
  const dev = dma_device();
  const buf = vmalloc(SIZE);
  const handle = dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE);
  // TODO: check the mapping; is vmalloc memory right for DMA?
  dma_unmap_single(dev, handle, 4096, DMA_TO_DEVICE);
  vfree(buf);
  return 0;
}

module_init(dma_init);
module_exit(() => {});
`,
  solution: `import { kmalloc, kfree, dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, GFP_KERNEL,
         ENOMEM, EIO, MODULE_LICENSE, module_init, module_exit } from "linux";
import { dma_device } from "sim";

MODULE_LICENSE("GPL");
const SIZE = 64 * 1024;

function dma_init(): number {
  const dev = dma_device();
  const buf = kmalloc(SIZE, GFP_KERNEL); // physically contiguous, from the linear map
  if (buf === 0n) return -ENOMEM;
  const handle = dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, handle)) {
    kfree(buf);
    return -EIO;
  }
  // ... the device would read the buffer here ...
  dma_unmap_single(dev, handle, SIZE, DMA_TO_DEVICE);
  kfree(buf);
  return 0;
}

module_init(dma_init);
module_exit(() => {});
`,
  checks: [
    loads(),
    check(
      "contiguous",
      "The 64 KiB buffer is physically contiguous (kmalloc or the page allocator, not vmalloc)",
      "vmalloc memory is contiguous only virtually: the device sees scattered pages. Use kmalloc(SIZE, GFP_KERNEL) or __get_free_pages.",
      (c) => {
        const a = buffer(c);
        if (isOutcome(a)) return a;
        if (a.family === "vmalloc") return fail(`${a.fn}(${a.size}) is only virtually contiguous`);
        const l = layoutOf(c);
        if (l && regionOf(l, a.virt ?? a.addr) !== "linear") return fail(`${describe(a)} is not in the linear map`);
        if (a.size < SIZE) return fail(`the buffer is ${a.size} bytes, the task asks for 64 KiB (${SIZE})`);
        return ok(a.fn);
      },
      1,
      { requires: ["64 KiB", "physically contiguous"] },
    ),
    check(
      "mapped-in-mask",
      "Mapped with dma_map_single for DMA_TO_DEVICE, inside the device's DMA mask",
      "dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE) returns the address the device uses; the whole buffer must lie below the device's mask.",
      (c) => {
        const bm = bufferAndMapping(c);
        if (isOutcome(bm)) return bm;
        const { a, m } = bm;
        if (toNum(m.args[2]) !== SIZE) return fail(`mapped ${toNum(m.args[2])} bytes, not ${SIZE}`);
        if (toNum(m.args[3]) !== DMA_TO_DEVICE) return fail("the direction is not DMA_TO_DEVICE");
        const h = toBig(m.ret);
        const mask = dmaMask(c);
        if (h === undefined) return fail("dma_map_single returned nothing usable");
        const bits = layoutOf(c)?.bits ?? 64;
        if (h === DMA_MAPPING_ERROR(bits) || h === DMA_MAPPING_ERROR(64)) {
          const why = c.result.reports.find((x) => x.kind === "dma-api" || x.kind === "warn");
          return fail(
            `dma_map_single failed: it returned DMA_MAPPING_ERROR (0x${h.toString(16)}), so there is no mapping${a.family === "vmalloc" ? ` (${a.fn} memory is not in the linear map: the DMA API cannot map it)` : why ? ` (the kernel said: ${why.title})` : ""}`,
          );
        }
        if (mask === undefined) return fail("the kernel kept no record of the device's DMA mask");
        if (h + BigInt(SIZE) - 1n > mask) return fail(`the mapping 0x${h.toString(16)}..+${SIZE} is above the device's DMA mask 0x${mask.toString(16)}`);
        return ok();
      },
      1,
      { requires: ["dma_map_single", "DMA_TO_DEVICE", "DMA mask"] },
    ),
    check(
      "error-checked",
      "The mapping is checked with dma_mapping_error before it is used",
      "Right after dma_map_single, if (dma_mapping_error(dev, handle)) { free and return -EIO; }.",
      (c) => {
        const bm = bufferAndMapping(c);
        if (isOutcome(bm)) return bm;
        const { m } = bm;
        const calls = c.records?.calls ?? [];
        const mi = calls.indexOf(m);
        const chk = calls.findIndex((x, i) => i > mi && x.fn === "dma_mapping_error" && toBig(x.args[1]) === toBig(m.ret));
        if (chk < 0) return fail("dma_mapping_error was never called on the handle");
        const un = calls.findIndex((x, i) => i > mi && x.fn === "dma_unmap_single");
        if (un >= 0 && un < chk) return fail("dma_mapping_error was called only after the unmap");
        // The error path itself, where it runs: with 6 GiB of RAM a GFP_KERNEL buffer lies above the device's 32-bit
        // mask and dma_map_single fails (a buffer from GFP_DMA/GFP_DMA32 still maps, and has nothing to show there).
        const hi = c.runs?.highMem;
        if (!hi) return fail(c.runs?.unavailable?.["high-memory-run"] ?? "the grader made no run with more RAM to see the error path in");
        const failed = callsTo(hi.result, "dma_map_single").find((x) => x.phase === "init" && x.ret !== null && toBig(x.ret) === DMA_MAPPING_ERROR(64));
        if (!failed) return ok();
        const on = `with ${hi.mem / 2 ** 30} GiB of RAM the buffer lay above the device's 32-bit DMA mask and dma_map_single failed`;
        if (hi.result.initReturn !== -EIO) return fail(`${on}, but init returned ${String(hi.result.initReturn)}, not -EIO (-5)`);
        const kept = (hi.records?.allocs ?? []).filter((a) => !a.free);
        if (kept.length) return fail(`${on}: init returned -EIO without freeing ${describe(kept[0]!)}`);
        const after = (hi.records?.calls ?? []).filter((x, i, all) => i > all.indexOf(failed) && x.fn === "dma_unmap_single");
        if (after.length) return fail(`${on}, and the failed mapping was then unmapped (dma_unmap_single of DMA_MAPPING_ERROR)`);
        return ok();
      },
      1,
      { requires: ["dma_mapping_error", "6 GiB"], needs: ["high-memory-run"] },
    ),
    check(
      "unmapped-before-free",
      "Unmapped with the same size and direction before the buffer is freed",
      "dma_unmap_single(dev, handle, SIZE, DMA_TO_DEVICE) with exactly the size and direction of the map, then free the buffer.",
      (c) => {
        const bm = bufferAndMapping(c);
        if (isOutcome(bm)) return bm;
        const { a, m } = bm;
        const calls = c.records?.calls ?? [];
        const un = calls.find((x) => x.fn === "dma_unmap_single" && toBig(x.args[1]) === toBig(m.ret));
        const h = toBig(m.ret);
        if (!un && h !== undefined && (h === DMA_MAPPING_ERROR(layoutOf(c)?.bits ?? 64) || h === DMA_MAPPING_ERROR(64)))
          return fail("dma_map_single failed (DMA_MAPPING_ERROR), so there was no mapping to unmap");
        if (!un) return fail("the mapping was never unmapped");
        if (toNum(un.args[2]) !== toNum(m.args[2])) return fail(`unmapped ${toNum(un.args[2])} bytes, but ${toNum(m.args[2])} were mapped`);
        if (toNum(un.args[3]) !== toNum(m.args[3])) return fail("unmapped with another direction than it was mapped with");
        if (a.free && a.free.index < calls.indexOf(un)) return fail("the buffer was freed while the device could still use it (before the unmap)");
        return ok();
      },
      1,
      { requires: ["same size", "same direction"] },
    ),
    nothingLeaked(),
    survivesFaultInjection(),
    noReports(),
  ],
};
