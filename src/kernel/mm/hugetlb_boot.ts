// Models mm/hugetlb.c hugetlb_init() -> report_hugepages() of Linux 6.1 (subsys_initcall) on the x86 profiles: one
// hstate per huge page size the CPU and the page tables give, each reported with its two lines:
//   "HugeTLB: registered %s page size, pre-allocated %ld pages"   (string_get_size(): "2.00 MiB", "1.00 GiB")
//   "HugeTLB: %d KiB vmemmap can be freed for a %s page"          (hugetlb_vmemmap_optimizable_size() / SZ_1K)
// Sizes: the PMD size (x86_64 and PAE 2 MiB, non-PAE i386 4 MiB: HPAGE_SHIFT = PMD_SHIFT / PGDIR_SHIFT 22), the
// default hstate hugetlb_init() adds; x86_64 with GBPAGES (QEMU -cpu max, the la57 profile's CPU; not the default
// qemu64 of the 512M boot) first adds the 1 GiB one (gigantic_pages_init(), an arch_initcall), reported first.
// vmemmap: CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP is x86_64-only (it needs SPARSEMEM_VMEMMAP): the huge page's struct
// pages (64 bytes each) less the one page HugeTLB Vmemmap Optimization keeps (HUGETLB_VMEMMAP_RESERVE_SIZE); 0 on
// i386. The real boots: x86_64 "registered 2.00 MiB ... 28 KiB vmemmap", i386 "registered 4.00 MiB ... 0 KiB".
// armmp (no LPAE) has no hugetlbfs; arm64 (several contiguous-bit sizes, no reference boot) is not modelled.

import type { Kernel } from "../kernel.ts";
import { KERN_INFO } from "../kernel/printk.ts";

const STRUCT_PAGE_X86_64 = 64;

/** string_get_size(size, 1, STRING_UNITS_2): the sizes here are exact powers of two, so "%u.00 %s". */
function sizeString(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) {
    bytes /= 1024;
    i++;
  }
  return `${bytes.toFixed(2)} ${units[i]}`;
}

/** The huge page sizes (bytes) of the boot's hstates, in registration order; empty where there is no hugetlbfs. */
export function hugePageSizes(k: Kernel): number[] {
  const p = k.profile;
  if (p.era !== "6.1") return [];
  if (p.arch === "x86_64") return p.cpuLa57 === true ? [2 ** 30, 2 ** 21] : [2 ** 21];
  if (p.arch === "i386") return [p.pae ? 2 ** 21 : 2 ** 22];
  return [];
}

/** hugetlb_init()'s report (subsys_initcall). */
export function hugetlb_init(k: Kernel): void {
  for (const size of hugePageSizes(k)) {
    const s = sizeString(size);
    k.printk(KERN_INFO + "HugeTLB: registered %s page size, pre-allocated %ld pages\n", s, 0);
    const vmemmap = k.profile.arch === "x86_64" ? Math.max(0, ((size / 4096) * STRUCT_PAGE_X86_64) / 1024 - 4) : 0;
    k.printk(KERN_INFO + "HugeTLB: %d KiB vmemmap can be freed for a %s page\n", vmemmap, s);
  }
}
