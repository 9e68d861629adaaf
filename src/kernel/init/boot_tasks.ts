// Models the tasks the rest of a Linux 6.1 boot leaves running and what they hold (kernel/fork.c copy_process():
// alloc_thread_stack_node(); kernel/kthread.c and kernel/smpboot.c's per-CPU threads; the early user space of /init:
// fs/exec.c, mm/mmap.c's commit charge, mm/shmem.c shmem_acct_block(), the process page tables of mm/memory.c).
//
// What comes out (meminfo's KernelStack, PageTables and Committed_AS; MemFree loses the frames):
// - Tasks: mm/slab_boot.ts bootTasks() (per-CPU kthreads scale with the CPUs, the global ones per architecture, and
//   /init's shell plus one command: the real boots read /proc from a `cat`, the module loads in insmod's process).
//   KernelStack = tasks x THREAD_SIZE (the boot CPU's idle task runs
//   on the static init_stack and counts nowhere). With CONFIG_VMAP_STACK (x86_64, armmp, arm64) the stacks are the
//   kernel_clone areas mm/vmalloc_boot.ts replays (VmallocUsed holds them; their count there includes the stacks of
//   tasks that exited into the per-CPU stack cache); i386 has no VMAP_STACK: each task takes THREAD_SIZE (order 1)
//   from the page allocator here.
// - The user processes: /init's shell runs the script's commands one by one (init/init_script.ts), each forked, exec'd
//   and reaped (run_init_script(): its PGD, page tables, anonymous pages and, on i386, its stack go through the per-CPU
//   lists and come back), then forks insmod, alive when the module loads. The churn is LIFO: each command gets the
//   frames the one before freed, so what the real logs show (MemFree, the lists' counts, the module's first page) is
//   what the two live processes leave.
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
//   stat_threshold (mm/vmstat.c calculate_normal_threshold(): 6 pages on x86_64 512M, 8 on the 1G machines). Every
//   command of the script moves the differential up and down by its tables; where a fold (the threshold's, the 1 Hz
//   vmstat_update's, quiet_vmstat() as the CPU idles) falls in that walk decides the global's error, and no log says
//   when they ran: the real x86_64 boot reads 15 pages at /proc/meminfo and 10 in the Mem-Info during insmod, with the
//   same two processes alive. The simulator gives the true count (test/kernel/pagetables_boot.test.ts).
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
import { INIT_SCRIPT_BEFORE_INSMOD } from "./init_script.ts";

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

/**
 * /init's shell, the commands it runs before the learner's insmod (init/init_script.ts), and insmod's own process:
 * their stacks, page tables, anonymous pages and commit charge. `anonPages` is what the two live processes hold
 * (the real meminfo's AnonPages, read while /init's shell and one command ran).
 */
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
  k.nrTasks = t.total;
  const L = userLayout(k);
  const stackPages = Number(L.stackExpand / 4096n) + 1;
  const heapPages = 33;
  k.vmCommittedPages += shmemPages + t.user * (stackPages + heapPages + busyboxDataPages(k));
  run_init_script(k, new UserMm(k, bootProcessRanges(k, stackPages, heapPages)), Math.ceil(anonPages / Math.max(1, t.user)));
}

/**
 * The process lifecycle of 6.1 (kernel/fork.c copy_process(), fs/exec.c, kernel/exit.c) as far as the page allocator
 * sees it, for busybox-static processes (bootProcessRanges()):
 * - fork: dup_task_struct()'s kernel stack (i386: THREAD_SIZE from the page allocator; the VMAP_STACK kernels take an
 *   exited task's stack from the per-CPU cache, NR_CACHED_STACKS, and reuse its vm area and pages: no allocator
 *   traffic, and the replayed vmallocinfo already holds the cached one), then dup_mm(): pgd_alloc() and the tables
 *   copy_page_range() fills for the parent's anonymous mappings (busybox's .data/.bss in the program's span, the
 *   heap, the stack: all of the parent's ranges), and the page the child's first stack write breaks from COW;
 * - exec: bprm_mm_init()'s new mm (its PGD) and the stack tables copy_strings() faults with the argument page, then
 *   exec_mmap() drops the forked copy (exit_mmap(): its anonymous pages, its tables; its PGD as the last reference
 *   goes), then load_elf_binary() and the program's first faults: the program's, heap's and vDSO's tables and the
 *   process's anonymous pages;
 * - exit: exit_mmap() (anonymous pages, then free_pgtables() from the lowest mapping up: PTE pages, then the PMD and
 *   upper pages), the PGD at the last context switch away from the dead task (mmdrop), then its kernel stack
 *   (put_task_stack() in finish_task_switch()).
 * Simplifications (said): the anonymous pages of a process are split as the stack 2 (the argument page and one), the
 * heap a quarter of the rest (at least 1), .data/.bss the remainder; each process of the script holds the same
 * number (the live pair's AnonPages halved); the short-lived processes' slab objects (task_struct, mm_struct, VMAs,
 * files...) come and go in the boot's slabs (mm/slab_boot.ts: the tables are the real counts, which include them)
 * and move no page here.
 */
class UserMm {
  pgd = -1;
  /** Counted tables (PMD, PTE pages: NR_PAGETABLE) as [level shift, index, pfn]. */
  counted: [bigint, bigint, number][] = [];
  /** Uncounted upper tables (P4D, PUD pages) as [level shift, index, pfn]. */
  upper: [bigint, bigint, number][] = [];
  /** 686-pae: pgd_alloc()'s preallocated PMD pages (counted). */
  pae: number[] = [];
  anon: number[] = [];
  private readonly seen = new Set<string>();
  private readonly k: Kernel;
  /** The process's mappings (bootProcessRanges()): the program, the heap, the stack and (i386, arm64) the vDSO. */
  readonly ranges: [bigint, bigint][];
  constructor(k: Kernel, ranges: [bigint, bigint][]) {
    this.k = k;
    this.ranges = ranges;
  }
  private mask(): number {
    const era = this.k.profile.era;
    return gfp(era, "GFP_KERNEL") | gfp(era, "__GFP_ZERO") | gfp(era, "__GFP_ACCOUNT");
  }
  /** pgd_alloc(): the top level (and PAE's preallocated PMDs). False when the allocator has nothing. */
  alloc(): boolean {
    const [top] = unaccountedTables(this.k, []);
    this.pgd = this.k.pages.alloc_pages(this.mask(), top!.order, PageOwner.Kernel);
    if (this.pgd < 0) return false;
    for (let i = 0; i < paePmds(this.k); i++) {
      const pfn = this.k.pages.alloc_pages(this.mask(), 0, PageOwner.PageTable);
      if (pfn < 0) return false;
      this.pae.push(pfn);
    }
    return true;
  }
  /** The tables a fault in [a, b) needs that this mm lacks: P4D (LA57), PUD (4/5 levels), PMD (4 levels), PTE. */
  touch(a: bigint, b: bigint): boolean {
    const k = this.k;
    const levels: [bigint, boolean][] = [];
    const fourLevel = k.profile.arch === "x86_64" || k.profile.arch === "arm64";
    if (k.layout.pgtableLevels === 5) levels.push([48n, false]);
    if (fourLevel) levels.push([39n, false], [30n, true]);
    levels.push([ptePageShift(k), true]);
    for (const [shift, counted] of levels)
      for (let i = a >> shift; i <= (b - 1n) >> shift; i++) {
        const key = `${shift}:${i}`;
        if (this.seen.has(key)) continue;
        const pfn = k.pages.alloc_pages(this.mask(), 0, counted ? PageOwner.PageTable : PageOwner.Kernel);
        if (pfn < 0) return false;
        this.seen.add(key);
        (counted ? this.counted : this.upper).push([shift, i, pfn]);
      }
    return true;
  }
  /** A fault's anonymous pages (GFP_HIGHUSER_MOVABLE: HighMem first on the 32-bit machines). */
  fault(n: number): boolean {
    const era = this.k.profile.era;
    const mask = gfp(era, "GFP_HIGHUSER_MOVABLE");
    for (let i = 0; i < n; i++) {
      const pfn = this.k.pages.alloc_pages(mask, 0, PageOwner.Anon);
      if (pfn < 0) return false;
      this.anon.push(pfn);
    }
    return true;
  }
  /** exit_mmap(): the anonymous pages, then free_pgtables() from the lowest address up (PTE pages before their PMD). */
  unmap(): void {
    const pa = this.k.pages;
    for (const pfn of this.anon) pa.__free_pages(pfn, 0);
    this.anon = [];
    const all = [...this.counted, ...this.upper].sort((x, y) => {
      const ax = x[1] << x[0];
      const ay = y[1] << y[0];
      // within one span the lower level goes first (free_pte_range before its PMD page, that before its PUD page)
      return ax !== ay ? (ax < ay ? -1 : 1) : x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0;
    });
    // a table is freed once the walk has passed its whole span: after every lower-level table inside it
    const end = (t: [bigint, bigint, number]) => (t[1] + 1n) << t[0];
    all.sort((x, y) => (end(x) !== end(y) ? (end(x) < end(y) ? -1 : 1) : x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    for (const [, , pfn] of all) pa.__free_pages(pfn, 0);
    this.counted = [];
    this.upper = [];
    this.seen.clear();
  }
  /** mmdrop(): pgd_free() (PAE: pgd_mop_up_pmds() first). */
  drop(): void {
    const pa = this.k.pages;
    for (const pfn of this.pae) pa.__free_pages(pfn, 0);
    this.pae = [];
    if (this.pgd >= 0) pa.__free_pages(this.pgd, unaccountedTables(this.k, [])[0]!.order);
    this.pgd = -1;
  }
  /** The counted table frames (debug/invariants.ts claims a live process's). */
  tablePfns(): number[] {
    return [...this.pae, ...this.counted.map((t) => t[2])];
  }
}

/** How a process's anonymous pages split over its stack, heap and .data/.bss (UserMm's header). */
function anonSplit(n: number): { stack: number; heap: number; data: number } {
  const stack = Math.min(n, 2);
  const heap = Math.min(n - stack, Math.max(1, Math.floor((n - 2) / 4)));
  return { stack, heap, data: n - stack - heap };
}

/** A process of the script: its mm and (i386) its kernel stack. */
interface UserProc {
  mm: UserMm;
  stack: number;
}

/** i386's alloc_thread_stack_node(): THREAD_SIZE from the page allocator (-1 elsewhere: the stack cache). */
function forkStack(k: Kernel): number {
  if (k.profile.arch !== "i386") return -1;
  const { era } = k.profile;
  const mask = gfp(era, "GFP_KERNEL") | gfp(era, "__GFP_ZERO") | gfp(era, "__GFP_ACCOUNT");
  return k.pages.alloc_pages(mask, Math.log2(threadSize("i386", era, false) / PAGE), PageOwner.Kernel);
}

/**
 * Replay /init: the shell's exec from kernel_init(), each command's fork, exec and exit, then insmod's fork and exec
 * (alive when the module loads). `perProc`: anonymous pages of one process. Stops where the allocator has nothing
 * left (a machine too small for its boot: the allocator has reported it).
 */
function run_init_script(k: Kernel, shape: UserMm, perProc: number): void {
  const tables = processTables.get(k) ?? [];
  processTables.set(k, tables);
  const [program, heap, stack, ...rest] = shape.ranges as [[bigint, bigint], [bigint, bigint], [bigint, bigint], ...[bigint, bigint][]];
  const split = anonSplit(perProc);
  /** exec: a new mm with the stack's tables and the argument page, the old mm dropped, then the program's faults. */
  const exec = (p: UserProc): boolean => {
    const mm = new UserMm(k, shape.ranges);
    if (!mm.alloc() || !mm.touch(stack[0], stack[1]) || !mm.fault(Math.min(1, split.stack))) return false;
    const old = p.mm;
    p.mm = mm;
    old.unmap();
    old.drop();
    if (!mm.touch(program[0], program[1]) || !mm.fault(split.data)) return false;
    if (!mm.touch(heap[0], heap[1]) || !mm.fault(split.heap)) return false;
    for (const [a, b] of rest) if (!mm.touch(a, b)) return false;
    return mm.fault(split.stack - Math.min(1, split.stack));
  };
  /** fork: the stack, then dup_mm(): the PGD, the copied tables of the parent's mappings, the child's first COW page. */
  const fork = (): UserProc | null => {
    const st = forkStack(k);
    if (k.profile.arch === "i386" && st < 0) return null;
    const mm = new UserMm(k, shape.ranges);
    if (!mm.alloc()) return null;
    for (const [a, b] of shape.ranges) if (!mm.touch(a, b)) return null;
    if (!mm.fault(1)) return null;
    return { mm, stack: st };
  };
  const exit = (p: UserProc): void => {
    p.mm.unmap();
    p.mm.drop();
    if (p.stack >= 0) k.pages.__free_pages(p.stack, Math.log2(threadSize("i386", k.profile.era, false) / PAGE));
  };
  // /init: kernel_init() execs it from a kernel thread (no old mm); its stack is the kernel thread's (i386: taken here)
  const sh: UserProc = { mm: new UserMm(k, shape.ranges), stack: forkStack(k) };
  if (k.profile.arch === "i386" && sh.stack < 0) return;
  if (!exec(sh)) return;
  tables.push(...sh.mm.tablePfns());
  const cmds = INIT_SCRIPT_BEFORE_INSMOD;
  for (let i = 0; i < cmds.length; i++) {
    const group = [cmds[i]!];
    while (group[group.length - 1]!.pipeNext && i + 1 < cmds.length) group.push(cmds[++i]!);
    const procs: UserProc[] = [];
    for (let j = 0; j < group.length; j++) {
      const p = fork();
      if (!p) return;
      procs.push(p);
    }
    for (const p of procs) {
      if (!exec(p)) return;
      exit(p);
    }
  }
  // insmod: forked and exec'd, alive while the module loads
  const insmod = fork();
  if (!insmod || !exec(insmod)) return;
  tables.push(...insmod.mm.tablePfns());
}
