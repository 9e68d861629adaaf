// expect: fail loads /init returned 1: the kernel loaded the module anyway and warned/ — "1 means success"
import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hello_init(): number {
  printk(KERN_INFO + "hello, kernel\n");
  return 1;
}

function hello_exit(): void {
  printk(KERN_INFO + "goodbye, kernel\n");
}

module_init(hello_init);
module_exit(hello_exit);
