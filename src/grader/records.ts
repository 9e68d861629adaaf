// The kernel's records of a run, read for the checks: the host-side call log (RunResult.kernel.calls), the
// allocations it implies (each allocation paired with the call that freed it), /proc snapshots and reports.
// Nothing here trusts what the module printed: the call log is written by the bridge in the host, the snapshots
// and reports by the kernel.

import type { RunResult } from "../../sandbox/result.ts";
import type { Report } from "../kernel/types.ts";
import { gfpFlags } from "../kernel/gfp.ts";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Execution context of a kernel call, as the bridge saw it. */
export interface CallCtx {
  task: string;
  pid: number;
  hardirq: boolean;
  softirq: boolean;
  /** in_atomic() */
  atomic: boolean;
  irqsDisabled: boolean;
  preemptCount: number;
}

/** One kernel call the module made (bigint arguments and results as "0x.." strings). */
export interface KernelCall {
  fn: string;
  args: Json[];
  ret: Json;
  ctx: CallCtx;
  /** The module function that made the call. */
  caller: string;
  line?: number;
  tNs: number;
  phase: "init" | "deferred" | "exit";
}

/** The call log, or undefined when the kernel that produced this RunResult kept none. */
export function callsOf(r: RunResult): KernelCall[] | undefined {
  const c = (r.kernel as { calls?: unknown }).calls;
  return Array.isArray(c) ? (c as KernelCall[]) : undefined;
}

/** An address or number from the call log: "0x..", a decimal string, a number. NaN-free: undefined if not one. */
export function toBig(v: Json | undefined): bigint | undefined {
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return BigInt(v);
  return undefined;
}

export function toNum(v: Json | undefined): number | undefined {
  const b = toBig(v);
  return b === undefined ? undefined : Number(b);
}

export type Family = "page" | "slab" | "vmalloc" | "dma-coherent";

export interface Allocation {
  /** Index of the allocating call in the log. */
  index: number;
  call: KernelCall;
  fn: string;
  family: Family;
  addr: bigint;
  /** Bytes requested (pages: PAGE_SIZE << order). */
  size: number;
  order?: number;
  gfp?: number;
  /** __GFP_ZERO-style: kzalloc, vzalloc, get_zeroed_page, kcalloc... (or the gfp carries __GFP_ZERO). */
  zeroed: boolean;
  /** kmem_cache_alloc: the cache handle. */
  cache?: Json;
  free?: FreeInfo;
}

export interface FreeInfo {
  index: number;
  call: KernelCall;
  fn: string;
  /** free_pages' order argument. */
  order?: number;
  /** The size argument of frees that take one (dma_free_coherent). */
  size?: number;
}

/** A free call whose address matched no live allocation of this module. */
export interface StrayFree {
  index: number;
  call: KernelCall;
  addr: bigint;
}

const ZERO_FNS = new Set(["kzalloc", "kcalloc", "vzalloc", "get_zeroed_page", "get_free_page", "kmem_cache_zalloc", "kvzalloc", "vmalloc_user"]);

/** How each allocating function of the module API reads: which argument is what. */
function allocOf(c: KernelCall, pageSize: number, cacheSizes: Map<string, number>, gfpZero: number): Omit<Allocation, "index" | "call" | "addr" | "free"> | undefined {
  const a = c.args;
  const g = (i: number) => toNum(a[i]);
  const base = (family: Family, size: number | undefined, gfp: number | undefined, order?: number) =>
    size === undefined ? undefined : { fn: c.fn, family, size, gfp, order, zeroed: ZERO_FNS.has(c.fn) || (gfp !== undefined && gfpZero !== 0 && (gfp & gfpZero) !== 0) };
  switch (c.fn) {
    case "__get_free_pages":
      return base("page", pageSize << (g(1) ?? 0), g(0), g(1));
    case "__get_free_page":
    case "get_zeroed_page":
    case "get_free_page":
      return base("page", pageSize, g(0), 0);
    case "kmalloc":
    case "kzalloc":
      return base("slab", g(0), g(1));
    case "kcalloc":
    case "kmalloc_array": {
      const n = g(0);
      const s = g(1);
      return base("slab", n !== undefined && s !== undefined ? n * s : undefined, g(2));
    }
    case "krealloc":
      return base("slab", g(1), g(2));
    case "kmem_cache_alloc":
    case "kmem_cache_zalloc": {
      const r = base("slab", cacheSizes.get(JSON.stringify(a[0])) ?? 0, g(1));
      return r && { ...r, cache: a[0] };
    }
    case "vmalloc":
    case "vzalloc":
    case "vmalloc_user":
    case "vmalloc_32":
      return base("vmalloc", g(0), undefined);
    case "__vmalloc":
      return base("vmalloc", g(0), g(1));
    case "dma_alloc_coherent":
      return base("dma-coherent", g(1), g(2));
    default:
      return undefined;
  }
}

/** Free functions: the argument holding the address, and the order/size arguments. */
const FREES: Record<string, { addr: number; order?: number; size?: number }> = {
  free_pages: { addr: 0, order: 1 },
  free_page: { addr: 0 },
  kfree: { addr: 0 },
  kvfree: { addr: 0 },
  kfree_sensitive: { addr: 0 },
  kzfree: { addr: 0 },
  kmem_cache_free: { addr: 1 },
  vfree: { addr: 0 },
  dma_free_coherent: { addr: 2, size: 1 },
  krealloc: { addr: 0 },
};

export interface AllocRecords {
  calls: KernelCall[];
  allocs: Allocation[];
  strayFrees: StrayFree[];
}

/** Pair every allocation of the call log with the call that freed it. */
export function allocations(r: RunResult): AllocRecords | undefined {
  const calls = callsOf(r);
  if (!calls) return undefined;
  const pageSize = Number((r.kernel as { layout?: { pageSize?: number } }).layout?.pageSize ?? 4096);
  const gfpZero = zeroBit(r);
  const cacheSizes = new Map<string, number>();
  const live = new Map<bigint, Allocation>();
  const allocs: Allocation[] = [];
  const strayFrees: StrayFree[] = [];
  calls.forEach((c, index) => {
    if (c.fn === "kmem_cache_create") {
      const size = toNum(c.args[1]);
      if (size !== undefined) cacheSizes.set(JSON.stringify(c.ret), size);
    }
    const f = FREES[c.fn];
    if (f) {
      const addr = toBig(c.args[f.addr]);
      // krealloc(NULL, ...) frees nothing; kfree(NULL) is a no-op; krealloc(p, 0) frees p (returns ZERO_SIZE_PTR).
      if (addr !== undefined && addr !== 0n && !(c.fn === "krealloc" && toBig(c.ret) === 0n && (toNum(c.args[1]) ?? 0) > 0)) {
        const a = live.get(addr);
        if (a) {
          live.delete(addr);
          a.free = { index, call: c, fn: c.fn, order: f.order !== undefined ? toNum(c.args[f.order]) : undefined, size: f.size !== undefined ? toNum(c.args[f.size]) : undefined };
        } else strayFrees.push({ index, call: c, addr });
      }
    }
    const info = allocOf(c, pageSize, cacheSizes, gfpZero);
    if (!info) return;
    const addr = toBig(c.ret);
    // A failed allocation (NULL) or ZERO_SIZE_PTR (0x10) is no allocation.
    if (addr === undefined || addr <= 0x10n) return;
    const a: Allocation = { index, call: c, addr, ...info };
    allocs.push(a);
    live.set(addr, a);
  });
  return { calls, allocs, strayFrees };
}

/** __GFP_ZERO of the run's era. */
export function zeroBit(r: RunResult): number {
  return gfpFlags(eraOf(r)).__GFP_ZERO ?? 0;
}

/** The era of the profile a RunResult came from ("x86_64-6.1" -> "6.1"). */
export function eraOf(r: RunResult): "2.6" | "3.4" | "6.1" {
  const m = /-(2\.6|3\.4|6\.1)$/.exec(r.profile) ?? /(2\.6|3\.4|6\.1)/.exec(r.profile);
  return (m?.[1] as "2.6" | "3.4" | "6.1") ?? "6.1";
}

/** Calls to one of these functions, in order. */
export function callsTo(r: RunResult, ...fns: string[]): KernelCall[] {
  return (callsOf(r) ?? []).filter((c) => fns.includes(c.fn));
}

/** Reports except those of the listed kinds. */
export function reportsExcept(r: RunResult, allowed: readonly string[]): Report[] {
  return r.reports.filter((x) => !allowed.includes(x.kind));
}

/** Hex digits of an address without leading zeros, lower case ("ffff888001234000"). */
export function hexDigits(a: bigint): string {
  return a.toString(16);
}

/** Every hexadecimal number in a text (with or without 0x), as bigints. */
export function hexNumbersIn(text: string): bigint[] {
  const out: bigint[] = [];
  for (const m of text.matchAll(/(?:0x)?([0-9a-fA-F]{6,16})\b/g)) out.push(BigInt("0x" + m[1]));
  return out;
}

/** The text of a dmesg line without its timestamp. */
export function lineText(line: string): string {
  return line.replace(/^\[\s*\d+\.\d+\]\s?/, "");
}

/** Parse /proc/slabinfo: name -> {active, num, objsize}. */
export function parseSlabinfo(text: string | undefined): Map<string, { active: number; num: number; objsize: number }> {
  const out = new Map<string, { active: number; num: number; objsize: number }>();
  for (const line of (text ?? "").split("\n")) {
    if (!line || line.startsWith("#") || line.startsWith("slabinfo")) continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [name, active, num, objsize] = [f[0], Number(f[1]), Number(f[2]), Number(f[3])];
    if (Number.isFinite(active) && Number.isFinite(num) && Number.isFinite(objsize)) out.set(name, { active, num, objsize });
  }
  return out;
}

/** "4 KiB", "1000000 bytes" — sizes as a learner reads them. */
export function bytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} bytes`;
}

/** "kmalloc(100)" for messages. */
export function describe(a: Allocation): string {
  switch (a.family) {
    case "page":
      return `${a.fn}(order ${a.order ?? 0}) at 0x${hexDigits(a.addr)}`;
    default:
      return `${a.fn}(${a.size}) at 0x${hexDigits(a.addr)}`;
  }
}
