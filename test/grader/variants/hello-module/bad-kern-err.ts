// expect: fail hello-on-load /printed at KERN_ERR, not KERN_INFO/ — the wrong level for the greeting
import { printk, KERN_INFO, KERN_ERR, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hello_init(): number {
  printk(KERN_ERR + "hello, kernel\n");
  return 0;
}

function hello_exit(): void {
  printk(KERN_INFO + "goodbye, kernel\n");
}

module_init(hello_init);
module_exit(hello_exit);
