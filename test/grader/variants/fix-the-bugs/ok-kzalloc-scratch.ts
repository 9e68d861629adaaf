// expect: pass — kzalloc for the scratch buffer, kcalloc for the sum buffer
import { kmalloc, kcalloc, kzalloc, kfree, vmalloc, vfree, writeb, readb, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const N = 16;
let table = 0n, scratch = 0n;

function sum_init(): number {
  const buf = kcalloc(N, 1, GFP_KERNEL);
  if (buf === 0n) return -ENOMEM;
  for (let i = 0; i < N; i++) writeb(i, buf + BigInt(i)); // indices 0..N-1 only
  let sum = 0;
  for (let i = 0; i < N; i++) sum += readb(buf + BigInt(i));
  kfree(buf);
  table = vmalloc(8192);
  if (table === 0n) return -ENOMEM;
  scratch = kzalloc(64, GFP_KERNEL);
  if (scratch === 0n) {
    vfree(table);
    return -ENOMEM;
  }
  printk(KERN_INFO + "sum = %d\n", sum);
  return 0;
}

function sum_exit(): void {
  vfree(table);   // vmalloc pairs with vfree
  kfree(scratch); // and what init kept, exit gives back
}

module_init(sum_init);
module_exit(sum_exit);
