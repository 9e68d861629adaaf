// Exercise proc-hello (lesson proc-and-devices): a /proc file made with proc_create_single whose show() prints one
// line with seq_printf; the given user program opens and reads it. Judged from the kernel's records: the call log
// (the file made in init and removed in exit) and what the process received from read() (its output is the bytes the
// kernel copied to it: the program is fixed, the learner writes only the module).

import type { Exercise } from "../types.ts";
import { check, fail, loads, noReports, nothingLeaked, ok } from "../checks.ts";
import { callsOf, callsTo } from "../records.ts";

const PROGRAM = `user_main(function main(): number {
  const buf = malloc(256);
  const fd = open("/proc/kmodlab", 0);
  if (fd < 0) { puts("open failed, errno " + errno); return 1; }
  const n = read(fd, buf, 255);
  puts("read " + n + ": " + load_string(buf, n));
  close(fd);
  return 0;
});
`;
const IMPORTS = `import { proc_create_single, remove_proc_entry, seq_printf, NULL, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, read, close, load_string, puts, errno } from "user";`;

export const procHello: Exercise = {
  id: "proc-hello",
  title: "A /proc file a program reads",
  lesson: "proc-and-devices",
  settings: { profile: "x86_64-6.1" },
  statement: `Make the file /proc/kmodlab in module_init with proc_create_single("kmodlab", 0, NULL, show), where show(m)
prints the one line \`hello from the kernel\` (with its newline) with seq_printf and returns 0; remove it in module_exit
with remove_proc_entry("kmodlab", NULL). The user program at the bottom is complete: it opens /proc/kmodlab, reads it
once and prints what the kernel gave it.`,
  starter: `${IMPORTS}

MODULE_LICENSE("GPL");

function show(m: any): number {
  // TODO: print the line with seq_printf
  return 0;
}

function p_init(): number {
  // TODO: make /proc/kmodlab
  return 0;
}

function p_exit(): void {
  // TODO: remove it
}

module_init(p_init);
module_exit(p_exit);

${PROGRAM}`,
  solution: `${IMPORTS}

MODULE_LICENSE("GPL");

function show(m: any): number {
  seq_printf(m, "hello from the kernel\\n");
  return 0;
}

function p_init(): number {
  proc_create_single("kmodlab", 0, NULL, show);
  return 0;
}

function p_exit(): void {
  remove_proc_entry("kmodlab", NULL);
}

module_init(p_init);
module_exit(p_exit);

${PROGRAM}`,
  checks: [
    loads(),
    check(
      "proc-file",
      "module_init made /proc/kmodlab with proc_create_single",
      'proc_create_single("kmodlab", 0, NULL, show) in module_init.',
      (c) => {
        const made = callsTo(c.result, "proc_create_single").filter((x) => x.phase === "init" && x.args[0] === "kmodlab");
        if (!made.length) return fail('proc_create_single("kmodlab", ...) was not called in module_init');
        return made.some((x) => x.ret !== 0 && x.ret !== "0x0" && x.ret !== null) ? ok() : fail("proc_create_single returned NULL");
      },
      1,
      { requires: ["proc_create_single", "kmodlab"] },
    ),
    check(
      "program-read",
      "The program's read() got the 22 bytes 'hello from the kernel\\n' from the file",
      'show() runs when the program reads: seq_printf(m, "hello from the kernel\\n") there, and return 0.',
      // Judged from the call log, not from what the program printed (a program edited to print the line itself got
      // nothing from the file): the read() on the fd open("/proc/kmodlab") gave returned 22, and the bytes it left in
      // the program's buffer, as the host read them from the process's memory (load_string), are the line.
      (c) => {
        const u = c.result.user;
        if (!u) return fail("the user program did not run (did the module load?)");
        const line = /^(read .*)$/m.exec(u.stdout)?.[1] ?? u.stdout.trim();
        const got = ` (the program printed: ${line || "nothing"})`;
        const user = callsOf(c.result)?.filter((x) => x.ctx.pid === u.pid) ?? [];
        const fd = user.find((x) => x.fn === "open" && x.args[0] === "/proc/kmodlab")?.ret;
        if (typeof fd !== "number" || fd < 0) return fail(`the program's open("/proc/kmodlab") failed${got}`);
        const rd = user.find((x) => x.fn === "read" && x.args[0] === fd);
        if (!rd) return fail(`the program did not read() /proc/kmodlab${got}`);
        if (rd.ret !== 22) return fail(`the program's read() of /proc/kmodlab returned ${String(rd.ret)}, not 22${got}`);
        const after = user.slice(user.indexOf(rd) + 1);
        const seen = after.find((x) => x.fn === "load_string" && x.args[0] === rd.args[1]);
        if (!seen) return fail(`the program never looked at the bytes it read (load_string of its buffer): keep the given program${got}`);
        if (seen.ret !== "hello from the kernel\n") return fail(`the program's read() got ${JSON.stringify(seen.ret)}${got}`);
        return ok();
      },
      1,
      { requires: ["seq_printf", "hello from the kernel"] },
    ),
    check(
      "removed",
      "module_exit removed /proc/kmodlab",
      'remove_proc_entry("kmodlab", NULL) in module_exit: a /proc file left behind points into the unloaded module.',
      (c) =>
        callsTo(c.result, "remove_proc_entry").some((x) => x.phase === "exit" && x.args[0] === "kmodlab")
          ? ok()
          : fail('remove_proc_entry("kmodlab", NULL) was not called in module_exit'),
      1,
      { requires: ["remove_proc_entry"] },
    ),
    nothingLeaked(),
    noReports(),
  ],
};
