// expect: pass — arrow functions; the buffer's bytes written with one memset-free loop and read back
import { kmalloc, kfree, vmalloc, vfree, writeb, readb, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const N = 16;
let table = 0n;
let scratch = 0n;

module_init(() => {
  const buf = kmalloc(N, GFP_KERNEL);
  if (buf === 0n) return -ENOMEM;
  let sum = 0;
  for (let i = 0; i < N; i++) writeb(i, buf + BigInt(i));
  for (let i = N - 1; i >= 0; i--) sum += readb(buf + BigInt(i));
  kfree(buf);
  scratch = kmalloc(64, GFP_KERNEL);
  if (scratch === 0n) return -ENOMEM;
  table = vmalloc(8192);
  if (table === 0n) {
    kfree(scratch);
    return -ENOMEM;
  }
  printk(KERN_INFO + "sum = %d\n", sum);
  return 0;
});

module_exit(() => {
  kfree(scratch);
  vfree(table);
});
