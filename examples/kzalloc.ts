// kmalloc rounds a request up to its cache's object size: ksize() says how much you really got, and
// kzalloc() hands it out zeroed.
import { kmalloc, kzalloc, ksize, kfree, readb, printk, KERN_INFO, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const ptrs: bigint[] = [];

function sizes_init(): number {
  for (const size of [1, 8, 24, 100, 200, 1000, 5000]) {
    const p = kmalloc(size, GFP_KERNEL);
    ptrs.push(p);
    printk(KERN_INFO + "kmalloc(%d) -> %px, ksize %zu\n", size, p, ksize(p));
  }
  const z = kzalloc(64, GFP_KERNEL);
  ptrs.push(z);
  printk(KERN_INFO + "kzalloc(64): first byte %d, last byte %d\n", readb(z), readb(z + 63n));
  return 0;
}

function sizes_exit(): void {
  for (const p of ptrs) kfree(p);
}

module_init(sizes_init);
module_exit(sizes_exit);
