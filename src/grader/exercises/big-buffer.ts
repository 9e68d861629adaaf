// Exercise big-buffer: a zeroed, virtually contiguous 4 MiB buffer, the page number as a 32-bit value at the start
// of each page, read back. What the buffer holds is read from simulated memory after init (RunSettings.probes), so
// any width that leaves the right 32-bit value there counts (writel, writeq, memset32, a writew into zeroed memory).

import type { Exercise } from "../types.ts";
import { check, fail, findAlloc, isOutcome, loads, noReports, nothingLeaked, ok, printedLines, survivesFaultInjection, valueInMemory } from "../checks.ts";
import { callsOf, eraOf, toBig, toNum, type Allocation } from "../records.ts";
import type { CheckContext, CheckOutcome } from "../types.ts";

const SIZE = 4 << 20;
const PAGES = 1024;
/** Reads that look at memory: the value at an address, or a range compared/copied/scanned. */
const READS: Record<string, number> = { readb: 1, readw: 2, readl: 4, readq: 8, ioread8: 1, ioread16: 2, ioread32: 4, readl_relaxed: 4, __raw_readl: 4 };
const RANGE_READS: Record<string, [number, number]> = { memcmp: [0, 2], memchr_inv: [0, 2], memcpy: [1, 2], memmove: [1, 2] };

function buffer(c: CheckContext): Allocation | CheckOutcome {
  const as = findAlloc(c, ["vmalloc", "vzalloc", "__vmalloc", "vmalloc_user", "vmalloc_32", "kvmalloc", "kvzalloc"], (a) => a.size === SIZE);
  if (isOutcome(as)) return as;
  if (!as.length) {
    const all = findAlloc(c, ["vmalloc", "vzalloc", "__vmalloc", "vmalloc_user", "vmalloc_32", "kvmalloc", "kvzalloc"]);
    return fail(
      `there is no 4 MiB buffer from the vmalloc family${!isOutcome(all) && all.length ? ` (found ${all.map((a) => `${a.fn}(${a.size})`).join(", ")})` : ""}`,
    );
  }
  return as[0];
}

/** Pages whose first 4 bytes the module read after its last write there (any width, or a range routine). */
const WRITES: Record<string, number> = {
  writeb: 1,
  writew: 2,
  writel: 4,
  writeq: 8,
  iowrite8: 1,
  iowrite16: 2,
  iowrite32: 4,
  writel_relaxed: 4,
  __raw_writel: 4,
};
/** [address argument, count argument, bytes per count] */
const RANGE_WRITES: Record<string, [number, number, number]> = {
  memset: [0, 2, 1],
  memset16: [0, 2, 2],
  memset32: [0, 2, 4],
  memset64: [0, 2, 8],
  memcpy: [0, 2, 1],
  memmove: [0, 2, 1],
};

/** The buffer's page starts a call covers, or none. */
function pageStarts(a: Allocation, lo: bigint | undefined, len: bigint): number[] {
  if (lo === undefined) return [];
  const out: number[] = [];
  for (let p = lo - a.addr < 0n ? 0n : (lo - a.addr + 4095n) / 4096n; p < PAGES && a.addr + p * 4096n < lo + len; p++) {
    if (a.addr + p * 4096n >= lo) out.push(Number(p));
  }
  return out;
}

/** Page starts read back after the module last wrote them (a read before the writes verifies nothing). */
function pagesReadBack(c: CheckContext, a: Allocation): number {
  const calls = callsOf(c.result) ?? [];
  const lastWrite = new Map<number, number>();
  calls.forEach((x, i) => {
    const w = WRITES[x.fn];
    const r = RANGE_WRITES[x.fn];
    const starts = w ? pageStarts(a, toBig(x.args[1]), BigInt(w)) : r ? pageStarts(a, toBig(x.args[r[0]]), BigInt((toNum(x.args[r[1]]) ?? 0) * r[2])) : [];
    for (const p of starts) lastWrite.set(p, i);
  });
  const seen = new Set<number>();
  calls.forEach((x, i) => {
    const w = READS[x.fn];
    const r = RANGE_READS[x.fn];
    const starts = w ? pageStarts(a, toBig(x.args[0]), BigInt(w)) : r ? pageStarts(a, toBig(x.args[r[0]]), BigInt(toNum(x.args[r[1]]) ?? 0)) : [];
    for (const p of starts) if (i > (lastWrite.get(p) ?? -1)) seen.add(p);
  });
  return seen.size;
}

export const bigBuffer: Exercise = {
  id: "big-buffer",
  title: "A 4 MiB buffer, page by page",
  lesson: "vmalloc",
  settings: {
    profile: "x86_64-6.1",
    proc: ["vmallocinfo"],
    probes: [{ id: "page-starts", at: "loaded", alloc: { family: ["vmalloc"], size: SIZE }, stride: 4096, count: PAGES, width: 4 }],
    // the grader's second run: just before the module first reads back a byte it wrote, something else flips the bits
    // of the 4 bytes at the start of one of the ranges it wrote by then (picked from the submission's text: any page's
    // value when it writes them all first, the one read when it reads each back at once), so `ok` must not be printed
    otherWrites: [
      { id: "other-writer", at: "first-read", alloc: {}, fromRead: true, pick: 0, offset: 0, stride: 1, count: 4, width: 1, invert: true, seeded: true },
    ],
  },
  statement: `Allocate a zeroed, virtually contiguous 4 MiB buffer (vzalloc). Write the page number as a 32-bit value at
the start of each 4 KiB page (page 0 gets 0, page 1 gets 1, ... page 1023 gets 1023), read them all back, and print
\`ok\` only if every value matched. Keep the buffer while the module is loaded and free it on unload. If the
allocation fails, init returns -ENOMEM. The grader runs your module a second time where, just before it first reads
back a value it wrote, something else changes one of the values it wrote (as another writer could; which one, your
module cannot know): \`ok\` must not be printed there.`,
  starter: `import { vmalloc, vfree, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function big_init(): number {
  buf = vmalloc(4 * 1024 * 1024);
  // TODO: zeroed? 32-bit page number at the start of each page (writel), read back (readl), print "ok"
  printk(KERN_INFO + "ok\\n");
  return 0;
}

function big_exit(): void {
  vfree(buf);
}

module_init(big_init);
module_exit(big_exit);
`,
  solution: `import { vzalloc, vfree, writel, readl, printk, KERN_INFO, KERN_ERR, ENOMEM, PAGE_SIZE,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const SIZE = 4 * 1024 * 1024;
let buf = 0n;

function big_init(): number {
  buf = vzalloc(SIZE);
  if (buf === 0n) return -ENOMEM;
  const pages = SIZE / PAGE_SIZE;
  for (let i = 0; i < pages; i++) writel(i, buf + BigInt(i * PAGE_SIZE));
  let good = true;
  for (let i = 0; i < pages; i++) if (readl(buf + BigInt(i * PAGE_SIZE)) !== i) good = false;
  if (good) printk(KERN_INFO + "ok\\n");
  else printk(KERN_ERR + "mismatch\\n");
  return 0;
}

function big_exit(): void {
  vfree(buf);
}

module_init(big_init);
module_exit(big_exit);
`,
  checks: [
    loads(),
    check(
      "vmalloc-4m-zeroed",
      "A zeroed 4 MiB buffer from the vmalloc family",
      "vzalloc(4 * 1024 * 1024) gives a zeroed, virtually contiguous buffer (4 MiB is the page allocator's largest block: vmalloc does not need one).",
      (c) => {
        const a = buffer(c);
        if (isOutcome(a)) return a;
        if (a.family !== "vmalloc") return fail(`${a.fn}(${a.size}) came from the slab allocator (kvmalloc tried kmalloc first), not from vmalloc`);
        if (a.zeroed) return ok(`${a.fn}(${a.size})`);
        const zeroedAfter = (callsOf(c.result) ?? []).some(
          (x, i) => i > a.index && x.fn === "memset" && toBig(x.args[0]) === a.addr && Number(toBig(x.args[1])) === 0 && Number(toBig(x.args[2])) >= SIZE,
        );
        return zeroedAfter
          ? ok(`${a.fn} + memset 0`)
          : fail(`${a.fn}(${a.size})${a.line ? ` (line ${a.line})` : ""} does not zero the buffer (vzalloc does, or memset(buf, 0, size) after it)`);
      },
      1,
      { requires: ["4 MiB", "zeroed"] },
    ),
    valueInMemory({
      id: "writes",
      probe: "page-starts",
      message: "After load, the buffer holds each page's number as a 32-bit value at the page's start",
      hint: "For i from 0 to 1023: writel(i, buf + BigInt(i * PAGE_SIZE)) writes the 32-bit value i at the start of page i.",
      expected: (i) => i,
      unit: "page",
      requires: ["32-bit", "page number", "1023"],
    }),
    check(
      "read-back-ok",
      "Every page start is read back, and `ok` is printed after the reads (and not in a second run, where a value was changed before it was read)",
      "Read each value back with readl(buf + BigInt(i * PAGE_SIZE)), compare it with i, and print ok only if all matched.",
      (c) => {
        const a = buffer(c);
        if (isOutcome(a)) return a;
        const calls = callsOf(c.result) ?? [];
        const era = eraOf(c.result);
        const okLine = printedLines(calls, era, 64).find((x) => x.text.trim() === "ok");
        const okAt = okLine ? calls.indexOf(okLine.first) : -1;
        const read = pagesReadBack(c, a);
        if (okAt < 0) return fail(`ok was not printed${read === PAGES ? " (all 1024 page starts were read back)" : ""}`);
        if (read < PAGES) return fail(`ok was printed, but only ${read} of the 1024 page starts were read back after they were written`);
        const lastRead = calls.reduce((m, x, i) => (x.fn in READS || x.fn in RANGE_READS ? i : m), -1);
        if (okAt < lastRead) return fail("ok was printed before the values were read back");
        // The second run: a value the module wrote was changed just before it was first read back, so a module that
        // compares what it reads prints no `ok` there; one that prints `ok` whatever it read does.
        const other = c.runs?.otherWriter;
        if (!other) return fail(c.runs?.unavailable?.["other-writer"] ?? "the grader made no second run with a value changed before it was read");
        const changed = (other.result.kernel as { memory?: Record<string, { addr?: string; missing?: string }> }).memory?.["other-writer"];
        if (!changed?.addr)
          return fail(
            `in the grader's second run no value could be changed before it was read back: ${changed?.missing ?? "the module read back no byte it wrote"}`,
          );
        const era2 = eraOf(other.result);
        if (printedLines(callsOf(other.result) ?? [], era2, 64).some((x) => x.text.trim() === "ok"))
          return fail(
            `in the grader's second run the bytes at ${changed.addr} were changed just before the module first read a value back, yet ok was printed: print ok only if every value read matched`,
          );
        return ok();
      },
      1,
      { requires: ["ok", "read", "second time"], needs: ["other-writer"] },
    ),
    nothingLeaked(),
    survivesFaultInjection(),
    noReports(),
  ],
};
