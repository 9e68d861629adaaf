// Rows: the dynamic percpu allocator (include/linux/percpu.h, mm/percpu.c; src/kernel/mm/percpu.ts has the model) of
// Linux 6.1 and 3.4. `alloc_percpu(size)` stands for C's alloc_percpu(type): __alloc_percpu(sizeof(type),
// __alignof__(type)), the alignment being that of a C type of that size (the largest power of two up to 8 that divides
// it). The __percpu pointer is a cookie: memory is reached through per_cpu_ptr(p, cpu) or this_cpu_ptr(p) (the
// running CPU: 0 here, the machines have one possible CPU unless the profile says more).
// Context: __alloc_percpu takes pcpu_alloc_mutex (GFP_KERNEL): it may sleep; free_percpu and the pointer
// arithmetic may be called anywhere.

import type { ApiEntry, CallEnv } from "../table.ts";
import { fn, p, GuestError } from "../table.ts";
import { __alloc_percpu, free_percpu, per_cpu_ptr } from "../../src/kernel/mm/percpu.ts";

const ABSENT = "2.6.26's alloc_percpu (mm/allocpercpu.c: a kmalloc per CPU) is not modelled";
const PTR = p("ptr", "addr", "a __percpu pointer alloc_percpu returned");

function naturalAlign(size: number): number {
  let a = 8;
  while (a > 1 && size % a !== 0) a >>= 1;
  return a;
}

function cpuPtr(c: CallEnv, f: string, ptr: bigint, cpu: number): bigint {
  if (cpu >= c.k.profile.nrCpus) throw new GuestError("RangeError", `${f}: cpu ${cpu} is not a possible CPU (nr_cpu_ids ${c.k.profile.nrCpus})`);
  const a = per_cpu_ptr(c.k, ptr, cpu);
  if (a === undefined)
    throw new GuestError("Error", `${f}: 0x${ptr.toString(16)} is not a live __percpu pointer (alloc_percpu returned none such, or it was freed)`);
  return a;
}

export const PERCPU_ROWS: ApiEntry[] = [
  fn({
    name: "__alloc_percpu",
    since: "3.4",
    absentNote: ABSENT,
    params: [p("size", "size"), p("align", "size", "a power of two, at most PAGE_SIZE")],
    returns: "addr",
    context: "may sleep (pcpu_alloc_mutex)",
    memory: { none: "percpu memory is the percpu allocator's chunks (meminfo's Percpu), not a family the leak check follows: 6.1's kmemleak never reports it" },
    doc: "Allocate size bytes, zeroed, in every CPU's unit: the __percpu pointer, or 0n (NULL). size 0, above 32 KiB (PCPU_MIN_UNIT_SIZE), or a bad align: WARN 'illegal size ... for percpu allocation' and NULL.",
    impl: (c, size: number, align: number) => __alloc_percpu(c.k, size, align),
  }),
  fn({
    name: "alloc_percpu",
    since: "3.4",
    absentNote: ABSENT,
    params: [p("size", "size", "sizeof(type)")],
    returns: "addr",
    context: "may sleep (pcpu_alloc_mutex)",
    memory: { none: "percpu memory is the percpu allocator's chunks (meminfo's Percpu), not a family the leak check follows: 6.1's kmemleak never reports it" },
    doc: "alloc_percpu(type): __alloc_percpu(sizeof(type), __alignof__(type)). Pass sizeof(type); the alignment is that of a C type of that size.",
    impl: (c, size: number) => __alloc_percpu(c.k, size, naturalAlign(size)),
  }),
  fn({
    name: "free_percpu",
    since: "3.4",
    absentNote: ABSENT,
    params: [p("ptr", "addr", "what alloc_percpu returned (0n does nothing)")],
    returns: "void",
    context: "any",
    memory: { none: "percpu memory is the percpu allocator's chunks (meminfo's Percpu); its pages stay populated" },
    doc: "Free a percpu area in every CPU's unit. The chunk's pages stay populated (meminfo's Percpu does not go down).",
    impl: (c, ptr: bigint) => {
      if (!free_percpu(c.k, ptr))
        throw new GuestError("Error", `free_percpu: 0x${ptr.toString(16)} is not a live __percpu pointer (a double free, or not from alloc_percpu)`);
    },
  }),
  fn({
    name: "per_cpu_ptr",
    since: "3.4",
    absentNote: ABSENT,
    params: [PTR, p("cpu", "uint")],
    returns: "addr",
    context: "any",
    memory: { none: "an address inside a percpu area: CPU cpu's copy" },
    doc: "The address of CPU cpu's copy: the __percpu pointer plus __per_cpu_offset[cpu].",
    impl: (c, ptr: bigint, cpu: number) => cpuPtr(c, "per_cpu_ptr", ptr, cpu),
  }),
  fn({
    name: "this_cpu_ptr",
    since: "3.4",
    absentNote: ABSENT,
    params: [PTR],
    returns: "addr",
    context: "any (with preemption disabled, or the task may move to another CPU)",
    memory: { none: "an address inside a percpu area: the running CPU's copy" },
    doc: "The running CPU's copy (CPU 0: the simulated machine runs everything on CPU 0).",
    impl: (c, ptr: bigint) => cpuPtr(c, "this_cpu_ptr", ptr, 0),
  }),
];
