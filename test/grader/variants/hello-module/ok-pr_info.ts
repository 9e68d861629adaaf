// expect: pass — pr_info instead of printk(KERN_INFO + ...)
import { pr_info, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hello_init(): number {
  pr_info("hello, kernel\n");
  return 0;
}

function hello_exit(): void {
  pr_info("goodbye, kernel\n");
}

module_init(hello_init);
module_exit(hello_exit);
