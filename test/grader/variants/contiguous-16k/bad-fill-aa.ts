// expect: fail filled-ab /0 of its 16384 bytes were set to 0xab before it was freed/ — the wrong byte
import { __get_free_pages, free_pages, memset, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function c16_init(): number {
  buf = __get_free_pages(GFP_KERNEL, 2);
  if (buf === 0n) return -ENOMEM;
  memset(buf, 0xaa, 16384);
  return 0;
}

function c16_exit(): void {
  free_pages(buf, 2);
}

module_init(c16_init);
module_exit(c16_exit);
