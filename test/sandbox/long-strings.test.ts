// Long guest strings handed to the host. The host copies a guest string twice to read it (UTF-8 in QuickJS's heap,
// then decoded), in one call nothing interrupts: `printk("%s", s)` with a 60 MB string took about a second a call, and
// a loop of them, or kstrdup, held the CLI's worker until its watchdog ended the run as 'stopped by the host' (the log
// lost). Now a string's length is read from QuickJS's memory first (quickjs.ts RawValues.stringLength, checked per
// module) and a kernel call takes at most MAX_CALL_STRING_CHARS characters of strings in all (the string argument
// limit, named with the function and the argument); a thrown string, an error's message or stack past its bound is
// described by its length, not read. A stack text the cell wrote itself is parsed in one pass, at most
// MAX_TRACE_FRAMES frames: 2,000,000 fake frames held the host 22 s and 1.3 GB, and one hostile line of 224 KB took the
// old frame regex 11 s.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { MAX_TRACE_FRAMES, parseStack } from "../../sandbox/stack.ts";
import { MAX_CALL_STRING_CHARS, MAX_MESSAGE_CHARS, MAX_PRINTK_ARGS } from "../../sandbox/validate.ts";

const LIMIT = MAX_CALL_STRING_CHARS;
const HEAD = `import { printk, KERN_INFO, kstrdup, kmalloc, kfree, del_timer, GFP_KERNEL, module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
`;
const past = (fn: string, what: string, n: number) =>
  `${fn}: ${what} is a string of ${n} characters, past the ${LIMIT} characters of strings a kernel call may take in all (the string argument limit)`;

describe("the string argument limit", () => {
  for (const config of ["distro", "debug"] as const)
    it(`${config}: each call's strings are measured before one is read, and refused past the limit naming the function and the argument`, async () => {
      const r = await runModule(
        HEAD +
          `const big = "z".repeat(${LIMIT + 1});
const rope = "a".repeat(${LIMIT / 2}) + "b".repeat(${LIMIT / 2 + 1});
const third = "t".repeat(${Math.ceil(LIMIT / 3) + 1});
const at = "x".repeat(${LIMIT - 64});
const tryIt = (f: () => unknown) => { try { f(); printk(KERN_INFO + "ok\\n"); } catch (e: any) { printk(KERN_INFO + "%s\\n", e.message); } };
module_init(() => {
  tryIt(() => printk(KERN_INFO + "%s\\n", big));
  tryIt(() => printk(KERN_INFO + "%s%s%s\\n", third, third, third));
  tryIt(() => kstrdup(rope, GFP_KERNEL));
  tryIt(() => printk(big));
  tryIt(() => kmalloc(big as any, GFP_KERNEL));
  tryIt(() => del_timer(big as any));
  tryIt(() => printk(KERN_INFO + "%.3s\\n", at));
  tryIt(() => kfree(kstrdup("short", GFP_KERNEL)));
  // the argument count limit: 10,000 arguments overflowed the host's stack in the call (reported as nesting)
  tryIt(() => printk(KERN_INFO + "%d\\n", ...new Array(65000).fill(1)));
  tryIt(() => printk(KERN_INFO + "%d\\n", ...new Array(${MAX_PRINTK_ARGS}).fill(2)));
  return 0;
});`,
        { config, limits: { cpuMs: 30_000 } }, // a loaded machine: the test is about the messages, not the time
      );
      expect(r.reports).toEqual([]);
      const lines = r.dmesg.map((l) => l.replace(/^\[[^\]]*\] /, "")).filter((l) => l !== "cell: loading out-of-tree module taints kernel.");
      expect(lines.filter((l) => !/taint|xxx/.test(l))).toEqual([
        past("printk", "argument 1 after the format", LIMIT + 1),
        // within the limit alone: the message says the sum, the format's 9 characters included (it said 'is a string of 1398102 characters, past the 4194304')
        `printk: argument 3 after the format (a string of ${Math.ceil(LIMIT / 3) + 1} characters) brings the call's strings to ${3 * (Math.ceil(LIMIT / 3) + 1) + 9} characters, past the ${LIMIT} characters of strings a kernel call may take in all (the string argument limit)`,
        past("kstrdup", "parameter 's'", LIMIT + 1), // a rope (a + b): its length read all the same
        past("printk", "parameter 'fmt'", LIMIT + 1),
        `kmalloc: parameter 'size' must be a non-negative integer number, got a string of ${LIMIT + 1} characters`,
        // the prelude's own check (its JSON text was made in full for each refused call)
        `del_timer: parameter 'timer' must be a timer_list (made with new timer_list()), got a string of ${LIMIT + 1} characters`,
        "ok", // up to the limit (the format's characters count) is read
        "ok",
        `printk: 65000 arguments after the format, more than the ${MAX_PRINTK_ARGS} a call may take (the argument count limit)`,
        "2",
        "ok",
      ]);
      expect(lines).toContain("xxx");
    }, 60_000);
});

describe("thrown values and stacks too long to read", () => {
  let lastDmesg: string[] = [];
  const thrown = async (body: string) => {
    const r = await runModule(HEAD + `module_init(() => { ${body} });`, { config: "distro" });
    expect(r.reports).toHaveLength(1);
    expect(r.reports[0]!.kind).toBe("exception");
    lastDmesg = r.dmesg;
    return r.reports[0]!;
  };

  it("a thrown string and a message past their bound are described by their length", async () => {
    const n = 2 * MAX_MESSAGE_CHARS;
    expect((await thrown(`throw "s".repeat(${n});`)).text).toContain(`uncaught throw of a string of ${n} characters (not an Error)`);
    expect((await thrown(`throw new Error("m".repeat(${n}));`)).text).toContain(`Error: (a message of ${n} characters)`);
  }, 60_000);

  it("a stack text of fake cell frames is cut at MAX_TRACE_FRAMES; a hostile frame line costs one pass", async () => {
    const rep = await thrown(`const e: any = new Error("fake"); e.stack = "    at f (cell.ts:3:1)\\n".repeat(${MAX_TRACE_FRAMES + 1000}); throw e;`);
    expect(rep.frames).toHaveLength(MAX_TRACE_FRAMES);
    // ... and says so, in the log after the trace and in the report
    const cut = `kmodlab: call trace cut: the error's stack names more than ${MAX_TRACE_FRAMES} cell frames; the trace shows the innermost ${MAX_TRACE_FRAMES} (the trace limit)`;
    expect(lastDmesg.filter((l) => l.endsWith(cut))).toHaveLength(1);
    expect(rep.explain).toContain("Call trace cut: the error's stack names more than 2048 cell frames");
    expect(parseStack("    at f (cell.ts:3:1)\n".repeat(MAX_TRACE_FRAMES))).toHaveLength(MAX_TRACE_FRAMES); // exactly the limit: not cut
    // quadratic in the old frame regex (11 s at this size): now one pass over the line, and no frame in it
    expect(parseStack("    at " + " (a:1:1".repeat(32000) + "x\n    at g (cell.ts:4:2)")).toEqual([{ fn: "g", module: "cell", line: 4, column: 2 }]);
  }, 60_000);
});

describe("names the kernel keeps", () => {
  it("a /proc name is 1 to 255 bytes (__proc_create's WARN 'name len'); a cache name whose copy passes KMALLOC_MAX_SIZE fails as SLUB's kstrdup_const does; cache names count against the RAM budget", async () => {
    const src = `import { printk, KERN_INFO, kmem_cache_create, proc_create_single, remove_proc_entry, seq_puts, NULL, module_init, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
const tryIt = (f: () => unknown) => { try { printk(KERN_INFO + "%s\\n", f() ? "made" : "NULL"); } catch (e: any) { printk(KERN_INFO + "%s\\n", e.message); } };
const show = (m: any) => { seq_puts(m, "x"); return 0; };
module_init(() => {
  tryIt(() => proc_create_single("p".repeat(255), 0, NULL, show));
  tryIt(() => proc_create_single("q".repeat(256), 0, NULL, show));
  tryIt(() => proc_create_single("\u00e9".repeat(128), 0, NULL, show));
  tryIt(() => proc_create_single("r".repeat(${LIMIT}), 0, NULL, show));
  tryIt(() => remove_proc_entry("r".repeat(${LIMIT}), NULL));
  remove_proc_entry("p".repeat(255), NULL);
  tryIt(() => kmem_cache_create("c".repeat(${LIMIT}), 64, 0, 0, (o: bigint) => {}));
  for (let i = 0; i < 4; i++) tryIt(() => kmem_cache_create("d".repeat(${LIMIT - 1}), 64, 0, 0, null));
  return 0;
});`;
    const r = await runModule(src, { config: "distro", limits: { cpuMs: 30_000, ramBytes: 8 << 20 } });
    const lines = r.dmesg.map((l) => l.replace(/^\[[^\]]*\] /, "")).filter((l) => !/taint/.test(l));
    expect(lines.slice(0, 6)).toEqual([
      "made",
      `proc_create_single: a /proc name is 1 to 255 bytes, got a name of 256 characters (the kernel WARNs "name len 256" and returns NULL)`,
      `proc_create_single: a /proc name is 1 to 255 bytes, got a name of 128 characters (the kernel WARNs "name len 256" and returns NULL)`,
      `proc_create_single: a /proc name is 1 to 255 bytes, got a name of ${LIMIT} characters (the kernel WARNs "name len ${LIMIT}" and returns NULL)`,
      `remove_proc_entry: no /proc entry of ${LIMIT} characters (the kernel would WARN "name '...'")`,
      // an unmergeable cache (a ctor): its name's copy of 4 Mi + 1 bytes, past x86_64's KMALLOC_MAX_SIZE of 4 MiB:
      // "kmem_cache_create(%s) failed with error -12", cut where printk cuts a record
      expect.stringMatching(/^kmem_cache_create\(c{900,}$/),
    ]);
    expect(lines).toContain("NULL");
    // then names of 4 Mi - 1 bytes (aliases of kmalloc-64: no copy in the kernel, the host keeps them all the same):
    // the 8 MiB RAM budget stops the run at the second
    expect(lines.filter((l) => l === "made")).toHaveLength(2);
    expect(r.reports.map((x) => x.limit)).toContain("ram");
  }, 60_000);
});

describe("a numeric string printed with %d/%llx", () => {
  it("is read as its value modulo 2^64 past 80 characters, in one pass (BigInt() of 4 M digits took 2.3 s a call)", async () => {
    const r = await runModule(
      HEAD +
        `module_init(() => { printk(KERN_INFO + "%lld %llx %d %llx\\n", "${"9".repeat(100)}", "1${"0".repeat(90)}", "-${"9".repeat(100)}", "0x${"f".repeat(99)}e"); printk(KERN_INFO + "%u\\n", "7".repeat(4_000_000)); return 0; });`,
      { config: "distro", limits: { cpuMs: 30_000 } },
    );
    expect(r.reports).toEqual([]);
    const out = r.dmesg.slice(-2).map((l) => l.replace(/^\[[^\]]*\] /, ""));
    const u64 = (v: bigint) => BigInt.asUintN(64, v);
    expect(out).toEqual([
      `-1 ${u64(10n ** 90n).toString(16)} 1 fffffffffffffffe`,
      String(BigInt.asUintN(32, BigInt("7".repeat(4_000_000).slice(-40)) % 2n ** 64n)),
    ]);
  }, 60_000);
});

describe("a user program's output", () => {
  for (const [what, call] of [
    ["puts", 'puts("u".repeat(100_000))'],
    ["write", "write(1, b, 100_000)"],
  ] as const)
    it(`${what} counts against the run's log size limit (stdout was kept whole: a loop of puts held 400 MB of the host in 2 s)`, async () => {
      const r = await runModule(
        `import { MODULE_LICENSE, module_init } from "linux";\nimport { user_main, puts, write, malloc } from "user";\nMODULE_LICENSE("GPL");\nmodule_init(() => 0);\nuser_main(() => { const b = malloc(100_000); for (let i = 0; i < 1000; i++) ${call}; return 0; });`,
        { config: "distro", limits: { cpuMs: 30_000 } },
      );
      expect(r.reports.map((x) => [x.kind, x.limit, x.title])).toEqual([["limit", "log", "kmodlab: log size limit reached (1048576 bytes)"]]);
      expect(r.user!.stdout.length).toBeLessThanOrEqual(1 << 20);
    }, 60_000);
});
