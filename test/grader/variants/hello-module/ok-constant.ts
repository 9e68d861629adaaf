// expect: pass — the level and the text kept in constants, init returning a named 0
import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const LEVEL = KERN_INFO;
const WHO = "kernel";
const SUCCESS = 0;

function hello_init(): number {
  printk(LEVEL + "hello, " + WHO + "\n");
  return SUCCESS;
}

function hello_exit(): void {
  printk(LEVEL + "goodbye, " + WHO + "\n");
}

module_init(hello_init);
module_exit(hello_exit);
