// Models mm/util.c (Linux 6.1): kvmalloc_node / kvfree — kmalloc first, vmalloc as the fallback.
// kvmalloc arrived in 4.12; the 2.6 and 3.4 profiles have no such function (the sandbox table says so).
// There is no reclaim in the simulator, so the kmalloc attempt with __GFP_NORETRY fails at once whenever the
// buddy allocator has no free block of the order, exactly when the real kernel would give up without reclaiming.

import type { Kernel } from "../kernel.ts";
import { gfpAllowsBlocking, gfpFlags } from "../gfp.ts";
import { warn } from "../debug/splat.ts";

const INT_MAX = 0x7fffffff;

/** kvmalloc_node(size, flags, NUMA_NO_NODE). */
export function kvmalloc(k: Kernel, size: number, flags: number): bigint {
  const g = gfpFlags(k.profile.era);
  let kmallocFlags = flags;
  if (size > k.layout.pageSize) {
    // A fallback exists: no OOM killer, no failure warning, no __GFP_NOFAIL for the contiguous attempt.
    kmallocFlags |= g.__GFP_NOWARN;
    if (!(kmallocFlags & (g.__GFP_RETRY_MAYFAIL ?? 0))) kmallocFlags |= g.__GFP_NORETRY;
    kmallocFlags &= ~(g.__GFP_NOFAIL ?? 0);
  }
  const ret = k.slab.kmalloc(size, kmallocFlags);
  // A sub-page request that kmalloc cannot satisfy will not fare better in vmalloc.
  if (ret !== 0n || size <= k.layout.pageSize) return ret;
  // Non-sleeping allocations are not supported by vmalloc in 6.1.
  if (!gfpAllowsBlocking(k.profile.era, flags)) return 0n;
  if (size > INT_MAX) {
    if (!(flags & g.__GFP_NOWARN)) warn(k, { file: "mm/util.c", line: 595, fn: "kvmalloc_node" });
    return 0n;
  }
  return k.vmalloc.__vmalloc(size, flags, undefined, { caller: "kvmalloc_node+0x.." });
}

/** kvzalloc(size, flags) = kvmalloc(size, flags | __GFP_ZERO). */
export function kvzalloc(k: Kernel, size: number, flags: number): bigint {
  return kvmalloc(k, size, flags | gfpFlags(k.profile.era).__GFP_ZERO);
}

/** kvfree(addr): vfree for a vmalloc address, kfree for everything else (NULL included). */
export function kvfree(k: Kernel, addr: bigint): void {
  if (k.vmalloc.is_vmalloc_addr(addr)) k.vmalloc.vfree(addr);
  else k.slab.kfree(addr);
}
