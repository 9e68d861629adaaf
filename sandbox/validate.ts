// Argument checks, one per parameter type of the table. A check reads only the handle's type and primitive
// value (never a property of a guest object), so getters, Proxies and valueOf tricks never run and never fool
// it. A failed check is a TypeError naming the function and the parameter, thrown at the cell's line:
//   kmalloc: parameter 'size' must be a non-negative integer number, got "100" (string)

import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import type { Scalar } from "./table.ts";

export class ArgError extends Error {}

/**
 * Bigints wider than this are never converted on the host: the library reads a guest bigint through its decimal
 * text, which QuickJS makes in time quadratic in the width (kfree(1n << 1000000n) held the host 12 s in one call,
 * past every limit; the isolated worker's watchdog then lost the run's log). No kernel value is wider than 64 bits.
 */
export const WIDE_BIGINT_BITS = 256;
/** What a message says for such a bigint. */
export const WIDE_BIGINT_TEXT = `a bigint of more than ${WIDE_BIGINT_BITS} bits`;
/** 32-bit two's complement limbs of a bigint that is not wide: [-2^287, 2^287) (9 limbs) still is read. */
const MAX_LIMBS = Math.ceil((WIDE_BIGINT_BITS + 1) / 32) + 1;

const limbReaders = new WeakMap<QuickJSContext, (h: QuickJSHandle) => number>();

/**
 * How this context's bigints are measured without converting them (the bridge gives RawValues.bigintLimbs where the
 * module's memory layout was checked). Without one, bigints are read as before, whatever their width.
 */
export function setBigintLimbs(ctx: QuickJSContext, limbs: ((h: QuickJSHandle) => number) | undefined): void {
  if (limbs) limbReaders.set(ctx, limbs);
  else limbReaders.delete(ctx);
}

/**
 * The most characters of string one kernel call reads from the guest, all its string arguments together (the string
 * argument limit). The host copies a guest string twice to read it (UTF-8 in QuickJS's heap, then decoded), in one
 * call nothing interrupts: `printk("%s", s)` with a 60 MB string took ~1 s a call, and a loop of them (or one call
 * passing it 10,000 times) held the host past every limit. The kernel prints at most ~1,000 characters of a message;
 * 4 Mi characters are ~10 ms to read.
 */
export const MAX_CALL_STRING_CHARS = 1 << 22;
/**
 * The most arguments after a printk-style format one kernel call takes (the argument count limit). A format the
 * kernel prints is at most ~1,000 characters, which consume at most ~700 arguments (`%*c`: 2 in 3 characters); the
 * host passes the arguments on to the kernel's vsprintf, and ~10,000 of them (printk(fmt, ...Array(10000)))
 * overflowed the host's stack inside the call, reported as the module's nesting.
 */
export const MAX_PRINTK_ARGS = 1024;
/** A stack text longer than this is not read (a real one of the deepest stack QuickJS holds is ~100 KB). */
export const MAX_STACK_TEXT_CHARS = 1 << 20;
/** A thrown string or an error's message longer than this is described by its length, not read. */
export const MAX_MESSAGE_CHARS = 1 << 16;

const lengthReaders = new WeakMap<QuickJSContext, (h: QuickJSHandle) => number | undefined>();

/** How this context's strings are measured without reading them (RawValues.stringLength where it was checked). */
export function setStringLength(ctx: QuickJSContext, length: ((h: QuickJSHandle) => number | undefined) | undefined): void {
  if (length) lengthReaders.set(ctx, length);
  else lengthReaders.delete(ctx);
}

/** The length of guest string h, read without converting it where the context's layout allows. */
export function guestStringLength(ctx: QuickJSContext, h: QuickJSHandle): number {
  const n = lengthReaders.get(ctx)?.(h);
  if (n !== undefined) return n;
  const l = ctx.getProp(h, "length"); // a string primitive's own length: no guest code runs
  try {
    return ctx.getNumber(l);
  } finally {
    l.dispose();
  }
}

/** Characters of string the current kernel call has read (newCallStrings() at each call's arguments). */
let callChars = 0;

/** A kernel call's arguments are about to be read: its string budget starts again. */
export function newCallStrings(): void {
  callChars = 0;
}

/** Guest string h, within the call's string argument limit, or an ArgError naming the function and the argument. */
export function readString(ctx: QuickJSContext, h: QuickJSHandle, fn: string, what: string): string {
  const n = guestStringLength(ctx, h);
  callChars += n;
  if (callChars > MAX_CALL_STRING_CHARS)
    throw new ArgError(
      n > MAX_CALL_STRING_CHARS
        ? `${fn}: ${what} is a string of ${n} characters, past the ${MAX_CALL_STRING_CHARS} characters of strings a kernel call may take in all (the string argument limit)`
        : // within the limit alone: the call's strings before it took the rest (it is not this argument that is long)
          `${fn}: ${what} (a string of ${n} characters) brings the call's strings to ${callChars} characters, past the ${MAX_CALL_STRING_CHARS} characters of strings a kernel call may take in all (the string argument limit)`,
    );
  return ctx.getString(h);
}

/** Guest string h when it has at most max characters, else undefined (not read). */
export function shortString(ctx: QuickJSContext, h: QuickJSHandle, max: number): string | undefined {
  return guestStringLength(ctx, h) <= max ? ctx.getString(h) : undefined;
}

/** Guest bigint h on the host, or undefined when it is wider than WIDE_BIGINT_BITS (it is then not read at all). */
export function guestBigInt(ctx: QuickJSContext, h: QuickJSHandle): bigint | undefined {
  const limbs = limbReaders.get(ctx);
  if (limbs !== undefined && limbs(h) > MAX_LIMBS) return undefined;
  return ctx.getBigInt(h);
}

/** A guest bigint's text for a message: `5n`, or WIDE_BIGINT_TEXT. */
export function bigintText(ctx: QuickJSContext, h: QuickJSHandle): string {
  const v = guestBigInt(ctx, h);
  return v === undefined ? WIDE_BIGINT_TEXT : `${v}n`;
}

/** A short, safe description of a guest value for an error message (reads primitives only). */
export function describeHandle(ctx: QuickJSContext, h: QuickJSHandle): string {
  const t = ctx.typeof(h);
  switch (t) {
    case "string": {
      const s = shortString(ctx, h, 4096);
      if (s === undefined) return `a string of ${guestStringLength(ctx, h)} characters`;
      return `${JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s)} (string)`;
    }
    case "number":
      return `${ctx.getNumber(h)} (number)`;
    case "bigint": {
      const v = guestBigInt(ctx, h);
      return v === undefined ? WIDE_BIGINT_TEXT : `${v}n (bigint)`;
    }
    case "boolean":
      return `${ctx.dump(h)} (boolean)`;
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    case "object":
      return ctx.sameValue(h, ctx.null) ? "null" : "an object";
    default:
      return t;
  }
}

const WANT: Record<Scalar, string> = {
  addr: "an address (a bigint such as 0xc0000000n; NULL is 0n)",
  size: "a non-negative integer number",
  uint: "a non-negative integer number",
  int: "an integer number",
  gfp: "a gfp_t (a non-negative integer number such as GFP_KERNEL)",
  order: "a non-negative integer number",
  bool: "a boolean",
  string: "a string",
};

export function fail(fn: string, param: string, want: string, ctx: QuickJSContext, h: QuickJSHandle): never {
  throw new ArgError(`${fn}: parameter '${param}' must be ${want}, got ${describeHandle(ctx, h)}`);
}

/** Read a scalar argument, or throw ArgError. `addrBits` bounds addresses to the architecture's width. */
export function readScalar(
  ctx: QuickJSContext,
  h: QuickJSHandle,
  type: Scalar,
  fn: string,
  param: string,
  addrBits: number,
): number | bigint | string | boolean {
  const t = ctx.typeof(h);
  switch (type) {
    case "addr":
      if (t !== "bigint") fail(fn, param, WANT.addr, ctx, h);
      return checkAddr(guestBigInt(ctx, h) ?? wideAddr(fn, param, addrBits), fn, param, addrBits);
    case "size":
    case "uint":
    case "order":
    case "gfp":
    case "int":
      if (t !== "number") fail(fn, param, WANT[type], ctx, h);
      return readNumber(ctx, h, type, fn, param);
    case "bool":
      if (t !== "boolean") fail(fn, param, WANT.bool, ctx, h);
      return ctx.dump(h) as boolean;
    case "string":
      if (t !== "string") fail(fn, param, WANT.string, ctx, h);
      return readString(ctx, h, fn, `parameter '${param}'`);
  }
}

/** 2^bits, made once per width (a check per address argument would otherwise make two bigints). */
const LIMITS: bigint[] = [];
function addrLimit(bits: number): bigint {
  return (LIMITS[bits] ??= 1n << BigInt(bits));
}

/** An address argument's range: the architecture's width (a bigint read from the guest, or decoded by the bridge). */
export function checkAddr(v: bigint, fn: string, param: string, addrBits: number): bigint {
  if (v >= 0n && v < addrLimit(addrBits)) return v;
  throw new ArgError(`${fn}: parameter '${param}' must be an address of ${addrBits} bits, got 0x${v < 0n ? "-" + (-v).toString(16) : v.toString(16)}n`);
}

function wideAddr(fn: string, param: string, addrBits: number): never {
  throw new ArgError(`${fn}: parameter '${param}' must be an address of ${addrBits} bits, got ${WIDE_BIGINT_TEXT}`);
}

/**
 * A numeric argument the prelude's wrapper has already seen to be a number (typeof in the guest): the same
 * checks as readScalar without asking QuickJS for the type again.
 */
export function readNumber(ctx: QuickJSContext, h: QuickJSHandle, type: "size" | "uint" | "order" | "gfp" | "int", fn: string, param: string): number {
  const v = ctx.getNumber(h);
  if (!Number.isSafeInteger(v) || (type !== "int" && (v < 0 || (type === "gfp" && v > 0xffffffff)))) fail(fn, param, WANT[type], ctx, h);
  return v;
}

/** printk's variadic arguments: a number, a bigint or a string each (what %d/%x, %px/%lx and %s take). */
export function readPrintkArg(ctx: QuickJSContext, h: QuickJSHandle, fn: string, index: number): number | bigint | string {
  const t = ctx.typeof(h);
  if (t === "number") return ctx.getNumber(h);
  if (t === "bigint") {
    const v = guestBigInt(ctx, h);
    if (v !== undefined) return v;
    throw new ArgError(`${fn}: argument ${index + 1} after the format must be a number, a bigint of at most 64 bits or a string, got ${WIDE_BIGINT_TEXT}`);
  }
  if (t === "string") return readString(ctx, h, fn, `argument ${index + 1} after the format`);
  throw new ArgError(`${fn}: argument ${index + 1} after the format must be a number, a bigint or a string, got ${describeHandle(ctx, h)}`);
}
