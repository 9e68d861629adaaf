import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO,
         GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n, kmallocmem = 0n, vmallocmem = 0n;

function mem_module_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  printk(KERN_INFO + "pagemem addr=%px\n", pagemem);
  kmallocmem = kmalloc(100, GFP_KERNEL);
  printk(KERN_INFO + "kmallocmem addr=%px\n", kmallocmem);
  vmallocmem = vmalloc(1000000);
  printk(KERN_INFO + "vmallocmem addr=%px\n", vmallocmem);
  return 0;
}
function mem_module_exit(): void {
  free_page(pagemem); kfree(kmallocmem); vfree(vmallocmem);
}
module_init(mem_module_init);
module_exit(mem_module_exit);
