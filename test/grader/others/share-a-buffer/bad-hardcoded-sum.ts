// expect: fail read-back /read 42 at the start of 0 of the 4 pages/ — prints the expected "sum 168" without reading the buffer back
import { vmalloc_user, vfree, misc_register, misc_deregister, remap_vmalloc_range, vma_pgoff, printk, KERN_INFO, ENOMEM,
  MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, open, mmap, store8, close, puts, errno, O_RDWR, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED } from "user";

MODULE_LICENSE("GPL");
let buf = 0n;

function shared_mmap(file: any, vma: any): number {
  return remap_vmalloc_range(vma, buf, vma_pgoff(vma));
}

function shared_init(): number {
  buf = vmalloc_user(16384);
  if (!buf) return -ENOMEM;
  return misc_register("shared", null, null, null, null, shared_mmap, null);
}

function shared_exit(): void {
  printk(KERN_INFO + "sum %d\n", 168);
  misc_deregister("shared");
  vfree(buf);
}

module_init(shared_init);
module_exit(shared_exit);

user_main(function main(): number {
  const fd = open("/dev/shared", O_RDWR);
  const p = mmap(0n, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p === MAP_FAILED) {
    puts("mmap failed, errno " + errno);
    return 1;
  }
  for (let i = 0; i < 4; i++) store8(p + BigInt(i * 4096), 42);
  close(fd);
  return 0;
});
