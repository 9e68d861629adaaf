// expect: pass — the sum in a helper, scratch and table released by one function used by both paths
import { kmalloc, kfree, vmalloc, vfree, writeb, readb, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const N = 16;
let table = 0n, scratch = 0n;

function sum_of_bytes(): number {
  const buf = kmalloc(N, GFP_KERNEL);
  if (buf === 0n) return -1;
  for (let i = 0; i < N; i++) writeb(i, buf + BigInt(i));
  let sum = 0;
  for (let i = 0; i < N; i++) sum += readb(buf + BigInt(i));
  kfree(buf);
  return sum;
}

function release(): void {
  if (scratch) kfree(scratch);
  if (table) vfree(table);
  scratch = table = 0n;
}

function sum_init(): number {
  const sum = sum_of_bytes();
  if (sum < 0) return -ENOMEM;
  table = vmalloc(8192);
  scratch = kmalloc(64, GFP_KERNEL);
  if (!table || !scratch) {
    release();
    return -ENOMEM;
  }
  printk(KERN_INFO + "sum = %d\n", sum);
  return 0;
}

module_init(sum_init);
module_exit(release);
