// expect: fail handles-allocation-failure /with the 1st of module_init's \d+ fault sites failing \(vzalloc\(4194304\) at line 10 returned NULL\): the kernel reported \[kasan\] BUG: KASAN: null-ptr-deref in big_init\+0x70\/0x160 \[cell\] \(line 12\)/ — writes through the result of vzalloc without checking it
import { vzalloc, vfree, writel, readl, printk, KERN_INFO, KERN_ERR, ENOMEM, PAGE_SIZE,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const SIZE = 4 * 1024 * 1024;
let buf = 0n;

function big_init(): number {
  buf = vzalloc(SIZE);
  const pages = SIZE / PAGE_SIZE;
  for (let i = 0; i < pages; i++) writel(i, buf + BigInt(i * PAGE_SIZE));
  let good = true;
  for (let i = 0; i < pages; i++) if (readl(buf + BigInt(i * PAGE_SIZE)) !== i) good = false;
  if (good) printk(KERN_INFO + "ok\n");
  else printk(KERN_ERR + "mismatch\n");
  return 0;
}

function big_exit(): void {
  vfree(buf);
}

module_init(big_init);
module_exit(big_exit);
