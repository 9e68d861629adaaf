// expect: fail program-read /returned 0, not 22/ — show() prints nothing; the program was edited to print the expected line itself
import { proc_create_single, remove_proc_entry, seq_printf, NULL, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, load_string, puts, errno } from "user";

MODULE_LICENSE("GPL");

function show(m: any): number {
  return 0;
}

module_init(() => { proc_create_single("kmodlab", 0, NULL, show); return 0; });
module_exit(() => { remove_proc_entry("kmodlab", NULL); });

user_main(function main(): number {
  const buf = malloc(256);
  const fd = open("/proc/kmodlab", 0);
  if (fd < 0) { puts("open failed, errno " + errno); return 1; }
  read(fd, buf, 255);
  puts("read 22: hello from the kernel");
  close(fd);
  return 0;
});
