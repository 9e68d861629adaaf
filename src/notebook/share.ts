// Share links: the URL hash carries {lesson, cell, code, profile, mem, cmdline} compressed with lz-string,
// so a link opens the same cell with the same code anywhere, with no server.
//
// Opening a link decodes it with a bounded copy of lz-string's decompression loop (decompressBounded below), not with
// LZString.decompressFromEncodedURIComponent. Why: lz-string is LZW, where one code of ~log2(K) bits can name a
// dictionary entry of up to K characters, so K codes can emit K(K+1)/2 characters; a crafted link of 70 KB
// decompresses to 450 million characters (1.4 GB of RSS in Node, test/notebook/lz-craft.ts makes one), and a hostile
// link sent to a learner would freeze or crash the tab before anything else runs. lz-string (1.5.0, the latest) has
// no output limit. Its internal LZString._decompress(length, resetValue, getNextValue) is reachable at run time, but
// its only hook is getNextValue, called once per input character read: it sees the input, never the output, and the
// output behind one input character is unbounded, so the work cannot be bounded from there. Nor by capping the input
// length: a legitimate 256 KiB cell (of lesson text) makes a link of 85 KB, while a 70 KB link can carry K(K+1)/2
// characters with K = 30,000 codes, so no input cap lets the one through and stops the other (a 20 KB link already
// carries 50 million characters: 150 ms and 240 MB in Node). No maintained npm package offers a bounded
// lz-string decoder. So the decoding loop is reimplemented here with a cap on the characters it produces, and it stops
// (null) as soon as the next entry would pass the cap: the work is O(input read + cap). It is held byte for byte to
// lz-string's decompressFromEncodedURIComponent, garbage included (characters outside the alphabet and reads past the
// end are zero bits, a first code of 3 behaves as lz-string's `undefined` entry does); test/notebook/share-bounded
// .test.ts compares the two on random and real inputs and every bundled lesson cell. Encoding still uses lz-string.

import LZString from "lz-string";
import { MAX_SOURCE_BYTES } from "../../sandbox/limits.ts";

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

/**
 * The most characters a share link may decompress to: the JSON of a cell at the sandbox's source limit plus its small
 * fields. JSON.stringify writes one UTF-8 byte of source as at most 6 characters (a control character, 1 byte, is
 * "\u00XX"; a lone surrogate, 3 bytes as UTF-8, is "\udXXX"; every other character is no longer in UTF-16 than in
 * UTF-8), so a 256 KiB cell is at most 6 × 256 KiB characters of JSON; 64 KiB more covers the keys, the lesson and cell
 * ids, profile, mem, the kernel command line, config and CPU limit with room to spare. 1.6 million characters (3 MiB of
 * UTF-16) decode in milliseconds.
 */
export const MAX_SHARE_JSON_CHARS = 6 * MAX_SOURCE_BYTES + 64 * 1024;

export function encodeShare(d: ShareData): string {
  const o: Record<string, string> = { v: "1", l: d.lesson, c: d.cell, s: d.code };
  if (d.profile) o.p = d.profile;
  if (d.mem) o.m = d.mem;
  if (d.cmdline) o.k = d.cmdline;
  if (d.config) o.g = d.config;
  if (d.cpu) o.t = d.cpu;
  return TAG + LZString.compressToEncodedURIComponent(JSON.stringify(o));
}

/** Decode a location hash; null when it is not a share link, is damaged, or decompresses past MAX_SHARE_JSON_CHARS. */
export function decodeShare(hash: string): ShareData | null {
  if (!hash.startsWith(TAG)) return null;
  let json: string | null;
  try {
    json = decompressBounded(hash.slice(TAG.length), MAX_SHARE_JSON_CHARS);
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

const URI_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$";
/**
 * The 6-bit value of each ASCII character of the URI-safe alphabet; 0 for any other (lz-string's `undefined & x`),
 * except a space, which lz-string first replaces with "+" (a "+" that went through form decoding): read as "+" here,
 * without copying the input.
 */
const VALUE = new Uint8Array(128);
for (let i = 0; i < URI_SAFE.length; i++) VALUE[URI_SAFE.charCodeAt(i)] = i;
VALUE[32] = VALUE[43];

/** What a bounded decode did, for tests: the characters it emitted (never more than maxChars). */
export interface DecodeProbe {
  chars: number;
}

/**
 * LZString.decompressFromEncodedURIComponent(input), except that it returns null, having emitted at most maxChars
 * characters, as soon as the output would pass maxChars. Same results otherwise: "" for a stream cut before its end
 * code, null for "" and for a code that names no entry, and a TypeError where lz-string throws one.
 */
export function decompressBounded(input: string, maxChars: number, probe?: DecodeProbe): string | null {
  if (input === "") return null;
  const length = input.length;
  const next = (index: number) => {
    const c = input.charCodeAt(index); // NaN past the end: 0 bits, as lz-string's undefined
    return c < 128 ? VALUE[c] : 0;
  };
  let val = next(0);
  let position = 32;
  let index = 1;
  const read = (width: number) => {
    let bits = 0;
    for (let power = 1, max = 2 ** width; power !== max; power <<= 1) {
      const resb = val & position;
      position >>= 1;
      if (position === 0) {
        position = 32;
        val = next(index++);
      }
      if (resb > 0) bits |= power;
    }
    return bits;
  };

  // entries 0..2 are the codes' meanings (8-bit literal, 16-bit literal, end); lz-string stores the numbers 0..2,
  // never read as entries. `undefined` is lz-string's entry 3 when the first code is 3 (no literal).
  const dictionary: (string | undefined)[] = [];
  let enlargeIn = 4;
  let dictSize = 4;
  let numBits = 3;
  const result: string[] = [];
  let chars = 0;
  const emit = (s: string) => {
    if (chars + s.length > maxChars) return false;
    chars += s.length;
    if (probe) probe.chars = chars;
    result.push(s);
    return true;
  };

  let c: string | undefined;
  switch (read(2)) {
    case 0:
      c = String.fromCharCode(read(8));
      break;
    case 1:
      c = String.fromCharCode(read(16));
      break;
    case 2:
      return "";
  }
  dictionary[3] = c;
  let w = c;
  if (c !== undefined && !emit(c)) return null; // lz-string pushes undefined, which join() writes as ""
  for (;;) {
    if (index > length) return "";
    let code = read(numBits);
    switch (code) {
      case 0:
      case 1:
        dictionary[dictSize++] = String.fromCharCode(read(code === 0 ? 8 : 16));
        code = dictSize - 1;
        enlargeIn--;
        break;
      case 2:
        return result.join("");
    }
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
    let entry = dictionary[code];
    if (!entry) {
      if (code !== dictSize) return null;
      if (w === undefined) throw new TypeError("Cannot read properties of undefined (reading 'charAt')"); // as lz-string
      entry = w + w.charAt(0);
    }
    if (!emit(entry)) return null;
    // Add w+entry[0] to the dictionary (lz-string's `undefined + ch` is "undefined" + ch).
    dictionary[dictSize++] = String(w) + entry.charAt(0);
    enlargeIn--;
    w = entry;
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  }
}
