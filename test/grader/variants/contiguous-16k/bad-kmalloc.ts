// expect: fail order-2 /no page allocation in the kernel's records \(the module's allocations: kmalloc\(16384\) at 0x[0-9a-f]+ \(line 8\)\)/ — kmalloc(16384): contiguous, but from the slab allocator
import { kmalloc, kfree, memset, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function c16_init(): number {
  buf = kmalloc(16384, GFP_KERNEL);
  if (buf === 0n) return -ENOMEM;
  memset(buf, 0xab, 16384);
  return 0;
}

function c16_exit(): void {
  kfree(buf);
}

module_init(c16_init);
module_exit(c16_exit);
