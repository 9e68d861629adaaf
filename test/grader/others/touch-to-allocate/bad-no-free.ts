// expect: fail freed /never unmapped: free\(p\) missing/ — the mapping is never given back with free()
import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
import { user_main, malloc, free, store8 } from "user";

MODULE_LICENSE("GPL");
module_init(() => { printk(KERN_INFO + "loaded\n"); return 0; });

user_main(function main(): number {
  const p = malloc(1048576);
  for (let i = 0; i < 16; i++) store8(p + BigInt(i * 4096), 1);
  return 0;
});
