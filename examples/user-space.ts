// A module and a user program beside it (issue 19): the module makes /proc/hello and /dev/share (whose mmap maps a
// kmalloc'ed page); the program (user_main) reads the /proc file, maps the device, stores into the kernel's page and
// prints its own /proc/self/maps. kmodlab run examples/user-space.ts --proc hello
import { kzalloc, kfree, virt_to_phys, readb, proc_create_single, remove_proc_entry, seq_printf, misc_register, misc_deregister,
  remap_pfn_range, vma_start, vma_end, printk, type seq_file, type file, type vm_area_struct, KERN_INFO, GFP_KERNEL, NULL, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, mmap, store8, load_string, puts, PROT_READ, PROT_WRITE, MAP_SHARED } from "user";

MODULE_LICENSE("GPL");
let page = 0n;

function hello_show(m: seq_file): number {
  seq_printf(m, "hello from the kernel: page at pfn %lu\n", virt_to_phys(page) >> 12n);
  return 0;
}

function share_mmap(_file: file, vma: vm_area_struct): number {
  return remap_pfn_range(vma, vma_start(vma), Number(virt_to_phys(page) >> 12n), Number(vma_end(vma) - vma_start(vma)));
}

function demo_init(): number {
  page = kzalloc(4096, GFP_KERNEL);
  if (!page) return -12;
  proc_create_single("hello", 0, NULL, hello_show);
  return misc_register("share", null, null, null, null, share_mmap, null);
}

function demo_exit(): void {
  printk(KERN_INFO + "the program left %d in the kernel's page\n", readb(page));
  misc_deregister("share");
  remove_proc_entry("hello", NULL);
  kfree(page);
}

module_init(demo_init);
module_exit(demo_exit);

user_main(function main(): number {
  const buf = malloc(8192);
  let fd = open("/proc/hello", 0);
  puts(load_string(buf, read(fd, buf, 8192)).trimEnd());
  close(fd);
  fd = open("/dev/share", 2);
  const p = mmap(0n, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  store8(p, 42);
  close(fd);
  fd = open("/proc/self/maps", 0);
  puts(load_string(buf, read(fd, buf, 8192)).trimEnd());
  close(fd);
  return 0;
});
