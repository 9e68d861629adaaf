// expect: pass — a helper that adds the page starts, the line built as a string, 16384 written out
import { vmalloc_user, vfree, misc_register, misc_deregister, remap_vmalloc_range, vma_pgoff, readb, printk, KERN_INFO, ENOMEM,
  MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, open, mmap, store8, close, puts, errno, O_RDWR, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED } from "user";

MODULE_LICENSE("GPL");
let area = 0n;

function pageStartsSum(base: bigint, pages: number): number {
  let s = 0;
  for (let i = 0; i < pages; i++) s += readb(base + BigInt(i) * 4096n);
  return s;
}

function dev_mmap(file: any, vma: any): number {
  return remap_vmalloc_range(vma, area, vma_pgoff(vma));
}

function dev_init(): number {
  area = vmalloc_user(16384);
  if (!area) return -ENOMEM;
  return misc_register("shared", null, null, null, null, dev_mmap, null);
}

function dev_exit(): void {
  const s = pageStartsSum(area, 4);
  printk(KERN_INFO + "sum " + s + "\n");
  misc_deregister("shared");
  vfree(area);
}

module_init(dev_init);
module_exit(dev_exit);

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
