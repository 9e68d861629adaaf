// expect: pass — kmem_cache_zalloc, and a cleanup helper shared by the error path and exit
import { kmem_cache_create, kmem_cache_zalloc, kmem_cache_free, kmem_cache_destroy, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit, type kmem_cache } from "linux";

MODULE_LICENSE("GPL");
const objs: bigint[] = [];
let cache: kmem_cache | null = null;

function cleanup(): void {
  while (objs.length) kmem_cache_free(cache!, objs.pop()!);
  if (cache) kmem_cache_destroy(cache);
  cache = null;
}

function cache_init(): number {
  cache = kmem_cache_create("kmodlab_item", 72, 0, 0);
  if (cache === null) return -ENOMEM;
  for (let i = 0; i < 100; i++) {
    const o = kmem_cache_zalloc(cache, GFP_KERNEL);
    if (o === 0n) {
      cleanup();
      return -ENOMEM;
    }
    objs.push(o);
  }
  return 0;
}

module_init(cache_init);
module_exit(cleanup);
