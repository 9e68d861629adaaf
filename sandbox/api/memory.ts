// Rows: memory accesses (the kernel's own loads and stores: asm/io.h readb..writeq for the names, lib/string.c
// memset/memset16/32/64/memcpy/memmove/memcmp/memchr_inv). Each goes through k.mem: the TLB, the page-table walk,
// KASAN and, for an address nothing maps, the architecture's Oops (the module function stops there).
//
// A module has no pointers to dereference, so `p[i] = v` is spelled `writeb(v, p + BigInt(i))`, value first as in
// the kernel. A host call costs ~3 µs: for loops over megabytes use the batch forms, which the kernel does page by
// page natively — memset/memset32 to fill, memcpy to copy, memchr_inv to read a range and find the first byte that
// differs (it touches every page, so the TLB counts are those of a read loop), memcmp to compare.

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { p } from "../table.ts";

const fn = (e: Omit<FunctionEntry, "kind" | "module" | "context"> & { context?: string }): FunctionEntry => ({
  kind: "function",
  module: "linux",
  context: "any",
  ...e,
});

const read = (name: string, size: 1 | 2 | 4, bits: number): FunctionEntry =>
  fn({
    name,
    params: [p("addr", "addr")],
    returns: "uint",
    doc: `Load ${bits} bits from addr (the kernel's \`*(u${bits} *)addr\`), little-endian. Faults (an Oops that ends this function) if nothing maps addr; KASAN checks it on debug kernels.`,
    impl: (c, addr: bigint) => {
      c.mod.beforeRead?.(addr, size);
      return c.k.mem.read(addr, size);
    },
  });

const write = (name: string, size: 1 | 2 | 4, bits: number): FunctionEntry =>
  fn({
    name,
    params: [p("value", "uint", `truncated to ${bits} bits`), p("addr", "addr")],
    returns: "void",
    doc: `Store the low ${bits} bits of value at addr (value first, as the kernel's ${name}(value, addr)). Faults if nothing maps addr.`,
    impl: (c, value: number, addr: bigint) => {
      c.k.mem.write(addr, size, value);
      c.mod.wrote?.(addr, size);
    },
  });

/** After a store of len bytes at addr: tell the run's "first-read" probes (ModuleState.wrote), then give back `ret`. */
function wrote<T>(c: { mod: { wrote?: (addr: bigint, len: number) => void } }, addr: bigint, len: number, ret: T): T {
  c.mod.wrote?.(addr, len);
  return ret;
}

export const MEMORY_ROWS: ApiEntry[] = [
  read("readb", 1, 8),
  read("readw", 2, 16),
  read("readl", 4, 32),
  fn({
    name: "readq",
    memory: { none: "the value read (a u64), not an address" },
    params: [p("addr", "addr")],
    returns: "addr",
    doc: "Load 64 bits from addr, as a bigint.",
    impl: (c, addr: bigint) => {
      c.mod.beforeRead?.(addr, 8);
      return c.k.mem.read(addr, 8);
    },
  }),
  write("writeb", 1, 8),
  write("writew", 2, 16),
  write("writel", 4, 32),
  fn({
    name: "writeq",
    params: [p("value", "addr", "a bigint (64 bits on 64-bit kernels)"), p("addr", "addr")],
    returns: "void",
    doc: "Store 64 bits at addr (value first).",
    impl: (c, value: bigint, addr: bigint) => {
      c.k.mem.write(addr, 8, value);
      c.mod.wrote?.(addr, 8);
    },
  }),
  fn({
    name: "memset",
    memory: { none: "returns its destination" },
    params: [p("s", "addr"), p("c", "int", "the byte value"), p("n", "size")],
    returns: "addr",
    doc: "Fill n bytes at s with the byte c; returns s. Done page by page; faults at the first unmapped page it reaches (the bytes before it are written).",
    impl: (c, s: bigint, ch: number, n: number) => wrote(c, s, n, c.k.mem.memset(s, ch, n)),
  }),
  fn({
    name: "memset16",
    memory: { none: "returns its destination" },
    params: [p("s", "addr"), p("v", "uint"), p("count", "size", "number of 16-bit words")],
    returns: "addr",
    doc: "Fill count 16-bit words at s with v.",
    impl: (c, s: bigint, v: number, n: number) => wrote(c, s, n * 2, c.k.mem.memsetN(s, v, n, 2)),
  }),
  fn({
    name: "memset32",
    memory: { none: "returns its destination" },
    params: [p("s", "addr"), p("v", "uint"), p("count", "size", "number of 32-bit words")],
    returns: "addr",
    doc: "Fill count 32-bit words at s with v: the batch form of a `writel` loop.",
    impl: (c, s: bigint, v: number, n: number) => wrote(c, s, n * 4, c.k.mem.memsetN(s, v, n, 4)),
  }),
  fn({
    name: "memset64",
    memory: { none: "returns its destination" },
    params: [p("s", "addr"), p("v", "addr", "a bigint"), p("count", "size", "number of 64-bit words")],
    returns: "addr",
    doc: "Fill count 64-bit words at s with v.",
    impl: (c, s: bigint, v: bigint, n: number) => wrote(c, s, n * 8, c.k.mem.memsetN(s, v, n, 8)),
  }),
  fn({
    name: "memcpy",
    memory: { none: "returns its destination" },
    params: [p("dest", "addr"), p("src", "addr"), p("n", "size")],
    returns: "addr",
    doc: "Copy n bytes from src to dest (they must not overlap: use memmove); returns dest.",
    impl: (c, d: bigint, s: bigint, n: number) => {
      c.mod.beforeRead?.(s, n);
      return wrote(c, d, n, c.k.mem.memcpy(d, s, n));
    },
  }),
  fn({
    name: "memmove",
    memory: { none: "returns its destination" },
    params: [p("dest", "addr"), p("src", "addr"), p("n", "size")],
    returns: "addr",
    doc: "Copy n bytes from src to dest; the ranges may overlap. Returns dest.",
    impl: (c, d: bigint, s: bigint, n: number) => {
      c.mod.beforeRead?.(s, n);
      return wrote(c, d, n, c.k.mem.memmove(d, s, n));
    },
  }),
  fn({
    name: "memcmp",
    params: [p("cs", "addr"), p("ct", "addr"), p("n", "size")],
    returns: "int",
    doc: "Compare n bytes: 0 if equal, else the difference of the first differing bytes (cs[i] - ct[i]).",
    impl: (c, a: bigint, b: bigint, n: number) => {
      c.mod.beforeRead?.(a, n);
      c.mod.beforeRead?.(b, n);
      return c.k.mem.memcmp(a, b, n);
    },
  }),
  fn({
    name: "memchr_inv",
    memory: { none: "a position inside memory the module passed" },
    params: [p("start", "addr"), p("c", "int", "the byte expected"), p("bytes", "size")],
    returns: "addr",
    doc: "Read bytes at start and return the address of the first byte that is not c, or 0n if all are: the batch form of a read loop (`memchr_inv(buf, 0, size) === 0n` checks a buffer is zeroed).",
    impl: (c, s: bigint, ch: number, n: number) => {
      c.mod.beforeRead?.(s, n);
      return c.k.mem.memchr_inv(s, ch, n);
    },
  }),
];
