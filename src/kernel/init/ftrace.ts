// Models kernel/trace/ftrace.c ftrace_init() of Linux 6.1 (CONFIG_DYNAMIC_FTRACE, Debian's distro builds): right
// after mm_init(), start_kernel() hands the build's mcount locations (__start_mcount_loc..__stop_mcount_loc, one per
// traceable function) to ftrace_process_locs(), whose ftrace_allocate_pages() stores one struct dyn_ftrace record per
// location in groups of pages taken straight from the page allocator, and prints
//   "ftrace: allocating %ld entries in %ld pages" and "ftrace: allocated %ld pages with %ld groups".
//
// ftrace_allocate_records(), per group: pages = DIV_ROUND_UP(count, ENTRIES_PER_PAGE); order = fls(pages) - 1 (the
// largest power of two that the remaining records fill, so no page of a group stays empty but the last one's tail);
// __get_free_pages(GFP_KERNEL | __GFP_ZERO, order); a failure retries one order lower. ENTRIES_PER_PAGE is
// PAGE_SIZE / sizeof(struct dyn_ftrace): { unsigned long ip; unsigned long flags; struct dyn_arch_ftrace arch; },
// whose arch part is empty on x86 and holds a struct module pointer on ARM (CONFIG_ARM_MODULE_PLTS, set in armmp):
// 16 bytes on x86_64, 8 on i386, 12 on armhf. So the three real boots print 40521 entries in 159 pages with 6 groups
// (amd64), 36953 in 73 with 3 (686), 39757 in 117 with 5 (armmp).
//
// The pages are counted in no /proc/meminfo field: they are part of what the boot takes from MemFree. They are held
// for good (the records of the traceable functions live as long as the kernel).
//
// The entry count is a property of the build (how many functions the compiler gave an __fentry__/mcount call), not
// of the machine: it is the real builds' number, per profile. The 686-pae flavour (no transcript) is given the 686
// build's count; arm64 has no transcript either, and no ftrace pages here. The debug kernel (the custom build of the
// debug transcript) has no CONFIG_FUNCTION_TRACER and prints no ftrace line; the 2.6 and 3.4 eras are not modelled.
// Simplification: ftrace_free_init_mem() (kernel_init, before free_initmem) drops the records of __init functions
// and frees a group whose records are all gone; how many of the records are __init functions is not in the
// transcripts, so every group is kept (it could free at most the last, smallest groups: 7 of amd64's 159 pages
// unless more than 1609 of its 40521 functions were __init). What that call leaves in the slab allocator is modelled:
// one struct ftrace_init_func per __init record, all kfree'd, whose empty slabs SLUB keeps up to min_partial
// (mm/slab_boot.ts bootBurstClasses: x86_64's kmalloc-32 and i386's kmalloc-16 show them).

import type { Kernel } from "../kernel.ts";
import { KERN_INFO, KERN_WARNING } from "../kernel/printk.ts";
import { gfp } from "../gfp.ts";
import { PageOwner } from "../mm/page_flags.ts";

const PAGE = 4096;

/** __stop_mcount_loc - __start_mcount_loc of the real distro builds ("ftrace: allocating N entries"). */
const MCOUNT_ENTRIES: Partial<Record<string, number>> = {
  "x86_64-6.1": 40521, // 6.1.0-56-amd64, x86_64-512M-nokaslr.log
  "x86_64-6.1-la57": 40521, // the same amd64 build
  "i386-6.1": 36953, // 6.1.0-50-686, i386-1G.log
  "i386-6.1-pae": 36953, // no transcript of the 686-pae build: the 686 build's count
  "arm-6.1-virt": 39757, // 6.1.0-50-armmp, armhf-virt-1G.log
};

/** sizeof(struct dyn_ftrace) on the architecture (see the header). */
function dynFtraceSize(arch: string): number {
  if (arch === "x86_64" || arch === "arm64") return 16;
  return arch === "arm" ? 12 : 8;
}

/** ftrace_init(): the dyn_ftrace record pages and the two lines. Nothing on builds without the function tracer. */
export function ftrace_init(k: Kernel): void {
  if (k.profile.era !== "6.1" || k.opts.config !== "distro") return;
  const entries = MCOUNT_ENTRIES[k.profile.name];
  if (!entries) return;
  const perPage = Math.floor(PAGE / dynFtraceSize(k.profile.arch));
  const wanted = Math.ceil(entries / perPage);
  k.printk(KERN_INFO + "ftrace: allocating %ld entries in %ld pages\n", entries, wanted);
  const mask = gfp("6.1", "GFP_KERNEL") | gfp("6.1", "__GFP_ZERO") | gfp("6.1", "__GFP_NOWARN");
  const held: [number, number][] = [];
  let left = entries;
  while (left > 0) {
    let order = 31 - Math.clz32(Math.ceil(left / perPage)); // fls(pages) - 1
    let pfn = k.pages.alloc_pages(mask, order, PageOwner.Kernel, "ftrace_process_locs");
    while (pfn < 0 && order > 0) pfn = k.pages.alloc_pages(mask, --order, PageOwner.Kernel, "ftrace_process_locs");
    if (pfn < 0) {
      // ftrace_allocate_pages() gives every group back; ftrace_init() warns and leaves ftrace disabled
      for (const [p, o] of held) k.pages.__free_pages(p, o);
      k.printk(KERN_WARNING + "ftrace: failed to allocate entries\n");
      return;
    }
    held.push([pfn, order]);
    left -= Math.min(left, perPage << order);
  }
  const pages = held.reduce((a, [, o]) => a + (1 << o), 0);
  const groups = held.length;
  k.printk(KERN_INFO + "ftrace: allocated %ld pages with %ld groups\n", pages, groups);
}
