// The kernel's inspection API in JSON form, for the views, the grader and `--json` output.
// bigint addresses become "0x..." strings so that the result survives JSON.stringify unchanged.

import type { Layout } from "./types.ts";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** 0x-prefixed lower-case hex, the form every JSON address takes. */
export function hex(v: bigint | number): string {
  return "0x" + v.toString(16);
}

/** Deep-convert a value for JSON: bigint -> hex string, typed arrays -> arrays, Maps -> objects. */
export function toJson(v: unknown): Json {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "bigint":
      return hex(v);
    case "number":
      return Number.isFinite(v) ? v : String(v);
    case "string":
    case "boolean":
      return v;
    case "function":
    case "symbol":
      return null;
  }
  if (Array.isArray(v)) return v.map(toJson);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (v instanceof Map) {
    const o: { [k: string]: Json } = {};
    for (const [key, val] of v) o[String(key)] = toJson(val);
    return o;
  }
  const o: { [k: string]: Json } = {};
  for (const [key, val] of Object.entries(v as object)) {
    if (val !== undefined) o[key] = toJson(val);
  }
  return o;
}

export function layoutToJson(l: Layout): Json {
  return toJson(l);
}
