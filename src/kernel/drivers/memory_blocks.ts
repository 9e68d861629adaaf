// Models drivers/base/memory.c memory_dev_init() of Linux 6.1 on x86_64 (Debian's amd64 config has
// CONFIG_MEMORY_HOTPLUG=y and CONFIG_MEMORY_HOTREMOVE=y: the real 512M boot prints "x86/mm: Memory block size:
// 128MB" right after "devtmpfs: initialized"): one memory block device, /sys/devices/system/memory/memoryN, per
// block of RAM, made at boot in driver_init(), and node_dev_init()'s links between node0 and each block. What they
// leave in the slab caches grows with RAM, which the boot's slab tables (mm/slab_boot.ts, the real 512M boot's
// counts, 4 blocks) cannot say by themselves.
//
// Mechanism, per block (6.1 source):
// - arch/x86/mm/init_64.c probe_memory_block_size(): MIN_MEMORY_BLOCK_SIZE (one 128 MiB section) while the end of
//   RAM is below 64 GiB (MEM_SIZE_FOR_LARGE_BLOCK); above, under a hypervisor (QEMU sets X86_FEATURE_HYPERVISOR),
//   the largest power of two up to MAX_BLOCK_SIZE (2 GiB) that aligns the end of RAM. It prints the pr_info line.
// - memory_dev_init(): add_memory_block() for each block-aligned range of sections with a present section
//   (memblock.memory's sections; none for the PCI hole), id = section / sections_per_block.
// - init_memory_block(): kzalloc(struct memory_block) (a struct device and eight words: kmalloc-1k), xa_store() in
//   the memory_blocks xarray; device_register(): dev_set_name("memory%u") (kvasprintf: a kmalloc of the name),
//   device_private_init() (kzalloc of struct device_private, 216 bytes on 64-bit: kmalloc-256), and the sysfs
//   entries, one kernfs_node each: the directory, uevent, the five memory_memblk_attrs (phys_index, state,
//   phys_device, removable, valid_zones), online (device_supports_offline), the "subsystem" link and
//   /sys/bus/memory/devices' link (bus_add_device), the "power" directory (dpm_sysfs_add; no attributes without
//   CONFIG_PM_ADVANCED_DEBUG, no runtime group: the memory bus has no PM callbacks). node_dev_init() ->
//   register_memory_blocks_under_node(): node0/memoryN and memoryN/node0. That is 13 kernfs nodes.
// - kernfs copies each non-rodata name (kstrdup_const): the directory's, the bus link's and node0's link's
//   "memoryN", and the block's "node0" link name; with the device's own name, four "memoryN" strings (kmalloc-8 up
//   to memory9, kmalloc-16 from memory10) and one "node0" (kmalloc-8) per block.
// - kernfs_new_node() takes an inode number from the root's ino_idr (idr_alloc_cyclic(): ascending ids, one xarray
//   node, a radix_tree_node object, per 64), and memory_blocks holds the blocks in an xarray (64 slots a node).
// Simplifications (stated): the transient objects (the uevent's kobj_uevent_env) are not replayed; the ino_idr's
// nodes are counted as one per 64 new kernfs nodes from the table's kernfs count (the real ids interleave with
// other sysfs entries); arm64 (no real log, no config in the reference) and the 32-bit kernels (686 is FLATMEM,
// ARM has no memory hotplug) get no blocks.

import type { Kernel } from "../kernel.ts";
import { KERN_INFO } from "../kernel/printk.ts";
import type { Layout } from "../types.ts";

const SECTION_SHIFT = 27; // x86_64 SECTION_SIZE_BITS
const MEM_SIZE_FOR_LARGE_BLOCK = 64 * 2 ** 30;
const MAX_BLOCK_SIZE = 2 * 2 ** 30;
/** kernfs nodes one memory block makes (see the header). */
export const KERNFS_NODES_PER_BLOCK = 13;
/** The blocks of the boot the slab tables come from (x86_64 512M: RAM to 0x1ffe0000, sections 0 to 3). */
export const TABLE_MEMORY_BLOCKS: readonly number[] = [0, 1, 2, 3];

/** Whether the profile's kernel builds drivers/base/memory.c (CONFIG_MEMORY_HOTPLUG). */
export function hasMemoryBlocks(arch: string, era: string): boolean {
  return arch === "x86_64" && era === "6.1";
}

/** probe_memory_block_size() (arch/x86/mm/init_64.c, 6.1), in bytes, for a machine whose RAM ends at maxPfn. */
export function memoryBlockSize(maxPfn: number): number {
  const end = maxPfn * 4096;
  const min = 2 ** SECTION_SHIFT;
  if (end < MEM_SIZE_FOR_LARGE_BLOCK) return min;
  let bz = MAX_BLOCK_SIZE;
  for (; bz > min; bz /= 2) if (end % bz === 0) break;
  return bz;
}

/** The memory block ids memory_dev_init() registers: blocks with a present section, ascending. */
export function memoryBlockIds(layout: Pick<Layout, "memory" | "maxPfn">): number[] {
  const bz = memoryBlockSize(layout.maxPfn);
  const ids = new Set<number>();
  for (const r of layout.memory) {
    for (let s = Math.floor(r.start / 2 ** SECTION_SHIFT); s * 2 ** SECTION_SHIFT < r.end; s++) ids.add(Math.floor((s * 2 ** SECTION_SHIFT) / bz));
  }
  return [...ids].sort((a, b) => a - b);
}

/** xarray nodes holding these indices (XA_CHUNK_SIZE 64): the leaves, and one parent level while they need one. */
function xaNodes(ids: readonly number[]): number {
  if (ids.length === 0 || (ids.length === 1 && ids[0] === 0)) return 0; // a lone entry at index 0 sits in xa_head
  const leaves = new Set(ids.map((i) => Math.floor(i / 64))).size;
  const max = Math.max(...ids);
  return leaves + (max >= 64 ? Math.ceil(leaves / 64) : 0);
}

/** The objects the blocks leave, keyed "cache:NAME" or "kmalloc:BYTES" (normal kmalloc class), on 64-bit. */
export function memoryBlockObjects(ids: readonly number[], kernfsBase: number): Map<string, number> {
  const m = new Map<string, number>();
  const add = (key: string, n: number) => m.set(key, (m.get(key) ?? 0) + n);
  const kernfs = KERNFS_NODES_PER_BLOCK * ids.length;
  add("cache:kernfs_node_cache", kernfs);
  // ino_idr: one xa_node per 64 ids past the ones the rest of sysfs took; memory_blocks' own xarray.
  add("cache:radix_tree_node", Math.ceil((kernfsBase + kernfs) / 64) - Math.ceil(kernfsBase / 64) + xaNodes(ids));
  add("kmalloc:1024", ids.length); // struct memory_block
  add("kmalloc:256", ids.length); // struct device_private
  for (const id of ids) add(`kmalloc:${`memory${id}`.length + 1 <= 8 ? 8 : 16}`, 4);
  add("kmalloc:8", ids.length); // "node0"
  return m;
}

/** memory_dev_init()'s line (driver_init(), after devtmpfs_init()). */
export function memory_dev_init(k: Kernel): void {
  if (!hasMemoryBlocks(k.profile.arch, k.profile.era)) return;
  k.printk(KERN_INFO + "x86/mm: Memory block size: %ldMB\n", memoryBlockSize(k.layout.maxPfn) / 2 ** 20);
}
