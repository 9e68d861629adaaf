// ARM (Debian's armmp kernel is built in ARM mode) and arm64 (A64) have 4-byte instructions: every offset and size a
// trace prints is a multiple of 4, including those kallsyms invents for functions no real log shows.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { Kallsyms } from "../../src/kernel/kernel/kallsyms.ts";

const CELL = `import { __get_free_pages, kmalloc, kfree, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
function my_init(): number {
  __get_free_pages(GFP_KERNEL, 12);
  const p = kmalloc(32, GFP_KERNEL);
  kfree(p);
  kfree(p);
  kmalloc(64, GFP_KERNEL);
  return 0;
}
module_init(my_init);`;

const frames = (lines: readonly string[]) =>
  [...lines.join("\n").matchAll(/\b[\w.$]+\+0x([0-9a-f]+)\/0x([0-9a-f]+)/g)].map((m) => [parseInt(m[1]!, 16), parseInt(m[2]!, 16), m[0]] as const);

describe("trace offsets and sizes follow the instruction size", () => {
  for (const profile of ["arm64-6.1", "arm-6.1-virt", "arm-3.4-msm8x25"]) {
    it(`${profile}: a WARN, a double free and kmemleak's backtraces print only multiples of 4`, async () => {
      const r = await runModule(CELL, { profile, config: "debug" });
      const f = frames(r.dmesg);
      expect(f.length).toBeGreaterThan(20);
      expect(f.filter(([off, size]) => off % 4 !== 0 || size % 4 !== 0).map(([, , s]) => s)).toEqual([]);
      expect(f.every(([off, size]) => off < size)).toBe(true);
    });
  }

  it("x86 keeps byte offsets (its instructions are any length)", async () => {
    const r = await runModule(CELL, { profile: "x86_64-6.1", config: "debug" });
    expect(frames(r.dmesg).some(([off]) => off % 4 !== 0)).toBe(true);
  });

  it("invented kernel symbols and module functions on arm64 are 4-byte multiples, whatever their name", () => {
    const ks = new Kallsyms({ profile: { arch: "arm64", era: "6.1" } });
    for (let i = 0; i < 500; i++) {
      const info = ks.parseFrame(`some_function_${i}`);
      expect(info.size % 4).toBe(0);
      expect(info.offset % 4).toBe(0);
      const m = ks.moduleFrameInfo(`cell_fn_${i}`, "cell", i);
      expect(m.size % 4).toBe(0);
      expect(m.offset % 4).toBe(0);
    }
  });
});
