// One shard of the fuzz programs in `npm test` (fuzz/gen.ts, fuzz/oracle.ts). The programs are split over
// test/reliability/fuzz-shard-{1,2,3,4}.test.ts because vitest runs test files in parallel (two workers on the
// 2-core machines this project is tested on) and the tests inside one file one after the other: four files of
// FUZZ_COUNT/4 programs keep both workers busy to the end. FUZZ_COUNT (default 1000, the count) and
// FUZZ_START choose the seeds. A failure prints its seed: reproduce with `npm run fuzz -- --seed N`.

import { describe, expect, it } from "vitest";
import { API } from "../../sandbox/api.ts";
import { FUZZ_TARGETS, generate } from "../../fuzz/gen.ts";
import { runAndJudge } from "../../fuzz/oracle.ts";

export const SHARDS = 4;
const COUNT = Number(process.env.FUZZ_COUNT ?? 1000);
const START = Number(process.env.FUZZ_START ?? 1);

/** Seeds of shard i (0-based): consecutive blocks, so that shard 0 starts where `npm run fuzz` starts. */
export function shardSeeds(i: number, count = COUNT, start = START): [number, number] {
  const per = Math.ceil(count / SHARDS);
  const from = start + i * per;
  return [from, Math.min(start + count, from + per)];
}

export function fuzzShard(i: number): void {
  const [from, to] = shardSeeds(i);
  describe(`fuzz shard ${i + 1}/${SHARDS}: seeds ${from}..${to - 1} (no host exception, no unexplained hang, no broken invariant)`, () => {
    it("every run ends in a RunResult the oracle accepts", async () => {
      const failures: string[] = [];
      const kinds = new Map<string, number>();
      for (let s = from; s < to; s++) {
        const g = generate(API, s);
        const v = await runAndJudge(g, FUZZ_TARGETS[s % FUZZ_TARGETS.length]!.era);
        for (const r of v.result?.reports ?? []) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
        for (const f of v.failures) failures.push(`seed ${s} (${g.program.profile} ${g.program.config}; npm run fuzz -- --seed ${s}): ${f}`);
      }
      expect(failures).toEqual([]);
      // The programs do reach the kernel's diagnostics, the context ones included (a fuzzer that provokes nothing
      // tests nothing).
      if (to - from >= 200) {
        for (const k of ["oops", "leak", "warn", "invalid-free", "sleep-in-atomic", "scheduling-while-atomic", "timeout", "lockdep", "dma-api"])
          expect(kinds.get(k) ?? 0, k).toBeGreaterThan(0);
      }
    }, 600_000);
  });
}
