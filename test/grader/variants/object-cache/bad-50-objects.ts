// expect: fail slabinfo-after-load /kmodlab_item has 50 active objects after load, not 100/ — stops at 50
import { kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit, type kmem_cache } from "linux";

MODULE_LICENSE("GPL");
const objs: bigint[] = [];
let cache: kmem_cache | null = null;

function cache_init(): number {
  cache = kmem_cache_create("kmodlab_item", 72, 0, 0);
  if (!cache) return -ENOMEM;
  for (let i = 0; i < 50; i++) {
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
