// expect: fail handles-allocation-failure /with the 1st of module_init's \d+ fault sites failing \(kmalloc\(16, GFP_KERNEL\) at line 10 returned NULL\): the kernel reported \[kasan\] BUG: KASAN: null-ptr-deref in sum_init\+0x50\/0x180 \[cell\] \(line 11\)/ — the three bugs fixed, no allocation checked
import { kmalloc, kfree, vmalloc, vfree, writeb, readb, printk, KERN_INFO, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const N = 16;
let table = 0n, scratch = 0n;

function sum_init(): number {
  const buf = kmalloc(N, GFP_KERNEL);
  for (let i = 0; i < N; i++) writeb(i, buf + BigInt(i));
  let sum = 0;
  for (let i = 0; i < N; i++) sum += readb(buf + BigInt(i));
  kfree(buf);
  table = vmalloc(8192);
  scratch = kmalloc(64, GFP_KERNEL);
  printk(KERN_INFO + "sum = %d\n", sum);
  return 0;
}

function sum_exit(): void {
  vfree(table);
  kfree(scratch);
}

module_init(sum_init);
module_exit(sum_exit);
