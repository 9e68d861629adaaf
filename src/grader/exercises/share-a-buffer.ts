// Exercise share-a-buffer (lesson mmap-sharing): a misc device whose mmap gives the user program a vmalloc_user()
// buffer with remap_vmalloc_range(); the program (given) stores into every page, the module reads the stores back
// in its exit. Judged from the kernel's records: the call log (the buffer came from vmalloc_user and is the one
// remap_vmalloc_range mapped, with 0 returned), the process's page tables at exit (every page of its mapping is a
// frame the driver inserted, none faulted in), the module's print in exit, and the leak records.

import type { Exercise } from "../types.ts";
import { check, fail, loads, noReports, nothingLeaked, ok, otherAnswers, otherAnswersMessage, printedLine, printedLines } from "../checks.ts";
import { callsOf, callsTo, eraOf, toBig } from "../records.ts";
import type { RunResult } from "../../../sandbox/result.ts";

/** The "sum N" lines exit printed other than `want` (a list of guessed sums: see otherAnswers). */
const otherSums = (r: RunResult, want: string): string[] =>
  otherAnswers(
    printedLines(callsOf(r) ?? [], eraOf(r), 64).filter((x) => x.first.phase === "exit"),
    /^sum -?\d+$/,
    want,
  );

const PROGRAM = `user_main(function main(): number {
  const fd = open("/dev/shared", O_RDWR);
  const p = mmap(0n, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p === MAP_FAILED) {
    puts("mmap failed, errno " + errno);
    return 1;
  }
  for (let i = 0; i < 4; i++) store8(p + BigInt(i * 4096), 42);
  close(fd);
  return 0;
});
`;

const IMPORTS_USER = `import { user_main, open, mmap, store8, close, puts, errno, O_RDWR, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED } from "user";`;

/** The bytes another program stores at the start of the 4 pages in the grader's second run, before rmmod: drawn from
 *  the submission's text (grade.ts otherWritesFor), so that a module cannot print a stated answer for each run. */
const OTHER_COUNT = 4;
const SUM_LINE = printedLine({ id: "sum-on-unload", text: "sum 168", level: 6, phase: "exit" });

export const shareABuffer: Exercise = {
  id: "share-a-buffer",
  title: "Share a vmalloc buffer with a program",
  lesson: "mmap-sharing",
  settings: {
    profile: "x86_64-6.1",
    // the grader's second run: another program stores 4 bytes (drawn from the submission's text) at the start of the 4 pages before rmmod
    otherWrites: [
      {
        id: "other-program",
        at: "unloading",
        alloc: { fns: ["vmalloc_user"] },
        offset: 0,
        stride: 4096,
        count: 4,
        width: 1,
        write: Array(OTHER_COUNT).fill(0),
        seeded: true,
      },
    ],
  },
  statement: `Write a misc device named \`shared\` (misc_register) whose mmap file operation maps a 16 KiB buffer into the
calling process: allocate the buffer in init with vmalloc_user (return -ENOMEM if it fails) and map it in mmap with
remap_vmalloc_range(vma, buf, vma_pgoff(vma)). The user program at the bottom of the cell is complete: it maps 16 KiB
of /dev/shared and stores 42 at the start of each of the 4 pages. In exit, read those 4 bytes back with readb, print
\`sum 168\` (their sum) at KERN_INFO, then misc_deregister the device and vfree the buffer. The grader runs your module a
second time where, after the program, another program stores 4 other bytes (which ones, your module cannot know) at the start of the 4 pages before
unload: print the sum of the bytes you read there, not a number written in.`,
  starter: `import { vmalloc_user, vfree, misc_register, misc_deregister, remap_vmalloc_range, vma_pgoff, readb, printk, KERN_INFO, ENOMEM,
  MODULE_LICENSE, module_init, module_exit } from "linux";
${IMPORTS_USER}

MODULE_LICENSE("GPL");
let buf = 0n;

function shared_mmap(file: any, vma: any): number {
  // TODO: map buf into vma (remap_vmalloc_range) and return its result
  return -22;
}

function shared_init(): number {
  // TODO: buf = a 16 KiB buffer user space may map (vmalloc_user); -ENOMEM if it fails
  return misc_register("shared", null, null, null, null, shared_mmap, null);
}

function shared_exit(): void {
  // TODO: print "sum N" (the 4 bytes at the start of each page, added) at KERN_INFO
  misc_deregister("shared");
  // TODO: free buf
}

module_init(shared_init);
module_exit(shared_exit);

${PROGRAM}`,
  solution: `import { vmalloc_user, vfree, misc_register, misc_deregister, remap_vmalloc_range, vma_pgoff, readb, printk, KERN_INFO, ENOMEM,
  MODULE_LICENSE, module_init, module_exit } from "linux";
${IMPORTS_USER}

MODULE_LICENSE("GPL");
let buf = 0n;

function shared_mmap(file: any, vma: any): number {
  return remap_vmalloc_range(vma, buf, vma_pgoff(vma));
}

function shared_init(): number {
  buf = vmalloc_user(16 * 1024);
  if (!buf) return -ENOMEM;
  const r = misc_register("shared", null, null, null, null, shared_mmap, null);
  if (r) vfree(buf);
  return r;
}

function shared_exit(): void {
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += readb(buf + BigInt(i * 4096));
  printk(KERN_INFO + "sum %d\\n", sum);
  misc_deregister("shared");
  vfree(buf);
}

module_init(shared_init);
module_exit(shared_exit);

${PROGRAM}`,
  checks: [
    loads(),
    check(
      "usermap-buffer",
      "The buffer the device maps came from vmalloc_user in init, and remap_vmalloc_range mapped it (returned 0)",
      "vmalloc() memory may not be mapped into user space (remap_vmalloc_range returns -EINVAL without VM_USERMAP): allocate it with vmalloc_user(16 * 1024) in init and pass that address to remap_vmalloc_range.",
      (c) => {
        const made = callsTo(c.result, "vmalloc_user").filter((x) => !!toBig(x.ret));
        const allocs = made.filter((x) => x.phase === "init").map((x) => toBig(x.ret)!);
        const maps = callsTo(c.result, "remap_vmalloc_range");
        if (!maps.length) return fail("remap_vmalloc_range was never called (does the mmap file operation call it?)");
        const good = maps.find((m) => m.ret === 0 && allocs.includes(toBig(m.args[1]) ?? -1n));
        if (good) return ok();
        const m = maps[0]!;
        const mapped = toBig(m.args[1]) ?? -1n;
        const from = made.find((x) => toBig(x.ret) === mapped);
        // The statement's buffer is made once, in init: one taken in the mmap file operation is another buffer each
        // time a program maps the device, and the last one is lost (grader15: it passed when made in mmap).
        if (from && from.phase !== "init")
          return fail(
            `the buffer remap_vmalloc_range mapped was allocated with vmalloc_user ${from.phase === "exit" ? "in exit" : "after init (in a callback such as the mmap file operation)"}, not in init: each mmap would take another buffer and lose the one before; allocate it once in module_init`,
          );
        if (from) {
          const size = Number(from.args[0]);
          return fail(
            `remap_vmalloc_range returned ${m.ret}` +
              (m.ret !== 0 && size < 4 * 4096 ? `: the buffer is ${size} bytes, smaller than the 16 KiB (16384 bytes) the program maps` : ""),
          );
        }
        return fail(`remap_vmalloc_range was given ${String(m.args[1])}, which is not a vmalloc_user buffer (it returned ${m.ret})`);
      },
      1,
      { requires: ["vmalloc_user", "remap_vmalloc_range"] },
    ),
    check(
      "program-sees-the-buffer",
      "The program's 4 pages at its mapping are the buffer's frames, mapped by the driver (no page fault there), and it exits with status 0",
      "The mmap file operation must map the whole VMA before it returns; the program then stores without faulting.",
      (c) => {
        const u = c.result.user;
        if (!u) return fail("the user program did not run (did the module load?)");
        if (u.status !== 0)
          return fail(`the program ended with status ${u.status}${u.signal ? ` (${u.signal.sig})` : ""}${u.stdout ? `: ${u.stdout.trim()}` : ""}`);
        const dev = /^([0-9a-f]+)-([0-9a-f]+) rw-s \S+ \S+ \S+ +\/dev\/shared$/m.exec(u.maps);
        if (!dev) return fail("the program's /proc/PID/maps has no shared mapping of /dev/shared");
        const [lo, hi] = [BigInt("0x" + dev[1]), BigInt("0x" + dev[2])];
        const inside = u.pages.filter((p) => BigInt(p.addr) >= lo && BigInt(p.addr) < hi);
        const driver = inside.filter((p) => p.kind === "file").length;
        if (inside.length !== 4 || driver !== 4) {
          const faulted = u.faults.filter((f) => BigInt(f.addr) >= lo && BigInt(f.addr) < hi).length;
          return fail(
            `${driver} of the mapping's 4 pages are the driver's frames${faulted ? ` (the program's stores faulted ${faulted} time(s) there: the kernel, not the driver, gave those pages)` : ""}`,
          );
        }
        if (u.faults.some((f) => BigInt(f.addr) >= lo && BigInt(f.addr) < hi)) return fail("the program faulted inside the device mapping");
        return ok();
      },
    ),
    check(
      "read-back",
      "In exit the module reads the program's 42 at the start of each of the buffer's 4 pages",
      "In the exit function, readb(buf + BigInt(i * 4096)) for i = 0..3: the program's stores are in the buffer's own frames.",
      (c) => {
        const buf = callsTo(c.result, "vmalloc_user")
          .map((x) => toBig(x.ret))
          .find((a) => !!a);
        if (!buf) return fail("there is no vmalloc_user buffer to read");
        const reads = callsTo(c.result, "readb").filter((x) => x.phase === "exit");
        const seen = [0, 1, 2, 3].filter((i) => reads.some((x) => toBig(x.args[0]) === buf + BigInt(i * 4096) && x.ret === 42));
        if (seen.length !== 4) return fail(`exit read 42 at the start of ${seen.length} of the 4 pages${reads.length ? "" : " (no readb in exit)"}`);
        // The 42s are the program's: each page's was stored through the program's mapping (a module that writes them
        // into its own buffer reads back its own values, and the sharing is never shown).
        const calls = callsOf(c.result) ?? [];
        const maps = calls
          .filter((x) => x.fn === "mmap")
          .map((x) => toBig(x.ret))
          .filter((a): a is bigint => !!a && a < 1n << 63n);
        const stored = [0, 1, 2, 3].filter((i) =>
          calls.some((x) => /^store/.test(x.fn) && x.args[1] === 42 && maps.some((m) => toBig(x.args[0]) === m + BigInt(i * 4096))),
        );
        if (stored.length !== 4)
          return fail(
            `exit read 42 on the 4 pages, but the program stored 42 through its mapping on ${stored.length} of them: the module wrote the values itself; leave the stores to the program`,
          );
        return ok();
      },
    ),
    check(
      "sum-on-unload",
      `${SUM_LINE.message}, and in a second run, where another program stored other bytes there before unload, "sum N" with N their sum (one "sum" line in each)`,
      SUM_LINE.hint,
      (c) => {
        const first = SUM_LINE.run(c);
        if (!first.pass) return first;
        const extra = otherSums(c.result, "sum 168");
        if (extra.length) return fail(otherAnswersMessage(extra, "sum 168"));
        // The second run: the same program, then another one stores other bytes before rmmod. The sum printed must be
        // of the bytes read there: "sum 168" written in (or kept from the first run) cannot match.
        const other = c.runs?.otherWriter;
        if (!other) return fail(c.runs?.unavailable?.["other-writer"] ?? "the grader made no second run with another program's stores");
        const stored = (other.result.kernel as { memory?: Record<string, { values?: unknown[]; missing?: string }> }).memory?.["other-program"];
        if (!stored?.values?.every((v) => typeof v === "number"))
          return fail(`in the grader's second run the other program could not store its bytes: ${stored?.missing ?? "the buffer was not mapped"}`);
        const bytes = stored.values as number[];
        const sum = bytes.reduce((a, b) => a + b, 0);
        const line = printedLine({ id: "sum-on-unload", text: `sum ${sum}`, level: 6, phase: "exit" });
        const second = line.run({ ...c, result: other.result, records: other.records });
        if (!second.pass)
          return fail(
            `in the grader's second run another program stored ${bytes.join(", ")} at the start of the 4 pages before unload, so exit should print "sum ${sum}": ${second.detail} (print the sum of the bytes readb returns, not a number written in)`,
          );
        const extra2 = otherSums(other.result, `sum ${sum}`);
        if (extra2.length) return fail(`in the grader's second run, ${otherAnswersMessage(extra2, `sum ${sum}`)}`);
        return ok();
      },
      1,
      { requires: ["sum 168", "KERN_INFO", "4 other bytes", "second time"], needs: ["other-writer"] },
    ),
    check(
      "deregistered-before-free",
      "In exit, the device is deregistered before its buffer is freed",
      'misc_deregister("shared") first, then vfree(buf): while /dev/shared exists a process can still mmap the buffer.',
      (c) => {
        const exit = (callsOf(c.result) ?? []).filter((x) => x.phase === "exit");
        const dereg = exit.findIndex((x) => x.fn === "misc_deregister" && x.args[0] === "shared");
        if (dereg < 0) return fail('misc_deregister("shared") was not called in module_exit');
        const buf = callsTo(c.result, "vmalloc_user")
          .map((x) => toBig(x.ret))
          .find((a) => !!a);
        const free = exit.findIndex((x) => x.fn === "vfree" && buf !== undefined && toBig(x.args[0]) === buf);
        if (free >= 0 && free < dereg) return fail("the buffer was vfree'd before misc_deregister: the device could still map freed memory");
        return ok();
      },
      1,
      { requires: ["misc_deregister", "vfree"] },
    ),
    nothingLeaked(),
    noReports(),
  ],
};
