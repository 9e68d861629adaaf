// The kernel's records of a run, read for the checks: the host-side call log (RunResult.kernel.calls), the
// allocations it implies (each allocation paired with the call that freed it), /proc snapshots and reports.
// Nothing here trusts what the module printed: the call log is written by the bridge in the host, the snapshots
// and reports by the kernel.

import type { RunResult } from "../../sandbox/result.ts";
import type { Report } from "../kernel/types.ts";
import { gfpFlags } from "../kernel/gfp.ts";
import { API } from "../../sandbox/api.ts";
import {
  memoryRoles,
  memRecords,
  type FailedAlloc,
  type FreeInfo,
  type MemFamily,
  type MemLayout,
  type MemRecord,
  type MemRecords,
  type StrayFree,
} from "../../sandbox/memrecords.ts";
import type { MemoryRole } from "../../sandbox/table.ts";

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

export type Family = MemFamily;
/** One allocation of the module and the call that freed it: the one record model (sandbox/memrecords.ts). */
export type Allocation = MemRecord;
export type AllocRecords = MemRecords;
export type { FreeInfo, StrayFree, FailedAlloc };

/** The table's memory roles (which rows allocate and free what), computed once. */
let rolesCache: Map<string, MemoryRole> | undefined;
export function roles(): Map<string, MemoryRole> {
  return (rolesCache ??= memoryRoles(API));
}

/** The layout facts the records need (page size; the vmalloc range that tells kvmalloc's two families apart). */
export function memLayoutOf(r: RunResult): MemLayout {
  const l = (r.kernel as { layout?: Record<string, unknown> }).layout ?? {};
  const b = (k: string) => toBig(l[k] as Json);
  return { pageSize: Number(l.pageSize ?? 4096), vmallocStart: b("vmallocStart"), vmallocEnd: b("vmallocEnd") };
}

/** Pair every allocation of the call log with the call that freed it. */
export function allocations(r: RunResult): AllocRecords | undefined {
  const calls = callsOf(r);
  if (!calls) return undefined;
  return memRecords(calls as never, roles(), memLayoutOf(r), zeroBit(r));
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

/** "kmalloc(100) at 0x... (line 9)" for messages. */
export function describe(a: Allocation): string {
  // a record the call log folded stands for a.count allocations alike (sandbox/memrecords.ts)
  const at = (a.line !== undefined ? ` (line ${a.line})` : "") + (a.count !== undefined && a.count > 1 ? ` x${a.count}` : "");
  switch (a.family) {
    case "page":
      return `${a.fn}(order ${a.order ?? 0}) at 0x${hexDigits(a.addr)}${at}`;
    case "cache": {
      // kmem_cache_create("name", size, ...), dma_pool_create("name", ...); mempool_create_kmalloc_pool(min_nr, size)
      // as it was called (its size alone read as if 256 were its element count: "mempool_create_kmalloc_pool(256)")
      const first = a.call.args[0];
      const lead =
        typeof first === "string" ? JSON.stringify(first) + ", " : a.fn === "mempool_create_kmalloc_pool" && typeof first === "number" ? `${first}, ` : "";
      return `${a.fn}(${lead}${a.size})${at}`;
    }
    case "workqueue":
      return `${a.fn}(${typeof a.call.args[0] === "string" ? JSON.stringify(a.call.args[0]) : ""})${at}`;
    default:
      return `${a.fn}(${a.size}) at 0x${hexDigits(a.addr)}${at}`;
  }
}
