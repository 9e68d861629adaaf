// expect: pass — writeq of the page number: 64 bits, whose low 32 bits are the page number in memory
import { vzalloc, vfree, writeq, readq, printk, KERN_INFO, ENOMEM, PAGE_SIZE, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function big_init(): number {
  buf = vzalloc(4 << 20);
  if (buf === 0n) return -ENOMEM;
  for (let i = 0; i < 1024; i++) writeq(BigInt(i), buf + BigInt(i * PAGE_SIZE));
  let bad = 0;
  for (let i = 0; i < 1024; i++) if (readq(buf + BigInt(i * PAGE_SIZE)) !== BigInt(i)) bad++;
  if (bad === 0) printk(KERN_INFO + "ok\n");
  return 0;
}

function big_exit(): void {
  vfree(buf);
}

module_init(big_init);
module_exit(big_exit);
