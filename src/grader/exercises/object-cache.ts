// Exercise object-cache: a slab cache of its own, seen by the kernel in /proc/slabinfo, gone after rmmod.

import type { Exercise } from "../types.ts";
import { check, fail, findAlloc, isOutcome, loads, noReports, nothingLeaked, ok, survivesFaultInjection } from "../checks.ts";
import { callsTo, parseSlabinfo, toNum } from "../records.ts";

const NAME = "kmodlab_item";

export const objectCache: Exercise = {
  id: "object-cache",
  title: "A cache of your own",
  lesson: "slab-kmalloc",
  settings: { profile: "x86_64-6.1", proc: ["slabinfo"] },
  statement: `Create a slab cache named \`${NAME}\` for 72-byte objects and allocate 100 objects from it on load; keep
them. On unload, free every object and destroy the cache, so that \`${NAME}\` leaves /proc/slabinfo. If the cache or
an object cannot be allocated, free what you took, destroy the cache and return -ENOMEM.`,
  starter: `import { kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit, type kmem_cache } from "linux";

MODULE_LICENSE("GPL");
const objs: bigint[] = [];
let cache: kmem_cache | null = null;

function cache_init(): number {
  cache = kmem_cache_create("${NAME}", 72, 0, 0);
  for (let i = 0; i < 100; i++) objs.push(kmem_cache_alloc(cache, GFP_KERNEL));
  // TODO: what if the cache or an object could not be allocated?
  return 0;
}

function cache_exit(): void {
  // TODO: free the objects, destroy the cache
}

module_init(cache_init);
module_exit(cache_exit);
`,
  solution: `import { kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit, type kmem_cache } from "linux";

MODULE_LICENSE("GPL");
const objs: bigint[] = [];
let cache: kmem_cache | null = null;

function cache_init(): number {
  cache = kmem_cache_create("${NAME}", 72, 0, 0);
  if (!cache) return -ENOMEM;
  for (let i = 0; i < 100; i++) {
    const o = kmem_cache_alloc(cache, GFP_KERNEL);
    if (o === 0n) {
      cache_exit(); // gives back the objects taken so far and the cache
      return -ENOMEM;
    }
    objs.push(o);
  }
  return 0;
}

function cache_exit(): void {
  for (const o of objs) kmem_cache_free(cache!, o);
  objs.length = 0;
  kmem_cache_destroy(cache!);
}

module_init(cache_init);
module_exit(cache_exit);
`,
  checks: [
    loads(),
    check(
      "slabinfo-after-load",
      `/proc/slabinfo shows ${NAME} for 72-byte objects with 100 active objects after load`,
      `kmem_cache_create("${NAME}", 72, 0, 0) makes the cache; 100 calls of kmem_cache_alloc(cache, GFP_KERNEL) fill it. Keep the objects until unload.`,
      (c) => {
        const txt = c.result.proc.slabinfo;
        if (txt === undefined) return fail("the run took no /proc/slabinfo snapshot after load");
        const e = parseSlabinfo(txt).get(NAME);
        if (!e) return fail(`no cache named ${NAME} in /proc/slabinfo after load`);
        // slabinfo's <objsize> is the slot (s->size): the object plus, on the debug kernel, red zones and tracking.
        // The object size itself is what kmem_cache_create was asked for, and the slot must hold it.
        const created = callsTo(c.result, "kmem_cache_create").find((x) => x.args[0] === NAME);
        const asked = toNum(created?.args[1]);
        if (asked !== 72) return fail(`${NAME} was created for ${asked ?? "?"}-byte objects, not 72`);
        if (e.objsize < 72) return fail(`${NAME}'s slots are ${e.objsize} bytes: too small for 72-byte objects`);
        if (e.active !== 100) return fail(`${NAME} has ${e.active} active objects after load, not 100`);
        return ok(`slot size ${e.objsize}`);
      },
      1,
      { requires: [NAME, "72", "100"] },
    ),
    check(
      "allocated-from-cache",
      "The 100 objects come from kmem_cache_alloc on that cache",
      "Allocate each object with kmem_cache_alloc(cache, GFP_KERNEL) on the cache kmem_cache_create returned.",
      (c) => {
        const created = callsTo(c.result, "kmem_cache_create").filter((x) => x.args[0] === NAME && x.ret !== null && x.ret !== 0 && x.ret !== "0x0");
        if (!created.length) return fail(`kmem_cache_create("${NAME}", ...) was never called successfully`);
        const h = JSON.stringify(created[0].ret);
        const as = findAlloc(c, ["kmem_cache_alloc", "kmem_cache_zalloc"], (a) => JSON.stringify(a.cache) === h && a.call.phase === "init");
        if (isOutcome(as)) return as;
        if (as.length !== 100) return fail(`${as.length} objects were allocated from ${NAME} on load, not 100`);
        return ok();
      },
      1,
      { requires: ["100"] },
    ),
    check(
      "cache-destroyed",
      `${NAME} is gone after unload`,
      "Free every object with kmem_cache_free, then call kmem_cache_destroy(cache) in the exit function.",
      (c) => {
        if (!callsTo(c.result, "kmem_cache_destroy").some((x) => x.phase === "exit")) return fail("kmem_cache_destroy was not called on unload");
        const txt = c.result.procAfterExit.slabinfo;
        if (txt === undefined) return fail("the run took no /proc/slabinfo snapshot after unload");
        if (parseSlabinfo(txt).has(NAME)) return fail(`${NAME} is still in /proc/slabinfo after unload`);
        return ok();
      },
      1,
      { requires: ["destroy"] },
    ),
    nothingLeaked(),
    survivesFaultInjection(),
    noReports(),
  ],
};
