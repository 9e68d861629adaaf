// expect: fail no-leak /was freed with kfree \(a mempool element goes back to its pool/ — the element is freed with kfree instead of mempool_free
import { mempool_create_kmalloc_pool, mempool_alloc, mempool_free, mempool_destroy, mempool_t, GFP_KERNEL, GFP_ATOMIC, ENOMEM, kfree, printk, pr_info, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pool: mempool_t | null = null;
let elem = 0n;
module_init(() => {
  pool = mempool_create_kmalloc_pool(4, 256);
  if (!pool) return -ENOMEM;
  elem = mempool_alloc(pool, GFP_KERNEL);
  return 0;
});
module_exit(() => { kfree(elem); mempool_destroy(pool); });
