// `kmodlab build [--lessons DIR] --out SITE`: the static notebook site with an instructor's lessons. The notebook
// itself is built once (`npm run build`, dist/, shipped in the package); this copies it to SITE and writes the
// folder's lessons into SITE/index.html as JSON (<script type="application/json" id="kmodlab-lessons">), which the
// page reads instead of the lessons it was built with (src/notebook/lessons-index.ts). ```exercise blocks show as
// their statement and an exercise cell; the page's worker grades them with the same check library. The folder is
// validated first (declarations only: `kmodlab lessons --dir` also runs every solution and starter).
// Exit 0 written, 2 bad usage (no built notebook, a declaration error: path:line).

import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { packageRoot } from "../node/package-root.ts";
import { LESSONS_DIR } from "../lessons/load.ts";
import { readLessonFolder } from "../lessons/registry.ts";
import { ExerciseError } from "../lessons/exercises.ts";

/** JSON that is safe inside a <script> element: no "</script>", no "<!--". */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The built notebook: dist/ of the package; in a checkout without one, built now with Vite. */
function builtSite(): string {
  const root = packageRoot();
  const dist = join(root, "dist");
  if (existsSync(join(dist, "index.html"))) return dist;
  const vite = join(root, "node_modules", "vite", "bin", "vite.js");
  if (!existsSync(vite)) throw new Error(`no built notebook at ${dist} (the package ships one; in a checkout run npm run build)`);
  process.stderr.write("kmodlab: building the notebook (npm run build) once...\n");
  const r = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0 || !existsSync(join(dist, "index.html"))) throw new Error("the notebook build failed (npm run build shows why)");
  return dist;
}

export async function buildCommand(o: { lessons?: string; out: string }): Promise<number> {
  const dir = o.lessons ?? LESSONS_DIR;
  let lessons;
  try {
    lessons = readLessonFolder(dir);
  } catch (e) {
    if (e instanceof ExerciseError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (!lessons.length) {
    process.stderr.write(`kmodlab: no lessons (.md files) in ${dir}\n`);
    return 2;
  }
  let site: string;
  try {
    site = builtSite();
  } catch (e) {
    process.stderr.write(`kmodlab: ${(e as Error).message}\n`);
    return 2;
  }
  const out = resolve(o.out);
  if (resolve(site) === out) {
    process.stderr.write(`kmodlab: --out ${o.out} is the built notebook itself; write the site somewhere else\n`);
    return 2;
  }
  mkdirSync(out, { recursive: true });
  cpSync(site, out, { recursive: true, force: true });
  const index = join(out, "index.html");
  let html = readFileSync(index, "utf8").replace(/<script type="application\/json" id="kmodlab-lessons">[\s\S]*?<\/script>\n?/, "");
  const data = `<script type="application/json" id="kmodlab-lessons">${scriptJson(lessons.map((l) => ({ path: l.path, source: l.source })))}</script>\n`;
  if (!/<\/head>/i.test(html)) {
    process.stderr.write(`kmodlab: ${index} has no </head> to put the lessons before\n`);
    return 2;
  }
  html = html.replace(/<\/head>/i, `${data}</head>`);
  writeFileSync(index, html);
  const n = lessons.reduce((s, l) => s + l.exercises.length, 0);
  process.stderr.write(
    `kmodlab: wrote ${o.out}: the notebook with ${lessons.length} lesson${lessons.length === 1 ? "" : "s"} from ${dir} (${n} exercise${n === 1 ? "" : "s"} declared in Markdown)\n`,
  );
  return 0;
}
