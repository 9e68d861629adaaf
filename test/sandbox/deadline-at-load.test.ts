// The CPU deadline is the module's: load_module()'s own work (the module image's vmalloc, run.ts evaluateTopLevel)
// is not stopped by it. A deadline that passed before the image was in place (a loaded machine: the bridge and the
// cell's compile took the module's time; fuzz seed 12 at load 20, and four more seeds with a 100 ms deadline) was
// thrown out of the image's vmalloc (vmalloc.ts tickPages) as "kmodlab: internal error during load: run stopped";
// it is the soft-lockup stop of a run that spent its time, reported as the CPU limit.
import { afterEach, describe, expect, it, vi } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { Modules } from "../../src/kernel/kernel/module.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a CPU deadline that passes while the module image is loaded", () => {
  it("stops the run as the CPU limit, not as an internal error, and the next run is fine", async () => {
    const real = performance.now.bind(performance);
    let offset = 0;
    vi.spyOn(performance, "now").mockImplementation(() => real() + offset);
    const load = Modules.prototype.loadImage;
    // the clock jumps past the deadline as load_module() starts: its vmalloc looks at the watchdog (6.1: every bulk)
    vi.spyOn(Modules.prototype, "loadImage").mockImplementation(function (this: Modules, bytes: number) {
      offset += 60_000;
      return load.call(this, bytes);
    });
    const r = await runModule(
      `import { MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => { for (;;) {} });`,
      { profile: "x86_64-6.1", limits: { cpuMs: 1000 } },
    );
    expect(r.reports.filter((x) => /internal error/.test(x.title))).toEqual([]);
    const t = r.reports.find((x) => x.kind === "timeout");
    expect(t?.limit).toBe("cpu");
    expect(t?.title).toBe("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]");
    vi.restoreAllMocks();
    const next = await runModule(`import { module_init } from "linux"; module_init(() => 0);`);
    expect(next.reports).toEqual([]);
  }, 60_000);
});
