// expect: pass — writew into zeroed memory: the 32-bit value at each page start is the page number all the same
import { vzalloc, vfree, writew, readl, printk, KERN_INFO, ENOMEM, PAGE_SIZE, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;
const page = (i: number) => buf + BigInt(i) * BigInt(PAGE_SIZE);

function big_init(): number {
  buf = vzalloc(4 * 1024 * 1024);
  if (buf === 0n) return -ENOMEM;
  for (let i = 0; i < 1024; i++) writew(i, page(i));
  const all = Array.from({ length: 1024 }, (_, i) => readl(page(i)) === i).every(Boolean);
  if (all) printk(KERN_INFO + "ok\n");
  return 0;
}

function big_exit(): void {
  vfree(buf);
}

module_init(big_init);
module_exit(big_exit);
