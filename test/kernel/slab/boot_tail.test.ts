// The boot's untouched full slabs kept as shared columns (src/kernel/mm/slub_boot_tail.ts, issue 18): a copy of a
// booted machine shares them by identity instead of copying a Slab object each, and whether a cache's tail is still
// columns or has become Slab objects changes nothing any reader sees.
import { describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../../src/kernel/kernel.ts";
import { SnapshotPlan } from "../../../src/kernel/snapshot.ts";
import { checkKernelInvariants } from "../../../src/kernel/debug/invariants.ts";
import type { KmemCache, Slab } from "../../../src/kernel/mm/slub.ts";

/** Every slab of a cache in list order (current, partial, full, free), the full list's tail entries by first frame. */
function listOrder(c: KmemCache): string[] {
  const out: string[] = [];
  if (c.cur) out.push(`cur ${c.cur.pfn}`);
  for (const [name, l] of [
    ["partial", c.partial],
    ["full", c.full],
  ] as const) {
    for (let s: Slab | null = l.head; s; s = s.next) out.push(`${name} ${s.pfn}`);
    if (name === "full" && c.bootTail) for (const p of c.bootTail.pfn) out.push(`full ${p}`);
  }
  for (let s: Slab | null = c.free.head; s; s = s.next) out.push(`free ${s.pfn}`);
  return out;
}

/** Addresses in the tails' slabs: each slab's first byte, the end of its first slot, inside its last object, its last byte. */
function tailAddresses(k: Kernel): bigint[] {
  const out: bigint[] = [];
  for (const [c, t] of k.slab.liveTails()) {
    for (let j = 0; j < t.length; j += Math.max(1, t.length >> 2)) {
      const base = k.pages.page_address(t.pfn[j]!);
      for (const off of [0n, BigInt(c.size) - 1n, BigInt(c.size * (t.objects[j]! - 1) + 3), BigInt((4096 << t.order[j]!) - 1)]) out.push(base + off);
    }
  }
  return out;
}

/** What the readers of the slab allocator see: objects, counts, slabinfo, objectAt, list order, the checks. */
function readers(k: Kernel, addrs: bigint[]): unknown {
  const sa = k.slab;
  const probes = addrs.map((a) => sa.objectAt(a));
  return {
    live: sa.liveObjects(),
    liveModule: sa.liveObjects({ boot: false }),
    caches: sa.caches(),
    pages: sa.pagesUsed(),
    slabinfo: k.proc("slabinfo"),
    meminfo: k.proc("meminfo"),
    lists: sa.cacheList.map(listOrder),
    probes,
    checks: checkKernelInvariants(k),
    subsystem: sa.checkInvariants(),
  };
}

describe("the boot's untouched full slabs as shared columns (boot tails)", () => {
  for (const [profile, config] of [
    ["x86_64-6.1", "debug"],
    ["x86_64-6.1", "distro"],
    ["i386-2.6", "debug"],
    ["arm-3.4-msm8x25", "distro"],
  ] as const) {
    it(`materialising every tail changes nothing a reader sees, and gives Slabs as the boot made them (${profile} ${config})`, () => {
      const k = boot(profile, { config });
      const tails = k.slab.liveTails();
      expect(tails.length).toBeGreaterThan(5);
      const addrs = tailAddresses(k);
      expect(addrs.length).toBeGreaterThan(20);
      const before = readers(k, addrs);
      expect((before as { checks: unknown[] }).checks).toEqual([]);
      const counts = tails.map(([c, t]) => [c, t.length, c.full.count] as const);
      for (const [c] of tails) k.slab.materialiseTail(c);
      expect(k.slab.liveTails()).toEqual([]);
      for (const [c, n, count] of counts) {
        expect(c.full.count).toBe(count + n);
        // the last n slabs of the full list are the tail's, each as the boot made it
        let s = c.full.tail;
        for (let i = 0; i < n; i++, s = s!.prev) expect(s!.pristineBoot()).toBe(true);
      }
      expect(readers(k, addrs)).toEqual(before);
    });
  }

  it("a copy of a booted machine shares its tails by identity and copies no Slab object for them", () => {
    const template = boot("x86_64-6.1", { config: "debug" });
    const copy = new SnapshotPlan(template).copy();
    const tails = template.slab.liveTails();
    expect(tails.reduce((a, [, t]) => a + t.length, 0)).toBeGreaterThan(3000);
    const copied = new Map(copy.slab.liveTails().map(([c, t]) => [c.id, t]));
    for (const [c, t] of tails) expect(copied.get(c.id)).toBe(t);
    // the copy's own Slab objects: the few the boot left partly used, not one per boot slab
    let objects = 0;
    for (const c of copy.slab.cacheList) objects += (c.cur ? 1 : 0) + c.partial.count + c.full.count + c.free.count;
    expect(objects).toBeLessThan(200);
  });

  it("a kfree of a boot object materialises that cache's tail in that machine only, and the object is freed as before", () => {
    const template = boot("x86_64-6.1", { config: "distro", seed: 5 });
    const plan = new SnapshotPlan(template);
    const a = plan.copy();
    const b = plan.copy();
    const [c, t] = a.slab.liveTails().find(([x, tt]) => x.kmalloc && tt.objects[0]! > 1)!;
    const obj = a.pages.page_address(t.pfn[0]!) + BigInt(t.slotStart[0]! + c.redLeftPad);
    const inuse = c.inuseObjects;
    a.slab.kfree(obj);
    expect(c.bootTail).toBeUndefined();
    expect(c.inuseObjects).toBe(inuse - 1);
    const slab = a.slab.slabOf(obj)!;
    expect(slab.state).toBe("partial");
    expect(a.slab.objectAt(obj)?.live).toBe(false);
    // the other copy and the template still share the tail, unchanged
    const cb = b.slab.cacheList.find((x) => x.id === c.id)!;
    expect(cb.bootTail).toBe(t);
    expect(template.slab.cacheList.find((x) => x.id === c.id)!.bootTail).toBe(t);
    expect(b.slab.objectAt(obj)?.live).toBe(true);
    expect(checkKernelInvariants(a)).toEqual([]);
    expect(checkKernelInvariants(b)).toEqual([]);
  });

  it("the slabs the boot left partly used share their per-object arrays with the copies until one writes them", () => {
    const template = boot("x86_64-6.1", { config: "distro", seed: 5 });
    const plan = new SnapshotPlan(template);
    const a = plan.copy();
    const b = plan.copy();
    // kmalloc(100) comes from the kmalloc-128 slab the boot left with free objects (its churn)
    const p = a.slab.kmalloc(100, 0xcc0);
    const sa = a.slab.slabOf(p)!;
    const i = Number(p - sa.objBase) / sa.cache.size;
    const st = template.slab.objectSlabAtPfn(sa.pfn)!;
    const sb = b.slab.objectSlabAtPfn(sa.pfn)!;
    expect(st).toBeDefined();
    expect(sa.liveAt(i)).toBe(1);
    expect(st.liveAt(i)).toBe(0);
    expect(sb.liveAt(i)).toBe(0);
    // the other copy writes the same slab: the same object again, its own
    const q = b.slab.kmalloc(100, 0xcc0);
    expect(q).toBe(p);
    expect(sb.liveAt(i)).toBe(1);
    expect(st.liveAt(i)).toBe(0);
    b.slab.kfree(q);
    expect(sb.liveAt(i)).toBe(0);
    expect(sa.liveAt(i)).toBe(1);
    expect(plan.copy().slab.objectSlabAtPfn(sa.pfn)!.liveAt(i)).toBe(0);
    for (const k of [a, b]) expect(checkKernelInvariants(k)).toEqual([]);
  });

  it("reading a copy's boot slabs (liveObjects, kmemleak's scan, the invariant checks, KASAN's slab shadow) leaves their per-object arrays shared with the template", () => {
    const template = boot("x86_64-6.1", { config: "debug", seed: 5 });
    const plan = new SnapshotPlan(template);
    const k = plan.copy();
    const arrays = (s: Slab) => s as unknown as { _live?: Uint8Array; _req?: Int32Array; _boot?: Uint8Array; sharedArrays: boolean };
    const shared = [...new Set((template.slab as unknown as { byPfn: Map<number, Slab> }).byPfn.values())].filter((s) => arrays(s).sharedArrays);
    expect(shared.length).toBeGreaterThan(10);
    const all = k.slab.liveObjects();
    const mine = k.slab.liveObjects({ boot: false });
    expect(mine).toEqual([]); // the boot's objects only, so far
    k.kmemleak.scan();
    expect(checkKernelInvariants(k)).toEqual([]); // the checks read the freelists too
    // KASAN builds a boot slab's shadow from its objects when it first looks at one of its pages
    for (const s of shared.slice(0, 5)) expect(k.kasan!.shadowByte(s.objBase)).toBeGreaterThanOrEqual(0);
    for (const t of shared) {
      const c = arrays(k.slab.objectSlabAtPfn(t.pfn)!);
      expect(c.sharedArrays).toBe(true);
      expect(c._live).toBe(arrays(t)._live);
      expect(c._req).toBe(arrays(t)._req);
      expect(c._boot).toBe(arrays(t)._boot);
    }
    // and they read what the arrays hold: every live object of the template's shared slabs is listed, as the boot's
    const listed = new Set(all.map((o) => o.addr));
    for (const t of shared) for (let i = 0; i < t.objects; i++) if (t.liveAt(i)) expect(listed.has(t.addr(i))).toBe(true);
    expect(all.filter((o) => shared.some((t) => o.pfn >= t.pfn && o.pfn < t.pfn + (1 << t.order))).every((o) => o.boot)).toBe(true);
    // a module object in such a slab is listed as the module's, and the scan reads it from the slab's own arrays
    const p = k.slab.kmalloc(100, 0xcc0);
    expect(k.slab.liveObjects({ boot: false }).map((o) => o.addr)).toEqual([p]);
  });
});
