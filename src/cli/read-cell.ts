// Reading a cell's source file for run, check and grade. A file over the source size limit (transpile.ts) is
// refused from its size alone: reading a 700 MB file to refuse it took 3 s and 1.1 GB of the host's memory.
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { MAX_SOURCE_BYTES } from "../../sandbox/transpile.ts";

/** The file's text. Throws an Error whose message says why it cannot be a cell: unreadable, or too big. */
export function readCellFile(file: string): string {
  const fd = openSync(file, "r");
  try {
    const st = fstatSync(fd);
    if (st.isFile() && st.size > MAX_SOURCE_BYTES) {
      throw new Error(`it is ${sizeText(st.size)}, more than the ${sizeText(MAX_SOURCE_BYTES)} a cell may hold (the source size limit)`);
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
