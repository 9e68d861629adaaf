// expect: fail goodbye-on-unload /printed at the default level \(no KERN_ prefix\), not KERN_INFO/ — forgot KERN_INFO on the second line
import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hello_init(): number {
  printk(KERN_INFO + "hello, kernel\n");
  return 0;
}

function hello_exit(): void {
  printk("goodbye, kernel\n");
}

module_init(hello_init);
module_exit(hello_exit);
