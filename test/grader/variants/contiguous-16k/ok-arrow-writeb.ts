// expect: pass — arrow functions, a byte loop with writeb instead of memset
import { __get_free_pages, free_pages, writeb, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

module_init(() => {
  buf = __get_free_pages(GFP_KERNEL, 2);
  if (buf === 0n) return -ENOMEM;
  for (let i = 0; i < 16384; i++) writeb(0xab, buf + BigInt(i));
  return 0;
});

module_exit(() => free_pages(buf, 2));
