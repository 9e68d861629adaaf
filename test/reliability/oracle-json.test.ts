// The oracle's "RunResult survives JSON" (fuzz/oracle.ts jsonFailure): the walk that vouches for plain JSON data
// without writing it must fail exactly where JSON.stringify throws, with stringify's own message.
import { describe, expect, it } from "vitest";
import { judge, jsonFailure } from "../../fuzz/oracle.ts";
import type { RunResult } from "../../sandbox/result.ts";

function stringifyFailure(v: unknown): string | undefined {
  try {
    JSON.stringify(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

class Holder {
  constructor(readonly value: unknown) {}
}

const cyclic = () => {
  const a: Record<string, unknown> = { name: "a", list: [1, 2] };
  (a.list as unknown[]).push({ back: a });
  return a;
};
let deep: unknown = { leaf: 1n };
for (let i = 0; i < 100; i++) deep = { next: deep };
let deepOk: unknown = { leaf: "x" };
for (let i = 0; i < 100; i++) deepOk = [deepOk];

const cases: [string, () => unknown][] = [
  [
    "plain data: strings, numbers, nulls, nested arrays and objects",
    () => ({ dmesg: ["a", "b\u0000\ud800"], n: 1, nan: NaN, z: null, u: undefined, o: { a: [[], {}] } }),
  ],
  ["a bigint deep inside", () => ({ reports: [{ kind: "x", extra: { addr: 0x1000n } }] })],
  ["a top-level bigint", () => 5n],
  ["a cycle through an array", cyclic],
  [
    "a shared object that is no cycle (a DAG)",
    () => {
      const s = { x: 1 };
      return { a: s, b: [s, s] };
    },
  ],
  [
    "a getter that throws",
    () =>
      Object.defineProperty({}, "bad", {
        enumerable: true,
        get: () => {
          throw new Error("getter threw");
        },
      }),
  ],
  [
    "a non-enumerable getter that throws (stringify never reads it)",
    () =>
      Object.defineProperty({ ok: 1 }, "bad", {
        enumerable: false,
        get: () => {
          throw new Error("no");
        },
      }),
  ],
  [
    "a toJSON that throws",
    () => ({
      t: {
        toJSON: () => {
          throw new Error("toJSON threw");
        },
      },
    }),
  ],
  ["a toJSON that hides a bigint", () => ({ t: { big: 1n, toJSON: () => "fine" } })],
  ["a class instance holding a bigint", () => ({ h: new Holder(2n) })],
  ["a class instance holding strings", () => ({ h: new Holder(["x"]) })],
  ["a Map holding a bigint (stringify writes {})", () => ({ m: new Map([["k", 1n]]) })],
  ["a BigInt64Array", () => ({ t: new BigInt64Array(2) })],
  ["a Uint8Array", () => ({ t: new Uint8Array(3) })],
  ["a function and a symbol as values", () => ({ f: () => 1, s: Symbol("s"), [Symbol("k")]: 1n })],
  ["a boxed bigint", () => ({ b: Object(3n) })],
  ["nesting past the walk's depth with a bigint at the bottom", () => deep],
  ["nesting past the walk's depth, plain", () => deepOk],
  ["an object with a null prototype holding a bigint", () => Object.assign(Object.create(null), { a: 1n })],
  [
    "an array with a getter element that throws",
    () =>
      Object.defineProperty([1, 2], 1, {
        get: () => {
          throw new Error("element threw");
        },
      }),
  ],
];

describe("jsonFailure: where JSON.stringify throws, with its message", () => {
  for (const [name, make] of cases) {
    it(name, () => {
      expect(jsonFailure(make())).toBe(stringifyFailure(make()));
    });
  }
  it("the failing cases above do fail (a walk that vouched for everything would not pass this file)", () => {
    const failing = cases.filter(([, make]) => stringifyFailure(make()) !== undefined).map(([n]) => n);
    expect(failing.length).toBeGreaterThanOrEqual(9);
    for (const [, make] of cases) if (stringifyFailure(make()) !== undefined) expect(jsonFailure(make())).toBeDefined();
  });
  it("judge reports a RunResult that does not survive JSON, with stringify's message", () => {
    const r = { profile: "x86_64-6.1", initReturn: 0, dmesg: [], bootLog: [], reports: [], extra: { a: 1n } } as unknown as RunResult;
    expect(judge(r, "6.1").failures).toEqual([`RunResult does not survive JSON: ${stringifyFailure(r)}`]);
  });
});
