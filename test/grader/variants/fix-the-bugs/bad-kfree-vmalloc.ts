// expect: fail no-leak /never freed: vmalloc\(8192\) at 0x[0-9a-f]+ \(line 16\), kmalloc\(64\) at 0x[0-9a-f]+ \(line 18\) \(the kernel reported \[invalid-free\] BUG: unable to handle page fault for address: ffffeb[0-9a-f]+ at line 28\)/ — still frees the vmalloc table with kfree
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
  kfree(table);
  kfree(scratch); // and what init kept, exit gives back
}

module_init(sum_init);
module_exit(sum_exit);
