// expect: fail addresses-printed /in a second run with \d+ MiB of RAM, no print call was given the value __get_free_page\(order 0\) at 0x[0-9a-f]+ \(line 9\) returned \(the module printed 0x[0-9a-f]+, 0x[0-9a-f]+, 0x[0-9a-f]+\)/ — the addresses copied from an earlier run's output (the test puts in what an earlier run of this very file got from each allocator)
import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n, kmallocmem = 0n, vmallocmem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  if (pagemem === 0n) return -ENOMEM;
  printk(KERN_INFO + "pagemem = 0x%lx\n", COPIED_RET("__get_free_page"));
  kmallocmem = kmalloc(100, GFP_KERNEL);
  if (kmallocmem === 0n) {
    free_page(pagemem);
    return -ENOMEM;
  }
  printk(KERN_INFO + "kmallocmem = 0x%lx\n", COPIED_RET("kmalloc"));
  vmallocmem = vmalloc(1000000);
  if (vmallocmem === 0n) {
    kfree(kmallocmem);
    free_page(pagemem);
    return -ENOMEM;
  }
  printk(KERN_INFO + "vmallocmem = 0x%lx\n", COPIED_RET("vmalloc"));
  return 0;
}

function mem_exit(): void {
  free_page(pagemem);
  kfree(kmallocmem);
  vfree(vmallocmem);
}

module_init(mem_init);
module_exit(mem_exit);
