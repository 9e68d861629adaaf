// Models the pages a Linux 6.1 distribution boot takes from the page allocator and holds without any /proc/meminfo
// counter (MemFree loses them, nothing else moves), one function per kernel site:
// - kernel/trace/trace.c tracer_alloc_buffers() (early_trace_init(), right after ftrace_init()) and
//   kernel/trace/ring_buffer.c: three ring buffers per CPU at their minimum size, since nothing expanded them
//   (ring_buffer_expanded is false without trace_printk() users or boot-time trace options): temp_buffer
//   (ring_buffer_alloc(PAGE_SIZE), event triggers), global_trace's array_buffer (ring_buf_size 1) and its max_buffer
//   (CONFIG_TRACER_MAX_TRACE: Debian's SCHED_TRACER and TRACER_SNAPSHOT select it). ring_buffer_alloc() rounds a
//   size up to BUF_PAGE_SIZE pages and to at least 2 (nr_pages < 2), so each per-CPU buffer is
//   rb_allocate_cpu_buffer()'s reader page (alloc_pages_node(GFP_KERNEL, 0)) and __rb_allocate_pages()' two data
//   pages (GFP_KERNEL | __GFP_RETRY_MAYFAIL, order 0): 9 pages per CPU. The buffer_page descriptors are slab objects.
// - arch/x86/kernel/espfix_64.c init_espfix_bsp() -> init_espfix_ap(0) (x86_64, CONFIG_X86_ESPFIX64): the espfix
//   area's PMD page and PTE page (PGALLOC_GFP) and the boot CPU's espfix stack page (GFP_KERNEL), all in init_mm
//   outside NR_PAGETABLE (no page-table constructor); with LA57's five levels also p4d_alloc()'s P4D page.
// - block/bounce.c init_emergency_pool() (__initcall, CONFIG_BOUNCE: the HIGHMEM kernels, i386 686 and armmp): where
//   highmem exists (max_pfn > max_low_pfn; neither kernel has MEMORY_HOTPLUG, which would build the pool always),
//   mempool_init_page_pool(&page_pool, POOL_SIZE, 0) fills the pool with POOL_SIZE (64) order-0 GFP_KERNEL pages,
//   lowmem, and prints "bounce: pool size: 64 pages" (the real i386 and armhf boots print it after
//   "Freeing initrd memory").
// - kernel/rcu/tree.c fill_page_cache_func(): the first kvfree_rcu() after the scheduler runs finds no cached bulk
//   page and schedules the page-cache work, which fills the CPU's krcp->bkvcache with rcu_min_cached_objs (5) pages
//   (GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN); kfree_rcu_work() gives drained bulk pages back to
//   that cache, which only a shrinker under memory pressure empties.
// - drivers/tty/serial/serial_core.c uart_port_startup(): kernel_init_freeable()'s console_on_rootfs() opens
//   /dev/console, the serial console's port (ttyS0, ttyAMA0), whose transmit circular buffer is a
//   get_zeroed_page(GFP_KERNEL) held while the port is open (/init's console stays open).
//
// Simplifications (stated):
// - The distribution config only: the custom debug build (tinyconfig) has no tracing, no X86_16BIT (so no espfix)
//   and no HIGHMEM, and its post-boot memory state is not modelled beyond its splats and layout (closing notes of
//   issue 16). The 2.6 and 3.4 eras (whose bounce pool printed "highmem bounce pool size: 64 pages") are not
//   modelled here: no transcript of theirs shows their memory after boot.
// - One CPU runs everything (mm/pcp.ts): the ring buffers are allocated for every CPU (the real secondary CPUs' come
//   at their CPUHP_TRACE_RB_PREPARE, during smp_init), the kfree_rcu page cache only for the boot CPU.

import type { Kernel } from "../kernel.ts";
import { KERN_INFO } from "../kernel/printk.ts";
import { gfp } from "../gfp.ts";
import { PageOwner } from "../mm/page_flags.ts";

/** block/bounce.c POOL_SIZE. */
export const BOUNCE_POOL_SIZE = 64;
/** kernel/rcu/tree.c rcu_min_cached_objs (module parameter rcupdate.rcu_min_cached_objs, default 5). */
export const RCU_MIN_CACHED_OBJS = 5;
/** The ring buffers tracer_alloc_buffers() makes: temp_buffer, global_trace's array_buffer and max_buffer. */
export const BOOT_RING_BUFFERS = 3;
/** Pages of one minimum-sized per-CPU ring buffer: the reader page and the two data pages. */
export const RING_BUFFER_CPU_PAGES = 3;

const applies = (k: Kernel) => k.profile.era === "6.1" && k.opts.config === "distro";

/** early_trace_init() -> tracer_alloc_buffers(): the boot's ring buffers, at their minimum size. */
export function early_trace_init(k: Kernel): void {
  if (!applies(k)) return;
  const GFP_KERNEL = gfp("6.1", "GFP_KERNEL");
  const data = GFP_KERNEL | gfp("6.1", "__GFP_RETRY_MAYFAIL");
  for (let b = 0; b < BOOT_RING_BUFFERS; b++)
    for (let cpu = 0; cpu < k.profile.nrCpus; cpu++) {
      if (k.pages.alloc_pages(GFP_KERNEL, 0, PageOwner.Kernel, "rb_allocate_cpu_buffer") < 0) return;
      for (let i = 0; i < RING_BUFFER_CPU_PAGES - 1; i++) if (k.pages.alloc_pages(data, 0, PageOwner.Kernel, "__rb_allocate_pages") < 0) return;
    }
}

/** init_espfix_bsp(): the espfix area's tables (a P4D page with LA57, a PMD page, a PTE page) and CPU 0's stack page. */
export function init_espfix_bsp(k: Kernel): void {
  if (!applies(k) || k.profile.arch !== "x86_64") return;
  const PGALLOC_GFP = gfp("6.1", "GFP_KERNEL") | gfp("6.1", "__GFP_ZERO");
  const tables = k.layout.pgtableLevels === 5 ? 3 : 2;
  for (let i = 0; i < tables; i++) if (k.pages.alloc_pages(PGALLOC_GFP, 0, PageOwner.Kernel, "init_espfix_ap") < 0) return;
  k.pages.alloc_pages(gfp("6.1", "GFP_KERNEL"), 0, PageOwner.Kernel, "init_espfix_ap");
}

/** Whether the kernel builds block/bounce.c's page pool: a HIGHMEM kernel on a machine with highmem. */
export function hasBouncePool(k: Kernel): boolean {
  return applies(k) && (k.profile.arch === "i386" || k.profile.arch === "arm") && k.layout.maxPfn > k.layout.maxLowPfn;
}

/** init_emergency_pool(): POOL_SIZE lowmem pages in the bounce mempool, and its line. */
export function init_emergency_pool(k: Kernel): void {
  if (!hasBouncePool(k)) return;
  const GFP_KERNEL = gfp("6.1", "GFP_KERNEL");
  let n = 0;
  for (; n < BOUNCE_POOL_SIZE; n++) if (k.pages.alloc_pages(GFP_KERNEL, 0, PageOwner.Kernel, "mempool_alloc_pages") < 0) break;
  // mempool_init() fails (and init_emergency_pool() BUG()s) short of min_nr elements; a boot that low on memory has
  // already panicked in the allocator
  k.printk(KERN_INFO + "bounce: pool size: %d pages\n", n);
}

/** fill_page_cache_func(): the boot CPU's kvfree_rcu() bulk-page cache. */
export function kfree_rcu_fill_page_cache(k: Kernel): void {
  if (!applies(k)) return;
  const mask = gfp("6.1", "GFP_KERNEL") | gfp("6.1", "__GFP_NORETRY") | gfp("6.1", "__GFP_NOMEMALLOC") | gfp("6.1", "__GFP_NOWARN");
  for (let i = 0; i < RCU_MIN_CACHED_OBJS; i++) if (k.pages.alloc_pages(mask, 0, PageOwner.Kernel, "fill_page_cache_func") < 0) return;
}

/** console_on_rootfs() -> uart_port_startup(): the console port's transmit buffer page. */
export function console_uart_startup(k: Kernel): void {
  if (!applies(k)) return;
  k.pages.alloc_pages(gfp("6.1", "GFP_KERNEL") | gfp("6.1", "__GFP_ZERO"), 0, PageOwner.Kernel, "uart_port_startup");
}
