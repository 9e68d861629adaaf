// The one record of what a module allocated and freed, derived from the call log (calllog.ts) and THE table's
// memory roles (table.ts MemoryRole on each row of sandbox/api/*.ts): which rows allocate, with which family, size,
// order and gfp argument; which rows free, and which families they may free; which rows only give memory another
// name (page_address, virt_to_page, kmap). The grader (src/grader/records.ts) and the notebook's views
// (src/notebook/session.ts) both read it, so a function the table learns to allocate is known to both at once.
//
// Pairing: an allocation is live from its call until a free call names its address (or an alias of it: the
// struct page of an alloc_pages block and its page_address). A free that names no live allocation of the module is
// a stray free (a double free, or memory the module never had). krealloc frees its old block when it returns a new
// one. NULL (and ZERO_SIZE_PTR, 0x10) is no allocation: the failed calls are kept apart, for fault-injection
// verdicts.
//
// Folded blocks (calllog.ts, past CALL_LOG_BUDGET.foldAfter entries): an entry with `repeats` stands for 1 + times
// identical blocks (its allocation, aliases and free, or a failed allocation), so its record's `count` is that many:
// count allocations with countOf(), not with .length.

import type { AllocRole, ApiEntry, ArgOr, FreeRole, FunctionEntry, MemFamily, MemoryRole } from "./table.ts";
import type { CallRecord } from "./calllog.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type { MemFamily };

/** The context an allocation ran in, from the bridge's record of preempt_count and irqs_disabled. */
export type MemContext = "process" | "atomic" | "softirq" | "hardirq";

export interface FreeInfo {
  index: number;
  call: CallRecord;
  fn: string;
  /** The order a page free named (free_pages' argument, 0 for free_page). */
  order?: number;
  /** The size a sized free named (dma_free_coherent). */
  size?: number;
  line?: number;
  /** How the free named the block: its struct page, or a kernel virtual address. */
  named: "page" | "virt";
}

export interface MemRecord {
  /** Index of the allocating call in the call log. */
  index: number;
  call: CallRecord;
  fn: string;
  family: MemFamily;
  /** What the call returned: a kernel virtual address, or (alloc_pages) a struct page pointer; 0n for a handle. */
  addr: bigint;
  /** The key the frees name it by (address hex, or a handle's JSON). */
  key: string;
  /** Bytes: asked for (slab, vmalloc, dma), PAGE_SIZE << order (pages), the object size (a kmem_cache). */
  size: number;
  order?: number;
  gfp?: number;
  zeroed: boolean;
  /** kmem_cache_alloc: the cache handle. */
  cache?: Json;
  context: MemContext;
  phase: CallRecord["phase"];
  line?: number;
  caller: string;
  /** alloc_pages: the block's struct page is `addr`; its kernel virtual address once page_address/kmap named it. */
  virt?: bigint;
  free?: FreeInfo;
  /** How many allocations this record stands for when the call log folded repeats of its block (absent: one). Each
   *  was made and freed as this one, at other addresses. */
  count?: number;
}

export interface StrayFree {
  index: number;
  call: CallRecord;
  addr: bigint;
}

/** An allocating call that returned NULL (an ordinary failure, or one forced by fault injection). */
export interface FailedAlloc {
  index: number;
  call: CallRecord;
  fn: string;
  family: MemFamily | "kv";
  size?: number;
  order?: number;
  line?: number;
  phase: CallRecord["phase"];
  /** How many identical failed calls this record stands for (the log folded repeats; absent: one). */
  count?: number;
}

/** How many allocations (or failed calls) records stand for: folded repeats counted. */
export function countOf(records: readonly { count?: number }[]): number {
  let n = 0;
  for (const r of records) n += r.count ?? 1;
  return n;
}

export interface MemRecords {
  calls: readonly CallRecord[];
  allocs: MemRecord[];
  failed: FailedAlloc[];
  strayFrees: StrayFree[];
}

export interface MemLayout {
  pageSize: number;
  vmallocStart?: bigint;
  vmallocEnd?: bigint;
}

/** name -> memory role, from the table (a name with rows for several eras has one role). */
export function memoryRoles(api: readonly ApiEntry[]): Map<string, MemoryRole> {
  const m = new Map<string, MemoryRole>();
  for (const r of api) if (r.kind === "function" && (r as FunctionEntry).memory && !m.has(r.name)) m.set(r.name, (r as FunctionEntry).memory!);
  return m;
}

export function toBig(v: Json | undefined): bigint | undefined {
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return BigInt(v);
  return undefined;
}

const toNum = (v: Json | undefined): number | undefined => {
  const b = toBig(v);
  return b === undefined ? undefined : Number(b);
};

/** The key a value is paired by: an address as lower-case hex, a handle by its JSON. */
function keyOf(v: Json | undefined): string | undefined {
  if (v === null || v === undefined || v === false) return undefined;
  const b = toBig(v);
  if (b !== undefined) return b === 0n ? undefined : "0x" + b.toString(16);
  return JSON.stringify(v);
}

const argOr = (c: CallRecord, a: ArgOr | undefined): number | undefined => (a === undefined ? undefined : "fixed" in a ? a.fixed : toNum(c.args[a.arg]));

export function contextOf(ctx: CallRecord["ctx"] | undefined): MemContext {
  if (!ctx) return "process";
  if (ctx.hardirq) return "hardirq";
  if (ctx.softirq) return "softirq";
  if (ctx.atomic || ctx.irqsDisabled) return "atomic";
  return "process";
}

function sizeOf(c: CallRecord, role: AllocRole, pageSize: number, order: number | undefined, cacheSizes: Map<string, number>): number | undefined {
  const s = role.size;
  if (!s) return order !== undefined ? pageSize * 2 ** order : 0;
  if ("product" in s) {
    const [a, b] = [toNum(c.args[s.product[0]]), toNum(c.args[s.product[1]])];
    return a !== undefined && b !== undefined ? a * b : undefined;
  }
  if ("cache" in s) return cacheSizes.get(keyOf(c.args[s.cache]) ?? "") ?? 0;
  if ("strlen" in s) {
    const str = c.args[s.strlen];
    return typeof str === "string" ? new TextEncoder().encode(str).length + 1 : undefined;
  }
  return argOr(c, s);
}

/**
 * Pair every allocation in the call log with the call that freed it. `roles` from memoryRoles(API); `zeroBit` is the
 * era's __GFP_ZERO (0 when unknown), so that kmalloc(.., GFP_KERNEL | __GFP_ZERO) counts as zeroed.
 */
export function memRecords(calls: readonly CallRecord[], roles: Map<string, MemoryRole>, layout: MemLayout, zeroBit = 0): MemRecords {
  const cacheSizes = new Map<string, number>();
  const live = new Map<string, MemRecord>();
  /** The keys that name a block by its struct page (alloc_pages' result, virt_to_page's). */
  const pageKeys = new Set<string>();
  const allocs: MemRecord[] = [];
  const failed: FailedAlloc[] = [];
  const strayFrees: StrayFree[] = [];
  const inVmalloc = (a: bigint) => layout.vmallocStart !== undefined && layout.vmallocEnd !== undefined && a >= layout.vmallocStart && a <= layout.vmallocEnd;

  const free = (index: number, c: CallRecord, f: FreeRole, v: Json | undefined) => {
    const key = keyOf(v);
    if (key === undefined) return; // kfree(NULL), vfree(NULL): no-ops
    const a = live.get(key);
    if (!a) {
      strayFrees.push({ index, call: c, addr: toBig(v) ?? 0n });
      return;
    }
    for (const [k, x] of live) if (x === a) live.delete(k);
    a.free = {
      index,
      call: c,
      fn: c.fn,
      order: argOr(c, f.order),
      size: f.size !== undefined ? toNum(c.args[f.size]) : undefined,
      line: c.line,
      named: pageKeys.has(key) ? "page" : "virt",
    };
  };

  calls.forEach((c, index) => {
    const role = roles.get(c.fn);
    if (!role) return;
    if ("free" in role) return free(index, c, role.free, c.args[role.free.addr]);
    if ("alias" in role) {
      // page_address(page) / kmap(page) / virt_to_page(addr): the same block under another name.
      const a = live.get(keyOf(c.args[role.alias.of]) ?? "");
      const k = keyOf(c.ret);
      if (a && k && !live.has(k)) {
        live.set(k, a);
        if (role.alias.page === "to-page") pageKeys.add(k);
        if (role.alias.page === "to-virt" && a.virt === undefined) a.virt = toBig(c.ret);
      }
      return;
    }
    if (!("alloc" in role)) return;
    const r = role.alloc;
    // krealloc(p, n): the old block is freed when a new one comes back (or when n is 0).
    if (r.reallocates !== undefined) {
      const old = keyOf(c.args[r.reallocates]);
      const ret = toBig(c.ret);
      if (old !== undefined && ((ret !== undefined && ret > 0x10n && keyOf(c.ret) !== old) || toNum(c.args[1]) === 0)) {
        free(index, c, { addr: r.reallocates, families: ["slab"] }, c.args[r.reallocates]);
      } else if (old !== undefined && keyOf(c.ret) === old) return; // grown in place: the same allocation
    }
    const order = argOr(c, r.order);
    const size = sizeOf(c, r, layout.pageSize, order, cacheSizes);
    const gfp = r.gfp !== undefined ? toNum(c.args[r.gfp]) : undefined;
    const key = keyOf(c.ret);
    const addrRet = toBig(c.ret);
    const isHandle = r.family === "cache" || r.family === "workqueue";
    if (key === undefined || (!isHandle && (addrRet === undefined || addrRet <= 0x10n))) {
      const f: FailedAlloc = { index, call: c, fn: c.fn, family: r.family, size, order, line: c.line, phase: c.phase };
      if (c.repeats) f.count = 1 + c.repeats.times;
      failed.push(f);
      return;
    }
    const addr = isHandle ? 0n : addrRet!;
    const family: MemFamily = r.family === "kv" ? (inVmalloc(addr) ? "vmalloc" : "slab") : r.family;
    const a: MemRecord = {
      index,
      call: c,
      fn: c.fn,
      family,
      addr,
      key,
      size: size ?? 0,
      order,
      gfp,
      zeroed: r.zeroed === true || (gfp !== undefined && zeroBit !== 0 && (gfp & zeroBit) !== 0),
      cache: r.cache !== undefined ? c.args[r.cache] : undefined,
      context: contextOf(c.ctx),
      phase: c.phase,
      line: c.line,
      caller: c.caller,
    };
    if (c.repeats) a.count = 1 + c.repeats.times;
    if (family === "cache") cacheSizes.set(key, a.size);
    if (r.page) pageKeys.add(key);
    allocs.push(a);
    live.set(key, a);
  });
  return { calls, allocs, failed, strayFrees };
}

/** The free that pairs with this allocation's family and function (and free_pages' order is the allocation's). */
export function freeMatches(a: MemRecord, roles: Map<string, MemoryRole>): boolean {
  const f = a.free;
  if (!f) return false;
  const role = roles.get(f.fn);
  // krealloc frees the slab block it replaces.
  const families: MemFamily[] = role && "free" in role ? role.free.families : role && "alloc" in role && role.alloc.reallocates !== undefined ? ["slab"] : [];
  if (!families.includes(a.family)) return false;
  const fromCache = a.cache !== undefined;
  if (f.fn === "kmem_cache_free" && !fromCache) return false;
  if (a.family === "page") {
    // __free_pages takes the struct page, free_pages the kernel address (free_pages(addr) is
    // __free_pages(virt_to_page(addr))): either frees the block if it names it the way it expects.
    const pageFree = role !== undefined && "free" in role && role.free.page === true;
    if (pageFree !== (f.named === "page")) return false;
    return f.order === (a.order ?? 0);
  }
  if (f.size !== undefined || a.family === "dma-coherent") return f.size === a.size;
  return true;
}
