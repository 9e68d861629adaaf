// Argument checks, one per parameter type of the table. A check reads only the handle's type and primitive
// value (never a property of a guest object), so getters, Proxies and valueOf tricks never run and never fool
// it. A failed check is a TypeError naming the function and the parameter, thrown at the cell's line:
//   kmalloc: parameter 'size' must be a non-negative integer number, got "100" (string)

import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import type { Scalar } from "./table.ts";

export class ArgError extends Error {}

/** A short, safe description of a guest value for an error message (reads primitives only). */
export function describeHandle(ctx: QuickJSContext, h: QuickJSHandle): string {
  const t = ctx.typeof(h);
  switch (t) {
    case "string": {
      const s = ctx.getString(h);
      return `${JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s)} (string)`;
    }
    case "number":
      return `${ctx.getNumber(h)} (number)`;
    case "bigint":
      return `${ctx.getBigInt(h)}n (bigint)`;
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
      return checkAddr(ctx.getBigInt(h), fn, param, addrBits);
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
      return ctx.getString(h);
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
  if (t === "bigint") return ctx.getBigInt(h);
  if (t === "string") return ctx.getString(h);
  throw new ArgError(`${fn}: argument ${index + 1} after the format must be a number, a bigint or a string, got ${describeHandle(ctx, h)}`);
}
