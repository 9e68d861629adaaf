// expect: fail no-reports /3 reports; first: \[kasan\] BUG: KASAN: slab-out-of-bounds in sum_init\+0x70\/0x240 \[cell\] \(line 12\)/ — the leak and the free fixed, the loop still runs to i <= N
import { kmalloc, kfree, vmalloc, vfree, writeb, readb, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const N = 16;
let table = 0n, scratch = 0n;

function sum_init(): number {
  const buf = kmalloc(N, GFP_KERNEL);
  if (buf === 0n) return -ENOMEM;
  for (let i = 0; i <= N; i++) writeb(i, buf + BigInt(i)); // indices 0..N-1 only
  let sum = 0;
  for (let i = 0; i < N; i++) sum += readb(buf + BigInt(i));
  kfree(buf);
  table = vmalloc(8192);
  if (table === 0n) return -ENOMEM;
  scratch = kmalloc(64, GFP_KERNEL);
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
