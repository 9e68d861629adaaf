// expect: pass — vmalloc, then memset to zero, then the writes (vzalloc in two steps)
import { vmalloc, vfree, memset, writel, readl, printk, KERN_INFO, ENOMEM, PAGE_SIZE, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const SIZE = 4 * 1024 * 1024;
let buf = 0n;

function big_init(): number {
  buf = vmalloc(SIZE);
  if (!buf) return -ENOMEM;
  memset(buf, 0, SIZE);
  for (let off = 0; off < SIZE; off += PAGE_SIZE) writel(off / PAGE_SIZE, buf + BigInt(off));
  for (let off = 0; off < SIZE; off += PAGE_SIZE) if (readl(buf + BigInt(off)) !== off / PAGE_SIZE) return 0;
  printk(KERN_INFO + "ok\n");
  return 0;
}

function big_exit(): void {
  vfree(buf);
}

module_init(big_init);
module_exit(big_exit);
