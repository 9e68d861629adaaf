// Rows: vmalloc (include/linux/vmalloc.h, mm/vmalloc.c of the era).

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { p } from "../table.ts";

const fn = (e: Omit<FunctionEntry, "kind" | "module">): FunctionEntry => ({ kind: "function", module: "linux", ...e });

export const VMALLOC_ROWS: ApiEntry[] = [
  fn({
    name: "vmalloc",
    params: [p("size", "size")],
    returns: "addr",
    context: "may sleep",
    doc: "Allocate size bytes that are contiguous in virtual memory only (pages from anywhere, mapped in the vmalloc area); 0n on failure. Free with vfree.",
    impl: (c, size: number) => c.k.vmalloc.vmalloc(size),
  }),
  fn({
    name: "vzalloc",
    params: [p("size", "size")],
    returns: "addr",
    context: "may sleep",
    doc: "vmalloc, zeroed.",
    impl: (c, size: number) => c.k.vmalloc.vzalloc(size),
  }),
  fn({
    name: "vfree",
    params: [p("addr", "addr")],
    returns: "void",
    context: "may sleep (from interrupt context 6.1 defers the free to a work item)",
    doc: "Free memory from vmalloc. vfree(0n) does nothing.",
    impl: (c, addr: bigint) => c.k.vmalloc.vfree(addr),
  }),
];
