// expect: fail handles-allocation-failure /mempool_create_kmalloc_pool\(4, 256\) at line 8 returned NULL\): the kernel reported/ — no NULL check on the pool: when it cannot be made, init goes on and returns 0
import { mempool_create_kmalloc_pool, mempool_alloc, mempool_free, mempool_destroy, mempool_t, GFP_KERNEL, GFP_ATOMIC, ENOMEM, kfree, printk, pr_info, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pool: mempool_t | null = null;
let elem = 0n;
module_init(() => {
  pool = mempool_create_kmalloc_pool(4, 256);
  elem = mempool_alloc(pool, GFP_KERNEL);
  return 0;
});
module_exit(() => { mempool_free(elem, pool); mempool_destroy(pool); });
