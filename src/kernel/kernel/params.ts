// Models kernel/params.c + init/main.c (parse_args, next_arg) and lib/cmdline.c (memparse), Linux 6.1.
// The command line is split as next_arg() does: words separated by spaces, `key=value`, double quotes may
// wrap a value or a whole word ("key=a b" or key="a b"), and a later key overrides an earlier one in the Map
// (for the early params the simulator models — mem=, vmalloc=, highmem=, nokaslr — the kernel's handlers
// also let the last one win). Simplification: the kernel keeps every occurrence and runs each handler in
// order; the Map keeps only the last value, which is what those handlers end up with.

/** Split a kernel command line into key → value ("vmalloc=200M" → "200M") or key → true ("nokaslr"). */
export function parseCmdline(cmdline: string): Map<string, string | true> {
  const params = new Map<string, string | true>();
  let i = 0;
  const s = cmdline;
  while (i < s.length) {
    while (i < s.length && isSpace(s[i])) i++;
    if (i >= s.length) break;
    // next_arg(): a leading quote makes the whole word quoted; otherwise quotes toggle inside the word.
    let inQuote = false;
    let word = "";
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '"') {
        inQuote = !inQuote;
        continue;
      }
      if (isSpace(c) && !inQuote) break;
      word += c;
    }
    if (word === "--") break; // everything after "--" goes to init
    const eq = word.indexOf("=");
    if (eq < 0) params.set(word, true);
    else params.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return params;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n";
}

const SUFFIX_SHIFT: Record<string, number> = { k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };

/**
 * lib/cmdline.c memparse(): simple_strtoull(ptr, &endptr, 0) (decimal, 0x hex, leading-0 octal) followed by an
 * optional K/M/G/T/P/E suffix (either case). Like the kernel it never fails: garbage parses as 0 and the
 * rest of the string is ignored ("200Mfoo" → 200M). `rest` is what follows the number and suffix (for `@`).
 * Values above 2^53 cannot be represented exactly and are returned as Infinity so callers clamp them.
 */
export function memparse(s: string): { value: number; rest: string } {
  const m = /^\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (!m) return { value: 0, rest: s };
  const digits = m[1];
  let v: bigint;
  if (/^0[xX]/.test(digits)) v = BigInt(digits);
  else if (digits.length > 1 && digits[0] === "0") v = BigInt("0o" + digits.slice(1));
  else v = BigInt(digits);
  let rest = s.slice(m[0].length);
  const shift = SUFFIX_SHIFT[rest[0]?.toLowerCase() ?? ""];
  if (shift !== undefined) {
    v <<= BigInt(shift);
    rest = rest.slice(1);
  }
  v &= (1n << 64n) - 1n; // unsigned long long wraps
  const value = v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  return { value, rest };
}

/**
 * A size for the CLI and boot options ("512M", "0x20000000", "1g", "163840K"). Strict, unlike memparse():
 * the whole string must be a number with an optional K/M/G/T/P/E suffix (optionally followed by "B" or
 * "iB"), and garbage ("abc", "-1", "12Q", "") throws an Error naming the input.
 */
export function parseSize(s: string): number {
  const t = s.trim();
  const m = /^(0[xX][0-9a-fA-F]+|[0-9]+)([kKmMgGtTpPeE](?:i?[bB])?|[bB])?$/.exec(t);
  if (!m) {
    throw new Error(`invalid size "${s}": expected a number with an optional K, M, G, T, P or E suffix (e.g. 512M, 1G, 0x20000000)`);
  }
  let v = BigInt(m[1]);
  const suf = m[2]?.[0]?.toLowerCase();
  if (suf && suf !== "b") v <<= BigInt(SUFFIX_SHIFT[suf]);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`invalid size "${s}": too large`);
  return Number(v);
}
