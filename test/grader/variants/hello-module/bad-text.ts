// expect: fail hello-on-load /the module printed "Hello, kernel!", not "hello, kernel"/ — capital letter and an exclamation mark
import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hello_init(): number {
  printk(KERN_INFO + "Hello, kernel!\n");
  return 0;
}

function hello_exit(): void {
  printk(KERN_INFO + "goodbye, kernel\n");
}

module_init(hello_init);
module_exit(hello_exit);
