import { describe, expect, it } from "vitest";
import { harness, GFP_KERNEL } from "../sched/harness.ts";

describe("kmemleak at rmmod (6.1 debug, kmemleak.verbose)", () => {
  it("reports each leaked slab object, large kmalloc and vmalloc area in the kernel's format, then the summary", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    let a = 0n,
      v = 0n;
    h.insmod(() =>
      h.call("mem_init", 4, () => {
        a = k.slab.kmalloc(100, GFP_KERNEL);
        k.physmem.writeBytes(k.pages.virt_to_phys(a), new TextEncoder().encode("hello, kmemleak!\x00\x01"));
        k.slab.kmalloc(10000, GFP_KERNEL);
        v = k.vmalloc.vmalloc(5000);
        const freed = k.slab.kmalloc(64, GFP_KERNEL);
        k.slab.kfree(freed);
      }),
    );
    k.current = { pid: 109, comm: "rmmod" };
    const mark = k.log.mark();
    const leaks = k.leakCheck();
    expect(leaks.map((l) => [l.kind, l.size])).toEqual(
      expect.arrayContaining([
        ["slab", 128],
        ["kmalloc_large", 10000],
        ["vmalloc", 8192],
      ]),
    );
    expect(leaks).toHaveLength(3);
    const out = h.since(mark);
    const i = out.indexOf(`kmemleak: unreferenced object 0x${a.toString(16)} (size 128):`);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(out[i + 1]).toMatch(/^kmemleak:   comm "insmod", pid 108, jiffies \d+ \(age 5\.\d{3}s\)$/);
    expect(out[i + 2]).toBe("kmemleak:   hex dump (first 32 bytes):");
    expect(out[i + 3]).toBe("kmemleak:     68 65 6c 6c 6f 2c 20 6b 6d 65 6d 6c 65 61 6b 21  hello, kmemleak!");
    expect(out[i + 4]).toMatch(/^kmemleak:     00 01 [0-9a-f ]{41}  \.\..{14}$/);
    expect(out[i + 5]).toBe("kmemleak:   backtrace:");
    expect(out[i + 6]).toMatch(/^kmemleak:     \[<[0-9a-f]{16}>\] kmalloc_trace\+0x[0-9a-f]+\/0x[0-9a-f]+$/);
    expect(out[i + 7]).toMatch(/^kmemleak:     \[<[0-9a-f]{16}>\] mem_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(out).toContain(`kmemleak: unreferenced object 0x${v.toString(16)} (size 8192):`);
    expect(out[out.length - 1]).toBe("kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)");
    const reps = k.reports.filter((r) => r.kind === "leak");
    expect(reps).toHaveLength(3);
    expect(reps[0].frames?.[0].fn).toBe("mem_init");
    expect(reps.every((r) => r.explain && r.explain.length > 20)).toBe(true);
  });

  it("no leak, no output", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() => h.call("mem_init", 4, () => k.slab.kfree(k.slab.kmalloc(100, GFP_KERNEL))));
    const mark = k.log.mark();
    expect(k.leakCheck()).toEqual([]);
    expect(h.since(mark)).toEqual([]);
  });

  it("pages from __get_free_pages are not tracked by kmemleak: a kmodlab note, no kernel text", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() => h.call("mem_init", 4, () => k.pages.__get_free_pages(GFP_KERNEL, 2)));
    const mark = k.log.mark();
    const leaks = k.leakCheck();
    expect(leaks.map((l) => [l.kind, l.size, l.reported])).toEqual([["pages", 16384, false]]);
    expect(h.since(mark)).toEqual([]);
    expect(k.reports.filter((r) => r.kind === "leak").map((r) => r.title)).toEqual([
      expect.stringMatching(/^kmodlab: 4 pages at 0x[0-9a-f]+ from the page allocator were never freed/),
    ]);
  });

  it("distro config (no kmemleak): nothing printed, leaks() still lists the facts", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    h.insmod(() => h.call("mem_init", 4, () => k.slab.kmalloc(100, GFP_KERNEL)));
    const mark = k.log.mark();
    const leaks = k.leakCheck();
    expect(leaks.map((l) => [l.kind, l.reported])).toEqual([["slab", false]]);
    expect(h.since(mark)).toEqual([]);
  });

  it("distro config: a kmodlab note per allocator and caller instead (count and bytes for many), none when all is freed", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    let v = 0n;
    h.insmod(() =>
      h.call("mem_init", 4, () => {
        for (let i = 0; i < 1000; i++) k.slab.kmalloc(2048, GFP_KERNEL);
        v = k.vmalloc.vmalloc(5000);
        k.slab.kfree(k.slab.kmalloc(64, GFP_KERNEL));
      }),
    );
    const mark = k.log.mark();
    expect(k.leakCheck()).toHaveLength(1001);
    expect(h.since(mark)).toEqual([]); // the kernel itself still says nothing
    const notes = k.reports.filter((r) => r.kind === "leak");
    expect(notes.map((r) => r.title).sort()).toEqual([
      expect.stringMatching(
        /^kmodlab: 1000 allocations \(2048000 bytes\) from kmalloc\(\)( in mem_init\(\))? were never freed \(this kernel is built without kmemleak/,
      ),
      `kmodlab: 8192 bytes at 0x${v.toString(16)} from vmalloc() in mem_init() were never freed (this kernel is built without kmemleak, so it says nothing; the debug config reports it)`,
    ]);
    expect(notes.every((r) => r.explain && /call (kfree|vfree)\(\)/.test(r.explain))).toBe(true);

    const clean = harness("x86_64-6.1", "distro");
    clean.insmod(() => clean.call("mem_init", 4, () => clean.k.slab.kfree(clean.k.slab.kmalloc(100, GFP_KERNEL))));
    expect(clean.k.leakCheck()).toEqual([]);
    expect(clean.k.reports.filter((r) => r.kind === "leak")).toEqual([]);
  });
});
