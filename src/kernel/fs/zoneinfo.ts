// Models mm/vmstat.c zoneinfo_show_print() (/proc/zoneinfo) of Linux 6.1, and 2.6.32's format for eras 2.6 and 3.4.
//
// 6.1: every zone of the node is listed; unpopulated zones stop after "protection:". The "per-node stats" block
// (printed under the first populated zone) lists the 6.1 node_stat items in the kernel's order, from the same
// counters as /proc/meminfo (fs/meminfo.ts: the LRU lists, nr_slab_reclaimable / nr_slab_unreclaimable, nr_anon_pages,
// nr_mapped, nr_file_pages = nr_shmem (the initramfs's tmpfs), nr_kernel_stack in kB as the kernel keeps it,
// nr_page_table_pages); the others print 0 (no swap, no writeback, no reclaim ran). pagesets show each CPU's
// per_cpu_pages as the allocator keeps them (mm/pcp.ts: count, high, batch; CPU 0 holds the pages), and the vm
// stats threshold from calculate_normal_threshold().
// 2.6/3.4: the 2.6.32 layout (scanned line, vm stats before protection, all_unreclaimable/prev_priority/
// inactive_ratio; only populated zones). 3.4's own additions (nr_anon_transparent_hugepages, ...) are not shown.

import type { Kernel } from "../kernel.ts";
import type { Zone } from "../mm/zone.ts";
import { int_sqrt, presentPages } from "../mm/zone.ts";
import { registerProc } from "./proc.ts";
import { renderMeminfo } from "./meminfo.ts";

const NODE_STATS_61 = [
  "nr_inactive_anon",
  "nr_active_anon",
  "nr_inactive_file",
  "nr_active_file",
  "nr_unevictable",
  "nr_slab_reclaimable",
  "nr_slab_unreclaimable",
  "nr_isolated_anon",
  "nr_isolated_file",
  "workingset_nodes",
  "workingset_refault_anon",
  "workingset_refault_file",
  "workingset_activate_anon",
  "workingset_activate_file",
  "workingset_restore_anon",
  "workingset_restore_file",
  "workingset_nodereclaim",
  "nr_anon_pages",
  "nr_mapped",
  "nr_file_pages",
  "nr_dirty",
  "nr_writeback",
  "nr_writeback_temp",
  "nr_shmem",
  "nr_shmem_hugepages",
  "nr_shmem_pmdmapped",
  "nr_file_hugepages",
  "nr_file_pmdmapped",
  "nr_anon_transparent_hugepages",
  "nr_vmscan_write",
  "nr_vmscan_immediate_reclaim",
  "nr_dirtied",
  "nr_written",
  "nr_throttled_written",
  "nr_kernel_misc_reclaimable",
  "nr_foll_pin_acquired",
  "nr_foll_pin_released",
  "nr_kernel_stack",
  "nr_page_table_pages",
  "nr_sec_page_table_pages",
  "nr_swapcached",
];
const NUMA_NODE_STATS_61 = ["pgpromote_success", "pgpromote_candidate"];
const ZONE_STATS_61 = [
  "nr_free_pages",
  "nr_zone_inactive_anon",
  "nr_zone_active_anon",
  "nr_zone_inactive_file",
  "nr_zone_active_file",
  "nr_zone_unevictable",
  "nr_zone_write_pending",
  "nr_mlock",
  "nr_bounce",
  "nr_zspages",
  "nr_free_cma",
];
const NUMA_EVENTS_61 = ["numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other"];
const ZONE_STATS_2632 = [
  "nr_free_pages",
  "nr_inactive_anon",
  "nr_active_anon",
  "nr_inactive_file",
  "nr_active_file",
  "nr_unevictable",
  "nr_mlock",
  "nr_anon_pages",
  "nr_mapped",
  "nr_file_pages",
  "nr_dirty",
  "nr_writeback",
  "nr_slab_reclaimable",
  "nr_slab_unreclaimable",
  "nr_page_table_pages",
  "nr_kernel_stack",
  "nr_unstable",
  "nr_bounce",
  "nr_vmscan_write",
  "nr_writeback_temp",
  "nr_isolated_anon",
  "nr_isolated_file",
  "nr_shmem",
];

const fls = (x: number) => (x === 0 ? 0 : 32 - Math.clz32(x));
const stat = (name: string, v: number) => `\n      ${name.padEnd(12)} ${v}`;

function render61(k: Kernel, meminfo: string): string {
  const pa = k.pages;
  const numa = k.profile.arch === "x86_64" || k.profile.arch === "arm64";
  // The node counters meminfo prints (kB there; pages here, but nr_kernel_stack, which the kernel counts in kB).
  const mi = new Map([...meminfo.matchAll(/^([\w()]+):\s+(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  const pg = (f: string) => Math.floor((mi.get(f) ?? 0) / 4);
  const nodeStat: Record<string, number> = {
    nr_inactive_anon: pg("Inactive(anon)"),
    nr_active_anon: pg("Active(anon)"),
    nr_inactive_file: pg("Inactive(file)"),
    nr_active_file: pg("Active(file)"),
    nr_slab_reclaimable: pg("SReclaimable"),
    nr_slab_unreclaimable: pg("SUnreclaim"),
    nr_anon_pages: pg("AnonPages"),
    nr_mapped: pg("Mapped"),
    nr_file_pages: pg("Cached") + pg("Buffers"),
    nr_shmem: pg("Shmem"),
    nr_kernel_stack: mi.get("KernelStack") ?? 0,
    nr_page_table_pages: pg("PageTables"),
  };
  const first = pa.zones.find((z) => z.present > 0);
  let out = "";
  for (const z of pa.zones) {
    out += `Node 0, zone ${z.name.padStart(8)}`;
    if (z === first) {
      out += "\n  per-node stats";
      const names = numa ? [...NODE_STATS_61, ...NUMA_NODE_STATS_61] : NODE_STATS_61;
      for (const n of names) out += stat(n, nodeStat[n] ?? 0);
    }
    out +=
      `\n  pages free     ${z.free}` +
      `\n        boost    0` +
      `\n        min      ${z.wmark[0]}` +
      `\n        low      ${z.wmark[1]}` +
      `\n        high     ${z.wmark[2]}` +
      `\n        spanned  ${z.spanned}` +
      `\n        present  ${z.present}` +
      `\n        managed  ${z.managed}` +
      `\n        cma      ${k.pages.cmaPages[z.idx] ?? 0}` +
      `\n        protection: (${z.lowmemReserve.join(", ")})`;
    if (z.present === 0) {
      out += "\n";
      continue;
    }
    for (const n of ZONE_STATS_61) out += stat(n, n === "nr_free_pages" ? z.free : n === "nr_free_cma" ? k.pages.zoneFreeCma(z.idx) : 0);
    if (numa) for (const n of NUMA_EVENTS_61) out += stat(n, 0);
    const threshold = Math.min(125, 2 * fls(k.profile.nrCpus) * (1 + fls(z.managed >> 15)));
    out += "\n  pagesets";
    for (const [cpu, p] of pa.pagesets(z.idx).entries()) {
      out += `\n    cpu: ${cpu}` + `\n              count: ${p.count}` + `\n              high:  ${p.high}` + `\n              batch: ${p.batch}`;
    }
    out += `\n  vm stats threshold: ${threshold}` + "\n  node_unreclaimable:  0" + `\n  start_pfn:           ${z.startPfn}\n`;
  }
  return out;
}

function render2632(k: Kernel): string {
  const pa = k.pages;
  let out = "";
  for (const z of pa.zones as Zone[]) {
    if (z.present === 0) continue;
    // zone->present_pages: realsize in these eras (mm/zone.ts presentPages)
    const present = presentPages(k.profile.era, z);
    out +=
      `Node 0, zone ${z.name.padStart(8)}` +
      `\n  pages free     ${z.free}` +
      `\n        min      ${z.wmark[0]}` +
      `\n        low      ${z.wmark[1]}` +
      `\n        high     ${z.wmark[2]}` +
      `\n        scanned  0` +
      `\n        spanned  ${z.spanned}` +
      `\n        present  ${present}`;
    for (const n of ZONE_STATS_2632) out += `\n    ${n.padEnd(12)} ${n === "nr_free_pages" ? z.free : 0}`;
    const gb = present >> 18;
    out += `\n        protection: (${z.lowmemReserve.join(", ")})` + "\n  pagesets";
    for (const [cpu, p] of pa.pagesets(z.idx).entries()) {
      out += `\n    cpu: ${cpu}` + `\n              count: ${p.count}` + `\n              high:  ${p.high}` + `\n              batch: ${p.batch}`;
    }
    out +=
      `\n  vm stats threshold: ${Math.min(125, 2 * fls(k.profile.nrCpus) * (1 + fls(present >> 15)))}` +
      "\n  all_unreclaimable: 0" +
      "\n  prev_priority:     12" +
      `\n  start_pfn:         ${z.startPfn}` +
      `\n  inactive_ratio:    ${gb ? int_sqrt(10 * gb) : 1}\n`;
  }
  return out;
}

/**
 * /proc/zoneinfo. `meminfo`: /proc/meminfo's text of this same state, when the caller has it already (the invariant
 * checker reads both, and nothing changes between): 6.1's node counters are read from it instead of rendering it again.
 */
export function renderZoneinfo(k: Kernel, meminfo?: string): string {
  return k.profile.era === "6.1" ? render61(k, meminfo ?? renderMeminfo(k)) : render2632(k);
}

registerProc("zoneinfo", (k) => renderZoneinfo(k));
