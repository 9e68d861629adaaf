import { describe, expect, it } from "vitest";
import { vsprintf, siphash24, type PrintkArg } from "../../src/kernel/kernel/vsprintf.ts";
import { fakeKernel } from "./printk-fake.ts";

const k64 = fakeKernel("x86_64-6.1", { seed: 1 });
const k32 = fakeKernel("i386-6.1", { seed: 1 });
const kOld64 = fakeKernel("x86_64-2.6");
const kOld32 = fakeKernel("i386-3.4");
const f = (fmt: string, ...a: PrintkArg[]) => vsprintf(k64.log.env, fmt, a);
const f32 = (fmt: string, ...a: PrintkArg[]) => vsprintf(k32.log.env, fmt, a);

describe("vsprintf integers: flags, width, precision as lib/vsprintf.c number()", () => {
  it.each<[string, PrintkArg[], string]>([
    ["%d", [42], "42"],
    ["%i", [-42], "-42"],
    ["%5d", [42], "   42"],
    ["%-5d|", [42], "42   |"],
    ["%05d", [42], "00042"],
    ["%05d", [-42], "-0042"],
    ["%+d", [42], "+42"],
    ["% d", [42], " 42"],
    ["%+d", [-1], "-1"],
    ["%x", [255], "ff"],
    ["%X", [255], "FF"],
    ["%#x", [255], "0xff"],
    ["%#X", [255], "0XFF"],
    ["%#x", [0], "0x0"], // the kernel prints the prefix for zero too
    ["%#08x", [255], "0x0000ff"],
    ["%#10x|", [255], "      0xff|"],
    ["%o", [8], "10"],
    ["%#o", [8], "010"],
    ["%#o", [0], "0"],
    ["%.3d", [5], "005"],
    ["%.0d", [0], "0"], // unlike C, a digit is always printed
    ["%.d", [7], "7"],
    ["%8.3d", [5], "     005"],
    ["%-8.3d|", [5], "005     |"],
    ["%08.3d", [5], "00000005"], // ZEROPAD is not cancelled by a precision in the kernel
    ["%u", [-1], "4294967295"],
    ["%%", [], "%"],
    ["%5%", [], "%"],
    ["%d%%", [50], "50%"],
  ])("%s of %j -> %j", (fmt, args, want) => {
    expect(f(fmt, ...args)).toBe(want);
  });

  it("takes width and precision from the arguments with *", () => {
    expect(f("%*d|", 6, 42)).toBe("    42|");
    expect(f("%-*d|", 6, 42)).toBe("42    |");
    expect(f("%*d|", -6, 42)).toBe("42    |"); // negative width means left-justify
    expect(f("%.*s|", 3, "abcdef")).toBe("abc|");
    expect(f("%*.*s|", 5, 2, "abcdef")).toBe("   ab|");
    expect(f("%.*d", -3, 7)).toBe("7"); // negative precision clamps to 0
  });

  it("wraps by the C type: %d is a 32-bit int, %l follows BITS_PER_LONG", () => {
    expect(f("%d", 2 ** 31 + 5)).toBe("-2147483643");
    expect(f("%ld", 2 ** 31 + 5)).toBe("2147483653");
    expect(f32("%ld", 2 ** 31)).toBe("-2147483648");
    expect(f32("%lu", 2 ** 32 + 1)).toBe("1");
    expect(f("%lu", 2 ** 32 + 1)).toBe("4294967297");
    expect(f("%lld", 2n ** 63n)).toBe("-9223372036854775808");
    expect(f32("%llu", -1)).toBe("18446744073709551615");
    expect(f32("%lx", -1)).toBe("ffffffff");
    expect(f("%lx", -1)).toBe("ffffffffffffffff");
    expect(f("%lx", 0xffff888000000000n)).toBe("ffff888000000000");
    expect(f("%hd", 65535)).toBe("-1");
    expect(f("%hu", 65537)).toBe("1");
    expect(f("%hhu", 257)).toBe("1");
    expect(f("%hhd", 200)).toBe("-56");
    expect(f32("%zu", 2 ** 32)).toBe("0");
    expect(f("%zu", 2 ** 32)).toBe("4294967296");
    expect(f32("%zd", 0xffffffff)).toBe("-1");
    // ptrdiff_t is read signed and sign-extended even for %tx: a kernel quirk
    expect(f32("%tx", -1)).toBe("ffffffffffffffff");
    expect(f("%Lu", 3)).toBe("3");
  });

  it("reads a missing numeric argument as 0 and numeric strings as numbers", () => {
    expect(f("%d %d", 1)).toBe("1 0");
    expect(f("%d", "17")).toBe("17");
    expect(f("%x", "0x1f")).toBe("1f");
  });
});

describe("vsprintf %c %s and invalid conversions", () => {
  it("prints characters with padding", () => {
    expect(f("%c", 65)).toBe("A");
    expect(f("%3c", 65)).toBe("  A");
    expect(f("%-3c|", 65)).toBe("A  |");
    expect(f("%c", "xyz")).toBe("x");
  });
  it("prints strings with width and precision; NULL and bad pointers as the era does", () => {
    expect(f("%s", "hi")).toBe("hi");
    expect(f("%5s|", "hi")).toBe("   hi|");
    expect(f("%-5s|", "hi")).toBe("hi   |");
    expect(f("%05s", "hi")).toBe("   hi"); // ZEROPAD means nothing for strings
    expect(f("%.1s", "hi")).toBe("h");
    expect(f("%s")).toBe("(null)");
    expect(f("%s", 0)).toBe("(null)");
    expect(f("%s", 16)).toBe("(efault)");
    expect(f("%s", -12)).toBe("(efault)"); // ERR_PTR(-ENOMEM)
    expect(vsprintf(kOld64.log.env, "%s", [16])).toBe("(null)"); // before check_pointer() existed
    expect(f("%8s|")).toBe("  (null)|");
  });
  it("stops at an unsupported conversion, as FORMAT_TYPE_INVALID does", () => {
    expect(f("a %y b")).toBe("a ");
    expect(f("100%")).toBe("100");
    expect(f("n=%n", 1)).toBe("n=");
  });
});

describe("vsprintf %p family", () => {
  it("hashes %p from 4.15: 64-bit shows the low 32 bits zero-padded to 16 digits", () => {
    const s = f("%p", 0xffff888006222000n);
    expect(s).toMatch(/^00000000[0-9a-f]{8}$/);
    expect(f("%p", 0xffff888006222000n)).toBe(s); // same key, same value
    expect(f("%p", 0xffff888006223000n)).not.toBe(s);
    const other = fakeKernel("x86_64-6.1", { seed: 2 });
    expect(vsprintf(other.log.env, "%p", [0xffff888006222000n])).not.toBe(s);
    expect(f("%p", 0)).toBe("0000000000000000"); // NULL prints raw
    expect(f("%p", -12)).toBe("fffffffffffffff4"); // ERR_PTR prints raw
    expect(f32("%p", 0xc2da1000)).toMatch(/^[0-9a-f]{8}$/);
    expect(f32("%p", 0xc2da1000)).not.toBe("c2da1000");
  });
  it("prints %px raw at pointer width and %pK like %p (kptr_restrict=0)", () => {
    expect(f("%px", 0xffff888006222000n)).toBe("ffff888006222000");
    expect(f("%px", 0x10)).toBe("0000000000000010");
    expect(f32("%px", 0xc2da1000)).toBe("c2da1000");
    expect(f32("%px", 0x10)).toBe("00000010");
    expect(f("%pK", 0xffff888006222000n)).toBe(f("%p", 0xffff888006222000n));
    expect(f("%20px|", 0x10)).toBe("                  10|"); // an explicit width drops the zero padding
  });
  it("prints %p raw with no_hash_pointers and before 4.15, and NULL as (null) in the old eras", () => {
    const nh = fakeKernel("x86_64-6.1", { cmdline: ["no_hash_pointers"] });
    expect(vsprintf(nh.log.env, "%p", [0xffff888006222000n])).toBe("ffff888006222000");
    expect(vsprintf(kOld64.log.env, "%p", [0xffff880006222000n])).toBe("ffff880006222000");
    expect(vsprintf(kOld32.log.env, "%p", [0xc0001000])).toBe("c0001000");
    expect(vsprintf(kOld64.log.env, "%p", [0])).toBe("          (null)");
    expect(vsprintf(kOld32.log.env, "%p", [0])).toBe("  (null)");
    expect(vsprintf(kOld32.log.env, "%pK", [0])).toBe("00000000");
  });
  it("prints %pa/%pad as 0x + 2*sizeof(phys_addr_t) digits, ignoring the width", () => {
    expect(f("%pa", 0x1000)).toBe("0x0000000000001000");
    expect(f("%pap", 0xfed00000)).toBe("0x00000000fed00000");
    expect(f("%pad", 0x1000)).toBe("0x0000000000001000");
    expect(f32("%pa", 0xfed00000)).toBe("0xfed00000");
    expect(f32("%pad", 0x1000)).toBe("0x00001000");
    expect(f("%30pa", 1)).toBe("0x0000000000000001");
    expect(f("%pa")).toBe("(null)");
  });
  it("prints %pS/%ps/%pB through kallsyms, and a string symbol as-is", () => {
    const a = k64.kallsyms.frameAddress("__alloc_pages+0x2a9/0x330");
    expect(f("%pS", a)).toBe("__alloc_pages+0x2a9/0x330");
    expect(f("%pB", a)).toBe("__alloc_pages+0x2a9/0x330");
    expect(f("%ps", a)).toBe("__alloc_pages");
    const m = k64.kallsyms.addModuleSymbol("mem_module_init", "cell", 0x40);
    expect(m).toBeGreaterThanOrEqual(0xffffffffc0000000n);
    expect(f("%pS", m + 0x1cn)).toBe("mem_module_init+0x1c/0x40 [cell]");
    expect(f("%ps", m + 0x1cn)).toBe("mem_module_init [cell]");
    expect(f("%pS", "do_one_initcall+0x59/0x220")).toBe("do_one_initcall+0x59/0x220");
    expect(f("%pS", 0x1234)).toBe("0x1234");
    expect(f("[%pSfoo]", a)).toBe("[__alloc_pages+0x2a9/0x330]"); // letters after %p belong to the extension
  });
  it("prints %pGg with the era's GFP table; older eras had no %pG", () => {
    expect(f("mode:%#x(%pGg)", 0xcc0, 0xcc0)).toBe("mode:0xcc0(GFP_KERNEL)");
    expect(f("%pGg", 0xa20)).toBe("GFP_ATOMIC");
    expect(f("%pGp", 0)).toBe("(%pG?)");
    expect(vsprintf(kOld32.log.env, "%pGg", [0xd0])).toBe("000000d0");
  });
  it("prints %*pbl bitmap lists and %pV nested formats", () => {
    expect(f("%*pbl", 1, 1)).toBe("0");
    expect(f("%*pbl", 8, 0b10111)).toBe("0-2,4");
    expect(f("%*pbl", 64, (1n << 63n) | 1n)).toBe("0,63");
    expect(f("nodemask=%*pbl", 1, "(null)")).toBe("nodemask=(null)");
    expect(f("%*pb", 40, 0x1_0000_00ffn)).toBe("01,000000ff");
    expect(f("%s: %pV, mode", "insmod", { fmt: "page allocation failure: order:%u", args: [11] })).toBe("insmod: page allocation failure: order:11, mode");
  });
});

describe("siphash24 (the %p hash)", () => {
  const key = Array.from({ length: 16 }, (_, i) => i);
  const k0 = key.slice(0, 8).reduceRight((a, b) => (a << 8n) | BigInt(b), 0n);
  const k1 = key.slice(8).reduceRight((a, b) => (a << 8n) | BigInt(b), 0n);
  it("matches the reference test vectors of the SipHash paper", () => {
    expect(siphash24(k0, k1, new Uint8Array(0))).toBe(0x726fdb47dd0e0e31n);
    expect(
      siphash24(
        k0,
        k1,
        Uint8Array.from({ length: 15 }, (_, i) => i),
      ),
    ).toBe(0xa129ca6149be45e5n);
  });
});
