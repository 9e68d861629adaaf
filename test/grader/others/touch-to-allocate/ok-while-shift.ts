// expect: pass — 1 << 20 for the size, a while loop with a bigint cursor, writes the page number, a NULL check
import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
import { user_main, malloc, free, store8 } from "user";

MODULE_LICENSE("GPL");
module_init(() => { printk(KERN_INFO + "loaded\n"); return 0; });

user_main(function main(): number {
  const PAGE = 4096n;
  const p = malloc(1 << 20);
  if (p === 0n) return 1;
  let q = p;
  let n = 0;
  while (n < 16) {
    store8(q, n);
    q += PAGE;
    n++;
  }
  free(p);
  return 0;
});
