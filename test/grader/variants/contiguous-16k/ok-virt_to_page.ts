// expect: pass — __get_free_pages, freed through its struct page with __free_pages(virt_to_page(buf), 2)
import { __get_free_pages, __free_pages, virt_to_page, memset, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const ORDER = 2;
let buf = 0n;

function fill(addr: bigint, bytes: number): void {
  memset(addr, 0xab, bytes);
}

function c16_init(): number {
  buf = __get_free_pages(GFP_KERNEL, ORDER);
  if (buf === 0n) return -ENOMEM;
  fill(buf, 4096 << ORDER);
  return 0;
}

function c16_exit(): void {
  __free_pages(virt_to_page(buf), ORDER);
}

module_init(c16_init);
module_exit(c16_exit);
