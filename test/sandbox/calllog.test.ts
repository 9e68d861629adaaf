// The call log's columns (sandbox/calllog.ts): rows kept in chunks of typed columns and made into CallRecords when
// read. What must hold: the entries are the calls as recorded, in order, across chunk boundaries and across reads;
// recordNumeric (the raw host calls' path, bindings.ts rawRow) makes the very rows record() makes of the same calls,
// with the same budget (dropped calls, the marker entry, the byte estimate).
import { afterEach, describe, expect, it } from "vitest";
import { CALL_LOG_BUDGET, CallLog, callLogPoolBytes, type CallLogPolicy } from "../../sandbox/calllog.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";
import { API } from "../../sandbox/api.ts";
import { memoryRoles } from "../../sandbox/memrecords.ts";

const TWO64 = 1n << 64n;
const encode = (v: bigint) => (v >= TWO64 / 2n ? Number(v - TWO64) : Number(v));

/** A kernel with only what the log reads: the task, the clock (1000 ns a call) and no scheduler. */
function fakeKernel(): Kernel & { t: number } {
  const k = { current: { comm: "insmod", pid: 110 }, t: 0, clock: { now: () => (k.t += 1000) } };
  return k as unknown as Kernel & { t: number };
}

const policy: CallLogPolicy = { memory: new Set(["kmalloc", "kfree"]), print: new Set(["printk"]), lines: new Set(["kmalloc", "kfree"]) };
const saved = { ...CALL_LOG_BUDGET };
afterEach(() => Object.assign(CALL_LOG_BUDGET, saved));

/** Call i of a loop: kmalloc(size, gfp) -> address, kfree(address), ksize(address) -> size (droppable). */
function calls(n: number): { fn: string; args: (number | bigint)[]; ret: number | bigint | undefined }[] {
  const out: { fn: string; args: (number | bigint)[]; ret: number | bigint | undefined }[] = [];
  for (let i = 0; i < n; i++) {
    const p = 0xffff888003a40000n + BigInt((i % 37) * 64);
    out.push({ fn: "kmalloc", args: [64 + (i % 5), 0xcc0], ret: p });
    out.push({ fn: "ksize", args: [p], ret: 64 + (i % 3) * 32 });
    out.push({ fn: "kfree", args: [p], ret: undefined });
  }
  return out;
}

describe("call log", () => {
  it("entries are the calls as recorded, in order, past many chunks of columns and across reads", () => {
    const k = fakeKernel();
    const log = new CallLog(k, policy);
    log.lineOf = () => 7;
    log.callers.push("init_fn");
    const all = calls(9000); // 27000 rows: chunks of 256, 512, ... 8192 rows
    const expected: unknown[] = [];
    let t = 0;
    for (const [i, c] of all.entries()) {
      if (i === 12345) expect(log.entries.length).toBe(12345); // a read half-way: the columns start over
      if (i === 20000) log.phase = "exit";
      const s = i % 7 === 0 ? "a string argument" : undefined;
      const args = s === undefined ? c.args : [...c.args, s];
      log.record(c.fn, args, c.ret);
      t += 1000;
      expected.push({
        fn: c.fn,
        args: args.map((a) => (typeof a === "bigint" ? "0x" + a.toString(16) : a)),
        ret: c.ret === undefined ? null : typeof c.ret === "bigint" ? "0x" + c.ret.toString(16) : c.ret,
        ctx: { task: "insmod", pid: 110, hardirq: false, softirq: false, atomic: false, irqsDisabled: false, preemptCount: 0 },
        caller: "init_fn",
        tNs: t,
        phase: i >= 20000 ? "exit" : "init",
        ...(c.fn === "ksize" ? {} : { line: 7 }),
      });
    }
    expect(log.entries).toEqual(expected);
    expect(log.entries).toBe(log.entries); // the same array every read
  });

  it("a released log's columns serve the next log, whose entries are its own calls only; entries not read by the release are gone, said", () => {
    const hex = (v: unknown) => (typeof v === "bigint" ? "0x" + v.toString(16) : (v ?? null));
    const fill = (log: CallLog, from: number, n: number) => {
      log.lineOf = () => 7;
      log.callers.push("f");
      const all = calls(from + n).slice(3 * from);
      for (const c of all) {
        const xs = c.args.map((v) => (typeof v === "bigint" ? encode(v) : v));
        const addrs = c.args.reduce<number>((m, v, i) => (typeof v === "bigint" ? m | (1 << i) : m), 0);
        log.recordNumeric(log.infoOf(c.fn), xs.length, xs[0] ?? 0, xs[1] ?? 0, xs[2] ?? 0, addrs, c.ret, typeof c.ret === "bigint" ? encode(c.ret) : NaN);
      }
      return JSON.stringify(all.map((c) => [c.fn, c.args.map(hex), hex(c.ret)]));
    };
    const a = new CallLog(fakeKernel(), policy);
    fill(a, 0, 3000); // 9000 rows: chunks of 256 ... 4096 rows, and 1064 in one of 8192
    const made = a.entries; // made: its full chunks are entries now, in the pool
    const pooled = callLogPoolBytes();
    expect(pooled).toBeGreaterThan(0);
    a.release();
    expect(callLogPoolBytes()).toBeGreaterThan(pooled); // and its last chunks
    expect(a.entries).toBe(made); // read before the release: kept
    // the next log writes into a's chunks, and past them (three chunks of 8192 rows): other sizes and addresses
    const b = new CallLog(fakeKernel(), policy);
    const expected = fill(b, 5, 9000);
    expect(callLogPoolBytes()).toBeLessThan(pooled);
    expect(JSON.stringify(b.entries.map((e) => [e.fn, e.args, e.ret]))).toBe(expected);
    expect(b.entries.every((e, i) => e.tNs === (i + 1) * 1000 && e.caller === "f" && e.phase === "init")).toBe(true);
    const c = new CallLog(fakeKernel(), policy);
    fill(c, 0, 100);
    c.release();
    expect(() => c.entries).toThrow(/released before its entries were read/);
    b.release();
  });

  for (const budget of [false, true]) {
    it(`recordNumeric makes the rows record() makes of the same calls${budget ? ", past the budget (drops and the marker)" : ""}`, () => {
      if (budget) CALL_LOG_BUDGET.entries = 1000;
      const logs = [new CallLog(fakeKernel(), policy), new CallLog(fakeKernel(), policy)];
      for (const log of logs) {
        log.lineOf = () => 3;
        log.callers.push("f");
      }
      const [a, b] = logs;
      for (const c of calls(3000)) {
        a.record(c.fn, c.args, c.ret);
        const xs = c.args.map((v) => (typeof v === "bigint" ? encode(v) : v));
        const addrs = c.args.reduce<number>((m, v, i) => (typeof v === "bigint" ? m | (1 << i) : m), 0);
        b.recordNumeric(b.infoOf(c.fn), xs.length, xs[0] ?? 0, xs[1] ?? 0, xs[2] ?? 0, addrs, c.ret, typeof c.ret === "bigint" ? encode(c.ret) : NaN);
      }
      expect(JSON.stringify(b.entries)).toBe(JSON.stringify(a.entries));
      expect(b.dropped).toEqual(a.dropped);
      expect(b.bytes).toBe(a.bytes);
      expect(b.droppedTotal).toBe(a.droppedTotal);
      if (budget) expect(a.droppedTotal).toBeGreaterThan(0);
    });
  }

  it("a folded block joins the entry of its own shape: a block that differs from the last one by one number (size, flags, line, caller) is never folded into the last one", () => {
    CALL_LOG_BUDGET.foldAfter = 4;
    const roles: CallLogPolicy = { ...policy, roles: memoryRoles(API) };
    const log = new CallLog(fakeKernel(), roles);
    let line = 5;
    log.lineOf = () => line;
    log.callers.push("f");
    const p = 0xffff888003a41000n;
    const pair = (size: number, gfp = 0xcc0) => {
      log.record("kmalloc", [size, gfp], p);
      log.record("kfree", [p], undefined);
    };
    for (let i = 0; i < 3; i++) pair(8); // kept: the first foldAfter entries and more
    // each shape: [what the pair differs by, the pair]; every shape is met twice in a row, then after another one
    const shapes: [string, () => void][] = [
      ["64", () => pair(64)],
      ["128", () => pair(128)],
      ["gfp", () => pair(128, 0x820)],
      ["72", () => pair(72)],
      ["line", () => ((line = 9), pair(64), (line = 5))],
      ["caller", () => (log.callers.push("g"), pair(64), log.callers.pop())],
    ];
    for (const round of [0, 1]) for (const [, run] of shapes) for (let i = 0; i < 2 + round; i++) run();
    // every shape has one entry, the first of its kmalloc+kfree block, which the later ones folded into
    const folded = log.entries.filter((e) => e.repeats);
    expect(folded.map((e) => [e.fn, e.args[0], e.args[1], e.line, e.caller])).toEqual([
      ["kmalloc", 64, 3264, 5, "f"],
      ["kmalloc", 128, 3264, 5, "f"],
      ["kmalloc", 128, 2080, 5, "f"],
      ["kmalloc", 72, 3264, 5, "f"],
      ["kmalloc", 64, 3264, 9, "f"],
      ["kmalloc", 64, 3264, 5, "g"],
    ]);
    // met 2 + 3 times: 4 repeats of the first, 2 calls each
    for (const e of folded) expect(e.repeats).toMatchObject({ times: 4, calls: 2 });
    expect(log.folded).toBe(shapes.length * 4 * 2);
  });

  // recordNumeric holds a memory block past foldAfter and folds it without writing its rows when it repeats the last
  // block (calllog.ts "Held rows"); record() holds nothing. Both must make the same log, whatever comes between or
  // inside the blocks: other calls, reads, phases, callers, lines, NULLs, aliases, strange frees and the budgets.
  const heldPolicy: CallLogPolicy = {
    memory: new Set(["kmalloc", "kfree", "page_address", "virt_to_page"]),
    print: new Set(["printk"]),
    lines: new Set(["kmalloc", "kfree"]),
    roles: memoryRoles(API),
  };
  const budgets: [string, Partial<typeof CALL_LOG_BUDGET>][] = [
    ["folding", { foldAfter: 40 }],
    ["folding past the entry budget", { foldAfter: 40, entries: 300 }],
    ["folding past the byte budget", { foldAfter: 40, bytes: 30_000 }],
    ["folding past maxEntries", { foldAfter: 40, entries: 200, maxEntries: 260 }],
    ["folding with few shapes", { foldAfter: 40, foldShapes: 3 }],
  ];
  for (const [name, budget] of budgets)
    it(`recordNumeric's held blocks make the log record() makes: ${name}`, () => {
      Object.assign(CALL_LOG_BUDGET, budget);
      const logs = [new CallLog(fakeKernel(), heldPolicy), new CallLog(fakeKernel(), heldPolicy)];
      let line = 4;
      for (const log of logs) {
        log.lineOf = () => line;
        log.callers.push("f");
      }
      const [a, b] = logs;
      let seed = 12345;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
      let nth = 0;
      const call = (fn: string, args: bigint[] | number[] | (number | bigint)[], ret: number | bigint | undefined) => {
        a.record(fn, args, ret);
        const xs = args.map((v) => (typeof v === "bigint" ? encode(v) : v));
        const addrs = args.reduce<number>((m, v, i) => (typeof v === "bigint" ? m | (1 << i) : m), 0);
        // every other call hands the log its line, as the bridge does when it knows the site's frame
        const at = nth++ % 2 ? line : NaN;
        b.recordNumeric(b.infoOf(fn), xs.length, xs[0] ?? 0, xs[1] ?? 0, xs[2] ?? 0, addrs, ret, typeof ret === "bigint" ? encode(ret) : NaN, at);
      };
      const base = 0xffff888003a40000n;
      for (let i = 0; i < 2500; i++) {
        const p = rand(8) === 0 ? base + BigInt(rand(4) * 64) : base; // mostly one address: a loop's blocks repeat
        const size = rand(10) === 0 ? 128 : 64;
        const shape = rand(40);
        if (shape === 0)
          call("kmalloc", [size, 0xcc0], 0n); // NULL: a block of its own
        else if (shape === 1)
          call("kfree", [base + 4096n], undefined); // a free of no block's address
        else if (shape === 2) {
          call("kmalloc", [size, 0xcc0], p);
          call("ksize", [p], 64); // no memory role: the block is broken
          call("kfree", [p], undefined);
        } else if (shape === 3) {
          call("kmalloc", [size, 0xcc0], p);
          const q = 0xffffea00000e9000n;
          call("virt_to_page", [p], q); // an alias: a second key
          call("page_address", [q], p);
          call("kfree", [rand(2) ? p : q], undefined);
        } else if (shape === 4) {
          call("kmalloc", [size, 0xcc0], p);
          a.record("printk", ["\u00016held %d\n", 1], 9);
          b.record("printk", ["\u00016held %d\n", 1], 9); // a row through record(): the held one is written first
          call("kfree", [p], undefined);
        } else if (shape === 5) {
          call("kmalloc", [size, 0xcc0], p);
          expect(b.entries.length).toBe(a.entries.length); // a read inside a block
          call("kfree", [p], undefined);
        } else if (shape === 6) {
          call("kmalloc", [size, 0xcc0], p);
          for (const log of logs) log.phase = log.phase === "init" ? "deferred" : "init"; // between the block's calls
          call("kfree", [p], undefined);
        } else if (shape === 7) {
          call("kmalloc", [size, 0xcc0], p);
          line = line === 4 ? 6 : 4;
          call("kfree", [p], undefined);
        } else if (shape === 8) {
          for (const log of logs) log.callers.push("g");
          call("kmalloc", [size, 0xcc0], p);
          call("kfree", [p], undefined);
          for (const log of logs) log.callers.pop();
        } else if (shape === 9)
          call("kmalloc", [size, 0xcc0], p); // left unfreed: the next call breaks it
        else {
          call("kmalloc", [size, 0xcc0], p);
          call("kfree", [p], undefined);
        }
      }
      call("kmalloc", [64, 0xcc0], base); // a block still open at the end
      expect(b.folded).toBe(a.folded);
      expect(b.folded).toBeGreaterThan(0);
      expect(JSON.stringify(b.entries)).toBe(JSON.stringify(a.entries));
      expect(b.dropped).toEqual(a.dropped);
      expect(b.bytes).toBe(a.bytes);
      expect(b.droppedTotal).toBe(a.droppedTotal);
    });

  it("a held block that reaches the entry budget leaves the log over it, as its rows written and undone would", () => {
    // 20 pairs kept, the 21st registers its shape (rows 40-41), the 22nd folds with rows 42 and 43 reaching entries
    Object.assign(CALL_LOG_BUDGET, { foldAfter: 40, entries: 44 });
    const logs = [new CallLog(fakeKernel(), heldPolicy), new CallLog(fakeKernel(), heldPolicy)];
    for (const log of logs) log.lineOf = () => 4;
    const [a, b] = logs;
    const p = 0xffff888003a40000n;
    for (let i = 0; i < 30; i++)
      for (const [fn, args, ret] of [
        ["kmalloc", [64, 0xcc0], p],
        ["kfree", [p], undefined],
      ] as const) {
        a.record(fn, args, ret);
        b.recordNumeric(
          b.infoOf(fn),
          args.length,
          encode(BigInt(args[0])),
          args[1] ?? 0,
          0,
          fn === "kfree" ? 1 : 0,
          ret,
          ret === undefined ? NaN : encode(ret),
        );
      }
    for (const log of logs) log.record("ksize", [p], 64); // past the budget: dropped
    expect(a.droppedTotal).toBe(1);
    expect(b.droppedTotal).toBe(1);
    expect(JSON.stringify(b.entries)).toBe(JSON.stringify(a.entries));
  });
});
