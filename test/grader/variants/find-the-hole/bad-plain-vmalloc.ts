// expect: fail quiet /the kernel printed: vmalloc: allocation failure: 268435456 bytes/ — the starter's loop with vmalloc(), each probe freed: correct answer, loud failures
import { vmalloc, vfree, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hole_init(): number {
  let lo = 0, hi = 512;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const p = vmalloc(mid * 1024 * 1024);
    if (p === 0n) hi = mid;
    else {
      vfree(p);
      lo = mid;
    }
  }
  printk(KERN_INFO + "largest: %d MiB\n", lo);
  return 0;
}

module_init(hole_init);
module_exit(() => {});
