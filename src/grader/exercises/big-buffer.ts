// Exercise big-buffer: a zeroed, virtually contiguous 4 MiB buffer, one 32-bit write per page, read back.

import type { Exercise } from "../types.ts";
import { check, fail, findAlloc, isOutcome, loads, noReports, nothingLeaked, ok, PRINT_FNS, renderedText } from "../checks.ts";
import { callsOf, eraOf, toBig, type Allocation } from "../records.ts";
import type { CheckContext, CheckOutcome } from "../types.ts";

const SIZE = 4 << 20;
const PAGES = 1024;
const WRITE32 = ["writel", "iowrite32", "__raw_writel", "writel_relaxed"];
const READ32 = ["readl", "ioread32", "__raw_readl", "readl_relaxed"];

function buffer(c: CheckContext): Allocation | CheckOutcome {
  const as = findAlloc(c, ["vmalloc", "vzalloc", "__vmalloc", "vmalloc_user", "kvmalloc", "kvzalloc"], (a) => a.family === "vmalloc" && a.size === SIZE);
  if (isOutcome(as)) return as;
  return as[0] ?? fail("there is no 4 MiB vmalloc buffer");
}

/** Page i of the buffer, as the kernel's records saw each access: value written / read at buf + i*4096. */
function accesses(c: CheckContext, a: Allocation, fns: string[], valueOf: (args: unknown[], ret: unknown) => bigint | undefined) {
  const seen = new Map<number, bigint | undefined>();
  for (const x of callsOf(c.result) ?? []) {
    if (!fns.includes(x.fn)) continue;
    const addr = toBig(fns === WRITE32 ? x.args[1] : x.args[0]);
    if (addr === undefined || addr < a.addr || addr >= a.addr + BigInt(SIZE)) continue;
    const off = addr - a.addr;
    if (off % 4096n !== 0n) continue;
    seen.set(Number(off / 4096n), valueOf(x.args, x.ret));
  }
  return seen;
}

export const bigBuffer: Exercise = {
  id: "big-buffer",
  title: "A 4 MiB buffer, page by page",
  lesson: "vmalloc",
  settings: { profile: "x86_64-6.1", proc: ["vmallocinfo"] },
  statement: `Allocate a zeroed, virtually contiguous 4 MiB buffer. Write the page number as a 32-bit value at the start of
each 4 KiB page (page 0 gets 0, page 1 gets 1, ...), read them all back, and print \`ok\` only if every value
matched. Free the buffer on unload.`,
  starter: `import { vmalloc, vfree, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let buf = 0n;

function big_init(): number {
  buf = vmalloc(4 * 1024 * 1024);
  // TODO: zeroed? write the page number at the start of each page, read back, print "ok"
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
    check("vmalloc-4m-zeroed", "A zeroed 4 MiB buffer from the vmalloc family", "vzalloc(4 * 1024 * 1024) gives a zeroed, virtually contiguous buffer (4 MiB is the page allocator's largest block: vmalloc does not need one).", (c) => {
      const a = buffer(c);
      if (isOutcome(a)) return a;
      if (a.zeroed) return ok(`${a.fn}(${a.size})`);
      const zeroedAfter = (callsOf(c.result) ?? []).some((x, i) => i > a.index && x.fn === "memset" && toBig(x.args[0]) === a.addr && Number(toBig(x.args[1])) === 0 && Number(toBig(x.args[2])) >= SIZE);
      return zeroedAfter ? ok(`${a.fn} + memset 0`) : fail(`${a.fn}(${a.size}) does not zero the buffer`);
    }),
    check("writes", "1024 32-bit writes, the page number at the start of each page", "For i from 0 to 1023: writel(i, buf + BigInt(i * PAGE_SIZE)).", (c) => {
      const a = buffer(c);
      if (isOutcome(a)) return a;
      const w = accesses(c, a, WRITE32, (args) => toBig(args[0] as string));
      let good = 0;
      for (let i = 0; i < PAGES; i++) if (w.get(i) === BigInt(i)) good++;
      return good === PAGES ? ok() : fail(`${good} of the 1024 pages got their page number written at their start`);
    }),
    check("read-back-ok", "`ok` is printed, after reading back all 1024 values, and they matched", "Read each value back with readl(buf + BigInt(i * PAGE_SIZE)), compare it with i, and print ok only if all matched.", (c) => {
      const a = buffer(c);
      if (isOutcome(a)) return a;
      const r = accesses(c, a, READ32, (_args, ret) => toBig(ret as string));
      let good = 0;
      for (let i = 0; i < PAGES; i++) if (r.get(i) === BigInt(i)) good++;
      const era = eraOf(c.result);
      const okCall = (callsOf(c.result) ?? []).find((x) => PRINT_FNS.includes(x.fn) && renderedText(x, era, 64).trim() === "ok");
      if (!okCall) return fail(good === PAGES ? "all 1024 values read back right, but ok was not printed" : "ok was not printed");
      const lastRead = (callsOf(c.result) ?? []).reduce((m, x, i) => (READ32.includes(x.fn) ? i : m), -1);
      if (good !== PAGES) return fail(`ok was printed, but only ${good} of the 1024 pages read back their page number`);
      if ((callsOf(c.result) ?? []).indexOf(okCall) < lastRead) return fail("ok was printed before the values were read back");
      return ok();
    }),
    nothingLeaked(),
    noReports(),
  ],
};
