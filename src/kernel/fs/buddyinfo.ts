// Models mm/vmstat.c frag_show_print() (/proc/buddyinfo) of Linux 6.1 (the same format since 2.6): one line per
// populated zone, "Node %d, zone %8s " then "%6lu " for each order, then a newline (note the trailing space).

import type { Kernel } from "../kernel.ts";
import { registerProc } from "./proc.ts";

export function renderBuddyinfo(k: Kernel): string {
  const pa = k.pages;
  let out = "";
  for (const z of pa.zones) {
    if (z.present === 0) continue;
    let line = `Node 0, zone ${z.name.padStart(8)} `;
    for (let o = 0; o < pa.maxOrder; o++) line += `${String(pa.nrFreeAt(z.idx, o)).padStart(6)} `;
    out += line + "\n";
  }
  return out;
}

registerProc("buddyinfo", renderBuddyinfo);
