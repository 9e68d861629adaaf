// The notebook worker's log forwarding (src/notebook/log-forward.ts): what the page holds of a run's kernel log while
// it runs, for a run the page has to end. A real run on the sandbox, its kernel's log forwarded as run.worker.ts does.

import { describe, expect, it } from "vitest";
import { loadKernelDeps, runModule } from "../../sandbox/run.ts";
import { forwardLog, LOG_BATCH_RECORDS, LOG_FIRST_RECORDS } from "../../src/notebook/log-forward.ts";

describe("forwardLog", () => {
  it("sends every record of a run's first ones at once, continuations included; the page's copy is the run's log; then stops", async () => {
    const page: string[] = [];
    let sends = 0;
    let unforward = () => {};
    const d = await loadKernelDeps();
    let k: ReturnType<typeof d.boot> | undefined;
    const deps = {
      ...d,
      boot: (p: string, o: Parameters<typeof d.boot>[1]) => {
        k = d.boot(p, o);
        unforward = forwardLog(
          k.log,
          (from, lines) => {
            sends++;
            page.length = from;
            page.push(...lines);
          },
          () => performance.now(),
        );
        return k;
      },
    };
    const r = await runModule(
      `import { printk, KERN_INFO, KERN_CONT, module_init } from "linux";
module_init(() => { printk(KERN_INFO + "part"); printk(KERN_CONT + " two\\n"); for (let i = 0; i < 40; i++) printk(KERN_INFO + "line %d\\n", i); return 0; });`,
      {},
      deps,
    );
    unforward();
    expect(r.reports).toEqual([]);
    const runLines = r.dmesg; // the run's lines after the boot
    expect(runLines.length).toBeLessThan(LOG_FIRST_RECORDS);
    expect(page).toEqual(runLines);
    expect(page.some((l) => l.endsWith("] part two"))).toBe(true);
    expect(sends).toBeGreaterThan(40);
    // unforwarded: the kernel's log is its own again
    const before = sends;
    k!.log.printk("\u00016after\n");
    expect(sends).toBe(before);
    expect(Object.prototype.hasOwnProperty.call(k!.log, "vprintk")).toBe(false);
  }, 60_000);
  it("past the first records, a burst that ends in a hang leaves fewer than LOG_BATCH_RECORDS records unsent, whatever the clock says", async () => {
    const page: string[] = [];
    let unforward = () => {};
    const d = await loadKernelDeps();
    const deps = {
      ...d,
      boot: (p: string, o: Parameters<typeof d.boot>[1]) => {
        const k = d.boot(p, o);
        // a clock that never moves: a burst of printks faster than LOG_BATCH_MS, as a tight loop before a hang is
        unforward = forwardLog(
          k.log,
          (from, lines) => {
            page.length = from;
            page.push(...lines);
          },
          () => 0,
        );
        return k;
      },
    };
    const r = await runModule(
      `import { printk, KERN_INFO, module_init } from "linux";
module_init(() => { for (let i = 0; i < 1000; i++) printk(KERN_INFO + "line %d\\n", i); return 0; });`,
      {},
      deps,
    );
    unforward();
    const printed = r.dmesg.filter((l) => / line \d+$/.test(l)).length;
    expect(printed).toBe(1000);
    const sent = page.filter((l) => / line \d+$/.test(l)).length;
    expect(printed - sent).toBeLessThan(LOG_BATCH_RECORDS);
    expect(page).toEqual(r.dmesg.slice(0, page.length));
  }, 60_000);
});
