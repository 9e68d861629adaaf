// Exercise fix-the-bugs: a leak, a wrong free and an off-by-one write; fix them and keep the output.

import type { Exercise } from "../types.ts";
import { check, fail, loads, noReports, nothingLeaked, ok, otherAnswers, otherAnswersMessage, printedLines, survivesFaultInjection } from "../checks.ts";
import { callsOf, eraOf, toNum } from "../records.ts";

const READS = ["readb", "ioread8", "__raw_readb"];
/** How many bytes the grader's second run stores into the buffer just before the module first reads one it wrote
 *  (another writer): 16 values from 16 to 255, drawn from the submission's text (grade.ts otherWritesFor). */
const OTHER_COUNT = 16;

/** The module's reads of its bytes in a run: their values by address, and their sum. */
function readsOf(calls: NonNullable<ReturnType<typeof callsOf>>) {
  const reads = calls.filter((x) => READS.includes(x.fn));
  return { reads, total: reads.reduce((s, x) => s + (toNum(x.ret) ?? 0), 0) };
}

/** Whether a run printed "sum = N" (the whole line). */
function printedSum(calls: NonNullable<ReturnType<typeof callsOf>>, era: ReturnType<typeof eraOf>, n: number): boolean {
  return printedLines(calls, era, 64).some((x) => x.text.trim() === `sum = ${n}`);
}

/** The "sum = M" lines a run printed besides "sum = N" (a list of guessed sums: see otherAnswers). */
function otherSums(calls: NonNullable<ReturnType<typeof callsOf>>, era: ReturnType<typeof eraOf>, n: number): string[] {
  return otherAnswers(printedLines(calls, era, 64), /^sum = -?\d+$/, `sum = ${n}`);
}

export const fixTheBugs: Exercise = {
  id: "fix-the-bugs",
  title: "Fix the bugs",
  lesson: "finding-bugs",
  settings: {
    profile: "x86_64-6.1",
    // the grader's second run: something else stores 16 bytes (drawn from the submission's text) into the buffer just
    // before the module first reads a byte it wrote
    otherWrites: [
      { id: "other-writer", at: "first-read", alloc: {}, offset: 0, stride: 1, count: OTHER_COUNT, width: 1, write: Array(OTHER_COUNT).fill(0), seeded: true },
    ],
  },
  statement: `This module prints the right sum, and the kernel is not happy: it leaks, it frees vmalloc memory with
kfree, and it writes one byte past the end of a kmalloc'ed buffer. Fix all three so that it prints the same
\`sum = 120\` (from the 16 bytes it reads back) and the kernel reports nothing. It also never checks an allocation:
when one fails, free what was taken before it and return -ENOMEM. The grader runs your module a second time where,
just before it first reads back a byte it wrote, something else stores 16 other bytes into the buffer (as a device
writing into it would; which bytes, your module cannot know): print the sum of the bytes you read there, not a number
written in.`,
  starter: `import { kmalloc, kfree, vmalloc, vfree, writeb, readb, printk, KERN_INFO, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const N = 16;
let table = 0n, scratch = 0n;

function sum_init(): number {
  const buf = kmalloc(N, GFP_KERNEL);
  for (let i = 0; i <= N; i++) writeb(i, buf + BigInt(i));
  let sum = 0;
  for (let i = 0; i < N; i++) sum += readb(buf + BigInt(i));
  kfree(buf);
  table = vmalloc(8192);
  scratch = kmalloc(64, GFP_KERNEL);
  printk(KERN_INFO + "sum = %d\\n", sum);
  return 0;
}

function sum_exit(): void {
  kfree(table);
}

module_init(sum_init);
module_exit(sum_exit);
`,
  solution: `import { kmalloc, kfree, vmalloc, vfree, writeb, readb, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const N = 16;
let table = 0n, scratch = 0n;

function sum_init(): number {
  const buf = kmalloc(N, GFP_KERNEL);
  if (buf === 0n) return -ENOMEM;
  for (let i = 0; i < N; i++) writeb(i, buf + BigInt(i)); // indices 0..N-1 only
  let sum = 0;
  for (let i = 0; i < N; i++) sum += readb(buf + BigInt(i));
  kfree(buf);
  table = vmalloc(8192);
  if (table === 0n) return -ENOMEM;
  scratch = kmalloc(64, GFP_KERNEL);
  if (scratch === 0n) {
    vfree(table);
    return -ENOMEM;
  }
  printk(KERN_INFO + "sum = %d\\n", sum);
  return 0;
}

function sum_exit(): void {
  vfree(table);   // vmalloc pairs with vfree
  kfree(scratch); // and what init kept, exit gives back
}

module_init(sum_init);
module_exit(sum_exit);
`,
  checks: [
    loads(),
    check(
      "same-sum",
      "It still prints sum = 120, computed from the bytes it read back (and, in a second run where other bytes were stored before it read them, their sum), one sum line in each",
      "Keep the loop that reads the 16 bytes back and adds them up; only the bugs need to go.",
      (c) => {
        const calls = callsOf(c.result);
        if (!calls) return fail("this kernel kept no record of the module's calls");
        if (!printedSum(calls, eraOf(c.result), 120)) return fail('"sum = 120" was not printed');
        const extra = otherSums(calls, eraOf(c.result), 120);
        if (extra.length) return fail(otherAnswersMessage(extra, "sum = 120"));
        const { reads, total } = readsOf(calls);
        if (reads.length < 16 || total !== 120) return fail(`the bytes read back add up to ${total} (${reads.length} reads), not 120`);
        // The 16 bytes the module wrote (0 to 15), each read once from its own address: not a sum made to come out
        // at 120 (120 in one byte and zeros, one byte read 16 times).
        const byAddr = new Map(reads.map((x) => [String(x.args[0]), toNum(x.ret)]));
        const values = [...byAddr.values()].sort((a, b) => (a ?? 0) - (b ?? 0));
        if (byAddr.size < 16 || !Array.from({ length: 16 }, (_, i) => i).every((i) => values.includes(i)))
          return fail(
            `the reads add up to 120, but not from the 16 bytes 0 to 15 the module writes: ${byAddr.size} address${byAddr.size === 1 ? "" : "es"} read, holding ${values.slice(0, 16).join(", ")}`,
          );
        // The second run: other bytes are stored into the buffer just before the first read of a byte written, so the bytes read add
        // up to another sum, which must be the one printed: "sum = 120" written in cannot match both runs.
        const other = c.runs?.otherWriter;
        if (!other) return fail(c.runs?.unavailable?.["other-writer"] ?? "the grader made no second run with other bytes stored into the buffer");
        const calls2 = callsOf(other.result) ?? [];
        const second = readsOf(calls2);
        const stored = (other.result.kernel as { memory?: Record<string, { values?: unknown[]; missing?: string }> }).memory?.["other-writer"];
        if (!stored?.values)
          return fail(`in the grader's second run nothing was stored before it read a byte back: ${stored?.missing ?? "it read back no byte it wrote"}`);
        if (!printedSum(calls2, eraOf(other.result), second.total))
          return fail(
            `in the grader's second run other bytes (${(stored.values as number[]).join(", ")}) were stored into the buffer just before it first read a byte back, so the bytes read back add up to ${second.total} (${second.reads.length} reads), but "sum = ${second.total}" was not printed: print the sum of the bytes readb returns, not a number written in`,
          );
        const extra2 = otherSums(calls2, eraOf(other.result), second.total);
        if (extra2.length) return fail(`in the grader's second run, ${otherAnswersMessage(extra2, `sum = ${second.total}`)}`);
        return ok();
      },
      1,
      { requires: ["sum = 120", "16 bytes", "second time", "16 other bytes"], needs: ["other-writer"] },
    ),
    nothingLeaked(),
    survivesFaultInjection(),
    noReports(),
  ],
};
