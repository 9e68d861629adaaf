// Reading a cell's source file for run, check and grade. The compile refuses a cell over the source size limit
// (limits.ts MAX_SOURCE_BYTES) as a compile error at the line where the limit falls, so a file a little over it is
// read and gets that error like any cell. A file far over it (READ_CAP) is refused from its size alone, as an
// unreadable file: reading a 700 MB file only to refuse it took 3 s and 1.1 GB of the host's memory.
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { MAX_SOURCE_BYTES } from "../../sandbox/limits.ts";

/** Files above this are not read at all (16 MiB: reading and refusing one costs ~50 MB for a moment). */
export const READ_CAP = 64 * MAX_SOURCE_BYTES;

/** The file's text. Throws an Error whose message says why it cannot be read: missing, unreadable, or far too big. */
export function readCellFile(file: string): string {
  const fd = openSync(file, "r");
  try {
    const st = fstatSync(fd);
    if (st.isFile() && st.size > READ_CAP) {
      throw new Error(`it is ${sizeText(st.size)}, far more than the ${sizeText(MAX_SOURCE_BYTES)} a cell may hold (the source size limit)`);
    }
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

function sizeText(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}
