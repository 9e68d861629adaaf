// expect: fail loads /it does not compile: cell.ts:7/ hint /Fix the compile error first \(line 7\)/ — a missing closing parenthesis
import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hello_init(): number {
  printk(KERN_INFO + "hello, kernel\n";
  return 0;
}

function hello_exit(): void {
  printk(KERN_INFO + "goodbye, kernel\n");
}

module_init(hello_init);
module_exit(hello_exit);
