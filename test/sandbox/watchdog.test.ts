// One kernel call that never ends: a string routine over terabytes writes through the kernel's own page tables
// (fuzz seed 1180) and, through the bogus mappings it leaves, never faults. The CPU deadline reaches inside the
// kernel call (Kernel.watchdog), as the soft-lockup watchdog does; writes to physical addresses with no RAM behind
// them cost the host nothing (PhysMem drops them).
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { PhysMem } from "../../src/kernel/mm/physmem.ts";

describe("a kernel call that runs away", () => {
  it("memset32 of 4 TiB from a kmalloc'ed buffer ends in the soft-lockup report at the CPU deadline", async () => {
    const r = await runModule(
      `import { kmalloc, memset32, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
  const p = kmalloc(64, GFP_KERNEL);
  memset32(p, 1, 2 ** 40);
  return 0;
});`,
      // The memset must meet the CPU deadline before the end of RAM (an Oops) or the RAM budget (1 GiB of written
      // frames, a "ram" stop). How far it gets depends on the machine: in 1500 ms, 200 MB on a loaded 2-core VM and
      // ~450 MB (past the end of a 512 MiB machine's RAM) on the same VM quiet. So 500 ms and 8 GiB: ~150 MB here,
      // and a machine 6x as fast still stops at the deadline.
      { profile: "arm64-6.1", mem: 8 * 2 ** 30, limits: { cpuMs: 500 } },
    );
    const t = r.reports.find((x) => x.kind === "timeout");
    expect(t?.title).toBe("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]");
    expect(t?.limit).toBe("cpu");
    expect(r.reports.filter((x) => /internal error/.test(x.title))).toEqual([]);
    const next = await runModule(`import { module_init } from "linux"; module_init(() => 0);`);
    expect(next.reports).toEqual([]);
  }, 60_000);

  it("PhysMem drops writes outside the RAM banks and keeps no frame for them", () => {
    const pm = new PhysMem();
    pm.setRam([{ start: 0, end: 1 << 20 }]);
    pm.write8(0x1000, 0xaa);
    pm.fill(1 << 30, 1 << 20, 0x55);
    pm.write32((1 << 30) + 8, 0x12345678);
    expect(pm.read8(0x1000)).toBe(0xaa);
    expect(pm.read8((1 << 30) + 8)).toBe(0);
    expect((pm as unknown as { frames: Map<number, Uint8Array> }).frames.size).toBe(1);
  });
});
