// A deliberate leak: init takes pages and exit forgets one of them. The kernel never gets it back;
// after rmmod the leak check names what is still allocated (and /proc/meminfo shows it).
import { __get_free_page, __get_free_pages, free_page, printk, KERN_INFO, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let one = 0n, four = 0n;

function leaky_init(): number {
  one = __get_free_page(GFP_KERNEL);
  four = __get_free_pages(GFP_KERNEL, 2);
  printk(KERN_INFO + "leaky: one=%px four=%px\n", one, four);
  return 0;
}

function leaky_exit(): void {
  free_page(one);
  // forgot: free_pages(four, 2);
}

module_init(leaky_init);
module_exit(leaky_exit);
