// Models what happens between the end of start_kernel() and the learner's `insmod` (init/main.c kernel_init(),
// run_init_process(), and the user space that runs before the module is loaded): time passes, and user space
// fills the page cache and its own anonymous memory. Linux 2.6.26 / 3.4 / 6.1.
//
// On 6.1 the page cache is the initramfs, unpacked into the rootfs (tmpfs) by populate_rootfs() during the initcalls
// (unpack_initramfs, called by kernel.ts before kernel_init's frees of __init and the image gaps): /init only reads it.
// The order matters for the per-CPU page lists (mm/pcp.ts): the freed __init pages go on the Movable list, and with the
// page cache already taken they are still there (and out of MemFree) when the learner's insmod comes, as on the
// real boots; user space then takes only its anonymous memory and page tables from them.
//
// Why this matters for a learner: where the first __get_free_page() lands depends on what the machine already
// used. In 2.6 boot memory went to the *head* of the free lists, so user space ate from the top of RAM first and
// a module loaded later gets pages below what user space took (the classic 160 MB demo printed a page at about
// 3G+121M); 6.1 frees boot memory to the tail, so the same workload leaves the low addresses in use.
//
// Simplifications, said plainly:
// - The amounts are a model, calibrated per profile, not a measurement of a running system:
//   * the 6.1 QEMU profiles reproduce the real transcripts' /proc/meminfo before insmod (an initramfs busybox:
//     Cached = Shmem ~2.2 MB, AnonPages ~0.1 MB);
//   * i386-2.6 models the classic demo's small desktop (init, a shell, daemons, the page cache of what they read):
//     36 MB, calibrated so the demo's page lands at about 3G+121M as the seed text shows;
//   * arm-3.4-msm8x25 models an Android 4.1 phone after boot (zygote, system_server, apps, their page cache).
// - Page-cache and anonymous pages are allocated as the kernel would (order 0, GFP_HIGHUSER_MOVABLE) but in larger
//   blocks once only whole MAX_ORDER blocks remain, which leaves exactly the same frames free and costs far less.
//   They are never reclaimed (the simulator has no reclaim).
// - Time: the clock jumps to when the real transcripts ran insmod (6.1), or a plausible time for the old machines.

import type { Kernel } from "../kernel.ts";
import { gfp } from "../gfp.ts";
import { PageOwner } from "../mm/page_flags.ts";
import { boot_user_processes } from "./boot_tasks.ts";

interface UserspaceModel {
  /** Simulated time of "Run /init as init process", ns. */
  initAtNs: number;
  /** Simulated time of the learner's insmod, ns. */
  insmodAtNs: number;
  /** Page cache (file pages, including tmpfs/Shmem), KiB. */
  cachedKb: number;
  /** Anonymous user memory, KiB. */
  anonKb: number;
  /**
   * 6.1's QEMU profiles: NR_FILE_MAPPED, KiB, the page-cache pages some live process maps. Before insmod that is the
   * shell and the `cat` reading /proc: both run the one static busybox of the initramfs, whose text and data pages
   * they fault in, fault-around (fault_around_bytes, 64 KiB) mapping the cached pages around each fault; a page
   * counts once however many map it. So it is the architecture's busybox binary and what sh and cat touch of it,
   * not the RAM size or the kernel build: the custom x86_64 debug kernel, with another initramfs (Cached 1972 kB)
   * but the same host busybox, reads the same 1728 kB. The figures are the transcripts' (before insmod).
   */
  mappedKb?: number;
  /**
   * Kernel objects user space caused (open files, dentries, inodes, sockets...), as kmalloc size -> count:
   * allocated once the first part of the page cache is in, so their slabs sit where user space was eating.
   */
  kmalloc?: Record<number, number>;
}

const MODELS: Record<string, UserspaceModel> = {
  // x86_64-512M-nokaslr.log: "Run /init as init process" at 1.676201, memdemo loads at 6.154646;
  // /proc/meminfo before insmod: Cached 2300 kB (= Shmem), AnonPages 112 kB.
  // Mapped 1728 kB (the debug transcript too).
  "x86_64-6.1": { initAtNs: 1_676_201_000, insmodAtNs: 6_154_646_000, cachedKb: 2300, anonKb: 112, mappedKb: 1728 },
  // i386-1G.log: "Run /init" at 3.370971, memdemo at 7.888923; Cached 2244 kB (= Shmem), AnonPages 48 kB.
  // Mapped 1456 kB.
  "i386-6.1": { initAtNs: 3_370_971_000, insmodAtNs: 7_888_923_000, cachedKb: 2244, anonKb: 48, mappedKb: 1456 },
  // The 686-pae flavour boots the same initramfs on the same QEMU as the 686 transcript.
  "i386-6.1-pae": { initAtNs: 3_370_971_000, insmodAtNs: 7_888_923_000, cachedKb: 2244, anonKb: 48, mappedKb: 1456 },
  // armhf-virt-1G.log: "Run /init" at 1.687022, memdemo at 5.284091; Cached 1472 kB (= Shmem), AnonPages 80 kB.
  // Mapped 1056 kB.
  "arm-6.1-virt": { initAtNs: 1_687_022_000, insmodAtNs: 5_284_091_000, cachedKb: 1472, anonKb: 80, mappedKb: 1056 },
  // No transcript for arm64: the same initramfs as the other 6.1 QEMU boots.
  "arm64-6.1": { initAtNs: 1_512_004_000, insmodAtNs: 5_802_557_000, cachedKb: 2300, anonKb: 112, mappedKb: 1728 },
  // The classic 160 MB demo machine: a small 2.6 desktop some minutes after boot (see the header).
  // The kernel objects (size-32..size-512 kmalloc caches) put their slabs in the first 4 MB block user space
  // split, near the top of RAM: hence the demo's kmalloc'ed block at about 3G+155M.
  "i386-2.6": {
    initAtNs: 4_216_000_000,
    insmodAtNs: 183_527_104_000,
    cachedKb: 26_112,
    anonKb: 10_752,
    kmalloc: { 32: 2900, 64: 1500, 128: 940, 256: 420, 512: 130 },
  },
  // An Android 4.1 phone a minute after boot.
  "arm-3.4-msm8x25": { initAtNs: 2_830_000_000, insmodAtNs: 64_211_902_000, cachedKb: 196_608, anonKb: 131_072 },
};

/** The model of a profile (profiles without one get the 6.1 initramfs model). */
export function userspaceModel(profileName: string): UserspaceModel {
  return MODELS[profileName] ?? MODELS["x86_64-6.1"]!;
}

/** Take `pages` frames for user space, owned by `owner`, the way order-0 faults would take them. */
function consume(k: Kernel, pages: number, owner: number): void {
  const pa = k.pages;
  const mask = gfp(k.profile.era, "GFP_HIGHUSER_MOVABLE") | gfp(k.profile.era, "__GFP_NOWARN");
  // On an old machine too small for the model's page cache and processes, the real one would reclaim the cache and
  // stop short, never panic: here the faults end where the free lists (the per-CPU lists drained) run out. 6.1's page
  // cache is the initramfs in tmpfs and its processes' memory is anonymous, with no swap: nothing to reclaim, so a
  // fault that finds no page is out_of_memory() with no process it may kill, the boot's panic (mm/oom_boot.ts).
  pa.userFaultsMayFail = k.profile.era !== "6.1";
  try {
    consumeFrom(k, pages, owner, mask);
  } finally {
    pa.userFaultsMayFail = false;
  }
}

function consumeFrom(k: Kernel, pages: number, owner: number, mask: number): void {
  const pa = k.pages;
  const top = pa.maxOrder - 1;
  while (pages > 0) {
    // Once no block smaller than MAX_ORDER-1 is free anywhere, order-0 faults split the head MAX_ORDER block
    // from its bottom up: taking the whole block at once leaves the same frames free.
    let order = 0;
    if (pages >= 1 << top && !anySmallerFree(k, top)) order = top;
    const pfn = pa.alloc_pages(mask, order, owner as never);
    if (pfn < 0) return; // a full machine: user space simply got less
    pages -= 1 << order;
  }
}

/** Whether a zone with managed pages has a free block below order `below` (a loop, not a closure per page: a cold JIT). */
function anySmallerFree(k: Kernel, below: number): boolean {
  const zones = k.pages.zones;
  for (let i = 0; i < zones.length; i++) if (zones[i]!.managed > 0 && smallerFree(k, zones[i]!.idx, below)) return true;
  return false;
}

function smallerFree(k: Kernel, zoneIdx: number, below: number): boolean {
  for (let o = 0; o < below; o++) if (k.pages.nrFreeAt(zoneIdx, o) > 0) return true;
  return false;
}

/** The model's page cache in pages. */
function cachePagesOf(k: Kernel): number {
  return Math.ceil(userspaceModel(k.profile.name).cachedKb / (k.layout.pageSize >> 10));
}

/**
 * 6.1's rootfs_initcall populate_rootfs() (do_populate_rootfs, init/initramfs.c): the initramfs is unpacked into the
 * rootfs (tmpfs), whose pages are the whole page cache the early user space has (Cached = Shmem): they are taken
 * here, during the initcalls, before kernel_init() frees __init and the image gaps; /init only reads them.
 */
export function unpack_initramfs(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  consume(k, cachePagesOf(k), PageOwner.PageCache);
}

/**
 * kernel_init() ... user space: the machine as the learner finds it when their module is loaded. With `unpacked`
 * (6.1, unpack_initramfs ran) the page cache is already there.
 */
export function start_userspace(k: Kernel, unpacked = false): void {
  const m = userspaceModel(k.profile.name);
  k.clock.setAtLeast(m.initAtNs);
  // run_init_process() has said so since 3.x (pr_info "Run %s as init process"); the 2.6 and 3.4 kernels modelled
  // here start init silently. (The 6.1 boots have freed the initrd, __init and the image gaps just before:
  // init/free_initmem.ts; the old eras keep their boot values.)
  if (k.profile.era === "6.1") k.printk("\u00016Run /init as init process\n");
  const perPage = k.layout.pageSize >> 10;
  const cachePages = cachePagesOf(k);
  // The first files read fill the page cache, and with them the kernel allocates its own objects...
  const anonPages = Math.ceil(m.anonKb / perPage);
  // The old machines' processes are forked (their kernel stacks taken) before they fault their memory in, so a
  // machine too small for the model's page cache is short of cache, never of stacks.
  const oldEra = k.profile.era !== "6.1";
  if (oldEra) boot_user_processes(k, cachePages, anonPages);
  if (!unpacked) {
    const early = Math.min(cachePages, 512);
    consume(k, early, PageOwner.PageCache);
    for (const [size, n] of Object.entries(m.kmalloc ?? {})) k.slab.populateUserspaceKmalloc(Number(size), n);
    // ...then the rest of the page cache and the processes' own memory.
    consume(k, cachePages - early, PageOwner.PageCache);
  }
  // The processes themselves: kernel stacks, page tables, the commit charge of their mappings and of tmpfs. On 6.1
  // the processes fault their anonymous memory in themselves, /init's commands one after the other (boot_tasks.ts).
  if (oldEra) consume(k, anonPages, PageOwner.Anon);
  else boot_user_processes(k, cachePages, anonPages);
  k.clock.setAtLeast(m.insmodAtNs);
}
