// atomic_t wraps at 32 bits; refcount_t (6.1) refuses to: each misuse saturates the count at REFCOUNT_SATURATED
// and WARNs once per kind from lib/refcount.c with the kernel's text.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (
  body: string,
) => `import { refcount_t, refcount_set, refcount_inc, refcount_add, refcount_dec, refcount_dec_and_test, refcount_inc_not_zero, refcount_read,
  atomic_t, atomic_set, atomic_read, atomic_inc_return, atomic_dec_and_test, atomic_cmpxchg, atomic_add, printk, KERN_INFO, module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function t_init(): number {
${body}
  return 0;
}
module_init(t_init);
`;

describe("atomic_t", () => {
  it("wraps like an int; dec_and_test and cmpxchg", async () => {
    const r = await runModule(
      cell(`const a = new atomic_t(); atomic_set(a, 2147483647);
  printk(KERN_INFO + "%d\\n", atomic_inc_return(a));
  atomic_set(a, 1); printk(KERN_INFO + "%d %d\\n", atomic_dec_and_test(a) ? 1 : 0, atomic_cmpxchg(a, 0, 5));
  atomic_add(-7, a); printk(KERN_INFO + "%d\\n", atomic_read(a));`),
      {},
    );
    expect(r.reports).toEqual([]);
    expect(r.dmesg.slice(-3).map((l) => l.replace(/^\[[^\]]*\] /, ""))).toEqual(["-2147483648", "1 0", "-2"]);
  });
});

describe("refcount_t (6.1)", () => {
  const cases: [string, string, number][] = [
    ["refcount_inc on 0", `refcount_inc(r);`, 25],
    ["refcount_dec_and_test below 0", `refcount_set(r, 1); refcount_dec_and_test(r); refcount_dec_and_test(r);`, 28],
    ["refcount_dec to 0", `refcount_set(r, 1); refcount_dec(r);`, 31],
    ["refcount_add past INT_MAX", `refcount_set(r, 2147483647); refcount_add(1, r);`, 22],
  ];
  const text: Record<number, string> = {
    22: "saturated; leaking memory",
    25: "addition on 0; use-after-free",
    28: "underflow; use-after-free",
    31: "decrement hit 0; leaking memory",
  };
  for (const [name, body, line] of cases) {
    it(`${name}: WARN at lib/refcount.c:${line} "refcount_t: ${text[line]}." and the count saturates at -1073741824`, async () => {
      const r = await runModule(cell(`const r = new refcount_t();\n${body}\nprintk(KERN_INFO + "count %d\\n", refcount_read(r));`), {});
      expect(r.reports.map((x) => x.kind)).toEqual(["warn"]);
      expect(r.reports[0]!.title).toMatch(new RegExp(`^WARNING: CPU: 0 PID: 108 at lib/refcount\\.c:${line} refcount_warn_saturate\\+0x`));
      expect(r.dmesg.some((l) => l.endsWith(`refcount_t: ${text[line]}.`))).toBe(true);
      expect(r.dmesg.some((l) => l.endsWith("count -1073741824"))).toBe(true);
    });
  }

  it("WARNs once per kind; inc_not_zero refuses 0; the last put is true once", async () => {
    const r = await runModule(
      cell(`const r = new refcount_t();
  printk(KERN_INFO + "nz %d\\n", refcount_inc_not_zero(r) ? 1 : 0);
  refcount_set(r, 2); refcount_inc(r);
  printk(KERN_INFO + "%d %d %d\\n", refcount_dec_and_test(r) ? 1 : 0, refcount_dec_and_test(r) ? 1 : 0, refcount_dec_and_test(r) ? 1 : 0);
  const q = new refcount_t(); refcount_inc(q); refcount_inc(q); const z = new refcount_t(); refcount_inc(z);`),
      {},
    );
    expect(r.dmesg.some((l) => l.endsWith("nz 0"))).toBe(true);
    expect(r.dmesg.some((l) => l.endsWith("0 0 1"))).toBe(true);
    // q: the increment from 0 (addition on 0), then one on the saturated count (saturated); z's is the same kind
    // as q's first: WARN_ONCE stays silent.
    expect(r.reports.map((x) => x.kind)).toEqual(["warn", "warn"]);
    expect(r.dmesg.filter((l) => /refcount_t: /.test(l)).map((l) => l.replace(/^\[[^\]]*\] /, ""))).toEqual([
      "refcount_t: addition on 0; use-after-free.",
      "refcount_t: saturated; leaking memory.",
    ]);
  });

  it("does not exist before 4.11", async () => {
    const r = await runModule(cell(`const r = new refcount_t();`), { profile: "i386-2.6" });
    expect(r.reports[0]!.title).toMatch(/refcount_t does not exist in Linux 2\.6/);
  });
});
