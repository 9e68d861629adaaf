// Rows: the kmalloc family (include/linux/slab.h; mm/slub.c, mm/slab.c of the era) and KMALLOC_MAX_SIZE.

import type { ApiEntry } from "../table.ts";
import { GuestError, fn, p } from "../table.ts";
import type { CallEnv } from "../table.ts";
import { oopsEndsTask, oopsSince } from "./handles.ts";
import {
  SLAB_ACCOUNT,
  SLAB_CACHE_DMA,
  SLAB_HWCACHE_ALIGN,
  SLAB_PANIC,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
} from "../../src/kernel/mm/slab_common.ts";

const CTX = "may sleep with GFP_KERNEL; any with GFP_ATOMIC";

/** The kmem_cache a handle id names (ids are the kernel's own; 0 is never handed out). */
function cacheOf(c: CallEnv, id: number, fn: string) {
  const cache = c.k.slab.cacheById(id);
  if (!cache) throw new GuestError("TypeError", `${fn}: parameter 'cachep' is not a cache this kernel knows`);
  return cache;
}

const slabFlag = (name: string, value: number, doc: string): ApiEntry => ({
  kind: "constant",
  module: "linux",
  name,
  type: "number",
  value: () => value,
  doc,
});

export const SLAB_ROWS: ApiEntry[] = [
  {
    kind: "constant",
    module: "linux",
    name: "KMALLOC_MAX_SIZE",
    type: "number",
    value: (k) => k.slab.km.maxSize,
    doc: "The largest size kmalloc can ever return (128 KiB with 2.6's SLAB; 2^(MAX_ORDER-1) pages with SLUB).",
  },
  fn({
    name: "kmalloc",
    memory: { alloc: { family: "slab", size: { arg: 0 }, gfp: 1 } },
    params: [p("size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "Allocate size bytes of physically contiguous memory from the kmalloc caches (0n on failure). Free with kfree.",
    impl: (c, size: number, gfp: number) => c.k.slab.kmalloc(size, gfp),
  }),
  fn({
    name: "kzalloc",
    memory: { alloc: { family: "slab", size: { arg: 0 }, gfp: 1, zeroed: true } },
    params: [p("size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "kmalloc, zeroed (flags | __GFP_ZERO).",
    impl: (c, size: number, gfp: number) => c.k.slab.kzalloc(size, gfp),
  }),
  fn({
    name: "kmalloc_array",
    memory: { alloc: { family: "slab", size: { product: [0, 1] }, gfp: 2 } },
    params: [p("n", "size"), p("size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    since: "3.4",
    absentNote: "added in 3.4 — use kmalloc(n * size, flags), checking the multiplication yourself",
    doc: "Allocate an array of n elements of size bytes; 0n if n * size overflows.",
    impl: (c, n: number, size: number, gfp: number) => c.k.slab.kmalloc_array(n, size, gfp),
  }),
  fn({
    name: "kcalloc",
    memory: { alloc: { family: "slab", size: { product: [0, 1] }, gfp: 2, zeroed: true } },
    params: [p("n", "size"), p("size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "kmalloc_array, zeroed.",
    impl: (c, n: number, size: number, gfp: number) => c.k.slab.kcalloc(n, size, gfp),
  }),
  fn({
    name: "krealloc",
    memory: { alloc: { family: "slab", size: { arg: 1 }, gfp: 2, reallocates: 0 } },
    params: [p("p", "addr"), p("new_size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "Resize a kmalloc'ed object: the same address if it still fits, else a new one with the contents copied (the old one freed).",
    impl: (c, ptr: bigint, size: number, gfp: number) => c.k.slab.krealloc(ptr, size, gfp),
  }),
  fn({
    name: "ksize",
    params: [p("objp", "addr")],
    returns: "size",
    context: "any",
    doc: "How many bytes the object at objp really has (its cache's object size), at least what was asked for.",
    impl: (c, ptr: bigint) => c.k.slab.ksize(ptr),
  }),
  fn({
    name: "kfree",
    memory: { free: { addr: 0, families: ["slab"] } },
    params: [p("objp", "addr")],
    returns: "void",
    context: "any",
    doc: "Free memory from kmalloc and friends. kfree(0n) does nothing.",
    impl: (c, ptr: bigint) => {
      const n = c.k.reports.length; // oopsEndsTask's steps, with no closure per call
      c.k.slab.kfree(ptr);
      oopsSince(c.k, n);
    },
  }),
  fn({
    name: "kstrdup",
    memory: { alloc: { family: "slab", size: { strlen: 0 }, gfp: 1 } },
    params: [p("s", "string"), p("gfp", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "Copy a string (with its terminating NUL byte) into a new kmalloc'ed buffer; 0n on failure. Free with kfree.",
    impl: (c, str: string, gfp: number) => c.k.slab.kstrdup(str, gfp),
  }),
  // --- object caches (mm/slab_common.c kmem_cache_create, the classic five arguments) ---
  {
    kind: "class",
    module: "linux",
    name: "kmem_cache",
    madeWith: "kmem_cache_create()",
    doc: "A cache of equal-sized objects (struct kmem_cache *). Made with kmem_cache_create(); null when creation failed.",
  },
  slabFlag("SLAB_HWCACHE_ALIGN", SLAB_HWCACHE_ALIGN, "Align objects on a cache line."),
  slabFlag("SLAB_CACHE_DMA", SLAB_CACHE_DMA, "Take the cache's pages from ZONE_DMA."),
  slabFlag("SLAB_PANIC", SLAB_PANIC, "Panic if the cache cannot be created."),
  slabFlag("SLAB_RECLAIM_ACCOUNT", SLAB_RECLAIM_ACCOUNT, "Objects are reclaimable (counted as SReclaimable)."),
  slabFlag("SLAB_POISON", SLAB_POISON, "Debug: poison objects (0x6b when free, 0xa5 at the end)."),
  slabFlag("SLAB_RED_ZONE", SLAB_RED_ZONE, "Debug: red zones around objects (0xbb free, 0xcc in use)."),
  slabFlag("SLAB_STORE_USER", SLAB_STORE_USER, "Debug: remember who allocated and freed each object."),
  { ...slabFlag("SLAB_ACCOUNT", SLAB_ACCOUNT, "Charge objects to the allocating task's memory cgroup."), since: "6.1", absentNote: "added in 4.5" },
  fn({
    name: "kmem_cache_create",
    memory: { alloc: { family: "cache", size: { arg: 1 } } },
    params: [
      p("name", "string"),
      p("size", "size"),
      p("align", "size"),
      p("flags", "uint"),
      p("ctor", "fn", "called on every object when a new slab is made (or null)", { params: [{ name: "obj", type: "addr" }], returns: "void" }, true),
    ],
    returns: "handle:kmem_cache",
    context: "may sleep",
    doc: "Create a cache of objects of size bytes (the classic five arguments: name, size, align, flags, ctor). Returns null on failure. Destroy it with kmem_cache_destroy() before the module goes away.",
    impl: (c, name: string, size: number, align: number, flags: number, ctor?: (obj: bigint) => void) =>
      c.k.slab.kmem_cache_create(name, size, align, flags, typeof ctor === "function" ? (obj: bigint) => void ctor(obj) : undefined)?.id ?? 0,
  }),
  fn({
    name: "kmem_cache_alloc",
    memory: { alloc: { family: "slab", size: { cache: 0 }, gfp: 1, cache: 0 } },
    params: [p("cachep", "handle:kmem_cache"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "Take one object from the cache (0n on failure). Free it with kmem_cache_free to the same cache.",
    impl: (c, id: number, gfp: number) => c.k.slab.kmem_cache_alloc(cacheOf(c, id, "kmem_cache_alloc"), gfp),
  }),
  fn({
    name: "kmem_cache_zalloc",
    memory: { alloc: { family: "slab", size: { cache: 0 }, gfp: 1, cache: 0, zeroed: true } },
    params: [p("cachep", "handle:kmem_cache"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "kmem_cache_alloc, zeroed.",
    impl: (c, id: number, gfp: number) => c.k.slab.kmem_cache_zalloc(cacheOf(c, id, "kmem_cache_zalloc"), gfp),
  }),
  fn({
    name: "kmem_cache_free",
    memory: { free: { addr: 1, families: ["slab"] } },
    params: [p("cachep", "handle:kmem_cache"), p("objp", "addr")],
    returns: "void",
    context: "any",
    doc: "Give an object back to the cache it came from.",
    impl: (c, id: number, obj: bigint) => oopsEndsTask(c.k, () => c.k.slab.kmem_cache_free(cacheOf(c, id, "kmem_cache_free"), obj)),
  }),
  fn({
    name: "kmem_cache_shrink",
    params: [p("cachep", "handle:kmem_cache")],
    returns: "int",
    context: "may sleep",
    doc: "Return the cache's empty slabs to the page allocator.",
    impl: (c, id: number) => (c.k.slab.kmem_cache_shrink(cacheOf(c, id, "kmem_cache_shrink")), 0),
  }),
  fn({
    name: "kmem_cache_destroy",
    memory: { free: { addr: 0, families: ["cache"] } },
    params: [p("cachep", "handle:kmem_cache")],
    returns: "void",
    context: "may sleep",
    doc: "Destroy a cache. Every object must have been freed first; the kernel complains and keeps the cache otherwise.",
    impl: (c, id: number) => c.k.slab.kmem_cache_destroy(cacheOf(c, id, "kmem_cache_destroy")),
  }),
];
