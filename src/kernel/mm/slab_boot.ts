// Models the slab state the rest of a Linux 6.1 boot leaves (init/main.c do_initcalls() and the early user space of
// /init): which caches the initcalls create, in their order, and how many objects each holds when /init's shell
// reads /proc, per architecture. slub.ts replays it through the allocator's own bulk path (whole slabs at a time), in
// time order with the boot's other allocations (SlabAllocator.planBoot61: each cache's objects at an even rate from
// kmem_cache_init to /init's shell, ticked by mm/vmalloc_boot.ts's steps and kernel.ts's later stages), so the slab
// pages, the SReclaimable/SUnreclaim split, /proc/slabinfo, the free lists and where the last slabs lie beside the
// boot's vmalloc pages, stacks and page tables are what the allocator makes of these objects, not pasted totals.
//
// Sources and mechanism:
// - Cache names, creation order and object sizes (the slot, s->size) are those of the real Debian 6.1 boots in
//   test/fixtures/real-kernel (x86_64 512M, i386 1G, armhf 1G), each architecture from its own /proc/slabinfo: the
//   32-bit kernels have 32-bit structures (task_struct 2944 on i386 and 2752 on armmp against 6208, vm_area_struct
//   72 against 152, vmap_area 32 against 64, dentry 128/136 against 192). objperslab and pagesperslab are not data:
//   the allocator's calculate_order() derives them from the size (test/kernel/boot_slab.test.ts checks that they
//   come out as the real columns).
// - Object counts are the real num_objs of a 1-CPU boot. They do not scale with RAM (the kernel's own RAM-scaled
//   boot structures, the dentry/inode hash tables and the memmap, come from memblock: init/vfs_hash.ts,
//   page_alloc.ts): the dentries, inodes and kernfs nodes are sysfs, /proc, devtmpfs and the initramfs's files,
//   the same at 256 MiB as at 4 GiB. What does scale is derived, not tabled: kmem_cache and kmem_cache_node hold
//   one object per cache (SLUB's struct kmem_cache and its per-node kmem_cache_node; 1 node), and the task caches
//   and kernel stacks follow the number of tasks (bootTasks(): per-CPU kthreads scale with the CPUs), and x86_64's
//   sysfs memory block devices follow the RAM (drivers/memory_blocks.ts: one per 128 MiB section; the x86_64 table
//   holds the real 512M boot's four, and bootSlab61() adds or removes the difference).
// - kmalloc above KMALLOC_MAX_CACHE_SIZE (8 KiB) goes to the page allocator and counts in 6.1's Slab line
//   (NR_SLAB_UNRECLAIMABLE_B): the real Slab minus the real slabinfo's pages (x86_64 1128 kB, i386 108 kB, armhf
//   68 kB). Simplification: which allocations those are is not visible in the logs; they are replayed as 16 KiB
//   kmallocs (the smallest size that takes that path), 70 / 7 / 4 of them.
// - arm64-6.1 has no real log: x86_64's table (64-bit sizes) without the ACPI caches; kmalloc objects of the classes
//   arm64 6.1 does not have (KMALLOC_MIN_SIZE 128) land in its smallest class, as those allocations would.
//
// Simplifications (stated): a cache that the real kernel creates with a constructor or SLAB_TYPESAFE_BY_RCU is
// given its real slot size and marked unmergeable instead of carrying a constructor (its objects are never
// constructed here); the boot creates every cache at kmem_cache_init() (the real initcalls create them later) and
// fills it at an even rate (the real boot allocates in bursts: trace events at fs_initcall, kernfs nodes as devices
// register, the initramfs's inodes in user space); SLUB's per-CPU partial slabs are folded into the counts (a real num_objs
// includes them); the debug config boots the same caches with slub_debug's larger layout (the real debug build in
// test/fixtures is a different, smaller configuration).

import type { Arch, Era } from "../types.ts";
import { KERNFS_NODES_PER_BLOCK, memoryBlockObjects, TABLE_MEMORY_BLOCKS } from "../drivers/memory_blocks.ts";
import { SLAB_ACCOUNT, SLAB_RECLAIM_ACCOUNT, type KmallocType } from "./slab_common.ts";

/** One boot cache: its name, the slot size (slabinfo's objsize), its flags and the objects the boot leaves in it. */
export interface BootCache61 {
  name: string;
  size: number;
  flags: number;
  /** Created with a constructor, SLAB_TYPESAFE_BY_RCU or a usercopy region: SLUB never merges another cache into it. */
  unmergeable: boolean;
  objs: number;
}

export interface BootSlab61 {
  caches: BootCache61[];
  /** kmalloc objects per type and class size (bytes): the initcalls' and user space's kmalloc()s. */
  kmalloc: { type: KmallocType; size: number; objs: number }[];
  /** Sizes of the boot's kmalloc()s above KMALLOC_MAX_CACHE_SIZE (page allocator, counted in Slab). */
  large: number[];
  /**
   * kmalloc classes whose short-lived burst the boot freed after the class's last live objects: SLUB keeps
   * min_partial of the emptied slabs on the node's partial list (see bootBurstClasses()).
   */
  burst: { type: KmallocType; size: number }[];
}

// "name:slot:objects", oldest cache first (the reverse of /proc/slabinfo's order), as the real boots list them.
const TABLES: Record<"x86_64" | "i386" | "arm", { caches: string; kmalloc: string; large: number }> = {
  x86_64: {
    caches: [
      "vmap_area:64:128 mm_struct:1152:14 task_group:640:0 radix_tree_node:584:238 maple_node:256:64 ftrace_event_field:56:3285",
      "trace_event_file:96:1344 perf_event:1232:13 numa_policy:272:15 shared_policy_node:48:425 Acpi-State:80:51 Acpi-Operand:72:448 pid:128:64",
      "anon_vma:104:39 anon_vma_chain:64:64 cred_jar:192:63 task_struct:6208:60 sighand_cache:2112:60 signal_cache:1152:70 files_cache:704:11",
      "vm_area_struct:152:52 nsproxy:72:56 uts_namespace:432:0 lsm_file_cache:24:170 lsm_inode_cache:32:10368 iint_cache:128:0",
      "net_namespace:4480:0 names_cache:4096:8 dentry:192:10290 inode_cache:640:9900 filp:256:16 mnt_cache:320:24 kernfs_node_cache:128:10528",
      "kernfs_iattrs_cache:88:0 shmem_inode_cache:784:380 bdev_cache:1600:10 sigqueue:80:51 seq_file:120:34 proc_inode_cache:712:22",
      "pde_opener:40:102 proc_dir_entry:192:273 taskstats:416:0 buffer_head:104:0 file_lock_cache:216:0 skbuff_head_cache:256:16",
      "skbuff_fclone_cache:512:8 skbuff_ext_cache:192:21 sock_inode_cache:832:19 dmaengine-unmap-128:1088:15 dmaengine-unmap-256:2112:15",
      "user_namespace:624:0 khugepaged_mm_slot:112:0 biovec-64:1024:8 biovec-128:2048:8 biovec-max:4096:48 bio-192:256:16 request_queue:968:0",
      "request_queue_srcu:1360:0 dax_cache:832:19 ep_head:16:0 bio-256:320:36 dquot:256:0 hugetlbfs_inode_cache:664:12 TCP:2304:0",
      "request_sock_TCP:312:0 tw_sock_TCP:272:0 RAW:1024:8 PING:1024:0 ip_fib_alias:56:0 ip_fib_trie:48:0 xfrm_state:768:0 xfrm_dst_cache:320:0",
      "request_sock_subflow_v4:384:0 MPTCP:1984:0 ip4-frags:200:0 pid_namespace:136:0 dnotify_struct:32:0 userfaultfd_ctx_cache:192:0 kioctx:576:0",
      "mqueue_inode_cache:960:8 TCPv6:2496:0 request_sock_TCPv6:312:0 tw_sock_TCPv6:272:0 UDPv6:1344:0 RAWv6:1216:13 PINGv6:1216:0 ip6-frags:184:0",
      "request_sock_subflow_v6:384:0 MPTCPv6:2176:0 fscrypt_info:128:0 fsverity_info:256:0",
    ].join(" "),
    kmalloc: [
      "kmalloc-8:1536 kmalloc-16:1024 kmalloc-32:1280 kmalloc-64:1600 kmalloc-96:420 kmalloc-128:352 kmalloc-192:294 kmalloc-256:416",
      "kmalloc-512:240 kmalloc-1k:248 kmalloc-2k:120 kmalloc-4k:24 kmalloc-8k:12 kmalloc-cg-8:512 kmalloc-cg-16:256 kmalloc-cg-32:128",
      "kmalloc-cg-64:64 kmalloc-cg-96:42 kmalloc-cg-128:64 kmalloc-cg-192:42 kmalloc-cg-256:16 kmalloc-cg-512:24 kmalloc-cg-1k:8 kmalloc-cg-2k:16",
      "kmalloc-cg-4k:16 kmalloc-rcl-64:64",
    ].join(" "),
    large: 70,
  },
  i386: {
    caches: [
      "vmap_area:32:384 mm_struct:576:14 task_group:384:0 radix_tree_node:304:234 maple_node:256:48 ftrace_event_field:40:3366",
      "trace_event_file:56:1460 perf_event:848:19 Acpi-State:48:510 pid:64:64 anon_vma:56:73 anon_vma_chain:32:128 cred_jar:128:64",
      "task_struct:2944:55 sighand_cache:1312:60 signal_cache:736:55 files_cache:256:16 vm_area_struct:72:56 nsproxy:40:102 uts_namespace:416:0",
      "key_jar:160:25 lsm_file_cache:16:11008 iint_cache:80:0 net_namespace:3264:0 names_cache:4096:8 dentry:128:10816 inode_cache:416:10412",
      "filp:160:25 mnt_cache:192:42 kernfs_node_cache:80:10047 kernfs_iattrs_cache:64:0 shmem_inode_cache:488:376 bdev_cache:992:8 sigqueue:48:85",
      "proc_inode_cache:456:17 pde_opener:24:170 proc_dir_entry:128:288 taskstats:416:0 buffer_head:64:0 fsnotify_mark_connector:24:0",
      "file_lock_cache:128:32 skbuff_head_cache:192:21 sock_inode_cache:608:26 uid_cache:96:0 user_namespace:416:0 biovec-16:192:0 biovec-64:768:0",
      "biovec-128:1536:0 biovec-max:3072:50 bio-144:160:25 request_queue:552:0 request_queue_srcu:760:0 sgpool-16:320:12 sgpool-32:640:12",
      "sgpool-64:1280:12 sgpool-128:2560:12 ep_head:8:0 bio-188:192:42 dquot:160:0 hugetlbfs_inode_cache:424:19 TCP:1792:0 request_sock_TCP:240:0",
      "tw_sock_TCP:208:0 UDP:896:9 RAW:768:10 xfrm_state:544:0 xfrm_dst_cache:224:0 request_sock_subflow_v4:296:0 MPTCP:1472:0 ip4-frags:136:0",
      "UNIX:768:0 posix_timers_cache:168:0 pid_namespace:80:0 userfaultfd_ctx_cache:96:0 kioctx:448:0 mqueue_inode_cache:640:12 bio-208:224:18",
      "bio-96:128:32 TCPv6:1888:0 request_sock_TCPv6:240:0 tw_sock_TCPv6:208:0 UDPv6:1024:0 RAWv6:896:9 request_sock_subflow_v6:296:0",
      "MPTCPv6:1568:0 fscrypt_info:96:0 fsverity_info:240:0",
    ].join(" "),
    kmalloc: [
      "kmalloc-8:1024 kmalloc-16:2560 kmalloc-32:1152 kmalloc-64:704 kmalloc-96:294 kmalloc-128:384 kmalloc-192:231 kmalloc-256:224",
      "kmalloc-512:296 kmalloc-1k:136 kmalloc-2k:32 kmalloc-4k:8 kmalloc-8k:8 kmalloc-cg-8:512 kmalloc-cg-16:256 kmalloc-cg-32:128",
      "kmalloc-cg-64:64 kmalloc-cg-96:42 kmalloc-cg-128:32 kmalloc-cg-192:21 kmalloc-cg-256:16 kmalloc-cg-512:8 kmalloc-cg-1k:16 kmalloc-cg-2k:8",
      "kmalloc-cg-4k:8 kmalloc-rcl-64:64",
    ].join(" "),
    large: 7,
  },
  arm: {
    caches: [
      "vmap_area:32:128 mm_struct:512:8 task_group:384:0 radix_tree_node:304:208 maple_node:256:48 ftrace_event_field:40:3264",
      "trace_event_file:56:1314 perf_event:872:0 pid:64:64 anon_vma:56:73 anon_vma_chain:32:128 cred_jar:128:64 task_struct:2752:55",
      "sighand_cache:1344:48 signal_cache:768:60 files_cache:256:16 vm_area_struct:72:56 nsproxy:40:102 uts_namespace:416:0 key_jar:192:21",
      "lsm_file_cache:16:10240 iint_cache:88:0 net_namespace:3264:0 names_cache:4096:8 dentry:136:10080 inode_cache:432:9666 filp:192:42",
      "kernfs_node_cache:88:9154 kernfs_iattrs_cache:80:0 shmem_inode_cache:512:384 bdev_cache:1088:15 sigqueue:48:85 seq_file:80:51",
      "proc_inode_cache:472:17 pde_opener:24:170 proc_dir_entry:128:288 taskstats:416:0 buffer_head:64:0 fsnotify_mark_connector:24:0",
      "file_lock_cache:128:32 skbuff_head_cache:192:21 skbuff_fclone_cache:448:0 sock_inode_cache:640:24 dmaengine-unmap-2:64:64",
      "dmaengine-unmap-128:1088:15 dmaengine-unmap-256:2112:15 user_namespace:416:0 biovec-64:768:0 biovec-128:1536:0 biovec-max:3072:50",
      "bio-152:192:21 request_queue:552:0 request_queue_srcu:752:0 sgpool-16:512:8 sgpool-32:1024:8 sgpool-64:2048:8 sgpool-128:4096:8 ep_head:8:0",
      "bio-200:256:32 dquot:192:0 TCP:1856:0 request_sock_TCP:240:0 tw_sock_TCP:208:0 UDP:896:9 RAW:768:10 xfrm_state:576:0",
      "request_sock_subflow_v4:304:0 MPTCP:1472:0 ip4-frags:136:0 posix_timers_cache:184:0 audit_tree_mark:48:0 userfaultfd_ctx_cache:128:0",
      "mqueue_inode_cache:640:12 bio-216:256:16 bio-104:128:32 TCPv6:1920:0 request_sock_TCPv6:240:0 tw_sock_TCPv6:208:0 UDPv6:1024:0 RAWv6:960:8",
      "PINGv6:960:0 request_sock_subflow_v6:304:0 MPTCPv6:1600:0 fscrypt_info:96:0 fsverity_info:248:0",
    ].join(" "),
    kmalloc: [
      "kmalloc-64:4032 kmalloc-128:832 kmalloc-192:231 kmalloc-256:240 kmalloc-512:248 kmalloc-1k:112 kmalloc-2k:24 kmalloc-4k:16 kmalloc-8k:8",
      "kmalloc-cg-64:128 kmalloc-cg-128:64 kmalloc-cg-192:21 kmalloc-cg-256:16 kmalloc-cg-512:8 kmalloc-cg-1k:16 kmalloc-cg-2k:8 kmalloc-cg-4k:8",
      "kmalloc-rcl-64:64",
    ].join(" "),
    large: 4,
  },
};

/** The slot of a cache created with SLAB_RECLAIM_ACCOUNT (its pages are SReclaimable). */
const RECLAIMABLE = new Set(["dentry", "inode_cache", "proc_inode_cache", "sock_inode_cache", "radix_tree_node", "bdev_cache", "buffer_head", "dquot"]);
/** Caches created with SLAB_ACCOUNT (memcg-charged): SLAB_MERGE_SAME keeps module caches without it apart. */
const ACCOUNTED = new Set(
  (
    "pid anon_vma anon_vma_chain cred_jar task_struct sighand_cache signal_cache files_cache vm_area_struct nsproxy mm_struct uts_namespace " +
    "pid_namespace user_namespace net_namespace key_jar dentry inode_cache filp mnt_cache shmem_inode_cache proc_inode_cache sock_inode_cache " +
    "mqueue_inode_cache hugetlbfs_inode_cache seq_file sigqueue pde_opener file_lock_cache kioctx userfaultfd_ctx_cache posix_timers_cache " +
    "TCP TCPv6 UDP UDPv6 RAW RAWv6 PING PINGv6 UNIX MPTCP MPTCPv6 request_sock_TCP request_sock_TCPv6 tw_sock_TCP tw_sock_TCPv6"
  ).split(" "),
);
/** Created with a constructor, SLAB_TYPESAFE_BY_RCU or a usercopy region (never a merge target in SLUB). */
const UNMERGEABLE = new Set(
  (
    "anon_vma sighand_cache task_struct mm_struct names_cache dentry inode_cache shmem_inode_cache proc_inode_cache sock_inode_cache " +
    "mqueue_inode_cache hugetlbfs_inode_cache bdev_cache radix_tree_node TCP TCPv6 UDP UDPv6 RAW RAWv6 PING PINGv6 UNIX MPTCP MPTCPv6"
  ).split(" "),
);
/** The caches with one object per task (copy_process(): dup_task_struct, copy_sighand, copy_signal, alloc_pid, prepare_creds). */
const PER_TASK = new Set(["task_struct", "signal_cache", "sighand_cache", "pid", "cred_jar"]);

const KMALLOC_PREFIX: [string, KmallocType][] = [
  ["dma-kmalloc-", "dma"],
  ["kmalloc-rcl-", "reclaim"],
  ["kmalloc-cg-", "cgroup"],
  ["kmalloc-", "normal"],
];

function classBytes(s: string): number {
  return s.endsWith("k") ? Number(s.slice(0, -1)) * 1024 : Number(s);
}

/**
 * The tasks a booted 6.1 machine has when /init's shell reads /proc (one per kernel stack: KernelStack / THREAD_SIZE
 * of the real boots, x86_64 736 kB / 16 KiB = 46, i386 368 kB / 8 KiB = 46, armmp 352 kB / 8 KiB = 44):
 * - per CPU: cpuhp/N, migration/N, ksoftirqd/N, kworker/N:0 and kworker/N:0H, and an idle task for every CPU but
 *   the boot CPU's (whose idle task runs on the static init_stack, counted nowhere);
 * - the global kthreads (kthreadd, rcu_*, kworkers of the unbound pools, kswapd0, kcompactd0, khugepaged, kauditd,
 *   the workqueue rescuers, scsi_eh_N...): the rest of the real count, per architecture (ACPI's and the x86
 *   drivers' threads make x86 two more than armmp);
 * - user space: /init's shell and the command reading /proc (cat).
 */
export function bootTasks(arch: Arch, nrCpus: number, userspace: boolean): { kthreads: number; user: number; total: number } {
  const PER_CPU = 5;
  const global = arch === "arm" ? 37 : 39;
  const kthreads = global + PER_CPU * nrCpus + (nrCpus - 1);
  const user = userspace ? 2 : 0;
  return { kthreads, user, total: kthreads + user };
}

/** THREAD_SIZE per architecture and era (the one definition: meminfo's KernelStack, kthreads, the boot's stacks). */
export function threadSize(arch: Arch, era: Era, kasan: boolean): number {
  // x86_64: THREAD_SIZE_ORDER 1 until 3.15, then 2, plus KASAN_STACK_ORDER; arm64: 16 KiB, doubled by KASAN
  // (KASAN_THREAD_SHIFT); ARM: 8 KiB, 16 KiB with KASAN (5.11+); i386: 8 KiB.
  if (arch === "x86_64") return era === "6.1" ? (kasan ? 32768 : 16384) : 8192;
  if (arch === "arm64") return kasan ? 32768 : 16384;
  if (arch === "arm") return kasan ? 16384 : 8192;
  return 8192;
}

/**
 * The 6.1 boot's slab population for an architecture (see the header); `tasks` is bootTasks().total, `memoryBlocks`
 * the ids of x86_64's memory block devices (drivers/memory_blocks.ts memoryBlockIds(); omitted: the table's own).
 */
export function bootSlab61(arch: Arch, tasks: number, memoryBlocks?: readonly number[]): BootSlab61 {
  const table = TABLES[arch === "arm64" ? "x86_64" : arch === "x86_64" || arch === "i386" || arch === "arm" ? arch : "x86_64"];
  // The tables are a 1-CPU boot with user space: that many tasks own one object in each per-task cache.
  const tableTasks = bootTasks(arch === "arm64" ? "x86_64" : arch, 1, true).total;
  const caches: BootCache61[] = [];
  for (const item of table.caches.split(" ")) {
    const [name, size, objs] = item.split(":") as [string, string, string];
    if (arch === "arm64" && name.startsWith("Acpi-")) continue;
    let n = Number(objs);
    if (PER_TASK.has(name)) n = Math.max(0, n + tasks - tableTasks);
    const flags = (RECLAIMABLE.has(name) ? SLAB_RECLAIM_ACCOUNT : 0) | (ACCOUNTED.has(name) ? SLAB_ACCOUNT : 0);
    caches.push({ name, size: Number(size), flags, unmergeable: UNMERGEABLE.has(name), objs: n });
  }
  const kmalloc: BootSlab61["kmalloc"] = [];
  for (const item of table.kmalloc.split(" ")) {
    const [name, objs] = item.split(":") as [string, string];
    const [prefix, type] = KMALLOC_PREFIX.find(([p]) => name.startsWith(p))!;
    kmalloc.push({ type, size: classBytes(name.slice(prefix.length)), objs: Number(objs) });
  }
  if (arch === "x86_64" && memoryBlocks) {
    // The blocks' objects at this RAM size less the table's (4 blocks): each key's difference, never below 0.
    const kernfs = caches.find((c) => c.name === "kernfs_node_cache")!;
    const base = kernfs.objs - KERNFS_NODES_PER_BLOCK * TABLE_MEMORY_BLOCKS.length;
    const want = memoryBlockObjects(memoryBlocks, base);
    const had = memoryBlockObjects(TABLE_MEMORY_BLOCKS, base);
    for (const [key, n] of want) {
      const d = n - (had.get(key) ?? 0);
      const [kind, what] = key.split(":") as [string, string];
      if (kind === "cache") {
        const c = caches.find((x) => x.name === what)!;
        c.objs = Math.max(0, c.objs + d);
      } else {
        const size = Number(what);
        const e = kmalloc.find((x) => x.type === "normal" && x.size === size);
        if (e) e.objs = Math.max(0, e.objs + d);
        else if (d > 0) kmalloc.push({ type: "normal", size, objs: d });
      }
    }
  }
  return { caches, kmalloc, large: Array.from({ length: table.large }, () => 16384), burst: bootBurstClasses(arch) };
}

/**
 * The kmalloc classes in which the 6.1 boot freed a burst of short-lived objects after the class's last live ones.
 *
 * Mechanism (mm/slub.c __slab_free / __unfreeze_partials, 6.1): a slab that becomes empty stays on the node's partial
 * list while n->nr_partial < s->min_partial, and is discarded (its pages freed) beyond that; set_min_partial() gives
 * min_partial = ilog2(s->size) / 2 clamped to 5..10 (5 for every class up to 8 KiB). /proc/slabinfo's active_objs
 * counts every object but the free ones on the node's partial lists (count_partial(n, count_free)). So a burst of at
 * least min_partial slabs' worth of objects, freed, leaves exactly min_partial empty slabs and their
 * min_partial x objperslab free objects, whatever its size beyond that (the rest of its slabs went back to the page
 * allocator).
 *
 * The real slabinfo of each architecture shows it in one class, pointer-sized (an object of two to four pointers,
 * 17-32 bytes on x86_64, 9-16 on i386): x86_64's kmalloc-32 has 1280 objects, 625 active (655 free: 5 x 128 + 15),
 * i386's kmalloc-16 2560, 1252 active (1308 free: 5 x 256 + 28). The other classes have fewer free objects than one
 * slab's worth (x86_64 kmalloc-8: 1). The burst that fits: kernel_init() -> ftrace_free_init_mem() ->
 * ftrace_free_mem() kmallocs one struct ftrace_init_func (a list_head and the ip: 24 bytes on x86_64, 12 on i386)
 * per dyn_ftrace record in the __init text (add_to_clear_hash_list), thousands of them, and kfrees them all once the
 * records are gone, just before free_initmem().
 * armmp: that struct lands in kmalloc-64 (KMALLOC_MIN_SIZE 64), the class of every small kmalloc, and the real
 * kmalloc-64 has 96 free objects of 4032, fewer than min_partial slabs: the objects allocated after the burst (user
 * space's) refilled its empty slabs. The replay does not model that refill (its objects come at an even rate), so it
 * gives armmp and arm64 (no transcript) no burst, which is what the real armmp slabinfo shows.
 * Simplifications (stated): the replay frees the objects of the class's min_partial newest full boot slabs when the
 * class's last boot objects are in (the end of the replay, kernel_init's time); the tables' object counts are the
 * real num_objs, these empty slabs included, so no page moves (the burst's slabs beyond min_partial, discarded, were
 * never in num_objs). The few free objects the real boots also have in partly used slabs (15 and 28) come from frees
 * the logs do not show and are not replayed.
 */
export function bootBurstClasses(arch: Arch): { type: KmallocType; size: number }[] {
  if (arch === "x86_64") return [{ type: "normal", size: 32 }];
  if (arch === "i386") return [{ type: "normal", size: 16 }];
  return [];
}
