// Rows: every GFP_* composite and __GFP_* bit the kernel's gfp.ts defines, each in the eras that define it,
// with that era's value (GFP_KERNEL is 0xd0 in 2.6/3.4 and 0xcc0 in 6.1). Derived from the kernel's own table.

import type { ApiEntry } from "../table.ts";
import { ERAS } from "../table.ts";
import { gfpFlags } from "../../src/kernel/gfp.ts";

const DOCS: Record<string, string> = {
  GFP_KERNEL: "Normal kernel allocation: may sleep, may reclaim and do I/O. Context: process context only.",
  GFP_ATOMIC: "Allocation that must not sleep (interrupt handlers, under a spinlock): may dip into the reserves, fails rather than waits.",
  GFP_NOWAIT: "Allocation that must not sleep and does not touch the reserves.",
  GFP_NOIO: "May sleep and reclaim, but start no I/O.",
  GFP_NOFS: "May sleep and reclaim, but do not call into filesystems.",
  GFP_USER: "For memory userspace will use: may sleep.",
  GFP_HIGHUSER: "GFP_USER that may also come from highmem.",
  GFP_DMA: "From ZONE_DMA (the first 16 MiB on x86).",
  GFP_DMA32: "From below 4 GiB.",
  __GFP_ZERO: "Return the memory zeroed.",
  __GFP_NOWARN: "Do not print the allocation failure warning.",
  __GFP_HIGHMEM: "May come from highmem (then it has no permanent kernel address).",
  __GFP_COMP: "Make a compound page.",
};

function rows(): ApiEntry[] {
  const names = new Set<string>();
  for (const era of ERAS) for (const n of Object.keys(gfpFlags(era))) names.add(n);
  const out: ApiEntry[] = [];
  for (const name of [...names].sort()) {
    const eras = ERAS.filter((e) => gfpFlags(e)[name] !== undefined);
    // A name present in a contiguous run of eras (true of every gfp flag) is since..until that run.
    const since = eras[0];
    const until = eras[eras.length - 1];
    out.push({
      kind: "constant",
      module: "linux",
      name,
      type: "number",
      since: since === ERAS[0] ? undefined : since,
      until: until === ERAS[ERAS.length - 1] ? undefined : until,
      value: (k) => gfpFlags(k.profile.era)[name],
      doc: `${DOCS[name] ?? "A gfp flag."} Its value depends on the era (${eras.map((e) => `${e}: 0x${gfpFlags(e)[name].toString(16)}`).join(", ")}).`,
    });
  }
  return out;
}

export const GFP_ROWS: ApiEntry[] = rows();
