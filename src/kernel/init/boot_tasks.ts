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
// - The user processes' page tables: the tables their mappings need, from the user layout (mm/mmap.ts): the
//   program with its data and heap, the vdso below mmap_base, and the stack; one PTE page per PTE table's span (2 MiB
//   on x86_64/arm64/ARM's pair of hardware tables, 4 MiB on non-PAE i386) and, on four-level machines, one PMD page
//   per 1 GiB (both count in NR_PAGETABLE; the PUD and the top level do not). Simplification: the pages are
//   allocated and held, not filled with entries (the boot processes' own tables are not walkable).
// - Committed_AS (vm_committed_as): the initramfs is tmpfs, whose pages charge the commit one by one
//   (shmem_acct_block() on a VM_NORESERVE inode), plus each process's private writable mappings (VM_ACCOUNT): its
//   stack (setup_arg_pages: 128 KiB + the argument page), its heap (busybox's first malloc: brk + 132 KiB) and
//   busybox-static's .data/.bss (a calibrated size: 18 pages on the 64-bit build, 11 on the 32-bit ones, what makes the
//   real boots' Committed_AS minus their Shmem come out: x86_64 672 kB, i386 and armhf 616 kB for two processes).
//
// Only the 6.1 profiles are modelled this way; the 2.6 and 3.4 machines keep KernelStack and Committed_AS at 0.

import type { Kernel } from "../kernel.ts";
import { gfp } from "../gfp.ts";
import { PageOwner } from "../mm/page_flags.ts";
import { userLayout } from "../mm/mmap.ts";
import { bootTasks, threadSize } from "../mm/slab_boot.ts";
import { SideTable } from "../snapshot.ts";

const PAGE = 4096;

/** The boot processes' page-table frames (a kernel snapshot copies the table): debug/invariants.ts claims them. */
const processTables = new SideTable<object, number[]>();

/** The page-table frames /init's shell and its child hold (empty before user space, and on the old eras). */
export function bootProcessTablePfns(k: Kernel): readonly number[] {
  return processTables.get(k) ?? [];
}

/** The kernel threads (and the idle tasks of the secondary CPUs): their count, and i386's stacks from the page allocator. */
export function boot_kthreads(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  const t = bootTasks(k.profile.arch, k.profile.nrCpus, false);
  k.nrTasks = t.kthreads;
  if (k.profile.arch === "i386") {
    // alloc_thread_stack_node() without VMAP_STACK: alloc_pages_node(THREADINFO_GFP, THREAD_SIZE_ORDER).
    const order = Math.log2(threadSize("i386", "6.1", false) / PAGE);
    const mask = gfp(k.profile.era, "GFP_KERNEL") | gfp(k.profile.era, "__GFP_ZERO") | gfp(k.profile.era, "__GFP_ACCOUNT");
    for (let i = 0; i < t.kthreads; i++) if (k.pages.alloc_pages(mask, order, PageOwner.Kernel) < 0) break;
  }
}

/** Distinct table indices a set of [start, end) ranges touches, for tables spanning 2^shift bytes each. */
function tablesFor(ranges: [bigint, bigint][], shift: bigint): number {
  const seen = new Set<bigint>();
  for (const [a, b] of ranges) for (let i = a >> shift; i <= (b - 1n) >> shift; i++) seen.add(i);
  return seen.size;
}

/** Busybox-static's writable .data/.bss pages (see the header). */
function busyboxDataPages(k: Kernel): number {
  return k.profile.arch === "x86_64" || k.profile.arch === "arm64" ? 18 : 11;
}

/** /init's shell and the command reading /proc: their stacks, page tables and commit charge. */
export function boot_user_processes(k: Kernel, shmemPages: number): void {
  if (k.profile.era !== "6.1") return;
  const arch = k.profile.arch;
  const t = bootTasks(arch, k.profile.nrCpus, true);
  const procs = t.user;
  k.nrTasks = t.total;
  const era = k.profile.era;
  const order = Math.log2(threadSize(arch, era, false) / PAGE);
  const L = userLayout(k);
  const stackPages = Number(L.stackExpand / 4096n) + 1;
  const heapPages = 33;
  const exePages = L.segments.reduce((a, [, n]) => a + n, 0);
  const exeEnd = L.exeBase + BigInt((exePages + busyboxDataPages(k) + heapPages) * PAGE);
  const vdsoPages = L.vdso.reduce((a, [, n]) => a + n, 0);
  const ranges: [bigint, bigint][] = [
    [L.exeBase, exeEnd],
    [L.mmapBase - BigInt(vdsoPages * PAGE), L.mmapBase],
    [L.stackTop - BigInt(stackPages * PAGE), L.stackTop],
  ];
  const fourLevel = arch === "x86_64" || arch === "arm64";
  const ptePages = tablesFor(ranges, arch === "i386" ? 22n : 21n);
  const pmdPages = fourLevel ? tablesFor(ranges, 30n) : 0;
  const pgtMask = gfp(era, "GFP_KERNEL") | gfp(era, "__GFP_ZERO") | gfp(era, "__GFP_ACCOUNT");
  k.vmCommittedPages += shmemPages + procs * (stackPages + heapPages + busyboxDataPages(k));
  const tables: number[] = [];
  processTables.set(k, tables);
  for (let p = 0; p < procs; p++) {
    if (arch === "i386" && k.pages.alloc_pages(pgtMask, order, PageOwner.Kernel) < 0) return;
    for (let i = 0; i < ptePages + pmdPages; i++) {
      const pfn = k.pages.alloc_pages(pgtMask, 0, PageOwner.PageTable);
      if (pfn < 0) return;
      tables.push(pfn);
    }
  }
}
