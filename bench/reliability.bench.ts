// Reliability costs: the invariant checker over a booted machine (what --check-invariants adds to a run), the
// fuzzer's throughput (what `npm run fuzz` and the in-test slice cost), and a 5 MB cell of comments end to end (what
// test/reliability/bad-input.test.ts feeds `kmodlab run`; the test pins its outcome, this its time).
import type { Suite } from "./harness.ts";
import { boot, type Kernel } from "../src/kernel/kernel.ts";
import { checkKernelInvariants } from "../src/kernel/debug/invariants.ts";
import { API } from "../sandbox/api.ts";
import { generate, FUZZ_TARGETS, MACHINE_BLOCK, fuzzOrder, machineOf } from "../fuzz/gen.ts";
import { runAndJudge, runOptions } from "../fuzz/oracle.ts";
import { runModule, loadKernelDeps } from "../sandbox/run.ts";

export const suite: Suite = {
  name: "reliability",
  async run(ctx) {
    for (const [profile, mem, label] of [
      ["x86_64-6.1", undefined, "512 MiB"],
      ["x86_64-6.1", 4 * 2 ** 30, "4 GiB"],
      ["i386-2.6", undefined, "160 MiB"],
      ["arm-6.1-virt", undefined, "1 GiB"],
    ] as const) {
      const k = boot(profile, { mem });
      const m = await ctx.time(
        `checkKernelInvariants ${profile} ${label}`,
        () => {
          if (checkKernelInvariants(k).length) throw new Error("violations on a fresh boot");
        },
        5,
        1,
      );
      void m;
    }
    // The check of a run (k.checkInvariants()) since its machine's verified record (debug/verified.ts) beside the whole
    // check, on the machines fuzzed programs left (the first machine of each target, 5 programs each): alternating, the
    // same kernels both ways, process CPU time per check, 21 rounds of all 40 kernels.
    {
      const deps = await loadKernelDeps();
      let last: Kernel | undefined;
      const capture = { ...deps, boot: (p: string, o: Parameters<typeof deps.boot>[1]) => (last = deps.boot(p, o)) };
      const kernels: Kernel[] = [];
      for (let t = 0; t < FUZZ_TARGETS.length; t++) {
        const seeds = fuzzOrder(1, MACHINE_BLOCK).filter((x) => x % FUZZ_TARGETS.length === t && machineOf(x).index === 0);
        const g0 = generate(API, seeds[0]!).program;
        // the record: a clean check of the machine as booted
        if (checkKernelInvariants(deps.boot(g0.profile, { mem: g0.mem, seed: g0.bootSeed, config: g0.config }), { sinceVerified: true }).length)
          throw new Error("bench reliability: violations on a fresh boot");
        for (const seed of seeds.slice(0, 5)) {
          const g = generate(API, seed);
          await runModule(g.source, { ...runOptions(g.program), checkInvariants: false }, capture);
          kernels.push(last!);
        }
      }
      const cpu = () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      };
      const whole: number[] = [];
      const since: number[] = [];
      for (let r = 0; r < 21; r++) {
        let t = cpu();
        for (const k of kernels) checkKernelInvariants(k);
        whole.push((cpu() - t) / kernels.length);
        t = cpu();
        for (const k of kernels) checkKernelInvariants(k, { sinceVerified: true });
        since.push((cpu() - t) / kernels.length);
      }
      const a = ctx.record(
        "invariant check of a fuzzed run, whole",
        "ms cpu",
        whole,
        "mean of 40 kernels fuzzed programs left (5 per target); median of 21 rounds",
      );
      const b = ctx.record(
        "invariant check of a fuzzed run, since its machine's verified record (what a run does)",
        "ms cpu",
        since,
        "the same kernels, alternating",
      );
      ctx.ratio("invariant check of a fuzzed run: whole vs since the verified record", a, b);
    }
    // in the order a fuzz run takes them (fuzzOrder: one machine's programs together, the machine restored per program)
    const order = fuzzOrder(1, 1 + 10 * MACHINE_BLOCK);
    let at = 0;
    const n = 40;
    await ctx.rate(
      "fuzzed modules run and judged (their machines restored, invariants on)",
      n,
      async (count) => {
        for (let i = 0; i < count; i++, at++) await runAndJudge(generate(API, order[at]!), FUZZ_TARGETS[order[at]! % FUZZ_TARGETS.length]!.era);
      },
      3,
      "programs/s; npm run fuzz runs 10000",
    );
    await loadKernelDeps();
    const big =
      `import { module_init, MODULE_LICENSE } from "linux";\nMODULE_LICENSE("GPL");\nmodule_init(() => 0);\n` +
      `// ${"x".repeat(100)}\n`.repeat(Math.ceil((5 << 20) / 104));
    await ctx.time(
      "a 5 MB cell of comments end to end (x86_64-6.1)",
      async () => {
        const r = await runModule(big);
        if (r.reports.some((x) => x.kind === "compile-error" || x.kind === "bug"))
          throw new Error(`bench reliability: the 5 MB cell failed: ${r.reports[0]?.title}`);
      },
      3,
      1,
      "transpile and load 5 MB, boot, insmod, rmmod",
    );
  },
};
