// expect: pass — printk(KERN_INFO ...), an early-return error path, the element filled
import { mempool_create_kmalloc_pool, mempool_alloc, mempool_free, mempool_destroy, mempool_t, GFP_KERNEL, ENOMEM, memset, printk, KERN_INFO, KERN_ERR, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let rainy: mempool_t | null = null;
let umbrella = 0n;

function fail_nomem(what: string): number {
  printk(KERN_ERR + "rainy: no memory for the %s\n", what);
  return -ENOMEM;
}

function rainy_init(): number {
  rainy = mempool_create_kmalloc_pool(4, 256);
  if (!rainy) return fail_nomem("pool");
  umbrella = mempool_alloc(rainy, GFP_KERNEL);
  memset(umbrella, 0, 256);
  printk(KERN_INFO + "rainy: ready\n");
  return 0;
}

function rainy_exit(): void {
  mempool_free(umbrella, rainy);
  mempool_destroy(rainy);
}

module_init(rainy_init);
module_exit(rainy_exit);
