// expect: fail found-largest /the module printed 57 MiB, but no 57 MiB vmalloc succeeded in the kernel's records/ — prints a number read off an earlier run instead of searching
import { __vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const MiB = 1024 * 1024;

/** Does an n-MiB vmalloc succeed right now? (Given straight back.) */
function fits(n: number): boolean {
  const p = __vmalloc(n * MiB, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL);
  if (p === 0n) return false;
  vfree(p);
  return true;
}

function hole_init(): number {
  const lo = 57;
  printk(KERN_INFO + "largest: %d MiB\n", lo);
  return 0;
}

module_init(hole_init);
module_exit(() => {});
