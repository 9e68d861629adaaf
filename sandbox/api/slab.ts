// Rows: the kmalloc family (include/linux/slab.h; mm/slub.c, mm/slab.c of the era) and KMALLOC_MAX_SIZE.

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { p } from "../table.ts";

const fn = (e: Omit<FunctionEntry, "kind" | "module">): FunctionEntry => ({ kind: "function", module: "linux", ...e });
const CTX = "may sleep with GFP_KERNEL; any with GFP_ATOMIC";

export const SLAB_ROWS: ApiEntry[] = [
  {
    kind: "constant",
    module: "linux",
    name: "KMALLOC_MAX_SIZE",
    type: "number",
    value: (k) => k.slab.km.maxSize,
    doc: "The largest size kmalloc can ever return (128 KiB with 2.6's SLAB; 2^(MAX_ORDER-1) pages with SLUB).",
  },
  fn({
    name: "kmalloc",
    params: [p("size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "Allocate size bytes of physically contiguous memory from the kmalloc caches (0n on failure). Free with kfree.",
    impl: (c, size: number, gfp: number) => c.k.slab.kmalloc(size, gfp),
  }),
  fn({
    name: "kzalloc",
    params: [p("size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "kmalloc, zeroed (flags | __GFP_ZERO).",
    impl: (c, size: number, gfp: number) => c.k.slab.kzalloc(size, gfp),
  }),
  fn({
    name: "kmalloc_array",
    params: [p("n", "size"), p("size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    since: "3.4",
    absentNote: "added in 3.4 — use kmalloc(n * size, flags), checking the multiplication yourself",
    doc: "Allocate an array of n elements of size bytes; 0n if n * size overflows.",
    impl: (c, n: number, size: number, gfp: number) => c.k.slab.kmalloc_array(n, size, gfp),
  }),
  fn({
    name: "kcalloc",
    params: [p("n", "size"), p("size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "kmalloc_array, zeroed.",
    impl: (c, n: number, size: number, gfp: number) => c.k.slab.kcalloc(n, size, gfp),
  }),
  fn({
    name: "krealloc",
    params: [p("p", "addr"), p("new_size", "size"), p("flags", "gfp")],
    returns: "addr",
    context: CTX,
    doc: "Resize a kmalloc'ed object: the same address if it still fits, else a new one with the contents copied (the old one freed).",
    impl: (c, ptr: bigint, size: number, gfp: number) => c.k.slab.krealloc(ptr, size, gfp),
  }),
  fn({
    name: "ksize",
    params: [p("objp", "addr")],
    returns: "size",
    context: "any",
    doc: "How many bytes the object at objp really has (its cache's object size), at least what was asked for.",
    impl: (c, ptr: bigint) => c.k.slab.ksize(ptr),
  }),
  fn({
    name: "kfree",
    params: [p("objp", "addr")],
    returns: "void",
    context: "any",
    doc: "Free memory from kmalloc and friends. kfree(0n) does nothing.",
    impl: (c, ptr: bigint) => c.k.slab.kfree(ptr),
  }),
];
