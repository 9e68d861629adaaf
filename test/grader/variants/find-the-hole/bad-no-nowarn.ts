// expect: fail quiet /the kernel printed: vmalloc: allocation failure: 536870912 bytes/ — probes with GFP_KERNEL alone: every failed probe warns
import { __vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const MiB = 1024 * 1024;

/** Does an n-MiB vmalloc succeed right now? (Given straight back.) */
function fits(n: number): boolean {
  const p = __vmalloc(n * MiB, GFP_KERNEL, PAGE_KERNEL);
  if (p === 0n) return false;
  vfree(p);
  return true;
}

function hole_init(): number {
  let lo = 0, hi = 1024; // fits(lo) holds (0 MiB), fits(hi) cannot on a 32-bit machine
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
