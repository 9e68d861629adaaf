// A small benchmark harness: each case runs several times; we keep median, min and max.
// Comparisons are measured side by side in the same process run and reported as ratios,
// because this machine is shared and absolute times drift from run to run.

export interface Measurement {
  name: string;
  unit: string; // "ms", "ops/s", "MB", "bytes/s", "KB gz"
  median: number;
  min: number;
  max: number;
  runs: number;
  note?: string;
  /** The suite that measured it (set by bench/run.ts). */
  suite?: string;
  /** Set when the row was measured by a filtered run, apart from the file's full run. */
  machine?: string;
  date?: string;
}

export interface Ratio {
  name: string;
  value: number;
  of: string; // "a / b"
  suite?: string;
}

export interface Suite {
  name: string;
  /** True when this run measures only some of the suite's rows (a filter such as SPEED_ROWS): results.json then
   * keeps the suite's other rows from their last run instead of dropping them. */
  partial?: () => boolean;
  run(ctx: BenchContext): Promise<void> | void;
}

export class BenchContext {
  readonly results: Measurement[] = [];
  readonly ratios: Ratio[] = [];

  /** Time fn() `runs` times (after `warmup` untimed runs); report milliseconds per run. */
  async time(name: string, fn: () => unknown | Promise<unknown>, runs = 7, warmup = 1, note?: string): Promise<Measurement> {
    for (let i = 0; i < warmup; i++) await fn();
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await fn();
      xs.push(performance.now() - t0);
    }
    return this.record(name, "ms", xs, note);
  }

  /**
   * Like time(), and also the process CPU time of each run (user + system, all threads: GC helpers included). On a
   * shared, loaded machine the wall time includes the waits for a core; the CPU time does not, so it moves far less
   * from run to run. Records "NAME" (wall) and "NAME (cpu)".
   */
  async timeWallAndCpu(
    name: string,
    fn: () => unknown | Promise<unknown>,
    runs = 7,
    warmup = 1,
    note?: string,
  ): Promise<{ wall: Measurement; cpu: Measurement }> {
    for (let i = 0; i < warmup; i++) await fn();
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    return { wall: this.record(name, "ms", wall, note), cpu: this.record(`${name} (cpu)`, "ms", cpu, note) };
  }

  /** Run fn(n) that performs n operations; report operations per second. */
  async rate(name: string, n: number, fn: (n: number) => unknown | Promise<unknown>, runs = 5, note?: string): Promise<Measurement> {
    await fn(Math.max(1, n >> 4));
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await fn(n);
      xs.push((n * 1000) / (performance.now() - t0));
    }
    return this.record(name, "ops/s", xs, note);
  }

  record(name: string, unit: string, xs: number[], note?: string): Measurement {
    const s = [...xs].sort((a, b) => a - b);
    const m: Measurement = { name, unit, median: s[s.length >> 1], min: s[0], max: s[s.length - 1], runs: xs.length, note };
    this.results.push(m);
    return m;
  }

  ratio(name: string, a: Measurement, b: Measurement): Ratio {
    const r: Ratio = { name, value: a.median / b.median, of: `${a.name} / ${b.name}` };
    this.ratios.push(r);
    return r;
  }
}

function fmt(v: number): string {
  if (v >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (v >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

export function table(ctx: BenchContext): string {
  const rows = ctx.results.map((m) => [m.name, fmt(m.median), fmt(m.min), fmt(m.max), m.unit, String(m.runs), m.note ?? ""]);
  const head = ["benchmark", "median", "min", "max", "unit", "runs", "note"];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(w[i])).join(" | ") + " |";
  const out = [line(head), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)];
  if (ctx.ratios.length) {
    out.push("", "| ratio | value | of |", "|---|---|---|");
    for (const r of ctx.ratios) out.push(`| ${r.name} | ${r.value.toFixed(2)} | ${r.of} |`);
  }
  return out.join("\n");
}
