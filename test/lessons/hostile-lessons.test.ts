// Lesson folders written to hold the host (kmodlab lessons --dir, kmodlab build --lessons, the notebook's loader): the
// YAML parser's time grows with the square of a mapping's keys, so front matter or an ```exercise block of many keys
// held the command for seconds (10,000 keys) to minutes (1,000,000 keys, a 48 MB lesson); a FIFO named NN-x.md was
// read forever. Each is now refused at once with the limit's name, at the file and line.

import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLessonFolder } from "../../src/lessons/registry.ts";
import { lessonIdOf } from "../../src/lessons/exercises.ts";
import { renderLesson } from "../../src/notebook/lesson.ts";
import { MAX_MARKDOWN_NESTING, MAX_MARKDOWN_WORD, MAX_YAML_CHARS } from "../../src/lessons/blocks.ts";

const tmp = mkdtempSync(join(tmpdir(), "kmodlab-hostile-lessons-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEAD = "---\nid: x\ntitle: X\norder: 1\nprofile: x86_64-6.1\nsummary: s\n";
const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: v\n`).join("");

function folder(name: string, file: string, text?: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  if (text !== undefined) writeFileSync(join(dir, file), text);
  return dir;
}

describe("hostile lesson folders are refused by the lesson limits, at once", () => {
  it("front matter of 30,000 keys (a parse of ~30 s): the YAML size limit, at line 1", () => {
    const dir = folder("fm", "01-x.md", HEAD + keys(30_000) + "---\n# X\n");
    expect(() => readLessonFolder(dir)).toThrow(/01-x\.md:1: front matter: the front matter is \d+ K characters of YAML, more than the 32 K a block may hold \(the lesson YAML size limit/);
  });

  it("an exercise block of 30,000 keys: the YAML size limit, at the block's first line", () => {
    const dir = folder("ex", "01-x.md", HEAD + "---\n# X\n```exercise\nid: e\n" + keys(30_000) + "```\n");
    expect(() => readLessonFolder(dir)).toThrow(/01-x\.md:10: this exercise block is \d+ K characters of YAML, more than the 32 K a block may hold/);
  });

  it("the notebook's loader shows such a block as code and takes the id from the file name", () => {
    const src = HEAD + keys(30_000) + "---\n# X\n```exercise\nid: e\nstarter: |\n  x\n" + keys(30_000) + "```\n";
    expect(() => renderLesson(src, "lessons/01-x.md", { sanitize: (s) => s })).toThrow(/the lesson YAML size limit/);
    expect(lessonIdOf(src, "lessons/01-x.md")).toBe("01-x");
  });

  it("a lesson file of 48 MiB is refused from its size, unread", () => {
    const dir = folder("huge", "01-x.md", HEAD + "---\n");
    truncateSync(join(dir, "01-x.md"), 48 << 20);
    expect(() => readLessonFolder(dir)).toThrow("the lesson file is 49152 KiB, more than the 1024 KiB a lesson may hold (the lesson size limit)");
  });

  it("a FIFO named like a lesson is not read (it was waited on forever)", () => {
    const dir = folder("fifo", "01-x.md");
    execFileSync("mkfifo", [join(dir, "01-x.md")]);
    expect(() => readLessonFolder(dir)).toThrow("not a regular file (a lesson is a Markdown file)");
  });

  it("a name that is not UTF-8, a dangling link, a link loop: the file and why (each was 'kmodlab: internal error')", () => {
    const bad = folder("bad-name", "01-x.md", HEAD + "---\n# X\n");
    writeFileSync(Buffer.concat([Buffer.from(join(bad, "02-y")), Buffer.from([0xff]), Buffer.from(".md")]), HEAD + "---\n# Y\n");
    expect(() => readLessonFolder(bad)).toThrow(/02-y\ufffd\.md:0: the file's name is not UTF-8/);
    const gone = folder("gone", "01-x.md");
    symlinkSync("nowhere.md", join(gone, "01-x.md"));
    expect(() => readLessonFolder(gone)).toThrow(/01-x\.md:0: cannot read the lesson: ENOENT/);
    const loop = folder("loop", "01-x.md");
    symlinkSync("01-x.md", join(loop, "01-x.md"));
    expect(() => readLessonFolder(loop)).toThrow(/01-x\.md:0: cannot read the lesson: ELOOP/);
  });

  it("Markdown the renderer takes quadratic or cubic time over (a notebook page hung on it): the word and nesting limits, at the line", () => {
    const word = "<" + "a".repeat(MAX_MARKDOWN_WORD) + "@b>"; // 800,000 of them never finished rendering
    const list = Array.from({ length: MAX_MARKDOWN_NESTING / 2 + 2 }, (_, i) => "  ".repeat(i) + "- x\n").join("");
    const code = "```ts\n" + "x".repeat(5000) + "\n" + " ".repeat(200) + "y\n```\n"; // code blocks are not rendered as text
    const sanitize = { sanitize: (s: string) => s };
    for (const [name, body, line, limit] of [
      ["word", word + "\n", 13, "the lesson word limit"], // after the 6 lines of HEAD, "---", "# X" and the code block's 4
      ["nest", list, 13 + MAX_MARKDOWN_NESTING / 2 + 1, "the lesson nesting limit"],
      ["quote", ">".repeat(5000) + " x\n", 13, "the lesson nesting limit"],
    ] as const) {
      const dir = folder(`md-${name}`, "01-x.md", HEAD + "---\n# X\n" + code.replace("```ts", "~~~ts").replace("```", "~~~") + body);
      expect(() => readLessonFolder(dir)).toThrow(new RegExp(`01-x\\.md:${line}: .*\\(${limit}`));
      expect(() => renderLesson(HEAD + "---\n# X\n" + body, "lessons/01-x.md", sanitize)).toThrow(limit);
    }
    expect(renderLesson(HEAD + "---\n# X\n" + code, "lessons/01-x.md", sanitize).html).toContain("x".repeat(5000));
  });

  it("blocks up to the limit still parse (the bundled ones are under 4 KB)", () => {
    const fm = keys(2000);
    expect(fm.length).toBeLessThan(MAX_YAML_CHARS);
    const dir = folder("ok", "01-x.md", HEAD + fm + "---\n# X\n");
    expect(readLessonFolder(dir).map((l) => l.id)).toEqual(["x"]);
  });
});
