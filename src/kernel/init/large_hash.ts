// Models mm/page_alloc.c alloc_large_system_hash() of Linux 6.1 for the tables the initcalls allocate after mm_init
// (from the page allocator, not memblock: fs/namespace.c mnt_init(), kernel/futex/core.c futex_init(),
// fs/quota/dquot.c dquot_init(), net/ipv4/route.c ip_rt_init(), net/ipv4/tcp.c tcp_init(), net/mptcp/token.c
// mptcp_token_init(), net/ipv4/udp.c udp_table_init()), kernel/pid.c pid_idr_init()'s line, and the boot log lines
// they print, in the real boots' order.
//
// Sizing, as the kernel does it: with no boot parameter, numentries = nr_kernel_pages rounded up to a MiB of pages,
// shifted by (scale - PAGE_SHIFT), at least a page of buckets; a power of two; at most 1/16 of all memory (or the
// caller's high limit), at least its low limit. So the Mount-cache, IP idents, TCP, MPTCP and UDP tables scale with
// RAM (nr_kernel_pages: init/vfs_hash.ts hashPageCounts), the futex table with the possible CPUs, Table-perturb and
// the dquot hash not at all. The bucket sizes are the structures' sizes on each architecture (32-bit: 4-byte
// pointers and spinlocks; struct futex_hash_bucket is cacheline-aligned, 64 bytes on all three builds).
// Each table is alloc_pages_exact(size, GFP_ATOMIC[|__GFP_ZERO]): one block of get_order(size) pages; the line prints
// "(order: get_order(size), size bytes, linear)" (hashdist is off on one node). Simplification: alloc_pages_exact's
// free of the block's unused tail pages is not modelled (only x86_64's 12 KiB MPTCP table has one: it holds 16 KiB).
// The 2.6 and 3.4 eras print and allocate none of this here (their boot logs are not modelled past mem_init).

import type { Kernel } from "../kernel.ts";
import { KERN_INFO } from "../kernel/printk.ts";
import { memory_dev_init } from "../drivers/memory_blocks.ts";
import { gfp } from "../gfp.ts";
import { PageOwner } from "../mm/page_flags.ts";
import { adaptScale, hashPageCounts } from "./vfs_hash.ts";

const PAGE = 4096;
const HASH_ZERO = 1;

const getOrder = (size: number): number => Math.max(0, Math.ceil(Math.log2(size / PAGE)));
const roundupPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

interface HashSpec {
  name: string;
  bucket: number;
  /** A fixed entry count the caller passes (futex, Table-perturb, TCP bind); 0: sized from memory. */
  numentries: number;
  scale: number;
  flags: number;
  low: number;
  /** high_limit (0: 1/16 of memory). */
  high: number;
}

/** alloc_large_system_hash() without HASH_EARLY: the entry count, the table's bytes, its pages (and the line). */
export function allocLargeSystemHash(k: Kernel, s: HashSpec): { entries: number; size: number } | undefined {
  const { nrKernelPages, nrAllPages } = hashPageCounts(k);
  let n = s.numentries;
  if (!n) {
    n = Math.ceil(nrKernelPages / ((1 << 20) / PAGE)) * ((1 << 20) / PAGE);
    const scale = s.scale + adaptScale(k, n, s.high);
    n = scale > 12 ? Math.floor(n / 2 ** (scale - 12)) : n * 2 ** (12 - scale);
    if (n * s.bucket < PAGE) n = Math.floor(PAGE / s.bucket);
  }
  n = roundupPow2(n);
  let max = s.high || Math.floor((nrAllPages * PAGE) / 16 / s.bucket);
  max = Math.min(max, 0x80000000);
  if (n < s.low) n = s.low;
  if (n > max) n = max;
  let log2qty = Math.floor(Math.log2(n));
  const era = k.profile.era;
  const mask = gfp(era, "GFP_ATOMIC") | (s.flags & HASH_ZERO ? gfp(era, "__GFP_ZERO") : 0) | gfp(era, "__GFP_NOWARN");
  // do { ... } while (!table && size > PAGE_SIZE && --log2qty): a smaller table when memory is short
  for (;;) {
    const size = s.bucket * 2 ** log2qty;
    const pfn = k.pages.alloc_pages(mask, getOrder(size), PageOwner.Kernel, "alloc_large_system_hash");
    if (pfn >= 0) {
      k.printk(KERN_INFO + "%s hash table entries: %ld (order: %d, %lu bytes, linear)\n", s.name, 2 ** log2qty, getOrder(size), size);
      return { entries: 2 ** log2qty, size };
    }
    if (size <= PAGE || --log2qty <= 0) return undefined; // the kernel panics ("Failed to allocate %s hash table")
  }
}

/** Bytes of the structures the tables hold, per word size. */
function sizes(k: Kernel) {
  const w = k.layout.bits === 64 ? 8 : 4;
  return {
    ptr: w, // struct hlist_head / hlist_nulls_head
    lock: 4, // spinlock_t without lock debugging
    // struct inet_listen_hashbucket / inet_bind_hashbucket: a spinlock and a list head, padded to the pointer size
    lockAndHead: w === 8 ? 16 : 8,
    // struct token_bucket: lock, chain_len and two hlist_nulls_heads
    token: w === 8 ? 24 : 16,
    // struct udp_hslot: head, count, lock, __aligned(2 * sizeof(long))
    udpSlot: 16,
    futexBucket: 64,
  };
}

/** start_kernel's pid_idr_init() and vfs_caches_init()'s mnt_init(), page_alloc_init_late()'s line, then futex_init() (core_initcall). */
export function boot_hash_tables_core(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  const cpus = k.profile.nrCpus;
  const pidMaxLimit = k.layout.bits === 64 ? 4 * 1024 * 1024 : 32768; // PID_MAX_LIMIT
  const pidMax = Math.min(pidMaxLimit, Math.max(32768, 1024 * cpus)); // PIDS_PER_CPU_DEFAULT
  const pidMin = Math.max(301, 8 * cpus); // RESERVED_PIDS + 1, PIDS_PER_CPU_MIN
  k.printk(KERN_INFO + "pid_max: default: %u minimum: %u\n", pidMax, pidMin);
  const z = sizes(k);
  for (const name of ["Mount-cache", "Mountpoint-cache"]) {
    allocLargeSystemHash(k, { name, bucket: z.ptr, numentries: 0, scale: 19, flags: HASH_ZERO, low: 0, high: 0 });
  }
  // kernel_init_freeable(): smp_init(), then page_alloc_init_late() before the initcalls (its line comes here)
  k.pages.page_alloc_init_late();
  // do_basic_setup() -> driver_init(): devtmpfs, then memory_dev_init()'s block size line (x86_64)
  memory_dev_init(k);
  const futex = roundupPow2(256 * cpus);
  allocLargeSystemHash(k, { name: "futex", bucket: z.futexBucket, numentries: futex, scale: 0, flags: 0, low: futex, high: futex });
}

/** The fs_initcalls: dquot_init() and inet_init()'s route, TCP, MPTCP and UDP tables. */
export function boot_hash_tables_net(k: Kernel): void {
  if (k.profile.era !== "6.1") return;
  const z = sizes(k);
  // dquot_init(): one page of hlist_heads from __get_free_pages (its own line format)
  if (k.pages.alloc_pages(gfp(k.profile.era, "GFP_KERNEL"), 0, PageOwner.Kernel) >= 0) {
    k.printk(KERN_INFO + "VFS: Dquot-cache hash table entries: %ld (order %ld, %ld bytes)\n", PAGE / z.ptr, 0, PAGE);
  }
  // ip_rt_init(): ip_idents (atomic_t) + ip_tstamps (u32) per bucket, one per 64 KiB of memory
  allocLargeSystemHash(k, { name: "IP idents", bucket: 8, numentries: 0, scale: 16, flags: HASH_ZERO, low: 2048, high: 256 * 1024 });
  // tcp_init()
  allocLargeSystemHash(k, { name: "tcp_listen_portaddr_hash", bucket: z.lockAndHead, numentries: 0, scale: 21, flags: 0, low: 0, high: 64 * 1024 });
  allocLargeSystemHash(k, { name: "Table-perturb", bucket: 4, numentries: 65536, scale: 0, flags: 0, low: 65536, high: 65536 });
  const ehash = allocLargeSystemHash(k, { name: "TCP established", bucket: z.ptr, numentries: 0, scale: 17, flags: 0, low: 0, high: 512 * 1024 });
  const bhash = allocLargeSystemHash(k, {
    name: "TCP bind",
    bucket: 2 * z.lockAndHead, // bhash and bhash2 in one allocation
    numentries: ehash?.entries ?? 0,
    scale: 17,
    flags: 0,
    low: 0,
    high: 64 * 1024,
  });
  if (ehash && bhash) k.printk(KERN_INFO + "TCP: Hash tables configured (established %u bind %u)\n", ehash.entries, bhash.entries);
  allocLargeSystemHash(k, { name: "MPTCP token", bucket: z.token, numentries: 0, scale: 20, flags: HASH_ZERO, low: 0, high: 64 * 1024 });
  // udp_table_init(): two slots (hash and hash2) per bucket, at least UDP_HTABLE_SIZE_MIN
  for (const name of ["UDP", "UDP-Lite"]) {
    allocLargeSystemHash(k, { name, bucket: 2 * z.udpSlot, numentries: 0, scale: 21, flags: 0, low: 256, high: 64 * 1024 });
  }
}
