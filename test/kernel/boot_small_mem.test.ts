// Small machines on every 6.1 profile: a --mem sweep either boots to /init or stops with the real kernel's own text.
// A boot that runs out of memory ends, as 6.1's out_of_memory() does with no process it may kill, in the oom-killer
// header, the stack, Mem-Info, the unreclaimable slab, the task list's header, "Out of memory and no killable
// processes..." and panic("System is deadlocked on memory") (mm/oom_boot.ts); below the profile's setup limit the
// refusal names the minimum. Reclaim cannot save the boot: the SReclaimable bulk is tracefs's pinned dentries and
// inodes (mm/oom_boot.ts's header), so the panic is where the allocator's own watermarks stop it.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import { KernelBootError } from "../../src/kernel/boot_error.ts";
import { runModule } from "../../sandbox/run.ts";

const MiB = 2 ** 20;
const PROFILES = ["x86_64-6.1", "x86_64-6.1-la57", "i386-6.1", "i386-6.1-pae", "arm-6.1-virt", "arm64-6.1"];
const kB = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)![1]);

type Outcome = { kind: "boot"; meminfo: string; log: string[] } | { kind: "refused"; message: string } | { kind: "panic"; message: string; report: string[] };

function tryBoot(profile: string, mem: number, config: "distro" | "debug"): Outcome {
  try {
    const k = boot(profile, { mem: mem * MiB, config });
    return { kind: "boot", meminfo: k.proc("meminfo"), log: k.log.dmesg() };
  } catch (e) {
    expect(e).toBeInstanceOf(KernelBootError);
    const err = e as KernelBootError;
    if (!err.log) return { kind: "refused", message: err.message };
    return { kind: "panic", message: err.message, report: err.log.slice(err.panicFrom).map((l) => l.replace(/^\[[ \d.]+\] /, "")) };
  }
}

/** The report's shape, line by line where the kernel's text is fixed. */
function expectOomPanic(o: Extract<Outcome, { kind: "panic" }>): void {
  const r = o.report;
  expect(o.message).toMatch(/^Kernel panic - not syncing: System is deadlocked on memory \(an order-\d+ allocation during boot found no free memory/);
  expect(r[0]).toMatch(/^(swapper\/0|init) invoked oom-killer: gfp_mask=0x[0-9a-f]+\([A-Z_|]+\), order=\d+, oom_score_adj=0$/);
  // the callers' masks: the replays' own __GFP_NOWARN is not the kernel's
  expect(r[0]).not.toMatch(/__GFP_NOWARN/);
  expect(r[1]).toMatch(/^CPU: 0 PID: [01] Comm: /);
  const at = (s: string) => r.indexOf(s);
  expect(at("Mem-Info:")).toBeGreaterThan(1);
  const tasks = at("Tasks state (memory values in pages):");
  expect(tasks).toBeGreaterThan(at("Mem-Info:"));
  expect(r[tasks + 1]).toBe("[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name");
  expect(r[tasks + 2]).toBe("Out of memory and no killable processes...");
  expect(r[tasks + 3]).toBe("Kernel panic - not syncing: System is deadlocked on memory");
  expect(r[r.length - 1]).toBe("---[ end Kernel panic - not syncing: System is deadlocked on memory ]---");
  // the allocation failed because no zone it may use was above its min watermark: free (less free CMA, which an
  // unmovable allocation may not count) is at most min, plus the zone's lowmem_reserve for higher zones' allocations,
  // plus the block asked for
  const order = Number(/order=(\d+)/.exec(r[0]!)![1]);
  let zones = 0;
  r.forEach((l, i) => {
    if (!/^(Node 0 )?(DMA|DMA32|Normal) free:/.test(l)) return;
    zones++;
    const f = (n: string) => Number(new RegExp(` ${n}:(\\d+)kB`).exec(l)![1]);
    const reserve = Math.max(...r[i + 1]!.replace("lowmem_reserve[]:", "").trim().split(/\s+/).map(Number));
    expect(f("free") - f("free_cma")).toBeLessThanOrEqual(f("min") + 4 * reserve + 4 * 2 ** order);
  });
  expect(zones).toBeGreaterThan(0);
}

describe("small --mem on every 6.1 profile", () => {
  for (const config of ["distro", "debug"] as const) {
    for (const profile of PROFILES) {
      const sizes = config === "distro" ? [16, 28, 32, 36, 40, 48, 52, 56, 64, 72, 80, 84, 88, 96, 112] : [28, 36, 52, 64, 80, 92, 96];
      it(`${profile} ${config}: ${sizes.join("/")} MiB each boot to /init, name the minimum, or end in out_of_memory()'s panic text; 128 MiB boots`, () => {
        const seen: string[] = [];
        for (const mem of [...sizes, 128]) {
          const o = tryBoot(profile, mem, config);
          seen.push(`${mem}:${o.kind}`);
          if (o.kind === "boot") {
            expect(o.log.some((l) => /\] Run \/init as init process$/.test(l))).toBe(true);
            expect(kB(o.meminfo, "MemFree")).toBeGreaterThan(0);
          } else if (o.kind === "refused") {
            // the machine cannot be set up at all: below the profile's minimum, or its image does not fit in RAM
            expect(o.message).toMatch(
              new RegExp(
                `^${profile}: (${mem} MiB of RAM is too little to boot \\(minimum \\d+ MiB\\)|RAM \\(mem=\\) does not hold the kernel image|lowmem ends at \\d+ MB, below the kernel image)$`,
              ),
            );
          } else expectOomPanic(o);
        }
        expect(seen[seen.length - 1]).toBe("128:boot");
      });
    }
  }
});

describe("where the boundary lies, by mechanism", () => {
  it("arm64 distro: 72 MiB cannot fit the 32 MiB CMA area and boots without it; 80 MiB fits it and the unmovable boot does not fit beside it; 88 MiB boots", () => {
    const a = tryBoot("arm64-6.1", 72, "distro");
    expect(a.kind).toBe("boot");
    if (a.kind === "boot") {
      expect(a.log.some((l) => /\] cma: Failed to reserve 32 MiB$/.test(l))).toBe(true);
      expect(kB(a.meminfo, "CmaTotal")).toBe(0);
    }
    const b = tryBoot("arm64-6.1", 80, "distro");
    expect(b.kind).toBe("panic");
    if (b.kind === "panic") {
      expectOomPanic(b);
      expect(b.message).toMatch(/32768 kB of the RAM is the CMA area, which only movable allocations may use/);
      // arm64's panic shows the "Memory:" line's split: the CMA pages are not the boot's
      expect(b.report.some((l) => l === "8192 pages cma reserved")).toBe(true);
    }
    expect(tryBoot("arm64-6.1", 88, "distro").kind).toBe("boot");
  });

  it("armhf distro: 32-36 MiB cannot fit the 16 MiB CMA area and boot without it; 40-48 MiB fit it and run out of memory; 52 MiB boots with it", () => {
    for (const mem of [32, 36]) {
      const o = tryBoot("arm-6.1-virt", mem, "distro");
      expect(o.kind).toBe("boot");
      if (o.kind === "boot") expect(o.log.some((l) => /\] cma: Failed to reserve 16 MiB$/.test(l))).toBe(true);
    }
    for (const mem of [40, 48]) expect(tryBoot("arm-6.1-virt", mem, "distro").kind).toBe("panic");
    const b = tryBoot("arm-6.1-virt", 52, "distro");
    expect(b.kind).toBe("boot");
    if (b.kind === "boot") expect(kB(b.meminfo, "CmaTotal")).toBe(16384);
  });

  it("the boot's slab objects do not shrink with RAM: a small machine that boots holds the same dentries and inodes as 1 GiB", () => {
    const objs = (mem: number, cache: string) => {
      const k = boot("arm64-6.1", { mem: mem * MiB, config: "distro" });
      return Number(new RegExp(`^${cache} +\\d+ +(\\d+) `, "m").exec(k.proc("slabinfo"))![1]);
    };
    for (const cache of ["dentry", "inode_cache", "kernfs_node_cache"]) expect(objs(56, cache)).toBe(objs(1024, cache));
    expect(tryBoot("arm64-6.1", 52, "distro").kind).toBe("panic");
  });

  it("6.1 has nothing to reclaim for the initramfs: a machine whose tmpfs pages do not fit panics (la57 84 MiB) instead of booting with less page cache", () => {
    const o = tryBoot("x86_64-6.1-la57", 84, "distro");
    expect(o.kind).toBe("panic");
    if (o.kind !== "panic") return;
    expectOomPanic(o);
    expect(o.report[0]).toMatch(/gfp_mask=0x[0-9a-f]+\(GFP_HIGHUSER_MOVABLE[|A-Z_]*\)/);
    expect(tryBoot("x86_64-6.1-la57", 88, "distro").kind).toBe("boot");
  });

  it("x86_64 distro: 80 MiB runs out of memory during the boot, 84 MiB boots with what the boot leaves", () => {
    const a = tryBoot("x86_64-6.1", 80, "distro");
    expect(a.kind).toBe("panic");
    if (a.kind === "panic") expectOomPanic(a);
    const b = tryBoot("x86_64-6.1", 84, "distro");
    expect(b.kind).toBe("boot");
    // MemFree grows by the RAM added, one for one, past the boundary (the boot's demand does not scale with RAM there)
    const c = tryBoot("x86_64-6.1", 92, "distro");
    if (b.kind === "boot" && c.kind === "boot") expect(Math.abs(kB(c.meminfo, "MemFree") - kB(b.meminfo, "MemFree") - 8192)).toBeLessThan(256);
  });

  it("the unreclaimable slab is dumped when it outweighs the LRU pages, newest cache first, without SLAB_RECLAIM_ACCOUNT caches", () => {
    const o = tryBoot("arm64-6.1", 80, "distro");
    expect(o.kind).toBe("panic");
    if (o.kind !== "panic") return;
    const i = o.report.indexOf("Unreclaimable slab info:");
    expect(i).toBeGreaterThan(0);
    expect(o.report[i + 1]).toBe("Name                      Used          Total");
    const names = o.report.slice(i + 2, o.report.indexOf("Tasks state (memory values in pages):")).map((l) => l.split(/\s+/)[0]);
    expect(names).not.toContain("dentry");
    expect(names).not.toContain("inode_cache");
    expect(names[names.length - 1]).toBe("kmem_cache");
    for (const l of o.report.slice(i + 2, i + 2 + names.length)) expect(l).toMatch(/^\S+ +\d+KB +\d+KB$/);
  });

  it("a run on a machine that panics at boot is refused with the panic, and its bootLog is the log up to the panic's end", async () => {
    const r = await runModule("export function init() { return 0; }", { profile: "arm64-6.1", mem: 80 * MiB, config: "distro" });
    expect(r.bootRefused).toMatch(/^Kernel panic - not syncing: System is deadlocked on memory \(/);
    expect(r.bootLog[0]).toMatch(/\] Booting Linux on physical CPU /);
    expect(r.bootLog[r.bootLog.length - 1]).toMatch(/\] ---\[ end Kernel panic - not syncing: System is deadlocked on memory \]---$/);
  });
});
