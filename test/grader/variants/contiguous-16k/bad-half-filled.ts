// expect: fail filled-ab /in memory just before module_exit, 4096 of the 16384 bytes hold the right value; byte 4096 holds 0x0, not 0xab, byte 4097 holds 0x0/ — fills 4096 bytes: one page, not the block
import { __get_free_pages, free_pages, memset, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function c16_init(): number {
  buf = __get_free_pages(GFP_KERNEL, 2);
  if (buf === 0n) return -ENOMEM;
  memset(buf, 0xab, 4096);
  return 0;
}

function c16_exit(): void {
  free_pages(buf, 2);
}

module_init(c16_init);
module_exit(c16_exit);
