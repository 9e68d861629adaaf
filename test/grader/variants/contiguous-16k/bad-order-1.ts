// expect: fail order-2 /found __get_free_pages\(order 1\) at 0x[0-9a-f]+ \(line 8\), but the task asks for order 2 \(16 KiB\)/ — order 1 thinking 2 pages of 8 KiB
import { __get_free_pages, free_pages, memset, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function c16_init(): number {
  buf = __get_free_pages(GFP_KERNEL, 1);
  if (buf === 0n) return -ENOMEM;
  memset(buf, 0xab, 16384);
  return 0;
}

function c16_exit(): void {
  free_pages(buf, 1);
}

module_init(c16_init);
module_exit(c16_exit);
