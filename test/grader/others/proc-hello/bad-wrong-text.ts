// expect: fail program-read /got "Hello from the Kernel/ — 22 bytes, but not the line the statement asks for (capitals)
import { proc_create_single, remove_proc_entry, seq_printf, NULL, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, load_string, puts, errno } from "user";

MODULE_LICENSE("GPL");

function show(m: any): number {
  seq_printf(m, "Hello from the Kernel\n");
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
