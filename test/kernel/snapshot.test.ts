// Boot once, restore many (src/kernel/snapshot.ts, issue 18): a snapshot of a booted kernel is the machine boot()
// builds, field by field, whatever a run did to another snapshot of the same template before; runs on snapshots give
// the RunResults of runs on fresh boots; the copy refuses what it cannot copy.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { BootCache, SideTable, SnapshotError, SnapshotPlan, bootKey, immutable, rebindable, snapshot, stateless } from "../../src/kernel/snapshot.ts";
import { loadKernelDeps, runModule, kernelBootCache, type KernelDeps, type RunOptions } from "../../sandbox/run.ts";
import type { BootOptions } from "../../src/kernel/types.ts";
import { PhysMem } from "../../src/kernel/mm/physmem.ts";
import { OwnedChunks, PageArray } from "../../src/kernel/mm/page_array.ts";
import { formatTimestamp } from "../../src/kernel/kernel/printk.ts";

const REBIND = Object.getOwnPropertySymbols(rebindable(function (this: unknown) {}, null)).find((s) => s.description === "kmodlab.rebind")!;

/**
 * Differences between two object graphs, compared pairwise from their roots: same prototypes, same own property
 * descriptors (names, flags, values), Maps and Sets entry by entry in order, typed arrays byte for byte, functions by
 * what they bind, and the same sharing (an object reached twice in one graph is reached twice in the other).
 */
function differences(a: unknown, b: unknown, limit = 10): string[] {
  const out: string[] = [];
  const pairs = new Map<unknown, unknown>();
  const rev = new Map<unknown, unknown>();
  const stack: [unknown, unknown, string][] = [[a, b, "k"]];
  const bad = (p: string, why: string) => out.push(`${p}: ${why}`);
  while (stack.length && out.length < limit) {
    const [x, y, p] = stack.pop()!;
    if (x === y && (x === null || (typeof x !== "object" && typeof x !== "function"))) continue;
    if (typeof x !== typeof y) {
      bad(p, `${typeof x} vs ${typeof y}`);
      continue;
    }
    if (x === null || y === null || (typeof x !== "object" && typeof x !== "function")) {
      if (!Object.is(x, y)) bad(p, `${String(x)} vs ${String(y)}`);
      continue;
    }
    if (pairs.has(x) || rev.has(y)) {
      if (pairs.get(x) !== y || rev.get(y) !== x) bad(p, "shared differently");
      continue;
    }
    pairs.set(x, y);
    rev.set(y, x);
    if (typeof x === "function") {
      const rx = (x as unknown as Record<symbol, { fn: unknown; thisArg: unknown; args: unknown[] }>)[REBIND];
      const ry = (y as unknown as Record<symbol, { fn: unknown; thisArg: unknown; args: unknown[] }>)[REBIND];
      if (!rx || !ry) {
        if (x !== y) bad(p, "different functions");
        continue;
      }
      if (rx.fn !== ry.fn) bad(p, "binds different functions");
      stack.push([rx.thisArg, ry.thisArg, `${p}.<this>`], [rx.args, ry.args, `${p}.<args>`]);
      continue;
    }
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) {
      bad(p, "different prototypes");
      continue;
    }
    if (x instanceof PhysMem) {
      // compared by what it holds: its copy-on-write bookkeeping (shared frames, cached views) is per copy
      const px = x.touchedFrames();
      const py = (y as PhysMem).touchedFrames();
      if (px.join() !== py.join()) bad(p, "different frames hold bytes");
      else
        for (const pfn of px)
          if (x.readBytes(pfn * 4096, 4096).some((c, i) => c !== (y as PhysMem).readBytes(pfn * 4096, 4096)[i])) bad(`${p} frame ${pfn}`, "bytes differ");
      const rest = (o: object) => Object.fromEntries(Object.entries(o).filter(([k]) => !["frames", "views", "shared", "sharedViews"].includes(k)));
      stack.push([rest(x), rest(y as object), p]);
      continue;
    }
    if (x instanceof PageArray) {
      // compared by what it holds: each chunk's values, and which chunks are templates (shared read-only, uniformOf);
      // whether a chunk's own values sit in an array of its own or one shared with a snapshot is per copy
      const y2 = y as PageArray<Uint8Array>;
      const x2 = x as PageArray<Uint8Array>;
      if (x2.chunks.length !== y2.chunks.length) bad(p, "different chunk counts");
      else
        for (let ci = 0; ci < x2.chunks.length; ci++) {
          if ((x2.shared[ci] === 1) !== (y2.shared[ci] === 1)) bad(`${p} chunk ${ci}`, "a template on one side only");
          else if (x2.uniformOf(ci) !== y2.uniformOf(ci) || x2.chunks[ci]!.some((v, i) => v !== y2.chunks[ci]![i])) bad(`${p} chunk ${ci}`, "values differ");
          // a template is compared as any shared object: the same template on both sides (page_alloc's free-block
          // pattern is also a field of the allocator)
          else if (x2.shared[ci] === 1) stack.push([x2.chunks[ci], y2.chunks[ci], `${p} chunk ${ci}`]);
        }
      const rest = (o: object) => Object.fromEntries(Object.entries(o).filter(([k]) => !["chunks", "shared"].includes(k)));
      stack.push([rest(x), rest(y as object), p]);
      continue;
    }
    // which chunks a PageAllocator knows to be its own: a cache of the write path's check, cleared at a snapshot
    if (x instanceof OwnedChunks) continue;
    if (ArrayBuffer.isView(x)) {
      const u = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      const v = new Uint8Array((y as ArrayBufferView).buffer, (y as ArrayBufferView).byteOffset, (y as ArrayBufferView).byteLength);
      if (u.length !== v.length || u.some((c, i) => c !== v[i])) bad(p, "typed array contents differ");
      if (x.buffer === (y as ArrayBufferView).buffer) bad(p, "shares its buffer with the other graph");
      continue;
    }
    if (x instanceof Map) {
      const ex = [...x];
      const ey = [...(y as Map<unknown, unknown>)];
      if (ex.length !== ey.length) bad(p, `Map of ${ex.length} vs ${ey.length} entries`);
      else ex.forEach(([k1, v1], i) => stack.push([k1, ey[i]![0], `${p}.<key ${i}>`], [v1, ey[i]![1], `${p}.get(${typeof k1 === "object" ? i : String(k1)})`]));
    }
    if (x instanceof Set) {
      const ex = [...x];
      const ey = [...(y as Set<unknown>)];
      if (ex.length !== ey.length) bad(p, `Set of ${ex.length} vs ${ey.length} entries`);
      else ex.forEach((v1, i) => stack.push([v1, ey[i], `${p}.<element ${i}>`]));
    }
    if (Object.isFrozen(x) !== Object.isFrozen(y) || Object.isExtensible(x) !== Object.isExtensible(y)) bad(p, "frozen/extensible differ");
    const kx = Reflect.ownKeys(x);
    const ky = Reflect.ownKeys(y as object);
    if (kx.length !== ky.length || kx.some((k, i) => k !== ky[i])) {
      const missing = kx.filter((k) => !ky.includes(k)).map(String);
      const extra = ky.filter((k) => !kx.includes(k)).map(String);
      bad(p, `own keys differ (only in the first: ${missing.join(", ") || "-"}; only in the second: ${extra.join(", ") || "-"}; or their order)`);
      continue;
    }
    for (const k of kx) {
      const dx = Object.getOwnPropertyDescriptor(x, k)!;
      const dy = Object.getOwnPropertyDescriptor(y, k)!;
      const q = `${p}.${String(k)}`;
      if (dx.enumerable !== dy.enumerable || dx.configurable !== dy.configurable || dx.writable !== dy.writable || "value" in dx !== "value" in dy) {
        bad(q, "descriptors differ");
        continue;
      }
      if ("value" in dx) stack.push([dx.value, dy.value, q]);
      else stack.push([dx.get, dy.get, `${q}.get`], [dx.set, dy.set, `${q}.set`]);
    }
  }
  return out;
}

/** A cell that changes much of the machine: leaks from kmalloc, vmalloc and a cache, pages, memory written, timers,
 *  printk (ratelimited warn_alloc too), a double free (KASAN's or SLUB's report; on 2.6 an Oops: its die counter is
 *  module-level state). */
const DIRTY_61 = `import { kmalloc, kfree, vmalloc, vfree, __get_free_pages, kmem_cache_create, kmem_cache_alloc, printk, KERN_INFO, GFP_KERNEL,
  memset, MODULE_LICENSE, module_init, module_exit, timer_list, timer_setup, mod_timer, jiffies } from "linux";
MODULE_LICENSE("GPL");
const t = new timer_list();
let q = 0n;
module_init(() => {
  q = kmalloc(64, GFP_KERNEL);
  for (let i = 0; i < 300; i++) kmalloc(32 + i, GFP_KERNEL);
  const p = kmalloc(4096, GFP_KERNEL); memset(p, 0x5a, 4096); kfree(p);
  for (let i = 0; i < 4; i++) vmalloc(1 << 20);
  vmalloc(2 ** 40);
  __get_free_pages(GFP_KERNEL, 3);
  const c = kmem_cache_create("dirty_cache", 200, 0, 0, null);
  for (let i = 0; i < 50; i++) kmem_cache_alloc(c, GFP_KERNEL);
  timer_setup(t, () => printk(KERN_INFO + "tick\\n"), 0);
  mod_timer(t, jiffies + 5);
  printk(KERN_INFO + "dirty %d\\n", 42);
  return 0;
});
module_exit(() => { kfree(q); kfree(q); });`;
/** The same cell for a profile's era (timer_setup arrived in 4.15: setup_timer before). */
const dirtyFor = (profile: string) => (/-(2\.6|3\.4)/.test(profile) ? DIRTY_61.replace(/timer_setup/g, "setup_timer") : DIRTY_61);
const DIRTY = DIRTY_61;

const CLEAN = readFileSync(new URL("../../examples/memdemo.ts", import.meta.url), "utf8");

const TARGETS: [string, "debug" | "distro"][] = [
  ["x86_64-6.1", "debug"],
  ["x86_64-6.1", "distro"],
  ["i386-6.1", "debug"],
  ["arm-6.1-virt", "debug"],
  ["arm64-6.1", "debug"],
  ["i386-2.6", "debug"],
  ["i386-2.6", "distro"],
  ["arm-3.4-msm8x25", "distro"],
];

/** A RunResult without its wall time, for comparison. */
const comparable = (r: unknown) => JSON.stringify(r, (k, v) => (k === "wallMs" ? 0 : typeof v === "bigint" ? `${v}n` : v));

describe("kernel snapshots (boot once, restore many)", async () => {
  const real = await loadKernelDeps();
  const onKernel = (k: Kernel): KernelDeps => ({ ...real, boot: () => k });

  for (const [profile, config] of TARGETS) {
    it(`a snapshot equals a fresh boot field by field after another snapshot ran a dirtying cell (${profile} ${config})`, async () => {
      const template = boot(profile, { config });
      const first = snapshot(template);
      const dirty = await runModule(dirtyFor(profile), { profile, config }, onKernel(first));
      expect(dirty.dmesg.length).toBeGreaterThan(0);
      expect(dirty.module?.loaded).toBe(true);
      const second = snapshot(template);
      expect(differences(second, boot(profile, { config }))).toEqual([]);
      expect(differences(template, boot(profile, { config }))).toEqual([]);
      // and the run that dirtied its copy left it different from a fresh machine (the comparison can fail)
      expect(differences(first, boot(profile, { config })).length).toBeGreaterThan(0);
    });

    it(`a compiled copy (SnapshotPlan) equals a fresh boot field by field after another of its copies ran a dirtying cell (${profile} ${config})`, async () => {
      const template = boot(profile, { config });
      const plan = new SnapshotPlan(template);
      const first = plan.copy();
      const dirty = await runModule(dirtyFor(profile), { profile, config }, onKernel(first));
      expect(dirty.module?.loaded).toBe(true);
      expect(differences(first, boot(profile, { config })).length).toBeGreaterThan(0);
      expect(differences(plan.copy(), boot(profile, { config }))).toEqual([]);
      expect(differences(template, boot(profile, { config }))).toEqual([]);
    });
  }

  it("a clean cell after a dirtying one on the same snapshot template gives the fresh boot's RunResult, byte for byte", async () => {
    for (const [profile, config] of [TARGETS[0]!, TARGETS[5]!]) {
      const template = boot(profile, { config, seed: 7 });
      await runModule(dirtyFor(profile), { profile, config, seed: 7 }, onKernel(snapshot(template)));
      for (const src of [CLEAN, dirtyFor(profile)]) {
        const restored = await runModule(
          src,
          { profile, config, seed: 7, proc: ["meminfo", "slabinfo", "vmallocinfo", "buddyinfo"], checkInvariants: true },
          onKernel(snapshot(template)),
        );
        const fresh = await runModule(
          src,
          { profile, config, seed: 7, proc: ["meminfo", "slabinfo", "vmallocinfo", "buddyinfo"], checkInvariants: true },
          onKernel(boot(profile, { config, seed: 7 })),
        );
        expect(comparable(restored)).toBe(comparable(fresh));
      }
    }
  });

  it("runs on compiled copies of one template: a cell that corrupts the kernel, leaks, and changes the guest's globals, then clean runs byte-identical to runs on fresh boots", async () => {
    // the kernel's own structures scribbled over through memory (a freed object written, a page's bytes, a slab
    // freelist pointer, writes past an object's end, a boot object's and a page table's bytes), pages freed and
    // freed twice, struct page fields of many chunks changed (the chunks a copy shares copy-on-write: page_array.ts),
    // page tables made and torn down, leaks left behind, the guest's builtins replaced: none of it may reach the next
    // run
    const HOSTILE = `import { kmalloc, kfree, __get_free_page, __get_free_pages, free_pages, alloc_pages, __free_pages, memset, memcpy, vmalloc, vfree, ioremap, iounmap,
  virt_to_phys, phys_to_virt, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
(Array.prototype as any).push = () => 0; (Object as any).freeze = (x: unknown) => x; (globalThis as any).leaked = 1;
module_init(() => {
  const p = kmalloc(64, GFP_KERNEL); kfree(p); memset(p, 0x41, 64);
  memset(__get_free_page(GFP_KERNEL), 0x5a, 4096);
  for (let i = 0; i < 50; i++) kmalloc(512, GFP_KERNEL);
  const q = kmalloc(100, GFP_KERNEL); memset(q, 0x77, 300); memcpy(q + 96n, p, 64);
  const pages: bigint[] = [];
  for (let order = 0; order < 11; order++) pages[order] = __get_free_pages(GFP_KERNEL, order); // (push is replaced above)
  for (let i = 0; i < pages.length; i += 2) free_pages(pages[i]!, i);
  const v = vmalloc(1 << 20); memset(v, 0x66, 1 << 20); vfree(v);
  vmalloc(3 << 20);
  const io = ioremap(0xfebf0000n, 0x4000); iounmap(io);
  memset(phys_to_virt(virt_to_phys(pages[3]!) - 0x200000n), 0x13, 64);
  const pg = alloc_pages(GFP_KERNEL, 2); __free_pages(pg, 2); __free_pages(pg, 2);
  free_pages(pages[0]!, 0);
  return 0;
});`;
    const PROBE = `import { printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => { printk(KERN_INFO + "%s %s\\n", typeof (globalThis as any).leaked, String([1].push(2))); return 0; });`;
    for (const [profile, config] of [TARGETS[0]!, TARGETS[6]!]) {
      const opts: RunOptions = { profile, config, seed: 3, proc: ["meminfo", "slabinfo", "vmallocinfo", "buddyinfo"], checkInvariants: true };
      const plan = new SnapshotPlan(boot(profile, { config, seed: 3 }));
      const hostile = await runModule(HOSTILE, opts, onKernel(plan.copy()));
      expect(hostile.reports.some((r) => r.kind === "leak" || r.kind === "kasan" || r.kind === "bug")).toBe(true);
      for (const src of [CLEAN, PROBE, dirtyFor(profile)]) {
        const restored = await runModule(src, opts, onKernel(plan.copy()));
        const fresh = await runModule(src, opts, onKernel(boot(profile, { config, seed: 3 })));
        expect(comparable(restored)).toBe(comparable(fresh));
        if (src === PROBE) expect(restored.dmesg.join("\n")).toMatch(/undefined 2/);
      }
    }
  });

  it("a run that writes the boot's untouched full slabs (kfree, ksize, krealloc of boot objects, raw writes over a slab's page) never writes them in place: the template and its next copy stay a fresh boot", async () => {
    // The copies share those slabs with the template as columns (src/kernel/mm/slub_boot_tail.ts): a write must make
    // the slabs of its cache the copy's own objects first. This fails if any of these paths wrote a shared slab.
    for (const config of ["debug", "distro"] as const) {
      const profile = "x86_64-6.1";
      const template = boot(profile, { config, seed: 9 });
      const plan = new SnapshotPlan(template);
      const tails = template.slab.liveTails().filter(([, t]) => t.objects[0]! > 2);
      expect(tails.length).toBeGreaterThan(4);
      const bytes = () =>
        template.slab
          .liveTails()
          .map(
            ([c, t]) =>
              `${c.id}:${[t.pfn, t.order, t.objects, t.slotStart].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex")).join(",")}`,
          )
          .join(";");
      const before = bytes();
      const objAt = (i: number, obj: number) => {
        const [c, t] = tails[i]!;
        return `0x${(template.pages.page_address(t.pfn[0]!) + BigInt(t.slotStart[0]! + c.redLeftPad + obj * c.size)).toString(16)}n`;
      };
      const page = `0x${template.pages.page_address(tails[3]![1].pfn[0]!).toString(16)}n`;
      const cell = `import { kfree, ksize, krealloc, memset, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
  kfree(${objAt(0, 1)});
  printk(KERN_INFO + "%zu\\n", ksize(${objAt(1, 0)}));
  krealloc(${objAt(2, 1)}, 8, GFP_KERNEL);
  memset(${page}, 0x5a, 4096);
  return 0;
});`;
      const copy = plan.copy();
      const run = await runModule(cell, { profile, config, seed: 9 }, onKernel(copy));
      expect(run.module?.loaded).toBe(true);
      expect(bytes()).toBe(before);
      for (const [c, t] of tails) expect(template.slab.cacheList.find((x) => x.id === c.id)!.bootTail).toBe(t);
      expect(differences(template, boot(profile, { config, seed: 9 }))).toEqual([]);
      expect(differences(plan.copy(), boot(profile, { config, seed: 9 }))).toEqual([]);
      // and the run reached the tails: the copy made each cache it wrote its own
      for (let i = 0; i < 3; i++) expect(copy.slab.cacheList.find((c) => c.id === tails[i]![0].id)!.bootTail).toBeUndefined();
    }
  });

  it("the process's boot cache hands out copies from a key's second run, and its runs equal runs on fresh boots", async () => {
    const cache = kernelBootCache()!;
    expect(cache).toBeDefined();
    const opts = { profile: "x86_64-6.1", mem: 192 * 2 ** 20, cmdline: "console=ttyS0 snapshot-test" } as const;
    const before = { ...cache.stats };
    const runs = [];
    for (const src of [DIRTY, CLEAN, DIRTY, CLEAN]) runs.push(await runModule(src, opts));
    // the first run boots, the second gets a copy of the template booted then; the others get copies too unless the
    // cache measured that first copy no cheaper than the boot (then they boot: `slower`)
    expect(cache.stats.templates - before.templates).toBe(1);
    expect(cache.stats.copies - before.copies).toBeGreaterThanOrEqual(1);
    expect(cache.stats.boots - before.boots + cache.stats.copies - before.copies).toBe(4);
    expect(cache.stats.uncopyable).toBe(0);
    const fresh = (o: BootOptions) => boot(opts.profile, o);
    const freshClean = await runModule(CLEAN, opts, { ...real, boot: (_p, o) => fresh(o) });
    const freshDirty = await runModule(DIRTY, opts, { ...real, boot: (_p, o) => fresh(o) });
    expect(comparable(runs[1])).toBe(comparable(freshClean));
    expect(comparable(runs[3])).toBe(comparable(freshClean));
    expect(comparable(runs[2])).toBe(comparable(freshDirty));
  });

  it("a kernel snapshot refuses a closure it cannot rebind, naming where it is", () => {
    const k = boot("i386-2.6", { config: "distro" });
    (k.vmalloc.onFlush as unknown[]).push(() => k.clock.now());
    expect(() => snapshot(k)).toThrow(SnapshotError);
    expect(() => snapshot(k)).toThrow(/k\.vmalloc\.onFlush\.1/);
  });

  it("the boot cache boots a key that cannot be copied every time, and says why", () => {
    let n = 0;
    const cache = new BootCache((p: string, o: BootOptions) => {
      n++;
      const k = boot(p, o);
      (k as unknown as { hook: () => void }).hook = () => void k;
      return k;
    }, bootKey);
    for (let i = 0; i < 3; i++) cache.boot("i386-2.6", { config: "distro" });
    expect(cache.stats).toEqual({ boots: 2, templates: 1, copies: 0, uncopyable: 1, slower: 0 });
    expect(n).toBe(3);
    expect(cache.lastError?.message).toMatch(/k\.hook/);
  });

  it("the boot cache copies hot keys and does not rebuild templates for more keys in turn than it keeps", () => {
    const fake = (p: string, o: { seed?: number }) => ({ p, seed: o.seed, bytes: new Uint8Array(16) });
    const hot = new BootCache(fake, bootKey);
    for (let r = 0; r < 20; r++) for (let seed = 1; seed <= 3; seed++) hot.boot("x", { seed });
    expect(hot.stats).toEqual({ boots: 3, templates: 3, copies: 57, uncopyable: 0, slower: 0 });
    // 24 seeds in turn, 5 times (a fuzzer's loop), through 4 templates: each key gets one template at most
    const cold = new BootCache(fake, bootKey);
    for (let r = 0; r < 5; r++) for (let seed = 1; seed <= 24; seed++) cold.boot("x", { seed });
    expect(cold.stats.templates).toBe(24);
    expect(cold.stats.boots + cold.stats.templates).toBeLessThanOrEqual(24 * 5);
  });

  it("a copy shares the boot's closed log records, kernel symbols, layout ranges, large kmalloc records and page gfp/caller records with its template, and its own printk stays its own", () => {
    const template = boot("x86_64-6.1", { seed: 4 });
    const plan = new SnapshotPlan(template);
    const k = plan.copy();
    const n = template.log.records.length;
    expect(k.log.records.length).toBe(n);
    for (let i = 0; i < n - 1; i++) expect(k.log.records[i]).toBe(template.log.records[i]);
    const sym = (x: Kernel) => (x.kallsyms as unknown as { kern: object[] }).kern;
    expect(sym(k).length).toBeGreaterThan(10);
    sym(k).forEach((s, i) => expect(s).toBe(sym(template)[i]));
    // the layout's ranges and the boot's large kmalloc records likewise
    for (const key of ["memMap", "reservations", "regions"] as const) k.layout[key].forEach((r, i) => expect(r).toBe(template.layout[key][i]));
    const large = (x: Kernel) => [...(x.slab as unknown as { large: Map<number, object> }).large.values()];
    expect(large(k).length).toBeGreaterThan(0);
    large(k).forEach((r, i) => expect(r).toBe(large(template)[i]));
    // the page allocator's gfp/caller records too, until a machine allocates in their chunk: then its own
    const info = (x: Kernel) => (x.pages as unknown as { allocGfpChunks: (Uint32Array | undefined)[] }).allocGfpChunks;
    const m = plan.copy();
    const other = plan.copy();
    info(m).forEach((c, i) => expect(c).toBe(info(template)[i]));
    m.current = { pid: 110, comm: "insmod" };
    const pfn = m.pages.virt_to_pfn(m.pages.__get_free_pages(0xcc0, 0));
    const row = (x: Kernel) => x.pages.allocations().find((a) => a.pfn === pfn);
    expect(row(m)?.gfp).toBe(0xcc0);
    expect(row(other)).toBeUndefined();
    expect(row(template)).toBeUndefined();
    info(other).forEach((c, i) => expect(c).toBe(info(template)[i]));
    k.printk("<6>only in the copy\n");
    expect(k.log.records.length).toBe(n + 1);
    expect(template.log.records.length).toBe(n);
    expect(plan.copy().log.texts()).toEqual(template.log.texts());
    expect(differences(plan.copy(), boot("x86_64-6.1", { seed: 4 }))).toEqual([]);
  });

  it("a copy's dmesg reads the boot's lines formatted once for the closed records it shares, and formats every other record as it is", () => {
    const template = boot("x86_64-6.1", { seed: 5 });
    const plan = new SnapshotPlan(template);
    const k = plan.copy();
    const formatted = (x: Kernel, from = 0, to = x.log.records.length) => x.log.records.slice(from, to).map((r) => formatTimestamp(r.tsNs) + " " + r.text);
    const n = k.log.records.length;
    expect(n).toBeGreaterThan(20);
    expect(k.log.dmesg()).toEqual(formatted(template));
    k.printk("<6>a line of the copy's own\n");
    k.printk("<4>and another\n");
    for (const [from, to] of [
      [0, undefined],
      [3, 9],
      [n - 2, undefined],
      [n, undefined],
      [n + 1, n + 2],
      [5, 2],
      [-4, 3],
    ] as const)
      expect(k.log.dmesg(from, to)).toEqual(formatted(k, Math.max(0, from), to ?? k.log.records.length));
    // a record that is not the one the template shared is formatted, not read from the boot's lines
    const m = plan.copy();
    m.log.records[7] = { ...m.log.records[7]!, text: "not the boot's line" };
    expect(m.log.dmesg()[7]).toBe(formatTimestamp(m.log.records[7]!.tsNs) + " not the boot's line");
    expect(m.log.dmesg()).toEqual(formatted(m));
    expect(template.log.dmesg()).toEqual(formatted(template));
  });

  it("the boot cache takes a template at a key's first run once keys repeat in it (more copies than plain boots)", () => {
    const fake = (p: string, o: { seed?: number }) => ({ p, seed: o.seed, bytes: new Uint8Array(16) });
    // keys that never repeat: every one boots plainly, no template is made
    const once = new BootCache(fake, bootKey);
    for (let seed = 1; seed <= 5; seed++) once.boot("x", { seed });
    expect(once.stats).toEqual({ boots: 5, templates: 0, copies: 0, uncopyable: 0, slower: 0 });
    // a machine's 5 programs, then the next machine's: the first key boots plainly once, the later keys never do
    const repeat = new BootCache(fake, bootKey);
    for (let seed = 1; seed <= 3; seed++) for (let i = 0; i < 5; i++) repeat.boot("x", { seed });
    expect(repeat.stats).toEqual({ boots: 1, templates: 3, copies: 14, uncopyable: 0, slower: 0 });
    // and what it hands out is the key's machine
    expect(repeat.boot("x", { seed: 4 })).toMatchObject({ p: "x", seed: 4 });
  });

  it("the boot cache drops a template whose first copies cost as much as its boot, and boots that key from then on", () => {
    // a clock that moves 10 ms at every reading, plus what a boot adds: copies measure 10 ms, boots 10 ms + bootCost
    const cacheWith = (bootCost: number) => {
      let clock = 0;
      return new BootCache(
        (p: string, o: object) => {
          clock += bootCost;
          return { p, o, big: new Uint8Array(8) };
        },
        bootKey,
        4,
        () => (clock += 10),
      );
    };
    const slow = cacheWith(0); // a boot measures 10 ms, its copies 10 ms: dropped after the three weighed copies
    for (let i = 0; i < 6; i++) slow.boot("x", {});
    expect(slow.stats).toEqual({ boots: 3, templates: 1, copies: 3, uncopyable: 0, slower: 1 });
    const fast = cacheWith(90); // a boot measures 100 ms, its copy 10 ms: kept
    for (let i = 0; i < 6; i++) fast.boot("x", {});
    expect(fast.stats).toEqual({ boots: 1, templates: 1, copies: 5, uncopyable: 0, slower: 0 });
  });

  it("rebindable functions follow their copies; stateless ones are shared; side tables are copied per key", () => {
    const table = new SideTable<object, { n: number }>();
    class Counter {
      n = 0;
      bump(by: number): number {
        return (this.n += by);
      }
    }
    const c = new Counter();
    const shared = stateless(() => 1);
    const root = { c, bump: rebindable(Counter.prototype.bump, c, 2), shared, bytes: new Uint8Array([1, 2, 3]) };
    table.set(c, { n: 5 });
    const copy = snapshot(root);
    expect(copy.bump()).toBe(2);
    expect(copy.c.n).toBe(2);
    expect(c.n).toBe(0);
    expect(copy.shared).toBe(shared);
    expect(copy.c).toBeInstanceOf(Counter);
    expect(table.get(copy.c)).toEqual({ n: 5 });
    expect(table.get(copy.c)).not.toBe(table.get(c));
    copy.bytes[0] = 9;
    expect(root.bytes[0]).toBe(1);
  });

  it("a chain of objects far longer than the host's stack is copied, by snapshot() and by a compiled copy alike (a list of slabs)", () => {
    type Node = { n: number; next: Node | null; prev: Node | null };
    const head: Node = { n: 0, next: null, prev: null };
    let tail = head;
    for (let i = 1; i < 200_000; i++) tail = tail.next = { n: i, next: null, prev: tail };
    const root = { head, tail };
    for (const copy of [snapshot(root), new SnapshotPlan(root).copy()]) {
      let count = 0;
      let last: Node | null = null;
      for (let x: Node | null = copy.head; x; x = x.next) {
        if (x.n !== count++ || x.prev !== last) throw new Error(`link ${count} differs`);
        last = x;
      }
      expect(count).toBe(200_000);
      expect(copy.tail === last).toBe(true);
      expect(copy.head === head).toBe(false);
    }
  });

  it("a compiled copy makes each class instance with its own properties in the template's order, its prototype, its values and copies of what it holds; null-prototype objects too", () => {
    class Cell {
      next: Cell | null = null;
      count = 3;
      name = "a";
      big = 1n << 70n;
      get doubled(): number {
        return this.count * 2;
      }
    }
    const a = new Cell();
    const b = new Cell();
    a.next = b;
    b.count = 4;
    (b as unknown as Record<string, unknown>).late = { x: 1 }; // another shape of the same class
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { z: 1, y: a });
    const root = { a, b, bare, list: [a, b] };
    const plan = new SnapshotPlan(root);
    for (let round = 0; round < 3; round++) {
      const copy = plan.copy();
      expect(Object.getPrototypeOf(copy.a)).toBe(Cell.prototype);
      expect(Object.keys(copy.a)).toEqual(["next", "count", "name", "big"]);
      expect(Object.keys(copy.b)).toEqual(["next", "count", "name", "big", "late"]);
      expect(copy.a.next).toBe(copy.b);
      expect(copy.list[0]).toBe(copy.a);
      expect([copy.a.count, copy.b.count, copy.b.doubled, copy.a.name, copy.a.big]).toEqual([3, 4, 8, "a", 1n << 70n]);
      expect((copy.b as unknown as { late: object }).late).toEqual({ x: 1 });
      expect((copy.b as unknown as { late: object }).late).not.toBe((b as unknown as { late: object }).late);
      expect(Object.getPrototypeOf(copy.bare)).toBe(null);
      expect(Object.keys(copy.bare)).toEqual(["z", "y"]);
      expect(copy.bare.y).toBe(copy.a);
      copy.a.count = 99;
      copy.a.next = null;
    }
    expect(a.count).toBe(3);
    expect(a.next).toBe(b);
  });

  it("objects marked immutable are shared by the copies, the rest copied, by snapshot() and by a compiled copy alike", () => {
    const template = immutable(new Int32Array([7, 7, 7]));
    const root = { chunks: [template, new Int32Array([1, 2, 3]), template], more: { t: template } };
    for (const copy of [snapshot(root), new SnapshotPlan(root).copy()]) {
      expect(copy.chunks[0]).toBe(template);
      expect(copy.chunks[2]).toBe(template);
      expect(copy.more.t).toBe(template);
      expect(copy.chunks[1]).not.toBe(root.chunks[1]);
      expect([...copy.chunks[1]!]).toEqual([1, 2, 3]);
    }
  });

  it("physical memory is shared copy-on-write: a write to either side leaves the other's bytes", () => {
    const k = boot("i386-2.6", { config: "distro" });
    const pa = 0x200000;
    k.physmem.write32(pa, 0x11223344);
    const c = snapshot(k);
    expect(c.physmem.read32(pa)).toBe(0x11223344);
    c.physmem.write32(pa, 0xdeadbeef);
    expect(k.physmem.read32(pa)).toBe(0x11223344);
    k.physmem.write8(pa, 0x99);
    expect(c.physmem.read32(pa)).toBe(0xdeadbeef);
    expect(snapshot(k).physmem.read32(pa)).toBe(0x11223399);
  });

  it("a side table keeps a WeakMap's meaning (undefined values, deletes, frozen keys), its entries copied in the order they were made", () => {
    const t = new SideTable<object, unknown>();
    const u = new SideTable<object, unknown>();
    const a = {};
    const frozen = Object.freeze({});
    u.set(a, 1);
    t.set(a, undefined);
    t.set(frozen, "f");
    expect([t.has(a), t.get(a), t.has(frozen), t.get(frozen), t.has({})]).toEqual([true, undefined, true, "f", false]);
    expect([t.delete(a), t.delete(a), t.has(a), t.get(a), u.get(a)]).toEqual([true, false, false, undefined, 1]);
    t.set(a, 2);
    expect(Object.keys(a)).toEqual([]); // the entry is no enumerable property of its key
    expect(JSON.stringify(a)).toBe("{}");
    const root = { a };
    const copy = snapshot(root);
    expect([t.get(copy.a), u.get(copy.a)]).toEqual([2, 1]);
    expect(Reflect.ownKeys(copy.a).map((k) => (k === Reflect.ownKeys(a)[0] ? 0 : 1))).toEqual([0, 1]); // u's slot first, as in a
    expect(t.get(new SnapshotPlan(root).copy().a)).toBe(2);
  });

  it("src/kernel keeps module-level state where a snapshot sees it: no plain WeakMap but pure caches, no #private fields", () => {
    const root = new URL("../../src/kernel/", import.meta.url).pathname;
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts")) files.push(p);
      }
    };
    walk(root);
    const offenders: string[] = [];
    for (const f of files) {
      const lines = readFileSync(f, "utf8").split("\n");
      lines.forEach((line, i) => {
        // a WeakMap that only caches what can be computed again may stay one; it says so on its line
        if (/new WeakMap\b/.test(line) && !/snapshot: cache/.test(line) && !f.endsWith("snapshot.ts")) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
        if (/^\s*(static\s+)?(readonly\s+)?#[A-Za-z_]/.test(line) || /this\.#[A-Za-z_]/.test(line)) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
