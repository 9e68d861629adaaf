// Rows: memory pools (include/linux/mempool.h, mm/mempool.c of Linux 6.1; every era has them).
//
// mempool_create_kmalloc_pool(min_nr, size) / mempool_create_slab_pool(min_nr, cache): the pool struct and its
// element array are kmalloc'ed, then min_nr elements are taken from the allocator at once (GFP_KERNEL) — the
// reserve; if one of them fails the pool is torn down and NULL returned (mempool_init_node).
// mempool_alloc(pool, gfp) (6.1): might_alloc(gfp); gfp |= __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN; first
// tries the allocator without direct reclaim or IO; on failure takes an element from the reserve; with the reserve
// empty retries once with the caller's gfp; then returns NULL if the gfp may not sleep, else sleeps (io_schedule_
// timeout(5 * HZ)) until mempool_free refills the reserve and tries again. So a failed kmalloc (fault injection,
// failslab) is absorbed by the reserve, silently, as long as it lasts.
// mempool_free(element, pool): back to the reserve while it is short of min_nr (waking a sleeper), else to the
// allocator. mempool_destroy frees the reserve, the array and the pool.
//
// Simplifications: the pool struct's size is struct mempool_s without lockdep's spinlock fields (72 bytes on
// 64-bit, 40 on 32-bit); a GFP_KERNEL mempool_alloc that finds neither memory nor a reserve (the real one loops
// forever until an element comes back) gives up after WAIT_EVENT_LIMIT_MS of simulated time with a "timeout"
// report and returns 0n; the might_sleep check is 6.1's (include/linux/sched/mm.h:274) in every era; 2.6.32's
// BUG_ON(pool->curr_nr != pool->min_nr) in mempool_destroy (elements still out) is not modelled.

import type { ApiEntry, CallEnv } from "../table.ts";
import { fn, GuestError, p } from "../table.ts";
import { handles } from "./handles.ts";
import { gfp as gfpOf } from "../../src/kernel/gfp.ts";
import { WAIT_EVENT_LIMIT_MS } from "../../src/kernel/kernel/sched.ts";

interface Mempool {
  minNr: number;
  /** The reserve: curr_nr = elements.length. */
  elements: bigint[];
  alloc: (gfp: number) => bigint;
  free: (el: bigint) => void;
  /** The pool struct and its element array (kmalloc'ed). */
  self: bigint;
  array: bigint;
  /** mempool_free calls that refilled the reserve (a sleeper in mempool_alloc waits for one). */
  refills: number;
  destroyed?: boolean;
}

const MP = p("pool", "handle:mempool_t");
const poolOf = (c: CallEnv, id: number, f: string) => {
  const pool = handles(c.k).get<Mempool>(id, f);
  if (pool.destroyed) throw new GuestError("Error", `${f}: this pool was destroyed (mempool_destroy)`);
  return pool;
};

function create(c: CallEnv, minNr: number, alloc: (gfp: number) => bigint, free: (el: bigint) => void, what: string): number {
  const k = c.k;
  if (minNr > 1 << 20) throw new GuestError("RangeError", `${what}: min_nr ${minNr} is more than this simulator keeps in a pool (1048576)`);
  const G = gfpOf(k.profile.era, "GFP_KERNEL");
  const ptr = k.layout.bits === 64 ? 8 : 4;
  const self = k.slab.kmalloc(k.layout.bits === 64 ? 72 : 40, G | gfpOf(k.profile.era, "__GFP_ZERO"));
  if (self === 0n) return 0;
  const array = k.slab.kmalloc(Math.max(1, minNr) * ptr, G);
  if (array === 0n) {
    k.slab.kfree(self);
    return 0;
  }
  const pool: Mempool = { minNr, elements: [], alloc, free, self, array, refills: 0 };
  while (pool.elements.length < minNr) {
    const el = alloc(G);
    if (el === 0n) {
      destroy(c, pool);
      return 0;
    }
    pool.elements.push(el);
  }
  return handles(k).add("mempool_t", pool);
}

function destroy(c: CallEnv, pool: Mempool): void {
  while (pool.elements.length) pool.free(pool.elements.pop()!);
  c.k.slab.kfree(pool.array);
  c.k.slab.kfree(pool.self);
}

function mempoolAlloc(c: CallEnv, pool: Mempool, gfpMask: number): bigint {
  const k = c.k;
  const era = k.profile.era;
  const g = (n: string) => gfpOf(era, n);
  k.sched.might_alloc(gfpMask, "include/linux/sched/mm.h", 274, ["mempool_alloc"]);
  gfpMask |= g("__GFP_NOMEMALLOC") | g("__GFP_NORETRY") | g("__GFP_NOWARN");
  const reclaim = era === "6.1" ? g("__GFP_DIRECT_RECLAIM") : g("__GFP_WAIT");
  let gfpTemp = gfpMask & ~(reclaim | g("__GFP_IO"));
  const deadline = k.clock.now() + WAIT_EVENT_LIMIT_MS * 1e6;
  for (;;) {
    const el = pool.alloc(gfpTemp);
    if (el !== 0n) return el;
    if (pool.elements.length) return pool.elements.pop()!;
    if (gfpTemp !== gfpMask) {
      gfpTemp = gfpMask;
      continue;
    }
    if (!(gfpMask & reclaim)) return 0n;
    if (k.clock.now() >= deadline) {
      const cur = k.current;
      const text = `kmodlab: ${cur.comm}/${cur.pid} waited ${WAIT_EVENT_LIMIT_MS / 1000} s (simulated) in mempool_alloc() with the allocator failing and the pool's reserve empty; the real task would wait forever for a mempool_free`;
      const frames = k.captureModuleStack();
      k.report({ kind: "timeout", title: text, text, frames: frames.map((f) => ({ fn: f.fn, line: f.line, column: f.column })), line: frames[0]?.line });
      return 0n;
    }
    // io_schedule_timeout(5 * HZ) on pool->wait: a mempool_free that refills the reserve wakes it.
    const seen = pool.refills;
    k.sched.wait_event_timeout(() => pool.refills !== seen, k.clock.msecs_to_jiffies(5000), "mempool_alloc");
  }
}

export const MEMPOOL_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "mempool_t",
    madeWith: "mempool_create_kmalloc_pool(min_nr, size) or mempool_create_slab_pool(min_nr, cache)",
    doc: "A memory pool: an allocator with min_nr elements kept in reserve for when the allocator fails.",
  },
  fn({
    name: "mempool_create_kmalloc_pool",
    memory: { alloc: { family: "cache", size: { arg: 1 } } },
    params: [p("min_nr", "uint", "elements allocated now and kept in reserve"), p("size", "size", "bytes per element (kmalloc)")],
    returns: "handle:mempool_t",
    context: "may sleep",
    doc: "A pool of kmalloc(size) elements with min_nr of them allocated now. null if they cannot all be allocated. Destroy with mempool_destroy.",
    impl: (c, n: number, size: number) =>
      create(
        c,
        n,
        (g) => c.k.slab.kmalloc(size, g),
        (el) => c.k.slab.kfree(el),
        "mempool_create_kmalloc_pool",
      ),
  }),
  fn({
    name: "mempool_create_slab_pool",
    memory: { alloc: { family: "cache", size: { cache: 1 } } },
    params: [p("min_nr", "uint", "objects allocated now and kept in reserve"), p("cache", "handle:kmem_cache")],
    returns: "handle:mempool_t",
    context: "may sleep",
    doc: "A pool of objects of a kmem_cache with min_nr of them allocated now. null if they cannot all be allocated.",
    impl: (c, n: number, id: number) => {
      const cache = c.k.slab.cacheById(id);
      if (!cache) throw new GuestError("TypeError", "mempool_create_slab_pool: parameter 'cache' is not a cache this kernel knows");
      return create(
        c,
        n,
        (g) => c.k.slab.kmem_cache_alloc(cache, g),
        (el) => c.k.slab.kmem_cache_free(cache, el),
        "mempool_create_slab_pool",
      );
    },
  }),
  fn({
    name: "mempool_alloc",
    memory: { alloc: { family: "slab", size: { cache: 0 }, gfp: 1, cache: 0 } },
    params: [MP, p("gfp_mask", "gfp")],
    returns: "addr",
    context: "may sleep with GFP_KERNEL (it then never fails: it waits for an element to come back)",
    doc: "An element: from the allocator if it can (without reclaim first), else from the reserve. With GFP_ATOMIC and both empty: 0n.",
    impl: (c, id: number, g: number) => mempoolAlloc(c, poolOf(c, id, "mempool_alloc"), g),
  }),
  fn({
    name: "mempool_free",
    memory: { free: { addr: 0, families: ["slab"] } },
    params: [p("element", "addr"), MP],
    returns: "void",
    context: "any",
    doc: "Give an element back: to the reserve while it holds fewer than min_nr, else to the allocator. NULL is ignored.",
    impl: (c, el: bigint, id: number) => {
      const pool = poolOf(c, id, "mempool_free");
      if (el === 0n) return;
      if (pool.elements.length < pool.minNr) {
        pool.elements.push(el);
        pool.refills++;
        return;
      }
      pool.free(el);
    },
  }),
  fn({
    name: "mempool_destroy",
    memory: { free: { addr: 0, families: ["cache"] } },
    params: [MP],
    returns: "void",
    context: "may sleep",
    doc: "Free the reserve and the pool. Every element must have been given back first (one still out is a leak).",
    impl: (c, id: number) => {
      if (id === 0) return; // mempool_destroy(NULL) is allowed
      const pool = handles(c.k).get<Mempool>(id, "mempool_destroy");
      if (pool.destroyed) throw new GuestError("Error", "mempool_destroy: this pool was already destroyed");
      destroy(c, pool);
      pool.destroyed = true;
    },
  }),
];
