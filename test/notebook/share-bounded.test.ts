import { describe, expect, it } from "vitest";
import fc from "fast-check";
import LZString from "lz-string";
import { readFileSync, readdirSync } from "node:fs";
import { decodeShare, decompressBounded, encodeShare, MAX_SHARE_JSON_CHARS, type DecodeProbe } from "../../src/notebook/share.ts";
import { MAX_SOURCE_BYTES } from "../../sandbox/limits.ts";
import { bombLength, bombLink, packFields, writeCodes } from "./lz-craft.ts";

/** lz-string's own decoder, its exception caught as a value, to compare with the bounded one. */
function reference(s: string): string | null | { threw: string } {
  try {
    return LZString.decompressFromEncodedURIComponent(s);
  } catch (e) {
    return { threw: (e as Error).constructor.name };
  }
}
function bounded(s: string, max = Number.MAX_SAFE_INTEGER): string | null | { threw: string } {
  try {
    return decompressBounded(s, max);
  } catch (e) {
    return { threw: (e as Error).constructor.name };
  }
}

const PREFIX = '{"v":"1","l":"first-module","c":"hello","s":"';
const SUFFIX = '"}';
/** The most run codes whose well-formed bomb stays within max characters. */
function runsWithin(max: number): number {
  let k = Math.floor(Math.sqrt(2 * max));
  while (bombLength(k + 1, PREFIX, SUFFIX) <= max) k++;
  while (bombLength(k, PREFIX, SUFFIX) > max) k--;
  return k;
}

describe("the crafted lz-string stream (test helper)", () => {
  it("is the stream lz-string itself writes for a run, and lz-string decodes it to K(K+1)/2 characters", () => {
    for (const k of [1, 2, 3, 4, 7, 8, 100, 1000]) {
      const n = bombLength(k);
      expect(bombLink(k)).toBe(LZString.compressToEncodedURIComponent("a".repeat(n)));
      expect(LZString.decompressFromEncodedURIComponent(bombLink(k, PREFIX, "x", SUFFIX))).toBe(PREFIX + "x".repeat(n) + SUFFIX);
    }
  });

  it("grows quadratically: a link of under 70,000 characters is a well-formed share of 450 million", () => {
    const link = bombLink(30000, PREFIX, "a", SUFFIX);
    expect(link.length).toBeLessThan(70000);
    expect(bombLength(30000, PREFIX, SUFFIX)).toBeGreaterThan(450e6);
  });

  it("writes 16-bit literals and back references as lz-string reads them", () => {
    const s = writeCodes([{ lit: 0x263a }, { lit: 0x41 }, { ref: 3 }, { ref: 5 }, { ref: 8 }]);
    // ☺, A, ☺ (entry 3), ☺A (entry 5 = ☺ + A[0]), then entry 8 is the one being defined: w + w[0] = ☺A + ☺
    expect(LZString.decompressFromEncodedURIComponent(s)).toBe("☺A☺☺A☺A☺");
  });
});

describe("decodeShare bounds the decompression of a hostile link", () => {
  it("a share link that decompresses to 450 million characters is a damaged link (null), after at most the cap", () => {
    const body = bombLink(30000, PREFIX, "a", SUFFIX);
    expect(decodeShare("#share=" + body)).toBeNull();
    const probe: DecodeProbe = { chars: 0 };
    expect(decompressBounded(body, MAX_SHARE_JSON_CHARS, probe)).toBeNull();
    expect(probe.chars).toBeLessThanOrEqual(MAX_SHARE_JSON_CHARS);
    // it stopped at the first entry that would pass the cap: the run's entries grow by one, so it is within one of it
    const k = runsWithin(MAX_SHARE_JSON_CHARS - SUFFIX.length);
    expect(probe.chars).toBe(bombLength(k, PREFIX));
  });

  it("stops at the cap whatever the cap: emitted characters never pass it, and the output is null iff it would", () => {
    const body = bombLink(2000, PREFIX, "a", SUFFIX);
    const full = bombLength(2000, PREFIX, SUFFIX);
    for (const max of [0, 1, PREFIX.length, PREFIX.length + 1, 1000, 123456, full - 2, full - 1]) {
      const probe: DecodeProbe = { chars: 0 };
      expect(decompressBounded(body, max, probe)).toBeNull();
      expect(probe.chars).toBeLessThanOrEqual(max);
    }
    expect(decompressBounded(body, full)).toHaveLength(full);
  });

  it("a link of 10 million characters of literals is stopped by the same cap (every code emits at least one)", () => {
    const probe: DecodeProbe = { chars: 0 };
    // "A" is 6 zero bits: code 0 (an 8-bit literal) of "\0", over and over, one character per code
    expect(decompressBounded("A".repeat(10_000_000), MAX_SHARE_JSON_CHARS, probe)).toBeNull();
    expect(probe.chars).toBe(MAX_SHARE_JSON_CHARS);
    expect(decodeShare("#share=" + "A".repeat(10_000_000))).toBeNull();
  });

  it("a crafted link just within the cap still opens: the bound rejects only what a 256 KiB cell cannot make", () => {
    const k = runsWithin(MAX_SHARE_JSON_CHARS);
    const d = decodeShare("#share=" + bombLink(k, PREFIX, "a", SUFFIX));
    expect(d?.code).toHaveLength(bombLength(k));
    expect(decodeShare("#share=" + bombLink(k + 1, PREFIX, "a", SUFFIX))).toBeNull();
  });

  it("the cap is six characters of JSON per byte of a cell at the source limit, plus 64 KiB for the small fields", () => {
    expect(MAX_SHARE_JSON_CHARS).toBe(6 * MAX_SOURCE_BYTES + 65536);
  });
});

describe("share links made before the bound still open", () => {
  const hello =
    'import { printk, KERN_INFO, module_init } from "linux";\n// shared with a friend\nfunction hi(): number { printk(KERN_INFO + "shared\\n"); return 0; }\nmodule_init(hi);\n';
  // v1 links as the Share button wrote them: the first two by the encoder of cecd242 (lesson, cell, code, profile, mem,
  // cmdline), the third by that of 9f1c1cb (config and CPU limit added), both lz-string 1.5.0
  const oldLinks: [string, string, object][] = [
    [
      "the e2e test's hello cell",
      "#share=N4IgbiBcIIwgNCANlEAzAlgJwM4BcBaAWwHsATAVyQFMEQBjVAC2qSRLp1QyIAcSseAATAhvLBgB2eANbwhAaQCiAJQByAfQCSagGIB5eaUo0NUjMIC+QtFhJEhAHWRSKAD2cBuR5ID0voRwmAEMsajIhAHcLJiFgmwlqSTIfNApJejwMEkkhJgwACgBKSCFJCiIAI2osETEJaRkC5XVtPX0hAGonECDQ8McfZyLPITC8CixcgAZRyx9jKmozSQsC-JGfEEsgA",
      { lesson: "first-module", cell: "hello", code: hello },
    ],
    [
      "unicode code and a machine",
      "#share=N4IgbiBcIIwgNCANlEAzAlgJwM4BcBaAWwHsATAVyQFMEQBjVI6oslkunVGvAAh14BeXgB0QAVt6Akwl6Bkcl6BeDcAAe2IDcIgHZ0ADqgwBmABwA2AgCYAdMbpFUZgKzGAsnQDWqMEQCGSJCXqCZgAMQS4AvkA",
      { lesson: "first-module", cell: "memdemo", code: 'let s = "µ → ✓ 😀";\n', profile: "i386-2.6", mem: "256M", cmdline: "vmalloc=200M" },
    ],
    [
      "control characters, config and CPU limit",
      "#share=N4IgbiBcIIwgNCANlcBbAhkpB7AxgiAdHgKbYC0ATIQM6oD0DABAC4YBGtAOq8xgDsAJs24BXAAxSYzPDgGsATjiTcBhAA6oAHgA4AbAH19AFgr6AdHEQBzVENIcxdxK1QBWKRJABfIA",
      { lesson: "vmalloc", cell: "cell-2", code: "// tabs\t and \u0001 control\n", profile: "x86_64-6.1", config: "debug", cpu: "5000" },
    ],
  ];
  it.each(oldLinks)("an old v1 link opens as it did: %s", (_name, link, want) => {
    expect(decodeShare(link)).toEqual({ profile: undefined, mem: undefined, cmdline: undefined, config: undefined, cpu: undefined, ...want });
    expect(bounded(link.slice(7))).toEqual(reference(link.slice(7)));
  });

  it("a 256 KiB cell round-trips, even one whose JSON is six times its size (control characters)", () => {
    const ascii = "printk(KERN_INFO + `x`);\n".repeat(MAX_SOURCE_BYTES / 32) + "/".repeat(MAX_SOURCE_BYTES % 32);
    const lines = Array.from({ length: MAX_SOURCE_BYTES / 16 }, (_, i) => `// ${String(i).padStart(12, "0")}\n`).join("");
    const worst = "\u0001".repeat(MAX_SOURCE_BYTES);
    for (const code of [ascii.padEnd(MAX_SOURCE_BYTES, "/").slice(0, MAX_SOURCE_BYTES), lines, worst]) {
      expect(new TextEncoder().encode(code).length).toBe(MAX_SOURCE_BYTES);
      const d = { lesson: "first-module", cell: "hello", code, profile: "x86_64-6.1", mem: "4G", cmdline: "x".repeat(4096), config: "debug", cpu: "10000" };
      expect(decodeShare(encodeShare(d))).toEqual(d);
    }
    expect(JSON.stringify(worst).length).toBe(6 * MAX_SOURCE_BYTES + 2);
  });
});

describe("the bounded decoder is byte-compatible with lz-string", () => {
  const cells: string[] = [];
  for (const f of readdirSync("lessons").filter((n) => n.endsWith(".md"))) {
    const md = readFileSync(`lessons/${f}`, "utf8");
    for (const m of md.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)) cells.push(m[1]);
  }

  it("on every bundled lesson cell, as a share link and cut short at every length up to 200 characters", () => {
    expect(cells.length).toBeGreaterThan(50);
    for (const [i, code] of cells.entries()) {
      const d = { lesson: "l", cell: `c${i}`, code };
      const link = encodeShare(d);
      expect(decodeShare(link)).toMatchObject(d);
      const body = link.slice(7);
      expect(bounded(body)).toBe(JSON.stringify({ v: "1", l: "l", c: `c${i}`, s: code }));
      for (let n = 0; n < Math.min(body.length, 200); n++) expect(bounded(body.slice(0, n))).toEqual(reference(body.slice(0, n)));
    }
  });

  it("on compressed random text (ASCII, unicode, repetitive), whole and with one character changed", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 3000 }),
      fc.string({ unit: "grapheme", maxLength: 500 }),
      fc.string({ unit: "binary", maxLength: 500 }), // lone surrogates included
      fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.nat(2000)).map(([s, n]) => s.repeat(n)),
      fc.constantFrom(...cells),
    );
    fc.assert(
      fc.property(text, fc.nat(), fc.nat(63), (t, at, v) => {
        const body = LZString.compressToEncodedURIComponent(t);
        expect(bounded(body)).toEqual(reference(body));
        expect(bounded(body)).toBe(body === "" ? null : t);
        const i = at % Math.max(body.length, 1);
        const changed = body.slice(0, i) + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$"[v] + body.slice(i + 1);
        expect(bounded(changed)).toEqual(reference(changed));
      }),
      { numRuns: 3000 },
    );
  });

  it("on random garbage: any characters (outside the alphabet, spaces), any length", () => {
    const garbage = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$"), maxLength: 400 }),
      fc.string({ maxLength: 100 }),
      fc.string({ unit: fc.constantFrom(..."AQgw+-$ !é\u0000"), maxLength: 60 }),
    );
    let nonEmpty = 0;
    fc.assert(
      fc.property(garbage, (s) => {
        const want = reference(s);
        if (typeof want === "string" && want) nonEmpty++;
        expect(bounded(s)).toEqual(want);
      }),
      { numRuns: 5000 },
    );
    expect(nonEmpty).toBeGreaterThan(0); // some garbage does decode to text, and agrees
  });

  it("a space reads as + (lz-string's replace), so a link whose + became a space still opens", () => {
    const link = encodeShare({ lesson: "first-module", cell: "hello", code: "x".repeat(3000) + "µ→✓".repeat(500) });
    expect(link).toContain("+");
    const spaced = link.replace(/\+/g, " ");
    expect(decodeShare(spaced)).toEqual(decodeShare(link));
    expect(bounded(spaced.slice(7))).toEqual(reference(spaced.slice(7)));
  });

  it("a first code of 3 (no literal) behaves as lz-string's undefined entry", () => {
    // code 3 (2 bits), a literal 'a' (entry 4; entry 5 is undefined + 'a'), entry 5, end
    const odd = packFields([
      [3, 2],
      [0, 3],
      [0x61, 8],
      [5, 3],
      [2, 3],
    ]);
    expect(reference(odd)).toBe("aundefineda");
    expect(bounded(odd)).toBe("aundefineda");
    // code 3, then the entry being defined (w + w[0] with w undefined): lz-string throws, and so does the copy
    const thrown = packFields([
      [3, 2],
      [4, 3],
      [2, 3],
    ]);
    expect(reference(thrown)).toEqual({ threw: "TypeError" });
    expect(bounded(thrown)).toEqual({ threw: "TypeError" });
    // code 3, then entry 3 (undefined): no such entry, null
    const missing = packFields([
      [3, 2],
      [3, 3],
      [2, 3],
    ]);
    expect(reference(missing)).toBeNull();
    expect(bounded(missing)).toBeNull();
    expect(decodeShare("#share=" + odd)).toBeNull();
    expect(decodeShare("#share=" + thrown)).toBeNull();
  });
});
