// A hostile cell must not bloat the host: each runs in a fresh process (fixtures/host-memory-run.ts) with a CPU limit
// far beyond what it needs, so that its own limit stops it on any machine (the kernel-call limit, the log limit...),
// and the test asserts what does not depend on the machine's speed: the entries the call log keeps, the size of the
// RunResult's JSON and of its structured clone (the worker -> main message), what the records count, and the
// process's peak RSS under a generous bound. Figures without the fold (sandbox/calllog.ts): 1,000,000 entries, 230 MB
// of JSON, 110 MB of message and 1.1-1.4 GB peak RSS for each of the first cells.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CALL_LOG_BUDGET } from "../../sandbox/calllog.ts";
import { DEFAULT_LIMITS, LOG_RECORD_BYTES } from "../../sandbox/limits.ts";

const script = fileURLToPath(new URL("./fixtures/host-memory-run.ts", import.meta.url));
const MB = 1e6;

interface Measured {
  kernelCalls: number;
  entries: number;
  folded: number;
  dropped: Record<string, number>;
  allocations: number;
  records: number;
  leaked: number;
  failed: number;
  dmesgLines: number;
  jsonBytes: number;
  messageBytes: number;
  limits: { kind: string; limit: string; title: string }[];
  maxRssMB: number;
}

const IMPORTS = `import { kmalloc, kfree, vmalloc, vfree, ioremap, iounmap, alloc_pages, __free_pages, page_address, __get_free_pages, free_pages, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
`;
const cell = (init: string) => `${IMPORTS}module_init(() => { ${init} return 0; });\nmodule_exit(() => {});\n`;

function measure(source: string, options: Record<string, unknown> = {}, via: "library" | "isolate" = "library"): Measured {
  const job = JSON.stringify({ source, via, options: { config: "distro", ...options, limits: { cpuMs: 600_000, ...((options.limits as object) ?? {}) } } });
  const out = execFileSync(process.execPath, ["--import", "tsx", script, job], { encoding: "utf8", timeout: 900_000, maxBuffer: 1 << 20 });
  const m = JSON.parse(out.trim().split("\n").pop()!) as Measured;
  console.log(JSON.stringify({ ...m, limits: m.limits.map((x) => x.limit) })); // the figures, for the record
  return m;
}

const CALL_LIMIT = { kind: "limit", limit: "kernel-calls", title: "kmodlab: kernel call limit reached (1000000 calls)" };
const sumDropped = (m: Measured) => Object.values(m.dropped).reduce((a, b) => a + b, 0);

describe("hostile loops of allocations and frees cost the host a bounded amount", () => {
  it("kfree(kmalloc(64)) for ever, stopped by the 1,000,000-call limit: one folded block, 500,000 allocations all freed, < 8 MB of JSON, < 400 MB peak RSS", () => {
    const m = measure(cell("for (;;) kfree(kmalloc(64, GFP_KERNEL));"));
    expect(m.limits).toEqual([CALL_LIMIT]);
    expect(m.entries).toBeLessThanOrEqual(CALL_LOG_BUDGET.foldAfter + 8);
    expect(m.folded).toBe(m.kernelCalls - 1 - m.entries); // the refused 1,000,001st call is not in the log
    // 1,000,000 calls: MODULE_LICENSE, module_init and module_exit, then kmalloc/kfree pairs; the refused call may be
    // the last kmalloc's kfree
    expect(m.allocations).toBeGreaterThanOrEqual(499_998);
    expect(m.leaked).toBeLessThanOrEqual(1);
    expect(m.jsonBytes).toBeLessThan(8 * MB);
    expect(m.messageBytes).toBeLessThan(4 * MB);
    expect(m.maxRssMB).toBeLessThan(400);
  }, 900_000);

  it("alloc_pages + page_address + __free_pages and vfree(vmalloc(8192)) for ever, through the CLI's worker: two folded blocks, every allocation freed, a message < 4 MB", () => {
    const m = measure(cell("for (;;) { const p = alloc_pages(GFP_KERNEL, 0); page_address(p); __free_pages(p, 0); vfree(vmalloc(8192)); }"), {}, "isolate");
    expect(m.limits).toEqual([CALL_LIMIT]);
    expect(m.entries).toBeLessThanOrEqual(CALL_LOG_BUDGET.foldAfter + 8);
    expect(m.allocations).toBeGreaterThanOrEqual(399_998); // 5 calls a round: 200,000 rounds of two allocations
    expect(m.leaked).toBeLessThanOrEqual(1);
    expect(m.jsonBytes).toBeLessThan(8 * MB);
    expect(m.messageBytes).toBeLessThan(4 * MB);
    expect(m.maxRssMB).toBeLessThan(600);
  }, 900_000);

  it("kmalloc(64) never freed on an 8 GiB machine until the call limit: the log stops at maxEntries and counts the rest as dropped", () => {
    const m = measure(cell("for (;;) kmalloc(64, GFP_KERNEL);"), { mem: 8 * 2 ** 30 });
    expect(m.limits).toEqual([CALL_LIMIT]);
    expect(m.entries).toBeLessThanOrEqual(CALL_LOG_BUDGET.maxEntries + 2);
    expect(m.entries + sumDropped(m)).toBeGreaterThanOrEqual(1_000_000); // every call kept, or counted (+ the marker)
    expect(m.jsonBytes).toBeLessThan(40 * MB);
    expect(m.messageBytes).toBeLessThan(20 * MB);
    expect(m.maxRssMB).toBeLessThan(700);
  }, 900_000);

  it("kfree(kmalloc(n)) with 100,000 distinct sizes: the shapes past foldShapes are kept up to maxEntries, the rest dropped", () => {
    const m = measure(cell("for (let i = 1; ; i++) kfree(kmalloc(1 + (i % 100000), GFP_KERNEL));"));
    expect(m.limits).toEqual([CALL_LIMIT]);
    expect(m.entries).toBeLessThanOrEqual(CALL_LOG_BUDGET.maxEntries + CALL_LOG_BUDGET.foldAfter + 2);
    expect(m.leaked).toBeLessThanOrEqual(1); // no free of a kept allocation is dropped (the last one's may be refused)
    expect(m.jsonBytes).toBeLessThan(40 * MB);
    expect(m.maxRssMB).toBeLessThan(700);
  }, 900_000);
});

describe("hostile printing costs the host a bounded amount", () => {
  it("printk('a') for ever, stopped by the 1 MiB log limit: each record counts its header, so at most 1 MiB / 17 records and calls", () => {
    const m = measure(cell('for (;;) printk(KERN_INFO + "a\\n");'));
    expect(m.limits.map((x) => x.limit)).toEqual(["log"]);
    const most = Math.ceil(DEFAULT_LIMITS.logBytes / (LOG_RECORD_BYTES + 1)); // one character and its header a record
    expect(m.dmesgLines).toBeLessThanOrEqual(most + 10); // + insmod's lines
    expect(m.entries).toBeLessThanOrEqual(most + 10);
    expect(m.jsonBytes).toBeLessThan(20 * MB);
    expect(m.messageBytes).toBeLessThan(10 * MB);
    expect(m.maxRssMB).toBeLessThan(400);
  }, 900_000);

  it("printk(a 4 MB string) until the log limit: each record holds what it shows, not the 4 MB format (the JS heap ran out before)", () => {
    const m = measure(cell('const s = "z".repeat(4 << 20); for (;;) printk(s);'));
    expect(m.limits.map((x) => x.limit)).toEqual(["log"]);
    expect(m.jsonBytes).toBeLessThan(4 * MB);
    expect(m.maxRssMB).toBeLessThan(500);
  }, 900_000);
});
