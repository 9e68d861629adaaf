// `npm run bench`: run every suite, print one table, write bench/results.json.
import { writeFileSync, readdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BenchContext, table, type Suite } from "./harness.ts";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

const ctx = new BenchContext();
const files = readdirSync(here).filter((f) => f.endsWith(".bench.ts")).sort();
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { suite: Suite };
  if (only.length && !only.some((o) => mod.suite.name.includes(o))) continue;
  process.stderr.write(`bench: ${mod.suite.name}...\n`);
  await mod.suite.run(ctx);
}
const machine = `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const text = table(ctx);
console.log(`machine: ${machine}\n\n${text}`);
writeFileSync(
  join(here, "results.json"),
  JSON.stringify({ machine, date: new Date().toISOString(), results: ctx.results, ratios: ctx.ratios }, null, 2) + "\n",
);
