// expect: pass — one cleanup helper for the error path and for exit (the kernel's goto-unwind in one function)
import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const mem = { page: 0n, km: 0n, vm: 0n };

function release(): void {
  if (mem.vm) vfree(mem.vm);
  if (mem.km) kfree(mem.km);
  if (mem.page) free_page(mem.page);
  mem.page = mem.km = mem.vm = 0n;
}

function show(name: string, addr: bigint): void {
  printk(KERN_INFO + "%s = 0x%lx\n", name, addr);
}

function mem_init(): number {
  mem.page = __get_free_page(GFP_KERNEL);
  if (!mem.page) return -ENOMEM;
  mem.km = kmalloc(100, GFP_KERNEL);
  if (!mem.km) { release(); return -ENOMEM; }
  mem.vm = vmalloc(1000000);
  if (!mem.vm) { release(); return -ENOMEM; }
  show("pagemem", mem.page);
  show("kmallocmem", mem.km);
  show("vmallocmem", mem.vm);
  return 0;
}

module_init(mem_init);
module_exit(release);
