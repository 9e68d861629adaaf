// `npm run fuzz [-- --count N] [--start S] [--seed S] [--no-minimise]`: generate N programs (default 10000)
// (`--hostile`: programs that attack the sandbox's own limits instead, fuzz/hostile.ts; default 300)
// from consecutive seeds, run each through the sandbox with the invariant checker, and for every new kind of
// failure print its seed, profile, machine, the failure and the program minimised by delta debugging. The programs run
// one machine's at a time (fuzz/gen.ts machineOf, fuzzOrder): each machine is booted once in the worker and restored
// for its other programs.
// `--seed S` runs one seed (reproduce a failure the test or a previous run printed).
// Exit code: 0 when only known bugs (fuzz/oracle.ts KNOWN_BUGS) were seen, 1 otherwise.
// Every program runs in one isolated worker (src/node/isolate.ts), kept warm and replaced only when the host had to
// end a program: a program the sandbox cannot stop is a finding of its own, not the end of the fuzz run.

import { API } from "../sandbox/api.ts";
import { FUZZ_TARGETS, fuzzOrder, generate, type Program } from "./gen.ts";
import { KNOWN_BUGS, runAndJudge, signature } from "./oracle.ts";
import { minimise } from "./minimise.ts";
import { HOSTILE_CLASSES, runHostile } from "./hostile.ts";
import { IsolatedRunner } from "../src/node/isolate.ts";

/** The machine a program ran on (fuzz/gen.ts machineOf). */
function machineText(p: Program): string {
  return `machine: boot seed ${p.bootSeed}, ${p.mem !== undefined ? `${p.mem / 2 ** 20} MiB` : "the profile's RAM"}`;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const USAGE = "usage: npm run fuzz -- [--hostile] [--count N] [--start S] [--seed S] [--no-minimise]\n";
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  // (it ran the default 10,000 programs, ~7 minutes)
  process.stdout.write(
    USAGE +
      "  --hostile: programs that attack the sandbox's own limits, one to three attack classes each (fuzz/hostile.ts): " +
      `${HOSTILE_CLASSES.join(", ")}\n`,
  );
  process.exit(0);
}
const one = arg("seed");
const count = one !== undefined ? 1 : Number(arg("count") ?? 10000);
const start = one !== undefined ? Number(one) : Number(arg("start") ?? 1);
const doMin = !process.argv.includes("--no-minimise");
if (!Number.isInteger(count) || !Number.isInteger(start) || count < 1 || start < 0) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const runner = new IsolatedRunner();
const run = (source: string, options: Parameters<typeof runner.run>[1]) => runner.run(source, options);
if (process.argv.includes("--hostile")) {
  // programs written to break the sandbox's own limits (fuzz/hostile.ts); 300 by default
  const n = one !== undefined ? 1 : Number(arg("count") ?? 300);
  const kinds = await runHostile(API, start, n, run, (s) => process.stdout.write(s));
  await runner.close();
  process.exit(kinds ? 1 : 0);
}
const seen = new Map<string, number[]>();
const known = new Map<string, number>();
const reports = new Map<string, number>();
const t0 = performance.now();
let done = 0;
// one machine's programs together (fuzz/gen.ts machineOf): the worker boots each machine once and restores it
for (const seed of fuzzOrder(start, start + count)) {
  const g = generate(API, seed);
  const era = FUZZ_TARGETS[seed % FUZZ_TARGETS.length]!.era;
  const v = await runAndJudge(g, era, run);
  for (const r of v.result?.reports ?? []) reports.set(r.kind, (reports.get(r.kind) ?? 0) + 1);
  for (const id of v.known) known.set(id, (known.get(id) ?? 0) + 1);
  if (one !== undefined && !v.failures.length)
    process.stdout.write(`${g.source}\nseed ${seed} (${g.program.profile}, ${g.program.config}, ${machineText(g.program)}): no failure\n`);
  for (const f of v.failures) {
    const sig = signature(f);
    const list = seen.get(sig) ?? [];
    list.push(seed);
    seen.set(sig, list);
    if (list.length > 1) continue;
    process.stdout.write(`\nFAIL seed ${seed} (${g.program.profile}, ${g.program.config}, ${machineText(g.program)}): ${f}\n`);
    if (doMin) {
      const m = await minimise(g, era, sig, undefined, run);
      process.stdout.write(`minimised to ${m.statements} statements in ${m.runs} runs (reproduce: npm run fuzz -- --seed ${seed}):\n${m.source}`);
    } else process.stdout.write(g.source);
  }
  if (++done % 500 === 0) process.stderr.write(`fuzz: ${done}/${count} programs, ${seen.size} kinds of failure\n`);
}
const ms = performance.now() - t0;
process.stdout.write(
  `\n${count} programs in ${(ms / 1000).toFixed(1)} s (${(ms / count).toFixed(0)} ms each); ` +
    `reports: ${[...reports].map(([k, n]) => `${k} ${n}`).join(", ")}\n` +
    `known bugs seen: ${known.size ? [...known].map(([id, n]) => `${id} x${n} (${KNOWN_BUGS.find((b) => b.id === id)!.where})`).join("; ") : "none"}\n` +
    `failures: ${seen.size ? [...seen].map(([s, seeds]) => `\n  ${s} (${seeds.length}x, first seed ${seeds[0]})`).join("") : "none"}\n`,
);
await runner.close();
process.exitCode = seen.size ? 1 : 0;
