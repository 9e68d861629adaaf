// expect: pass — arrow functions passed straight to module_init/module_exit
import { printk, KERN_INFO, MODULE_LICENSE, MODULE_AUTHOR, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL v2");
MODULE_AUTHOR("a student");

module_init(() => {
  printk(KERN_INFO + "hello, kernel\n");
  return 0;
});
module_exit(() => {
  printk(KERN_INFO + "goodbye, kernel\n");
});
