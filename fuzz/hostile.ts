// `npm run fuzz -- --hostile [--count N] [--start S] [--seed S]`: programs written to break the sandbox's own limits
// (issue 13), not the kernel: kernel calls that run for seconds, guest memory outside QuickJS's accounting
// (ArrayBuffers, typed arrays, SharedArrayBuffers, flat strings), printk widths and strings of megabytes, call-log
// floods, nesting through ctors / wait_event / timers, kmem_cache_destroy at the wrong moment, Proxy callbacks
// whose traps free memory, RAM filling, strings of tens of MB handed to the host, printk calls of tens of thousands
// of arguments, and cache names of millions of characters. Each program is one to three such attacks with sizes drawn from the
// seed, on one of the fuzzer's profiles (FUZZ_TARGETS), and deterministic from its seed.
//
// What a hostile run must satisfy (judgeHostile): the ordinary oracle (no kmodlab bug report, no invariant
// violation, the RunResult survives JSON; a CPU deadline is expected here); the sandbox stopped it itself (no
// "stopped by the host" report from the isolated worker's outer watchdog, and no RunResult.stoppedByHost: a run the
// host's watchdog stopped and salvaged); no Proxy trap ran inside a kernel call;
// the RunResult's JSON under 64 MiB; and the run ended within the CPU limit + 50 % + 3 s of CPU time (the process's,
// which is the run worker's while the fuzzer waits for it; the CPU limit is CPU time on Linux: sandbox/cpuclock.ts)
// and within the sandbox's cap of WALL_CAP_FACTOR times the limit + 3 s of wall time (measured by the fuzzer, never
// asserted in a test).

import type { ApiEntry } from "../sandbox/table.ts";
import { inEra } from "../sandbox/table.ts";
import { WALL_CAP_FACTOR } from "../sandbox/cpuclock.ts";
import type { RunOptions } from "../sandbox/run.ts";
import type { RunResult } from "../sandbox/result.ts";
import type { Era } from "../src/kernel/types.ts";
import { FUZZ_TARGETS, Rng } from "./gen.ts";
import { judge, type FuzzRunner } from "./oracle.ts";

export interface HostileProgram {
  seed: number;
  profile: string;
  era: Era;
  config: "debug" | "distro";
  mem?: number;
  /** The attacks, by name (for the summary). */
  attacks: string[];
  source: string;
  options: RunOptions;
}

const MiB = 1 << 20;
/** The marker a Proxy trap prints: it must never appear (traps must not run inside kernel calls). */
export const TRAP_MARK = "HOSTILE-TRAP";

interface Attack {
  name: string;
  /** Functions of "linux"/"sim" it needs (the attack is skipped where the era lacks one). */
  needs: string[];
  /** Top-level lines and the body of module_init. */
  make(r: Rng, era: Era): { top?: string[]; init: string[] };
}

const pick = <T>(r: Rng, xs: readonly T[]) => r.pick(xs);

const ATTACKS: Attack[] = [
  {
    name: "vmalloc-loop",
    needs: ["vmalloc", "vfree"],
    make: (r) => ({ init: [`for (;;) { const p = vmalloc(${pick(r, [1, 16, 100, 400, 1024])} * 1024 * 1024); vfree(p); }`] }),
  },
  {
    name: "vmalloc-huge",
    needs: ["vmalloc", "vfree"],
    make: (r) => ({ init: [`{ const p = vmalloc(${pick(r, [2, 3, 6])} * 1024 * 1024 * 1024); vfree(p); }`] }),
  },
  {
    name: "kmalloc-loop",
    needs: ["kmalloc", "kfree"],
    make: (r) => ({ init: [`for (;;) kfree(kmalloc(${pick(r, [8, 64, 4096, 131072])}, GFP_KERNEL));`] }),
  },
  {
    name: "buffers",
    needs: [],
    make: (r) => {
      const type = pick(r, ["ArrayBuffer", "SharedArrayBuffer", "Uint8Array", "Int32Array", "Float64Array", "BigInt64Array"]);
      const unit = type.endsWith("Buffer") || type === "Uint8Array" ? 1 : 8;
      const size = Math.max(1, Math.floor(((1 + r.int(60)) * MiB) / unit));
      const n = 5 + r.int(100);
      const body = `keep.push(new ${type}(${size}));`;
      return { top: ["const keep: unknown[] = [];"], init: [`for (let i = 0; i < ${n}; i++) ${r.chance(0.5) ? `{ try { ${body} } catch (e) {} }` : body}`] };
    },
  },
  {
    name: "strings",
    needs: [],
    make: (r) => ({
      top: ["const strs: string[] = [];"],
      init: [`{ let s = "${pick(r, ["x", "ab", "\\u00e9"])}"; for (let i = 0; i < ${20 + r.int(20)}; i++) { s = s + s; strs.push(s.substring(1)); } }`],
    }),
  },
  {
    name: "printk-width",
    needs: ["printk"],
    make: (r) => {
      const w = pick(r, [8 << 20, 2 ** 31 - 1, -(2 ** 31), 32768, 65536, 1 << 23, -(1 << 23)]);
      const fmt = pick(r, ["%*d", "%-*d", "%0*x", "%*s", "%*.*s", "%*pbl", "%*c", "%.*d"]);
      const args = fmt === "%*.*s" ? `${w}, ${w}, "s"` : fmt.endsWith("s") ? `${w}, "s"` : fmt.endsWith("c") ? `${w}, 65` : `${w}, 7`;
      return { init: [`for (let i = 0; i < ${1 + r.int(200)}; i++) printk(KERN_INFO + "${fmt}|${fmt}\\n", ${args}, ${args});`] };
    },
  },
  {
    name: "printk-big-string",
    needs: ["printk"],
    make: (r) => ({
      init: [
        `{ const s = "z".repeat(${pick(r, [1, 4, 8])} << 20); for (let i = 0; i < ${1 + r.int(300)}; i++) printk(${pick(r, ['"%.0s"', 'KERN_INFO + "%s\\\\n"', 'KERN_CONT + "%s"', "s"])}, s); }`,
      ],
    }),
  },
  {
    // printk(fmt, ...Array(10000)) overflowed the host's stack inside the call (the argument count limit now)
    name: "many-args",
    needs: ["printk"],
    make: (r) => ({
      init: [
        `for (let i = 0; i < ${1 + r.int(50)}; i++) { try { printk(KERN_INFO + "${pick(r, ["%d", "%s", "%*d", "%.0s"])}\\n", ...new Array(${pick(r, [1024, 1025, 10000, 65000])}).fill(${pick(r, ["1", '"s"', "2n"])})); } catch (e) {} }`,
      ],
    }),
  },
  {
    // names the kernel keeps: /proc names past 255 bytes, cache names of millions of characters (the RAM budget)
    name: "kernel-names",
    needs: ["kmem_cache_create"],
    make: (r) => ({
      init: [
        `{ const n = "${pick(r, ["c", "\u00e9", "-"])}".repeat(${pick(r, [256, 1 << 16, (1 << 22) - 1, 1 << 22])}); for (let i = 0; i < ${1 + r.int(400)}; i++) { try { kmem_cache_create(n + (i % 10), ${pick(r, [8, 64, 4096])}, 0, 0, ${pick(r, ["null", "(o: bigint) => {}"])}); } catch (e) {} } }`,
      ],
    }),
  },
  {
    name: "many-calls",
    needs: ["udelay", "kmalloc", "kfree"],
    make: (r) => ({
      init: [`for (let i = 0; i < ${50000 + r.int(400000)}; i++) { udelay(0); if (i % ${1 + r.int(1000)} === 0) kfree(kmalloc(8, GFP_KERNEL)); }`],
    }),
  },
  {
    name: "ctor-recursion",
    needs: ["kmem_cache_create", "kmem_cache_alloc"],
    make: (r) => ({
      top: ["let rc: any;"],
      init: [
        `rc = kmem_cache_create("rec${r.int(100)}", ${pick(r, [8, 64, 512])}, 0, 0, () => { kmem_cache_alloc(rc, GFP_KERNEL); });`,
        `kmem_cache_alloc(rc, GFP_KERNEL);`,
      ],
    }),
  },
  {
    name: "ctor-destroy",
    needs: ["kmem_cache_create", "kmem_cache_alloc", "kmem_cache_destroy"],
    make: (r) => ({
      top: ["let dc: any;"],
      init: [
        `dc = kmem_cache_create("selfd${r.int(100)}", ${pick(r, [8, 64, 512])}, 0, 0, () => { kmem_cache_destroy(dc); });`,
        `kmem_cache_alloc(dc, GFP_KERNEL);`,
        ...(r.chance(0.5) ? ["kmem_cache_destroy(dc);"] : []),
      ],
    }),
  },
  {
    name: "destroy-live",
    needs: ["kmem_cache_create", "kmem_cache_alloc", "kmem_cache_destroy"],
    make: (r) => ({
      init: [
        `{ const c = kmem_cache_create("live${r.int(100)}", 64, 0, 0, null); for (let i = 0; i < ${1 + r.int(50)}; i++) kmem_cache_alloc(c, GFP_KERNEL); kmem_cache_destroy(c); kmem_cache_destroy(c); }`,
      ],
    }),
  },
  {
    name: "wait-event-nesting",
    needs: ["wait_event"],
    make: () => ({ top: ["const cond = (): boolean => { wait_event(cond); return false; };"], init: ["wait_event(cond);"] }),
  },
  {
    name: "proxy-callback",
    needs: ["kmem_cache_create", "kmem_cache_alloc", "kmalloc", "kfree", "printk"],
    make: (r) => ({
      top: [
        "const victim = kmalloc(64, GFP_KERNEL);",
        'const trap = (k: string) => (...a: any[]) => { printk(KERN_INFO + "' + TRAP_MARK + ' %s\\n", k); kfree(victim); return (Reflect as any)[k](...a); };',
        'const ph: any = {}; for (const k of ["get", "getOwnPropertyDescriptor", "has", "ownKeys", "getPrototypeOf", "defineProperty", "isExtensible", "set", "deleteProperty"]) ph[k] = trap(k);',
      ],
      init: [`{ const c = kmem_cache_create("px${r.int(100)}", 32, 0, 0, new Proxy(function ctor() {}, ph) as any); kmem_cache_alloc(c, GFP_KERNEL); }`],
    }),
  },
  {
    name: "ram-fill",
    needs: ["alloc_pages", "page_address", "memset"],
    make: (r) => ({
      init: [
        `for (;;) { const p = alloc_pages(GFP_KERNEL, ${pick(r, [0, 4, 10])}); if (!p) break; memset(page_address(p), ${1 + r.int(255)}, ${pick(r, [4096, 65536, 4 << 20])}); }`,
      ],
    }),
  },
  {
    // a bigint far wider than any kernel value, where the host reads one (validate.ts guestBigInt): reading its
    // decimal text held the host 12 s per call at 1,000,000 bits
    name: "wide-bigint",
    needs: ["kfree", "kmalloc", "printk"],
    make: (r) => {
      const b = `${pick(r, ["1n", "-1n", "3n"])} << ${pick(r, [100000, 300000, 1000000])}n`;
      const use = pick(r, ["kfree(b as any)", 'printk(KERN_INFO + "%llx %s\\n", b, b)', "kmalloc(b as any, GFP_KERNEL)", "throw b"]);
      return { init: [`for (let i = 0; i < ${1 + r.int(20)}; i++) { const b = ${b}; try { ${use}; } catch (e) {} }`] };
    },
  },
  {
    // a thrown object whose fields loop when read, from a callback the kernel runs (a slab constructor) and from
    // module_init: the report reads them under the limits
    name: "throw-getters",
    needs: ["kmem_cache_create", "kmem_cache_alloc"],
    make: (r) => ({
      top: ["const evil: any = { get message(): string { for (;;) {} }, get stack(): string { for (;;) {} }, get name(): string { for (;;) {} } };"],
      init: [
        `{ const c = kmem_cache_create("ev${r.int(100)}", 64, 0, 0, () => { throw evil; }); for (let i = 0; i < ${1 + r.int(5)}; i++) kmem_cache_alloc(c, GFP_KERNEL); }`,
        ...(r.chance(0.5) ? ["throw evil;"] : []),
      ],
    }),
  },
  {
    // strings of tens of MB where the host reads one (validate.ts readString, bindings.ts readError): a read copied
    // the whole text twice in one call nothing interrupts, and a loop of them held the CLI's worker until its
    // watchdog ended the run ('stopped by the host'); a stack text of millions of fake frames, or one hostile frame
    // line, held the host in the trace's parse (sandbox/stack.ts)
    name: "long-strings",
    needs: ["printk", "kstrdup", "kfree", "kmem_cache_create", "kmem_cache_alloc"],
    make: (r) => {
      const mb = pick(r, [5, 20, 50]);
      const bad = pick(r, [
        "new Error(s)",
        "s",
        '(() => { const e: any = new Error("x"); e.stack = "    at f (cell.ts:1:1)\\n".repeat(s.length >> 5); return e; })()',
        '(() => { const e: any = new Error("x"); e.stack = "    at " + " (a:1:1".repeat(s.length >> 6); return e; })()',
      ]);
      const use = pick(r, [
        'printk(KERN_INFO + "%s\\n", s)',
        "printk(s)",
        "kfree(kstrdup(s, GFP_KERNEL))",
        'printk(KERN_INFO + "%s%s%s\\n", t, t, t)',
        `kmem_cache_alloc(kmem_cache_create("ls${r.int(100)}", 64, 0, 0, () => { throw ${bad}; }), GFP_KERNEL)`,
      ]);
      return {
        init: [
          `{ const s = "q".repeat(${mb} << 20); const t = s.slice(${mb} << 18); for (let i = 0; i < ${1 + r.int(40)}; i++) { try { ${use}; } catch (e) {} } }`,
        ],
      };
    },
  },
  {
    // built-ins that run long, deep or big inside one call, each of which the sandbox must stop itself (session 14's
    // red team): regex backtracking, a finally that swallows nothing (the interrupt is uncatchable), getters on
    // Error.prototype read by the report of a kernel call's TypeError, nesting in JSON.parse/eval/Function, recursion
    // through Function.prototype.call, a cyclic join, a bound-function chain, string and BigInt bombs, a sort whose
    // comparator calls the kernel
    name: "js-builtins",
    needs: ["kmalloc", "kfree", "printk"],
    make: (r) => {
      const n = pick(r, [1e5, 1e6]);
      const body = pick(r, [
        `/^(a+)+$/.test("a".repeat(${pick(r, [28, 40])}) + "b");`,
        "outer: for (;;) { try { for (;;) {} } finally { continue outer; } }",
        'for (const k of ["message", "name", "stack"]) Object.defineProperty(Error.prototype, k, { get() { for (;;) {} }, configurable: true }); kmalloc("x" as any, GFP_KERNEL);',
        `JSON.parse("[".repeat(${n}) + "]".repeat(${n}));`,
        `eval("(".repeat(${n}) + "1" + ")".repeat(${n}));`,
        `new Function("return " + "-".repeat(${n}) + "1")();`,
        "const f = (): any => Function.prototype.call.call(f as any); f();",
        "const a: any[] = []; a.push(a); String(a);",
        `let g: any = () => 0; for (let i = 0; i < ${n}; i++) g = g.bind(null); g();`,
        '"".padEnd(2 ** 30 - 2, "ab");',
        `(3n ** (10n ** ${pick(r, [7, 8])}n)) & 1n;`,
        `Array.from({ length: ${n} }, (_, i) => i).sort((x, y) => { kfree(kmalloc(8, GFP_KERNEL)); return y - x; });`,
      ]);
      return { init: [`printk(KERN_INFO + "before\\n"); { ${body} }`] };
    },
  },
  {
    name: "recursion",
    needs: [],
    make: () => ({ top: ["function down(n: number): number { return down(n + 1) + 1; }"], init: ["down(0);"] }),
  },
];

/** The attack classes' names (`npm run fuzz -- --help`). */
export const HOSTILE_CLASSES: readonly string[] = ATTACKS.map((a) => a.name);

/** The hostile program of one seed. */
export function generateHostile(api: readonly ApiEntry[], seed: number): HostileProgram {
  const r = new Rng(seed * 2654435761);
  const t = FUZZ_TARGETS[seed % FUZZ_TARGETS.length]!;
  const have = new Set(api.filter((e) => e.kind === "function" && inEra(e, t.era)).map((e) => e.name));
  const usable = ATTACKS.filter((a) => a.needs.every((n) => have.has(n)));
  const n = 1 + r.int(3);
  const chosen: Attack[] = [];
  for (let i = 0; i < n; i++) chosen.push(r.pick(usable));
  const top: string[] = [];
  const init: string[] = [];
  for (const a of chosen) {
    const m = a.make(r, t.era);
    for (const l of m.top ?? []) if (!top.includes(l)) top.push(l);
    init.push(...m.init);
  }
  const linux = ["MODULE_LICENSE", "module_init", "KERN_INFO", "KERN_CONT", "GFP_KERNEL", ...new Set(chosen.flatMap((a) => a.needs))];
  const source = `import { ${linux.join(", ")} } from "linux";\nMODULE_LICENSE("GPL");\n${top.join("\n")}\nmodule_init(() => {\n  ${init.join("\n  ")}\n  return 0;\n});\n`;
  // Big machines where the profile has them (the 64-bit ones); the 32-bit boards stop at 1 GiB here.
  const big = /^(x86_64|arm64)/.test(t.profile) ? [1024, 4096, 8192] : [512, 1024];
  const mem = chosen.some((a) => a.name === "ram-fill" || a.name === "vmalloc-huge") ? pick(r, big) * MiB : 128 * MiB;
  return {
    seed,
    profile: t.profile,
    era: t.era,
    config: t.config,
    mem,
    attacks: chosen.map((a) => a.name),
    source,
    options: { profile: t.profile, config: t.config, mem, seed, checkInvariants: true, limits: { cpuMs: 2000 } },
  };
}

/** The failures of one hostile run (empty: the sandbox held). */
export function judgeHostile(p: HostileProgram, r: RunResult, wallMs: number, cpuUsedMs = wallMs): string[] {
  const failures = judge(r, p.era, { endless: true }).failures;
  for (const x of r.reports)
    if (/^kmodlab: (stopped by the host|the run's worker failed)/.test(x.title)) failures.push(`the sandbox did not stop it itself: ${x.title}`);
  if (r.stoppedByHost) failures.push(`the sandbox did not stop it itself: the host stopped its JavaScript (${r.stoppedByHost} limit; the run was salvaged)`);
  if (r.dmesg.some((l) => l.includes(TRAP_MARK))) failures.push("a Proxy trap ran inside a kernel call");
  let size = -1;
  try {
    size = JSON.stringify(r).length;
  } catch {
    // judge() already reported it
  }
  if (size > 64 * MiB) failures.push(`RunResult JSON of ${(size / MiB).toFixed(0)} MiB`);
  const cpuMs = (p.options.limits?.cpuMs ?? 2000) as number;
  if (cpuUsedMs > cpuMs * 1.5 + 3000) failures.push(`the run took ${Math.round(cpuUsedMs)} ms of CPU against a CPU limit of ${cpuMs} ms`);
  if (wallMs > cpuMs * WALL_CAP_FACTOR + 3000) failures.push(`the run took ${Math.round(wallMs)} ms of wall time against a CPU limit of ${cpuMs} ms`);
  return failures;
}

/** Run `count` hostile programs from seed `start`; prints every new kind of failure. Returns the number of kinds. */
export async function runHostile(api: readonly ApiEntry[], start: number, count: number, run: FuzzRunner, out: (s: string) => void): Promise<number> {
  const seen = new Map<string, number[]>();
  const limits = new Map<string, number>();
  const attacks = new Map<string, number>();
  let maxWall = 0;
  const t0 = performance.now();
  for (let seed = start; seed < start + count; seed++) {
    const p = generateHostile(api, seed);
    for (const a of p.attacks) attacks.set(a, (attacks.get(a) ?? 0) + 1);
    const t = performance.now();
    const c = process.cpuUsage();
    let failures: string[];
    let r: RunResult | undefined;
    try {
      r = await run(p.source, p.options);
      const used = process.cpuUsage(c);
      failures = judgeHostile(p, r, performance.now() - t, (used.user + used.system) / 1000);
    } catch (e) {
      failures = [`the run rejected: ${(e as Error)?.message ?? e}`];
    }
    maxWall = Math.max(maxWall, performance.now() - t);
    const lim = r?.reports.find((x) => x.limit)?.limit ?? "(none)";
    limits.set(lim, (limits.get(lim) ?? 0) + 1);
    if (count === 1)
      out(
        `${p.source}\nseed ${seed} (${p.profile}, ${p.config}): ${failures.length ? failures.join("; ") : "held"}; reports: ${r?.reports.map((x) => x.title).join(" | ")}\n`,
      );
    for (const f of failures) {
      const sig = f.replace(/\d+/g, "N");
      const list = seen.get(sig) ?? [];
      list.push(seed);
      seen.set(sig, list);
      if (list.length === 1) out(`\nFAIL seed ${seed} (${p.profile}, ${p.config}, ${p.attacks.join(" + ")}): ${f}\n${p.source}`);
    }
    if ((seed - start + 1) % 50 === 0) process.stderr.write(`hostile fuzz: ${seed - start + 1}/${count} programs, ${seen.size} kinds of failure\n`);
  }
  const ms = performance.now() - t0;
  out(
    `\n${count} hostile programs in ${(ms / 1000).toFixed(1)} s (longest run ${Math.round(maxWall)} ms); ` +
      `attacks: ${[...attacks].map(([k, n]) => `${k} ${n}`).join(", ")}; ` +
      `ended by limit: ${[...limits].map(([k, n]) => `${k} ${n}`).join(", ")}\n` +
      `failures: ${seen.size ? [...seen].map(([s, seeds]) => `\n  ${s} (${seeds.length}x, first seed ${seeds[0]})`).join("") : "none"}\n`,
  );
  return seen.size;
}
