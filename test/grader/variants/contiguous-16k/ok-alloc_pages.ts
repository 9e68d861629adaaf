// expect: pass — alloc_pages + page_address, freed with __free_pages (the page allocator's struct page interface)
import { alloc_pages, __free_pages, page_address, memset, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let page = 0n;

function c16_init(): number {
  page = alloc_pages(GFP_KERNEL, 2);
  if (page === 0n) return -ENOMEM;
  memset(page_address(page), 0xab, 4 * 4096);
  return 0;
}

function c16_exit(): void {
  __free_pages(page, 2);
}

module_init(c16_init);
module_exit(c16_exit);
