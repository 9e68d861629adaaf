// Models mm/vmstat.c pagetypeinfo_show() (/proc/pagetypeinfo) of Linux 6.1:
//
//   Page block order: %d            pageblock_order
//   Pages per block:  %lu           pageblock_nr_pages
//   (blank)
//   "%-43s " "Free pages count per migrate type at order", then "%6d " per order
//   per populated zone and migratetype: "Node %4d, zone %8s, type %12s " then "%6lu " per order (the blocks on
//     free_area[order].free_list[type]; the kernel caps the count at 100000 and prints ">100000")
//   (blank) "%-23s" "Number of blocks type " then "%12s " per migratetype
//   per populated zone: "Node %d, zone %8s " then "%12lu " per migratetype (pageblocks whose pageblock_flags name it)
//
// Every line ends with a space before its newline, as the kernel's. The migratetype columns follow the config
// (mm/page_alloc.c migratetype_names: CMA on armmp, Isolate on the distro kernels). pagetypeinfo_showmixedcount()
// prints nothing unless page_owner is enabled on the command line (it is not). Only the 6.1 era keeps free lists per
// migratetype (mm/page_alloc.ts); the 2.6/3.4 eras' file, whose types and order differ, is not modelled.

import type { Kernel } from "../kernel.ts";
import { UnknownProcError, registerProc } from "./proc.ts";

export function renderPagetypeinfo(k: Kernel): string {
  const pa = k.pages;
  if (pa.era !== "6.1") throw new UnknownProcError(`/proc/pagetypeinfo is modelled for the 6.1 era only (this kernel: ${pa.era})`);
  const names = pa.migratetypeNames();
  const zones = pa.zones.filter((z) => z.present > 0);
  let out = `Page block order: ${pa.pageblockOrder}\nPages per block:  ${1 << pa.pageblockOrder}\n\n`;
  out += "Free pages count per migrate type at order".padEnd(43) + " ";
  for (let o = 0; o < pa.maxOrder; o++) out += `${String(o).padStart(6)} `;
  out += "\n";
  for (const z of zones) {
    for (let mt = 0; mt < names.length; mt++) {
      out += `Node ${"0".padStart(4)}, zone ${z.name.padStart(8)}, type ${names[mt]!.padStart(12)} `;
      for (let o = 0; o < pa.maxOrder; o++) {
        const n = pa.nrFreeMtAt(z.idx, o, mt);
        out += n >= 100000 ? `>${String(100000).padStart(6)} ` : `${String(n).padStart(6)} `;
      }
      out += "\n";
    }
  }
  out += "\n" + "Number of blocks type ".padEnd(23);
  for (const n of names) out += `${n.padStart(12)} `;
  out += "\n";
  for (const z of zones) {
    out += `Node 0, zone ${z.name.padStart(8)} `;
    for (const c of pa.pageblockCounts(z.idx)) out += `${String(c).padStart(12)} `;
    out += "\n";
  }
  return out;
}

registerProc("pagetypeinfo", renderPagetypeinfo);
