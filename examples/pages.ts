// The buddy allocator hands out blocks of 2^order pages. Watch the addresses: each block is aligned to its
// own size, and asking for order MAX_ORDER fails with a warning instead of returning memory.
// Run: kmodlab run examples/pages.ts --proc buddyinfo  (@era 6.1)
import { __get_free_pages, free_pages, virt_to_phys, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN,
         PAGE_SIZE, MAX_ORDER, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const blocks: { addr: bigint; order: number }[] = [];

function pages_init(): number {
  for (let order = 0; order < 4; order++) {
    const addr = __get_free_pages(GFP_KERNEL, order);
    if (addr === 0n) return -12;
    blocks.push({ addr, order });
    const bytes = PAGE_SIZE << order;
    printk(KERN_INFO + "order %d: %d bytes at %px (phys %px), aligned to its size: %s\n",
           order, bytes, addr, virt_to_phys(addr), virt_to_phys(addr) % BigInt(bytes) === 0n ? "yes" : "no");
  }
  const tooBig = __get_free_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER);
  printk(KERN_INFO + "order MAX_ORDER (%d) with __GFP_NOWARN: %px\n", MAX_ORDER, tooBig);
  return 0;
}

function pages_exit(): void {
  for (const b of blocks) free_pages(b.addr, b.order);
}

module_init(pages_init);
module_exit(pages_exit);
