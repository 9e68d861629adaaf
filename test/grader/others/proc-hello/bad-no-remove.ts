// expect: fail removed /remove_proc_entry\("kmodlab", NULL\) was not called in module_exit/ — module_exit forgets remove_proc_entry
import { proc_create_single, seq_printf, NULL, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, load_string, puts, errno } from "user";

MODULE_LICENSE("GPL");

function show(m: any): number {
  seq_printf(m, "hello from the kernel\n");
  return 0;
}

module_init(() => { proc_create_single("kmodlab", 0, NULL, show); return 0; });
module_exit(() => {});

user_main(function main(): number {
  const buf = malloc(256);
  const fd = open("/proc/kmodlab", 0);
  if (fd < 0) { puts("open failed, errno " + errno); return 1; }
  const n = read(fd, buf, 255);
  puts("read " + n + ": " + load_string(buf, n));
  close(fd);
  return 0;
});
