// expect: pass — exit frees in the reverse order of allocation, and the first buffer is freed after the print
import { kmalloc, kfree, vmalloc, vfree, writeb, readb, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const N = 16;
let table = 0n, scratch = 0n;

function sum_init(): number {
  const buf = kmalloc(N, GFP_KERNEL);
  if (buf === 0n) return -ENOMEM;
  for (let i = 0; i < N; i++) writeb(i, buf + BigInt(i)); // indices 0..N-1 only
  let sum = 0;
  for (let i = 0; i < N; i++) sum += readb(buf + BigInt(i));
  table = vmalloc(8192);
  if (table === 0n) {
    kfree(buf);
    return -ENOMEM;
  }
  scratch = kmalloc(64, GFP_KERNEL);
  if (scratch === 0n) {
    vfree(table);
    kfree(buf);
    return -ENOMEM;
  }
  printk(KERN_INFO + "sum = %d\n", sum);
  kfree(buf);
  return 0;
}

function sum_exit(): void {
  kfree(scratch);
  vfree(table);
}

module_init(sum_init);
module_exit(sum_exit);
