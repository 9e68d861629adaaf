// expect: fail handles-allocation-failure /with the 1st failslab call after boot \(in mem_init\) failing \(kmalloc\(100, GFP_KERNEL\) at line 11 returned NULL\): init failed and left allocated: __get_free_page\(order 0\) at 0x[0-9a-f]+ \(line 9\)/ — the error path returns -ENOMEM but keeps what it took
import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n, kmallocmem = 0n, vmallocmem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  if (!pagemem) return -ENOMEM;
  kmallocmem = kmalloc(100, GFP_KERNEL);
  if (!kmallocmem) return -ENOMEM;
  vmallocmem = vmalloc(1000000);
  if (!vmallocmem) return -ENOMEM;
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
