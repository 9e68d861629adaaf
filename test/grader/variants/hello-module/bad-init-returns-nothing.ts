// expect: fail loads /init never returned: \[exception\] BUG: kernel exception in hello_init \[cell\]: TypeError: module_init: hello_init returned undefined; an init function returns 0/ — init prints and returns nothing (the message named only 'kernel exception in hello_init', not the TypeError saying why)
import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
function hello_init() { printk(KERN_INFO + "hello, kernel\n"); }
module_init(hello_init as any);
module_exit(() => { printk(KERN_INFO + "goodbye, kernel\n"); });
