// expect: fail sixteen-faults /1 page faults in the 1 MiB mapping, not 16/ — 16 bytes written in the first page (i instead of i * 4096): one fault, not 16
import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
import { user_main, malloc, free, store8 } from "user";

MODULE_LICENSE("GPL");
module_init(() => { printk(KERN_INFO + "loaded\n"); return 0; });

user_main(function main(): number {
  const p = malloc(1048576);
  for (let i = 0; i < 16; i++) store8(p + BigInt(i), 1);
  free(p);
  return 0;
});
