// `kmodlab run --events "button@30ms irq5@60ms"`: a cell's events= setting from a terminal (src/cli/run.ts, parsed by the
// notebook's parseEvents; `button` is the grader's buttonIrq(profile)). A bad list or a line the board lacks is bad
// usage (exit 2) before any run; a good one raises the interrupts at those simulated times after insmod.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, restoreSpiesAfterEach } from "./capture.ts";
import { buttonIrq } from "../../src/grader/grade.ts";

const dir = mkdtempSync(join(tmpdir(), "kmodlab-events-"));
const cellFile = join(dir, "btn.ts");
writeFileSync(
  cellFile,
  `import { request_irq, free_irq, printk, KERN_INFO, IRQ_HANDLED, MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";
MODULE_LICENSE("GPL");
const dev = { name: "button" };
let n = 0;
function button_handler(irq: number, dev_id: unknown): number {
  n++;
  printk(KERN_INFO + "btn: irq %d press %d\\n", irq, n);
  return IRQ_HANDLED;
}
function btn_init(): number {
  return request_irq(BUTTON_IRQ, button_handler, 0, "btn", dev);
}
function btn_exit(): void {
  free_irq(BUTTON_IRQ, dev);
  printk(KERN_INFO + "btn: %d presses\\n", n);
}
module_init(btn_init);
module_exit(btn_exit);
`,
);

restoreSpiesAfterEach();

/** dmesg lines "[   s.micros] text" -> [seconds, text]. */
const lines = (out: string) =>
  out
    .split("\n")
    .map((l) => /^\[\s*(\d+\.\d{6})\] (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => [Number(m[1]), m[2]] as const);

describe("kmodlab run --events", () => {
  for (const bad of ["button@x", "irq@3ms", "button@30", "press@3ms", " , "]) {
    it(`--events '${bad}' is bad usage (exit 2) naming the option`, async () => {
      const r = await cli(["run", cellFile, "--events", bad]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`kmodlab: bad --events '${bad}': `);
      expect(r.out).toBe("");
    });
  }

  it("an interrupt line the board does not have is bad usage naming the board's range (24 lines on x86, 64 on ARM)", async () => {
    const x86 = await cli(["run", cellFile, "--events", "irq24@3ms"]);
    expect(x86.code).toBe(2);
    expect(x86.err).toContain("irq24: the x86_64-6.1 board has interrupt lines 0 to 23");
    const arm = await cli(["run", cellFile, "--events", "irq63@3ms", "-p", "arm64-6.1"]);
    expect(arm.code).toBe(0);
    const arm64 = await cli(["run", cellFile, "--events", "irq64@3ms", "-p", "arm64-6.1"]);
    expect(arm64.code).toBe(2);
    expect(arm64.err).toContain("irq64: the arm64-6.1 board has interrupt lines 0 to 63");
  });

  it("button@30ms irq5@60ms raises the x86 button line twice, 30 and 60 ms of simulated time after insmod", async () => {
    const r = await cli(["run", cellFile, "--events", "button@30ms irq5@60ms"]);
    expect(r.code).toBe(0);
    const l = lines(r.out);
    const load = l.find(([, t]) => t.includes("loading out-of-tree module"))!;
    const presses = l.filter(([, t]) => t.startsWith("btn: irq "));
    expect(presses.map(([, t]) => t)).toEqual(["btn: irq 5 press 1", "btn: irq 5 press 2"]);
    expect(presses[0][0] - load[0]).toBeCloseTo(0.03, 5);
    expect(presses[1][0] - load[0]).toBeCloseTo(0.06, 5);
    expect(r.out).toContain("btn: 2 presses");
  });

  it("button is the profile's button line (buttonIrq): IRQ 40 on the ARM boards", async () => {
    const r = await cli(["run", cellFile, "--events", "button@5ms", "-p", "arm64-6.1"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`btn: irq ${buttonIrq("arm64-6.1")} press 1`);
    expect(buttonIrq("arm64-6.1")).toBe(40);
  });

  it("without --events no interrupt is raised", async () => {
    const r = await cli(["run", cellFile]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("btn: 0 presses");
  });

  it("--json carries the events' effect in the RunResult's dmesg", async () => {
    const r = await cli(["run", cellFile, "--events", "button@1ms,button@2ms", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { dmesg: string[] };
    expect(j.dmesg.filter((s) => s.includes("btn: irq 5 press"))).toHaveLength(2);
  });
});
