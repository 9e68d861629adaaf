// expect: fail freed-order-2 /freed with free_page \(line 15\), not free_pages/ — free_page frees one page
import { __get_free_pages, free_pages, free_page, memset, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function c16_init(): number {
  buf = __get_free_pages(GFP_KERNEL, 2);
  if (buf === 0n) return -ENOMEM;
  memset(buf, 0xab, 16384);
  return 0;
}

function c16_exit(): void {
  free_page(buf);
}

module_init(c16_init);
module_exit(c16_exit);
