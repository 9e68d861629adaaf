// One shard of the fuzz programs in `npm test` (fuzz/gen.ts, fuzz/oracle.ts). The programs are split over
// test/reliability/fuzz-shard-{1,2,3,4}.test.ts because vitest runs test files in parallel (two workers on the
// 2-core machines this project is tested on) and the tests inside one file one after the other: four files of
// FUZZ_COUNT/4 programs keep both workers busy to the end. FUZZ_COUNT (default 1000, the count) and
// FUZZ_START choose the seeds. A failure prints its seed: reproduce with `npm run fuzz -- --seed N`.
// A shard takes whole machines (fuzz/gen.ts machineOf): all the programs of a machine run in one shard, one after
// the other (fuzzOrder), so that the shard boots each of its machines once and restores it for the others; and each
// shard takes a quarter of every target's machines, the profile-RAM ones spread over the shards.

import { describe, expect, it } from "vitest";
import { API } from "../../sandbox/api.ts";
import { FUZZ_TARGETS, fuzzOrder, generate, machineOf } from "../../fuzz/gen.ts";
import { runAndJudge } from "../../fuzz/oracle.ts";

export const SHARDS = 4;
const COUNT = Number(process.env.FUZZ_COUNT ?? 1000);
const START = Number(process.env.FUZZ_START ?? 1);

/** The shard (0-based) whose programs include seed s's: its machine's (the machine's index turned by the target). */
export function shardOf(s: number): number {
  return (machineOf(s).index + (s % FUZZ_TARGETS.length)) % SHARDS;
}

/** Seeds of shard i (0-based) among [start, start + count), in the order the shard runs them (fuzzOrder). */
export function shardSeeds(i: number, count = COUNT, start = START): number[] {
  return fuzzOrder(start, start + count).filter((s) => shardOf(s) === i);
}

export function fuzzShard(i: number): void {
  const seeds = shardSeeds(i);
  describe(`fuzz shard ${i + 1}/${SHARDS}: ${seeds.length} of seeds ${START}..${START + COUNT - 1} (no host exception, no unexplained hang, no broken invariant)`, () => {
    it("every run ends in a RunResult the oracle accepts", async () => {
      const failures: string[] = [];
      const kinds = new Map<string, number>();
      for (const s of seeds) {
        const g = generate(API, s);
        const v = await runAndJudge(g, FUZZ_TARGETS[s % FUZZ_TARGETS.length]!.era);
        for (const r of v.result?.reports ?? []) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
        for (const f of v.failures) failures.push(`seed ${s} (${g.program.profile} ${g.program.config}; npm run fuzz -- --seed ${s}): ${f}`);
      }
      expect(failures).toEqual([]);
      // The programs do reach the kernel's diagnostics, the context ones included (a fuzzer that provokes nothing
      // tests nothing).
      if (seeds.length >= 200) {
        for (const k of ["oops", "leak", "warn", "invalid-free", "sleep-in-atomic", "scheduling-while-atomic", "timeout", "lockdep", "dma-api"])
          expect(kinds.get(k) ?? 0, k).toBeGreaterThan(0);
      }
    }, 600_000);
  });
}
