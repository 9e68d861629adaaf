// expect: fail handles-allocation-failure /with the 1st of module_init's \d+ fault sites failing \(kmem_cache_alloc\(kmem_cache, GFP_KERNEL\) at line 11 returned NULL\): init returned 0, so the module loaded without the memory it needed; return -ENOMEM/ — the starter's loop: no check of the cache or of the objects
import { kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit, type kmem_cache } from "linux";

MODULE_LICENSE("GPL");
const objs: bigint[] = [];
let cache: kmem_cache | null = null;

function cache_init(): number {
  cache = kmem_cache_create("kmodlab_item", 72, 0, 0);
  for (let i = 0; i < 100; i++) objs.push(kmem_cache_alloc(cache!, GFP_KERNEL));
  return 0;
}

function cache_exit(): void {
  for (const o of objs) kmem_cache_free(cache!, o);
  kmem_cache_destroy(cache!);
}

module_init(cache_init);
module_exit(cache_exit);
