// What a fuzzed run must satisfy, whatever the program did: runModule resolves; the RunResult survives JSON;
// no kmodlab "bug" report (a sandbox internal error, or an invariant violation found by --check-invariants); no
// kernel call that failed inside the simulator (the bridge's "simulated kernel failed inside" InternalError, even
// when the program caught it); no sandbox CPU deadline unless the program loops forever on purpose.
// Learner-facing reports (oops, kasan, double-free, bad-page, exception, a kernel BUG(), a soft lockup or hung
// task the kernel models...) are normal outcomes, not failures.

import { releaseCallLog, runModule, type RunOptions } from "../sandbox/run.ts";
import type { RunResult } from "../sandbox/result.ts";
import type { Generated, Program } from "./gen.ts";

/**
 * Known simulator bugs, reported to their owners: a failure whose every line matches one of these is counted as
 * "known" and does not fail the run. Keep each pattern narrow and say where it is reported.
 */
export const KNOWN_BUGS: { id: string; era?: string; pattern: RegExp; where: string }[] = [];

export interface Verdict {
  /** Unexplained failures: each a one-line description (the first is the signature). */
  failures: string[];
  /** Failures matched by KNOWN_BUGS (their ids). */
  known: string[];
  result?: RunResult;
}

export function runOptions(p: Program): RunOptions {
  // A program that loops forever on purpose meets the CPU deadline: keep it short so that it costs little. 100 ms:
  // the programs marked endless are 125 of seeds 1..1599 (54 of 1..799), and those that reach the deadline are mostly
  // a guest loop `for (;;) { sink++; }`, which spins as well in 100 ms as in 1000 (1000 before: ~14 % of a fuzz run's
  // CPU; 250 after that: the 125 took 10.8 s of CPU at 250 ms and 5.6 s at 100, 3.2 ms per program of the 1599, load
  // 16-20); a storm of re-arming callbacks still runs thousands of kernel calls in it, and the oracle asks the same of
  // the stop (a deadline passed early, even before the module's first instruction, is the same clean stop: run.ts
  // evaluateTopLevel).
  return {
    profile: p.profile,
    config: p.config,
    mem: p.mem,
    seed: p.bootSeed,
    checkInvariants: true,
    // The notebook's memory views (RunResult.kernel's zones, frames, allocations...: sandbox/kview.ts) are built when
    // the judge's JSON reads them, ~2 ms a program: one program in five builds them, so they still meet every kind of
    // state the programs leave.
    views: p.seed % 5 === 0,
    limits: { cpuMs: p.endless ? 100 : 15000, kernelCalls: 200000 },
  };
}

/** The violation lines of an invariant report (after its title and explanation). */
function violationLines(text: string): string[] {
  return text.split("\n").slice(2).filter(Boolean);
}

/** What the judge needs to know about the program beyond its RunResult. */
export interface JudgeContext {
  /** The program has a loop that never ends on purpose: the sandbox's CPU deadline is its expected end. */
  endless?: boolean;
}

/** A "bug" report that is kmodlab's own fault (internal error, inconsistent kernel), not a kernel BUG() splat. */
export function isKmodlabBug(title: string): boolean {
  return /^kmodlab\b/.test(title);
}

export function judge(r: RunResult, era: string, ctx: JudgeContext = {}): Verdict {
  const failures: string[] = [];
  const known = new Set<string>();
  const lost = jsonFailure(r);
  if (lost !== undefined) failures.push(`RunResult does not survive JSON: ${lost}`);
  for (const rep of r.reports) {
    if (rep.kind === "bug") {
      if (/^kmodlab internal error: the simulated kernel is inconsistent/.test(rep.title)) {
        const lines = violationLines(rep.text);
        const isKnown = (l: string) => KNOWN_BUGS.some((b) => (!b.era || b.era === era) && b.pattern.test(l) && (known.add(b.id), true));
        // "(more violations of this check not listed)" belongs to the check's listed lines: known if they all are.
        const unknown = lines.filter((l, i) => {
          const more = /^(\S+): \(more violations of this check not listed\)$/.exec(l);
          if (!more) return !isKnown(l);
          return (
            lines.some((x, j) => j !== i && x.startsWith(more[1] + ": ") && !x.includes("(more violations") && !isKnown(x)) ||
            !lines.some((x, j) => j !== i && x.startsWith(more[1] + ": "))
          );
        });
        if (unknown.length) failures.push(`invariant: ${unknown[0]}${unknown.length > 1 ? ` (+${unknown.length - 1} more)` : ""}`);
      } else if (isKmodlabBug(rep.title)) failures.push(`bug report: ${rep.title}`);
    } else if (rep.kind === "timeout" && rep.limit === "cpu" && !ctx.endless) failures.push(`timeout: ${rep.title}`);
    if (/simulated kernel failed inside/.test(rep.text)) failures.push(`host failure: ${firstLine(rep.text, /simulated kernel failed inside.*/)}`);
  }
  for (const l of r.dmesg) if (l.includes("FUZZ-HOST-FAILURE")) failures.push(`host failure (caught by the module): ${l.replace(/^.*FUZZ-HOST-FAILURE /, "")}`);
  const unknown = failures.filter((f) => !KNOWN_BUGS.some((b) => (!b.era || b.era === era) && b.pattern.test(f) && (known.add(b.id), true)));
  return { failures: unknown, known: [...known], result: r };
}

/**
 * Why JSON.stringify(v) throws (its message), or undefined when it does not. Stringify alone is what throws (a
 * bigint, a cycle, a throwing getter); parsing its output cannot fail. Most of a RunResult is strings (dmesg, the
 * boot log, report texts), which stringify copies and escapes into tens of kilobytes that nothing reads: plainJson
 * first walks the value without writing it, and vouches only for what it knows stringify writes without throwing;
 * anything else (a bigint, a cycle, a toJSON, a class instance, a typed array, a Map, a getter that throws, great
 * depth or size) sends the value to JSON.stringify itself, whose message is the one reported.
 */
export function jsonFailure(v: unknown): string | undefined {
  try {
    if (plainJson(v, [], { chars: 0 })) return undefined;
  } catch {
    // a getter or a proxy trap threw on the walk: stringify's own message below
  }
  try {
    JSON.stringify(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Past these the walk gives up and stringify decides (its own depth and length limits are its to apply). */
const PLAIN_DEPTH = 64;
const PLAIN_CHARS = 1 << 26;

/**
 * Whether JSON.stringify(v) certainly does not throw, by the steps it takes (ECMA-262 SerializeJSONProperty, no
 * replacer): v is a primitive other than a bigint, or an array or a plain object (prototype Object.prototype or
 * null) with no toJSON, not on the path to itself, whose elements / own enumerable string-keyed properties (read with
 * [[Get]], getters run, as stringify reads them) are so too. false: cannot tell (stringify decides).
 */
function plainJson(v: unknown, path: object[], size: { chars: number }): boolean {
  switch (typeof v) {
    case "string":
      return (size.chars += v.length) <= PLAIN_CHARS;
    case "number":
    case "boolean":
    case "undefined":
    case "symbol":
      return true;
    case "bigint":
    case "function":
      return false;
  }
  if (v === null) return true;
  const o = v as Record<string, unknown>;
  if (path.length >= PLAIN_DEPTH || path.includes(o) || typeof o.toJSON === "function") return false;
  path.push(o);
  if (Array.isArray(o)) {
    for (let i = 0, n = o.length; i < n; i++) if (!plainJson(o[i], path, size)) return false;
  } else {
    const proto = Object.getPrototypeOf(o) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    for (const key of Object.keys(o)) if (!plainJson(o[key], path, size) || (size.chars += key.length) > PLAIN_CHARS) return false;
  }
  path.pop();
  return true;
}

function firstLine(text: string, re: RegExp): string {
  return re.exec(text)?.[0] ?? text.split("\n")[0]!;
}

/** How a program is run: runModule in this process (the in-suite shards), or an isolated worker (npm run fuzz). */
export type FuzzRunner = (source: string, options: RunOptions) => Promise<RunResult>;

export async function runAndJudge(g: Generated, era: string, run: FuzzRunner = runModule): Promise<Verdict> {
  let r: RunResult;
  try {
    r = await run(g.source, runOptions(g.program));
  } catch (e) {
    return { failures: [`runModule rejected: ${(e as Error)?.stack ?? e}`], known: [] };
  }
  try {
    return judge(r, era, { endless: g.program.endless });
  } finally {
    releaseCallLog(r); // its calls are read (judged): the call log's columns serve the next program (sandbox/run.ts)
  }
}

/** A failure's signature for minimisation: its kind and text with numbers and addresses blurred. */
export function signature(failure: string): string {
  return failure
    .replace(/0x[0-9a-f]+/gi, "0x?")
    .replace(/\d+/g, "N")
    .slice(0, 120);
}
