// expect: pass — exponential search for a failing size, then bisection between the last two
import { __vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function tryMiB(n: number): boolean {
  const p = __vmalloc(n * 1024 * 1024, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL);
  if (p === 0n) return false;
  vfree(p);
  return true;
}

function hole_init(): number {
  let hi = 1;
  while (tryMiB(hi)) hi *= 2;
  let lo = hi / 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (tryMiB(mid)) lo = mid;
    else hi = mid;
  }
  printk(KERN_INFO + "largest: %d MiB\n", lo);
  return 0;
}

module_init(hole_init);
module_exit(() => {});
