// Models include/linux/atomic.h (atomic_t: a 32-bit int that wraps) and include/linux/refcount.h + lib/refcount.c
// of Linux 6.1 (refcount_t: 4.11+, with the full checks on every architecture since 5.5): a reference count that
// refuses to wrap. An increment from 0 (a use after free), a decrement below 0, an overflow, or refcount_dec()
// reaching 0 (refcount_dec must never free) saturates the count at REFCOUNT_SATURATED (INT_MIN / 2) and WARNs once
// per kind, from refcount_warn_saturate() at lib/refcount.c:19/22/25/28/31:
//   "refcount_t: saturated; leaking memory." (REFCOUNT_ADD_NOT_ZERO_OVF, REFCOUNT_ADD_OVF)
//   "refcount_t: addition on 0; use-after-free." (REFCOUNT_ADD_UAF)
//   "refcount_t: underflow; use-after-free." (REFCOUNT_SUB_UAF)
//   "refcount_t: decrement hit 0; leaking memory." (REFCOUNT_DEC_LEAK)
// A saturated count stays saturated (it is never freed: the leak is the safe outcome).
// Simplification (stated): one CPU, so the atomics are plain operations; WARN_ONCE's once is per kind per boot.
// (In kernel/ rather than lib/: a lib/ directory is the build's output, which git ignores.)

import { SideTable } from "../snapshot.ts";
import type { Kernel } from "../kernel.ts";
import { warn } from "../debug/splat.ts";

export const REFCOUNT_SATURATED = -(2 ** 30);

export class Atomic {
  v = 0;
}

/** atomic_t arithmetic: 32-bit two's complement. */
export const wrap32 = (v: number) => v | 0;

type Kind = "ADD_NOT_ZERO_OVF" | "ADD_OVF" | "ADD_UAF" | "SUB_UAF" | "DEC_LEAK";
const TEXT: Record<Kind, [number, string]> = {
  ADD_NOT_ZERO_OVF: [19, "saturated; leaking memory"],
  ADD_OVF: [22, "saturated; leaking memory"],
  ADD_UAF: [25, "addition on 0; use-after-free"],
  SUB_UAF: [28, "underflow; use-after-free"],
  DEC_LEAK: [31, "decrement hit 0; leaking memory"],
};

const warned = new SideTable<Kernel, Set<Kind>>(); // per machine; a kernel snapshot copies it (snapshot.ts)

/** refcount_warn_saturate(r, t) */
function saturate(k: Kernel, r: Atomic, t: Kind): void {
  r.v = REFCOUNT_SATURATED;
  let w = warned.get(k);
  if (!w) warned.set(k, (w = new Set()));
  if (w.has(t)) return;
  w.add(t);
  const [line, text] = TEXT[t];
  warn(k, {
    file: "lib/refcount.c",
    line,
    fn: "refcount_warn_saturate",
    message: `refcount_t: ${text}.`,
    explain:
      t === "ADD_UAF" || t === "SUB_UAF"
        ? "The count was used after it reached 0: whatever it counted may already be freed. The kernel saturates the count (the object is leaked, never freed twice)."
        : "The count overflowed or refcount_dec() dropped it to 0 (refcount_dec must not be the last put: use refcount_dec_and_test and free). The count is saturated: the object leaks.",
  });
}

/** __refcount_add(i, r) */
export function refcountAdd(k: Kernel, r: Atomic, i: number): void {
  const old = r.v;
  r.v = wrap32(old + i);
  if (old === 0) saturate(k, r, "ADD_UAF");
  else if (old < 0 || old + i < 0 || old + i > 0x7fffffff) saturate(k, r, "ADD_OVF");
}

/** __refcount_add_not_zero(i, r): true unless the count was 0. */
export function refcountAddNotZero(k: Kernel, r: Atomic, i: number): boolean {
  const old = r.v;
  if (old === 0) return false;
  r.v = wrap32(old + i);
  if (old < 0 || old + i < 0 || old + i > 0x7fffffff) saturate(k, r, "ADD_NOT_ZERO_OVF");
  return true;
}

/** __refcount_sub_and_test(i, r): true when the count reached 0 (the caller frees). */
export function refcountSubAndTest(k: Kernel, r: Atomic, i: number): boolean {
  const old = r.v;
  r.v = wrap32(old - i);
  if (old === i) return true;
  if (old < 0 || old - i < 0) saturate(k, r, "SUB_UAF");
  return false;
}

/** refcount_dec(r): must not reach 0. */
export function refcountDec(k: Kernel, r: Atomic): void {
  const old = r.v;
  r.v = wrap32(old - 1);
  if (old <= 1) saturate(k, r, "DEC_LEAK");
}
