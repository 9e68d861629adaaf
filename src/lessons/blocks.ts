// The ```exercise blocks of a lesson's Markdown, found without parsing them (no dependencies: the notebook page uses
// this to show an exercise, src/lessons/exercises.ts to build it). Other fenced blocks are skipped whole, so an
// example of the syntax inside one is not taken for an exercise.

/** A ```exercise block found in a lesson: its YAML and where it starts. */
export interface ExerciseBlock {
  path: string;
  /** 1-based line of the first YAML line (the line after the opening fence). */
  line: number;
  yaml: string;
  /** 0-based lines of the opening and the closing fence in the text. */
  open: number;
  close: number;
}

const FENCE_OPEN = /^(\s{0,3})(`{3,}|~{3,})\s*exercise\s*$/;

/** Every ```exercise block of a Markdown text. An unclosed block throws, naming its opening line. */
export function exerciseBlocks(markdown: string, path: string): ExerciseBlock[] {
  const lines = markdown.split(/\r?\n/);
  const out: ExerciseBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE_OPEN.exec(lines[i]);
    if (!m) {
      const other = /^\s{0,3}(`{3,}|~{3,})/.exec(lines[i]);
      if (other) {
        const close = new RegExp(`^\\s{0,3}${other[1][0]}{${other[1].length},}\\s*$`);
        let j = i + 1;
        while (j < lines.length && !close.test(lines[j])) j++;
        i = j;
      }
      continue;
    }
    const close = new RegExp(`^\\s{0,3}${m[2][0]}{${m[2].length},}\\s*$`);
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j])) j++;
    if (j >= lines.length) throw Object.assign(new Error(`${path}:${i + 1}: this \`\`\`exercise block is never closed`), { path, line: i + 1 });
    out.push({ path, line: i + 2, yaml: lines.slice(i + 1, j).join("\n"), open: i, close: j });
    i = j;
  }
  return out;
}

/**
 * The YAML a lesson may hold in one block (its front matter, an ```exercise block), in characters. The YAML parser's
 * time grows with the square of a mapping's keys (it checks each new key against the others): front matter of 10,000
 * keys (89 KB) took 2-3 s to parse and one of 1,000,000 keys (48 MB) held `kmodlab lessons --dir` for minutes. The
 * largest bundled block is under 4 KB, front matter under 400 bytes.
 */
export const MAX_YAML_CHARS = 32 * 1024;

/** Why a block of YAML is not parsed (over MAX_YAML_CHARS), or undefined when it may be. */
export function yamlTooBig(yaml: string, what: string): string | undefined {
  if (yaml.length <= MAX_YAML_CHARS) return undefined;
  return `${what} is ${Math.ceil(yaml.length / 1024)} K characters of YAML, more than the ${MAX_YAML_CHARS / 1024} K a block may hold (the lesson YAML size limit: parsing time grows with the square of a mapping's keys)`;
}

/** A lesson file's size limit in bytes (the largest bundled lesson is 14 KB): larger files are not read. */
export const MAX_LESSON_BYTES = 1 << 20;

/**
 * The longest run of characters without a blank a lesson's Markdown may hold outside its code blocks (the lesson word
 * limit). The Markdown renderer (marked) looks ahead along such a run at each of its characters, time quadratic in its
 * length: `<a…@b…` of 800,000 characters did not finish in 300 s (a notebook page rendering it would hang), one of
 * 8,000 took 0.4 s. The longest in the bundled lessons is 78.
 */
export const MAX_MARKDOWN_WORD = 1024;
/**
 * The deepest a line of a lesson's Markdown may start, in columns of indentation and blockquote markers, outside its
 * code blocks (the lesson nesting limit). The renderer's time grows with the cube of a list's nesting (800 levels:
 * 5.3 s; 3,000: 18 s) and 4,000 nested blockquotes overflow its stack. 64 columns are 32 nested lists.
 */
export const MAX_MARKDOWN_NESTING = 64;

/** Why a lesson's Markdown is not rendered (a word or a nesting past its limit, with the line), or undefined. */
export function markdownTooHostile(src: string): { line: number; why: string } | undefined {
  let fence: string | undefined;
  let line = 0;
  for (let start = 0; start < src.length; ) {
    let end = src.indexOf("\n", start);
    if (end < 0) end = src.length;
    const l = src.slice(start, end);
    start = end + 1;
    line++;
    const f = /^[\s>]*(`{3,}|~{3,})/.exec(l);
    if (fence !== undefined) {
      if (f && f[1]![0] === fence[0] && f[1]!.length >= fence.length) fence = undefined;
      continue;
    }
    if (f) {
      fence = f[1];
      continue;
    }
    const depth = /^[\s>]*/.exec(l)![0].replace(/\t/g, "    ").length;
    if (depth > MAX_MARKDOWN_NESTING)
      return { line, why: `the line starts ${depth} columns deep in indentation and blockquote markers, more than the ${MAX_MARKDOWN_NESTING} a lesson's text may (the lesson nesting limit: the Markdown renderer's time grows with the cube of a list's nesting)` };
    let run = 0;
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      run = c === 32 || c === 9 || c === 13 ? 0 : run + 1;
      if (run > MAX_MARKDOWN_WORD)
        return { line, why: `a run of more than ${MAX_MARKDOWN_WORD} characters without a blank, the most a lesson's text may hold (the lesson word limit: the Markdown renderer's time grows with the square of such a run)` };
    }
  }
  return undefined;
}

