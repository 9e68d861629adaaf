// Test helper: writes an lz-string code stream by hand (the bit format of lz-string 1.5.0's _compress with the
// URI-safe alphabet, 6 bits a character), so a test can make a share link that no honest compressor would: a
// "decompression bomb". lz-string is LZW: every code names a dictionary entry, and the code equal to the next free
// index means "the previous entry plus its own first character", so the codes 4, 5, 6, ... after one literal 'a'
// emit "a", "aa", "aaa", ...: K codes of about log2(K) bits each emit K(K+1)/2 characters, so a link of N characters
// decompresses to roughly (6N / log2 N)² / 2 characters.

const URI_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$";

/**
 * Bit fields [value, width] packed as lz-string does (each value least significant bit first, 6 bits a character,
 * the first bit the character's highest), then lz-string's final padding: for streams no compressor writes.
 */
export function packFields(fields: readonly [number, number][]): string {
  const out: string[] = [];
  let val = 0;
  let pos = 0;
  for (const [value, width] of fields) {
    for (let i = 0; i < width; i++) {
      val = (val << 1) | ((value >> i) & 1);
      if (pos === 5) {
        out.push(URI_SAFE[val]);
        val = 0;
        pos = 0;
      } else pos++;
    }
  }
  // lz-string's flush: shift in zero bits until the last character is complete (a whole character when aligned)
  for (;;) {
    val <<= 1;
    if (pos === 5) {
      out.push(URI_SAFE[val]);
      break;
    }
    pos++;
  }
  return out.join("");
}

/** One code of the stream: a literal character (8- or 16-bit) or a reference to a dictionary index. */
export type LzCode = { lit: number } | { ref: number };

/**
 * The URI-safe text of a stream of codes followed by the end code, with the decoder's own code-width schedule
 * (numBits starts at 2 for the first code, then 3; it grows when enlargeIn, counted down once per dictionary
 * entry added, reaches 0) and lz-string's final padding.
 */
export function writeCodes(codes: readonly LzCode[]): string {
  const fields: [number, number][] = [];
  let numBits = 2;
  let enlargeIn = 4;
  const grow = () => {
    if (--enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  };
  codes.forEach((code, i) => {
    if ("lit" in code) {
      const wide = code.lit > 0xff;
      fields.push([wide ? 1 : 0, numBits], [code.lit, wide ? 16 : 8]);
      if (i > 0) grow(); // the literal's own entry; the first literal is entry 3, before the count starts
    } else {
      if (i === 0) throw new Error("writeCodes: the first code must be a literal");
      fields.push([code.ref, numBits]);
    }
    if (i === 0) {
      numBits = 3;
      return;
    }
    grow(); // the decoder adds w + entry[0]
  });
  fields.push([2, numBits]);
  return packFields(fields);
}

/**
 * A share link body (after "#share=") whose decompression is `prefix` (as literals), the run "c", "cc", "ccc", ... of
 * `runs` codes, then `suffix` (as literals): bombLength(runs, prefix, suffix) characters from a link of a few
 * characters per run code. With prefix '{"v":"1",...,"s":"' and suffix '"}' it is a well-formed share whose code is
 * the run.
 */
export function bombLink(runs: number, prefix = "", ch = "a", suffix = ""): string {
  const codes: LzCode[] = [];
  for (const c of prefix) codes.push({ lit: c.charCodeAt(0) });
  // the run: a literal ch, then each code names the next free index (previous entry + its first char). With a
  // prefix, the literal adds one entry and its output another, so the first self-reference is 2 further on.
  codes.push({ lit: ch.charCodeAt(0) });
  let dictSize = 3 + 2 * codes.length - 1; // after the first code 4 entries; every later code adds 2 (literal) or 1
  for (let i = 0; i < runs - 1; i++) {
    codes.push({ ref: dictSize });
    dictSize++;
  }
  for (const c of suffix) codes.push({ lit: c.charCodeAt(0) });
  return writeCodes(codes);
}

/** The length bombLink(runs, prefix, ch, suffix) decompresses to. */
export function bombLength(runs: number, prefix = "", suffix = ""): number {
  return prefix.length + (runs * (runs + 1)) / 2 + suffix.length;
}
