// expect: fail goodbye-on-unload /"goodbye, kernel" was printed on load, not on unload \(in exit\)/ — both lines in init
import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hello_init(): number {
  printk(KERN_INFO + "hello, kernel\n");
  printk(KERN_INFO + "goodbye, kernel\n");
  return 0;
}

function hello_exit(): void {}

module_init(hello_init);
module_exit(hello_exit);
