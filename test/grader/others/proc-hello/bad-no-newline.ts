// expect: fail program-read /returned 21, not 22/ — the line without its newline: the program reads 21 bytes, not 22
import { proc_create_single, remove_proc_entry, seq_printf, NULL, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, load_string, puts, errno } from "user";

MODULE_LICENSE("GPL");

function show(m: any): number {
  seq_printf(m, "hello from the kernel");
  return 0;
}

module_init(() => { proc_create_single("kmodlab", 0, NULL, show); return 0; });
module_exit(() => { remove_proc_entry("kmodlab", NULL); });

user_main(function main(): number {
  const buf = malloc(256);
  const fd = open("/proc/kmodlab", 0);
  if (fd < 0) { puts("open failed, errno " + errno); return 1; }
  const n = read(fd, buf, 255);
  puts("read " + n + ": " + load_string(buf, n));
  close(fd);
  return 0;
});
