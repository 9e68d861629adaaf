import { describe, expect, it } from "vitest";
import { KERN_CONT, KERN_ERR, KERN_INFO, KERN_WARNING, formatTimestamp, kernLevels, pr_cont, pr_info, pr_warn } from "../../src/kernel/kernel/printk.ts";
import { Clock, initialJiffies, jiffies_to_msecs, msecs_to_jiffies, usecs_to_jiffies } from "../../src/kernel/kernel/time.ts";
import { fakeKernel } from "./printk-fake.ts";

describe("printk levels", () => {
  it("parses the SOH prefix and the old <N> prefix in any era", () => {
    const k = fakeKernel("x86_64-6.1");
    k.printk(KERN_INFO + "hello %d\n", 1);
    k.printk("<3>old style\n");
    k.printk("no level\n");
    expect(k.log.records.map((r) => [r.level, r.text])).toEqual([
      [6, "hello 1"],
      [3, "old style"],
      [4, "no level"],
    ]);
  });
  it("gives modules the era's KERN_* strings", () => {
    expect(kernLevels({ printkLevelStyle: "soh", era: "6.1" }).KERN_INFO).toBe("\u00016");
    expect(kernLevels({ printkLevelStyle: "soh", era: "6.1" }).KERN_CONT).toBe("\u0001c");
    expect(kernLevels({ printkLevelStyle: "angle", era: "3.4" }).KERN_INFO).toBe("<6>");
    expect(kernLevels({ printkLevelStyle: "angle", era: "3.4" }).KERN_CONT).toBe("<c>");
    expect(kernLevels({ printkLevelStyle: "angle", era: "2.6" }).KERN_CONT).toBe("");
  });
  it("pr_* helpers print at their level", () => {
    const k = fakeKernel("x86_64-6.1");
    pr_warn(k, "w\n");
    pr_info(k, "i=%s\n", "x");
    expect(k.log.records.map((r) => r.level)).toEqual([4, 6]);
  });
});

describe("printk continuation", () => {
  it("6.1: KERN_CONT appends to the unterminated record and keeps its level and timestamp", () => {
    const k = fakeKernel("x86_64-6.1");
    k.printk(KERN_ERR + "a");
    k.clock.advance(5000);
    pr_cont(k, "b");
    pr_cont(k, "c\n");
    expect(k.log.records).toEqual([{ tsNs: 0, level: 3, text: "abc" }]);
  });
  it("6.1: without KERN_CONT an unterminated line is not continued (since 4.9)", () => {
    const k = fakeKernel("x86_64-6.1");
    k.printk(KERN_INFO + "a");
    k.printk("b\n");
    expect(k.log.texts()).toEqual(["a", "b"]);
  });
  it("6.1: KERN_CONT from another task starts a new record; KERN_CONT after a newline too", () => {
    const k = fakeKernel("x86_64-6.1");
    k.current = { pid: 1, comm: "a" };
    k.printk(KERN_INFO + "one");
    k.current = { pid: 2, comm: "b" };
    k.printk(KERN_CONT + "two\n");
    k.printk(KERN_CONT + "three\n");
    expect(k.log.texts()).toEqual(["one", "two", "three"]);
  });
  it("3.4/2.6: a message without a level continues an unterminated line; a level ends it", () => {
    const k = fakeKernel("i386-3.4");
    k.printk("<6>a");
    k.printk("b");
    k.printk("<c>c\n");
    k.printk("<6>d");
    k.printk("<4>e\n");
    expect(k.log.records.map((r) => [r.level, r.text])).toEqual([
      [6, "abc"],
      [6, "d"],
      [4, "e"],
    ]);
    const old = fakeKernel("x86_64-2.6");
    old.printk(KERN_WARNING + "x");
    old.printk("y\n");
    expect(old.log.texts()).toEqual(["xy"]);
  });
  it("splits multi-line text into one record per line with the same timestamp", () => {
    const k = fakeKernel("x86_64-6.1");
    k.clock.advance(1_500_000);
    k.printk(KERN_INFO + "x\ny\nz\n");
    expect(k.log.records).toEqual([
      { tsNs: 1_500_000, level: 6, text: "x" },
      { tsNs: 1_500_000, level: 6, text: "y" },
      { tsNs: 1_500_000, level: 6, text: "z" },
    ]);
    k.printk(KERN_INFO + "p\nq");
    pr_cont(k, "r\n");
    expect(k.log.texts(3)).toEqual(["p", "qr"]);
  });
  it("returns the number of characters stored", () => {
    const k = fakeKernel("x86_64-6.1");
    expect(k.printk(KERN_INFO + "%d\n", 12345)).toBe(6);
  });
});

describe("printk timestamps and dmesg", () => {
  it("formats [%5lu.%06lu] from the simulated clock, truncating to microseconds", () => {
    expect(formatTimestamp(0)).toBe("[    0.000000]");
    expect(formatTimestamp(1_234_567_890)).toBe("[    1.234567]");
    expect(formatTimestamp(123_456 * 1e9 + 999)).toBe("[123456.000000]");
  });
  it("dmesg renders records since a mark", () => {
    const k = fakeKernel("x86_64-6.1");
    k.printk(KERN_INFO + "boot\n");
    const m = k.log.mark();
    k.clock.advance(6_168_286_000);
    k.printk(KERN_WARNING + "------------[ cut here ]------------\n");
    expect(k.log.dmesg(m)).toEqual(["[    6.168286] ------------[ cut here ]------------"]);
    expect(k.log.dmesg()).toHaveLength(2);
  });
});

describe("Clock and jiffies", () => {
  it("starts jiffies at INITIAL_JIFFIES = (unsigned int)(-300*HZ) on 32 and 64 bit", () => {
    expect(initialJiffies(250)).toBe(4294892296);
    expect(new Clock(250).jiffies).toBe(4294892296);
    expect(new Clock(250, 32).jiffies).toBe(4294892296);
    expect(new Clock(100).jiffies).toBe(4294937296);
  });
  it("advances one jiffy per 1/HZ s, and wraps a 32-bit jiffies 300 s after boot", () => {
    const c64 = new Clock(250);
    const c32 = new Clock(250, 32);
    c64.advance(1e9);
    expect(c64.jiffies).toBe(4294892296 + 250);
    c32.advance(300e9);
    c64.advance(299e9);
    expect(c32.jiffies).toBe(0);
    expect(c64.jiffies).toBe(2 ** 32);
    expect(c32.jiffies_64).toBe(2 ** 32);
  });
  it("LogBuffer sets the clock's word size from the profile", () => {
    expect(fakeKernel("i386-6.1").clock.bitsPerLong).toBe(32);
    expect(fakeKernel("x86_64-6.1").clock.bitsPerLong).toBe(64);
  });
  it("never goes back", () => {
    const c = new Clock(250);
    c.setAtLeast(10);
    c.setAtLeast(5);
    expect(c.now()).toBe(10);
    expect(() => c.advance(-1)).toThrow();
  });
  it("converts msecs/usecs to jiffies rounding up, and back", () => {
    expect(msecs_to_jiffies(250, 0)).toBe(0);
    expect(msecs_to_jiffies(250, 1)).toBe(1);
    expect(msecs_to_jiffies(250, 4)).toBe(1);
    expect(msecs_to_jiffies(250, 5)).toBe(2);
    expect(msecs_to_jiffies(100, 15)).toBe(2);
    expect(msecs_to_jiffies(300, 10)).toBe(3);
    expect(msecs_to_jiffies(300, 11)).toBe(4);
    expect(msecs_to_jiffies(250, -1, 32)).toBe(0x3ffffffe);
    expect(usecs_to_jiffies(250, 4001)).toBe(2);
    expect(jiffies_to_msecs(250, 250)).toBe(1000);
    expect(jiffies_to_msecs(300, 1)).toBe(4);
  });
});
