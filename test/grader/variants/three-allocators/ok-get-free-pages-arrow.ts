// expect: pass — __get_free_pages(GFP_KERNEL, 0), arrow functions, another order of allocation
import { __get_free_pages, free_pages, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let v = 0n, k = 0n, p = 0n;

module_init(() => {
  v = vmalloc(1000000);
  if (v === 0n) return -ENOMEM;
  printk(KERN_INFO + "vmalloc: 0x%lx\n", v);
  k = kmalloc(100, GFP_KERNEL);
  if (k === 0n) {
    vfree(v);
    return -ENOMEM;
  }
  printk(KERN_INFO + "kmalloc: 0x%lx\n", k);
  p = __get_free_pages(GFP_KERNEL, 0);
  if (p === 0n) {
    kfree(k);
    vfree(v);
    return -ENOMEM;
  }
  printk(KERN_INFO + "page: 0x%lx\n", p);
  return 0;
});

module_exit(() => {
  free_pages(p, 0);
  kfree(k);
  vfree(v);
});
