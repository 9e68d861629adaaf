// Models what Linux 6.1 prints when the boot itself runs out of memory: mm/page_alloc.c __alloc_pages_may_oom() ->
// mm/oom_kill.c out_of_memory() with no process it may kill (the kernel threads and the global init are
// oom_unkillable_task()), so select_bad_process() chooses nothing:
//
//   dump_header(oc, NULL):  "%s invoked oom-killer: gfp_mask=%#x(%pGg), order=%d, oom_score_adj=%hd"
//                           dump_stack()
//                           __show_mem() (Mem-Info, mm/show_mem.ts)
//                           dump_unreclaimable_slab() when should_dump_unreclaim_slab(): the unreclaimable slab
//                             (NR_SLAB_UNRECLAIMABLE_B) is more than the LRU pages; "Unreclaimable slab info:",
//                             "Name                      Used          Total", then "%-17s %10luKB %10luKB" for each
//                             cache without SLAB_RECLAIM_ACCOUNT that has objects, slab_caches' order (newest first)
//                           dump_tasks() (sysctl_oom_dump_tasks = 1): its two header lines; no task of the boot has an
//                             mm it may kill, so no task line follows
//   pr_warn("Out of memory and no killable processes...\n")
//   panic("System is deadlocked on memory\n"): "Kernel panic - not syncing: %s", dump_stack(), the panic notifiers
//                           (x86 and arm64 dump_kernel_offset(): "Kernel Offset: disabled" without KASLR, x86's
//                           "Kernel Offset: 0x%lx from 0x%lx (relocation range: 0x%lx-0x%lx)" with it; arm64's
//                           dump_mem_limit(): "Memory Limit: none"), then "---[ end Kernel panic - not syncing: %s ]---".
//
// Why the boot cannot get out of it by reclaim: the bulk of the boot's "reclaimable" slab (SReclaimable: dentry and
// inode_cache, ~8.7 MB on the 64-bit builds) is tracefs's: every trace event's directory and files get a dentry and an
// inode at boot (6.1 has no eventfs yet), and tracefs holds a reference to each (like debugfs), so none of them is on
// the dcache LRU that the superblock shrinkers prune; the initramfs is tmpfs with no swap. Direct reclaim finds
// nothing, and the OOM killer is what remains (the eventfs series, lkml 2023-01-22: "Tracing events took ~9MB ...
// for ~10K files/dir").
//
// Simplifications (stated): the call trace names the allocator's frames and the boot's phase (the initcalls'
// kernel_init, or start_kernel before rest_init), not the initcall whose allocation failed (the simulator replays the
// boot's slab objects in bulk, mm/slab_boot.ts); arm64's cpufeature panic notifier ("CPU features: 0x...") is not
// printed (its capability bitmap for QEMU's CPU is not known); the initramfs is unpacked by the async populate_rootfs
// worker in 6.1, whose comm and PID the report would name, where this names kernel_init (PID 1).

import type { PageAllocator } from "./page_alloc.ts";
import { KERN_EMERG, KERN_INFO, KERN_WARNING } from "../kernel/printk.ts";
import { formatGfp, gfpFlags } from "../gfp.ts";
import { dump_stack } from "../debug/splat.ts";
import { showMem } from "./show_mem.ts";
import { renderMeminfo } from "../fs/meminfo.ts";
import { SLAB_RECLAIM_ACCOUNT } from "./slab_common.ts";
import { KernelBootError } from "../boot_error.ts";
import { panicNotifiers } from "../kernel/panic_notifiers.ts";

const PANIC = "System is deadlocked on memory";

/** The kernel's own text for a boot that ran out of memory, then the error that stops the simulated boot. */
export function bootOutOfMemory(pa: PageAllocator, gfp: number, order: number, highestZone: number, why: string): never {
  const k = pa.k;
  // after rest_init() the boot's allocations are kernel_init()'s (PID 1, still named swapper/0 until it execs /init)
  const saved = k.current;
  const pid1 = pa.bootStage >= 1;
  if (pid1) k.current = { ...saved, pid: 1, comm: saved.pid === 0 ? "swapper/0" : saved.comm };
  const frames = pid1 ? ["kernel_init_freeable", "kernel_init", "ret_from_fork"] : ["start_kernel"];
  // The simulator's bulk replays of the boot's slabs and user pages add __GFP_NOWARN to their masks (to stay quiet
  // when a replay comes back short); the kernel's callers (d_alloc()'s slab, shmem's pages) pass none.
  gfp = (gfp & ~gfpFlags(pa.era)["__GFP_NOWARN"]!) >>> 0;
  try {
    const first = k.log.mark();
    k.printk(
      KERN_WARNING + "%s invoked oom-killer: gfp_mask=%s(%s), order=%d, oom_score_adj=%d\n",
      k.current.comm,
      "0x" + gfp.toString(16),
      formatGfp(pa.era, gfp),
      order,
      0,
    );
    const alloc = ["__alloc_pages_slowpath.constprop.0", "__alloc_pages", ...pa.callFrames, ...frames];
    dump_stack(k, ["dump_header", "out_of_memory", ...alloc], { level: KERN_WARNING });
    showMem(pa, highestZone);
    dumpUnreclaimableSlab(pa);
    k.printk(KERN_INFO + "Tasks state (memory values in pages):\n");
    k.printk(KERN_INFO + "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n");
    k.printk(KERN_WARNING + "Out of memory and no killable processes...\n");
    k.printk(KERN_EMERG + "Kernel panic - not syncing: %s\n", PANIC);
    dump_stack(k, ["panic", "out_of_memory.cold", ...alloc], { level: KERN_EMERG });
    // the panic notifiers that print are registered by __initcall()s: none before the device initcalls ran
    const arch = pa.bootStage >= 2 ? k.profile.arch : "";
    panicNotifiers(k, arch);
    k.printk(KERN_EMERG + "---[ end Kernel panic - not syncing: %s ]---\n", PANIC);
    const err = new KernelBootError(`Kernel panic - not syncing: ${PANIC} (${why})`);
    err.log = k.log.dmesg();
    err.panicFrom = first;
    throw err;
  } finally {
    k.current = saved;
  }
}

/** mm/oom_kill.c should_dump_unreclaim_slab() and mm/slab_common.c dump_unreclaimable_slab() (6.1). */
function dumpUnreclaimableSlab(pa: PageAllocator): void {
  const k = pa.k;
  const mi = new Map([...renderMeminfo(k).matchAll(/^([\w()]+):\s+(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  const pages = (f: string) => Math.floor((mi.get(f) ?? 0) / 4);
  const lru = pages("Active(anon)") + pages("Inactive(anon)") + pages("Active(file)") + pages("Inactive(file)") + pages("Unevictable");
  if (!(pages("SUnreclaim") > lru)) return;
  k.printk(KERN_INFO + "Unreclaimable slab info:\n");
  k.printk(KERN_INFO + "Name                      Used          Total\n");
  for (const c of k.slab.slabinfoOrder()) {
    if (c.flags & SLAB_RECLAIM_ACCOUNT) continue;
    const n = k.slab.objCounts(c);
    if (n.num > 0) k.printk(KERN_INFO + "%-17s %10luKB %10luKB\n", c.name, Math.floor((n.active * c.size) / 1024), Math.floor((n.num * c.size) / 1024));
  }
}
