// expect: pass — the zeroing variants kzalloc and vzalloc (lesson 4: kzalloc is kmalloc with __GFP_ZERO)
import { __get_free_page, free_page, kzalloc, kfree, vzalloc, vfree, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let page = 0n, small = 0n, big = 0n;

function mem_init(): number {
  page = __get_free_page(GFP_KERNEL);
  small = kzalloc(100, GFP_KERNEL);
  big = vzalloc(1000000);
  if (!page || !small || !big) {
    vfree(big);
    kfree(small);
    if (page) free_page(page);
    return -ENOMEM;
  }
  printk(KERN_INFO + "page 0x%lx, kzalloc 0x%lx, vzalloc 0x%lx\n", page, small, big);
  return 0;
}

function mem_exit(): void {
  free_page(page);
  kfree(small);
  vfree(big);
}

module_init(mem_init);
module_exit(mem_exit);
