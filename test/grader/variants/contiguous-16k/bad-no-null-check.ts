// expect: fail handles-allocation-failure /with the 1st of module_init's \d+ fault sites failing \(__get_free_pages\(GFP_KERNEL, 2\) at line 8 returned NULL\): the kernel reported \[kasan\] BUG: KASAN: null-ptr-deref in c16_init\+0x50\/0xc0 \[cell\] \(line 9\)/ — uses the result of __get_free_pages without checking it
import { __get_free_pages, free_pages, memset, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function c16_init(): number {
  buf = __get_free_pages(GFP_KERNEL, 2);
  memset(buf, 0xab, 16384);
  return 0;
}

function c16_exit(): void {
  free_pages(buf, 2);
}

module_init(c16_init);
module_exit(c16_exit);
