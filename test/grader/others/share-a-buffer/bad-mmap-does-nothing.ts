// expect: fail program-sees-the-buffer /0 of the mapping.s 4 pages are the driver.s frames/ — mmap returns 0 without mapping anything: the program's stores fault instead of landing in the buffer
import { vmalloc_user, vfree, misc_register, misc_deregister, readb, printk, KERN_INFO, ENOMEM,
  MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, open, mmap, store8, close, puts, errno, O_RDWR, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED } from "user";

MODULE_LICENSE("GPL");
let buf = 0n;

function shared_mmap(file: any, vma: any): number {
  return 0;
}

function shared_init(): number {
  buf = vmalloc_user(16384);
  if (!buf) return -ENOMEM;
  return misc_register("shared", null, null, null, null, shared_mmap, null);
}

function shared_exit(): void {
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += readb(buf + BigInt(i * 4096));
  printk(KERN_INFO + "sum %d\n", sum);
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
