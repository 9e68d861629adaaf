// The log buffer is a ring of 1 << CONFIG_LOG_BUF_SHIFT (17) bytes: once full, new records overwrite the oldest,
// which dmesg no longer shows (printk.ts header). Expectations are derived from the block rule of each era.
import { describe, expect, it } from "vitest";
import { LOG_BUF_SHIFT } from "../../src/kernel/kernel/printk.ts";
import { MAX_REPORTS_PER_KIND } from "../../src/kernel/kernel.ts";
import { runModule } from "../../sandbox/run.ts";
import { fakeKernel } from "./printk-fake.ts";

const LEN = 1 << LOG_BUF_SHIFT;
/** Bytes of one record: 6.1 ALIGN(sizeof(long) + len, sizeof(long)); 3.4 ALIGN(16 + len, 8 or 4 on i386); 2.6 "<L>" + text + "\n". */
function block(name: string, len: number): number {
  if (name.endsWith("2.6")) return len + 4;
  if (name.endsWith("6.1")) {
    const w = name.startsWith("x86_64") ? 8 : 4;
    return Math.ceil((w + len) / w) * w;
  }
  const a = name.startsWith("i386") ? 4 : 8;
  return Math.ceil((16 + len) / a) * a;
}
const line = (i: number, width: number) => `line ${String(i).padStart(6, "0")} `.padEnd(width, "x");

describe("the printk ring buffer (CONFIG_LOG_BUF_SHIFT=17)", () => {
  it("is 128 KiB on every modelled config", () => expect(LEN).toBe(128 * 1024));

  for (const name of ["x86_64-6.1", "i386-6.1", "arm-6.1", "i386-3.4", "arm-3.4", "x86_64-2.6"]) {
    it(`${name}: long lines overwrite the oldest; what dmesg keeps fits in the ring, one more would not`, () => {
      const k = fakeKernel(name);
      const width = 500;
      const n = 2000;
      for (let i = 0; i < n; i++) k.printk("\u00016" + line(i, width) + "\n");
      const d = k.log.dmesg();
      // the last line is the last printed, and lines are consecutive
      expect(d[d.length - 1]).toContain(line(n - 1, width));
      const first = Number(/line (\d+)/.exec(d[0]!)![1]);
      expect(first + d.length).toBe(n);
      expect(k.log.dropped).toBe(first);
      // held: at most the ring (a wrap wastes less than one block); one more held record would pass it
      const held = d.length * block(name, width);
      expect(held).toBeLessThanOrEqual(LEN);
      expect(held + 2 * block(name, width)).toBeGreaterThan(LEN);
      expect(k.log.levels()).toEqual(d.map(() => 6));
      expect(k.log.texts()).toHaveLength(d.length);
    });
  }

  it("6.1: short lines are bounded by the descriptor ring (1 << (17 - 5) = 4096 records) before the data ring", () => {
    const k = fakeKernel("x86_64-6.1");
    for (let i = 0; i < 10_000; i++) k.printk("\u00016" + line(i, 12) + "\n");
    expect(4096 * block("x86_64-6.1", 12)).toBeLessThan(LEN);
    const d = k.log.dmesg();
    expect(d).toHaveLength(4096);
    expect(d[0]).toContain(line(10_000 - 4096, 12));
    // 3.4 has no descriptor ring: the same lines fill its bytes
    const k34 = fakeKernel("arm-3.4");
    for (let i = 0; i < 10_000; i++) k34.printk("<6>" + line(i, 12) + "\n");
    expect(k34.log.dmesg()).toHaveLength(Math.floor(LEN / block("arm-3.4", 12)));
  });

  it("marks stay valid: dmesg(mark) reads what was printed since, minus what the ring overwrote", () => {
    const k = fakeKernel("x86_64-6.1");
    k.printk("\u00016before\n");
    const mark = k.log.mark();
    for (let i = 0; i < 300; i++) k.printk("\u00016" + line(i, 900) + "\n");
    const d = k.log.dmesg(mark);
    expect(d.every((l) => l.includes("line "))).toBe(true);
    expect(d[d.length - 1]).toContain(line(299, 900));
    expect(k.log.dmesg().some((l) => l.includes("before"))).toBe(false);
  });

  it("a continuation grows the last record and is counted with its final length", () => {
    const k = fakeKernel("x86_64-6.1");
    for (let i = 0; i < 1000; i++) {
      k.printk("\u00016" + line(i, 100));
      k.printk("\u0001c" + "y".repeat(400) + "\n");
    }
    const d = k.log.dmesg();
    const held = d.length * block("x86_64-6.1", 500);
    expect(held).toBeLessThanOrEqual(LEN);
    expect(held + 2 * block("x86_64-6.1", 500)).toBeGreaterThan(LEN);
  });
});

describe("a module that leaks many objects (kmemleak prints each)", () => {
  it("gives dmesg the ring's last lines, lists 100 leak reports and a note counting the rest, and dmesgLevels matches dmesg", async () => {
    const r = await runModule(
      `import { kmalloc, GFP_ATOMIC, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
function mem_module_init(): number { for (let i = 0; i < 3000; i++) kmalloc(8, GFP_ATOMIC); return 0; }
module_init(mem_module_init);`,
      { config: "debug", limits: { cpuMs: 20_000 } },
    );
    const leaks = r.reports.filter((x) => x.kind === "leak");
    expect(leaks).toHaveLength(MAX_REPORTS_PER_KIND + 1);
    expect(leaks.slice(0, MAX_REPORTS_PER_KIND).every((x) => x.title.startsWith("kmemleak: unreferenced object 0x"))).toBe(true);
    expect(leaks[MAX_REPORTS_PER_KIND]!.title).toBe(
      `kmodlab: ${3000 - MAX_REPORTS_PER_KIND} more leak reports are not listed (the first ${MAX_REPORTS_PER_KIND} are; dmesg has the kernel's text while its log buffer holds it)`,
    );
    expect(r.dmesg[r.dmesg.length - 1]).toMatch(/kmemleak: 3000 new suspected memory leaks \(see \/sys\/kernel\/debug\/kmemleak\)$/);
    expect(r.dmesg.length).toBeLessThanOrEqual(4096);
    expect(r.dmesg.reduce((n, l) => n + l.length, 0)).toBeLessThan(2 * LEN);
    expect(r.dmesgLevels).toHaveLength(r.dmesg.length);
    expect(JSON.stringify(r).length).toBeLessThan(8 << 20);
  }, 60_000);
});

describe("a line the ring overwrote was logged all the same", () => {
  it("grading: a module that prints hello then leaks 600 objects fails the leak check, not the printed-line check", async () => {
    const { getExercise } = await import("../../src/grader/exercises/index.ts");
    const { gradeSource } = await import("../../src/grader/grade.ts");
    const ex = getExercise("hello-module")!;
    const leaky = `import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit, kmalloc, GFP_KERNEL } from "linux";
MODULE_LICENSE("GPL");
function hello_init(): number {
  printk(KERN_INFO + "hello, kernel\\n");
  for (let i = 0; i < 600; i++) kmalloc(8, GFP_KERNEL);
  return 0;
}
function hello_exit(): void {
  printk(KERN_INFO + "goodbye, kernel\\n");
}
module_init(hello_init);
module_exit(hello_exit);
`;
    expect(leaky).toContain("kmalloc(8, GFP_KERNEL)");
    const g = await gradeSource(ex, leaky);
    const failed = g.checks.filter((c) => !c.pass).map((c) => c.id);
    expect(failed).toContain("no-leak");
    expect(failed.filter((id) => id !== "no-leak" && id !== "no-reports")).toEqual([]);
  }, 120_000);

  it("the run says how many of its lines the ring overwrote", async () => {
    const r = await runModule(
      `import { kmalloc, GFP_ATOMIC, printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
function mem_module_init(): number { printk(KERN_INFO + "first\\n"); for (let i = 0; i < 600; i++) kmalloc(8, GFP_ATOMIC); return 0; }
module_init(mem_module_init);`,
      { config: "debug" },
    );
    expect(r.dmesg.some((l) => l.endsWith("first"))).toBe(false);
    expect(r.dmesgOverwritten).toBeGreaterThan(0);
    // what the run printed = what dmesg holds + what the ring overwrote (13 lines an object, the summary, the first line)
    expect(r.dmesg.length + r.dmesgOverwritten!).toBeGreaterThan(600 * 13);
  }, 60_000);
});
