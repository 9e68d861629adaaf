// Models the tasks the rest of a Linux 6.1 boot leaves running and what they hold (kernel/fork.c copy_process():
// alloc_thread_stack_node(); kernel/kthread.c and kernel/smpboot.c's per-CPU threads; the early user space of /init:
// fs/exec.c, mm/mmap.c's commit charge, mm/shmem.c shmem_acct_block(), the process page tables of mm/memory.c).
//
// What comes out (meminfo's KernelStack, PageTables and Committed_AS; MemFree loses the frames):
// - Tasks: mm/slab_boot.ts bootTasks() (per-CPU kthreads scale with the CPUs, the global ones per architecture, and
//   /init's shell plus the command reading /proc). KernelStack = tasks x THREAD_SIZE (the boot CPU's idle task runs
//   on the static init_stack and counts nowhere). With CONFIG_VMAP_STACK (x86_64, armmp, arm64) the stacks are the
//   kernel_clone areas mm/vmalloc_boot.ts replays (VmallocUsed holds them; their count there includes the stacks of
//   tasks that exited into the per-CPU stack cache); i386 has no VMAP_STACK: each task takes THREAD_SIZE (order 1)
//   from the page allocator here.
// - The user processes' page tables: the tables their mappings need (bootProcessRanges(): the program, the heap a
//   randomised brk puts in a span of its own, the stack, and the vDSO where each arch maps it); one PTE page per PTE
//   table's span (2 MiB on x86_64/arm64/ARM's pair of hardware tables, 4 MiB on non-PAE i386) and, on four-level
//   machines, one PMD page per 1 GiB (both count in NR_PAGETABLE), and the top level and PUD pages, which it does not
//   count (MemFree loses them all the same: unaccountedTables()). Simplification: the pages are allocated and held,
//   not filled with entries (the boot processes' own tables are not walkable).
//   PageTables after boot, distro config, pages: x86_64 2 per process PMD + 3 PTE, x 2 processes, + poking_init's 2 +
//   the kernel's PMD pages (the vmalloc area's first gigabyte and the percpu chunk's at its top) = 14 (the real 512M
//   boot shows 15); i386 4 PTE pages per process x 2 + poking's 1 = 9 (real 9); armhf 3 per process x 2 = 6 (real 5).
//   meminfo reads the global NR_PAGETABLE, which lags the per-CPU vmstat differentials by up to the node's
//   stat_threshold (mm/vmstat.c calculate_normal_threshold(): 6 pages on x86_64 512M, 8 on the 1G machines): the
//   tables of the process reading meminfo, made just before, may or may not have been folded in, so the last page is
//   not the layout's to decide.
// - Committed_AS (vm_committed_as): the initramfs is tmpfs, whose pages charge the commit one by one
//   (shmem_acct_block() on a VM_NORESERVE inode), plus each process's private writable mappings (VM_ACCOUNT): its
//   stack (setup_arg_pages: 128 KiB + the argument page), its heap (busybox's first malloc: brk + 132 KiB) and
//   busybox-static's .data/.bss (a calibrated size: 18 pages on the 64-bit build, 11 on the 32-bit ones, what makes the
//   real boots' Committed_AS minus their Shmem come out: x86_64 672 kB, i386 and armhf 616 kB for two processes).
//
// The 2.6 and 3.4 machines (oldEraTasks()): no transcript of theirs lists its tasks, and kernel-facts.md says nothing
// of them, so the set is a documented minimum, named thread by thread below: the threads the kernel's own code of that
// version starts on that machine (per CPU and global), and the user space the profile's workload model
// (init/userspace.ts) describes. Each thread has a kernel stack of THREAD_SIZE (8 KiB on both: i386 and ARM have
// THREAD_SIZE_ORDER 1) from the page allocator (alloc_thread_info(): no VMAP_STACK before 4.9), counted in KernelStack
// (2.6.32+'s NR_KERNEL_STACK; the field list is 2.6.32's for both eras, fs/meminfo.ts). Committed_AS there: the
// workload's resident anonymous memory (all of it in private writable, VM_ACCOUNT mappings) plus what each thread's
// stack reserves beyond it (a process's main stack: setup_arg_pages' stack_expand + the argument page; a further
// thread's: the C library's default pthread stack, Bionic's 1 MiB on Android). Simplification: untouched heap and
// data reservations are not charged (a lower bound), and the old machines' processes hold no page tables here.

import type { Kernel } from "../kernel.ts";
import { gfp } from "../gfp.ts";
import { PageOwner } from "../mm/page_flags.ts";
import { userLayout } from "../mm/mmap.ts";
import { bootTasks, threadSize } from "../mm/slab_boot.ts";
import { SideTable } from "../snapshot.ts";

const PAGE = 4096;

/** The boot processes' page-table frames (a kernel snapshot copies the table): debug/invariants.ts claims them. */
const processTables = new SideTable<object, number[]>();

/**
 * x86's poking_init() (arch/x86/mm/init.c, start_kernel() after mm_init, 6.1): text_poke()'s own mm_struct, with the
 * tables for its poking address made at once (get_locked_pte): its PGD (PGD_ALLOCATION_ORDER: 2 pages with
 * CONFIG_PAGE_TABLE_ISOLATION on x86_64 and 686-pae, 1 on non-PAE i386) and, on x86_64, a PUD page (and a P4D page
 * with LA57), none of which NR_PAGETABLE counts, then a PMD page (x86_64; 686-pae: pgd_alloc()'s five preallocated
 * ones, paePmds()) and a PTE page, which pgtable_pmd_page_ctor()/pgtable_pte_page_ctor() count: meminfo's PageTables
 * holds them for the rest of the boot.
 */
export function poking_init(k: Kernel): void {
  const arch = k.profile.arch;
  if (k.profile.era !== "6.1" || (arch !== "x86_64" && arch !== "i386")) return;
  const era = k.profile.era;
  const mask = gfp(era, "GFP_KERNEL") | gfp(era, "__GFP_ZERO") | gfp(era, "__GFP_ACCOUNT");
  const x64 = arch === "x86_64";
  const pae = paePmds(k);
  if (k.pages.alloc_pages(mask, x64 || pae ? 1 : 0, PageOwner.Kernel) < 0) return; // pgd_alloc()
  // p4d_alloc() with LA57's five levels, then pud_alloc(): neither counted
  if (x64 && k.layout.pgtableLevels === 5 && k.pages.alloc_pages(mask, 0, PageOwner.Kernel) < 0) return;
  if (x64 && k.pages.alloc_pages(mask, 0, PageOwner.Kernel) < 0) return;
  const tables = processTables.get(k) ?? [];
  processTables.set(k, tables);
  // x86_64: pmd_alloc() and pte_alloc(); PAE: pgd_alloc()'s preallocated PMDs, then pte_alloc(); non-PAE: pte_alloc()
  for (let i = 0; i < (x64 ? 2 : 1 + pae); i++) {
    const pfn = k.pages.alloc_pages(mask, 0, PageOwner.PageTable); // pmd_alloc() (x86_64), pte_alloc()
    if (pfn < 0) return;
    tables.push(pfn);
  }
}

/** The page-table frames /init's shell and its child hold, with x86's poking mm's (empty on the old eras). */
export function bootProcessTablePfns(k: Kernel): readonly number[] {
  return processTables.get(k) ?? [];
}

/** A task of the old machines: its comm and its threads (each with a kernel stack). */
export interface OldEraTask {
  comm: string;
  threads: number;
}

/**
 * The tasks a 2.6.26 or 3.4 machine runs when the learner's insmod comes (see the header), per CPU and global:
 * - 2.6.26 (the i386 PC): kthreadd; per CPU migration/N (an SMP build), ksoftirqd/N, watchdog/N (softlockup.c),
 *   and the per-CPU workqueue threads of create_workqueue() in that era: events/N (keventd), kblockd/N
 *   (blk_dev_init), aio/N (aio_setup), ata/N (libata); global: khelper (usermodehelper_init), kswapd0, two pdflush
 *   (MIN_PDFLUSH_THREADS), the PC's drivers (kacpid, kacpi_notify, kseriod for the i8042, khubd, ata_aux and
 *   scsi_eh_0/1 for the two PATA channels) and kjournald for the ext3 root; user space: a Debian lenny text desktop
 *   (init, udevd, syslogd, klogd, acpid, cron, sshd, five gettys, login and its bash), single-threaded.
 * - 3.4 (the msm8x25 phone, concurrency-managed workqueues since 2.6.36): kthreadd; per CPU migration/N,
 *   ksoftirqd/N, watchdog/N and the CPU pool's two kworkers (kworker/N:0, kworker/N:1); global: the unbound pool's
 *   kworker/u:0 and kworker/u:1, the WQ_MEM_RECLAIM rescuers (khelper, kblockd, binder, crypto), kswapd0,
 *   sync_supers, bdi-default, khubd, mmcqd/0 (the eMMC) and fsnotify_mark; user space: Android 4.1's native
 *   daemons (init, ueventd, servicemanager, vold, netd, debuggerd, rild, drmserver, installd, keystore, adbd, sh
 *   single-threaded; surfaceflinger and mediaserver with their binder pool of two: three threads) and zygote, then
 *   the Dalvik processes, each with the VM's ten baseline threads (main, GC, Signal Catcher, JDWP, Compiler,
 *   ReferenceQueueDaemon, FinalizerDaemon, FinalizerWatchdogDaemon, Binder_1, Binder_2): system_server (plus forty
 *   service threads, an approximation), com.android.systemui, com.android.phone, com.android.launcher,
 *   android.process.acore and android.process.media.
 * The secondary CPUs' idle tasks (fork_idle) have stacks too; the boot CPU's runs on init_thread_union.
 */
export function oldEraTasks(era: string, nrCpus: number): { kthreads: OldEraTask[]; user: OldEraTask[] } {
  const one = (comm: string, threads = 1): OldEraTask => ({ comm, threads });
  const perCpu = (names: string[]): OldEraTask[] => {
    const out: OldEraTask[] = [];
    for (let c = 0; c < nrCpus; c++) for (const n of names) out.push(one(n.replace("N", String(c))));
    return out;
  };
  const idle = Array.from({ length: nrCpus - 1 }, (_, i) => one(`swapper/${i + 1}`));
  if (era === "2.6") {
    const kthreads = [
      one("kthreadd"),
      ...perCpu(["migration/N", "ksoftirqd/N", "watchdog/N", "events/N"]),
      one("khelper"),
      ...perCpu(["kblockd/N"]),
      one("kacpid"),
      one("kacpi_notify"),
      one("kseriod"),
      one("pdflush"),
      one("pdflush"),
      one("kswapd0"),
      ...perCpu(["aio/N", "ata/N"]),
      one("ata_aux"),
      one("scsi_eh_0"),
      one("scsi_eh_1"),
      one("khubd"),
      one("kjournald"),
      ...idle,
    ];
    const user = ["init", "udevd", "syslogd", "klogd", "acpid", "cron", "sshd", "getty", "getty", "getty", "getty", "getty", "login", "bash"].map((c) =>
      one(c),
    );
    return { kthreads, user };
  }
  const kthreads = [
    one("kthreadd"),
    ...perCpu(["ksoftirqd/N", "kworker/N:0", "migration/N", "watchdog/N"]),
    one("khelper"),
    one("sync_supers"),
    one("bdi-default"),
    one("kblockd"),
    one("khubd"),
    one("binder"),
    one("kswapd0"),
    one("fsnotify_mark"),
    one("crypto"),
    one("mmcqd/0"),
    one("kworker/u:0"),
    one("kworker/u:1"),
    ...perCpu(["kworker/N:1"]),
    ...idle,
  ];
  const dalvik = 10;
  const user = [
    ...["init", "ueventd", "servicemanager", "vold", "netd", "debuggerd", "rild"].map((c) => one(c)),
    one("surfaceflinger", 3),
    one("zygote"),
    one("drmserver"),
    one("mediaserver", 3),
    ...["installd", "keystore", "adbd", "sh"].map((c) => one(c)),
    one("system_server", dalvik + 40),
    ...["com.android.systemui", "com.android.phone", "com.android.launcher", "android.process.acore", "android.process.media"].map((c) => one(c, dalvik)),
  ];
  return { kthreads, user };
}

/** alloc_thread_info(): one THREAD_SIZE stack per thread from the page allocator (i386, and the old eras). */
function allocStacks(k: Kernel, n: number): void {
  const { arch, era } = k.profile;
  const order = Math.log2(threadSize(arch, era, false) / PAGE);
  const mask = gfp(era, "GFP_KERNEL") | (era === "6.1" ? gfp(era, "__GFP_ZERO") | gfp(era, "__GFP_ACCOUNT") : 0);
  for (let i = 0; i < n; i++) if (k.pages.alloc_pages(mask, order, PageOwner.Kernel) < 0) break;
}

/** The 2.6/3.4 processes' commit charge beyond the workload's resident anonymous memory (see the header), pages. */
function oldEraCommitPages(k: Kernel, user: OldEraTask[]): number {
  const main = Number(userLayout(k).stackExpand / 4096n) + 1;
  const pthreadStack = k.profile.arch === "arm" ? (1 << 20) / PAGE : 0; // Bionic's default; the 2.6 PC's are single-threaded
  let n = 0;
  for (const t of user) n += main + (t.threads - 1) * pthreadStack;
  return n;
}

/** i386 6.1's kernel-thread stacks already taken as the initcalls started them (allocBootStack), per kernel. */
const earlyStacks = new SideTable<object, number>();

/**
 * kernel_clone() -> alloc_thread_stack_node() on a kernel without VMAP_STACK (i386 6.1): one THREAD_SIZE stack from
 * the page allocator, when an initcall starts a kernel thread (mm/vmalloc_boot.ts replays them in the order x86_64's
 * vmallocinfo shows its stacks in); boot_kthreads() takes the rest.
 */
export function allocBootStack(k: Kernel): void {
  if (k.profile.era !== "6.1" || k.profile.arch !== "i386") return;
  if ((earlyStacks.get(k) ?? 0) >= bootTasks("i386", k.profile.nrCpus, false).kthreads) return;
  allocStacks(k, 1);
  earlyStacks.set(k, (earlyStacks.get(k) ?? 0) + 1);
}

/** The kernel threads (and the idle tasks of the secondary CPUs): their count, and i386's stacks from the page allocator. */
export function boot_kthreads(k: Kernel): void {
  if (k.profile.era !== "6.1") {
    const n = oldEraTasks(k.profile.era, k.profile.nrCpus).kthreads.reduce((a, t) => a + t.threads, 0);
    k.nrTasks = n;
    allocStacks(k, n);
    return;
  }
  const t = bootTasks(k.profile.arch, k.profile.nrCpus, false);
  k.nrTasks = t.kthreads;
  // alloc_thread_stack_node() without VMAP_STACK: alloc_pages_node(THREADINFO_GFP, THREAD_SIZE_ORDER).
  if (k.profile.arch === "i386") allocStacks(k, t.kthreads - (earlyStacks.get(k) ?? 0));
}

/** Distinct table indices a set of [start, end) ranges touches, for tables spanning 2^shift bytes each. */
function tablesFor(ranges: [bigint, bigint][], shift: bigint): number {
  const seen = new Set<bigint>();
  for (const [a, b] of ranges) for (let i = a >> shift; i <= (b - 1n) >> shift; i++) seen.add(i);
  return seen.size;
}

/**
 * A 6.1 process's page-table pages that NR_PAGETABLE does not count, as blocks of 2^order pages: pgd_alloc()'s top
 * level and the P4D/PUD pages (p4d_alloc_one()/pud_alloc_one() run no pgtable ctor before 6.7; pmd_alloc_one() and
 * pte_alloc_one() do, and those are the counted tables above). x86_64: an order-1 PGD (PGD_ALLOCATION_ORDER 1 with
 * CONFIG_PAGE_TABLE_ISOLATION, which Debian's amd64 build has) and one PUD page per 512 GiB the mappings touch (with
 * LA57, one P4D page per 256 TiB as well); non-PAE i386: one PGD page; ARM (short descriptors): the 16 KiB PGD
 * (__pgd_alloc, order 2; ARMv7's high vectors need no table of their own); arm64 (4 levels): a one-page PGD and the
 * PUD pages; 686-pae with PTI: an order-1 PGD (its preallocated PMDs count: paePmds()).
 */
function unaccountedTables(k: Kernel, ranges: [bigint, bigint][]): { order: number; n: number }[] {
  const arch = k.profile.arch;
  const levels = k.layout.pgtableLevels;
  if (arch === "x86_64") {
    const out = [{ order: 1, n: 1 }];
    if (levels === 5) out.push({ order: 0, n: tablesFor(ranges, 48n) });
    out.push({ order: 0, n: tablesFor(ranges, 39n) });
    return out;
  }
  if (arch === "arm64")
    return [
      { order: 0, n: 1 },
      { order: 0, n: tablesFor(ranges, 39n) },
    ];
  if (arch === "arm") return [{ order: 2, n: 1 }];
  if (arch === "i386") return [{ order: paePmds(k) ? 1 : 0, n: 1 }];
  return [];
}

/**
 * The PMD pages a 6.1 686-pae mm holds from pgd_alloc() on, all counted (preallocate_pmds() runs
 * pgtable_pmd_page_ctor()): PREALLOCATED_PMDS = PTRS_PER_PGD (4: "all 4 top-level entries are used almost
 * immediately"), plus PREALLOCATED_USER_PMDS = KERNEL_PGD_PTRS (1) for PTI's user copy (the 686-pae kernel has PTI,
 * on for QEMU's Meltdown-affected Intel CPU: mm/fault.ts). With PTI the PGD is an order-1 block (PGD_ALLOCATION_ORDER,
 * !SHARED_KERNEL_PMD), not counted. 0 on the other machines.
 */
function paePmds(k: Kernel): number {
  return k.profile.arch === "i386" && k.layout.pgtableLevels === 3 ? 4 + 1 : 0;
}

/** log2 of the span one PTE page maps: 4 MiB on non-PAE i386, 2 MiB elsewhere (ARM: a page holds two hardware tables). */
function ptePageShift(k: Kernel): bigint {
  return k.profile.arch === "i386" && !k.profile.pae ? 22n : 21n;
}

/**
 * The address ranges a 6.1 boot process (busybox-static, an ET_EXEC: Debian bookworm's 1.35 on amd64, i386 and armhf
 * alike) has touched by the time it reads /proc, from fs/binfmt_elf.c load_elf_binary() and the arch's
 * arch_setup_additional_pages(), as [start, end) pairs:
 * - the program, text to .bss, from its link address (its whole image lies in one PTE page's span on every arch);
 * - the heap: glibc's static start-up takes its TLS block with sbrk, and ash its memory with malloc. With
 *   randomize_va_space 2 (the real boots print it) the brk starts at arch_randomize_brk(): randomize_page(brk, 32 MiB)
 *   (1 GiB on arm64), so it shares the program's span only when the draw falls in the span's last few hundred KiB
 *   (2-7 % of draws): modelled as the span after the program's;
 * - the stack, from its top down through setup_arg_pages' stack_expand;
 * - the vDSO (glibc parses it at start-up, so its pages are touched): x86_64's vdso_addr() puts it above the stack
 *   top "in the same PTE as the stack top" (arch/x86/entry/vdso/vma.c, 6.1), so it adds no range; 32-bit x86 and
 *   arm64 map it with get_unmapped_area() from mmap_base down; 32-bit ARM maps the sigpage, [vvar] and [vdso] at a
 *   random page between the stack and TASK_SIZE (sigpage_addr()): in the stack's span or the next one up (about
 *   2 draws in 5 the stack's, with the stack top randomised over 8 MiB). Modelled in the stack's span, the lower
 *   count, as the armhf boot's 20 kB of PageTables (five pages for two processes) shows both of its processes had.
 */
function bootProcessRanges(k: Kernel, stackPages: number, heapPages: number): [bigint, bigint][] {
  const arch = k.profile.arch;
  const L = userLayout(k);
  const span = 1n << ptePageShift(k);
  const [exeStart, exeEnd] = BUSYBOX_IMAGE[arch];
  const heapStart = (exeEnd + span - 1n) & ~(span - 1n);
  const ranges: [bigint, bigint][] = [
    [exeStart, exeEnd],
    [heapStart, heapStart + BigInt(heapPages * PAGE)],
    [L.stackTop - BigInt(stackPages * PAGE), L.stackTop],
  ];
  if (arch === "i386" || arch === "arm64") {
    const vdsoPages = L.vdso.reduce((a, [, n]) => a + n, 0);
    ranges.push([L.mmapBase - BigInt(vdsoPages * PAGE), L.mmapBase]);
  }
  return ranges;
}

/**
 * Where busybox-static's image lies, from its first PT_LOAD's address to its last one's end (.bss): Debian bookworm's
 * 1:1.35.0-4+deb12u1+b1 (readelf -l of the amd64, i386, armhf and arm64 packages; all ET_EXEC). Only i386's crosses a
 * PTE page's span, and only with PAE's 2 MiB ones (0x08200000).
 */
const BUSYBOX_IMAGE: Record<Kernel["profile"]["arch"], [bigint, bigint]> = {
  x86_64: [0x400000n, 0x5ebb58n],
  i386: [0x08048000n, 0x0823f8d8n],
  arm: [0x10000n, 0x14e4e0n],
  arm64: [0x400000n, 0x5d9608n],
};

/** Busybox-static's writable .data/.bss pages (see the header). */
function busyboxDataPages(k: Kernel): number {
  return k.profile.arch === "x86_64" || k.profile.arch === "arm64" ? 18 : 11;
}

/** /init's shell and the command reading /proc: their stacks, page tables and commit charge. */
export function boot_user_processes(k: Kernel, shmemPages: number, anonPages = 0): void {
  if (k.profile.era !== "6.1") {
    const { user } = oldEraTasks(k.profile.era, k.profile.nrCpus);
    const threads = user.reduce((a, t) => a + t.threads, 0);
    k.nrTasks += threads;
    allocStacks(k, threads);
    k.vmCommittedPages += anonPages + oldEraCommitPages(k, user);
    return;
  }
  const arch = k.profile.arch;
  const t = bootTasks(arch, k.profile.nrCpus, true);
  const procs = t.user;
  k.nrTasks = t.total;
  const era = k.profile.era;
  const order = Math.log2(threadSize(arch, era, false) / PAGE);
  const L = userLayout(k);
  const stackPages = Number(L.stackExpand / 4096n) + 1;
  const heapPages = 33;
  const ranges = bootProcessRanges(k, stackPages, heapPages);
  const fourLevel = arch === "x86_64" || arch === "arm64";
  const ptePages = tablesFor(ranges, ptePageShift(k));
  const pmdPages = fourLevel ? tablesFor(ranges, 30n) : paePmds(k);
  const pgtMask = gfp(era, "GFP_KERNEL") | gfp(era, "__GFP_ZERO") | gfp(era, "__GFP_ACCOUNT");
  k.vmCommittedPages += shmemPages + procs * (stackPages + heapPages + busyboxDataPages(k));
  const top = unaccountedTables(k, ranges);
  const tables = processTables.get(k) ?? [];
  processTables.set(k, tables);
  for (let p = 0; p < procs; p++) {
    if (arch === "i386" && k.pages.alloc_pages(pgtMask, order, PageOwner.Kernel) < 0) return;
    // pgd_alloc() at fork/exec, then the upper levels the first faults need: pages NR_PAGETABLE does not count (owner
    // Kernel, as poking_init's PGD and PUD)
    for (const t of top) for (let i = 0; i < t.n; i++) if (k.pages.alloc_pages(pgtMask, t.order, PageOwner.Kernel) < 0) return;
    for (let i = 0; i < ptePages + pmdPages; i++) {
      const pfn = k.pages.alloc_pages(pgtMask, 0, PageOwner.PageTable);
      if (pfn < 0) return;
      tables.push(pfn);
    }
  }
}
