// Exercise find-the-hole: on the MSM8x25 phone (vmalloc=200M), the largest vmalloc that succeeds, found quietly.

import type { Exercise } from "../types.ts";
import { check, fail, gfpName, isOutcome, loads, noReports, nothingLeaked, ok, printedLines, records, survivesFaultInjection } from "../checks.ts";
import { callsOf, eraOf, toBig, toNum } from "../records.ts";
import { gfpFlags } from "../../kernel/gfp.ts";
import { getProfile } from "../../kernel/profiles.ts";
import type { CheckContext, CheckOutcome } from "../types.ts";

const MiB = 1 << 20;
const VM_FNS = ["vmalloc", "vzalloc", "__vmalloc", "vmalloc_user", "vmalloc_32"];

/** N from the module's "largest: N MiB" print call. */
function printedN(c: CheckContext): number | undefined {
  for (const x of printedLines(callsOf(c.result) ?? [], eraOf(c.result), 32)) {
    const m = /largest: (\d+) MiB/.exec(x.text);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** found-largest in one run: the printed N succeeded, N + 1 failed with nothing held, and N fits the kernel's hole. */
function judgeFound(c: CheckContext, label: string): CheckOutcome {
  const r = records(c);
  if (isOutcome(r)) return r;
  const n = printedN(c);
  if (n === undefined) return fail(`${label}no "largest: N MiB" line was printed`);

  const vm = r.calls.map((x, i) => [x, i] as const).filter(([x]) => VM_FNS.includes(x.fn));
  const got = vm.find(([x]) => toNum(x.args[0]) === n * MiB && toBig(x.ret) !== 0n && x.ret !== null);
  if (!got) return fail(`${label}the module printed ${n} MiB, but no ${n} MiB vmalloc succeeded in the kernel's records`);
  const next = vm.filter(([x]) => toNum(x.args[0]) === (n + 1) * MiB && (x.ret === null || toBig(x.ret) === 0n));
  if (!next.length) return fail(`${label}${n} MiB succeeded, but the kernel's records show no failed ${n + 1} MiB attempt: is ${n} really the largest?`);
  // The N+1 failure must be the kernel's honest answer: the module held no vmalloc memory of its own then.
  const honest = next.some(([, i]) => !r.allocs.some((a) => a.family === "vmalloc" && a.index < i && (!a.free || a.free.index > i)));
  if (!honest) return fail(`${label}the ${n + 1} MiB attempt failed while the module itself still held vmalloc memory`);
  const hole = (c.result.kernel as { vmalloc?: { largestFreeHole?: number } }).vmalloc?.largestFreeHole;
  if (typeof hole === "number" && n * MiB > hole) return fail(`${label}${n} MiB is larger than the largest free hole (${hole} bytes)`);
  return ok(`largest: ${n} MiB`);
}

export const findTheHole: Exercise = {
  id: "find-the-hole",
  title: "Find the hole",
  lesson: "vmalloc-size",
  settings: {
    profile: "arm-3.4-msm8x25",
    proc: ["vmallocinfo", "meminfo"],
    // found-largest's second boot: the phone's command line with a larger vmalloc area (another hole, another N)
    otherCmdline: getProfile("arm-3.4-msm8x25").defaultCmdline.replace(/\bvmalloc=\S+/, "vmalloc=240M"),
    // and another driver's buffer of 3 to 24 MiB there: bigger than every hole below the 85 MiB one (2.75 MiB at most),
    // so it takes the front of that hole and the answer is 60 to 81 MiB, not VMALLOC_START minus a constant
    otherCmdlineVmalloc: { minPages: 768, maxPages: 6144 },
  },
  statement: `This phone boots with \`vmalloc=200M\`, yet /proc/meminfo's VmallocUsed says little is used. Find the largest
vmalloc allocation that succeeds, to the MiB, and print \`largest: N MiB\`. Probe quietly: a failed vmalloc() prints
an allocation-failure warning, so probe with \`__vmalloc(size, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL)\` and give
each successful probe straight back: the log must hold no allocation-failure warning, and nothing may stay
allocated. A probe that fails is an answer, not an error: init still returns 0. The grader boots the phone a second
time with \`vmalloc=240M\` and another driver holding a vmalloc buffer of a few MiB (its size drawn from your module's
text), where the hole and the answer are larger: search, do not print a number an earlier run found or work it out
from VMALLOC_START.`,
  starter: `import { vmalloc, vfree, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hole_init(): number {
  let n = 1;
  for (;;) {
    const p = vmalloc((n + 1) * 1024 * 1024); // warns loudly when it fails
    if (p === 0n) break;
    n++;
  }
  printk(KERN_INFO + "largest: %d MiB\\n", n);
  return 0;
}

module_init(hole_init);
module_exit(() => {});
`,
  solution: `import { __vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const MiB = 1024 * 1024;

/** Does an n-MiB vmalloc succeed right now? (Given straight back.) */
function fits(n: number): boolean {
  const p = __vmalloc(n * MiB, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL);
  if (p === 0n) return false;
  vfree(p);
  return true;
}

function hole_init(): number {
  let lo = 0, hi = 1024; // fits(lo) holds (0 MiB), fits(hi) cannot on a 32-bit machine
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  printk(KERN_INFO + "largest: %d MiB\\n", lo);
  return 0;
}

module_init(hole_init);
module_exit(() => {});
`,
  checks: [
    loads(),
    check(
      "found-largest",
      "The printed N is the largest vmalloc size, in MiB, that the kernel granted",
      "Search (bisection is quickest): try a size, free it at once if it succeeds; the answer N succeeds and N+1 fails, with nothing else held.",
      (c) => {
        const first = judgeFound(c, "");
        if (!first.pass) return first;
        // A number copied from an earlier run (and two probes to back it) matches one boot only: with another
        // vmalloc= the hole, and the answer, differ.
        const o = c.runs?.otherCmdline;
        if (!o) return fail(c.runs?.unavailable?.["other-cmdline"] ?? "the grader made no second run (judge() was called without its extra runs)");
        const vm = /\bvmalloc=(\S+)/.exec(o.cmdline)?.[1] ?? o.cmdline;
        const other = o.otherVmallocPages ? ` and another driver holding ${o.otherVmallocPages * 4} KiB of vmalloc` : "";
        const second = judgeFound({ ...c, result: o.result, records: o.records }, `in a second run, booted with vmalloc=${vm}${other}, `);
        return second.pass ? ok(`${first.detail}; ${second.detail} with vmalloc=${vm}`) : second;
      },
      1,
      { requires: ["largest: N MiB", "MiB"], needs: ["other-cmdline"] },
    ),
    check(
      "quiet",
      "No allocation-failure warning in the log (__GFP_NOWARN on every probe that may fail)",
      "vmalloc() warns when it fails. Probe with __vmalloc(size, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL).",
      (c) => {
        const w = c.result.reports.find((x) => x.kind === "vmalloc-failure" || x.kind === "page-alloc-failure");
        if (w) return fail(`the kernel printed: ${w.title}`);
        const nowarn = gfpFlags(eraOf(c.result)).__GFP_NOWARN;
        const loud = (callsOf(c.result) ?? []).find(
          (x) => VM_FNS.includes(x.fn) && (x.ret === null || toBig(x.ret) === 0n) && !((toNum(x.args[1]) ?? 0) & nowarn && x.fn === "__vmalloc"),
        );
        if (loud)
          return fail(
            `a failed ${loud.fn}(${toNum(loud.args[0])}) had no __GFP_NOWARN (${loud.fn === "__vmalloc" ? gfpName(c, toNum(loud.args[1])) : "vmalloc takes no flags"})`,
          );
        return ok();
      },
      1,
      { requires: ["__GFP_NOWARN", "allocation-failure warning"] },
    ),
    nothingLeaked(),
    survivesFaultInjection({ initMayLoad: true }),
    // The failure warnings are the `quiet` check's: counted there once, not twice.
    noReports(["vmalloc-failure", "page-alloc-failure"]),
  ],
};
