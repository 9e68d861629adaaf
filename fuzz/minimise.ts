// Minimise a failing program by delta debugging over its statements (Zeller's ddmin): remove chunks of
// statements (from every function body and the top level) while the failure with the same signature remains.
// The imports stay as generated (an unused import is harmless), so every candidate still compiles.

import { render, type Generated, type Program } from "./gen.ts";
import { runAndJudge, signature, type FuzzRunner } from "./oracle.ts";

type Loc = { fn: number; i: number } | { top: number };

function locations(p: Program): Loc[] {
  const out: Loc[] = p.top.map((_, top) => ({ top }));
  p.fns.forEach((f, fn) => f.body.forEach((_, i) => out.push({ fn, i })));
  return out;
}

function keepOnly(p: Program, keep: Set<number>, locs: Loc[]): Program {
  const q: Program = { ...p, top: [], fns: p.fns.map((f) => ({ ...f, body: [] })) };
  locs.forEach((l, idx) => {
    if (!keep.has(idx)) return;
    if ("top" in l) q.top.push(p.top[l.top]!);
    else q.fns[l.fn]!.body.push(p.fns[l.fn]!.body[l.i]!);
  });
  return q;
}

export interface Minimised {
  program: Program;
  source: string;
  statements: number;
  runs: number;
}

/** ddmin: returns the smallest program found that still fails with `sig`. Bounded by maxRuns. */
export async function minimise(g: Generated, era: string, sig: string, maxRuns = 300, run?: FuzzRunner): Promise<Minimised> {
  const locs = locations(g.program);
  let cur = locs.map((_, i) => i);
  let runs = 0;
  const fails = async (idx: number[]): Promise<boolean> => {
    runs++;
    const prog = keepOnly(g.program, new Set(idx), locs);
    const v = await runAndJudge({ program: prog, used: g.used, source: render(prog, g.used) }, era, run);
    return v.failures.some((f) => signature(f) === sig);
  };
  let n = 2;
  while (cur.length >= 2 && runs < maxRuns) {
    const chunk = Math.ceil(cur.length / n);
    let reduced = false;
    for (let start = 0; start < cur.length && runs < maxRuns; start += chunk) {
      const complement = [...cur.slice(0, start), ...cur.slice(start + chunk)];
      if (await fails(complement)) {
        cur = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  const program = keepOnly(g.program, new Set(cur), locs);
  return { program, source: render(program, g.used), statements: cur.length, runs };
}
