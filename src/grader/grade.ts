// The grader: run a submission as the exercise says (profile, RAM, command line, events), then judge it with the
// exercise's checks over the RunResult. judge() is pure (the notebook runs the cell in its worker and judges the
// RunResult on the page); gradeSource() runs and judges in one step (the CLI and the tests).

import type { RunResult } from "../../sandbox/result.ts";
import type { RunOptions } from "../../sandbox/run.ts";
import { getProfile } from "../kernel/profiles.ts";
import { allocations } from "./records.ts";
import type { CheckContext, CheckResult, Exercise, GradeResult, RunSettings } from "./types.ts";

/** The board's push-button line (src/kernel/kernel/irq.ts: IRQ 5 on the x86 PCs, 40 on the ARM boards). */
export function buttonIrq(profile: string): number {
  const arch = getProfile(profile).arch;
  return arch === "x86_64" || arch === "i386" ? 5 : 40;
}

/** The options runModule needs to run a submission of this exercise. */
export function runOptionsFor(s: RunSettings): RunOptions {
  return {
    profile: s.profile,
    mem: s.mem,
    cmdline: s.cmdline,
    seed: s.seed,
    config: s.config,
    proc: s.proc,
    events: s.events?.map((e) => ({ atMs: e.atMs, irq: e.irq === "button" ? buttonIrq(s.profile) : e.irq })),
  };
}

const LIMIT_WORDS: Record<string, string> = { cpu: "CPU", memory: "memory", stack: "stack", "kernel-calls": "kernel-call", log: "log" };

/**
 * Why a run cannot be graded, if it cannot: a limit stopped it (the sandbox's own, or the host's when it ended the
 * worker: "stopped: CPU limit ..."), or the run's worker failed ("the grader failed on this submission: ...").
 * Such a run scores zero with that reason. A hang the kernel models (a timeout without a limit) is graded as usual.
 */
export function stoppedReason(result: RunResult): string | undefined {
  for (const r of result.reports) {
    if (r.limit) {
      const host = /^kmodlab: stopped by the host: \S+ limit \((.*)\)$/.exec(r.title);
      return `stopped: ${LIMIT_WORDS[r.limit] ?? r.limit} limit (${host ? `${host[1]}; the host ended the run` : r.title.replace(/^kmodlab:? /, "")})`;
    }
    if (/^kmodlab: the run's worker failed: /.test(r.title)) return `the grader failed on this submission: ${r.title.replace(/^kmodlab: the run's worker failed: /, "")}`;
  }
  return undefined;
}

/** Judge a finished run. Never throws: a check that throws fails with the error as its detail. */
export function judge(ex: Exercise, result: RunResult, source: string, file?: string): GradeResult {
  const stopped = stoppedReason(result);
  if (stopped) return { ...unrunnable(ex, stopped, file), dmesg: result.dmesg, reports: result.reports.map((r) => ({ kind: r.kind, title: r.title, line: r.line })) };
  const ctx: CheckContext = { result, source, exercise: ex, records: allocations(result) };
  const checks: CheckResult[] = ex.checks.map((ch) => {
    const points = ch.points ?? 1;
    let pass = false;
    let detail: string | undefined;
    try {
      const o = ch.run(ctx);
      pass = o.pass === true;
      detail = o.detail;
    } catch (e) {
      detail = `the check itself failed: ${(e as Error)?.message ?? e}`;
    }
    return { id: ch.id, message: ch.message, hint: ch.hint, pass, detail, points, score: pass ? points : 0 };
  });
  const score = checks.reduce((s, c) => s + c.score, 0);
  const maxScore = checks.reduce((s, c) => s + c.points, 0);
  const firstFail = checks.find((c) => !c.pass);
  return {
    exercise: ex.id,
    file,
    passed: !firstFail,
    score,
    maxScore,
    checks,
    firstHint: firstFail?.hint,
    dmesg: result.dmesg,
    reports: result.reports.map((r) => ({ kind: r.kind, title: r.title, line: r.line })),
  };
}

/** Run the submission on a fresh kernel and judge it. */
export async function gradeSource(ex: Exercise, source: string, file?: string): Promise<GradeResult> {
  const { runModule } = await import("../../sandbox/run.ts");
  const result = await runModule(source, runOptionsFor(ex.settings));
  return judge(ex, result, source, file);
}

/** A GradeResult for a submission that could not be run (unreadable file): every check failed. */
export function unrunnable(ex: Exercise, error: string, file?: string): GradeResult {
  const checks: CheckResult[] = ex.checks.map((ch) => ({ id: ch.id, message: ch.message, hint: ch.hint, pass: false, detail: error, points: ch.points ?? 1, score: 0 }));
  return { exercise: ex.id, file, passed: false, score: 0, maxScore: checks.reduce((s, c) => s + c.points, 0), checks, firstHint: checks[0]?.hint, error };
}
