// expect: pass — arrow functions, the text passed as a %s argument, a printk on load and unload
import { proc_create_single, remove_proc_entry, seq_printf, printk, KERN_INFO, NULL, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, load_string, puts, errno } from "user";

MODULE_LICENSE("GPL");

const GREETING = "hello from the kernel";

module_init(() => {
  proc_create_single("kmodlab", 0, NULL, (m: any) => {
    seq_printf(m, "%s\n", GREETING);
    return 0;
  });
  printk(KERN_INFO + "kmodlab: /proc/kmodlab is there\n");
  return 0;
});

module_exit(() => {
  remove_proc_entry("kmodlab", NULL);
  printk(KERN_INFO + "kmodlab: gone\n");
});

user_main(function main(): number {
  const buf = malloc(256);
  const fd = open("/proc/kmodlab", 0);
  if (fd < 0) { puts("open failed, errno " + errno); return 1; }
  const n = read(fd, buf, 255);
  puts("read " + n + ": " + load_string(buf, n));
  close(fd);
  return 0;
});
