// `kmodlab autograder EXERCISE --gradescope [-o autograder.zip] [--file NAME] [--package TGZ] [--lessons DIR]`
// `kmodlab autograder EXERCISE --github [-o .github/workflows/classroom.yml] [--file NAME] [--package SPEC] [--lessons DIR]`
//
// Gradescope (gradescope-autograders.readthedocs.io, "Autograder Specifications"): a zip with setup.sh and
// run_autograder at its root. Gradescope unpacks it into /autograder/source and runs setup.sh once as root when it
// builds the image: it installs Node (the version this zip was made with, from nodejs.org, unless a new enough one
// is there) and the packed kmodlab in the zip, with its runtime dependencies only. For each submission it runs
// run_autograder, which grades the student's file in /autograder/submission into /autograder/results/results.json
// (`kmodlab grade --format gradescope`). AUTOGRADER_ROOT replaces /autograder (the tests run the zip elsewhere).
//
// GitHub Classroom: a workflow in the form the Classroom's autograding reads: one
// classroom-resources/autograding-command-grader step per check (the step's max-score is the check's points, given
// when its command exits 0: `kmodlab grade EXERCISE FILE --check ID`), then
// classroom-resources/autograding-grading-reporter with every step's result (env STEPID_RESULTS, runners: the ids).
// kmodlab is installed once before the steps: by default from this kmodlab packed beside the workflow
// (kmodlab-<version>.tgz, committed with it: kmodlab is not on the npm registry), or --package: an npm spec, or the path
// of a tarball in the template repository.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { zipSync, type Zippable } from "fflate";
import { stringify } from "yaml";
import type { Exercise } from "../grader/types.ts";
import { packageRoot, packageVersion } from "../node/package-root.ts";

export interface AutograderOpts {
  gradescope?: boolean;
  github?: boolean;
  out?: string;
  /** The student's file name (default: <exercise>.ts). */
  file?: string;
  /** Gradescope: a kmodlab tarball to put in the zip; GitHub: what npm installs. */
  package?: string;
  /** A folder of Markdown lessons the exercise comes from (copied into the zip / named in the workflow). */
  lessons?: string;
}

class Usage extends Error {}

/** Quote for bash: one word, whatever it holds. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A tarball of this kmodlab: the given one, or `npm pack` of the package it runs from (built files only). */
function packedKmodlab(given: string | undefined, work: string): string {
  if (given) {
    if (!existsSync(given) || !given.endsWith(".tgz")) throw new Usage(`--package ${given}: not a .tgz file (make one with npm pack)`);
    return given;
  }
  const root = packageRoot();
  if (!existsSync(join(root, "lib", "cli.mjs")))
    throw new Usage(`${root} has no built lib/ to pack: run npm run build:node, or give --package kmodlab-x.y.z.tgz`);
  // --ignore-scripts: lib/ is built (this command runs from it); the notebook site is not needed to grade
  const r = spawnSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", work, root], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr || r.error?.message}`);
  const name = r.stdout.trim().split("\n").pop()!;
  return join(work, name);
}

/** Every file under dir, as zip entries under prefix. */
function addTree(z: Zippable, dir: string, prefix: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) addTree(z, p, `${prefix}${e.name}/`);
    else if (e.isFile()) z[`${prefix}${e.name}`] = readFileSync(p);
  }
}

/** Executable files in the zip: Unix mode 0755 in the external attributes (os 3 = Unix). */
const executable = (text: string) => [new TextEncoder().encode(text), { os: 3, attrs: (0o100755 << 16) >>> 0 }] as [Uint8Array, { os: number; attrs: number }];

export function setupScript(tgz: string, nodeVersion: string): string {
  return `#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (written by kmodlab autograder).
# Node ${nodeVersion} (the version the zip was made with) unless Node >= 20.19 is there, then kmodlab from the zip
# with its runtime dependencies only. AUTOGRADER_ROOT replaces /autograder.
set -euo pipefail
ROOT="\${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
NODE_VERSION=${shq(nodeVersion)}
node_ok() {
  command -v node >/dev/null 2>&1 && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}
if ! node_ok; then
  command -v curl >/dev/null 2>&1 && command -v xz >/dev/null 2>&1 || { apt-get update && apt-get install -y curl xz-utils; }
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "no Node build for $(uname -m)" >&2; exit 1 ;; esac
  curl -fsSL "https://nodejs.org/dist/$NODE_VERSION/node-$NODE_VERSION-linux-$arch.tar.xz" | tar -xJ -C /usr/local --strip-components=1
fi
node --version
npm install --prefix "$SRC" --omit=dev --no-audit --no-fund --no-save "$SRC/"${shq(tgz)}
"$SRC/node_modules/.bin/kmodlab" profiles >/dev/null
`;
}

export function runScript(exercise: string, file: string, withLessons: boolean): string {
  const lessons = withLessons ? ` --lessons "$SRC/lessons"` : "";
  return `#!/usr/bin/env bash
# Gradescope runs this for every submission (written by kmodlab autograder): grade the student's ${file} (or the one
# .ts file submitted) against exercise ${exercise} into results/results.json. AUTOGRADER_ROOT replaces /autograder.
set -uo pipefail
ROOT="\${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
SUB="$ROOT/submission"
OUT="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
fail() {
  node -e 'process.stdout.write(JSON.stringify({ score: 0, execution_time: 0, output: process.argv[1], visibility: "visible", stdout_visibility: "hidden", tests: [] }, null, 2) + "\\n")' "$1" >"$OUT"
  exit 0
}
FILE="$SUB/"${shq(file)}
if [ ! -f "$FILE" ]; then
  mapfile -t found < <(find "$SUB" -type f -name '*.ts' | sort)
  if [ "\${#found[@]}" -eq 1 ]; then FILE="\${found[0]}"; else
    fail "Submit one TypeScript file named "${shq(file)}" (found \${#found[@]} .ts files)."
  fi
fi
"$SRC/node_modules/.bin/kmodlab" grade ${shq(exercise)} "$FILE"${lessons} --format gradescope -o "$OUT"
status=$?
[ -s "$OUT" ] || fail "The autograder could not grade this submission (kmodlab exited $status); your instructor can see why in the autograder's output."
exit 0
`;
}

async function gradescope(ex: Exercise, o: AutograderOpts): Promise<string> {
  const out = o.out ?? "autograder.zip";
  const work = mkdtempSync(join(tmpdir(), "kmodlab-autograder-"));
  try {
    const tgz = packedKmodlab(o.package, work);
    const file = o.file ?? `${ex.id}.ts`;
    const z: Zippable = {
      "setup.sh": executable(setupScript(basename(tgz), process.version)),
      run_autograder: executable(runScript(ex.id, file, !!o.lessons)),
      [basename(tgz)]: readFileSync(tgz),
      "README.txt": new TextEncoder().encode(
        `kmodlab autograder for exercise ${ex.id} (${ex.title}). Students submit ${file}.\n` +
          `Upload this zip as a Gradescope programming assignment's autograder (Ubuntu base image).\n` +
          `Made with kmodlab ${packageVersion()} and Node ${process.version}.\n`,
      ),
    };
    if (o.lessons) addTree(z, o.lessons, "lessons/");
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(out, zipSync(z, { level: 6 }));
    return `wrote ${out}: setup.sh, run_autograder, ${basename(tgz)}${o.lessons ? ", lessons/" : ""} (exercise ${ex.id}, students submit ${file})`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The step id of a check: letters, digits and dashes (it names the reporter's environment variable too). */
function stepId(checkId: string): string {
  return `check-${checkId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")}`;
}

/** The GitHub Classroom workflow for an exercise, as an object (yaml.stringify writes it). */
export function classroomWorkflow(ex: Exercise, o: { file: string; package: string; lessons?: string }): Record<string, unknown> {
  const lessons = o.lessons ? ` --lessons ${shq(o.lessons)}` : "";
  const steps: Record<string, unknown>[] = [
    { name: "Checkout code", uses: "actions/checkout@v4" },
    { name: "Set up Node", uses: "actions/setup-node@v4", with: { "node-version": "20" } },
    { name: "Install kmodlab", run: `npm install --no-save --no-audit --no-fund ${shq(o.package)}` },
  ];
  const ids: string[] = [];
  for (const ch of ex.checks) {
    const id = stepId(ch.id);
    ids.push(id);
    steps.push({
      name: ch.message,
      id,
      uses: "classroom-resources/autograding-command-grader@v1",
      with: {
        "test-name": ch.message,
        command: `node node_modules/kmodlab/bin/kmodlab.cjs grade ${shq(ex.id)} ${shq(o.file)}${lessons} --check ${shq(ch.id)}`,
        timeout: 5,
        "max-score": ch.points ?? 1,
      },
    });
  }
  steps.push({
    name: "Autograding Reporter",
    uses: "classroom-resources/autograding-grading-reporter@v1",
    env: Object.fromEntries(ids.map((id) => [`${id.toUpperCase()}_RESULTS`, `\${{steps.${id}.outputs.result}}`])),
    with: { runners: ids.join(",") },
  });
  return {
    name: "Autograding Tests",
    on: ["push", "repository_dispatch"],
    permissions: { checks: "write", actions: "read", contents: "read" },
    jobs: {
      "run-autograding-tests": {
        "runs-on": "ubuntu-latest",
        if: "github.actor != 'github-classroom[bot]'",
        steps,
      },
    },
  };
}

function github(ex: Exercise, o: AutograderOpts): string {
  const out = o.out ?? join(".github", "workflows", "classroom.yml");
  const file = o.file ?? `${ex.id}.ts`;
  let pkg = o.package;
  if (pkg === undefined) {
    // this kmodlab, packed beside the workflow: the workflow installs it from the repository (a relative path)
    const work = mkdtempSync(join(tmpdir(), "kmodlab-classroom-"));
    try {
      const tgz = packedKmodlab(undefined, work);
      const dest = join(dirname(resolve(out)), basename(tgz));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, readFileSync(tgz));
      pkg = "./" + relative(process.cwd(), dest).split(sep).join("/");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  // a lessons folder is named relative to the repository root (the workflow runs there)
  const lessons = o.lessons ? relative(process.cwd(), resolve(o.lessons)).split(sep).join("/") : undefined;
  const head =
    `# GitHub Classroom autograding for kmodlab exercise ${ex.id} (${ex.title}), written by kmodlab autograder.\n` +
    `# One step per check: it earns its max-score when \`kmodlab grade ... --check ID\` exits 0. Students commit ${file}.\n`;
  mkdirSync(dirname(resolve(out)), { recursive: true });
  writeFileSync(out, head + stringify(classroomWorkflow(ex, { file, package: pkg, lessons }), { lineWidth: 0 }));
  return `wrote ${out}: ${ex.checks.length} graded steps (${ex.checks.reduce((s, c) => s + (c.points ?? 1), 0)} points), students commit ${file}, kmodlab from ${pkg}${o.package === undefined ? " (commit it with the workflow)" : ""}`;
}

export async function autograderCommand(
  exercise: string,
  o: AutograderOpts,
  find: (id: string) => Exercise | undefined,
  known: () => string[],
): Promise<number> {
  try {
    if (!!o.gradescope === !!o.github) throw new Usage("say which: --gradescope (a zip) or --github (a workflow)");
    const ex = find(exercise);
    if (!ex) throw new Usage(`unknown exercise '${exercise}' (one of: ${known().join(", ")})`);
    if (o.file !== undefined && (!o.file.endsWith(".ts") || o.file.includes("/") || o.file.includes("\\")))
      throw new Usage(`--file ${o.file}: a file name ending in .ts, without a directory`);
    if (o.lessons !== undefined && !(existsSync(o.lessons) && statSync(o.lessons).isDirectory())) throw new Usage(`--lessons ${o.lessons}: not a directory`);
    const msg = o.gradescope ? await gradescope(ex, o) : github(ex, o);
    process.stderr.write(`kmodlab: ${msg}\n`);
    return 0;
  } catch (e) {
    if (e instanceof Usage) {
      process.stderr.write(`kmodlab: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
