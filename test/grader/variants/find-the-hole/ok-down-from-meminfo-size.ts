// expect: pass — steps down from 200 MiB (the vmalloc= size) in 16 MiB strides, then up one MiB at a time
import { __vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function fits(n: number): boolean {
  const p = __vmalloc(n * 1048576, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL);
  if (!p) return false;
  vfree(p);
  return true;
}

function hole_init(): number {
  let n = 200;
  while (n > 0 && !fits(n)) n -= 16;
  while (fits(n + 1)) n++;
  printk(KERN_INFO + "largest: %d MiB\n", n);
  return 0;
}

module_init(hole_init);
module_exit(() => {});
