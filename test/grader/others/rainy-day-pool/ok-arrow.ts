// expect: pass — arrow functions, constants for the sizes, -12 written as -ENOMEM
import { mempool_create_kmalloc_pool, mempool_alloc, mempool_free, mempool_destroy, mempool_t, GFP_KERNEL, GFP_ATOMIC, ENOMEM, kfree, printk, pr_info, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const MIN_NR = 4;
const ELEM_SIZE = 256;
let p: mempool_t | null = null;
let e = 0n;

module_init(() => {
  p = mempool_create_kmalloc_pool(MIN_NR, ELEM_SIZE);
  if (p === null) return -ENOMEM;
  e = mempool_alloc(p, GFP_KERNEL);
  return 0;
});

module_exit(() => {
  if (e) mempool_free(e, p);
  mempool_destroy(p);
});
