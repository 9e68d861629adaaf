import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseCmdline, parseSize, memparse } from "../../../src/kernel/kernel/params.ts";

describe("parseCmdline (next_arg rules)", () => {
  it("splits key=value and bare flags", () => {
    const m = parseCmdline("console=ttyS0 loglevel=8 nokaslr vmalloc=200M");
    expect(m.get("console")).toBe("ttyS0");
    expect(m.get("nokaslr")).toBe(true);
    expect(m.get("vmalloc")).toBe("200M");
  });
  it("the last occurrence wins", () => {
    expect(parseCmdline("mem=512M mem=256M").get("mem")).toBe("256M");
  });
  it("quotes may wrap a value with spaces; a trailing space is harmless", () => {
    const m = parseCmdline('dyndbg="file foo.c +p" console=ttyAMA0 loglevel=8 ');
    expect(m.get("dyndbg")).toBe("file foo.c +p");
    expect(m.get("loglevel")).toBe("8");
  });
  it("stops at --", () => {
    expect(parseCmdline("quiet -- init_arg=1").has("init_arg")).toBe(false);
  });
});

describe("memparse (kernel) and parseSize (CLI)", () => {
  it("memparse takes K/M/G/T/P/E in either case, hex and octal, and ignores trailing garbage", () => {
    expect(memparse("200M").value).toBe(200 * 1024 * 1024);
    expect(memparse("1g").value).toBe(1 << 30);
    expect(memparse("0x1000").value).toBe(4096);
    expect(memparse("010").value).toBe(8);
    expect(memparse("64Kfoo").value).toBe(65536);
    expect(memparse("512M@0x40000000").rest).toBe("@0x40000000");
  });
  it("memparse of garbage is 0, as in the kernel", () => {
    expect(memparse("abc").value).toBe(0);
    expect(memparse("-1").value).toBe(0);
  });
  it("parseSize rejects garbage with a clear message", () => {
    for (const bad of ["abc", "-1", "", "12Q", "1.5G", "M"]) expect(() => parseSize(bad)).toThrow(/invalid size/);
  });
  it("parseSize accepts suffixes, optional B/iB, and hex", () => {
    expect(parseSize("163840K")).toBe(163840 * 1024);
    expect(parseSize("1GiB")).toBe(1 << 30);
    expect(parseSize("512mb")).toBe(512 * 1024 * 1024);
    expect(parseSize("0x20000000")).toBe(0x20000000);
    expect(parseSize("4096")).toBe(4096);
  });
  it("parseSize(nK) = n*1024 and agrees with memparse on valid input", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 30 }), fc.constantFrom("", "K", "M", "k", "m"), (n, suf) => {
        const s = `${n}${suf}`;
        const v = parseSize(s);
        if (s.length > 1 && s.startsWith("0")) return; // leading 0 is octal for memparse
        expect(memparse(s).value).toBe(v);
      }),
    );
  });
});
