// Memory probes: the run reads a module's buffer from simulated memory after init and before exit, whatever width
// wrote it (RunOptions.probes -> RunResult.kernel.memory).
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import type { ProbeResult } from "../../sandbox/probes.ts";

const cell = (write: string) => `import { vzalloc, vfree, writeb, writew, writel, writeq, PAGE_SIZE, module_init, module_exit } from "linux";
let buf = 0n;
function init(): number { buf = vzalloc(8 * PAGE_SIZE); for (let i = 0; i < 8; i++) ${write}; return 0; }
function exit(): void { writel(0xdead, buf); vfree(buf); }
module_init(init); module_exit(exit);
`;
const probes = [
  { id: "starts", at: "loaded" as const, alloc: { family: ["vmalloc" as const], size: 8 * 4096 }, stride: 4096, count: 8, width: 4 as const },
  { id: "first", at: "unloading" as const, alloc: { fns: ["vzalloc"] }, stride: 4, count: 2, width: 4 as const },
];
const memOf = (r: { kernel: Record<string, unknown> }) => r.kernel.memory as Record<string, ProbeResult>;

describe("memory probes", () => {
  for (const [name, write] of [
    ["writel", "writel(i, buf + BigInt(i * PAGE_SIZE))"],
    ["writeq", "writeq(BigInt(i), buf + BigInt(i * PAGE_SIZE))"],
    ["writew", "writew(i, buf + BigInt(i * PAGE_SIZE))"],
    ["writeb", "writeb(i, buf + BigInt(i * PAGE_SIZE))"],
  ]) {
    it(`reads the page numbers a ${name} loop left at each page start, as 32-bit values`, async () => {
      const r = await runModule(cell(write), { probes });
      expect(memOf(r).starts.values).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(memOf(r).starts.fn).toBe("vzalloc");
    });
  }
  it("reads before module_exit (the exit's own write is not seen) and says when no allocation matches", async () => {
    const r = await runModule(cell("writel(i + 100, buf + BigInt(i * PAGE_SIZE))"), {
      probes: [...probes, { id: "none", at: "loaded", alloc: { family: ["page"] }, stride: 1, count: 1, width: 1 }],
    });
    expect(memOf(r).first.values).toEqual([100, 0]);
    expect(memOf(r).none.missing).toBe("the module held no page to read");
  });
});
