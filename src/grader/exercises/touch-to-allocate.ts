// Exercise touch-to-allocate (lesson user-space): the user program mallocs 1 MiB (above glibc's 128 KiB
// M_MMAP_THRESHOLD: a mapping of its own), writes one byte into each of its first 16 pages and frees it. Judged
// from the process's records: malloc's system calls (an mmap of the chunk, its munmap at free), the page faults in
// that chunk (16 writes, each a fresh anonymous page: no page exists before it is touched), and its exit status.

import type { Exercise } from "../types.ts";
import { check, fail, loads, noReports, nothingLeaked, ok } from "../checks.ts";
import type { CheckContext } from "../types.ts";

const MODULE = `import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
import { user_main, malloc, free, store8 } from "user";

MODULE_LICENSE("GPL");
module_init(() => { printk(KERN_INFO + "loaded\\n"); return 0; });
`;

/** The chunk malloc mmapped for the program's 1 MiB malloc: [start, end), or a failure. */
function mmappedChunk(c: CheckContext): { lo: bigint; hi: bigint } | string {
  const u = c.result.user;
  if (!u) return "the user program did not run (did the module load?)";
  const a = u.allocations.find((x) => BigInt(x.size) === 1048576n);
  if (!a) return "the program never called malloc(1048576)";
  if (!a.mmapped) return "malloc(1 MiB) did not get a mapping of its own";
  const lo = BigInt(a.chunk);
  return { lo, hi: lo + BigInt(a.chunkSize) };
}

export const touchToAllocate: Exercise = {
  id: "touch-to-allocate",
  title: "Pages that do not exist until touched",
  lesson: "user-space",
  settings: { profile: "x86_64-6.1" },
  statement: `The module is given. Write the user program's main: malloc 1 MiB (1048576 bytes), write one byte (store8) at
the start of each of its first 16 pages (p, p + 4096, ... p + 15 * 4096), then free it and return 0. glibc gives a request
this large a mapping of its own (mmap), and the kernel gives that mapping a page only when the program first touches it:
the grader counts the page faults in the mapping (exactly 16, all writes) and checks that free() gave it back (munmap).`,
  starter: `${MODULE}
user_main(function main(): number {
  const p = malloc(100 * 1024);
  // TODO: malloc 1 MiB instead, write one byte at the start of each of its first 16 pages, free it
  return 0;
});
`,
  solution: `${MODULE}
user_main(function main(): number {
  const p = malloc(1024 * 1024);
  if (p === 0n) return 1;
  for (let i = 0; i < 16; i++) store8(p + BigInt(i * 4096), 1);
  free(p);
  return 0;
});
`,
  checks: [
    loads(),
    check(
      "own-mapping",
      "malloc(1 MiB) got a mapping of its own from mmap (not the brk heap)",
      "Ask for 1048576 bytes: at or above M_MMAP_THRESHOLD (128 KiB) glibc's malloc calls mmap for the chunk.",
      (c) => {
        const ch = mmappedChunk(c);
        if (typeof ch === "string") return fail(ch);
        const u = c.result.user!;
        return u.mallocCalls.some((m) => m.call === "mmap" && BigInt(m.addr) === ch.lo) ? ok() : fail("no mmap call of malloc made that chunk");
      },
      1,
      { requires: ["1048576", "malloc"] },
    ),
    check(
      "sixteen-faults",
      "Exactly 16 page faults in that mapping, each a write that made a fresh anonymous page",
      "Write (store8) one byte at p + i * 4096 for i = 0..15 and touch nothing else in the buffer: each first touch of a page is one fault.",
      (c) => {
        const ch = mmappedChunk(c);
        if (typeof ch === "string") return fail(ch);
        const inside = c.result.user!.faults.filter((f) => BigInt(f.addr) >= ch.lo && BigInt(f.addr) < ch.hi);
        if (inside.length !== 16) return fail(`${inside.length} page faults in the 1 MiB mapping, not 16`);
        const bad = inside.find((f) => !f.write || f.kind !== "anon");
        if (bad) return fail(`a fault at ${bad.addr} was ${bad.write ? "a write" : "a read"} (${bad.kind}), not a write making a new page`);
        const pages = new Set(inside.map((f) => BigInt(f.addr) >> 12n));
        return pages.size === 16 ? ok() : fail(`the 16 faults touched ${pages.size} different pages`);
      },
      1,
      { requires: ["store8", "16"] },
    ),
    check(
      "freed",
      "free() gave the mapping back (munmap) and the program exited with status 0",
      "Call free(p) before main returns; a chunk glibc mmapped is unmapped at once by free.",
      (c) => {
        const ch = mmappedChunk(c);
        if (typeof ch === "string") return fail(ch);
        const u = c.result.user!;
        if (u.status !== 0) return fail(`the program ended with status ${u.status}${u.signal ? ` (${u.signal.sig})` : ""}`);
        return u.mallocCalls.some((m) => m.call === "munmap" && BigInt(m.addr) === ch.lo) ? ok() : fail("the chunk was never unmapped: free(p) missing");
      },
      1,
      { requires: ["free"] },
    ),
    nothingLeaked(),
    noReports(),
  ],
};
