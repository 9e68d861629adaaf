// Share links: the URL hash carries {lesson, cell, code, profile, mem, cmdline} compressed with lz-string,
// so a link opens the same cell with the same code anywhere, with no server.

import LZString from "lz-string";

export interface ShareData {
  lesson: string;
  cell: string;
  code: string;
  profile?: string;
  mem?: string;
  cmdline?: string;
  /** Kernel config (debug / distro) and CPU limit (ms, as typed) the sharer picked. */
  config?: string;
  cpu?: string;
}

const TAG = "#share=";

export function encodeShare(d: ShareData): string {
  const o: Record<string, string> = { v: "1", l: d.lesson, c: d.cell, s: d.code };
  if (d.profile) o.p = d.profile;
  if (d.mem) o.m = d.mem;
  if (d.cmdline) o.k = d.cmdline;
  if (d.config) o.g = d.config;
  if (d.cpu) o.t = d.cpu;
  return TAG + LZString.compressToEncodedURIComponent(JSON.stringify(o));
}

/** Decode a location hash; null when it is not a share link or is damaged. */
export function decodeShare(hash: string): ShareData | null {
  if (!hash.startsWith(TAG)) return null;
  let json: string | null;
  try {
    json = LZString.decompressFromEncodedURIComponent(hash.slice(TAG.length));
  } catch {
    return null;
  }
  if (!json) return null;
  try {
    const o = JSON.parse(json) as Record<string, unknown>;
    if (typeof o.l !== "string" || typeof o.c !== "string" || typeof o.s !== "string") return null;
    const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
    return { lesson: o.l, cell: o.c, code: o.s, profile: str(o.p), mem: str(o.m), cmdline: str(o.k), config: str(o.g), cpu: str(o.t) };
  } catch {
    return null;
  }
}
