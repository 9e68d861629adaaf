// x86_64's deferred struct page init (6.1): page_alloc_init_late()'s pgdatinit0 initialises and frees the free frames
// above first_deferred_pfn, and prints how long it took in whole jiffies ("node 0 deferred pages initialised in %ums").
// Against the real 512M boot: the Memory: line (only the frames below first_deferred_pfn are available at mem_init) and
// the 8 ms; at other sizes the time grows with the deferred frames, in 4 ms ticks (HZ 250), and 256M has none.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import { realSection } from "./real-kernel.ts";

const MiB = 2 ** 20;
const deferredLine = (log: string[]) => log.find((l) => / node 0 deferred pages initialised in \d+ms$/.test(l));
const ms = (l: string | undefined) => Number(/in (\d+)ms$/.exec(l ?? "")?.[1] ?? NaN);

describe("deferred struct page init (x86_64 6.1 distro)", () => {
  it("512M: the Memory: line and the deferred line read as the real boot's, timestamp and 8 ms included", () => {
    const real = realSection("x86_64-512M-nokaslr.log", "dmesg (boot, full)");
    const log = boot("x86_64-6.1", { mem: 512 * MiB, config: "distro" }).log.dmesg();
    const memLine = (ls: string[]) => ls.find((l) => / Memory: \d+K\/\d+K available/.test(l));
    expect(memLine(log)).toBe(memLine(real));
    expect(deferredLine(log)).toBe(deferredLine(real));
    expect(deferredLine(log)).toBe("[    0.627373] node 0 deferred pages initialised in 8ms");
  });

  it("the time grows with the deferred frames, in whole ticks; 256M has no deferred range and no line", () => {
    expect(deferredLine(boot("x86_64-6.1", { mem: 256 * MiB, config: "distro" }).log.dmesg())).toBeUndefined();
    const t = [512, 1024, 2048].map((m) => ms(deferredLine(boot("x86_64-6.1", { mem: m * MiB, config: "distro" }).log.dmesg())));
    for (const v of t) expect(v % 4).toBe(0);
    expect(t[1]!).toBeGreaterThan(t[0]!);
    expect(t[2]!).toBeGreaterThan(t[1]!);
    // twice the deferred RAM is about twice the time (within a tick either way of each reading)
    expect(t[2]!).toBeGreaterThanOrEqual(2 * t[1]! - 8);
    expect(t[2]!).toBeLessThanOrEqual(2 * t[1]! + 8 + 4);
  });
});
