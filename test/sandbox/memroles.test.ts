// THE table's memory roles: every row that returns an address or a handle, and every row that frees or unmaps, says
// what it does to the module's memory; the one record model (sandbox/memrecords.ts) pairs allocations and frees
// from them, for every allocating and freeing row.
import { describe, expect, it } from "vitest";
import { API } from "../../sandbox/api.ts";
import { freeMatches, memoryRoles, memRecords } from "../../sandbox/memrecords.ts";
import type { CallRecord } from "../../sandbox/calllog.ts";
import type { FunctionEntry } from "../../sandbox/table.ts";

const rows = API.filter((r): r is FunctionEntry => r.kind === "function");
const roles = memoryRoles(API);
const ctx = { task: "insmod", pid: 100, hardirq: false, softirq: false, atomic: false, irqsDisabled: false, preemptCount: 0 };
const call = (fn: string, args: unknown[], ret: unknown, extra: Partial<CallRecord> = {}): CallRecord => ({
  fn,
  args: args as never,
  ret: ret as never,
  ctx,
  caller: "init",
  tNs: 0,
  phase: "init",
  ...extra,
});
const layout = { pageSize: 4096, vmallocStart: 0xffffc90000000000n, vmallocEnd: 0xffffe8ffffffffffn };

describe("memory roles of the API table", () => {
  it("every row that returns an address or a handle is classified (alloc, free, alias or none)", () => {
    const missing = rows.filter((r) => (r.returns === "addr" || r.returns.startsWith("handle:")) && !r.memory).map((r) => r.name);
    expect(missing).toEqual([]);
  });
  it("every row named free/destroy/unmap is classified", () => {
    expect(rows.filter((r) => /free|destroy|unmap/.test(r.name) && !r.memory).map((r) => r.name)).toEqual([]);
  });
  it("knows the allocators and frees the issue names", () => {
    const alloc = (n: string) => "alloc" in (roles.get(n) ?? {});
    const free = (n: string) => "free" in (roles.get(n) ?? {});
    for (const n of [
      "alloc_pages",
      "alloc_page",
      "__get_free_pages",
      "get_zeroed_page",
      "kmalloc",
      "kzalloc",
      "kcalloc",
      "kmalloc_array",
      "krealloc",
      "kstrdup",
      "kvmalloc",
      "kvzalloc",
      "kmem_cache_create",
      "kmem_cache_alloc",
      "kmem_cache_zalloc",
      "vmalloc",
      "vzalloc",
      "__vmalloc",
      "vmalloc_user",
      "vmalloc_32",
      "ioremap",
      "dma_alloc_coherent",
      "alloc_workqueue",
    ])
      expect(alloc(n), n).toBe(true);
    for (const n of [
      "__free_pages",
      "__free_page",
      "free_pages",
      "free_page",
      "kfree",
      "kvfree",
      "kmem_cache_free",
      "kmem_cache_destroy",
      "vfree",
      "iounmap",
      "dma_free_coherent",
      "destroy_workqueue",
    ])
      expect(free(n), n).toBe(true);
    // each free's argument index names an address/handle parameter of its row
    for (const r of rows) {
      const m = r.memory;
      if (m && "free" in m)
        expect(["addr", "handle:kmem_cache", "handle:workqueue_struct", "handle:mempool_t", "handle:dma_pool"]).toContain(r.params[m.free.addr].type);
      if (m && "alloc" in m && m.alloc.gfp !== undefined) expect(r.params[m.alloc.gfp].type, r.name).toBe("gfp");
    }
  });
});

describe("memRecords pairs allocations and frees", () => {
  it("alloc_pages freed with __free_pages of the same order, and free_pages of its page_address", () => {
    const r = memRecords(
      [
        call("alloc_pages", [0xcc0, 2], "0xffffea0000040000"),
        call("page_address", ["0xffffea0000040000"], "0xffff888001000000"),
        call("alloc_pages", [0xcc0, 1], "0xffffea0000050000"),
        call("__free_pages", ["0xffffea0000040000", 2], null, { phase: "exit" }),
        call("free_pages", ["0xffffea0000050000", 1], null, { phase: "exit" }),
      ],
      roles,
      layout,
    );
    expect(r.allocs.map((a) => [a.fn, a.family, a.order, a.size, a.free?.fn])).toEqual([
      ["alloc_pages", "page", 2, 16384, "__free_pages"],
      ["alloc_pages", "page", 1, 8192, "free_pages"],
    ]);
    expect(freeMatches(r.allocs[0], roles)).toBe(true);
    // free_pages takes a kernel address, not a struct page: the wrong name for the block
    expect(freeMatches(r.allocs[1], roles)).toBe(false);
  });
  it("kvmalloc is slab or vmalloc by the address it returned; kvfree frees either", () => {
    const r = memRecords(
      [
        call("kvmalloc", [100, 0xcc0], "0xffff888002000000"),
        call("kvzalloc", [1 << 20, 0xcc0], "0xffffc90000100000"),
        call("kvfree", ["0xffff888002000000"], null),
        call("kvfree", ["0xffffc90000100000"], null),
      ],
      roles,
      layout,
    );
    expect(r.allocs.map((a) => [a.family, a.zeroed, freeMatches(a, roles)])).toEqual([
      ["slab", false, true],
      ["vmalloc", true, true],
    ]);
  });
  it("kmem_cache objects take the cache's object size; a NULL result is a failed allocation, not a record", () => {
    const r = memRecords(
      [
        call("kmem_cache_create", ["item", 72, 0, 0, null], 7),
        call("kmem_cache_alloc", [7, 0xcc0], "0xffff888003000000", { line: 9 }),
        call("kmem_cache_alloc", [7, 0xcc0], "0x0", { line: 9 }),
        call("kmem_cache_free", [7, "0xffff888003000000"], null),
      ],
      roles,
      layout,
    );
    expect(r.allocs.map((a) => [a.fn, a.family, a.size])).toEqual([
      ["kmem_cache_create", "cache", 72],
      ["kmem_cache_alloc", "slab", 72],
    ]);
    expect(r.allocs[0].free).toBeUndefined();
    expect(r.failed.map((f) => [f.fn, f.line])).toEqual([["kmem_cache_alloc", 9]]);
  });
  it("a free of an address the module does not hold is a stray free; the context is the bridge's", () => {
    const r = memRecords(
      [
        call("kmalloc", [256, 0x820], "0xffff888004000000", { ctx: { ...ctx, hardirq: true, atomic: true, preemptCount: 0x10000 }, phase: "deferred" }),
        call("kfree", ["0xffff888004000000"], null),
        call("kfree", ["0xffff888004000000"], null),
      ],
      roles,
      layout,
    );
    expect(r.allocs[0].context).toBe("hardirq");
    expect(r.strayFrees.map((s) => s.call.fn)).toEqual(["kfree"]);
  });
  it("krealloc frees the block it replaces", () => {
    const r = memRecords(
      [
        call("kmalloc", [16, 0xcc0], "0xffff888005000000"),
        call("krealloc", ["0xffff888005000000", 4096, 0xcc0], "0xffff888006000000"),
        call("kfree", ["0xffff888006000000"], null),
      ],
      roles,
      layout,
    );
    expect(r.allocs.map((a) => [a.fn, a.size, a.free?.fn])).toEqual([
      ["kmalloc", 16, "krealloc"],
      ["krealloc", 4096, "kfree"],
    ]);
    expect(r.allocs.every((a) => freeMatches(a, roles))).toBe(true);
  });
});
