// expect: pass — %p on 2.6 prints the pointer itself in hex (hashing came with 4.15), which the statement's 'in hex' allows
import { __get_free_page, free_page, kzalloc, kfree, vmalloc, vfree, pr_info, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const mem = { page: 0n, small: 0n, big: 0n };

const cleanup = (): void => {
  if (mem.big) vfree(mem.big);
  if (mem.small) kfree(mem.small);
  if (mem.page) free_page(mem.page);
  mem.page = mem.small = mem.big = 0n;
};

module_init(() => {
  pr_info("three allocators on a small i386\n");
  mem.page = __get_free_page(GFP_KERNEL);
  mem.small = kzalloc(100, GFP_KERNEL);
  mem.big = vmalloc(1000000);
  if (!mem.page || !mem.small || !mem.big) {
    cleanup();
    return -12;
  }
  pr_info("page:    %p\n", mem.page);
  pr_info("kmalloc: %p\n", mem.small);
  pr_info("vmalloc: %p\n", mem.big);
  return 0;
});

module_exit(() => {
  free_page(mem.page);
  kfree(mem.small);
  vfree(mem.big);
});
