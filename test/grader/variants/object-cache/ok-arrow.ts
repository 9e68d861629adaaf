// expect: pass — arrow functions, objects kept in a preallocated array and freed in reverse order
import { kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit, type kmem_cache } from "linux";

MODULE_LICENSE("GPL");
const N = 100;
const objs: bigint[] = new Array(N).fill(0n);
let cache: kmem_cache | null = null;
let taken = 0;

const give_back = () => {
  for (let i = taken - 1; i >= 0; i--) kmem_cache_free(cache!, objs[i]);
  taken = 0;
  kmem_cache_destroy(cache!);
};

module_init(() => {
  cache = kmem_cache_create("kmodlab_item", 72, 0, 0);
  if (!cache) return -ENOMEM;
  for (; taken < N; taken++) {
    objs[taken] = kmem_cache_alloc(cache, GFP_KERNEL);
    if (objs[taken] === 0n) {
      give_back();
      return -ENOMEM;
    }
  }
  return 0;
});
module_exit(give_back);
