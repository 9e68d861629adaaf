// An out-of-bounds write: 16 bytes asked for, a 17th written. With the debug kernel's KASAN the write is
// caught on the spot; without it, slub_debug notices the damaged red zone when the object is freed.
import { kmalloc, kfree, writeb, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function oob_init(): number {
  const buf = kmalloc(16, GFP_KERNEL);
  for (let i = 0n; i <= 16n; i++) writeb(0x41, buf + i); // one too many
  printk(KERN_INFO + "wrote 17 bytes into a 16-byte buffer at %px\n", buf);
  kfree(buf);
  return 0;
}

module_init(oob_init);
module_exit(() => {});
