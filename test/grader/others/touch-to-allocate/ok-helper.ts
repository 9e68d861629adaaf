// expect: pass — a helper that touches N pages, 0xff written, an arrow function as main
import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
import { user_main, malloc, free, store8 } from "user";

MODULE_LICENSE("GPL");
module_init(() => { printk(KERN_INFO + "loaded\n"); return 0; });

const touchPages = (base: bigint, pages: number): void => {
  for (let page = 0; page < pages; page++) store8(base + BigInt(page) * 4096n, 0xff);
};

user_main(() => {
  const buf = malloc(1024 * 1024);
  touchPages(buf, 16);
  free(buf);
  return 0;
});
