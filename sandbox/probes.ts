// Memory probes: what a module's buffer held at a moment of the run, read from the simulated memory itself
// (k.mem.peek: no TLB, no KASAN, no fault), so that a check judges the bytes in memory, whatever width or routine
// wrote them. A probe names one of the module's allocations (by family/function/size, from the one record model)
// and the values to read: `count` values of `width` bytes, little-endian, every `stride` bytes from `offset`.
// Moments: "loaded" (after module_init returned 0, before deferred work), "unloading" (just before module_exit),
// "first-read" (just before the module first loads a byte it stored in the run: readb..readq, memcmp, memchr_inv, or
// memcpy/memmove's source after writeb..writeq, memset*, or memcpy/memmove's destination; the allocation is then the
// one holding that byte, if it matches `alloc`, and `fromRead` counts `offset` from that byte, not the allocation).

import type { Kernel } from "../src/kernel/kernel.ts";
import type { CallRecord } from "./calllog.ts";
import { memRecords, type MemFamily } from "./memrecords.ts";
import type { MemoryRole } from "./table.ts";

export interface MemoryProbe {
  id: string;
  at: "loaded" | "unloading" | "first-read";
  /** Which allocation: the first live one that matches every field given ("first-read": the one read from, if it matches). */
  alloc: { family?: MemFamily[]; fns?: string[]; size?: number };
  offset?: number;
  stride: number;
  count: number;
  width: 1 | 2 | 4 | 8;
  /**
   * Write these values there instead of reading (little-endian, `width` bytes each, `count` of them), as another agent
   * would (a second program storing through its own mapping of the buffer): the grader's check then expects the module
   * to act on what it finds. Writes happen before the same moment's reads.
   */
  write?: number[];
  /** Instead of `write`: store the bitwise complement of what each value's bytes hold (a value certain to differ). */
  invert?: boolean;
  /** "first-read": `offset` counts from the byte the module was about to load, not from the allocation's start. */
  fromRead?: boolean;
  /** "first-read" with fromRead: count from the start of the (pick mod n)th of the n ranges the module had stored to
   *  by then (in the order first stored; adjacent stores merged), not from the byte read. */
  pick?: number;
}

/** RunResult.kernel.memory[probe.id]: the allocation read and the values (numbers; bigint as "0x.." past 2^53). */
export interface ProbeResult {
  at: MemoryProbe["at"];
  fn?: string;
  addr?: string;
  size?: number;
  /** null where a value's bytes were not mapped. */
  values?: (number | string | null)[];
  /** Why nothing was read (no matching allocation live). */
  missing?: string;
}

/** Whether [base, base + size) holds addr. */
function holds(base: bigint | undefined, size: number, addr: bigint): boolean {
  return base !== undefined && addr >= base && addr < base + BigInt(size);
}

/** The most values one probe reads (a 4 MiB buffer read every 4 KiB is 1024). */
export const MAX_PROBE_VALUES = 65536;

export function readProbes(
  k: Kernel,
  calls: readonly CallRecord[],
  roles: Map<string, MemoryRole>,
  probes: readonly MemoryProbe[],
  at: MemoryProbe["at"],
  /** "first-read": the address the module reads; the allocation is the live one holding it. */
  readAt?: bigint,
  /** "first-read": the [start, end) ranges the module had stored to (MemoryProbe.pick). */
  stored?: readonly (readonly [bigint, bigint])[],
): Record<string, ProbeResult> {
  const out: Record<string, ProbeResult> = {};
  // the writes first (another agent stored there before the module looks), then the reads
  const mine = probes.filter((p) => p.at === at).sort((a, b) => Number(!(a.write || a.invert)) - Number(!(b.write || b.invert)));
  if (!mine.length) return out;
  const l = k.layout;
  const recs = memRecords(calls, roles, { pageSize: l.pageSize, vmallocStart: l.vmallocStart, vmallocEnd: l.vmallocEnd });
  for (const p of mine) {
    const at0 = p.pick !== undefined && stored?.length ? stored[Math.abs(Math.trunc(p.pick)) % stored.length][0] : readAt;
    const a = recs.allocs.find(
      (x) =>
        !x.free &&
        (!p.alloc.family || p.alloc.family.includes(x.family)) &&
        (!p.alloc.fns || p.alloc.fns.includes(x.fn)) &&
        (p.alloc.size === undefined || x.size === p.alloc.size) &&
        (at0 === undefined || holds(x.fn.startsWith("alloc_page") ? x.virt : x.addr, x.size, at0)),
    );
    const start = a ? (a.call.fn.startsWith("alloc_page") ? a.virt : a.addr) : undefined;
    const base = p.fromRead && at0 !== undefined && start !== undefined ? at0 : start;
    if (!a || base === undefined) {
      const what = [p.alloc.fns?.join("/"), p.alloc.family?.join("/"), p.alloc.size !== undefined ? `of ${p.alloc.size} bytes` : undefined]
        .filter(Boolean)
        .join(" ");
      out[p.id] = { at, missing: `the module held no ${what || "allocation"} to read` };
      continue;
    }
    const n = Math.min(p.count, MAX_PROBE_VALUES);
    if (p.invert) {
      const written: (number | null)[] = [];
      for (let i = 0; i < n; i++) {
        const where = base + BigInt((p.offset ?? 0) + i * p.stride);
        const bytes = k.mem.peek(where, p.width);
        if (!bytes) {
          written.push(null);
          continue;
        }
        let v = 0;
        for (let j = 0; j < p.width; j++) {
          bytes[j] = ~bytes[j] & 0xff;
          v += bytes[j] * 2 ** (8 * j);
        }
        written.push(k.mem.poke(where, bytes) ? v : null);
      }
      out[p.id] = { at, fn: a!.fn, addr: "0x" + base.toString(16), size: a!.size, values: written };
      continue;
    }
    if (p.write) {
      const written: (number | null)[] = [];
      for (let i = 0; i < n; i++) {
        const v = BigInt(p.write[i % p.write.length] ?? 0);
        const bytes = new Uint8Array(p.width);
        for (let j = 0; j < p.width; j++) bytes[j] = Number((v >> BigInt(8 * j)) & 0xffn);
        written.push(k.mem.poke(base + BigInt((p.offset ?? 0) + i * p.stride), bytes) ? Number(v) : null);
      }
      out[p.id] = { at, fn: a.fn, addr: "0x" + base.toString(16), size: a.size, values: written };
      continue;
    }
    const values: (number | string | null)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const bytes = k.mem.peek(base + BigInt((p.offset ?? 0) + i * p.stride), p.width);
      if (!bytes) {
        values[i] = null;
        continue;
      }
      let v = 0n;
      for (let j = p.width - 1; j >= 0; j--) v = (v << 8n) | BigInt(bytes[j]);
      values[i] = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : "0x" + v.toString(16);
    }
    out[p.id] = { at, fn: a.fn, addr: "0x" + base.toString(16), size: a.size, values };
  }
  return out;
}
