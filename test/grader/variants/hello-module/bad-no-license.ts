// expect: fail no-taint /declares no licence: loading it taints the kernel \(P, proprietary\)/ — forgot MODULE_LICENSE
import { printk, KERN_INFO, module_init, module_exit } from "linux";

function hello_init(): number {
  printk(KERN_INFO + "hello, kernel\n");
  return 0;
}

function hello_exit(): void {
  printk(KERN_INFO + "goodbye, kernel\n");
}

module_init(hello_init);
module_exit(hello_exit);
