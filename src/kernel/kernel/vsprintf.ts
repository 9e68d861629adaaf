// Models lib/vsprintf.c (vsnprintf, format_decode, number, string, pointer and its %p extensions) of Linux 6.1,
// with the 2.6.32/3.4 behaviour where it differed (raw %p, "(null)" for NULL pointers, no (efault)).
//
// Arguments are JS values: number | bigint | string, plus VaFormat for %pV. The C type a conversion names decides
// how the value is read, exactly as va_arg would: %d truncates to a 32-bit int (2^31 prints negative), %lu wraps
// at 2^32 on 32-bit machines and at 2^64 on 64-bit ones, %hhd to a signed char, %zx/%tx to long width (%t is
// read signed, as ptrdiff_t, and printed unsigned 64-bit for %tx, a real kernel quirk).
//
// Kernel quirks kept on purpose: "%#x" of 0 prints "0x0"; "%.0d" of 0 prints "0"; "%.d" has no precision;
// after %p every following letter or digit is part of the extension and swallowed ("%pSfoo" prints the symbol
// and eats "foo"); an unsupported conversion (%n, %q, %y, a lone % at the end) ends the output there (the kernel
// also WARN_ONCEs "Please remove unsupported %... in format string": that splat is not printed here).
//
// Choices, stated (the kernel reads memory the simulator does not have):
// - A missing argument reads as 0 / NULL: %s prints "(null)", %d prints 0, %p prints NULL as the era does.
// - %s of a number: 0 prints "(null)"; below PAGE_SIZE or an ERR_PTR prints "(efault)" (6.1; "(null)" in the old
//   eras); any other address is read through env.readString when the memory model provides it, else "(efault)".
// - %c of a string prints its first character; a NUL char prints nothing.
// - Any %p extension given a string argument prints the string as-is (a symbol name for %pS, "(null)" for a
//   NULL nodemask in %*pbl ...), with the field width applied as for %s.
// - %pa/%pad take the phys_addr_t/dma_addr_t value itself (C passes its address). Sizes: 8 bytes on 64-bit,
//   4 on i386 (Debian 686 is non-PAE) and on ARM (armmp is non-LPAE).
// - %p hashing (6.1): SipHash-2-4 of the pointer (siphash_1u64 on 64-bit, masked to 32 bits; siphash_1u32 on
//   32-bit) under a 128-bit key derived from the boot seed with splitmix64 (seed 0 when none is given) - the
//   kernel's algorithm, with a deterministic key instead of a random one. `no_hash_pointers` prints raw.
// - %pK behaves as kptr_restrict=0 (6.1: hashed like %p; 3.4: raw). %pGp/%pGv (page/vma flags), %pe, %pM, %pI,
//   %pR, %pd, %pt ... are not modelled: %pG with anything but g prints "(%pG?)" as the kernel does for unknown
//   letters, the others print like plain %p.
// - %pGg exists only from 4.5: in 2.6/3.4 it prints the raw pointer, as those kernels did for an unknown extension.
//   %pa (3.8) and %pad (3.19) likewise fall back to a raw pointer in 2.6/3.4.
//
// Bounded output (vsnprintf's size): vsprintf(env, fmt, args, cap) produces the first `cap` characters of the text
// and never builds more (a field width of 8 MiB pads only up to the cap), as the kernel writes into a buffer of
// the caller's size. Field widths and precisions are clipped as each era's struct printf_spec holds them: 6.1
// clamps to FIELD_WIDTH_MAX (2^23 - 1) and PRECISION_MAX (2^15 - 1) (its WARN_ONCE "field width %d too large" is
// not printed); 3.4 stores them in s16 fields (a width of 2^23 reads as 0; 0x8000 and above read negative, which
// pads nothing); 2.6.32 keeps them as int (only the buffer bounds the output). A negative precision reads as 0.

import type { Era } from "../types.ts";
import { formatGfp } from "../gfp.ts";

/** %pV's struct va_format. */
export interface VaFormat {
  fmt: string;
  args: readonly PrintkArg[];
}
export type PrintkArg = number | bigint | string | VaFormat;

/** What vsprintf needs to know of the machine it formats for. */
export interface VsprintfEnv {
  era: Era;
  /** BITS_PER_LONG (= pointer width). */
  bits: 32 | 64;
  physAddrBytes: 4 | 8;
  dmaAddrBytes: 4 | 8;
  /** %p prints hashed (4.15+ and no no_hash_pointers). */
  hashPointers: boolean;
  /** SipHash key for %p. */
  ptrKey: readonly [bigint, bigint];
  /** %pS ("S"/"B") and %ps ("s") of an address. */
  symbolize?(addr: bigint, mode: "S" | "s"): string;
  /** Read a NUL-terminated kernel string at addr (for %s of an address); undefined if unreadable. */
  readString?(addr: bigint): string | undefined;
}

const ZEROPAD = 1,
  SIGN = 2,
  PLUS = 4,
  SPACE = 8,
  LEFT = 16,
  SMALL = 32,
  SPECIAL = 64;

/** How many characters the conversion being formatted may still contribute (the rest of vsnprintf's buffer). */
let room = Infinity;
/** c repeated n times, but never past what the buffer can still take. */
function rep(c: string, n: number): string {
  return n <= 0 ? "" : c.repeat(n < room ? n : room);
}
const FIELD_WIDTH_MAX = (1 << 23) - 1;
const PRECISION_MAX = (1 << 15) - 1;
const PAGE_SIZE = 4096;
const M64 = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------------------------------------------
// SipHash-2-4 (lib/siphash.c), on BigInt. Only %p uses it, never a hot path.

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & M64;
}

/** SipHash-2-4 of a byte string under key (k0, k1) (little-endian key words, as lib/siphash.c reads them). */
export function siphash24(k0: bigint, k1: bigint, data: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = () => {
    v0 = (v0 + v1) & M64;
    v1 = rotl(v1, 13n);
    v1 ^= v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64;
    v3 = rotl(v3, 16n);
    v3 ^= v2;
    v0 = (v0 + v3) & M64;
    v3 = rotl(v3, 21n);
    v3 ^= v0;
    v2 = (v2 + v1) & M64;
    v1 = rotl(v1, 17n);
    v1 ^= v2;
    v2 = rotl(v2, 32n);
  };
  const len = data.length;
  const end = len - (len % 8);
  for (let i = 0; i < end; i += 8) {
    let m = 0n;
    for (let j = 7; j >= 0; j--) m = (m << 8n) | BigInt(data[i + j]);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  let b = BigInt(len & 0xff) << 56n;
  for (let j = (len % 8) - 1; j >= 0; j--) b |= BigInt(data[end + j]) << BigInt(8 * j);
  v3 ^= b;
  round();
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  return (v0 ^ v1 ^ v2 ^ v3) & M64;
}

function leBytes(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** The ptr_key a boot seed gives: two splitmix64 outputs. */
export function ptrKeyFromSeed(seed: number | undefined): [bigint, bigint] {
  let x = BigInt.asUintN(64, BigInt(Math.trunc(seed ?? 0)));
  const next = () => {
    x = (x + 0x9e3779b97f4a7c15n) & M64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    return z ^ (z >> 31n);
  };
  return [next(), next()];
}

const hashCache = new WeakMap<VsprintfEnv, Map<bigint, bigint>>(); // snapshot: cache (a copy computes its own)

/** __ptr_to_hashval(): the value %p prints for a pointer. */
export function ptrHash(env: VsprintfEnv, ptr: bigint): bigint {
  let cache = hashCache.get(env);
  if (!cache) hashCache.set(env, (cache = new Map()));
  let h = cache.get(ptr);
  if (h === undefined) {
    const [k0, k1] = env.ptrKey;
    h = env.bits === 64 ? siphash24(k0, k1, leBytes(ptr, 8)) & 0xffffffffn : siphash24(k0, k1, leBytes(ptr & 0xffffffffn, 4)) & 0xffffffffn;
    if (cache.size > 4096) cache.clear();
    cache.set(ptr, h);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------------------------
// Argument reading (va_arg with a C type).

/**
 * A numeric string longer than this is read as its value modulo 2^64 (what a 64-bit va_arg can hold; every reader
 * below keeps at most 64 bits but %*pb's bitmap): BigInt() of a decimal string is quadratic in its length, and
 * printk("%d", "9".repeat(4e6)) took 2.3 s of host time a call, where nothing interrupts it.
 */
const LONG_NUMBER_CHARS = 80;
const CHUNK = 10n ** 15n;

/** A long run of decimal digits (or 0x and hex digits) modulo 2^64, in time linear in its length. */
function low64(digits: string): bigint {
  if (/^0x/i.test(digits)) return BigInt.asUintN(64, BigInt("0x" + digits.slice(Math.max(2, digits.length - 16))));
  let v = 0n;
  const head = digits.length % 15;
  if (head) v = BigInt(digits.slice(0, head));
  for (let i = head; i < digits.length; i += 15) v = BigInt.asUintN(64, v * CHUNK + BigInt(digits.slice(i, i + 15)));
  return v;
}

function toBig(a: PrintkArg | undefined): bigint {
  if (a === undefined) return 0n;
  if (typeof a === "bigint") return a;
  if (typeof a === "number") return Number.isFinite(a) ? BigInt(Math.trunc(a)) : 0n;
  if (typeof a === "string") {
    const s = a.trim();
    if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(s)) return 0n;
    const neg = s[0] === "-";
    const digits = neg ? s.slice(1) : s;
    const v = digits.length <= LONG_NUMBER_CHARS ? BigInt(digits) : low64(digits);
    return neg ? -v : v;
  }
  return 0n;
}

/** va_arg(args, int) for widths, precisions and %c. */
function argInt(a: PrintkArg | undefined): number {
  if (typeof a === "number" && Number.isFinite(a)) return Math.trunc(a) | 0;
  return Number(BigInt.asIntN(32, toBig(a)));
}

/** Read an integer as a C type of `bits` width and signedness: a JS number when it fits, else a bigint. */
function readInt(a: PrintkArg | undefined, bits: number, signed: boolean): number | bigint {
  if (typeof a === "number" && Number.isSafeInteger(a)) {
    if (bits === 32) return signed ? a | 0 : a >>> 0;
    if (bits === 16) return signed ? (a << 16) >> 16 : a & 0xffff;
    if (bits === 8) return signed ? (a << 24) >> 24 : a & 0xff;
    if (signed || a >= 0) return a; // 64-bit, fits
  }
  const v = toBig(a);
  const r = signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
  return r >= -0x1fffffffffffffn && r <= 0x1fffffffffffffn ? Number(r) : r;
}

// ---------------------------------------------------------------------------------------------------------------
// number() and string(), byte-for-byte with lib/vsprintf.c.

function number(val: number | bigint, base: number, flags: number, width: number, prec: number): string {
  let neg = false;
  let mag: number | bigint = val;
  if (val < 0) {
    if (flags & SIGN) {
      neg = true;
      mag = typeof val === "bigint" ? -val : -val;
    } else {
      // (unsigned long long) of a negative value: two's complement in 64 bits
      mag = BigInt.asUintN(64, BigInt(val));
    }
  }
  const isZero = mag === 0 || mag === 0n;
  let digits = mag.toString(base);
  if (base === 16 && !(flags & SMALL)) digits = digits.toUpperCase();
  if (flags & LEFT) flags &= ~ZEROPAD;
  let sign = "";
  if (flags & SIGN) {
    if (neg) {
      sign = "-";
      width--;
    } else if (flags & PLUS) {
      sign = "+";
      width--;
    } else if (flags & SPACE) {
      sign = " ";
      width--;
    }
  }
  const needPfx = (flags & SPECIAL) !== 0 && base !== 10;
  let pfx = "";
  if (needPfx) {
    if (base === 16) {
      width -= 2;
      pfx = flags & SMALL ? "0x" : "0X";
    } else if (!isZero) {
      width--;
      pfx = "0";
    }
  }
  const i = digits.length;
  if (i > prec) prec = i;
  width -= prec;
  const pad = width > 0 ? width : 0;
  let s = "";
  if (!(flags & (ZEROPAD | LEFT)) && pad) s += rep(" ", pad);
  s += sign + pfx;
  if (flags & ZEROPAD && pad) s += rep("0", pad);
  if (prec > i) s += rep("0", prec - i);
  s += digits;
  if (flags & LEFT && pad) s += rep(" ", pad);
  return s;
}

/**
 * A copy of s.slice(from, to) that does not keep s alive: V8 makes a slice of a long string a view of it, and a
 * record holding 991 characters of a 16 MB argument would keep all 16 MB.
 */
export function detachedSlice(s: string, from: number, to: number): string {
  const sub = s.slice(from, to);
  return s.length > 4096 ? (" " + sub).slice(1) : sub;
}

function stringSpec(s: string, flags: number, width: number, prec: number): string {
  // The length string() prints (up to a NUL, at most prec), then the padding; only what the buffer holds is built.
  const nul = s.indexOf("\0");
  let n = nul >= 0 ? nul : s.length;
  if (prec >= 0 && n > prec) n = prec;
  const pad = width > n ? width - n : 0;
  if (pad === 0) return n === s.length && n <= room ? s : detachedSlice(s, 0, n < room ? n : room);
  if (flags & LEFT) return detachedSlice(s, 0, n < room ? n : room) + rep(" ", pad);
  const sp = rep(" ", pad);
  const left = room - sp.length;
  return left <= 0 ? sp : sp + detachedSlice(s, 0, n < left ? n : left);
}

// ---------------------------------------------------------------------------------------------------------------
// %p

function pointerString(env: VsprintfEnv, ptr: bigint, flags: number, width: number, prec: number): string {
  flags |= SMALL;
  if (width === -1) {
    width = env.bits / 4;
    flags |= ZEROPAD;
  }
  return number(ptr <= 0x1fffffffffffffn ? Number(ptr) : ptr, 16, flags, width, prec);
}

function isErrOrNull(env: VsprintfEnv, ptr: bigint): boolean {
  if (ptr === 0n) return true;
  const top = env.bits === 64 ? M64 : 0xffffffffn;
  return ptr >= top - 4094n; // IS_ERR_VALUE: >= (unsigned long)-MAX_ERRNO
}

function defaultPointer(env: VsprintfEnv, ptr: bigint, flags: number, width: number, prec: number): string {
  if (!env.hashPointers || isErrOrNull(env, ptr)) return pointerString(env, ptr, flags, width, prec);
  return pointerString(env, ptrHash(env, ptr), flags, width, prec);
}

function bitmapList(bits: bigint, nbits: number): string {
  let out = "";
  let i = 0;
  while (i < nbits && out.length < room) {
    if (bits >> BigInt(i) === 0n) break; // no set bit left (a width of millions costs nothing)
    if (!((bits >> BigInt(i)) & 1n)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < nbits && (bits >> BigInt(j + 1)) & 1n) j++;
    if (out) out += ",";
    out += j > i ? `${i}-${j}` : `${i}`;
    i = j + 1;
  }
  return out;
}

function bitmapHex(bits: bigint, nbits: number): string {
  // bitmap_string(): 32-bit chunks, most significant first, separated by ','; the first chunk holds nbits % 32
  let out = "";
  let chunksz = nbits & 31 || 32;
  for (let i = Math.ceil(nbits / 32) * 32 - 32; i >= 0 && out.length < room; i -= 32) {
    const chunkmask = (1n << BigInt(chunksz)) - 1n;
    const val = (bits >> BigInt(i)) & chunkmask;
    if (out) out += ",";
    out += val.toString(16).padStart(Math.ceil(chunksz / 4), "0");
    chunksz = 32;
  }
  return out;
}

function pointer(env: VsprintfEnv, ext: string, arg: PrintkArg | undefined, flags: number, width: number, prec: number): string {
  const old = env.era !== "6.1";
  if (typeof arg === "string") return stringSpec(arg, flags, width, prec);
  const c = ext[0] ?? "";
  if (c === "V") {
    if (arg !== undefined && typeof arg === "object") return vsprintf(env, arg.fmt, arg.args, room);
    if (!toBig(arg)) return stringSpec("(null)", flags, width, prec);
  }
  if (typeof arg === "object") return stringSpec("(efault)", flags, width, prec);
  const ptr = BigInt.asUintN(env.bits, toBig(arg));
  if (old && ptr === 0n && c !== "K") {
    // 2.6/3.4 pointer(): NULL prints "(null)" padded to the pointer width
    return stringSpec("(null)", flags, width === -1 ? env.bits / 4 : width, prec);
  }
  switch (c) {
    case "S":
    case "s":
    case "B": {
      const sym = env.symbolize ? env.symbolize(ptr, c === "s" ? "s" : "S") : "0x" + ptr.toString(16);
      return stringSpec(sym, flags, width, prec);
    }
    case "x":
      return pointerString(env, ptr, flags, width, prec);
    case "K":
      return old ? pointerString(env, ptr, flags, width, prec) : defaultPointer(env, ptr, flags, width, prec);
    case "a": {
      if (old) break;
      if (arg === undefined) return stringSpec("(null)", flags, width, prec);
      const size = ext[1] === "d" ? env.dmaAddrBytes : env.physAddrBytes;
      const v = BigInt.asUintN(size * 8, toBig(arg));
      return number(v <= 0x1fffffffffffffn ? Number(v) : v, 16, SPECIAL | SMALL | ZEROPAD, 2 + 2 * size, -1);
    }
    case "G": {
      if (old) break;
      if (arg === undefined) return stringSpec("(null)", flags, width, prec);
      if (ext[1] === "g") return formatGfp(env.era, Number(BigInt.asUintN(32, toBig(arg))));
      return stringSpec("(%pG?)", flags, width, prec);
    }
    case "b": {
      if (arg === undefined) return stringSpec("(null)", flags, width, prec);
      const nbits = Math.max(width, 0);
      const bits = BigInt.asUintN(Math.max(nbits, 1), toBig(arg));
      return ext[1] === "l" ? bitmapList(bits, nbits) : bitmapHex(bits, nbits);
    }
  }
  return old ? pointerString(env, ptr, flags, width, prec) : defaultPointer(env, ptr, flags, width, prec);
}

// ---------------------------------------------------------------------------------------------------------------

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The buffer of a caller that gives none: 1 MiB, more than any kernel caller has (printk's is 1 KiB, a seq_file's a
 * page or so). The kernel never formats without a size; a 2.6 precision of 2^31 - 1 would otherwise build 2 GB.
 */
export const VSPRINTF_DEFAULT_CAP = 1 << 20;

/** vscnprintf(buf, cap + 1, fmt, args): the first `cap` characters of the formatted text. */
export function vsprintf(env: VsprintfEnv, fmt: string, args: readonly PrintkArg[], cap = VSPRINTF_DEFAULT_CAP): string {
  const saved = room; // %pV formats recursively
  try {
    const out = format(env, fmt, args, cap);
    return out.length > cap ? out.slice(0, cap) : out;
  } finally {
    room = saved;
  }
}

/** The era's reading of a field width or precision as struct printf_spec stores it (see the header). */
function specField(era: Era, v: number, max: number): number {
  if (era === "6.1") return v > max ? max : v < -max ? -max : v;
  if (era === "3.4") return (v << 16) >> 16;
  return v | 0;
}

function format(env: VsprintfEnv, fmt: string, args: readonly PrintkArg[], cap: number): string {
  let out = "";
  let ai = 0;
  let i = 0;
  const n = fmt.length;
  const era = env.era;
  while (i < n) {
    if (out.length >= cap) break;
    room = cap - out.length;
    const pct = fmt.indexOf("%", i);
    if (pct < 0) {
      out += i === 0 && n <= room ? fmt : fmt.slice(i, n - i <= room ? n : i + room);
      break;
    }
    if (pct > i) out += fmt.slice(i, pct - i <= room ? pct : i + room);
    i = pct + 1;

    // flags
    let flags = 0;
    for (;;) {
      const c = fmt.charCodeAt(i);
      if (c === 45)
        flags |= LEFT; // -
      else if (c === 43)
        flags |= PLUS; // +
      else if (c === 32)
        flags |= SPACE; // ' '
      else if (c === 35)
        flags |= SPECIAL; // #
      else if (c === 48)
        flags |= ZEROPAD; // 0
      else break;
      i++;
    }
    // field width
    // (skip_atoi() is an int: digits past 2^31 wrap, as they do there)
    let width = -1;
    if (isDigit(fmt.charCodeAt(i))) {
      width = 0;
      while (isDigit(fmt.charCodeAt(i))) width = (width * 10 + (fmt.charCodeAt(i++) - 48)) | 0;
      width = specField(era, width, FIELD_WIDTH_MAX);
    } else if (fmt.charCodeAt(i) === 42) {
      i++;
      width = specField(era, argInt(args[ai++]), FIELD_WIDTH_MAX);
      if (width < 0) {
        width = specField(era, -width, FIELD_WIDTH_MAX);
        flags |= LEFT;
      }
    }
    // precision
    let prec = -1;
    if (fmt.charCodeAt(i) === 46) {
      i++;
      if (isDigit(fmt.charCodeAt(i))) {
        prec = 0;
        while (isDigit(fmt.charCodeAt(i))) prec = (prec * 10 + (fmt.charCodeAt(i++) - 48)) | 0;
        prec = specField(era, prec, PRECISION_MAX);
        if (prec < 0) prec = 0;
      } else if (fmt.charCodeAt(i) === 42) {
        i++;
        prec = specField(era, argInt(args[ai++]), PRECISION_MAX);
        if (prec < 0) prec = 0;
      }
    }
    // qualifier
    let q = "";
    const qc = fmt[i];
    if (qc === "h" || qc === "l" || qc === "L" || qc === "z" || qc === "Z" || qc === "t") {
      q = qc;
      i++;
      if (q === fmt[i]) {
        if (q === "l") {
          q = "L";
          i++;
        } else if (q === "h") {
          q = "H";
          i++;
        }
      }
    }
    // conversion
    const conv = fmt[i++];
    let base = 10;
    switch (conv) {
      case "c": {
        const a = args[ai++];
        let ch: string;
        if (typeof a === "string") ch = a.length ? a[0] : "";
        else {
          const code = argInt(a) & 0xff;
          ch = code ? String.fromCharCode(code) : "";
        }
        out += width > 1 ? (flags & LEFT ? ch + rep(" ", width - 1) : rep(" ", width - 1) + ch) : ch;
        continue;
      }
      case "s": {
        const a = args[ai++];
        let s: string;
        if (typeof a === "string") s = a;
        else if (a !== undefined && typeof a === "object") s = "(efault)";
        else {
          const p = BigInt.asUintN(env.bits, toBig(a));
          if (p === 0n) s = "(null)";
          else if (env.era !== "6.1" && p < BigInt(PAGE_SIZE)) s = "(null)";
          else if (p < BigInt(PAGE_SIZE) || isErrOrNull(env, p)) s = "(efault)";
          else s = env.readString?.(p) ?? "(efault)";
        }
        out += stringSpec(s, flags, width, prec);
        continue;
      }
      case "p": {
        let e = i;
        while (e < n && isAlnum(fmt.charCodeAt(e))) e++;
        const ext = fmt.slice(i, e);
        i = e;
        out += pointer(env, ext, args[ai++], flags, width, prec);
        continue;
      }
      case "%":
        out += "%";
        continue;
      case "o":
        base = 8;
        break;
      case "x":
        flags |= SMALL;
        base = 16;
        break;
      case "X":
        base = 16;
        break;
      case "d":
      case "i":
        flags |= SIGN;
        break;
      case "u":
        break;
      default:
        // FORMAT_TYPE_INVALID: vsnprintf stops here
        return out;
    }
    const signed = (flags & SIGN) !== 0;
    const a = args[ai++];
    let v: number | bigint;
    switch (q) {
      case "L":
        v = readInt(a, 64, signed);
        break;
      case "l":
      case "z":
      case "Z":
        v = readInt(a, env.bits, signed);
        break;
      case "t":
        v = readInt(a, env.bits, true);
        break; // ptrdiff_t: read signed, sign-extended to 64 bits
      case "H":
        v = readInt(a, 8, signed);
        break;
      case "h":
        v = readInt(a, 16, signed);
        break;
      default:
        v = readInt(a, 32, signed);
    }
    out += number(v, base, flags, width, prec);
  }
  return out;
}
