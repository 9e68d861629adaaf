// expect: pass — arrow functions and helpers; the read-back loop stops at the first mismatch
import { vzalloc, vfree, writel, readl, printk, KERN_INFO, KERN_ERR, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const PAGES = 1024;
let buf = 0n;
const at = (n: number): bigint => buf + BigInt(n * 4096);
const fill = () => { for (let n = 0; n < PAGES; n++) writel(n, at(n)); };
const check = (): boolean => { for (let n = 0; n < PAGES; n++) if (readl(at(n)) !== n) return false; return true; };

module_init(() => {
  buf = vzalloc(PAGES * 4096);
  if (buf === 0n) return -ENOMEM;
  fill();
  printk(check() ? KERN_INFO + "ok\n" : KERN_ERR + "mismatch\n");
  return 0;
});
module_exit(() => vfree(buf));
