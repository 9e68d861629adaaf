// Property: any sequence of vmalloc / vzalloc / vmap / ioremap / vfree / vunmap / purge keeps the vmap areas disjoint,
// free + busy (with guards) + lazily freed = the managed ranges exactly, the augmented tree consistent, and the page
// tables mapping exactly the busy areas' pages.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { boot } from "../../../src/kernel/kernel.ts";

const Op = fc.oneof(
  fc.record({ t: fc.constant("vmalloc" as const), size: fc.integer({ min: 1, max: 300_000 }) }),
  fc.record({ t: fc.constant("big" as const), size: fc.integer({ min: 1 << 20, max: 6 << 20 }) }),
  fc.record({ t: fc.constant("ioremap" as const), page: fc.integer({ min: 0, max: 4095 }), size: fc.integer({ min: 1, max: 70_000 }) }),
  fc.record({ t: fc.constant("vmap" as const), n: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ t: fc.constant("free" as const), i: fc.nat() }),
  fc.record({ t: fc.constant("purge" as const) }),
);

describe("vmalloc invariants under random sequences", () => {
  const k = boot("x86_64-6.1");
  const v = k.vmalloc;
  it("busy areas stay disjoint, free+busy+lazy cover the area, tables map exactly the busy pages", () => {
    fc.assert(
      fc.property(fc.array(Op, { minLength: 1, maxLength: 40 }), (ops) => {
        const live: { addr: bigint; kind: "vfree" | "vunmap" | "iounmap"; pfns?: number[] }[] = [];
        for (const op of ops) {
          if (op.t === "vmalloc" || op.t === "big") {
            const a = v.vmalloc(op.size, { caller: "prop+0x10/0x40 [cell]" });
            if (a) live.push({ addr: a, kind: "vfree" });
          } else if (op.t === "ioremap") {
            const a = v.ioremap(0xe0000000 + op.page * 4096, op.size, { caller: "prop+0x20/0x40 [cell]" });
            if (a) live.push({ addr: a, kind: "iounmap" });
          } else if (op.t === "vmap") {
            const pfns = Array.from({ length: op.n }, () => k.pages.alloc_pages(0xcc0, 0));
            const a = v.vmap(pfns, op.n, 0x4, { caller: "prop+0x30/0x40 [cell]" });
            if (a) live.push({ addr: a, kind: "vunmap", pfns });
          } else if (op.t === "free" && live.length) {
            const [x] = live.splice(op.i % live.length, 1);
            if (x!.kind === "vfree") v.vfree(x!.addr);
            else if (x!.kind === "iounmap") v.iounmap(x!.addr);
            else {
              v.vunmap(x!.addr);
              for (const p of x!.pfns!) k.pages.__free_pages(p, 0);
            }
          } else if (op.t === "purge") v.purge();
        }
        const errs = v.checkInvariants();
        for (const x of live) {
          if (x.kind === "vfree") v.vfree(x.addr);
          else if (x.kind === "iounmap") v.iounmap(x.addr);
          else {
            v.vunmap(x.addr);
            for (const p of x.pfns!) k.pages.__free_pages(p, 0);
          }
        }
        v.purge();
        expect(errs).toEqual([]);
        expect(v.checkInvariants()).toEqual([]);
      }),
      { numRuns: 60, seed: 4 },
    );
  });

  it("checkInvariants catches a stray PTE, a mapped guard page and a hole missing from the free tree", () => {
    const k2 = boot("x86_64-6.1");
    const v2 = k2.vmalloc;
    const a = v2.vmalloc(8192, { caller: "t+0x0/0x10 [cell]" });
    expect(v2.checkInvariants()).toEqual([]);
    const guard = Number(a >> 12n) + 2;
    k2.pgtable.mapPages(guard, 1, [0x1234]);
    expect(v2.checkInvariants().join("\n")).toMatch(/outside any busy area/);
    k2.pgtable.unmapPages(guard, 1);
    const hole = [...v2.free.inorder()][0]!;
    v2.free.remove(hole);
    expect(v2.checkInvariants().join("\n")).toMatch(/cover/);
  });

  it("checkInvariants names a busy area's page mapped to another frame, and an unmapped one by the count", () => {
    const k = boot("x86_64-6.1");
    const v = k.vmalloc;
    const a = v.vmalloc(3 * 4096, { caller: "t+0x0/0x10 [cell]" });
    const vpn = Number(a >> 12n);
    const vm = v.find_vm_area(a)!;
    const want = vm.pages![1]!;
    k.pgtable.mapPages(vpn + 1, 1, [0x1234]);
    expect(v.checkInvariants()).toEqual([`0x${((vpn + 1) * 4096).toString(16)} maps pfn 0x1234, area says 0x${want.toString(16)}`]);
    k.pgtable.unmapPages(vpn + 2, 1);
    const n = v.checkInvariants();
    expect(n[n.length - 1]).toMatch(/^\d+ pages should be mapped, page tables map \d+$/);
    const [, should, map] = /^(\d+) pages should be mapped, page tables map (\d+)$/.exec(n[n.length - 1]!)!;
    expect(Number(should) - Number(map)).toBe(1);
  });
});
