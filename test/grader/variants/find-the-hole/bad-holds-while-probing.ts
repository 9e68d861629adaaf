// expect: fail found-largest /the 46 MiB attempt failed while the module itself still held vmalloc memory/ — keeps the last good probe while trying the next size, so the next one fails early
import { __vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hole_init(): number {
  let held = 0n;
  let n = 0;
  for (;;) {
    const p = __vmalloc((n + 1) * 1024 * 1024, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL);
    if (p === 0n) break;
    if (held) vfree(held);
    held = p;
    n++;
  }
  if (held) vfree(held);
  printk(KERN_INFO + "largest: %d MiB\n", n);
  return 0;
}

module_init(hole_init);
module_exit(() => {});
