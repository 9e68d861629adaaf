// /proc/slabinfo, version 2.1, byte for byte against the real x86_64 6.1 transcript's lines.
import { expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { SLABINFO_HEADER, slabinfoLine } from "../../../src/kernel/fs/slabinfo.ts";

it("prints the header and the kernel's column format", () => {
  const k = boot("x86_64-6.1", { config: "distro" });
  const text = k.proc("slabinfo");
  expect(text.startsWith(SLABINFO_HEADER)).toBe(true);
  expect(SLABINFO_HEADER).toBe(
    "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n",
  );
  // Lines copied from x86_64-512M-nokaslr.log (before insmod): the boot model reproduces their counts.
  for (const real of [
    "kmalloc-8k            12     12   8192    4    8 : tunables    0    0    0 : slabdata      3      3      0",
    "kmalloc-192          294    294    192   21    1 : tunables    0    0    0 : slabdata     14     14      0",
    "kmalloc-128          352    352    128   32    1 : tunables    0    0    0 : slabdata     11     11      0",
    "kmalloc-96           420    420     96   42    1 : tunables    0    0    0 : slabdata     10     10      0",
    "kmalloc-64          1600   1600     64   64    1 : tunables    0    0    0 : slabdata     25     25      0",
    "task_struct           60     60   6208    5    8 : tunables    0    0    0 : slabdata     12     12      0",
    "dma-kmalloc-8k         0      0   8192    4    8 : tunables    0    0    0 : slabdata      0      0      0",
    "fsverity_info          0      0    256   16    1 : tunables    0    0    0 : slabdata      0      0      0",
  ]) {
    expect(text.split("\n")).toContain(real);
  }
  // A name longer than 17 characters pushes the columns right, as %-17s does.
  expect(slabinfoLine("request_sock_subflow_v6", 0, 0, 384, 10, 1, [0, 0, 0], 0, 0, 0)).toBe(
    "request_sock_subflow_v6      0      0    384   10    1 : tunables    0    0    0 : slabdata      0      0      0",
  );
});

it("shows a module's cache first while it exists and counts its objects", () => {
  const k = boot("x86_64-6.1", { config: "distro", cmdline: "console=ttyS0 slub_nomerge" });
  k.current = { pid: 108, comm: "insmod" };
  const c = k.slab.kmem_cache_create("kmodlab_item", 72, 0, 0)!;
  for (let i = 0; i < 100; i++) k.slab.kmem_cache_alloc(c, 0xcc0);
  // 72-byte objects, 56 per 4 KiB slab: two slabs; the current (cpu) slab's free objects count as active.
  expect(k.proc("slabinfo").split("\n")[2]).toBe("kmodlab_item         112    112     72   56    1 : tunables    0    0    0 : slabdata      2      2      0");
});
