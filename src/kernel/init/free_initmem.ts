// Models the frees of boot memory that Linux 6.1 makes between mem_init() and running /init, each handing reserved
// frames to the buddy allocator (free_reserved_area: managed pages, totalram_pages and MemTotal grow), in the
// kernel's order:
//   start_kernel  alternative_instructions(): "Freeing SMP alternatives memory: %luK" (x86, one possible CPU: the
//                 .smp_locks section right after __init_end is not needed on a uniprocessor)
//   core_initcall cma_init_reserved_areas(): the CMA area goes to the buddy allocator as MIGRATE_CMA (ARM), silently
//   postcore      init_per_zone_wmark_min(): the watermarks from the managed pages at this point
//   subsys        hugepage_init() -> start_stop_khugepaged(): set_recommended_min_free_kbytes() where THP is on
//                 (mm/page_alloc.ts thpAlways), on the managed pages before the initrd and __init are freed
//   rootfs        populate_rootfs(): the initramfs unpacked into the rootfs' page cache (init/userspace.ts
//                 unpack_initramfs), then "Freeing initrd memory: %luK"
//   kernel_init   x86_64: mem_encrypt_free_decrypted_mem() "Freeing unused decrypted memory: %luK", then
//                 free_initmem() "Freeing unused kernel image (initmem) memory: %luK", mark_rodata_ro() "Write
//                 protecting the kernel read-only data: %luk" and the two alignment gaps of the image ("(text/rodata
//                 gap)", "(rodata/data gap)"), debug_checkwx() "x86/mm: Checked W+X mappings: passed, no W+X pages
//                 found."; i386: initmem, "Write protecting kernel text and read-only data: %luk"; ARM: initmem,
//                 "Checked W+X mappings: passed, no W+X pages found"; arm64: "Freeing unused kernel memory: %luK".
// Every size comes from the image's sections (arch/*: the real builds' layout) and the reservations; two are
// properties of the build the simulator has no section for, taken from the real builds: the .smp_locks section
// (36K amd64, 32K 686) and the used part of x86_64's .bss..decrypted (12K of its 2 MiB).
// x86 free_init_pages() and mark_rodata_ro() change page attributes as they go (set_memory_nx/rw/ro through
// PageTables.changeAttr, with the direct-map alias where the kernel processes it), splitting the large pages a change
// covers in part: that is what leaves /proc/meminfo's DirectMap4k above the boot's own 4 KiB mappings (x86_64: the
// decrypted range, initmem's two ends, _etext, and the two gaps in both mappings; i386: the 4 MiB page holding
// __end_rodata).
// Simplification: the 2.6 and 3.4 eras keep their boot values (their messages and order differ); the frees'
// physical pages are returned in address order, one page at a time (free_reserved_page), with no poisoning.

import type { Kernel } from "../kernel.ts";
import { KERN_INFO } from "../kernel/printk.ts";

const PAGE = 4096;
const MiB = 1 << 20;
const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;

function section(k: Kernel, name: string): [number, number] | undefined {
  const s = k.layout.image.find((i) => i.name === name);
  return s ? [s.phys, s.phys + Number(s.end - s.start)] : undefined;
}

/** The kernel-image virtual address of a physical one (x86_64's high mapping, or lowmem on 32-bit). */
function imageVirt(k: Kernel, phys: number): bigint {
  const t = k.layout.image.find((i) => i.name === ".text")!;
  return t.start + BigInt(phys - t.phys);
}

/** x86 free_init_pages(): set_memory_nx() (no alias), set_memory_rw() (with alias), then the frees. */
function freeInitPages(k: Kernel, what: string, start: number, end: number): void {
  if (end > start) {
    const v = imageVirt(k, start);
    const n = Math.ceil((end - start) / PAGE);
    k.pgtable.changeAttr(v, n, { nx: true });
    k.pgtable.changeAttr(v, n, { rw: true }, true);
  }
  freeing(k, what, start, end);
}

function freeing(k: Kernel, what: string, start: number, end: number): void {
  if (end <= start) return;
  const pages = k.pages.free_reserved_area(start, end);
  k.printk(KERN_INFO + "Freeing %s memory: %ldK\n", what, (pages * PAGE) >> 10);
}

/** start_kernel and the core initcalls: SMP alternatives, CMA, then init_per_zone_wmark_min(). */
export function early_boot_frees(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  const arch = k.profile.arch;
  const init = section(k, ".init");
  if ((arch === "x86_64" || arch === "i386") && k.profile.nrCpus === 1 && init) {
    const size = arch === "x86_64" ? 36 * 1024 : 32 * 1024;
    freeing(k, "SMP alternatives", init[1], init[1] + size);
  }
  // cma_init_reserved_areas(): MIGRATE_CMA pageblocks (CONFIG_CMA), else a plain free
  for (const r of k.layout.reservations)
    if (/\bcma\b/.test(r.what)) {
      if (k.pages.hasCma) k.pages.init_cma_reserved_area(r.start, r.end);
      else k.pages.free_reserved_area(r.start, r.end);
    }
  k.pages.init_per_zone_wmark_min(false);
}

/** The end of populate_rootfs() (rootfs_initcall): the initrd, unpacked (init/userspace.ts unpack_initramfs), is freed. */
export function free_initrd(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  const initrd = k.layout.reservations.find((r) => r.what === "initrd");
  if (initrd) freeing(k, "initrd", initrd.start, alignUp(initrd.end, PAGE));
}

/**
 * subsys_initcall hugepage_init() -> start_stop_khugepaged() -> set_recommended_min_free_kbytes() where THP is on:
 * its clamp (5 % of nr_free_buffer_pages(), the managed lowmem above the high watermarks) reads the managed pages
 * of this point, before populate_rootfs() frees the initrd and kernel_init() the __init memory.
 */
export function khugepaged_min_free_kbytes(k: Kernel): void {
  if (k.profile.era !== "6.1" || !k.pages.thpAlways()) return;
  // the base stays the postcore one (pages.baseMinFreeKbytes): khugepaged compares its recommendation with it
  k.pages.init_per_zone_wmark_min(true, k.pages.baseMinFreeKbytes);
}

/** kernel_init's frees before /init runs. */
export function late_boot_frees(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  const arch = k.profile.arch;
  const text = section(k, ".text");
  const rodata = section(k, ".rodata");
  const data = section(k, ".data");
  const init = section(k, ".init");
  const bss = section(k, ".bss");
  if (!text || !rodata || !data || !init) return;
  if (arch === "x86_64") {
    // .bss..decrypted: PMD-aligned after .smp_locks and .data_nosave, its first pages used, the rest freed
    const smpEnd = init[1] + 36 * 1024;
    const dec = alignUp(smpEnd, 2 * MiB);
    if (bss && dec + 2 * MiB <= bss[0]) freeInitPages(k, "unused decrypted", dec + 12 * 1024, dec + 2 * MiB);
    freeInitPages(k, "unused kernel image (initmem)", init[0], init[1]);
    // mark_rodata_ro(): [_text, __end_rodata_hpage_align) read-only (with its alias), then NX from _etext to the
    // 2 MiB-rounded _brk_end (the kernel mapping only).
    const roEnd = alignUp(rodata[1], 2 * MiB);
    k.pgtable.changeAttr(imageVirt(k, text[0]), (roEnd - text[0]) / PAGE, { rw: false }, true);
    const brkEnd = bss ? alignUp(bss[1], 2 * MiB) : roEnd;
    k.pgtable.changeAttr(imageVirt(k, alignUp(text[1], PAGE)), (brkEnd - alignUp(text[1], PAGE)) / PAGE, { nx: true });
    k.printk(KERN_INFO + "Write protecting the kernel read-only data: %luk\n", (roEnd - text[0]) >> 10);
    freeInitPages(k, "unused kernel image (text/rodata gap)", alignUp(text[1], PAGE), rodata[0]);
    freeInitPages(k, "unused kernel image (rodata/data gap)", alignUp(rodata[1], PAGE), data[0]);
    k.printk(KERN_INFO + "x86/mm: Checked W+X mappings: passed, no W+X pages found.\n");
  } else if (arch === "i386") {
    freeInitPages(k, "unused kernel image (initmem)", init[0], init[1]);
    // mark_rodata_ro(): set_pages_ro() on [_text, __end_rodata) in lowmem (one mapping on 32-bit).
    k.pgtable.changeAttr(imageVirt(k, text[0]), Math.ceil((rodata[1] - text[0]) / PAGE), { rw: false });
    k.printk(KERN_INFO + "Write protecting kernel text and read-only data: %luk\n", (rodata[1] - text[0]) >> 10);
  } else if (arch === "arm") {
    freeing(k, "unused kernel image (initmem)", init[0], init[1]);
    k.printk(KERN_INFO + "Checked W+X mappings: passed, no W+X pages found\n");
  } else {
    freeing(k, "unused kernel", init[0], init[1]);
  }
}
