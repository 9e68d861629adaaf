// expect: pass — objects given back with kfree, which SLUB accepts for any slab object (6.1), then the cache destroyed
import { kmem_cache_create, kmem_cache_alloc, kfree, kmem_cache_destroy, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit, type kmem_cache } from "linux";

MODULE_LICENSE("GPL");
const objs: bigint[] = [];
let cache: kmem_cache | null = null;

function drop_all(): void {
  for (const o of objs) kfree(o);
  objs.length = 0;
  if (cache) kmem_cache_destroy(cache);
}

function cache_init(): number {
  cache = kmem_cache_create("kmodlab_item", 72, 0, 0);
  if (!cache) return -ENOMEM;
  for (let i = 0; i < 100; i++) {
    const o = kmem_cache_alloc(cache, GFP_KERNEL);
    if (!o) { drop_all(); return -ENOMEM; }
    objs.push(o);
  }
  return 0;
}

module_init(cache_init);
module_exit(drop_all);
