// The old-era boards: the Android msm8x25 (3.4) whose fragmented vmalloc area fails a 64 MB vmalloc although
// VmallocUsed says far more is free, and the 2.6.26 PC of the classic demo. The allocator-level facts are checked on
// a minimal host; the failure texts and /proc on the fully booted profile.
import { describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../../src/kernel/kernel.ts";
import { PageTables } from "../../../src/kernel/mm/pgtable.ts";
import { Vmalloc } from "../../../src/kernel/mm/vmalloc.ts";
import { vmalloc_boot } from "../../../src/kernel/mm/vmalloc_boot.ts";
import { PhysMem } from "../../../src/kernel/mm/physmem.ts";
import { getProfile } from "../../../src/kernel/profiles.ts";

const MiB = 2 ** 20;
const NOWARN_OLD = 0xd0 | 0x2 | 0x200; // GFP_KERNEL | __GFP_HIGHMEM | __GFP_NOWARN (<= 4.3 bits)

/** A minimal kernel: the profile, a hand-made layout (kernel-facts §1), a bump page allocator, real physmem. */
function minimal(name: string, layout: Record<string, unknown>): { v: Vmalloc; pt: PageTables } {
  let next = 0x1000;
  const k = {
    profile: getProfile(name),
    layout: { image: [], memMap: [], ...layout },
    physmem: new PhysMem(),
    opts: { config: "debug" },
    current: { pid: 1, comm: "insmod" },
    pages: { alloc_pages: () => next++, __free_pages: () => {}, totalramPages: 200000 },
    captureModuleStack: () => [],
    watchdog: () => {}, // the soft-lockup look a long vmalloc takes (Kernel.watchdog): never due here
    printk: () => 0,
  } as unknown as Kernel;
  const pt = new PageTables(k);
  const v = new Vmalloc(k, pt);
  vmalloc_boot(k, v);
  v.bootDone = true;
  return { v, pt };
}

const MSM = {
  bits: 32,
  pageOffset: 0xc0000000n,
  physOffset: 0x200000,
  vmallocStart: 0xf3000000n,
  vmallocEnd: 0xff000000n,
  modulesVaddr: 0xbf000000n,
  modulesEnd: 0xbfe00000n,
  memory: [{ start: 0x200000, end: 0x200000 + 1000 * MiB }],
  maxLowPfn: (0x200000 + 808 * MiB) / 4096,
};
const PC26 = {
  bits: 32,
  pageOffset: 0xc0000000n,
  physOffset: 0,
  vmallocStart: 0xca800000n,
  vmallocEnd: 0xff7fe000n,
  modulesVaddr: 0xca800000n,
  modulesEnd: 0xff7fe000n,
  memory: [{ start: 0x1000, end: 160 * MiB - 0x20000 }],
  maxLowPfn: (160 * MiB - 0x20000) / 4096,
  memMap: [{ start: 0, end: 160 * MiB - 0x20000, type: "usable" }],
};

describe("arm-3.4-msm8x25: a fragmented vmalloc area", () => {
  it("leaves its largest hole at 0xfb600000-0xfefdc000: 56 MB fits, 64 MB does not, though VmallocUsed leaves > 64 MB", () => {
    const { v } = minimal("arm-3.4-msm8x25", MSM);
    expect(v.checkInvariants()).toEqual([]);
    const holes = v.freeHoles().filter((h) => h.start >= 0xf3000000n);
    const largest = holes.reduce((a, b) => (b.size > a.size ? b : a));
    expect([largest.start, largest.end]).toEqual([0xfb600000n, 0xfefdc000n]);
    const m = v.meminfo();
    expect(m.total).toBe(192 * MiB);
    expect(m.total - m.used).toBeGreaterThan(64 * MiB); // VmallocTotal - VmallocUsed
    expect(m.chunk).toBe(0xfefdc000 - 0xfb600000); // 3.4's VmallocChunk tells the truth
    const a = v.vmalloc(56 * MiB, { caller: "big+0x10/0x40 [cell]", gfp: NOWARN_OLD });
    expect(a).toBe(0xfb600000n);
    v.vfree(a);
    expect(v.vmalloc(64 * MiB, { caller: "big+0x10/0x40 [cell]", gfp: NOWARN_OLD })).toBe(0n);
    expect(v.checkInvariants()).toEqual([]);
  });

  it("lists the static iotable_init mappings with the era's phys=%llx and no guard page", () => {
    const { v } = minimal("arm-3.4-msm8x25", MSM);
    const ad5 = v.find_vm_area(0xfa900000n)!;
    expect([ad5.size, ad5.phys_addr, ad5.caller]).toEqual([13 * MiB, 0xac000000, "iotable_init+0x0/0xb0"]);
    const top = v.find_vm_area(0xfefdc000n)!;
    expect(top.size).toBe(0x24000); // two 72 KiB percpu units, no guard
  });

  it("prints the 3.4 failure lines and /proc/vmallocinfo in the 3.4 format", () => {
    const kk = boot("arm-3.4-msm8x25");
    expect(kk.vmalloc.vmalloc(64 * MiB, { caller: "big+0x10/0x40 [cell]" })).toBe(0n);
    const text = kk.log.texts(0).join("\n");
    expect(text).toContain("vmap allocation for size 67112960 failed: use vmalloc=<size> to increase size.\n");
    expect(text).toContain("vmalloc: allocation failure: 67108864 bytes");
    expect(text).toMatch(/: page allocation failure: order:0, mode:0xd2/);
    expect(kk.proc("vmallocinfo")).toContain("0xfa900000-0xfb600000 13631488 iotable_init+0x0/0xb0 phys=ac000000 ioremap\n");
    expect(kk.reports.some((r) => r.kind === "vmalloc-failure")).toBe(true);
  });
});

describe("failure messages in a loop are rate limited as the kernel does (hostile fuzz seed 5031: 65,000 lines before)", () => {
  for (const [profile, vmap, alloc] of [
    ["arm-3.4-msm8x25", "vmap allocation for size 67112960 failed: use vmalloc=<size> to increase size.", "warn_alloc_failed"],
    ["i386-6.1", "vmap allocation for size 209719296 failed: use vmalloc=<size> to increase size", "warn_alloc"],
  ] as const) {
    it(`${profile}: printk_ratelimit() lets 10 vmap lines through per 5 s, then 'alloc_vmap_area: N callbacks suppressed'; warn_alloc's own state`, () => {
      const kk = boot(profile);
      const size = profile === "i386-6.1" ? 200 * MiB : 64 * MiB;
      const m = kk.log.mark();
      for (let i = 0; i < 50; i++) expect(kk.vmalloc.vmalloc(size, { caller: "big+0x10/0x40 [cell]" })).toBe(0n);
      const t = kk.log.texts(m);
      expect(t.filter((l) => l === vmap)).toHaveLength(10);
      expect(t.some((l) => /suppressed/.test(l))).toBe(false);
      kk.clock.advance(5e9 + 1e9 / kk.profile.hz);
      const m2 = kk.log.mark();
      expect(kk.vmalloc.vmalloc(size, { caller: "big+0x10/0x40 [cell]" })).toBe(0n);
      const t2 = kk.log.texts(m2);
      // (6.1's might_sleep() may come first: the test's current task is the boot's)
      const at = t2.indexOf(vmap);
      expect(t2[at - 1]).toBe("alloc_vmap_area: 40 callbacks suppressed");
      // warn_alloc(_failed)'s nopage_rs: 6.1 one per 10 s (so 49 suppressed, not yet reported); 3.4 ten per 5 s
      if (profile === "i386-6.1") expect(t2.some((l) => /callbacks suppressed/.test(l) && l.startsWith(alloc))).toBe(false);
      else expect(t2).toContain(`${alloc}: 40 callbacks suppressed`);
      expect(kk.checkInvariants()).toEqual([]);
    });
  }
});

describe("i386-2.6 at 160 MB: the classic demo", () => {
  it("boot leaves about 3 MB in use, so vmalloc(1000000) lands near 3G+171M", () => {
    const { v } = minimal("i386-2.6", PC26);
    const a = v.vmalloc(1000000, { caller: "demo_init+0x20/0x80 [demo]" });
    const mb = Number(a - 0xc0000000n) / MiB;
    expect(mb).toBeGreaterThan(170);
    expect(mb).toBeLessThan(172);
    // 2.6.26 has no lazy freeing: vfree makes the range reusable at once.
    v.vfree(a);
    expect(v.vmalloc(1000000, { caller: "demo_init+0x20/0x80 [demo]" })).toBe(a);
    // ioremap alignment by fls(size) in the old eras: a 2-page ioremap is aligned to 16 KiB (6.1: 8 KiB).
    const io = v.get_vm_area(8192, 0x1, { caller: "x+0x0/0x10" })!;
    expect(Number(io.addr % 16384n)).toBe(0);
    expect(v.checkInvariants()).toEqual([]);
  });
});
