// vsnprintf's size: vsprintf(env, fmt, args, cap) is exactly the first `cap` characters of the unbounded text,
// whatever the conversions, flags, widths and precisions (it only avoids building what lies past the cap); widths
// and precisions are read as each era's struct printf_spec holds them; a printk record keeps the era's buffer.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { vsprintf, type PrintkArg } from "../../src/kernel/kernel/vsprintf.ts";
import { printkMaxChars, LOG_LINE_MAX, LogBudgetExceeded } from "../../src/kernel/kernel/printk.ts";
import { fakeKernel } from "./printk-fake.ts";

const k61 = fakeKernel("x86_64-6.1", { seed: 1 });
const k34 = fakeKernel("i386-3.4");
const k26 = fakeKernel("x86_64-2.6");

const conv = fc.constantFrom("d", "i", "u", "x", "X", "o", "s", "c", "p", "px", "pK", "pS", "%", "lx", "llu", "zd", "hhd");
const spec = fc.record({
  flags: fc.subarray(["-", "+", " ", "#", "0"]),
  width: fc.option(fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant("*" as const)), { nil: undefined }),
  prec: fc.option(fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant("*" as const)), { nil: undefined }),
  conv,
  text: fc.string({ maxLength: 5 }).map((s) => s.replace(/%/g, "")),
});
const arg = fc.oneof(
  fc.integer({ min: -3000, max: 3000 }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.string({ maxLength: 40 }).map((s) => "s" + s.replace(/\0/g, "")),
);

describe("vsprintf into a bounded buffer", () => {
  it("the capped text is the first cap characters of the whole text, for any format (6.1, 3.4, 2.6)", () => {
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 5 }),
        fc.array(arg, { maxLength: 16 }),
        fc.integer({ min: 0, max: 4000 }),
        fc.constantFrom(k61, k34, k26),
        (specs, args, cap, k) => {
          let fmt = "";
          for (const s of specs) {
            fmt +=
              s.text + "%" + s.flags.join("") + (s.width === undefined ? "" : String(s.width)) + (s.prec === undefined ? "" : "." + String(s.prec)) + s.conv;
          }
          const full = vsprintf(k.log.env, fmt, args as PrintkArg[]);
          expect(vsprintf(k.log.env, fmt, args as PrintkArg[], cap)).toBe(full.slice(0, cap));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("a width of 8 MiB with a small cap builds only the cap (right- and left-justified, numbers and strings)", () => {
    const env = k61.log.env;
    expect(vsprintf(env, "%*d|", [8 << 20, 42], 10)).toBe(" ".repeat(10));
    expect(vsprintf(env, "%-*d|", [8 << 20, 42], 10)).toBe("42" + " ".repeat(8));
    expect(vsprintf(env, "%*s", [8 << 20, "abc"], 5)).toBe(" ".repeat(5));
    expect(vsprintf(env, "%-*s", [8 << 20, "abc"], 5)).toBe("abc  ");
    expect(vsprintf(env, "%.*s", [5, "x".repeat(1 << 20)], 100)).toBe("xxxxx");
  });

  it("widths per era: 6.1 clamps to 2^23 - 1; 3.4 holds them in s16; 2.6.32 in int", () => {
    const cap = 40000;
    expect(vsprintf(k61.log.env, "%*d", [1 << 23, 1], cap).length).toBe(cap); // clamped to 8388607, cut at the cap
    expect(vsprintf(k34.log.env, "[%*d]", [1 << 23, 1], cap)).toBe("[1]"); // (s16)0x800000 == 0
    expect(vsprintf(k34.log.env, "[%*d]", [0x10005, 1], cap)).toBe("[    1]"); // (s16)0x10005 == 5
    // (s16)40000 == -25536: from '*' that reads as left-justified, -(-25536) wide; from digits, no padding at all
    expect(vsprintf(k34.log.env, "[%*d]", [40000, 1], cap)).toBe("[1" + " ".repeat(25535) + "]");
    expect(vsprintf(k34.log.env, "[%40000d]", [1], cap)).toBe("[1]");
    expect(vsprintf(k26.log.env, "%*d", [40000, 1], cap).length).toBe(cap);
  });

  it("printk keeps the era's buffer: LOG_LINE_MAX - 1 characters in 6.1 and 3.4, printk_buf's 1023 in 2.6", () => {
    expect(LOG_LINE_MAX).toBe(992);
    expect(printkMaxChars("6.1")).toBe(991);
    expect(printkMaxChars("3.4")).toBe(991);
    expect(printkMaxChars("2.6")).toBe(1023);
    const k = fakeKernel("x86_64-6.1");
    const n = k.log.printk("\u00016%s\n", "q".repeat(5000));
    expect(n).toBe(989); // 991 formatted, the level prefix stripped
    expect(k.log.records[k.log.records.length - 1]!.text).toBe("q".repeat(989));
  });

  it("6.1: a KERN_CONT that would pass LOG_LINE_MAX starts a record of its own", () => {
    const k = fakeKernel("x86_64-6.1");
    k.log.printk("\u00016%s", "a".repeat(900));
    k.log.printk("\u0001c%s", "b".repeat(50));
    k.log.printk("\u0001c%s\n", "c".repeat(100));
    const texts = k.log.records.slice(-2).map((r) => r.text);
    expect(texts).toEqual(["a".repeat(900) + "b".repeat(50), "c".repeat(100)]);
  });

  it("a message past the caller's budget is refused before it is stored", () => {
    const k = fakeKernel("x86_64-6.1");
    const before = k.log.records.length;
    k.log.budget = 10;
    expect(() => k.log.printk("\u00016%s\n", "too long for it")).toThrow(LogBudgetExceeded);
    expect(k.log.records.length).toBe(before);
    k.log.printk("\u00016short\n");
    expect(k.log.records.length).toBe(before + 1);
  });
});
