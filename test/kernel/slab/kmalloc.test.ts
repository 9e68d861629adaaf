// The kmalloc family per era: size classes, ksize, limits, zero-size pointers, bytes, caches and slabinfo.
import { describe, expect, it } from "vitest";
import { boot as kboot } from "../../../src/kernel/kernel.ts";
import { gfpFlags } from "../../../src/kernel/gfp.ts";
import { calculate_order } from "../../../src/kernel/mm/slub.ts";
import { PageOwner } from "../../../src/kernel/mm/page_flags.ts";

const G61 = gfpFlags("6.1");
const GFP_KERNEL = G61.GFP_KERNEL!;
const G26 = gfpFlags("2.6");

/** Boot with insmod as the current task (process context, as module_init runs). */
function boot(profile: string, opts: Parameters<typeof kboot>[1] = {}) {
  const k = kboot(profile, opts);
  k.current = { pid: 108, comm: "insmod" };
  return k;
}

function slabinfoLine(k: ReturnType<typeof boot>, name: string): string | undefined {
  return k
    .proc("slabinfo")
    .split("\n")
    .find((l) => l.split(" ")[0] === name);
}

describe("ksize table on x86_64-6.1 (real log: ksize(kmalloc(n)))", () => {
  const table: [number, number, boolean][] = [
    [1, 8, true],
    [8, 8, true],
    [9, 16, true],
    [96, 96, true],
    [100, 128, true],
    [200, 256, true],
    [1000, 1024, true],
    [5000, 8192, true],
    [10000, 16384, false],
    [100000, 131072, false],
  ];
  for (const config of ["distro", "debug"] as const) {
    it(`rounds each request up as the real kernel does (${config})`, () => {
      const k = boot("x86_64-6.1", { config });
      for (const [n, ks, slab] of table) {
        const p = k.slab.kmalloc(n, GFP_KERNEL);
        expect(p).not.toBe(0n);
        expect(k.slab.ksize(p), `ksize(kmalloc(${n}))`).toBe(ks);
        expect(k.slab.kmalloc_size_roundup(n)).toBe(ks);
        expect(k.slab.objectAt(p)!.via).toBe(slab ? "slab" : "page");
        if (!slab) expect(k.pages.ownerOf(k.slab.pfnOf(p))).toBe(PageOwner.KmallocLarge);
        else expect(k.pages.ownerOf(k.slab.pfnOf(p))).toBe(PageOwner.Slab);
        k.slab.kfree(p);
      }
      expect(k.slab.checkInvariants()).toEqual([]);
    });
  }
});

describe("kmalloc caches: objects and pages per slab", () => {
  it("match the real x86_64 6.1 slabinfo columns (1 CPU)", () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    const real: Record<string, [number, number, number]> = {
      "kmalloc-8k": [8192, 4, 8],
      "kmalloc-4k": [4096, 8, 8],
      "kmalloc-2k": [2048, 8, 4],
      "kmalloc-1k": [1024, 8, 2],
      "kmalloc-512": [512, 8, 1],
      "kmalloc-256": [256, 16, 1],
      "kmalloc-192": [192, 21, 1],
      "kmalloc-128": [128, 32, 1],
      "kmalloc-96": [96, 42, 1],
      "kmalloc-64": [64, 64, 1],
      "kmalloc-32": [32, 128, 1],
      "kmalloc-16": [16, 256, 1],
      "kmalloc-8": [8, 512, 1],
      "dma-kmalloc-8k": [8192, 4, 8],
      "kmalloc-cg-1k": [1024, 8, 2],
      "kmalloc-rcl-192": [192, 21, 1],
      task_struct: [6208, 5, 8],
      signal_cache: [1152, 14, 4],
      sighand_cache: [2112, 15, 8],
      inode_cache: [640, 12, 2],
    };
    for (const [name, [objsize, per, pages]] of Object.entries(real)) {
      const cols = slabinfoLine(k, name)!.trim().split(/\s+/);
      expect([Number(cols[3]), Number(cols[4]), Number(cols[5])], name).toEqual([objsize, per, pages]);
    }
  });

  it("follow calculate_order's min_objects = 4 * (fls(nr_cpus) + 1) for other CPU counts", () => {
    // kernel-facts §4.4, 4 CPUs: kmalloc-8 512/1, kmalloc-1k 16/4, kmalloc-2k 16/8, kmalloc-4k 8/8, kmalloc-8k 4/8
    const per = (size: number, cpus: number) => {
      const o = calculate_order(size, cpus, 11);
      return [Math.floor((4096 << o) / size), 1 << o];
    };
    expect(per(8, 4)).toEqual([512, 1]);
    expect(per(1024, 4)).toEqual([16, 4]);
    expect(per(2048, 4)).toEqual([16, 8]);
    expect(per(4096, 4)).toEqual([8, 8]);
    expect(per(8192, 4)).toEqual([4, 8]);
    expect(per(1024, 1)).toEqual([8, 2]);
    expect(per(1024, 2)).toEqual([16, 4]); // min_objects 12 -> order 2
  });

  it("lists the kmalloc caches in the real kernel's order (newest first: dma, rcl, cg, normal)", () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    const names = k
      .proc("slabinfo")
      .split("\n")
      .slice(2)
      .map((l) => l.split(" ")[0])
      .filter((n) => /kmalloc/.test(n));
    const sizes = ["8k", "4k", "2k", "1k", "512", "256", "192", "128", "96", "64", "32", "16", "8"];
    const want = [
      ...sizes.map((s) => `dma-kmalloc-${s}`),
      ...sizes.map((s) => `kmalloc-rcl-${s}`),
      ...sizes.map((s) => `kmalloc-cg-${s}`),
      ...sizes.map((s) => `kmalloc-${s}`),
    ];
    expect(names).toEqual(want);
    const tail = k
      .proc("slabinfo")
      .trimEnd()
      .split("\n")
      .slice(-2)
      .map((l) => l.split(" ")[0]);
    expect(tail).toEqual(["kmem_cache_node", "kmem_cache"]);
  });

  it("armmp (KMALLOC_MIN_SIZE 64) has no kmalloc-8..32 nor -96, and serves 1 byte from kmalloc-64", () => {
    const k = boot("arm-6.1-virt", { config: "distro" });
    const names = k.slab.caches().map((c) => c.name);
    for (const n of ["kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-96"]) expect(names).not.toContain(n);
    expect(names).toContain("kmalloc-192");
    const p = k.slab.kmalloc(1, GFP_KERNEL);
    expect(k.slab.objectAt(p)!.cache).toBe("kmalloc-64");
    expect(k.slab.kmalloc(70, GFP_KERNEL)).not.toBe(0n);
    expect(k.slab.objectAt(k.slab.kmalloc(70, GFP_KERNEL))!.cache).toBe("kmalloc-128");
  });

  it("the boot line is the era's SLUB line", () => {
    expect(boot("x86_64-6.1").log.texts()).toContain("SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=1, Nodes=1");
  });

  it("__GFP_DMA selects dma-kmalloc-*, __GFP_RECLAIMABLE kmalloc-rcl-*, __GFP_ACCOUNT kmalloc-cg-*", () => {
    const k = boot("x86_64-6.1");
    expect(k.slab.objectAt(k.slab.kmalloc(100, GFP_KERNEL | G61.__GFP_DMA!))!.cache).toBe("dma-kmalloc-128");
    expect(k.slab.objectAt(k.slab.kmalloc(100, GFP_KERNEL | G61.__GFP_RECLAIMABLE!))!.cache).toBe("kmalloc-rcl-128");
    expect(k.slab.objectAt(k.slab.kmalloc(100, GFP_KERNEL | G61.__GFP_ACCOUNT!))!.cache).toBe("kmalloc-cg-128");
  });
});

describe("the kmalloc ceiling per era", () => {
  it("2.6 SLAB refuses 131073 bytes silently (no size-262144 cache), 6.1 grants it from the page allocator", () => {
    const k26 = boot("i386-2.6");
    const m = k26.log.mark();
    expect(k26.slab.kmalloc(131072, G26.GFP_KERNEL!)).not.toBe(0n);
    expect(k26.slab.kmalloc(131073, G26.GFP_KERNEL!)).toBe(0n);
    expect(k26.slab.kmalloc(4194305, G26.GFP_KERNEL!)).toBe(0n);
    expect(k26.log.texts(m)).toEqual([]);
    expect(k26.reports).toEqual([]);
    const k61 = boot("x86_64-6.1");
    const p = k61.slab.kmalloc(131073, GFP_KERNEL);
    expect(p).not.toBe(0n);
    expect(k61.slab.ksize(p)).toBe(262144);
  });

  it("6.1 refuses KMALLOC_MAX_SIZE + 1 with __alloc_pages' WARNING (as in the real log), silently with __GFP_NOWARN", () => {
    const k = boot("x86_64-6.1");
    expect(k.slab.kmalloc(4194305, GFP_KERNEL | G61.__GFP_NOWARN!)).toBe(0n);
    expect(k.reports).toEqual([]);
    expect(k.slab.kmalloc(4194305, GFP_KERNEL)).toBe(0n);
    expect(k.reports.map((r) => r.title)).toEqual(["WARNING: CPU: 0 PID: 108 at mm/page_alloc.c:5634 __alloc_pages+0x2a9/0x330"]);
    const big = k.slab.kmalloc(4194304, GFP_KERNEL);
    expect(big).not.toBe(0n);
    expect(k.slab.ksize(big)).toBe(4194304);
  });

  it("armmp's KMALLOC_MAX_SIZE is 8 MiB (MAX_ORDER 12)", () => {
    const k = boot("arm-6.1-virt");
    expect(k.slab.kmalloc(8388608, GFP_KERNEL)).not.toBe(0n);
    expect(k.slab.kmalloc(8388609, GFP_KERNEL | G61.__GFP_NOWARN!)).toBe(0n);
  });

  it("kmalloc(0) is ZERO_SIZE_PTR (16) and kfree of it or of NULL is fine", () => {
    for (const prof of ["x86_64-6.1", "i386-2.6", "arm-3.4-msm8x25"]) {
      const k = boot(prof);
      const gk = gfpFlags(k.profile.era).GFP_KERNEL!;
      expect(k.slab.kmalloc(0, gk)).toBe(16n);
      k.slab.kfree(16n);
      k.slab.kfree(0n);
      expect(k.slab.ksize(16n)).toBe(0);
      expect(k.reports).toEqual([]);
    }
  });

  it("kmalloc_array and kcalloc give NULL when n * size overflows", () => {
    const k = boot("x86_64-6.1");
    expect(k.slab.kmalloc_array(2 ** 33, 2 ** 32, GFP_KERNEL)).toBe(0n);
    expect(k.slab.kcalloc(2 ** 40, 2 ** 30, GFP_KERNEL)).toBe(0n);
    expect(k.slab.kmalloc_array(10, 10, GFP_KERNEL)).not.toBe(0n);
  });
});

describe("object bytes", () => {
  it("a fresh kmalloc shows the stale bytes of the slot (no init_on_alloc), kzalloc gives zeros", () => {
    const k = boot("x86_64-6.1", { config: "distro", cmdline: "console=ttyS0 init_on_alloc=0" });
    const p = k.slab.kmalloc(64, GFP_KERNEL);
    k.physmem.fill(k.slab.phys(p), 64, 0x41);
    k.slab.kfree(p);
    const q = k.slab.kmalloc(64, GFP_KERNEL);
    expect(q).toBe(p); // LIFO freelist
    const b = k.physmem.readBytes(k.slab.phys(q), 64);
    // the free pointer sits in the middle of the object (offset 32) in 6.1; the rest is the old data
    expect([...b.subarray(0, 32)].every((x) => x === 0x41)).toBe(true);
    expect([...b.subarray(40, 64)].every((x) => x === 0x41)).toBe(true);
    k.slab.kfree(q);
    const z = k.slab.kzalloc(64, GFP_KERNEL);
    expect([...k.physmem.readBytes(k.slab.phys(z), 64)].every((x) => x === 0)).toBe(true);
  });

  it("the Debian distro kernel zeroes every kmalloc (CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y)", () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    const p = k.slab.kmalloc(64, GFP_KERNEL);
    k.physmem.fill(k.slab.phys(p), 64, 0x41);
    k.slab.kfree(p);
    const q = k.slab.kmalloc(64, GFP_KERNEL);
    expect([...k.physmem.readBytes(k.slab.phys(q), 64)].every((x) => x === 0)).toBe(true);
  });

  it("under slub_debug a fresh object holds the poison pattern 0x6b...0xa5", () => {
    const k = boot("x86_64-6.1", { config: "debug" });
    const p = k.slab.kmalloc(100, GFP_KERNEL);
    const b = k.physmem.readBytes(k.slab.phys(p), 128);
    expect([...b.subarray(0, 127)].every((x) => x === 0x6b)).toBe(true);
    expect(b[127]).toBe(0xa5);
    // the right red zone is active (0xcc) after the object
    expect(k.physmem.read8(k.slab.phys(p) + 128)).toBe(0xcc);
  });

  it("krealloc moves the contents, kstrdup writes the string with its NUL", () => {
    const k = boot("x86_64-6.1");
    const s = k.slab.kstrdup("hello", GFP_KERNEL);
    expect([...k.physmem.readBytes(k.slab.phys(s), 6)]).toEqual([104, 101, 108, 108, 111, 0]);
    const t = k.slab.krealloc(s, 300, GFP_KERNEL);
    expect(t).not.toBe(s);
    expect([...k.physmem.readBytes(k.slab.phys(t), 6)]).toEqual([104, 101, 108, 108, 111, 0]);
    expect(k.slab.objectAt(s)!.live).toBe(false);
    expect(k.slab.objectAt(t)!.requested).toBe(300);
  });

  it("a constructor runs on every object of each new slab, not on each allocation", () => {
    const k = boot("x86_64-6.1");
    const seen: bigint[] = [];
    const c = k.slab.kmem_cache_create("ctor_test", 200, 0, 0, (o) => {
      seen.push(o);
      k.physmem.write32(k.slab.phys(o), 0xdeadbeef);
    })!;
    const a = k.slab.kmem_cache_alloc(c, GFP_KERNEL);
    expect(seen.length).toBe(c.objects);
    expect(k.physmem.read32(k.slab.phys(a))).toBe(0xdeadbeef);
    k.slab.kmem_cache_free(c, a);
    k.slab.kmem_cache_alloc(c, GFP_KERNEL);
    expect(seen.length).toBe(c.objects);
  });
});

describe("module caches", () => {
  it("a 72-byte cache appears in slabinfo while it exists (debug: no merging), newest first, then goes", () => {
    const k = boot("x86_64-6.1");
    const c = k.slab.kmem_cache_create("kmodlab_item", 72, 0, 0)!;
    const objs = Array.from({ length: 100 }, () => k.slab.kmem_cache_alloc(c, GFP_KERNEL));
    const lines = k.proc("slabinfo").split("\n");
    expect(lines[2].startsWith("kmodlab_item ")).toBe(true);
    expect(lines[2].trim().split(/\s+/).slice(1, 3)).toEqual(["100", String(Math.ceil(100 / c.objects) * c.objects)]);
    const info = k.slab.caches().find((x) => x.name === "kmodlab_item")!;
    expect(info.objectSize).toBe(72);
    expect(k.slab.liveObjects({ boot: false }).filter((o) => o.cache === "kmodlab_item").length).toBe(100);
    for (const o of objs) k.slab.kmem_cache_free(c, o);
    k.slab.kmem_cache_destroy(c);
    expect(slabinfoLine(k, "kmodlab_item")).toBeUndefined();
    expect(k.reports).toEqual([]);
  });

  it("the distro 6.1 kernel merges a plain 72-byte cache into Acpi-Operand (an alias, not listed)", () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    const c = k.slab.kmem_cache_create("kmodlab_item", 72, 0, 0)!;
    const p = k.slab.kmem_cache_alloc(c, GFP_KERNEL);
    expect(k.slab.objectAt(p)!.cache).toBe("Acpi-Operand");
    expect(slabinfoLine(k, "kmodlab_item")).toBeUndefined();
    expect(k.slab.caches().find((x) => x.name === "kmodlab_item")!.aliasOf).toBe("Acpi-Operand");
    const k2 = boot("x86_64-6.1", { config: "distro", cmdline: "console=ttyS0 slub_nomerge" });
    k2.slab.kmem_cache_create("kmodlab_item", 72, 0, 0);
    expect(slabinfoLine(k2, "kmodlab_item")).toBeDefined();
  });
});

describe("2.6 SLAB geometry and slabinfo", () => {
  it("prints the classic size-N lines with enable_cpucache tunables", () => {
    const k = boot("i386-2.6");
    const col = (n: string) => slabinfoLine(k, n)!.trim().split(/\s+/);
    const geo = (n: string) => {
      const c = col(n);
      return [c[3], c[4], c[5], c[8], c[9], c[10]].map(Number);
    };
    expect(geo("size-32")).toEqual([32, 113, 1, 120, 60, 0]);
    expect(geo("size-64")).toEqual([64, 59, 1, 120, 60, 0]);
    expect(geo("size-128")).toEqual([128, 30, 1, 120, 60, 0]);
    expect(geo("size-256")).toEqual([256, 15, 1, 120, 60, 0]);
    expect(geo("size-512")).toEqual([512, 8, 1, 54, 27, 0]);
    expect(geo("size-2048")).toEqual([2048, 2, 1, 24, 12, 0]);
    expect(geo("size-4096")).toEqual([4096, 1, 1, 24, 12, 0]);
    expect(geo("size-8192")).toEqual([8192, 1, 2, 8, 4, 0]);
    expect(geo("size-131072(DMA)")).toEqual([131072, 1, 32, 8, 4, 0]);
    const names = k
      .proc("slabinfo")
      .split("\n")
      .map((l) => l.split(" ")[0]);
    expect(names.indexOf("size-131072(DMA)")).toBeLessThan(names.indexOf("size-131072"));
    expect(names.indexOf("size-32")).toBeGreaterThan(names.indexOf("size-32(DMA)"));
    expect(names).not.toContain("size-262144");
    expect(names).not.toContain("size-96");
  });

  it("off-slab management of size-512 slabs comes from size-64", () => {
    const k = boot("i386-2.6");
    const before = k.slab.caches().find((c) => c.name === "size-64")!.activeObjs;
    const c512 = k.slab.caches().find((c) => c.name === "size-512")!;
    const ps: bigint[] = [];
    for (let i = 0; i < c512.numObjs - c512.activeObjs + 8; i++) ps.push(k.slab.kmalloc(500, G26.GFP_KERNEL!));
    expect(k.slab.caches().find((c) => c.name === "size-64")!.activeObjs).toBe(before + 1);
    expect(k.slab.checkInvariants()).toEqual([]);
  });

  it("slab error at kmem_cache_destroy with objects left (SLAB)", () => {
    const k = boot("i386-2.6");
    const c = k.slab.kmem_cache_create("leaky", 100, 0, 0)!;
    k.slab.kmem_cache_alloc(c, G26.GFP_KERNEL!);
    k.slab.kmem_cache_destroy(c);
    expect(k.reports.map((r) => r.title)).toEqual(["slab error in kmem_cache_destroy(): cache `leaky': Can't free all objects"]);
    expect(slabinfoLine(k, "leaky")).toBeDefined();
  });
});

describe("3.4 SLUB", () => {
  it("uses the byte names kmalloc-1024 .. kmalloc-8192 and prints Genslabs", () => {
    const k = boot("arm-3.4-msm8x25");
    const names = k.slab.caches().map((c) => c.name);
    for (const n of ["kmalloc-1024", "kmalloc-2048", "kmalloc-4096", "kmalloc-8192", "dma-kmalloc-8192"]) expect(names).toContain(n);
    expect(names).not.toContain("kmalloc-1k");
    expect(k.log.texts().some((l) => /^SLUB: Genslabs=\d+, HWalign=64, Order=0-3, MinObjects=0, CPUs=2, Nodes=1$/.test(l))).toBe(true);
    const p = k.slab.kmalloc(8193, gfpFlags("3.4").GFP_KERNEL!);
    expect(k.slab.objectAt(p)!.via).toBe("page");
  });
});
