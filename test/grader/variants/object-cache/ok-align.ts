// expect: pass — an alignment of 8 and SLAB_HWCACHE_ALIGN-free flags; error path written out in init
import { kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit, type kmem_cache } from "linux";

MODULE_LICENSE("GPL");
const ITEM_SIZE = 72;
const COUNT = 100;
const items: bigint[] = [];
let item_cache: kmem_cache | null = null;

function item_init(): number {
  item_cache = kmem_cache_create("kmodlab_item", ITEM_SIZE, 8, 0);
  if (!item_cache) return -ENOMEM;
  while (items.length < COUNT) {
    const it = kmem_cache_alloc(item_cache, GFP_KERNEL);
    if (!it) break;
    items.push(it);
  }
  if (items.length < COUNT) {
    for (const it of items) kmem_cache_free(item_cache, it);
    kmem_cache_destroy(item_cache);
    return -ENOMEM;
  }
  return 0;
}

function item_exit(): void {
  for (const it of items) kmem_cache_free(item_cache!, it);
  kmem_cache_destroy(item_cache!);
}

module_init(item_init);
module_exit(item_exit);
