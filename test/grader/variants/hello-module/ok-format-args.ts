// expect: pass — the text built by the kernel's vsprintf from %s arguments, a shared helper
import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("Dual BSD/GPL");

function say(word: string): void {
  printk(KERN_INFO + "%s, %s\n", word, "kernel");
}

function start(): number {
  say("hello");
  return 0;
}

function stop(): void {
  say("goodbye");
}

module_init(start);
module_exit(stop);
