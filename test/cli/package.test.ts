// The installable package, as an instructor on a fresh machine gets it: `npm pack` of the built package, installed
// into an empty project (runtime dependencies only, from the npm cache or the registry), then the `kmodlab` command,
// the typed library API, Gradescope's autograder zip (unpacked into a temporary root, setup.sh and run_autograder
// run there on a correct, a wrong and an empty submission) and the GitHub Classroom workflow (valid YAML, the
// expected steps, and its grading commands run here as the command grader runs them) — all from the installed
// package, never from the repository. One pack and one install for the whole file: it is slow-ish by nature.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { unzipSync } from "fflate";
import { parse } from "yaml";
import { gradescopeProblems } from "../../src/grader/format.ts";
import { getExercise } from "../../src/grader/exercises/index.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const ex = getExercise("hello-module")!;
const points = ex.checks.reduce((s, c) => s + (c.points ?? 1), 0);
let tmp: string;
let app: string;
let tgz: string;
const env = { ...process.env, npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };

function sh(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}) {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...env, ...extra }, timeout: 240_000 });
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "kmodlab-pkg-"));
  // the build npm install/prepare makes, and the declarations prepack makes (the notebook site is not needed here)
  execFileSync(process.execPath, [join(repo, "bin", "kmodlab.cjs"), "profiles"], { cwd: repo, stdio: "ignore" });
  execFileSync(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.lib.json"], { cwd: repo, stdio: "inherit" });
  const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", tmp], { cwd: repo, encoding: "utf8", env });
  tgz = join(tmp, packed.trim().split("\n").pop()!);
  app = join(tmp, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "course-site", private: true, type: "module" }));
  const r = sh("npm", ["install", "--no-save", tgz], app);
  if (r.status !== 0) throw new Error(`npm install of the tarball failed: ${r.stderr}`);
}, 600_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("npm pack", () => {
  it("the tarball holds the command, the built JavaScript, the declarations, the lessons, and no TypeScript sources", () => {
    const files = execFileSync("tar", ["tzf", tgz], { encoding: "utf8" }).trim().split("\n");
    expect(files).toContain("package/bin/kmodlab.cjs");
    expect(files).toContain("package/bin/kmodlab.mjs"); // the former entry, for callers that name it
    expect(files).toContain("package/lib/spawn-worker.cjs");
    expect(files).toContain("package/lib/cli.mjs");
    expect(files).toContain("package/lib/index.mjs");
    expect(files).toContain("package/types/src/index.d.ts");
    expect(files.some((f) => /^package\/lessons\/\d+-.*\.md$/.test(f))).toBe(true);
    expect(files.filter((f) => /^package\/(src|sandbox|test|bench)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    expect(pkg.private).toBe(false);
    expect(pkg.files).toContain("dist/"); // the notebook site `npm run build` makes in prepack
    expect(pkg.scripts.prepack).toMatch(/npm run build\b/);
  });
  it("the declarations outlive the build `npm pack` runs after them: outside lib/, which that build empties", () => {
    // npm pack runs prepack (build:types last) and then prepare (build:node, whose Vite build empties lib/): declarations
    // in lib/ were gone from every tarball `npm pack` made, while package.json still named them
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    expect(pkg.scripts.prepack).toMatch(/build:types/);
    expect(pkg.scripts.prepare).toMatch(/build:node/);
    expect(readFileSync(join(repo, "vite.node.config.ts"), "utf8")).toMatch(/emptyOutDir: true/);
    const outDir = /"outDir":\s*"([^"]+)"/.exec(readFileSync(join(repo, "tsconfig.lib.json"), "utf8"))![1];
    for (const p of [outDir, pkg.types, pkg.exports["."].types]) expect(p.replace(/^\.\//, ""), p).not.toMatch(/^lib(\/|$)/);
    expect(pkg.types.replace(/^\.\//, "")).toBe(`${outDir}/src/index.d.ts`);
    expect(pkg.files).toContain(`${outDir}/`);
  });
  it("installs with the runtime dependencies only (no vite, tsx, vitest, sucrase, monaco)", () => {
    const installed = readdirSync(join(app, "node_modules"));
    expect(installed).toEqual(expect.arrayContaining(["kmodlab", "typescript", "quickjs-emscripten-core", "@jitl"]));
    for (const dev of ["vite", "tsx", "vitest", "sucrase", "monaco-editor", "commander", "jsdom"]) expect(installed, dev).not.toContain(dev);
  });
});

describe("the installed kmodlab command", () => {
  it("runs examples/memdemo.ts and lists the lessons", () => {
    const bin = join(app, "node_modules", ".bin", "kmodlab");
    const run = sh(bin, ["run", join(app, "node_modules", "kmodlab", "examples", "memdemo.ts"), "--profile", "i386-2.6"], app);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/vmallocmem addr=[0-9a-f]{8}\n/); // a 32-bit address on the i386 PC
    const lessons = sh(bin, ["lessons"], app);
    expect(lessons.status).toBe(0);
    expect(lessons.stdout).toMatch(/^01 {2}first-module/m);
    const check = sh(bin, ["check", join(app, "node_modules", "kmodlab", "examples", "memdemo.ts")], app);
    expect(check.status).toBe(0);
  }, 300_000); // npm installs and whole processes: slow on a loaded machine, and no time is asserted

  it("`kmodlab run` takes its fast path (lib/cli-run.cjs) where lib/ is not writable: the code caches and machines go to $XDG_CACHE_HOME/kmodlab, and every run prints what the full command prints", () => {
    const pkgDir = join(app, "node_modules", "kmodlab");
    const files = execFileSync("tar", ["tzf", tgz], { encoding: "utf8" }).trim().split("\n");
    expect(files).toEqual(expect.arrayContaining(["package/lib/cli-run.cjs", "package/lib/code-cache.cjs"]));
    expect(files.filter((f) => /\.cache$|\/machines\//.test(f))).toEqual([]);
    // lib/ not writable: as root (who writes anywhere) the runs are another user's; otherwise lib/ is made read-only
    const root = process.getuid?.() === 0;
    const xdg = join(tmp, "xdg");
    mkdirSync(xdg);
    chmodSync(xdg, 0o777);
    chmodSync(tmp, 0o755); // mkdtemp's folder is its owner's alone
    // what the runs above (this user's, lib/ writable to it) left in lib/: these runs must neither read nor need it
    for (const f of readdirSync(join(pkgDir, "lib"))) if (f.endsWith(".cache") || f === "machines") rmSync(join(pkgDir, "lib", f), { recursive: true });
    if (!root) chmodSync(join(pkgDir, "lib"), 0o555);
    try {
      const memdemo = join(pkgDir, "examples", "memdemo.ts");
      const run = (extra: Record<string, string> = {}) =>
        spawnSync(process.execPath, [join(pkgDir, "bin", "kmodlab.cjs"), "run", memdemo, "--proc", "meminfo"], {
          cwd: app,
          encoding: "utf8",
          timeout: 240_000,
          env: { ...env, HOME: xdg, XDG_CACHE_HOME: xdg, ...extra },
          ...(root ? { uid: 65534, gid: 65534 } : {}),
        });
      const full = run({ KMODLAB_FAST_RUN: "0" });
      expect(full.stderr).toBe("");
      expect(full.status).toBe(0);
      for (let i = 0; i < 4; i++) {
        const fast = run();
        expect([fast.status, fast.stderr, fast.stdout], `run ${i}`).toEqual([0, "", full.stdout]);
      }
      const cached = readdirSync(join(xdg, "kmodlab"));
      expect(
        cached.some((f) => /^cli-run\.cjs-[0-9a-f]{8}\.v8-.*\.cache$/.test(f)),
        cached.join(" "),
      ).toBe(true);
      expect(
        cached.some((f) => /^isolate-worker-code\.cjs-[0-9a-f]{8}\.v8-.*\.cache$/.test(f)),
        cached.join(" "),
      ).toBe(true);
      expect(readdirSync(join(xdg, "kmodlab", "machines")).some((f) => f.endsWith(".bin"))).toBe(true);
      expect(readdirSync(join(pkgDir, "lib")).filter((f) => f.endsWith(".cache") || f === "machines")).toEqual([]);
    } finally {
      if (!root) chmodSync(join(pkgDir, "lib"), 0o755);
    }
  }, 300_000); // npm installs and whole processes: slow on a loaded machine, and no time is asserted
});

describe("the installed library API", () => {
  it('runModule, boot, readProc, grade and loadLessons work from `import ... from "kmodlab"`, and type-check', () => {
    const script = `import { runModule, boot, readProc, grade, loadLessons, getExercise, type RunResult, type GradeResult } from "kmodlab";
const k = boot("x86_64-6.1", { mem: 1 << 30 });
const meminfo: string = readProc(k, "meminfo");
const r: RunResult = await runModule(getExercise("hello-module")!.solution, { profile: "x86_64-6.1" });
const g: GradeResult = await grade("hello-module", getExercise("hello-module")!.starter);
const lessons = loadLessons();
console.log(JSON.stringify({ memTotal: /^MemTotal: +\\d+ kB$/m.test(meminfo), init: r.initReturn, dmesg: r.dmesg.some((l) => l.includes("hello")), passed: g.passed, score: g.score, lessons: lessons.length }));
`;
    writeFileSync(join(app, "use.ts"), script);
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ["use.ts"],
      }),
    );
    const tsc = sh(process.execPath, [join(app, "node_modules", "typescript", "bin", "tsc"), "-p", "."], app);
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
    // run it as JavaScript (the same code without the type annotations)
    const js = script
      .replace(/, type RunResult, type GradeResult/, "")
      .replace(/: (string|RunResult|GradeResult) =/g, " =")
      .replace(/!\./g, ".");
    writeFileSync(join(app, "use.mjs"), js);
    const run = sh(process.execPath, ["use.mjs"], app);
    expect(run.stderr).toBe("");
    const o = JSON.parse(run.stdout);
    expect(o).toEqual({ memTotal: true, init: 0, dmesg: true, passed: false, score: expect.any(Number), lessons: expect.any(Number) });
    expect(o.score).toBeLessThan(points);
    expect(o.lessons).toBeGreaterThanOrEqual(11);
  }, 300_000); // npm installs and whole processes: slow on a loaded machine, and no time is asserted
});

describe("Gradescope autograder zip", () => {
  it("setup.sh installs the packed kmodlab; run_autograder grades a correct, a wrong and a missing submission into results.json", () => {
    const bin = join(app, "node_modules", ".bin", "kmodlab");
    const made = sh(bin, ["autograder", "hello-module", "--gradescope", "-o", "autograder.zip"], app);
    expect(made.status, made.stderr).toBe(0);
    const entries = unzipSync(readFileSync(join(app, "autograder.zip")));
    expect(Object.keys(entries)).toEqual(expect.arrayContaining(["setup.sh", "run_autograder"]));
    expect(Object.keys(entries).some((n) => /^kmodlab-.*\.tgz$/.test(n))).toBe(true);
    // Gradescope's layout, under a temporary root: /autograder/source holds the zip's contents
    const root = join(tmp, "autograder");
    mkdirSync(join(root, "source"), { recursive: true });
    for (const [name, data] of Object.entries(entries)) writeFileSync(join(root, "source", name), data);
    const setup = sh("bash", [join(root, "source", "setup.sh")], root, { AUTOGRADER_ROOT: root });
    expect(setup.status, setup.stderr).toBe(0);
    cpSync(join(root, "source", "run_autograder"), join(root, "run_autograder"));
    const grade = (files: Record<string, string>) => {
      rmSync(join(root, "submission"), { recursive: true, force: true });
      rmSync(join(root, "results"), { recursive: true, force: true });
      mkdirSync(join(root, "submission"));
      for (const [n, t] of Object.entries(files)) writeFileSync(join(root, "submission", n), t);
      const r = sh("bash", [join(root, "run_autograder")], root, { AUTOGRADER_ROOT: root });
      expect(r.status, r.stderr).toBe(0);
      const res = JSON.parse(readFileSync(join(root, "results", "results.json"), "utf8"));
      expect(gradescopeProblems(res)).toEqual([]);
      return res;
    };
    const good = grade({ "hello-module.ts": ex.solution });
    expect(good.score).toBe(points);
    expect(good.tests).toHaveLength(ex.checks.length);
    const wrong = grade({ "my_answer.ts": ex.starter }); // another name: the one .ts file submitted is graded
    expect(wrong.score).toBeLessThan(points);
    expect(wrong.tests.some((t: { status: string }) => t.status === "failed")).toBe(true);
    const none = grade({ "notes.txt": "forgot the file" });
    expect(none.score).toBe(0);
    expect(none.output).toMatch(/hello-module\.ts/);
  }, 300_000); // npm installs and whole processes: slow on a loaded machine, and no time is asserted
});

describe("GitHub Classroom workflow", () => {
  it("is valid YAML with the install, one command-grader step per check and the reporter; its commands grade here", () => {
    const bin = join(app, "node_modules", ".bin", "kmodlab");
    const repoDir = join(tmp, "student-repo");
    mkdirSync(repoDir);
    // by default the workflow installs this kmodlab from a tarball written beside it, in the repository (kmodlab is
    // not on the npm registry: kmodlab@<version> failed every Classroom run at its install step)
    const made = sh(bin, ["autograder", "hello-module", "--github"], repoDir);
    expect(made.status, made.stderr).toBe(0);
    expect(readdirSync(join(repoDir, ".github", "workflows")).filter((f) => f.endsWith(".tgz"))).toEqual([basename(tgz)]);
    const given = sh(bin, ["autograder", "hello-module", "--github", "--package", "kmodlab@9.9.9", "-o", join(tmp, "other.yml")], repoDir);
    expect(given.status, given.stderr).toBe(0);
    expect(readFileSync(join(tmp, "other.yml"), "utf8")).toMatch(/npm install .*'kmodlab@9\.9\.9'/);
    const wf = parse(readFileSync(join(repoDir, ".github", "workflows", "classroom.yml"), "utf8"));
    const steps = wf.jobs["run-autograding-tests"].steps as {
      name: string;
      id?: string;
      uses?: string;
      run?: string;
      with?: Record<string, unknown>;
      env?: Record<string, string>;
    }[];
    expect(steps[0].uses).toBe("actions/checkout@v4");
    expect(steps[1].uses).toBe("actions/setup-node@v4");
    const install = steps[2].run!;
    expect(install).toBe(`npm install --no-save --no-audit --no-fund './.github/workflows/${basename(tgz)}'`);
    const graders = steps.filter((s) => s.uses === "classroom-resources/autograding-command-grader@v1");
    expect(graders.map((s) => s.with!["max-score"])).toEqual(ex.checks.map((c) => c.points ?? 1));
    const reporter = steps.at(-1)!;
    expect(reporter.uses).toBe("classroom-resources/autograding-grading-reporter@v1");
    expect(reporter.with!.runners).toBe(graders.map((s) => s.id).join(","));
    for (const s of graders) expect(reporter.env![`${s.id!.toUpperCase()}_RESULTS`]).toBe(`\${{steps.${s.id}.outputs.result}}`);
    // run the workflow's commands as the runner does: the install step, then each grader's command in a shell with
    // only PATH and HOME (autograding-command-grader's environment); a step earns its max-score on exit 0
    expect(sh("bash", ["-c", install], repoDir).status).toBe(0);
    const score = (src: string) => {
      writeFileSync(join(repoDir, "hello-module.ts"), src);
      let got = 0;
      for (const s of graders) {
        const r = spawnSync("bash", ["-c", String(s.with!.command)], {
          cwd: repoDir,
          encoding: "utf8",
          env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? tmp },
        });
        expect([0, 1]).toContain(r.status);
        if (r.status === 0) got += Number(s.with!["max-score"]);
      }
      return got;
    };
    expect(score(ex.solution)).toBe(points);
    expect(score(ex.starter)).toBeLessThan(points);
  }, 300_000); // npm installs and whole processes: slow on a loaded machine, and no time is asserted
});
