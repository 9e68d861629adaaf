// expect: pass — filled with memset32 of 0xabababab (4096 words), the order computed from the size
import { __get_free_pages, free_pages, memset32, PAGE_SIZE, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const SIZE = 16 * 1024;
const ORDER = Math.log2(SIZE / PAGE_SIZE);
let buf = 0n;

function c16_init(): number {
  buf = __get_free_pages(GFP_KERNEL, ORDER);
  if (!buf) return -ENOMEM;
  memset32(buf, 0xabababab, SIZE / 4);
  return 0;
}

function c16_exit(): void {
  free_pages(buf, ORDER);
}

module_init(c16_init);
module_exit(c16_exit);
