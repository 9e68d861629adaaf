// Exercises declared in a lesson's Markdown (```exercise blocks): what a block builds, the errors (each at the line
// of the Markdown file that is wrong), how the notebook shows a block, and the commands over a folder of lessons
// (`kmodlab lessons --dir`, `kmodlab grade --lessons`) through the built command.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ExerciseError, checkLibrary, lessonExercises } from "../../src/lessons/exercises.ts";
import { builtinExercises, readLessonFolder } from "../../src/lessons/registry.ts";
import { LESSONS_DIR } from "../../src/lessons/load.ts";
import { EXERCISES } from "../../src/grader/exercises/index.ts";
import { renderLesson } from "../../src/notebook/lesson.ts";
import { gradeWith } from "../../src/grader/grade.ts";
import { runModule } from "../../sandbox/run.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/md-lessons/", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/kmodlab.cjs", import.meta.url));
let tmp: string;
beforeAll(() => void (tmp = mkdtempSync(join(tmpdir(), "kmodlab-mdex-"))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const kmodlab = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr.replace(/^kmodlab: building the command .*\n/m, "") };
};

/** A lesson whose exercise block is `yaml` (line 6 of the file is the block's first line). */
const lesson = (yaml: string) => `---\nid: l\ntitle: L\n---\n\`\`\`exercise\n${yaml}\n\`\`\`\n`;
const GOOD = `id: ex1
title: T
settings: { profile: x86_64-6.1 }
statement: Do it.
starter: |
  export {};
solution: |
  export {};
checks:
  - loads
  - noReports`;
/** The line (1-based, in the lesson file) of the first line of GOOD that contains `text`. */
const lineOf = (src: string, text: string) => src.split("\n").findIndex((l) => l.includes(text)) + 1;

function errorOf(src: string): ExerciseError {
  try {
    lessonExercises(src, "lessons/x.md", "l");
  } catch (e) {
    if (e instanceof ExerciseError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("an ```exercise block", () => {
  it("builds the exercise with the library's checks, their parameters and points", () => {
    const [l1] = readLessonFolder(FIXTURE);
    const ex = l1.exercises[0];
    expect(ex).toMatchObject({ id: "greet", title: "Say hello and goodbye", lesson: "greetings", settings: { profile: "x86_64-6.1" } });
    expect(ex.checks.map((c) => [c.id, c.points ?? 1])).toEqual([["loads", 1], ["hi", 2], ["bye", 1], ["no-taint", 1], ["no-reports", 1]]);
    expect(ex.checks[1].message).toBe('"hi from greet" is printed at KERN_INFO on load (in init)');
    expect(ex.statement).toMatch(/^Print `hi from greet` at KERN_INFO/);
    expect(ex.solution).toMatch(/MODULE_LICENSE\("GPL"\)/);
  });
  it("reads settings: RAM sizes, events with simulated times, probes", () => {
    const src = lesson(GOOD.replace("settings: { profile: x86_64-6.1 }", "settings:\n  profile: arm-3.4-msm8x25\n  mem: 256M\n  cmdline: vmalloc=200M\n  events: [{ at: 30ms, irq: button }, { at: 1.5s, irq: 40 }]\n  probes: [{ id: p, alloc: { fn: [vmalloc] }, count: 4, width: 4 }]"));
    const [ex] = lessonExercises(src, "lessons/x.md", "l");
    expect(ex.settings).toEqual({
      profile: "arm-3.4-msm8x25",
      mem: 256 << 20,
      cmdline: "vmalloc=200M",
      events: [{ atMs: 30, irq: "button" }, { atMs: 1500, irq: 40 }],
      probes: [{ id: "p", at: "loaded", alloc: { fns: ["vmalloc"], family: undefined, size: undefined }, offset: undefined, stride: 4, count: 4, width: 4 }],
    });
  });
  it("an unknown check is an error at the line of that check, naming the library", () => {
    const src = lesson(GOOD.replace("  - noReports", "  - noReports\n  - frobnicate"));
    const e = errorOf(src);
    expect(e.line).toBe(lineOf(src, "frobnicate"));
    expect(e.message).toMatch(/^lessons\/x\.md:\d+: no check 'frobnicate' in the check library \(one of: loads, noTaint, freedWithMatching, noReports, printedLine, allocated/);
  });
  it("an unknown parameter, a bad level or a bad phase is an error at its line", () => {
    for (const [bad, want] of [
      ["  - printedLine: { id: a, text: x, level: KERN_INFO, phase: init, colour: red }", /unknown field 'colour'/],
      ["  - printedLine: { id: a, text: x, level: KERN_LOUD, phase: init }", /level 'KERN_LOUD' is not one of KERN_EMERG/],
      ["  - printedLine:\n      id: a\n      text: x\n      level: 6\n      phase: later", /'phase' is 'later', not one of init, exit, deferred/],
    ] as const) {
      const src = lesson(GOOD.replace("  - noReports", bad));
      const e = errorOf(src);
      expect(e.message).toMatch(want);
      const mark = /colour|KERN_LOUD|later/.exec(bad)![0];
      expect(e.line, bad).toBe(lineOf(src, mark));
    }
  });
  it("broken YAML, a missing field, a bad size and an unclosed block are errors at their lines", () => {
    const yamlErr = lesson(GOOD.replace("title: T", "title: [unclosed"));
    expect(errorOf(yamlErr).message).toMatch(/^lessons\/x\.md:\d+: YAML: /);
    expect(errorOf(yamlErr).line).toBeGreaterThanOrEqual(lineOf(yamlErr, "title: [unclosed"));
    // an unclosed [ { or quote is found at the next line: the error names the line that opened it
    for (const [from, to, said] of [
      ["title: T", "title: [unclosed", "'['"],
      ["settings: { profile: x86_64-6.1 }", "settings: { profile: x86_64-6.1", "'{'"],
      ["title: T", 'title: "unclosed', "double quote"],
    ] as const) {
      const src = lesson(GOOD.replace(from, to));
      expect(errorOf(src).line, to).toBe(lineOf(src, to));
      expect(errorOf(src).message, to).toContain(`YAML: this line's ${said} is never closed`);
    }
    // the front matter's YAML error at its line in the file (it was line 1, with the front matter's own line number)
    const fmDir = join(tmp, "front-matter");
    mkdirSync(fmDir);
    writeFileSync(join(fmDir, "01-x.md"), "---\nid: l\ntitle: [unclosed\norder: 1\n---\ntext\n");
    expect(() => readLessonFolder(fmDir)).toThrow(/01-x\.md:3: front matter: not valid YAML: this line's '\[' is never closed/);
    const noSolution = lesson(GOOD.replace("solution: |\n  export {};\n", ""));
    expect(errorOf(noSolution).message).toBe("lessons/x.md:6: the exercise needs 'solution'");
    const badMem = lesson(GOOD.replace("settings: { profile: x86_64-6.1 }", "settings:\n  profile: x86_64-6.1\n  mem: lots"));
    expect(errorOf(badMem).message).toBe(`lessons/x.md:${lineOf(badMem, "mem: lots")}: settings: mem 'lots' is not a size such as 512M or 1G`);
    const badSeed = lesson(GOOD.replace("settings: { profile: x86_64-6.1 }", "settings:\n  profile: x86_64-6.1\n  seed: 1.5"));
    expect(errorOf(badSeed).message).toBe(`lessons/x.md:${lineOf(badSeed, "seed: 1.5")}: settings: seed 1.5 is not an integer from 0 to 9007199254740991`);
    const unclosed = "---\nid: l\n---\ntext\n```exercise\nid: a\n";
    expect(errorOf(unclosed).message).toBe("lessons/x.md:5: this ```exercise block is never closed");
  });
  it("two checks with one id, and one exercise declared twice, are errors", () => {
    const src = lesson(GOOD.replace("  - noReports", "  - noReports\n  - noReports"));
    expect(errorOf(src).message).toMatch(/two checks have the id 'no-reports'/);
    const dir = join(tmp, "twice");
    mkdirSync(dir);
    writeFileSync(join(dir, "01-a.md"), lesson(GOOD));
    writeFileSync(join(dir, "02-b.md"), lesson(GOOD));
    expect(() => readLessonFolder(dir)).toThrow(/exercise 'ex1' is declared twice/);
  });
  it("what the page says is what the grader checks: a check's parameter the title, statement and messages never say is added to the check's message, and noted at its line", () => {
    // the exercise loads; the check's message the learner reads says it; the instructor is told where (pageNotes)
    const noted = (src: string) => {
      const [ex] = lessonExercises(src, "lessons/x.md", "l");
      return { ex: ex!, notes: ex!.pageNotes ?? [] };
    };
    const alloc = (statement: string, check: string) =>
      lesson(GOOD.replace("statement: Do it.", `statement: ${statement}`).replace("  - noReports", `  - noReports\n${check}`));
    const kmalloc = "  - allocated: { id: a, message: a buffer, hint: h, fn: [kmalloc, kzalloc], size: 200, gfp: GFP_ATOMIC, context: [atomic] }";
    for (const [statement, check, mark, want] of [
      [
        "Take memory and free it.",
        kmalloc,
        "fn: [kmalloc",
        /allocated: 'fn: \[kmalloc, kzalloc\]' is checked, but the title and the statement never say it: the check's message now says it; or write 'kmalloc' or 'kzalloc'/,
      ],
      ["Take memory with kmalloc and free it.", kmalloc, "size: 200", /'size: 200' is checked/],
      ["Take 200 bytes with kmalloc_node.", kmalloc, "fn: [kmalloc", /'fn: \[kmalloc, kzalloc\]' is checked/],
      ["Take 200 bytes with kmalloc and free it.", kmalloc, "gfp: GFP_ATOMIC", /'gfp: GFP_ATOMIC' is checked/],
      ["Take 200 bytes with kmalloc(200, GFP_ATOMIC) and free it.", kmalloc, "context: [atomic]", /'context: \[atomic\]' is checked/],
      ["Take 200 bytes with kmalloc.", "  - allocated: { id: a, message: m, hint: h, fn: [kmalloc], size: 200, kept: true }", "kept: true", /'kept: true' is checked/],
      ["Take two pages.", "  - allocated: { id: a, message: m, hint: h, fn: [__get_free_pages], order: 2 }", "fn: [__get", /'fn: \[__get_free_pages\]'/],
      ["Use __get_free_pages.", "  - allocated: { id: a, message: m, hint: h, fn: [__get_free_pages], order: 2 }", "order: 2", /'order: 2' is checked, .* write 'order 2' or 'order-2' or '4 pages'/],
      ["Print where vmalloc put 4096 bytes.", "  - printedValue: { id: p, what: it, of: [{ fn: [vmalloc], size: 8192 }] }", "size: 8192", /printedValue: 'size: 8192' is checked/],
      ["Fill it.", "  - valueInMemory: { id: v, probe: p, message: the buffer is filled, hint: h, expected: 7 }", "expected: 7", /valueInMemory: 'expected: 7' is checked/],
      ["Free it.", "  - freedWithMatching: { requires: [kfree] }", "requires: [kfree]", /freedWithMatching: 'requires: kfree' is checked/],
    ] as const) {
      const src = alloc(statement, check);
      const { ex, notes } = noted(src);
      const note = notes.find((n) => want.test(n));
      expect(note, `${statement} ${check}: ${notes.join(" | ")}`).toBeDefined();
      expect(note, `${statement} ${check}`).toMatch(new RegExp(`^lessons/x\\.md:${lineOf(src, mark)}: `));
      // the learner's page now says it: the check's message names what the grader checks
      const what = /'([^']+)' is checked/.exec(note!)![1]!;
      expect(ex.checks.at(-1)!.message, check).toMatch(new RegExp(`\\(the grader checks (.*, )?${what.replace(/[[\]()]/g, "\\$&")}(, .*)?\\)$`));
    }
    // two unsaid parameters of one check: one parenthesis naming both
    const two = noted(alloc("Take memory.", kmalloc));
    expect(two.ex.checks.at(-1)!.message).toBe("a buffer (the grader checks fn: [kmalloc, kzalloc], size: 200, gfp: GFP_ATOMIC, context: [atomic])");
    expect(two.notes).toHaveLength(4);
    // said in the statement, in the check's own message, in the title, or in another form of the number
    for (const [statement, check] of [
      ["Take 200 bytes with `kmalloc(200, GFP_ATOMIC)` under a spinlock.", kmalloc],
      ["Under a spinlock, take memory.", kmalloc.replace("message: a buffer", 'message: "200 bytes from kmalloc with GFP_ATOMIC"')],
      ["Take 100 KiB with vmalloc, keep it until unload.", "  - allocated: { id: a, message: m, hint: h, fn: [vmalloc], size: 102400, kept: true }"],
      ["Take 0x19000 bytes with vmalloc.", "  - allocated: { id: a, message: m, hint: h, fn: [vmalloc], size: 102400 }"],
      ["Take 4 pages (order 2) with __get_free_pages.", "  - allocated: { id: a, message: m, hint: h, fn: [__get_free_pages], order: 2 }"],
      ["Fill it with 0x2a.", "  - valueInMemory: { id: v, probe: p, message: m, hint: h, expected: 42 }"],
    ] as const) {
      const { ex, notes } = noted(alloc(statement, check));
      expect(notes, `${statement} ${check}`).toEqual([]);
      expect(ex.checks.at(-1)!.message).not.toMatch(/the grader checks/);
    }
    // the library's own messages say the rules that are the same in every exercise
    const [ex] = lessonExercises(alloc("Print where vmalloc put 8192 bytes. Be nice.", "  - printedValue: { id: p, what: it, of: [{ fn: [vmalloc], size: 8192 }] }\n  - noTaint"), "lessons/x.md", "l");
    expect(ex.checks.find((c) => c.id === "p")!.message).toMatch(/in hex \(%px or %lx\); a module printing more than 16 different addresses fails/);
    expect(ex.checks.find((c) => c.id === "no-taint")!.message).toMatch(/GPL-compatible MODULE_LICENSE/);
    // survivesFaultInjection's message names the error it checks (it said -ENOMEM while checking -5)
    const [eio] = lessonExercises(alloc("Fail cleanly.", "  - survivesFaultInjection: { error: 5 }"), "lessons/x.md", "l");
    expect(eio.checks.at(-1)!.message).toMatch(/^Handles allocation failure: with any one allocation failing, init returns -EIO,/);
    // valueInMemory: the buffer its probe reads, and how many values
    const probed = (statement: string) =>
      lesson(
        GOOD.replace("statement: Do it.", `statement: ${statement}`)
          .replace("settings: { profile: x86_64-6.1 }", "settings:\n  profile: x86_64-6.1\n  probes: [{ id: p, alloc: { fn: [vmalloc] }, count: 16 }]")
          .replace("  - noReports", "  - valueInMemory: { id: v, probe: p, message: m, hint: h, expected: 7 }"),
      );
    expect(noted(probed("Fill the buffer with 7.")).notes.join("\n")).toMatch(/valueInMemory: 'fn: \[vmalloc\]' is checked/);
    const count = noted(probed("Fill the vmalloc buffer with 7.")).notes;
    expect(count).toHaveLength(1);
    expect(count[0]).toMatch(new RegExp(`^lessons/x\\.md:${lineOf(probed(""), "probes:")}: valueInMemory: 'the probe's count: 16' is checked`));
    expect(noted(probed("Fill 16 ints of the vmalloc buffer with 7.")).notes).toEqual([]);
  });
  it("the check library lists every declarable check with its parameters", () => {
    expect(checkLibrary().map((c) => c.name)).toEqual(["loads", "noTaint", "freedWithMatching", "noReports", "printedLine", "allocated", "printedValue", "valueInMemory", "survivesFaultInjection"]);
  });
});

describe("the notebook shows a declared exercise", () => {
  it("as an exercise cell holding the starter, with the declaration for the grader", () => {
    const src = readFileSync(join(FIXTURE, "01-greetings.md"), "utf8");
    const l = renderLesson(src, "lessons/01-greetings.md", { sanitize: (s: string) => s });
    const cell = l.cells.find((c) => c.attrs.exercise === "greet")!;
    expect(cell.id).toBe("greet");
    expect(cell.source).toMatch(/^import \{ printk, KERN_INFO, module_init, module_exit \} from "linux";\n\nfunction greet_init/);
    expect(l.exercises).toEqual([{ id: "greet", yaml: expect.stringMatching(/^id: greet\n/), path: "lessons/01-greetings.md", line: src.split("\n").indexOf("id: greet") + 1 }]);
    expect(l.html).not.toMatch(/checks:/);
  });
});

describe("folders of lessons", () => {
  it("the bundled exercises are the TypeScript ones plus the bundled lessons' blocks (hello-module, three-allocators moved there), each id once", () => {
    const all = builtinExercises();
    expect(all).toBe(EXERCISES);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const declared = readLessonFolder(LESSONS_DIR).flatMap((l) => l.exercises.map((e) => [e.id, l.path]));
    expect(declared).toEqual(expect.arrayContaining([["hello-module", "lessons/01-first-module.md"], ["three-allocators", "lessons/02-address-space.md"]]));
    for (const [id] of declared) expect(all.filter((e) => e.id === id)).toHaveLength(1);
    // the notebook keeps the cell ids learners' saved code is stored under
    const first = renderLesson(readFileSync(join(LESSONS_DIR, "01-first-module.md"), "utf8"), "lessons/01-first-module.md", { sanitize: (x: string) => x });
    expect(first.cells.find((c) => c.attrs.exercise === "hello-module")?.id).toBe("ex-hello");
  });
  it("kmodlab lessons --dir: a valid folder exits 0; a starter that passes exits 1; a declaration error exits 2 at its line", () => {
    const ok = kmodlab("lessons", "--dir", FIXTURE);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/exercise greet: ok — solution passes, starter fails/);
    expect(ok.out).toMatch(/2 lessons, 2 exercises, every solution passes and every starter fails/);
    expect(ok.out).toContain(`(${join(FIXTURE, "01-greetings.md")})`); // the file itself, not the notebook's lessons/ name

    const lazy = join(tmp, "lazy");
    mkdirSync(lazy);
    const src = readFileSync(join(FIXTURE, "01-greetings.md"), "utf8");
    const block = src.split("starter: |\n")[1].split("solution: |\n");
    writeFileSync(join(lazy, "01-lazy.md"), src.split("starter: |\n")[0] + "starter: |\n" + block[1].split("checks:")[0] + "solution: |\n" + block[1]);
    const wrong = kmodlab("lessons", "--dir", lazy);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/exercise greet: WRONG — solution passes, starter PASSES/);

    // a check's requirement the page did not say: a warning at its line, and the folder still validates
    const unsaid = join(tmp, "unsaid");
    mkdirSync(unsaid);
    const said = src.replace("  - loads\n", "  - loads: { requires: [printk] }\n");
    writeFileSync(join(unsaid, "01-greetings.md"), said);
    const warned = kmodlab("lessons", "--dir", unsaid);
    expect(warned.code).toBe(0);
    expect(warned.err).toBe(
      `warning: ${join(unsaid, "01-greetings.md")}:${lineOf(said, "requires: [printk]")}: loads: 'requires: printk' is checked, but the title and the statement never say it: the check's message now says it; or write 'printk' in the statement\n`,
    );

    const broken = join(tmp, "broken");
    mkdirSync(broken);
    const bad = lesson(GOOD.replace("  - loads", "  - loads: { points: many }"));
    writeFileSync(join(broken, "01-x.md"), bad);
    const e = kmodlab("lessons", "--dir", broken);
    expect(e.code).toBe(2);
    expect(e.err).toBe(`${join(broken, "01-x.md")}:${lineOf(bad, "points: many")}: loads: 'points' must be a number\n`);
    // every declaration error of the folder, not only the first: another broken file, and a good one still read
    const bad2 = lesson(GOOD.replace("id: ex1", "id: ex2").replace("  - noReports", "  - noReport"));
    writeFileSync(join(broken, "02-y.md"), bad2);
    writeFileSync(join(broken, "03-z.md"), lesson(GOOD.replace("id: ex1", "id: ex3")));
    const both = kmodlab("lessons", "--dir", broken);
    expect(both.code).toBe(2);
    expect(both.err).toBe(
      `${join(broken, "01-x.md")}:${lineOf(bad, "points: many")}: loads: 'points' must be a number\n` +
        `${join(broken, "02-y.md")}:${lineOf(bad2, "noReport")}: no check 'noReport' in the check library (one of: ${checkLibrary()
          .map((c) => c.name)
          .join(", ")})\n` +
        "kmodlab: 2 declaration errors\n",
    );
    const errors: ExerciseError[] = [];
    expect(readLessonFolder(broken, errors).map((l) => l.exercises.map((x) => x.id))).toEqual([[], [], ["ex3"]]);
    expect(errors.map((x) => x.line)).toEqual([lineOf(bad, "points: many"), lineOf(bad2, "noReport")]);
    expect(() => readLessonFolder(broken)).toThrow(/points' must be a number/); // without the list: the first error
  }, 300_000);
  it("kmodlab grade --lessons DIR grades against the folder's exercise", async () => {
    const [, l2] = readLessonFolder(FIXTURE);
    const ex = l2.exercises[0];
    const good = join(tmp, "good.ts");
    const starter = join(tmp, "starter.ts");
    writeFileSync(good, ex.solution);
    writeFileSync(starter, ex.starter);
    const a = kmodlab("grade", "--lessons", FIXTURE, "slab-buffer", good);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/slab-buffer .*PASSED/);
    const b = kmodlab("grade", "--lessons", FIXTURE, "slab-buffer", starter);
    expect(b.code).toBe(1);
    expect(b.out).toMatch(/✗ Everything the module allocated is freed/);
    expect(kmodlab("grade", "slab-buffer", good).code).toBe(2); // not a built-in exercise
    // the same judgement in-process: the declared checks, extra runs included (printed value, fault injection)
    const g = await gradeWith(ex, ex.solution, (s, o) => runModule(s, o));
    expect(g.checks.filter((c) => !c.pass)).toEqual([]);
  }, 300_000);
});
