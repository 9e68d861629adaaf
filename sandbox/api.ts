// THE table: every export of "linux" and "sim", in one list assembled from the row files of sandbox/api/.
// The bindings (bindings.ts), the argument checks (validate.ts) and linux.d.ts (dts.ts) all come from it.
// A kernel part that offers modules something new adds a row file and one line here; nothing else changes.

import type { ApiEntry } from "./table.ts";
import { MODULE_ROWS } from "./api/module.ts";
import { PRINTK_ROWS } from "./api/printk.ts";
import { GFP_ROWS } from "./api/gfp.ts";
import { TIME_ROWS } from "./api/time.ts";
import { PAGE_ALLOC_ROWS } from "./api/page_alloc.ts";
import { SIM_ROWS } from "./api/sim.ts";
import { SLAB_ROWS } from "./api/slab.ts";
import { VMALLOC_ROWS } from "./api/vmalloc.ts";
import { MEMORY_ROWS } from "./api/memory.ts";
import { SCHED_ROWS } from "./api/sched.ts";
import { LOCKING_ROWS } from "./api/locking.ts";
import { TIMER_ROWS } from "./api/timer.ts";
import { SOFTIRQ_ROWS } from "./api/softirq.ts";
import { WORKQUEUE_ROWS } from "./api/workqueue.ts";
import { IRQ_ROWS } from "./api/irq.ts";
import { DMA_ROWS } from "./api/dma.ts";
import { USER_ROWS } from "./api/user.ts";
import { CHARDEV_ROWS } from "./api/chardev.ts";
import { ATOMIC_ROWS } from "./api/atomic.ts";
import { PARAM_ROWS } from "./api/params.ts";
import { COMPLETION_ROWS } from "./api/completion.ts";
import { MEMPOOL_ROWS } from "./api/mempool.ts";
import { DMAPOOL_ROWS } from "./api/dmapool.ts";
import { KTHREAD_ROWS } from "./api/kthread.ts";
import { PERCPU_ROWS } from "./api/percpu.ts";

export const API: readonly ApiEntry[] = checkTable([
  ...MODULE_ROWS,
  ...PRINTK_ROWS,
  ...GFP_ROWS,
  ...TIME_ROWS,
  ...PAGE_ALLOC_ROWS,
  ...SLAB_ROWS,
  ...VMALLOC_ROWS,
  ...MEMORY_ROWS,
  ...SCHED_ROWS,
  ...LOCKING_ROWS,
  ...TIMER_ROWS,
  ...SOFTIRQ_ROWS,
  ...WORKQUEUE_ROWS,
  ...IRQ_ROWS,
  ...DMA_ROWS,
  ...CHARDEV_ROWS,
  ...ATOMIC_ROWS,
  ...PARAM_ROWS,
  ...COMPLETION_ROWS,
  ...MEMPOOL_ROWS,
  ...DMAPOOL_ROWS,
  ...KTHREAD_ROWS,
  ...PERCPU_ROWS,
  ...SIM_ROWS,
  ...USER_ROWS,
]);

/** No name twice in one module within an era (two rows for one name must cover disjoint eras). */
export function checkTable(rows: ApiEntry[]): ApiEntry[] {
  const seen = new Map<string, ApiEntry[]>();
  for (const r of rows) {
    const key = `${r.module}:${r.name}`;
    const list = seen.get(key) ?? [];
    list.push(r);
    seen.set(key, list);
  }
  for (const [key, list] of seen) {
    if (list.length > 1 && list.some((a, i) => list.some((b, j) => i < j && (a.since ?? "") === (b.since ?? "") && (a.until ?? "") === (b.until ?? "")))) {
      throw new Error(`api table: ${key} is listed twice for the same eras`);
    }
  }
  return rows;
}
