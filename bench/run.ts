// `npm run bench`: run every suite, print one table, write bench/results.json.
// `npm run bench -- NAME...`: only the suites whose name contains one of the words; results.json keeps the other
// suites' last results (replacing only what this run measured), so one suite can be re-measured alone.
import { existsSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BenchContext, table, type Measurement, type Ratio, type Suite } from "./harness.ts";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

const ctx = new BenchContext();
const ran: string[] = [];
/** Suites this run measured in full: their old rows are dropped, even rows whose names are gone. */
const whole: string[] = [];
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .sort();
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { suite: Suite };
  if (only.length && !only.some((o) => mod.suite.name.includes(o))) continue;
  process.stderr.write(`bench: ${mod.suite.name}...\n`);
  const from = ctx.results.length;
  const fromR = ctx.ratios.length;
  await mod.suite.run(ctx);
  for (const m of ctx.results.slice(from)) m.suite = mod.suite.name;
  for (const r of ctx.ratios.slice(fromR)) r.suite = mod.suite.name;
  ran.push(mod.suite.name);
  if (!mod.suite.partial?.()) whole.push(mod.suite.name);
}
if (only.length && ran.length === 0) {
  process.stderr.write(`bench: no suite matches ${only.join(", ")}\n`);
  process.exit(2);
}
const machine = `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const text = table(ctx);
console.log(`machine: ${machine}\n\n${text}`);

const out = join(here, "results.json");
let results: Measurement[] = ctx.results;
let ratios: Ratio[] = ctx.ratios;
let header = { machine, date: new Date().toISOString() };
if (only.length && existsSync(out)) {
  // keep what the other suites measured last time; drop the old rows of the suites this run measured in full (by
  // suite, or by name for rows written before rows carried their suite), and of a suite measured in part (SPEED_ROWS)
  // only the rows it measured again. The file's machine and date stay those of the full run; the rows
  // measured now carry their own.
  const prev = JSON.parse(readFileSync(out, "utf8")) as { machine?: string; date?: string; results?: Measurement[]; ratios?: Ratio[] };
  for (const m of ctx.results) Object.assign(m, header);
  header = { machine: prev.machine ?? machine, date: prev.date ?? header.date };
  const names = new Set(ctx.results.map((m) => m.name));
  const rnames = new Set(ctx.ratios.map((r) => r.name));
  const keep = <T extends { suite?: string; name: string }>(xs: T[] | undefined, taken: Set<string>) =>
    (xs ?? []).filter((x) => !(x.suite && whole.includes(x.suite)) && !taken.has(x.name));
  results = [...keep(prev.results, names), ...ctx.results];
  ratios = [...keep(prev.ratios, rnames), ...ctx.ratios];
}
writeFileSync(out, JSON.stringify({ ...header, results, ratios }, null, 2) + "\n");
