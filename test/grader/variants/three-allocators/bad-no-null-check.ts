// expect: fail handles-allocation-failure /with the 1st failslab call after boot \(in mem_init\) failing \(kmalloc\(100, GFP_KERNEL\) at line 11 returned NULL\): init returned 0, so the module loaded without the memory it needed; return -ENOMEM/ — no allocation is checked
import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n, kmallocmem = 0n, vmallocmem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  printk(KERN_INFO + "pagemem = 0x%lx\n", pagemem);
  kmallocmem = kmalloc(100, GFP_KERNEL);
  printk(KERN_INFO + "kmallocmem = 0x%lx\n", kmallocmem);
  vmallocmem = vmalloc(1000000);
  printk(KERN_INFO + "vmallocmem = 0x%lx\n", vmallocmem);
  return 0;
}

function mem_exit(): void {
  free_page(pagemem);
  kfree(kmallocmem);
  vfree(vmallocmem);
}

module_init(mem_init);
module_exit(mem_exit);
