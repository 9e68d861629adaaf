// expect: fail writes /in memory after load, 1 of the 1024 pages holds the right value; page 1 holds 0, not 1, page 2 holds 0/ — prints ok without writing or reading
import { vzalloc, vfree, writel, readl, printk, KERN_INFO, KERN_ERR, ENOMEM, PAGE_SIZE,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const SIZE = 4 * 1024 * 1024;
let buf = 0n;

function big_init(): number {
  buf = vzalloc(SIZE);
  if (buf === 0n) return -ENOMEM;
  const pages = SIZE / PAGE_SIZE;
  let good = true;
  if (good) printk(KERN_INFO + "ok\n");
  else printk(KERN_ERR + "mismatch\n");
  return 0;
}

function big_exit(): void {
  vfree(buf);
}

module_init(big_init);
module_exit(big_exit);
