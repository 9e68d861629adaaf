// expect: pass — misc_register's error is handled (the buffer freed), four readb added by hand, printk with %u
import { vmalloc_user, vfree, misc_register, misc_deregister, remap_vmalloc_range, vma_pgoff, readb, printk, KERN_INFO, ENOMEM,
  MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, open, mmap, store8, close, puts, errno, O_RDWR, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED } from "user";

MODULE_LICENSE("GPL");
let buf = 0n;

function shared_mmap(file: any, vma: any): number {
  const err = remap_vmalloc_range(vma, buf, vma_pgoff(vma));
  if (err) printk(KERN_INFO + "shared: remap failed: %d\n", err);
  return err;
}

function shared_init(): number {
  buf = vmalloc_user(4 * 4096);
  if (buf === 0n) return -ENOMEM;
  const ret = misc_register("shared", null, null, null, null, shared_mmap, null);
  if (ret) {
    vfree(buf);
    return ret;
  }
  printk(KERN_INFO + "shared: ready\n");
  return 0;
}

function shared_exit(): void {
  const sum = readb(buf) + readb(buf + 4096n) + readb(buf + 8192n) + readb(buf + 12288n);
  printk(KERN_INFO + "sum %u\n", sum);
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
