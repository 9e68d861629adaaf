// expect: pass — seq_puts prints the same line (a legitimate seq_file call); the entry is kept and checked
import { proc_create_single, remove_proc_entry, seq_puts, NULL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, load_string, puts, errno } from "user";

MODULE_LICENSE("GPL");

function hello_show(m: any): number {
  seq_puts(m, "hello from the kernel\n");
  return 0;
}

function p_init(): number {
  const ent = proc_create_single("kmodlab", 0, NULL, hello_show);
  if (!ent) return -ENOMEM;
  return 0;
}

function p_exit(): void {
  remove_proc_entry("kmodlab", NULL);
}

module_init(p_init);
module_exit(p_exit);

user_main(function main(): number {
  const buf = malloc(256);
  const fd = open("/proc/kmodlab", 0);
  if (fd < 0) { puts("open failed, errno " + errno); return 1; }
  const n = read(fd, buf, 255);
  puts("read " + n + ": " + load_string(buf, n));
  close(fd);
  return 0;
});
