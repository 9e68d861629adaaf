// The `kmodlab` command as a user starts it: whole processes, spawn to exit, measured side by side with `node -e 0`
// (Node's own start on this machine) in interleaved rounds, so a loaded machine slows both alike. Issue 15's target:
// `kmodlab run examples/memdemo.ts` at most 3x `node -e 0` and at most 100 MB peak RSS.
// Rows: wall time; CPU time (user + system, from GNU time) and peak RSS when /usr/bin/time is there; the built
// command (bin/kmodlab.cjs over lib/, package.json's bin: `run`'s fast path runs the cell on its own thread), the same
// without the V8 code caches (KMODLAB_CODE_CACHE=0), the same booting its machine instead of reading it from the machine cache
// and making QuickJS's runtime, context and prelude instead of putting its compiled copy back (KMODLAB_BOOT_CACHE=0), the same without `run`'s fast path (KMODLAB_FAST_RUN=0: lib/cli.mjs), the same started
// from the former entry bin/kmodlab.mjs (an ES module: its worker starts after Node's ES module loader, ~10-15 ms
// later) and, for comparison, the sources under tsx (`npm run kmodlab`'s path).
// When NODE_EXTRA_CA_CERTS is set (this VM sets it to the system's bundle), `node -e 0` and the run are also measured
// without it, with their own ratio: parsing that bundle is most of `node -e 0`'s start here.
// `npm run bench -- cli` runs this suite alone.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Suite } from "./harness.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const GNU_TIME = "/usr/bin/time";

interface Sample {
  wallMs: number;
  cpuMs?: number;
  rssMb?: number;
}

const BASH = "/bin/bash";
/**
 * Around GNU time, when bash is there: its `times` (the CPU of the children it waited for, from getrusage, printed in
 * 1 ms steps) and the wall time of the command alone ($EPOCHREALTIME, bash 5, taken around it, so bash's own start is
 * not counted). GNU time prints %U and %S in 10 ms steps, which at these sizes (`node -e 0` ~15-20 ms of CPU on the
 * 2-core VM) made the CPU rows and their ratio mostly rounding: 10 against 90 ms (9x) where getrusage had 17.6 against
 * 72.8 ms (4.1x). The children's CPU includes GNU time's own, a fraction of a millisecond, the same in every row.
 */
const TIMES = 'T0=$EPOCHREALTIME; "$@"; s=$?; T1=$EPOCHREALTIME; echo "KMODLAB_WALL $T0 $T1" >&2; times >&2; exit $s';

/** Seconds from bash's `times` (`0m0.062s`) or $EPOCHREALTIME (`1765155600.123456`; the locale's decimal mark). */
const seconds = (t: string): number => {
  const m = /^(?:(\d+)m)?(\d+)[.,]?(\d*)s?$/.exec(t);
  return m ? Number(m[1] ?? 0) * 60 + Number(`${m[2]}.${m[3] || "0"}`) : NaN;
};

/**
 * Run one process to the end; with GNU time, its CPU time and peak RSS too (the CPU in 1 ms steps with bash: TIMES).
 * `env`: variables set, or unset (undefined).
 */
function once(argv: string[], env?: Record<string, string | undefined>): Sample {
  const timed = existsSync(GNU_TIME);
  const bash = timed && existsSync(BASH);
  const timeArgs = ["-f", "KMODLAB_TIME %U %S %M", ...argv];
  const [cmd, args] = bash ? [BASH, ["-c", TIMES, "bash", GNU_TIME, ...timeArgs]] : timed ? [GNU_TIME, timeArgs] : [argv[0]!, argv.slice(1)];
  const t0 = performance.now();
  let childEnv: NodeJS.ProcessEnv | undefined;
  if (env) {
    childEnv = { ...process.env };
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete childEnv[k];
      else childEnv[k] = v;
    }
  }
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: childEnv });
  let wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  if (!timed) return { wallMs };
  const m = /KMODLAB_TIME (\S+) (\S+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no GNU time line in: ${r.stderr}`);
  let cpuMs = (Number(m[1]) + Number(m[2])) * 1000;
  if (bash) {
    // the last three lines: KMODLAB_WALL T0 T1, then `times`: the shell's own CPU, its children's
    const lines = r.stderr.trimEnd().split("\n");
    const wall = lines.at(-3)?.split(" ") ?? [];
    const [user, sys] = (lines.at(-1) ?? "").split(" ").map(seconds);
    if (wall[0] !== "KMODLAB_WALL" || !Number.isFinite(user) || !Number.isFinite(sys)) throw new Error(`no bash times lines in: ${r.stderr}`);
    const [t0s, t1s] = [seconds(wall[1] ?? ""), seconds(wall[2] ?? "")];
    if (t1s > t0s) wallMs = (t1s - t0s) * 1000; // ($EPOCHREALTIME is empty before bash 5: NaN, the spawn's wall stays)
    cpuMs = (user! + sys!) * 1000;
  }
  return { wallMs, cpuMs, rssMb: Number(m[3]) / 1024 };
}

const NO_CA_NODE = "node -e 0 (NODE_EXTRA_CA_CERTS unset)";
const NO_CA_RUN = "kmodlab run examples/memdemo.ts (built, NODE_EXTRA_CA_CERTS unset)";

export const suite: Suite = {
  name: "cli",
  async run(ctx) {
    const node = process.execPath;
    // make sure lib/ is current before timing (a stale build is rebuilt by the first start)
    once([node, "bin/kmodlab.cjs", "profiles"]);
    const memdemo = [node, "bin/kmodlab.cjs", "run", "examples/memdemo.ts"];
    type Case = [string, string[], number, Record<string, string | undefined>?];
    const noCaCases: Case[] = [
      [NO_CA_NODE, [node, "-e", "0"], 11, { NODE_EXTRA_CA_CERTS: undefined }],
      [NO_CA_RUN, memdemo, 11, { NODE_EXTRA_CA_CERTS: undefined }],
    ];
    const cases: Case[] = [
      ["node -e 0", [node, "-e", "0"], 11],
      ["kmodlab run examples/memdemo.ts (built)", memdemo, 11],
      // what the V8 code caches buy (src/node/code-cache.ts): the same command compiling its code anew
      ["kmodlab run examples/memdemo.ts (built, no code cache)", memdemo, 11, { KMODLAB_CODE_CACHE: "0" }],
      // what the disk cache of booted machines buys (src/node/boot-cache.ts): the same command booting its machine
      ["kmodlab run examples/memdemo.ts (built, no machine cache nor QuickJS copy)", memdemo, 11, { KMODLAB_BOOT_CACHE: "0" }],
      // what `run`'s fast path buys (bin/kmodlab.cjs runFast: lib/cli-run.cjs with a V8 code cache, the cell run on the
      // command's own thread): the same command loaded from lib/cli.mjs through Node's ES module loader, with a run
      // worker, as every other command is
      ["kmodlab run examples/memdemo.ts (built, full command: KMODLAB_FAST_RUN=0)", memdemo, 11, { KMODLAB_FAST_RUN: "0" }],
      // the worker started in the command's first statement (bin/kmodlab.cjs) against after the ES module loader
      ["kmodlab run examples/memdemo.ts (built, from bin/kmodlab.mjs)", [node, "bin/kmodlab.mjs", "run", "examples/memdemo.ts"], 11],
      ["kmodlab profiles (built)", [node, "bin/kmodlab.cjs", "profiles"], 11],
      // NODE_EXTRA_CA_CERTS makes every Node process parse that bundle of certificates as it starts (measured on the
      // 2-core VM with the system's bundle: `node -e 0` 60 -> 23 ms of CPU without it): a constant that flatters the
      // ratio, and one most users' machines do not have. With it set, both sides are measured without it too.
      ...(process.env.NODE_EXTRA_CA_CERTS ? noCaCases : []),
      ["kmodlab run examples/memdemo.ts (tsx, sources)", [node, "--import", "tsx", "src/cli/main.ts", "run", "examples/memdemo.ts"], 3],
    ];
    const samples = new Map<string, Sample[]>(cases.map(([n]) => [n, []]));
    const rounds = Math.max(...cases.map(([, , r]) => r));
    // warm the file cache; the second run of a machine stores it in the machine cache (src/node/boot-cache.ts), the
    // third is the first to decode it and writes the run worker's code cache again with that path (code-cache.ts)
    once(cases[1][1]);
    once(cases[1][1]);
    once(cases[1][1]);
    for (let i = 0; i < rounds; i++) {
      for (const [name, argv, runs, env] of cases) if (i < runs) samples.get(name)!.push(once(argv, env));
    }
    const rows = new Map<string, { wall: ReturnType<typeof ctx.record>; cpu?: ReturnType<typeof ctx.record> }>();
    for (const [name] of cases) {
      const s = samples.get(name)!;
      const wall = ctx.record(
        `${name}: whole process`,
        "ms",
        s.map((x) => x.wallMs),
        "spawn to exit, wall (bash's $EPOCHREALTIME around it when there)",
      );
      let cpu;
      if (s[0].cpuMs !== undefined) {
        cpu = ctx.record(
          `${name}: whole process (cpu)`,
          "ms",
          s.map((x) => x.cpuMs!),
          "user + system (bash times, else GNU time)",
        );
        ctx.record(
          `${name}: peak RSS`,
          "MB",
          s.map((x) => x.rssMb!),
          "GNU time %M; target for run: <= 100",
        );
      }
      rows.set(name, { wall, cpu });
    }
    const base = rows.get("node -e 0")!;
    for (const [name] of cases.slice(1)) {
      if (name === NO_CA_NODE || name === NO_CA_RUN) continue;
      const r = rows.get(name)!;
      ctx.ratio(`${name} vs node -e 0 (wall)`, r.wall, base.wall);
      if (r.cpu && base.cpu) ctx.ratio(`${name} vs node -e 0 (cpu)`, r.cpu, base.cpu);
    }
    const noCa = rows.get(NO_CA_NODE);
    const noCaRun = rows.get(NO_CA_RUN);
    if (noCa && noCaRun) {
      ctx.ratio(`${NO_CA_RUN} vs ${NO_CA_NODE} (wall)`, noCaRun.wall, noCa.wall);
      if (noCaRun.cpu && noCa.cpu) ctx.ratio(`${NO_CA_RUN} vs ${NO_CA_NODE} (cpu)`, noCaRun.cpu, noCa.cpu);
    }
  },
};
