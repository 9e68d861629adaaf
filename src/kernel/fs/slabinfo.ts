// Models /proc/slabinfo: mm/slab_common.c print_slabinfo_header()/cache_show() of Linux 6.1 (SLUB, also 3.4) and
// mm/slab.c s_show() of 2.6.26 (SLAB): "slabinfo - version: 2.1", the column header, one line per cache with
// "%-17s %6lu %6lu %6u %4u %4d" + " : tunables %4u %4u %4u" + " : slabdata %6lu %6lu %6lu", newest cache first.
//
// SLUB prints tunables 0 0 0 and sharedavail 0, active_slabs == num_slabs, active_objs = objects minus the free
// objects on the partial lists. SLAB prints enable_cpucache()'s limit/batchcount/sharedfactor and counts the
// slabs_free slabs in num_slabs only. Merged (alias) caches are not listed, as in the kernel.

import type { Kernel } from "../kernel.ts";
import { registerProc } from "./proc.ts";

const pad = (v: number | string, w: number, left = false) => {
  const s = String(v);
  return s.length >= w ? s : left ? s + " ".repeat(w - s.length) : " ".repeat(w - s.length) + s;
};

/** One cache_show() line (without the newline). */
export function slabinfoLine(
  name: string,
  activeObjs: number,
  numObjs: number,
  objsize: number,
  objPerSlab: number,
  pagesPerSlab: number,
  tunables: [number, number, number],
  activeSlabs: number,
  numSlabs: number,
  sharedAvail: number,
): string {
  return (
    `${pad(name, 17, true)} ${pad(activeObjs, 6)} ${pad(numObjs, 6)} ${pad(objsize, 6)} ${pad(objPerSlab, 4)} ${pad(pagesPerSlab, 4)}` +
    ` : tunables ${pad(tunables[0], 4)} ${pad(tunables[1], 4)} ${pad(tunables[2], 4)}` +
    ` : slabdata ${pad(activeSlabs, 6)} ${pad(numSlabs, 6)} ${pad(sharedAvail, 6)}`
  );
}

export const SLABINFO_HEADER =
  "slabinfo - version: 2.1\n" +
  "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n";

export function renderSlabinfo(k: Kernel): string {
  const a = k.slab;
  let out = SLABINFO_HEADER;
  for (const c of a.slabinfoOrder()) {
    const n = a.objCounts(c);
    const geo = c.slabGeo;
    const tun: [number, number, number] = geo ? [geo.limit, geo.batchcount, geo.shared] : [0, 0, 0];
    out += slabinfoLine(c.name, n.active, n.num, c.size, c.objects, 1 << c.order, tun, n.activeSlabs, n.numSlabs, 0) + "\n";
  }
  return out;
}

registerProc("slabinfo", renderSlabinfo);
