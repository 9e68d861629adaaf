// expect: fail page /__get_free_page\(order 0\) at 0x[0-9a-f]+ \(line 9\): allocated with GFP_ATOMIC, the task asks for GFP_KERNEL/ — GFP_ATOMIC "to be safe"
import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, GFP_ATOMIC, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n, kmallocmem = 0n, vmallocmem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_ATOMIC);
  if (!pagemem) return -ENOMEM;
  kmallocmem = kmalloc(100, GFP_KERNEL);
  if (!kmallocmem) {
    free_page(pagemem);
    return -ENOMEM;
  }
  vmallocmem = vmalloc(1000000);
  if (!vmallocmem) {
    kfree(kmallocmem);
    free_page(pagemem);
    return -ENOMEM;
  }
  printk(KERN_INFO + "pagemem = %px\n", pagemem);
  printk(KERN_INFO + "kmallocmem = %px\n", kmallocmem);
  printk(KERN_INFO + "vmallocmem = %px\n", vmallocmem);
  return 0;
}

function mem_exit(): void {
  vfree(vmallocmem);
  kfree(kmallocmem);
  free_page(pagemem);
}

module_init(mem_init);
module_exit(mem_exit);
