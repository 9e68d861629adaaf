// Models the vmalloc-area state a real Linux machine has when boot finishes (Linux 6.1 Debian kernels, the Android
// 3.4 msm8x25 phone, a 2.6.26 PC): the calls that early boot, the drivers and the first processes make to
// vmalloc/ioremap/vmap/get_vm_area, replayed through the simulator's own allocator in a deterministic order.
//
// Nothing here is pasted output: each step is an allocation (or a free) with the caller the real kernel records,
// and the addresses, holes, guard pages, nested page arrays ("vpages") and unpurged ranges are what the allocator
// makes of them. Sources:
// - x86_64-6.1, i386-6.1, arm-6.1-virt: the /proc/vmallocinfo dumps of the real Debian boots in
//   test/fixtures/real-kernel (the replay follows their order; exited tasks free their stacks, and x86_64's crypto
//   self-test frees its scomp scratch buffers, which leaves the holes and lazily freed ranges the dumps show).
//   Physical addresses of the ACPI tables follow the RAM size (QEMU puts them in the last 128 KiB below the top of
//   RAM).
// - arm64-6.1: no transcript; the same kinds of entries as arm-6.1-virt on QEMU virt (GIC, UART, stacks, bpf).
// - arm-3.4-msm8x25: the seed's /proc/vmallocinfo excerpt (test/fixtures/seeds/msm8x25-vmallocinfo.txt) is reproduced
//   line for line at its addresses: the MSM8625 static iotable_init mappings (arch/arm/mach-msm/io.c msm8625_io_desc,
//   virtual bases 0xfa000000-0xfb600000), the pmd_empty_section_gap areas fill_pmd_gaps() derives from them, the
//   percpu chunk at the top (0xfefdc000-0xff000000), then the driver ioremaps, and Android's processes: a binder_mmap
//   area each (get_vm_area(1 MiB - 8 KiB, VM_IOREMAP): 1 MiB aligned on 3.4 ARM) and kgsl_page_alloc_map_kernel maps
//   for those that use the GPU (vmap(64 pages, VM_IOREMAP): 512 KiB aligned), some of which die again. Where the
//   excerpt elides lines ("…"), the areas are a plausible reconstruction, not the phone's: which drivers ran and
//   which apps lived is not known. The largest hole left is 0xfb600000-0xfefdc000 (57.9 MB): a 56 MB vmalloc fits,
//   a 64 MB one does not, while VmallocUsed (3.4: VA in use) leaves far more than 64 MB unaccounted.
//   Simplification: 3.4's alloc_vmap_area searched from a cached position (free_vmap_cache); the replay uses the
//   lowest fit, and one explicit purge stands for the lazy purges the apps' exits trigger.
// - i386-2.6 (2.6.26, 160 MB): the modules a Debian lenny PC loads at boot (they live in the vmalloc area on x86_32)
//   and a few driver ioremaps: about 3 MB in use below the demo's vmalloc(1000000), which lands near 3G+171M.

import { KernelBootError, type Kernel } from "../kernel.ts";
import { PageOwner } from "./page_flags.ts";
import { threadSize } from "./slab_boot.ts";
import { allocBootStack } from "../init/boot_tasks.ts";
import { Kasan } from "../debug/kasan.ts";
import { VM_ALLOC, VM_ARM_STATIC_MAPPING, VM_DMA_COHERENT, VM_IOREMAP, VM_MAP, type Vmalloc } from "./vmalloc.ts";
import { ARM_COHERENT_POOL, armCoherentPoolCma } from "../kernel/dma_pool.ts";

const KiB = 1024;
const MiB = 1024 * 1024;
const PAGE = 4096;

type Step =
  | { op: "vmalloc"; size: number; caller: string; align?: number; tag?: string }
  | { op: "stack"; caller: string; tag?: string }
  | { op: "ioremap"; phys: number; size: number; caller: string; tag?: string }
  | { op: "area"; size: number; caller: string; tag: string }
  | { op: "vmap"; pages: number; flags: number; caller: string; tag?: string; irqStack?: true; cma?: true }
  | { op: "static"; virt: number; phys: number; size: number; caller: string; map: boolean }
  | { op: "pcpu"; size: number; align: number; caller: string }
  | { op: "pmdgaps"; caller: string }
  | { op: "module"; size: number; caller: string; tag?: string }
  | { op: "free"; tag: string }
  | { op: "purge" }
  | { op: "initLate" }
  | { op: "afterInitcalls" }
  | { op: "burst"; caches: readonly string[] };

const rep = <T>(n: number, f: (i: number) => T[]): T[] => Array.from({ length: n }, (_, i) => f(i)).flat();

/** Top of usable RAM below 4 GiB (QEMU pc puts the ACPI tables in its last 128 KiB). */
function ramTopBelow4G(k: Kernel): number {
  let top = 0;
  for (const e of k.layout.memMap) if (e.type === "usable" && e.end <= 2 ** 32) top = Math.max(top, e.end);
  return top;
}

// tracer_init_tracefs() (fs_initcall) queues the work that creates every trace event's tracefs directory and files
// (event_trace_init(): enable, filter, format, id, trigger...): about eight thousand dentries and inodes (inode_cache:
// tracefs has no inode cache of its own) with their LSM blobs at once, most of the boot's dentry and inode_cache
// objects and the bulk of its Reclaimable slabs (SlabAllocator.bootSlabBurst). Spread at the boot's even pace instead,
// those slabs' last pageblock steal came after the last Unmovable one, where the real boot's came before: the
// module's first page lay 1067 pages below the real 512M boot's (now 47). (trace_init()'s trace_event_file and
// ftrace_event_field objects, made in start_kernel before init_IRQ(), would be a burst of their own; as the first
// step it moved the module's kmalloc(100) from 1.65 to 0.39 MiB below its first page, the real 1.31, through the
// boot's other, even-paced slabs: left at the even pace.)
const TRACEFS_CACHES = ["dentry", "inode_cache", "lsm_inode_cache"] as const;

function x86_64Steps(k: Kernel): Step[] {
  const acpi = ramTopBelow4G(k);
  const S = (tag?: string): Step => ({ op: "stack", caller: "kernel_clone+0xbf/0x430", tag });
  const gp: Step = { op: "vmalloc", size: PAGE, caller: "gen_pool_add_owner+0x3a/0xc0" };
  return [
    { op: "vmap", pages: 4, flags: VM_MAP, caller: "irq_init_percpu_irqstack+0xf0/0x120", irqStack: true },
    { op: "ioremap", phys: acpi + 0x1000, size: PAGE, caller: "acpi_os_map_iomem+0x1b6/0x1d0" },
    { op: "ioremap", phys: acpi, size: 2 * PAGE, caller: "acpi_os_map_iomem+0x1b6/0x1d0" },
    { op: "ioremap", phys: 0xfed00000, size: PAGE, caller: "hpet_enable+0xef/0x46d" },
    gp,
    S(),
    { op: "vmalloc", size: PAGE, caller: "bpf_prog_alloc_no_stats+0x31/0x1f0" },
    S(),
    gp,
    S(),
    gp,
    S(),
    gp,
    S(),
    { op: "ioremap", phys: 0xfed00000, size: PAGE, caller: "acpi_os_map_iomem+0x1b6/0x1d0" },
    S(),
    { op: "ioremap", phys: 0xf5000, size: PAGE, caller: "memremap+0x159/0x210" },
    S(),
    ...rep(11, () => [S()]),
    // kernel_init_freeable() -> page_alloc_init_late(): the pgdatinit kthread frees the deferred struct pages
    // (x86_64's DEFERRED_STRUCT_PAGE_INIT, mm/page_alloc.c), after the tasks made before it: PID 1 and kthreadd
    // (rest_init), workqueue_init()'s rescuers and first workers, rcu_init_tasks_generic()'s three threads, the
    // early_initcalls' (ksoftirqd, rcu_preempt, migration, idle_inject) and smp_init()'s cpuhp: 18 stacks, above;
    // kdevtmpfs (do_basic_setup()) is the first after it. Its log line is printed where the log has it (kernel.ts).
    { op: "initLate" },
    ...rep(17, () => [S()]),
    // fs_initcall: tracefs's event files (TRACEFS_CACHES), with the kthreads up to subsys_initcall above (the place
    // between the pre-SMP tasks and the crypto self-tests changes the 512M boot's first page by 4 pages at most)
    { op: "burst", caches: TRACEFS_CACHES },
    // The first dynamic percpu chunk: its metadata, then 4 MiB of pages whose page array (8 KiB) is itself vmalloc'ed.
    { op: "vmalloc", size: 16 * PAGE, caller: "pcpu_create_chunk+0x4e/0x1b0" },
    { op: "vmalloc", size: 17 * PAGE, caller: "pcpu_create_chunk+0x75/0x1b0" },
    { op: "vmalloc", size: 4 * PAGE, caller: "pcpu_create_chunk+0x92/0x1b0" },
    { op: "vmalloc", size: 4 * MiB, caller: "pcpu_create_chunk+0x167/0x1b0" },
    ...rep(8, () => [S()]),
    S("exit1"),
    S(),
    S(),
    { op: "free", tag: "exit1" },
    // The first BPF JIT (sock_init's PTP classifier, core_initcall) takes bpf_prog_pack's 2 MiB of modules area and
    // its 512 pages: before the crypto self-tests free their scratch pages, as in the real boot. (Not at
    // core_initcall itself: this replay's early frontier lies right after the kernel image, page_alloc.ts's header
    // says why, and the pack's alias would share the image's split 2 MiB page; the real DirectMap4k says it did not.)
    { op: "module", size: 2 * MiB, caller: "bpf_prog_pack_alloc+0x292/0x3b0" },
    // crypto/scompress.c: the first scomp tfm (the lzo self-test's) allocates the per-CPU scratch pair
    // (crypto_scomp_alloc_scratches: a 128 KiB vmalloc_node for src and dst), and freeing the last one frees them
    // (scomp_scratch_users back to 0: crypto_scomp_free_scratches); zswap's tfm (late_initcall) allocates a new pair
    // above the lazily freed one: the real dump's 66-page hole below the crypto lines (two 32-page areas and guards).
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x75/0xe0", tag: "scratch-src" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x93/0xe0", tag: "scratch-dst" },
    { op: "free", tag: "scratch-src" },
    { op: "free", tag: "scratch-dst" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x75/0xe0" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x93/0xe0" },
    S(),
    S(),
    // console_on_rootfs(): the real n_tty_open area sits 711 pages higher (0xffffc90000900000 in the 512M
    // transcript), above a 711-page range that was live or lazily freed then and purged before the dump. What the
    // transcripts say about it:
    // - it is x86's: i386's dump has the same 711-page range right below its n_tty_open area, armmp's none, though
    //   ARM's set_memory_*() never purge (its dump keeps four "unpurged vm_area" lines, the crypto pair's among them),
    //   so a range ARM had freed would show there; x86's are purged by mark_rodata_ro()'s set_memory_ro(), after
    //   console_on_rootfs();
    // - it starts right after the last area, at 0x639000 (i386: 0xf7493000), not even 8 KiB aligned, so its first
    //   area was no ioremap (VM_IOREMAP aligns on the size's order) but a vmalloc or vmap, with pages: up to 710 of
    //   them (one area and its guard page, or less if several), freed again before the dump;
    // - it came after zswap's scratch pair (late_initcall) and the two stacks above it, and its size is the same on
    //   32- and 64-bit kernels and at 512 MiB and 1 GiB: no pointer array and nothing sized by RAM;
    // - its caller is not in the transcripts (nothing of it is left to print).
    // It is replayed as address space only (a 710-page area, as a vmap() of pages that exist elsewhere would take),
    // lazily freed before console_on_rootfs() and purged with the others below: the dump is then the real one line
    // for line (n_tty_open at 0x900000), and a module's .ko copy later takes the range's bottom, as the real insmod's
    // did (the copy at 0x639000, memdemo's vmalloc above it at 0x693000). Replaying it as a 710-page vmalloc with
    // pages would make the dump the same, but the pages matter:
    // vfree() puts them on the Unmovable per-CPU list in the order they were allocated (the last at the head), the
    // boot's later order-0 allocations walk down that stack, and at 1 GiB and more (high 13857+, no drain) they all
    // stay there, so the module's kmalloc-128 slab and its first page both come from it: kmalloc(100)'s distance below
    // the first page went 1.15 / 1.31 / 1.93 / 2.68 / 2.90 MiB -> 0.79 / 0.73 / -2.80 / 0.36 / 3.24 at 256M / 512M /
    // 1G / 2G / 4G (0.88 / 0.39 / -2.76 / -2.81 / 0.48 without the slab replay's extra ticks), against the real 1.31
    // at 512M. Which pages it took, and when it freed them, decides where the boot's last slabs lie; not knowing what
    // it was, the replay takes no pages for it (the caller below is a placeholder: nothing of it is printed).
    { op: "area", size: 710 * PAGE, caller: "__get_vm_area_caller", tag: "x86-711" },
    { op: "free", tag: "x86-711" },
    { op: "vmalloc", size: 3 * PAGE, caller: "n_tty_open+0x14/0xa0" },
    { op: "pcpu", size: 2 * MiB, align: 2 * MiB, caller: "pcpu_get_vm_areas+0x0/0x1080" },
    // x86's set_memory_*() (bpf_prog_pack's set_memory_rox, mark_rodata_ro, free_init_pages) flush the lazily
    // freed vmap areas through vm_unmap_aliases() before changing page attributes: the real boot shows no
    // "unpurged vm_area" line (ARM, whose set_memory_* does not, keeps them).
    { op: "purge" },
  ];
}

function i386_61Steps(k: Kernel): Step[] {
  const acpi = ramTopBelow4G(k);
  // The kernel threads start at the same initcalls as x86_64's (whose vmallocinfo shows their stacks in order); with
  // no VMAP_STACK their stacks come from the page allocator and leave no line here (init/boot_tasks.ts).
  const S: Step = { op: "stack", caller: "kernel_clone" };
  return [
    { op: "ioremap", phys: acpi + 0x1000, size: PAGE, caller: "acpi_os_map_iomem+0x211/0x240" },
    { op: "ioremap", phys: acpi, size: 2 * PAGE, caller: "acpi_os_map_iomem+0x211/0x240" },
    { op: "ioremap", phys: 0xfed00000, size: PAGE, caller: "hpet_enable+0xc5/0x3da" },
    S,
    { op: "vmalloc", size: PAGE, caller: "bpf_prog_alloc_no_stats+0x2b/0x1b0" },
    ...rep(4, () => [S]),
    { op: "ioremap", phys: 0xfed00000, size: PAGE, caller: "acpi_os_map_iomem+0x211/0x240" },
    S,
    { op: "ioremap", phys: 0xf5000, size: PAGE, caller: "memremap+0xa9/0x170" },
    ...rep(29, () => [S]),
    // fs_initcall: tracefs's event files, after as many kthreads as x86_64Steps puts before them
    { op: "burst", caches: TRACEFS_CACHES },
    ...rep(7, () => [S]),
    // Ranges freed again before the dump (their callers are not printed; the names below are placeholders). The
    // 70-page hole below the crypto lines: the crypto self-test's scratch pair (2 x 33 pages, x86_64Steps) and a
    // 4-page range like armmp's two 16 KiB unpurged areas, replayed as one area. (Not early user space: the
    // initramfs is busybox, /init loads no module, and all of this precedes console_on_rootfs().)
    { op: "vmalloc", size: 69 * PAGE, caller: "load_module+0x1b0b/0x1d20", tag: "initrd-mod" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x65/0xb0" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x78/0xb0" },
    // The 711-page range below n_tty_open that x86_64Steps describes, address space only as there: had it held
    // HighMem pages freed before the dump, the real pagetypeinfo would show them. Its HighMem Unmovable lists read
    // orders 1, 2, 3, 5, 6, 8 and 9 once each: one pageblock whose first 148 frames are out of the buddy lists (the
    // live bpf, crypto and n_tty pages, 68, and the per-CPU list's content), the rest free. 710 pages freed there
    // would have left a per-CPU list of hundreds (high 506: nr_pcp_free()'s saw-tooth stops at 282 or more) and
    // their merged remainder in the buddy lists.
    { op: "area", size: 710 * PAGE, caller: "__get_vm_area_caller", tag: "initrd-mod2" },
    { op: "vmalloc", size: 3 * PAGE, caller: "n_tty_open+0x16/0x90" },
    // The frees come after the initcalls (the ranges' last allocation followed zswap's late_initcall), so they go to
    // per-CPU lists whose high follows the watermarks (init_per_zone_wmark_min's zone_pcp_update(), then
    // khugepaged's): HighMem's 506, where the 69 pages stay on the list, most recently freed first. A module's .ko
    // copy takes them from there (descending), and its vfree() puts them back in the copy's page order, so the
    // module's own vmalloc gets them ascending, as the real memdemo's 245 pages are. At the boot pageset's high (4 x
    // batch, 28) the frees went back to the buddy lists in fragments instead.
    { op: "afterInitcalls" },
    { op: "free", tag: "initrd-mod" },
    { op: "free", tag: "initrd-mod2" },
    { op: "purge" },
  ];
}

function arm61Steps(_k: Kernel): Step[] {
  const S = (): Step => ({ op: "stack", caller: "kernel_clone+0xac/0x3c4" });
  // The real dump's order. Its 45 stacks are the 44 tasks KernelStack counts and one exited task's stack that
  // free_thread_stack() kept in the per-CPU cache (NR_CACHED_STACKS) with its vm area (x86_64: 47 for 46). Four areas
  // were vfree'd before the dump ("unpurged vm_area": 3, 3, 1 and 65 pages, guard included 16, 16, 8 and 264 KiB):
  // the 65-page one is where x86_64's crypto self-test scratch pair lies (x86_64Steps): two 32-page areas whose
  // lazily freed ranges merge on the purge list into one of 66 pages with the guards; replayed as one area, as the
  // replay's step count paces the boot's slab objects (a change of it moves every later allocation). The others'
  // callers are not in the log, only that they are not stacks (a stack would sit on a 16 KiB THREAD_ALIGN).
  const freed = (tag: string, pages: number): Step => ({ op: "vmalloc", size: pages * PAGE, tag, caller: "kernel_clone+0xac/0x3c4" });
  return [
    { op: "static", virt: 0xfee00000, phys: 0, size: 2 * MiB, caller: "pci_reserve_io+0x0/0x38", map: false },
    { op: "vmalloc", size: 2 * PAGE, caller: "start_kernel+0x550/0x748" },
    { op: "ioremap", phys: 0x08020000, size: PAGE, caller: "gicv2m_init+0x198/0x4c4" },
    freed("t0", 3),
    { op: "vmalloc", size: PAGE, caller: "bpf_prog_alloc_no_stats+0x34/0x1b0" },
    S(),
    { op: "ioremap", phys: 0x08000000, size: 0x10000, caller: "gic_of_setup+0x38/0xf8" },
    { op: "vmalloc", size: PAGE, caller: "gen_pool_add_owner+0x34/0xbc" },
    S(),
    S(),
    freed("t1", 3),
    { op: "ioremap", phys: 0x08010000, size: 0x10000, caller: "gic_of_setup+0x50/0xf8" },
    freed("t3", 1),
    ...rep(16, () => [S()]),
    { op: "vmap", pages: ARM_COHERENT_POOL / PAGE, flags: VM_DMA_COHERENT, caller: "dma_common_contiguous_remap+0x74/0x90", cma: true },
    S(),
    // fs_initcall (tracefs's event files): after the postcore atomic pool, before the device_initcalls' probes
    { op: "burst", caches: TRACEFS_CACHES },
    { op: "ioremap", phys: 0x09000000, size: PAGE, caller: "__devm_ioremap_resource+0x168/0x1dc" },
    { op: "ioremap", phys: 0x09030000, size: PAGE, caller: "__devm_ioremap_resource+0x168/0x1dc" },
    ...rep(12, () => [S()]),
    { op: "vmalloc", size: 18 * PAGE, caller: "pcpu_create_chunk+0x16c/0x1ac" },
    { op: "ioremap", phys: 0x09010000, size: PAGE, caller: "devm_ioremap+0x4c/0x88" },
    ...rep(11, () => [S()]),
    freed("t2", 65),
    // the crypto self-test's scratch pair goes when its last scomp tfm does (crypto_scomp_free_scratches), before
    // zswap's (late_initcall) allocates the new pair: its pages, on the Unmovable per-CPU list, are the ones the new
    // pair takes (x86_64Steps frees its scratch pair at the same point). Its range stays an unpurged area (ARM's
    // set_memory_*() never purge).
    { op: "free", tag: "t2" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0xb4/0xd8" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x70/0xd8" },
    S(),
    S(),
    { op: "vmalloc", size: 3 * PAGE, caller: "n_tty_open+0x18/0xa4" },
    { op: "pcpu", size: 18 * PAGE, align: PAGE, caller: "pcpu_get_vm_areas+0x0/0x1214" },
    { op: "free", tag: "t0" },
    { op: "free", tag: "t1" },
    { op: "free", tag: "t3" },
  ];
}

function arm64Steps(_k: Kernel): Step[] {
  const S = (): Step => ({ op: "stack", caller: "kernel_clone+0xc4/0x3f0" });
  return [
    { op: "vmap", pages: 4, flags: VM_MAP, caller: "init_irq_stacks+0x44/0x90", irqStack: true },
    { op: "ioremap", phys: 0x08000000, size: 0x10000, caller: "gic_of_init+0x4c/0x2a0" },
    { op: "ioremap", phys: 0x080a0000, size: 0xf60000, caller: "gic_of_init+0x84/0x2a0" },
    { op: "vmalloc", size: PAGE, caller: "bpf_prog_alloc_no_stats+0x38/0x1c0" },
    ...rep(24, () => [S()]),
    { op: "burst", caches: TRACEFS_CACHES }, // fs_initcall, before the device_initcalls' probes
    { op: "ioremap", phys: 0x09000000, size: PAGE, caller: "__devm_ioremap_resource+0x110/0x1c0" },
    { op: "ioremap", phys: 0x09010000, size: PAGE, caller: "devm_ioremap+0x54/0xa0" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x68/0xe0" },
    { op: "vmalloc", size: 32 * PAGE, caller: "crypto_scomp_init_tfm+0x84/0xe0" },
    { op: "vmalloc", size: 3 * PAGE, caller: "n_tty_open+0x18/0xa0" },
    { op: "pcpu", size: 2 * MiB, align: 2 * MiB, caller: "pcpu_get_vm_areas+0x0/0x11f8" },
  ];
}

/** MSM8625 (msm8x25) Android 4.1 phone, kernel 3.4, vmalloc=200M: 0xf3000000-0xff000000. */
function msm8x25Steps(_k: Kernel): Step[] {
  const io = (virt: number, phys: number, size: number): Step => ({ op: "static", virt, phys, size, caller: "iotable_init+0x0/0xb0", map: true });
  // binder_mmap: get_vm_area(1 MiB - 8 KiB, VM_IOREMAP) per process that opens /dev/binder; VM_IOREMAP's alignment
  // (fls(size) = 20, ARM IOREMAP_MAX_ORDER 24) puts each on a 1 MiB boundary.
  const binder = (tag?: string): Step => ({ op: "ioremap", phys: -1, size: MiB - 2 * PAGE, caller: "binder_mmap+0xb0/0x224", tag });
  // kgsl_page_alloc_map_kernel: vmap(64 pages, VM_IOREMAP) of a GPU buffer the kernel reads (a process's context
  // save area): 256 KiB + the guard page, 512 KiB aligned.
  const kgsl = (tag?: string): Step => ({ op: "vmap", pages: 64, flags: VM_IOREMAP, caller: "kgsl_page_alloc_map_kernel+0x98/0xe8", tag });
  const app = (tag: string, gpu: boolean): Step[] => (gpu ? [binder(tag), kgsl(tag + "-gpu")] : [binder(tag)]);
  const die = (tag: string, gpu: boolean): Step[] =>
    gpu
      ? [
          { op: "free", tag },
          { op: "free", tag: tag + "-gpu" },
        ]
      : [{ op: "free", tag }];
  return [
    // arch/arm/mach-msm/io.c msm8625_io_desc (virtual base, physical base, length): the static device mappings.
    io(0xfa000000, 0xc0800000, 4 * KiB), // MSM_TMR_BASE       <- MSM8625_TMR_PHYS
    io(0xfa001000, 0xc0100000, 4 * KiB), // MSM_TMR0_BASE      <- MSM8625_TMR0_PHYS
    io(0xfa002000, 0xc0000000, 4 * KiB), // MSM_QGIC_DIST_BASE <- MSM8625_QGIC_DIST_PHYS
    io(0xfa003000, 0xc0002000, 4 * KiB), // MSM_QGIC_CPU_BASE  <- MSM8625_QGIC_CPU_PHYS
    io(0xfa008000, 0xc0200000, 4 * KiB), // MSM_SAW0_BASE
    io(0xfa009000, 0xc0700000, 4 * KiB), // MSM_SAW1_BASE
    io(0xfa010000, 0xa8600000, 4 * KiB), // MSM_CLK_CTL_BASE
    io(0xfa101000, 0xc0100000, 4 * KiB), // MSM_CSR_BASE       <- MSM7XXX_CSR_PHYS
    io(0xfa102000, 0xa9200000, 4 * KiB), // MSM_GPIO1_BASE
    io(0xfa103000, 0xa9300000, 4 * KiB), // MSM_GPIO2_BASE
    io(0xfa104000, 0xc0600000, 256), // MSM_SCU_BASE (SZ_256, one page mapped)
    io(0xfa105000, 0xa9800000, 4 * KiB), // MSM_CFG_CTL_BASE
    io(0xfa300000, 0x00100000, 1 * MiB), // MSM_SHARED_RAM_BASE (SMEM)
    io(0xfa400000, 0xaa500000, 1 * MiB), // MSM_MDC_BASE
    io(0xfa701000, 0xc0400000, 4 * KiB), // MSM_L2CC_BASE
    // The seed elides what follows L2CC ("…………..") up to the gap at 0xfa800000: one device page stands for it (the
    // unified msm_iomap.h's next slot, MSM_APCS_GLB_BASE; its physical base here is a placeholder).
    io(0xfa702000, 0xc0300000, 4 * KiB),
    io(0xfa900000, 0xac000000, 13 * MiB), // MSM_AD5_BASE (13 MB, up to 0xfb600000)
    // devicemaps_init() -> fill_pmd_gaps(): the 1 MiB halves of 2 MiB PMDs that a section-mapped area leaves empty
    // become pmd_empty_section_gap areas (computed from the mappings above).
    { op: "pmdgaps", caller: "pmd_empty_section_gap+0x0/0x3c" },
    // setup_per_cpu_areas -> pcpu_get_vm_areas: 2 units x 72 KiB at the top of the vmalloc area.
    { op: "pcpu", size: 0x24000, align: PAGE, caller: "pcpu_get_vm_areas+0x0/0x56c" },
    // Boot: the ion buffer of the boot splash, mapped into the kernel (ion_map_kernel -> vmap), at the bottom of the
    // area, and the firmware loader's buffer above it (vmap with no flags), both released later.
    { op: "vmap", pages: 1535, flags: VM_MAP, caller: "ion_system_heap_map_kernel+0x8c/0xd4", tag: "splash" },
    { op: "vmap", pages: 255, flags: 0, caller: "firmware_loading_store+0x1c8/0x25c", tag: "fw" },
    // Driver probes (msm7x27a/8625 peripherals).
    { op: "ioremap", phys: 0xa0400000, size: PAGE, caller: "msmsdcc_probe+0x2c4/0xe48" }, // SDC1
    { op: "ioremap", phys: 0xa0500000, size: PAGE, caller: "msmsdcc_probe+0x2c4/0xe48" }, // SDC2
    { op: "ioremap", phys: 0xa0600000, size: PAGE, caller: "msmsdcc_probe+0x2c4/0xe48" }, // SDC3
    { op: "ioremap", phys: 0xa0800000, size: PAGE, caller: "msm_otg_probe+0x1e0/0x8f0" }, // HSUSB
    { op: "ioremap", phys: 0xa9900000, size: PAGE, caller: "msm_i2c_probe+0x120/0x5a4" },
    { op: "ioremap", phys: 0xa9d00000, size: PAGE, caller: "qup_i2c_probe+0x1ac/0x8a8" },
    { op: "ioremap", phys: 0xa0200000, size: 0x20000, caller: "mdp_probe+0x1a4/0x8c4" }, // MDP
    { op: "ioremap", phys: 0xa0000000, size: 0x20000, caller: "kgsl_device_platform_probe+0x150/0x3c8" }, // Adreno 203 regs
    { op: "ioremap", phys: 0xa0f00000, size: 0x100000, caller: "msm_vfe_probe+0xa8/0x1c4" }, // camera VFE
    { op: "vmalloc", size: 64 * KiB, caller: "kgsl_mmu_init+0x11c/0x2f0" },
    { op: "vmalloc", size: 512 * KiB, caller: "kgsl_ptpool_add+0x40/0xe8" },
    { op: "free", tag: "fw" },
    // Android: init's daemons, zygote, system_server and the apps; every process opens /dev/binder, those that draw
    // with the GPU get a kgsl context buffer mapped into the kernel.
    ...["servicemanager", "vold", "netd", "debuggerd", "rild", "drmserver", "keystore", "installd", "qmuxd", "netmgrd"].flatMap((t) => app(t, false)),
    ...app("surfaceflinger", true),
    ...app("mediaserver", false),
    ...app("bootanimation", true),
    ...app("zygote", false),
    ...app("system_server", true),
    ...rep(11, (i) => app(`a${i}`, i % 3 !== 2)),
    ...app("launcher", true),
    ...app("systemui", true),
    ...rep(4, (i) => app(`b${i}`, i % 2 === 0)),
    ...app("phone", true),
    ...rep(3, (i) => app(`c${i}`, false)),
    // The excerpt's middle: two GPU maps, a live binder area, ...
    kgsl("m0"),
    kgsl(),
    binder(),
    ...rep(4, (i) => app(`e${i}`, true)),
    binder(),
    // ... a second GPU context of a running process (a map with no new binder area), then two apps that die again
    // (the hole the seed shows between 0xf6f41000 and 0xf7200000) around the last live binder area.
    kgsl(),
    ...app("f0", true),
    ...app("f1", false),
    binder(),
    // The boot animation quits; apps the low-memory killer ends: their binder areas are vfree'd by
    // binder_deferred_release and their GPU maps unmapped.
    ...die("f0", true),
    ...die("f1", false),
    ...die("bootanimation", true),
    ...die("b1", false),
    ...die("c2", false),
    ...rep(11, (i) => (i % 4 === 1 ? die(`a${i}`, i % 3 !== 2) : [])),
    // The lazily freed ranges pass lazy_max_pages() (fls(2 CPUs) x 32 MB) as apps come and go: purged, they are free
    // space again, and the next process's binder area takes the lowest 1 MiB slot (the firmware buffer's).
    { op: "purge" },
    binder("settings"),
    // The splash buffer is released last: lazily freed, not yet purged (3.4's vmallocinfo lists only live areas).
    { op: "free", tag: "splash" },
  ];
}

/** i386-2.6 (2.6.26): modules of a Debian lenny PC (in the vmalloc area on x86_32) and a few ioremaps. */
function i386_26Steps(k: Kernel): Step[] {
  const acpi = ramTopBelow4G(k);
  const mod = (size: number): Step => ({ op: "vmalloc", size, caller: "module_alloc+0x1e/0x20" });
  return [
    { op: "ioremap", phys: acpi, size: 0x3000, caller: "acpi_os_map_memory+0x13/0x1c" },
    { op: "ioremap", phys: 0xfee00000, size: PAGE, caller: "lapic_init+0x0/0x30" },
    { op: "vmalloc", size: 64 * KiB, caller: "alloc_large_system_hash+0x13c/0x1e8" },
    // processor, thermal_sys, fan, button, ac, battery, evdev, psmouse, serio_raw, pcspkr, i2c_core, i2c_piix4,
    // parport, parport_pc, ppdev, lp, snd*, soundcore, rtc, floppy, ide_core, piix, ide_disk, ata_generic,
    // libata, scsi_mod, sd_mod, mbcache, jbd, ext3, usbcore, uhci_hcd, ehci_hcd, ne2k_pci, 8390, e1000, dm_mod
    ...[
      16, 36, 12, 12, 12, 16, 16, 56, 12, 8, 28, 16, 40, 36, 16, 16, 60, 12, 16, 60, 128, 20, 24, 12, 164, 156, 40, 16, 52, 132, 140, 28, 36, 16, 16, 124, 56,
    ].map((kb) => mod(kb * KiB)),
    { op: "ioremap", phys: 0xfebc0000, size: 0x20000, caller: "e1000_probe+0x1fc/0xc2c" },
    { op: "vmalloc", size: 128 * KiB, caller: "vmalloc_32+0x10/0x14" },
    { op: "vmalloc", size: 512 * KiB, caller: "dm_vcalloc+0x2a/0x48" },
  ];
}

function stepsFor(k: Kernel): Step[] {
  switch (k.profile.name) {
    case "x86_64-6.1":
      return x86_64Steps(k);
    case "i386-6.1":
      return i386_61Steps(k);
    case "arm-6.1-virt":
      return arm61Steps(k);
    case "arm64-6.1":
      return arm64Steps(k);
    case "arm-3.4-msm8x25":
      return msm8x25Steps(k);
    case "i386-2.6":
      return i386_26Steps(k);
  }
  switch (k.profile.arch) {
    case "x86_64":
      return x86_64Steps(k);
    case "arm64":
      return arm64Steps(k);
    case "arm":
      return k.profile.era === "6.1" ? arm61Steps(k) : msm8x25Steps(k);
    default:
      return k.profile.era === "6.1" ? i386_61Steps(k) : i386_26Steps(k);
  }
}

const SECTION_SIZE = MiB;
const PMD_SIZE = 2 * MiB;
/** VM_ARM_EMPTY_MAPPING (arch/arm/mm/mm.h, 3.4): a pmd_empty_section_gap area, reserved and never mapped. */
const VM_ARM_EMPTY_MAPPING = 0x20000000;

/**
 * arch/arm/mm/mmu.c fill_pmd_gaps() (3.4): an ARM PMD covers 2 MiB as two 1 MiB section entries. A static mapping
 * that starts or ends on an odd 1 MiB boundary leaves the other half of its PMD; if no mapping uses that half
 * (pmd_none), it is reserved as a 1 MiB vm area so vmalloc never puts a page table there. Returns the gaps' bases.
 */
export function fill_pmd_gaps(statics: readonly { virt: number; size: number }[]): number[] {
  const sorted = [...statics].sort((a, b) => a.virt - b.virt);
  const used = (section: number) => sorted.some((m) => m.virt < section + SECTION_SIZE && m.virt + m.size > section);
  const gaps: number[] = [];
  let next = 0;
  for (const m of sorted) {
    let addr = m.virt;
    if (addr < next) continue;
    if (addr % PMD_SIZE === SECTION_SIZE && !used(addr - SECTION_SIZE) && !gaps.includes(addr - SECTION_SIZE)) gaps.push(addr - SECTION_SIZE);
    addr += m.size;
    if (addr % PMD_SIZE === SECTION_SIZE && !used(addr) && !gaps.includes(addr)) gaps.push(addr);
    next = Math.ceil(addr / PMD_SIZE) * PMD_SIZE;
  }
  return gaps;
}

/** The number of steps vmalloc_boot() replays for this machine (kernel.ts: the boot's slab replay ticks with them). */
export function vmallocBootSteps(k: Kernel): number {
  return stepsFor(k).filter((s) => s.op !== "initLate" && s.op !== "burst" && s.op !== "afterInitcalls").length;
}

/**
 * Replay the profile's boot-time vmalloc activity. Steps that do not fit (a tiny vmalloc= area) are skipped. Each step
 * is a tick of the boot's time-ordered slab replay (SlabAllocator.bootSlabTick): the slabs the boot fills meanwhile lie
 * between the steps' pages.
 */
export function vmalloc_boot(k: Kernel, v: Vmalloc): () => void {
  const tags = new Map<string, bigint>();
  const vmapPages = new Map<string, number[]>();
  const steps = stepsFor(k);
  const split = steps.findIndex((s) => s.op === "afterInitcalls");
  replaySteps(k, v, split < 0 ? steps : steps.slice(0, split), tags, vmapPages, true);
  // The steps after "afterInitcalls": the caller runs them once do_initcalls() is over. Their slab ticks stay here:
  // the ticks pace the boot's slab objects over the replay (SlabAllocator.bootSlabTick), and moving them would move
  // every later slab.
  const late = split < 0 ? [] : steps.slice(split + 1);
  for (let i = 0; i < late.length; i++) k.slab?.bootSlabTick();
  return () => {
    // still the boot's own work (kernel_init() before SYSTEM_RUNNING): no might_sleep() checks, areas owned by "boot"
    const done = v.bootDone;
    v.bootDone = false;
    try {
      replaySteps(k, v, late, tags, vmapPages, false);
    } finally {
      v.bootDone = done;
    }
  };
}

function replaySteps(k: Kernel, v: Vmalloc, steps: Step[], tags: Map<string, bigint>, vmapPages: Map<string, number[]>, tick: boolean): void {
  const statics: { virt: number; size: number }[] = [];
  const gfp = v.GFP_KERNEL;
  // THREAD_SIZE: KASAN (set up before this replay in the real boot) doubles it.
  const stackSize = threadSize(k.profile.arch, k.profile.era, Kasan.enabledFor(k));
  const stackAlign = k.profile.arch === "arm" ? 2 * stackSize : stackSize;
  for (const s of steps) {
    let addr = 0n;
    if (s.op === "afterInitcalls") continue;
    if (s.op === "initLate") {
      k.pages.deferred_init_memmap();
      continue; // no boot tick of its own (vmallocBootSteps)
    }
    if (s.op === "burst") {
      k.slab?.bootSlabBurst(s.caches);
      continue;
    }
    switch (s.op) {
      case "vmalloc":
        addr = v.__vmalloc_node_range(s.size, s.align ?? PAGE, v.vmallocStart, v.vmallocEnd, gfp | 0x0, "kernel", 0, s.caller);
        // bpf_prog_select_runtime() -> bpf_prog_lock_ro(): the program read-only, its direct-map alias too (x86's CPA).
        if (addr && s.caller.startsWith("bpf_prog_alloc_no_stats")) k.pgtable.changeAttr(addr, Math.ceil(s.size / PAGE), { rw: false }, true);
        break;
      case "stack":
        // alloc_thread_stack_node: THREAD_SIZE aligned to THREAD_ALIGN (VMAP_STACK kernels only).
        if (k.profile.era === "6.1" && k.profile.arch !== "i386")
          addr = v.__vmalloc_node_range(stackSize, stackAlign, v.vmallocStart, v.vmallocEnd, gfp, "kernel", 0, s.caller);
        else allocBootStack(k); // no VMAP_STACK: the page allocator's THREAD_SIZE block (init/boot_tasks.ts)
        break;
      case "area":
        // get_vm_area(): address space only (no VM_IOREMAP alignment, no pages of its own)
        addr = v.get_vm_area(s.size, VM_MAP, { caller: s.caller })?.addr ?? 0n;
        break;
      case "ioremap":
        if (s.phys < 0) {
          // binder_mmap: get_vm_area(VM_IOREMAP) whose pages binder maps on demand; no phys recorded.
          const vm = v.get_vm_area(s.size, VM_IOREMAP, { caller: s.caller });
          addr = vm?.addr ?? 0n;
        } else addr = v.ioremap(s.phys, s.size, { caller: s.caller });
        break;
      case "vmap": {
        const pfns: number[] = [];
        // The IRQ stacks are THREAD_SIZE too (x86_64 IRQ_STACK_ORDER = 2 + KASAN_STACK_ORDER; arm64 IRQ_STACK_SIZE).
        const pages = s.irqStack ? stackSize / PAGE : s.pages;
        // ARM's atomic pool is the CMA area's first pages (kernel/dma_pool.ts takes them with cma_alloc() once the
        // area is the buddy allocator's); without a CMA area, pages from the allocator (__alloc_remap_buffer)
        const cma = s.cma ? armCoherentPoolCma(k) : -1;
        if (cma >= 0) for (let i = 0; i < pages; i++) pfns.push(cma / PAGE + i);
        for (let i = pfns.length; i < pages; i++) {
          const pfn = k.pages.alloc_pages(gfp, 0, PageOwner.Boot);
          if (pfn < 0) break;
          pfns.push(pfn);
        }
        addr = pfns.length === pages ? v.vmap(pfns, pages, s.flags, { caller: s.caller }) : 0n;
        if (!addr) for (const pfn of pfns) k.pages.__free_pages(pfn, 0);
        else if (s.tag) vmapPages.set(s.tag, pfns);
        break;
      }
      case "static":
        if (BigInt(s.virt) < k.layout.vmallocStart) {
          // The board's device mappings live at fixed addresses; a vmalloc area this small leaves them inside
          // lowmem, where map_lowmem() and iotable_init() would fight over the same section entries.
          const need = Math.ceil(Number(k.layout.vmallocEnd - BigInt(s.virt)) / MiB) + 8; // + VMALLOC_OFFSET, the gap below the area
          const clamp = k.log.records.find((r) => /^vmalloc area .*limiting to/.test(r.text))?.text;
          throw new KernelBootError(
            `${clamp ? `${clamp.trim()}; then ` : ""}this board's static device mappings at 0x${s.virt.toString(16)} fall below the vmalloc area 0x${k.layout.vmallocStart.toString(16)}-0x${k.layout.vmallocEnd.toString(16)}, into lowmem: a real ${k.profile.board} would not boot; use vmalloc=${need}M or more`,
          );
        }
        v.vm_area_add_early(BigInt(s.virt), s.size, VM_IOREMAP | VM_ARM_STATIC_MAPPING, s.phys, s.caller, s.map);
        statics.push({ virt: s.virt, size: Math.ceil(s.size / PAGE) * PAGE });
        break;
      case "pmdgaps":
        for (const gap of fill_pmd_gaps(statics)) v.vm_area_add_early(BigInt(gap), SECTION_SIZE, VM_IOREMAP | VM_ARM_EMPTY_MAPPING, 0, s.caller, false);
        break;
      case "pcpu":
        addr = v.pcpu_get_vm_area(s.size, s.align, s.caller)?.addr ?? 0n;
        break;
      case "module":
        addr = v.module_alloc(s.size, s.caller);
        // bpf_prog_pack_alloc(): set_memory_rox() on the pack, its direct-map alias read-only too (x86's CPA).
        if (addr && s.caller.startsWith("bpf_prog_pack_alloc")) k.pgtable.changeAttr(addr, Math.ceil(s.size / PAGE), { rw: false }, true);
        break;
      case "free": {
        const a = tags.get(s.tag);
        if (a) {
          const vm = v.find_vm_area(a);
          if (vm && vm.flags & VM_ALLOC) v.vfree(a);
          else {
            v.vunmap(a);
            // The owner (ion, kgsl, the firmware loader) frees the pages it had mapped.
            for (const pfn of vmapPages.get(s.tag) ?? []) k.pages.__free_pages(pfn, 0);
            vmapPages.delete(s.tag);
          }
        }
        break;
      }
      case "purge":
        v.purge();
        break;
    }
    if ("tag" in s && s.tag && s.op !== "free" && addr) tags.set(s.tag, addr);
    if (tick) k.slab?.bootSlabTick(); // (unit tests replay the steps without a slab allocator)
  }
  void VM_MAP;
}
