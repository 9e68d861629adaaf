// The real Debian 6.1 transcripts the tests compare against, read from the project's own copy in
// test/fixtures/real-kernel (test/fixtures/README.md says where each came from and how it was captured).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The directory of the transcripts. */
export const REAL = resolve(__dirname, "../fixtures/real-kernel");

/** A real log with CRLF stripped. */
export function realLog(file: string): string[] {
  return readFileSync(resolve(REAL, file), "utf8").replace(/\r/g, "").split("\n");
}

/** The boot messages of the first (live) boot, without timestamps, up to (excluding) the first line matching `stop`. */
export function realBootLines(file: string, stop: RegExp): string[] {
  const out: string[] = [];
  for (const raw of realLog(file)) {
    const m = /\[\s*\d+\.\d{6}\] (.*)$/.exec(raw);
    if (!m) continue;
    if (stop.test(m[1])) break;
    out.push(m[1]);
  }
  return out;
}

/** Lines of a MEMDEMO-MARK section (e.g. "/proc/iomem"), up to the blank line that ends it. */
export function realSection(file: string, mark: string): string[] {
  const lines = realLog(file);
  const i = lines.findIndex((l) => l.includes(`MEMDEMO-MARK: BEGIN ${mark} =====`));
  if (i < 0) throw new Error(`${file}: no MEMDEMO-MARK section "${mark}"`);
  const out: string[] = [];
  for (let j = i + 1; j < lines.length && lines[j] !== ""; j++) out.push(lines[j]);
  return out;
}

/** The real "Zone ranges:" block (first boot), without the Device line (ZONE_DEVICE is not an arch zone). */
export function realZoneLines(file: string): string[] {
  const lines = realBootLines(file, /^Movable zone start/);
  const i = lines.indexOf("Zone ranges:");
  return lines.slice(i + 1).filter((l) => !/^\s+Device /.test(l));
}
