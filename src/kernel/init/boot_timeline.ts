// The boot log's timestamps (6.1): when each line the simulator prints was printed by the real boot it models.
//
// The simulated clock measures what the simulator models (jiffies, timers, the module's sleeps), not the CPU time the
// real boot spends initialising devices, calibrating, probing and running initcalls: without this, every boot line
// up to "Run /init" was stamped within the first 2 ms and the log then jumped to 1.676201 s. A simplification: the
// clock follows the reference boot's own timeline, ../shared/reference/real-kernel (x86_64-512M-nokaslr.log,
// i386-1G.log, armhf-virt-1G.log, the first boot of each, up to "Run /init as init process"). Each entry is the
// real line's time in microseconds and its shape (every number, and every hex number after 0x, as "#"), so a line
// whose sizes or addresses differ (another RAM size, the debug config) still meets its entry. Entries are met in
// order: a line takes the first entry from the last one met onward with its shape, and the clock moves up to that
// time (never back). A line without an entry (the debug config's kasan, kmemleak and lockdep lines, deferred init's
// line, which the reference boot prints with other numbers) keeps the clock where it is. la57 and 686-pae use the
// x86_64 and i386 boots' timelines, arm64 the armhf one scaled to its own "Run /init" time (no reference boot of
// their own); the 2.6 and 3.4 eras keep the clock as the boot leaves it. "Run /init" itself is init/userspace.ts's. The generation rule: the reference lines whose shape some simulated boot of the
// family prints (256M to 4G, both configs); test/kernel/boot_timeline.test.ts checks the tables against the logs.

import type { Kernel } from "../kernel.ts";
import { userspaceModel } from "./userspace.ts";

/** [microseconds since boot, the line's shape]. */
export type Timeline = readonly (readonly [number, string])[];

/** A line's shape: hex numbers after 0x and decimal runs become "#". */
export function lineShape(text: string): string {
  return text.replace(/0x[0-9a-fA-F]+/g, "0x#").replace(/\d+/g, "#");
}

const X86_64: Timeline = [
  [0, "Command line: console=ttyS# loglevel=# nokaslr"],
  [0, "BIOS-provided physical RAM map:"],
  [0, "BIOS-e#: [mem #x#-#x#] usable"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "BIOS-e#: [mem #x#-#x#] usable"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "NX (Execute Disable) protection: active"],
  [0, "SMBIOS #.# present."],
  [0, "DMI: QEMU Standard PC (i#FX + PIIX, #), BIOS #.#.#-debian-#.#.#-# #/#/#"],
  [7582, "e#: update [mem #x#-#x#] usable ==> reserved"],
  [7773, "e#: remove [mem #x#-#x#] usable"],
  [9136, "last_pfn = #x# max_arch_pfn = #x#"],
  [32239, "RAMDISK: [mem #x#-#x#]"],
  [35986, "No NUMA configuration found"],
  [36009, "Faking a node at [mem #x#-#x#]"],
  [36604, "NODE_DATA(#) allocated [mem #x#-#x#]"],
  [39508, "Zone ranges:"],
  [39532, "  DMA      [mem #x#-#x#]"],
  [39596, "  DMA#    [mem #x#-#x#]"],
  [39605, "  Normal   empty"],
  [39616, "  Device   empty"],
  [39625, "Movable zone start for each node"],
  [39650, "Early memory node ranges"],
  [39670, "  node   #: [mem #x#-#x#]"],
  [39784, "  node   #: [mem #x#-#x#]"],
  [39965, "Initmem setup node # [mem #x#-#x#]"],
  [40865, "On node #, zone DMA: # pages in unavailable ranges"],
  [41102, "On node #, zone DMA: # pages in unavailable ranges"],
  [48840, "On node #, zone DMA#: # pages in unavailable ranges"],
  [51325, "PM: hibernation: Registered nosave memory: [mem #x#-#x#]"],
  [51348, "PM: hibernation: Registered nosave memory: [mem #x#-#x#]"],
  [51434, "[mem #x#-#x#] available for PCI devices"],
  [59321, "setup_percpu: NR_CPUS:# nr_cpumask_bits:# nr_cpu_ids:# nr_node_ids:#"],
  [68598, "percpu: Embedded # pages/cpu s# r# d# u#"],
  [68989, "pcpu-alloc: s# r# d# u# alloc=#*#"],
  [69065, "pcpu-alloc: [#] # "],
  [70117, "Fallback order for Node #: # "],
  [70322, "Built # zonelists, mobility grouping on.  Total pages: #"],
  [70337, "Policy zone: DMA#"],
  [70464, "Kernel command line: console=ttyS# loglevel=# nokaslr"],
  [72082, "Dentry cache hash table entries: # (order: #, # bytes, linear)"],
  [72490, "Inode-cache hash table entries: # (order: #, # bytes, linear)"],
  [73729, "mem auto-init: stack:all(zero), heap alloc:on, heap free:off"],
  [82207, "Memory: #K/#K available (#K kernel code, #K rwdata, #K rodata, #K init, #K bss, #K reserved, #K cma-reserved)"],
  [93127, "SLUB: HWalign=#, Order=#-#, MinObjects=#, CPUs=#, Nodes=#"],
  [95133, "ftrace: allocating # entries in # pages"],
  [126671, "ftrace: allocated # pages with # groups"],
  [454491, "Freeing SMP alternatives memory: #K"],
  [455145, "pid_max: default: # minimum: #"],
  [467667, "Mount-cache hash table entries: # (order: #, # bytes, linear)"],
  [467894, "Mountpoint-cache hash table entries: # (order: #, # bytes, linear)"],
  [627373, "node # deferred pages initialised in #ms"],
  [645288, "x#/mm: Memory block size: #MB"],
  [650586, "futex hash table entries: # (order: #, # bytes, linear)"],
  [675228, "DMA: preallocated # KiB GFP_KERNEL pool for atomic allocations"],
  [675807, "DMA: preallocated # KiB GFP_KERNEL|GFP_DMA pool for atomic allocations"],
  [676047, "DMA: preallocated # KiB GFP_KERNEL|GFP_DMA# pool for atomic allocations"],
  [747621, "HugeTLB: registered #.# MiB page size, pre-allocated # pages"],
  [747862, "HugeTLB: # KiB vmemmap can be freed for a #.# MiB page"],
  [888499, "e#: reserve RAM buffer [mem #x#-#x#]"],
  [888715, "e#: reserve RAM buffer [mem #x#-#x#]"],
  [964063, "VFS: Dquot-cache hash table entries: # (order #, # bytes)"],
  [1002661, "IP idents hash table entries: # (order: #, # bytes, linear)"],
  [1021925, "tcp_listen_portaddr_hash hash table entries: # (order: #, # bytes, linear)"],
  [1022302, "Table-perturb hash table entries: # (order: #, # bytes, linear)"],
  [1022483, "TCP established hash table entries: # (order: #, # bytes, linear)"],
  [1022751, "TCP bind hash table entries: # (order: #, # bytes, linear)"],
  [1022973, "TCP: Hash tables configured (established # bind #)"],
  [1025268, "MPTCP token hash table entries: # (order: #, # bytes, linear)"],
  [1025673, "UDP hash table entries: # (order: #, # bytes, linear)"],
  [1025925, "UDP-Lite hash table entries: # (order: #, # bytes, linear)"],
  [1051290, "workingset: timestamp_bits=# max_order=# bucket_order=#"],
  [1108141, "Freeing initrd memory: #K"],
  [1301042, "zswap: loaded using pool lzo/zbud"],
  [1524642, "Freeing unused decrypted memory: #K"],
  [1577733, "Freeing unused kernel image (initmem) memory: #K"],
  [1578219, "Write protecting the kernel read-only data: #k"],
  [1580348, "Freeing unused kernel image (text/rodata gap) memory: #K"],
  [1581329, "Freeing unused kernel image (rodata/data gap) memory: #K"],
  [1675734, "x#/mm: Checked W+X mappings: passed, no W+X pages found."],
];

const I386: Timeline = [
  [0, "BIOS-provided physical RAM map:"],
  [0, "BIOS-e#: [mem #x#-#x#] usable"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "BIOS-e#: [mem #x#-#x#] usable"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "BIOS-e#: [mem #x#-#x#] reserved"],
  [0, "Notice: NX (Execute Disable) protection missing in CPU!"],
  [0, "SMBIOS #.# present."],
  [0, "DMI: QEMU Standard PC (i#FX + PIIX, #), BIOS #.#.#-debian-#.#.#-# #/#/#"],
  [6466, "e#: update [mem #x#-#x#] usable ==> reserved"],
  [6740, "e#: remove [mem #x#-#x#] usable"],
  [6940, "last_pfn = #x# max_arch_pfn = #x#"],
  [20088, "RAMDISK: [mem #x#-#x#]"],
  [20227, "Allocated new RAMDISK: [mem #x#-#x#]"],
  [22618, "Move RAMDISK from [mem #x#-#x#] to [mem #x#-#x#]"],
  [25641, "#MB HIGHMEM available."],
  [25671, "#MB LOWMEM available."],
  [25686, "  mapped low ram: # - #bfe#"],
  [25695, "  low ram: # - #bfe#"],
  [26084, "Zone ranges:"],
  [26110, "  DMA      [mem #x#-#x#]"],
  [26180, "  Normal   [mem #x#-#x#]"],
  [26189, "  HighMem  [mem #x#-#x#]"],
  [26202, "Movable zone start for each node"],
  [26228, "Early memory node ranges"],
  [26256, "  node   #: [mem #x#-#x#]"],
  [26289, "  node   #: [mem #x#-#x#]"],
  [26388, "Initmem setup node # [mem #x#-#x#]"],
  [27455, "On node #, zone DMA: # pages in unavailable ranges"],
  [27758, "On node #, zone DMA: # pages in unavailable ranges"],
  [40989, "PM: hibernation: Registered nosave memory: [mem #x#-#x#]"],
  [41025, "PM: hibernation: Registered nosave memory: [mem #x#-#x#]"],
  [41158, "[mem #x#-#x#] available for PCI devices"],
  [41931, "setup_percpu: NR_CPUS:# nr_cpumask_bits:# nr_cpu_ids:# nr_node_ids:#"],
  [42843, "percpu: Embedded # pages/cpu s# r# d# u#"],
  [43184, "pcpu-alloc: s# r# d# u# alloc=#*#"],
  [43248, "pcpu-alloc: [#] # "],
  [44557, "Built # zonelists, mobility grouping on.  Total pages: #"],
  [44690, "Kernel command line: console=ttyS# loglevel=# nokaslr"],
  [46395, "Dentry cache hash table entries: # (order: #, # bytes, linear)"],
  [46881, "Inode-cache hash table entries: # (order: #, # bytes, linear)"],
  [47808, "mem auto-init: stack:all(zero), heap alloc:on, heap free:off"],
  [47968, "Initializing HighMem for node # (#bfe:#ffe#)"],
  [80712, "Initializing Movable for node # (#:#)"],
  [84913, "Memory: #K/#K available (#K kernel code, #K rwdata, #K rodata, #K init, #K bss, #K reserved, #K cma-reserved, #K highmem)"],
  [91209, "SLUB: HWalign=#, Order=#-#, MinObjects=#, CPUs=#, Nodes=#"],
  [92813, "ftrace: allocating # entries in # pages"],
  [112190, "ftrace: allocated # pages with # groups"],
  [343216, "Freeing SMP alternatives memory: #K"],
  [343748, "pid_max: default: # minimum: #"],
  [356618, "Mount-cache hash table entries: # (order: #, # bytes, linear)"],
  [356820, "Mountpoint-cache hash table entries: # (order: #, # bytes, linear)"],
  [530033, "futex hash table entries: # (order: #, # bytes, linear)"],
  [635000, "HugeTLB: registered #.# MiB page size, pre-allocated # pages"],
  [635228, "HugeTLB: # KiB vmemmap can be freed for a #.# MiB page"],
  [784757, "e#: reserve RAM buffer [mem #x#-#x#]"],
  [784999, "e#: reserve RAM buffer [mem #x#-#x#]"],
  [875316, "VFS: Dquot-cache hash table entries: # (order #, # bytes)"],
  [940668, "IP idents hash table entries: # (order: #, # bytes, linear)"],
  [946664, "tcp_listen_portaddr_hash hash table entries: # (order: #, # bytes, linear)"],
  [946999, "Table-perturb hash table entries: # (order: #, # bytes, linear)"],
  [947183, "TCP established hash table entries: # (order: #, # bytes, linear)"],
  [947538, "TCP bind hash table entries: # (order: #, # bytes, linear)"],
  [947797, "TCP: Hash tables configured (established # bind #)"],
  [949589, "MPTCP token hash table entries: # (order: #, # bytes, linear)"],
  [949966, "UDP hash table entries: # (order: #, # bytes, linear)"],
  [950204, "UDP-Lite hash table entries: # (order: #, # bytes, linear)"],
  [985183, "workingset: timestamp_bits=# max_order=# bucket_order=#"],
  [1065876, "Freeing initrd memory: #K"],
  [1102006, "bounce: pool size: # pages"],
  [1874447, "zswap: loaded using pool lzo/zbud"],
  [3369742, "Freeing unused kernel image (initmem) memory: #K"],
  [3370685, "Write protecting kernel text and read-only data: #k"],
];

const ARMHF: Timeline = [
  [0, "Booting Linux on physical CPU #x#"],
  [0, "CPU: ARMv# Processor [#fc#f#] revision # (ARMv#), cr=#c#d"],
  [0, "CPU: div instructions available: patching division code"],
  [0, "CPU: PIPT / VIPT nonaliasing data cache, PIPT instruction cache"],
  [0, "OF: fdt: Machine model: linux,dummy-virt"],
  [0, "Memory policy: Data cache writealloc"],
  [0, "efi: UEFI not found."],
  [0, "cma: Reserved # MiB at #x#"],
  [0, "Zone ranges:"],
  [0, "  DMA      [mem #x#-#x#]"],
  [0, "  Normal   empty"],
  [0, "  HighMem  [mem #x#-#x#]"],
  [0, "Movable zone start for each node"],
  [0, "Early memory node ranges"],
  [0, "  node   #: [mem #x#-#x#]"],
  [0, "Initmem setup node # [mem #x#-#x#]"],
  [0, "percpu: Embedded # pages/cpu s# r# d# u#"],
  [0, "pcpu-alloc: s# r# d# u# alloc=#*#"],
  [0, "pcpu-alloc: [#] # "],
  [0, "Built # zonelists, mobility grouping on.  Total pages: #"],
  [0, "Kernel command line: console=ttyAMA# loglevel=# "],
  [0, "Dentry cache hash table entries: # (order: #, # bytes, linear)"],
  [0, "Inode-cache hash table entries: # (order: #, # bytes, linear)"],
  [0, "mem auto-init: stack:all(zero), heap alloc:on, heap free:off"],
  [0, "Memory: #K/#K available (#K kernel code, #K rwdata, #K rodata, #K init, #K bss, #K reserved, #K cma-reserved, #K highmem)"],
  [0, "SLUB: HWalign=#, Order=#-#, MinObjects=#, CPUs=#, Nodes=#"],
  [0, "ftrace: allocating # entries in # pages"],
  [0, "ftrace: allocated # pages with # groups"],
  [7094, "pid_max: default: # minimum: #"],
  [11861, "Mount-cache hash table entries: # (order: #, # bytes, linear)"],
  [11890, "Mountpoint-cache hash table entries: # (order: #, # bytes, linear)"],
  [66453, "futex hash table entries: # (order: #, # bytes, linear)"],
  [103999, "DMA: preallocated # KiB pool for atomic coherent allocations"],
  [269058, "VFS: Dquot-cache hash table entries: # (order #, # bytes)"],
  [285681, "IP idents hash table entries: # (order: #, # bytes, linear)"],
  [299033, "tcp_listen_portaddr_hash hash table entries: # (order: #, # bytes, linear)"],
  [299382, "Table-perturb hash table entries: # (order: #, # bytes, linear)"],
  [299549, "TCP established hash table entries: # (order: #, # bytes, linear)"],
  [299900, "TCP bind hash table entries: # (order: #, # bytes, linear)"],
  [300144, "TCP: Hash tables configured (established # bind #)"],
  [301365, "MPTCP token hash table entries: # (order: #, # bytes, linear)"],
  [301679, "UDP hash table entries: # (order: #, # bytes, linear)"],
  [301902, "UDP-Lite hash table entries: # (order: #, # bytes, linear)"],
  [327803, "workingset: timestamp_bits=# max_order=# bucket_order=#"],
  [392029, "Freeing initrd memory: #K"],
  [421074, "bounce: pool size: # pages"],
  [724399, "zswap: loaded using pool lzo/zbud"],
  [1682362, "Freeing unused kernel image (initmem) memory: #K"],
  [1686646, "Checked W+X mappings: passed, no W+X pages found"],
];

/** Each profile's timeline and the reference profile whose boot it is. */
const BY_PROFILE: Record<string, { tl: Timeline; ref: string }> = {
  "x86_64-6.1": { tl: X86_64, ref: "x86_64-6.1" },
  "x86_64-6.1-la57": { tl: X86_64, ref: "x86_64-6.1" },
  "i386-6.1": { tl: I386, ref: "i386-6.1" },
  "i386-6.1-pae": { tl: I386, ref: "i386-6.1" },
  "arm-6.1-virt": { tl: ARMHF, ref: "arm-6.1-virt" },
  "arm64-6.1": { tl: ARMHF, ref: "arm-6.1-virt" },
};

/**
 * The timeline a profile's boot follows, if any: a borrowed one is scaled to the profile's own "Run /init" time
 * (init/userspace.ts), so that its last boot lines still come before it (arm64: armhf's boot, x 1512004/1687022).
 */
export function bootTimeline(profile: string): Timeline | undefined {
  const e = BY_PROFILE[profile];
  if (!e) return undefined;
  if (e.ref === profile) return e.tl;
  const scale = userspaceModel(profile).initAtNs / userspaceModel(e.ref).initAtNs;
  return scale === 1 ? e.tl : e.tl.map(([us, shape]) => [Math.round(us * scale), shape] as const);
}

/** Stamp the boot's lines from the profile's timeline until stopBootTimeline (start_userspace's "Run /init"). */
export function startBootTimeline(k: Kernel): void {
  const tl = bootTimeline(k.profile.name);
  if (!tl) return;
  let next = 0;
  k.log.beforeRecord = (text: string) => {
    if (next >= tl.length) return;
    const s = lineShape(text);
    for (let i = next; i < tl.length; i++) {
      if (tl[i][1] !== s) continue;
      k.clock.setAtLeast(tl[i][0] * 1000);
      next = i + 1;
      return;
    }
  };
}

export function stopBootTimeline(k: Kernel): void {
  k.log.beforeRecord = undefined;
}
