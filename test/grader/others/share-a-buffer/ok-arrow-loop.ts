// expect: pass — arrow functions, the sum in a loop over the pages, pr_info
import { vmalloc_user, vfree, misc_register, misc_deregister, remap_vmalloc_range, vma_pgoff, readb, pr_info, ENOMEM,
  MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, open, mmap, store8, close, puts, errno, O_RDWR, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED } from "user";

MODULE_LICENSE("GPL");
const SIZE = 16 * 1024;
let shared_buf = 0n;

module_init(() => {
  shared_buf = vmalloc_user(SIZE);
  if (!shared_buf) return -ENOMEM;
  return misc_register("shared", null, null, null, null, (file: any, vma: any) => remap_vmalloc_range(vma, shared_buf, vma_pgoff(vma)), null);
});

module_exit(() => {
  let total = 0;
  for (let pg = 0; pg < 4; pg++) total += readb(shared_buf + BigInt(pg * 4096));
  pr_info("sum %d\n", total);
  misc_deregister("shared");
  vfree(shared_buf);
});

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
