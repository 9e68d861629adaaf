// expect: pass — bisection with arrow functions over [1, 512)
import { __vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const MB = 1 << 20;

const fits = (mb: number): boolean => {
  const p = __vmalloc(mb * MB, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL);
  if (!p) return false;
  vfree(p);
  return true;
};

module_init(() => {
  let good = 0, bad = 512;
  while (bad - good > 1) {
    const m = Math.floor((good + bad) / 2);
    if (fits(m)) good = m;
    else bad = m;
  }
  printk(KERN_INFO + "largest: %d MiB\n", good);
  return 0;
});
module_exit(() => {});
