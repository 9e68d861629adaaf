// Files read into one piece of memory reused from read to read (issue 15). A start of `kmodlab run` reads ~6 MB of
// files it needs only for a moment: the command's and the sandbox's scripts (turned into strings, copies), their V8
// code caches (read by the compile), QuickJS's .wasm (WebAssembly.compile copies it), the booted machine and QuickJS's
// state from the disk cache (decoded into objects and copied into QuickJS's memory). readFileSync gives each a fresh
// buffer, and every page of a fresh buffer costs the process a page fault as the kernel copies the file into it
// (~1,600 of the ~9,300 faults of a run of examples/memdemo.ts, perf record -e page-faults); a buffer reused for each
// file in turn faults its pages once.
//
// The bundles (lib/code-cache.cjs, lib/cli-run.cjs, lib/isolate-worker-code.cjs) each hold a copy of this module; the
// buffer is shared through a global symbol, so the pages faulted by one bundle's read serve the next. A thread has its
// own (a worker's globals are its own).
//
// The contract: what readTransient returns is valid until the next readTransient call in this thread, and only the
// caller may look at it: it must copy what it keeps (a string made of it, a structured-clone decode whose typed arrays
// are views of it consumed at once, V8's compile reading a code cache). Nothing of it may be kept, or handed to
// something that keeps it.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const KEY = Symbol.for("kmodlab.readScratch");
/**
 * The scratch buffer starts this big (the largest file a run reads is ~2 MB, the x86_64 machine) and grows on need:
 * address space only, until a read touches its pages (an unfilled Buffer is not zeroed).
 */
const INITIAL = 8 << 20;
/** Files larger than this are read the ordinary way (a one-off, not worth keeping memory for). */
const MAX = 64 << 20;

type Holder = { [KEY]?: Buffer<ArrayBuffer> };

/**
 * The bytes of `path`, in memory reused by the next call (see the header): copy what you keep. Throws as
 * readFileSync would (ENOENT, EISDIR...).
 */
export function readTransient(path: string): Buffer<ArrayBuffer> {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size > MAX) return readAll(fd, Buffer.allocUnsafeSlow(size), size);
    const g = globalThis as Holder;
    let buf = g[KEY];
    if (!buf || buf.length < size) {
      buf = Buffer.allocUnsafeSlow(Math.max(INITIAL, size + (size >>> 2)));
      g[KEY] = buf;
    }
    return readAll(fd, buf, size);
  } finally {
    closeSync(fd);
  }
}

/** Read the file at fd into buf up to `size` bytes (or its end, if it shrank meanwhile); the bytes read. */
function readAll(fd: number, buf: Buffer<ArrayBuffer>, size: number): Buffer<ArrayBuffer> {
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}
