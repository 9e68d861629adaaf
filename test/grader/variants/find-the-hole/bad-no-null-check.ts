// expect: fail loads /init never returned: \[oops\] Unable to handle kernel NULL pointer dereference at virtual address 00000000 \(line 9\)/ — no NULL check on the probes: the first probe that fails (any probe past the hole) is written through
import { __vmalloc, vfree, writel, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function fits(n: number): boolean {
  const p = __vmalloc(n * 1024 * 1024, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL);
  writel(n, p);
  const ok = p !== 0n;
  vfree(p);
  return ok;
}

function hole_init(): number {
  let lo = 0, hi = 1024;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  printk(KERN_INFO + "largest: %d MiB\n", lo);
  return 0;
}

module_init(hole_init);
module_exit(() => {});
