// Reading a cell's source file for run, check and grade. The compile refuses a cell over the source size limit
// (limits.ts MAX_SOURCE_BYTES) as a compile error at the line where the limit falls, so a file a little over it is
// read and gets that error like any cell. A file far over it (READ_CAP) is refused from its size alone, as an
// unreadable file: reading a 700 MB file only to refuse it took 3 s and 1.1 GB of the host's memory.
//
// A path that is not a regular file (a FIFO, /dev/stdin on a pipe, a character device) has no size to check: it is
// opened without blocking (opening a FIFO nobody writes to waited forever) and read up to READ_CAP + 1 bytes
// (/dev/zero never ends: the command waited forever), waiting at most STREAM_WAIT_MS for data that does not come.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { MAX_SOURCE_BYTES } from "../../sandbox/limits.ts";

/** Files above this are not read at all (16 MiB: reading and refusing one costs ~50 MB for a moment). */
export const READ_CAP = 64 * MAX_SOURCE_BYTES;

/** How long a FIFO or a device may keep the command waiting for its next bytes. */
export const STREAM_WAIT_MS = 10_000;

/** The file's text. Throws an Error whose message says why it cannot be read: missing, unreadable, or far too big. */
export function readCellFile(file: string | Buffer, waitMs = STREAM_WAIT_MS): string {
  const fd = openCell(file);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new Error("it is a directory, not a cell file");
    if (st.isFile()) {
      if (st.size > READ_CAP) {
        throw new Error(`it is ${sizeText(st.size)}, far more than the ${sizeText(MAX_SOURCE_BYTES)} a cell may hold (the source size limit)`);
      }
      return readFileSync(fd, "utf8");
    }
    return readStream(fd, waitMs);
  } finally {
    closeSync(fd);
  }
}

/**
 * Open the cell file. A name from the command line that is not valid UTF-8 reaches process.argv decoded lossily (each
 * bad byte U+FFFD), a name no file has: on Linux the argument's own bytes are in /proc/self/cmdline, and the file is
 * opened by them when exactly one argument decodes to that name; otherwise the error says why the name cannot work.
 */
function openCell(file: string | Buffer): number {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK;
  try {
    return openSync(file, flags);
  } catch (e) {
    if (typeof file !== "string" || !file.includes("\ufffd") || (e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    const raw = rawArgument(file);
    if (raw && !raw.equals(Buffer.from(file))) return openSync(raw, flags);
    throw new Error(
      `no file has this name: it holds U+FFFD, which is how Node shows bytes of a command-line argument that are not valid UTF-8, and the argument's own bytes could not be found; rename the file to a UTF-8 name`,
      { cause: e },
    );
  }
}

/** The bytes of the one command-line argument that decodes to `name` (Linux's /proc/self/cmdline), or undefined. */
function rawArgument(name: string): Buffer | undefined {
  let cmdline: Buffer;
  try {
    cmdline = readFileSync("/proc/self/cmdline");
  } catch {
    return undefined;
  }
  const found = new Map<string, Buffer>();
  for (let start = 0; start < cmdline.length;) {
    let end = cmdline.indexOf(0, start);
    if (end < 0) end = cmdline.length;
    const arg = cmdline.subarray(start, end);
    if (arg.toString("utf8") === name) found.set(arg.toString("hex"), Buffer.from(arg));
    start = end + 1;
  }
  return found.size === 1 ? [...found.values()][0] : undefined;
}

/** A FIFO's or a device's bytes, up to READ_CAP; refused past it, or when no bytes come for waitMs. */
function readStream(fd: number, waitMs: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  let idleSince = Date.now();
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, READ_CAP + 1 - total));
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      if (Date.now() - idleSince > waitMs)
        throw new Error(`no bytes came from it for ${waitMs / 1000} s (a FIFO or a device that is not a cell file)`, { cause: e });
      Atomics.wait(nap, 0, 0, 20);
      continue;
    }
    if (n === 0) break;
    idleSince = Date.now();
    chunks.push(buf.subarray(0, n));
    total += n;
    if (total > READ_CAP) {
      throw new Error(
        `it gave more than ${sizeText(READ_CAP)} without ending, far more than the ${sizeText(MAX_SOURCE_BYTES)} a cell may hold (the source size limit)`,
      );
    }
  }
  return Buffer.concat(chunks, total).toString("utf8");
}

function sizeText(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}
