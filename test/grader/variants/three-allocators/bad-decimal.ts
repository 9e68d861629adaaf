// expect: fail addresses-printed /the value of __get_free_page\(order 0\) at 0x[0-9a-f]+ \(line \d+\) was passed to printk, but the kernel's log does not show it in hex \(use %px or %lx\)$/ — prints the three addresses in decimal (%lu); the message said '%p prints a hashed value', which 2.6 does not do
import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n;
let kmallocmem = 0n;
let vmallocmem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  if (pagemem) {
    kmallocmem = kmalloc(100, GFP_KERNEL);
    if (kmallocmem) {
      vmallocmem = vmalloc(1000000);
      if (vmallocmem) {
        printk(KERN_INFO + "pagemem = %lu\n", pagemem);
        printk(KERN_INFO + "kmallocmem = %lu\n", kmallocmem);
        printk(KERN_INFO + "vmallocmem = %lu\n", vmallocmem);
        return 0;
      }
      kfree(kmallocmem);
    }
    free_page(pagemem);
  }
  return -ENOMEM;
}

function mem_exit(): void {
  vfree(vmallocmem);
  kfree(kmallocmem);
  free_page(pagemem);
}

module_init(mem_init);
module_exit(mem_exit);
