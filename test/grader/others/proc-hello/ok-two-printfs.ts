// expect: pass — the line written in two seq_printf calls, mode 0444 instead of 0
import { proc_create_single, remove_proc_entry, seq_printf, NULL, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, load_string, puts, errno } from "user";

MODULE_LICENSE("GPL");

const show = (m: any): number => {
  seq_printf(m, "hello from ");
  seq_printf(m, "the %s\n", "kernel");
  return 0;
};

function hello_init(): number {
  proc_create_single("kmodlab", 0o444, NULL, show);
  return 0;
}

function hello_exit(): void {
  remove_proc_entry("kmodlab", NULL);
}

module_init(hello_init);
module_exit(hello_exit);

user_main(function main(): number {
  const buf = malloc(256);
  const fd = open("/proc/kmodlab", 0);
  if (fd < 0) { puts("open failed, errno " + errno); return 1; }
  const n = read(fd, buf, 255);
  puts("read " + n + ": " + load_string(buf, n));
  close(fd);
  return 0;
});
