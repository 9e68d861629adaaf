// Output-preserving speed work: every optimisation of boot and of a run must leave every byte a learner can see
// unchanged. For every profile x config at default RAM, plus x86_64-6.1 at 4 GiB, this boots the kernel and hashes
// the boot log, every /proc file, the invariant checks, and the state after a fixed workload (pages of several
// orders, kmalloc of several sizes, vmalloc, page-table walks, frees, /proc again); it also runs examples/memdemo.ts
// through the sandbox and hashes the RunResult (minus stats.wallMs, the one wall-clock field).
//
// The hashes in golden.json were recorded before the speed work began. A change of output that is meant (a new
// dmesg line, a fixed /proc format) regenerates them with `GOLDEN_UPDATE=1 npx vitest run test/perf/golden.test.ts`
// — and the commit that does so should say why the output changed. Wall-clock time is never asserted here.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boot, type Kernel } from "../../src/kernel/kernel.ts";
import { PROFILES } from "../../src/kernel/profiles.ts";
import { readProc, procNames } from "../../src/kernel/fs/proc.ts";
import { gfp } from "../../src/kernel/gfp.ts";
import { toJson } from "../../src/kernel/inspect.ts";
import { runModule } from "../../sandbox/run.ts";
import type { ConfigKind } from "../../src/kernel/types.ts";

const GOLDEN = new URL("./golden.json", import.meta.url);
const UPDATE = !!process.env.GOLDEN_UPDATE;
const GiB = 2 ** 30;

type Parts = Record<string, string>;

function h(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(toJson(v));
  return createHash("sha256").update(s).digest("hex").slice(0, 24);
}

function procs(k: Kernel, into: Parts, prefix: string): void {
  for (const name of procNames()) {
    let text: string;
    try {
      text = readProc(k, name);
    } catch (e) {
      text = `(threw ${(e as Error).message})`;
    }
    into[`${prefix}proc/${name}`] = h(text);
  }
}

/** A fixed workload touching every allocator and the page tables, so that lazy boot state is exercised. */
function workload(k: Kernel, parts: Parts): void {
  const era = k.profile.era;
  const GFP_KERNEL = gfp(era, "GFP_KERNEL");
  const mark = k.log.mark();
  const out: unknown[] = [];
  const pfns: [number, number][] = [];
  for (const order of [0, 0, 1, 3, 5, 0, 2]) {
    const pfn = k.pages.alloc_pages(GFP_KERNEL, order);
    out.push(["page", order, pfn]);
    if (pfn >= 0) pfns.push([pfn, order]);
  }
  const kptrs: bigint[] = [];
  for (const size of [8, 13, 100, 192, 1000, 4096, 5000, 8192, 65536, 200000]) {
    const p = k.slab.kmalloc(size, GFP_KERNEL);
    out.push(["kmalloc", size, p, p ? k.slab.ksize(p) : 0]);
    if (p) kptrs.push(p);
  }
  const vptrs: bigint[] = [];
  for (const size of [1000000, 4096, 65536, 3 * 4096 + 1]) {
    const v = k.vmalloc.vmalloc(size);
    out.push(["vmalloc", size, v]);
    if (v) vptrs.push(v);
  }
  // Page-table walks: vmalloc'ed pages, the linear map (first, middle, last lowmem page), a kmalloc'ed object.
  const walkAt = (a: bigint) => {
    try {
      const w = k.pgtable.walk(a);
      return toJson(w);
    } catch (e) {
      return `threw ${(e as Error).message}`;
    }
  };
  for (const v of vptrs) out.push(["walk", v, walkAt(v), walkAt(v + 4096n)]);
  for (const p of kptrs) out.push(["walk", p, walkAt(p)]);
  const lowmem = k.layout.highMemory - k.layout.pageOffset;
  for (const off of [0n, 0x1000n, lowmem / 2n, lowmem - 4096n, lowmem]) out.push(["walk", off, walkAt(k.layout.pageOffset + off)]);
  out.push(["counters", k.vmalloc.counters()]);
  parts["workload/alloc"] = h(out);
  procs(k, parts, "workload/loaded/");
  for (const v of vptrs) k.vmalloc.vfree(v);
  for (const p of kptrs) k.slab.kfree(p);
  for (const [pfn, order] of pfns) k.pages.__free_pages(pfn, order);
  procs(k, parts, "workload/freed/");
  parts["workload/dmesg"] = h(k.log.dmesg(mark).join("\n"));
  parts["workload/reports"] = h(k.reports);
  parts["workload/clock"] = h(String(k.clock.now()));
  parts["workload/counters"] = h(k.vmalloc.counters());
  parts["workload/invariants"] = h(k.checkInvariants());
}

function bootParts(profile: string, opts: { config?: ConfigKind; mem?: number }): Parts {
  const k = boot(profile, opts);
  const parts: Parts = {};
  parts["boot/dmesg"] = h(k.log.dmesg().join("\n"));
  parts["boot/clock"] = h(String(k.clock.now()));
  parts["boot/reports"] = h(k.reports);
  procs(k, parts, "boot/");
  parts["boot/pages.checkInvariants"] = h(k.pages.checkInvariants());
  parts["boot/checkInvariants"] = h(k.checkInvariants());
  parts["boot/zoneStats"] = h(k.pages.zoneStats());
  parts["boot/caches"] = h(k.slab.caches());
  parts["boot/areas"] = h(k.vmalloc.areas());
  workload(k, parts);
  return parts;
}

const memdemo = readFileSync(new URL("../../examples/memdemo.ts", import.meta.url), "utf8");

async function runParts(profile: string, withProc: boolean): Promise<Parts> {
  const r = await runModule(memdemo, {
    profile,
    ...(withProc ? { proc: ["meminfo", "buddyinfo", "slabinfo", "vmallocinfo", "zoneinfo"], checkInvariants: true } : {}),
  });
  const { stats, ...rest } = r;
  const { wallMs: _wallMs, ...simStats } = stats;
  const parts: Parts = {};
  for (const [key, v] of Object.entries(rest)) parts[`run/${key}`] = h(v);
  parts["run/stats"] = h(simStats);
  return parts;
}

const cases: { name: string; parts: () => Parts | Promise<Parts> }[] = [];
for (const p of PROFILES) {
  for (const config of ["debug", "distro"] as const) cases.push({ name: `boot ${p.name} ${config}`, parts: () => bootParts(p.name, { config }) });
}
cases.push({ name: "boot x86_64-6.1 debug 4GiB", parts: () => bootParts("x86_64-6.1", { config: "debug", mem: 4 * GiB }) });
for (const p of ["x86_64-6.1", "i386-2.6"]) {
  cases.push({ name: `memdemo ${p}`, parts: () => runParts(p, false) });
  cases.push({ name: `memdemo ${p} with proc and invariants`, parts: () => runParts(p, true) });
}

const golden: Record<string, Parts> = existsSync(GOLDEN) ? JSON.parse(readFileSync(GOLDEN, "utf8")) : {};
const fresh: Record<string, Parts> = {};

describe("golden output (byte-identical boot, /proc, workload and runs)", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const parts = await c.parts();
      fresh[c.name] = parts;
      if (UPDATE) return;
      expect(golden[c.name], `no golden values for ${c.name}: run with GOLDEN_UPDATE=1`).toBeDefined();
      expect(parts).toEqual(golden[c.name]);
    });
  }
  if (UPDATE) {
    it("writes golden.json", () => {
      writeFileSync(GOLDEN, JSON.stringify(fresh, null, 1) + "\n");
    });
  }
});
