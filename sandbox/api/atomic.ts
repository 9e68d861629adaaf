// Rows: atomic_t (include/linux/atomic.h, every era) and refcount_t (include/linux/refcount.h, 4.11+: the 6.1
// profiles) — src/kernel/lib/refcount.ts. `const a = new atomic_t();` is a static `atomic_t a = ATOMIC_INIT(0)`;
// `const r = new refcount_t();` starts at 0 like a zeroed struct: refcount_set(r, 1) when the object is made.

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { p } from "../table.ts";
import { handles } from "./handles.ts";
import { Atomic, wrap32, refcountAdd, refcountAddNotZero, refcountDec, refcountSubAndTest } from "../../src/kernel/kernel/refcount.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";

const fn = (e: Omit<FunctionEntry, "kind" | "module" | "context"> & { context?: string }): FunctionEntry => ({
  kind: "function",
  module: "linux",
  context: "any",
  ...e,
});
const A = p("v", "handle:atomic_t");
const R = p("r", "handle:refcount_t");
const at = (k: Kernel, id: number, f: string) => handles(k).get<Atomic>(id, f);

const make = (type: string) => (c: { k: Kernel }) => handles(c.k).add(type, new Atomic());

export const ATOMIC_ROWS: ApiEntry[] = [
  {
    kind: "class",
    module: "linux",
    name: "atomic_t",
    create: make("atomic_t"),
    doc: "atomic_t: a 32-bit counter updated atomically (`new atomic_t()` is ATOMIC_INIT(0)). It wraps like an int.",
  },
  fn({
    name: "atomic_set",
    params: [A, p("i", "int")],
    returns: "void",
    doc: "v = i.",
    impl: (c, v: number, i: number) => void (at(c.k, v, "atomic_set").v = wrap32(i)),
  }),
  fn({ name: "atomic_read", params: [A], returns: "int", doc: "The value.", impl: (c, v: number) => at(c.k, v, "atomic_read").v }),
  fn({
    name: "atomic_add",
    params: [p("i", "int"), A],
    returns: "void",
    doc: "v += i (wraps at 32 bits).",
    impl: (c, i: number, v: number) => {
      const a = at(c.k, v, "atomic_add");
      a.v = wrap32(a.v + i);
    },
  }),
  fn({
    name: "atomic_sub",
    params: [p("i", "int"), A],
    returns: "void",
    doc: "v -= i.",
    impl: (c, i: number, v: number) => {
      const a = at(c.k, v, "atomic_sub");
      a.v = wrap32(a.v - i);
    },
  }),
  fn({
    name: "atomic_inc",
    params: [A],
    returns: "void",
    doc: "v++.",
    impl: (c, v: number) => {
      const a = at(c.k, v, "atomic_inc");
      a.v = wrap32(a.v + 1);
    },
  }),
  fn({
    name: "atomic_dec",
    params: [A],
    returns: "void",
    doc: "v--.",
    impl: (c, v: number) => {
      const a = at(c.k, v, "atomic_dec");
      a.v = wrap32(a.v - 1);
    },
  }),
  fn({
    name: "atomic_inc_return",
    params: [A],
    returns: "int",
    doc: "++v.",
    impl: (c, v: number) => {
      const a = at(c.k, v, "atomic_inc_return");
      return (a.v = wrap32(a.v + 1));
    },
  }),
  fn({
    name: "atomic_dec_return",
    params: [A],
    returns: "int",
    doc: "--v.",
    impl: (c, v: number) => {
      const a = at(c.k, v, "atomic_dec_return");
      return (a.v = wrap32(a.v - 1));
    },
  }),
  fn({
    name: "atomic_dec_and_test",
    params: [A],
    returns: "bool",
    doc: "--v == 0.",
    impl: (c, v: number) => {
      const a = at(c.k, v, "atomic_dec_and_test");
      return (a.v = wrap32(a.v - 1)) === 0;
    },
  }),
  fn({
    name: "atomic_cmpxchg",
    params: [A, p("old", "int"), p("new", "int")],
    returns: "int",
    doc: "If v == old, v = new; returns the value v had.",
    impl: (c, v: number, old: number, nw: number) => {
      const a = at(c.k, v, "atomic_cmpxchg");
      const was = a.v;
      if (was === wrap32(old)) a.v = wrap32(nw);
      return was;
    },
  }),
  {
    kind: "class",
    module: "linux",
    name: "refcount_t",
    since: "6.1",
    absentNote: "added in 4.11; use atomic_t",
    create: make("refcount_t"),
    doc: "refcount_t: a reference count that never wraps: misuse saturates it and WARNs (refcount_warn_saturate).",
  },
  ...(
    [
      fn({
        name: "refcount_set",
        params: [R, p("n", "int")],
        returns: "void",
        doc: "Set the count (when the object is made: 1).",
        impl: (c, r: number, n: number) => void (at(c.k, r, "refcount_set").v = wrap32(n)),
      }),
      fn({
        name: "refcount_read",
        params: [R],
        returns: "int",
        doc: "The count (REFCOUNT_SATURATED, -1073741824, once saturated).",
        impl: (c, r: number) => at(c.k, r, "refcount_read").v,
      }),
      fn({
        name: "refcount_inc",
        params: [R],
        returns: "void",
        doc: 'Take a reference. From 0 it is a use after free: WARN "refcount_t: addition on 0; use-after-free." and saturate.',
        impl: (c, r: number) => refcountAdd(c.k, at(c.k, r, "refcount_inc"), 1),
      }),
      fn({
        name: "refcount_add",
        params: [p("i", "int"), R],
        returns: "void",
        doc: "Take i references (WARN and saturate on 0 or overflow).",
        impl: (c, i: number, r: number) => refcountAdd(c.k, at(c.k, r, "refcount_add"), i),
      }),
      fn({
        name: "refcount_inc_not_zero",
        params: [R],
        returns: "bool",
        doc: "Take a reference unless the count is 0 (the object is being freed): false then.",
        impl: (c, r: number) => refcountAddNotZero(c.k, at(c.k, r, "refcount_inc_not_zero"), 1),
      }),
      fn({
        name: "refcount_dec_and_test",
        params: [R],
        returns: "bool",
        doc: 'Drop a reference: true when it was the last (free the object then). Below 0: WARN "refcount_t: underflow; use-after-free."',
        impl: (c, r: number) => refcountSubAndTest(c.k, at(c.k, r, "refcount_dec_and_test"), 1),
      }),
      fn({
        name: "refcount_sub_and_test",
        params: [p("i", "int"), R],
        returns: "bool",
        doc: "Drop i references: true when the count reached 0.",
        impl: (c, i: number, r: number) => refcountSubAndTest(c.k, at(c.k, r, "refcount_sub_and_test"), i),
      }),
      fn({
        name: "refcount_dec",
        params: [R],
        returns: "void",
        doc: 'Drop a reference that is never the last: reaching 0 WARNs "refcount_t: decrement hit 0; leaking memory."',
        impl: (c, r: number) => refcountDec(c.k, at(c.k, r, "refcount_dec")),
      }),
    ] as FunctionEntry[]
  ).map((e) => ({ ...e, since: "6.1" as const, absentNote: "refcount_t was added in 4.11; use atomic_t" })),
];
