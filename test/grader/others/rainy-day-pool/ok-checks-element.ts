// expect: pass — the element is checked too (NULL: the pool destroyed, -ENOMEM), pr_info lines
import { mempool_create_kmalloc_pool, mempool_alloc, mempool_free, mempool_destroy, mempool_t, GFP_KERNEL, GFP_ATOMIC, ENOMEM, kfree, printk, pr_info, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pool: mempool_t | null = null;
let elem = 0n;

function pool_init(): number {
  pool = mempool_create_kmalloc_pool(4, 256);
  if (!pool) return -ENOMEM;
  elem = mempool_alloc(pool, GFP_KERNEL);
  if (!elem) {
    mempool_destroy(pool);
    return -ENOMEM;
  }
  pr_info("rainy: took %px\n", elem);
  return 0;
}

function pool_exit(): void {
  mempool_free(elem, pool);
  mempool_destroy(pool);
  pr_info("rainy: pool gone\n");
}

module_init(pool_init);
module_exit(pool_exit);
