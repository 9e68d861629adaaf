// Models fs/seq_file.c of Linux 6.1 / 3.4 / 2.6.26 for single_open() files (what proc_create_single() and the
// LKMPG's proc examples use): seq_read()'s buffer, the show() call, seq_printf()/seq_puts() into it with the
// overflow rule, and the copy to user space in as many reads as the reader makes.
//
// Exactly as the kernel does it: the buffer starts at PAGE_SIZE; seq_printf() formats into the room left and, when
// the text does not fit with room to spare (count + len >= size), marks the buffer overflowed (count = size); the
// read then frees the buffer, doubles its size and calls show() again from the start, as many times as needed (a
// show() that prints to the kernel log prints once per attempt). A show() returning < 0 fails the read with that
// error; SEQ_SKIP (1) discards its output. The record is produced at the first read, not at open; later reads copy
// what is left (m->from), and a read after the end returns 0. A read copies min(count, what is left).
//
// Simplifications (stated): the buffer is host memory, not a kvmalloc() the slab allocator sees; one record
// (single_open): no seq_operations iterators.

import type { Kernel } from "../kernel.ts";
import type { PrintkArg } from "../kernel/printk.ts";

const PAGE = 4096;
export const SEQ_SKIP = 1;

/** struct seq_file, as far as single_open needs it. */
export class SeqFile {
  size = PAGE;
  /** The formatted text (its length is m->count unless overflowed). */
  buf = "";
  overflowed = false;
  /** Bytes of buf already copied out (m->from), and whether the record was produced (m->index). */
  from = 0;
  index = 0;
  /** show() calls made, doublings included: for lessons and tests. */
  showCalls = 0;

  constructor(readonly k: Kernel) {}

  /** seq_printf(m, fmt, ...) */
  printf(fmt: string, args: readonly PrintkArg[]): void {
    if (this.overflowed) return;
    const s = this.k.log.format(fmt, args, this.size);
    this.puts(s);
  }

  /** seq_puts(m, s): all of s, or overflow. */
  puts(s: string): void {
    if (this.overflowed) return;
    const len = new TextEncoder().encode(s).length;
    const count = new TextEncoder().encode(this.buf).length;
    if (count + len < this.size) this.buf += s;
    else this.overflowed = true;
  }
}

/**
 * seq_read() of a single_open file: copy up to `count` bytes with `copyOut(bytes)` (copy_to_user: returns the bytes
 * NOT copied). Returns the bytes read, 0 at the end, or -errno.
 */
export function seqRead(m: SeqFile, show: (m: SeqFile) => number, count: number, copyOut: (bytes: Uint8Array) => number): number {
  if (count === 0) return 0;
  if (m.index === 0) {
    for (;;) {
      m.buf = "";
      m.overflowed = false;
      m.showCalls++;
      const err = show(m);
      if (err < 0) return err;
      if (err === SEQ_SKIP) m.buf = "";
      if (!m.overflowed) break;
      m.size *= 2; // kvfree(m->buf); m->buf = seq_buf_alloc(m->size <<= 1)
      if (m.size > 1 << 30) return -12;
    }
    m.index = 1;
    m.from = 0;
  }
  const bytes = new TextEncoder().encode(m.buf);
  const left = bytes.length - m.from;
  if (left <= 0) return 0;
  const n = Math.min(count, left);
  const notCopied = copyOut(bytes.subarray(m.from, m.from + n));
  const copied = n - notCopied;
  if (copied === 0) return -14; // -EFAULT
  m.from += copied;
  return copied;
}
