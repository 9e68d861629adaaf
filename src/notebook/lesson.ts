// Lesson loader: Markdown with YAML front matter -> metadata, sanitised HTML with cell placeholders, cells.
// Pure apart from the DOMPurify instance it is given, so the same code runs in the page and in Node tests (jsdom).
// Cell source stays in JS (`cells[]`), never in attributes: the placeholders carry only the cell id.

import { Marked, type Tokens } from "marked";
import YAML from "yaml";
import { highlightTs } from "./highlight.ts";
import { exerciseBlocks, markdownTooHostile, yamlTooBig } from "../lessons/blocks.ts";

export interface LessonMeta {
  id: string;
  title: string;
  order: number;
  profile?: string;
  summary?: string;
  [k: string]: unknown;
}

export interface CellAttrs {
  id?: string | boolean;
  profile?: string | boolean;
  readonly?: string | boolean;
  exercise?: string | boolean;
  expect?: string | boolean;
  [k: string]: string | boolean | undefined;
}

export interface LessonCell {
  /** Unique within the lesson. */
  id: string;
  /** 0-based position in the lesson. */
  index: number;
  attrs: CellAttrs;
  /** The lesson's original code (the learner's edits live in storage). */
  source: string;
  /** Profile this cell defaults to: the cell's own, else the lesson's. */
  profile?: string;
  readonly: boolean;
}

/** An exercise declared in the lesson's Markdown (a ```exercise block): the YAML the grader builds it from. */
export interface ExerciseDecl {
  id: string;
  /** The block's YAML and where it is (path, 1-based line of its first line), for the grader's messages. */
  yaml: string;
  path: string;
  line: number;
}

export interface Lesson {
  meta: LessonMeta;
  cells: LessonCell[];
  /** Exercises declared in ```exercise blocks; each shows as its statement and an exercise cell with its starter. */
  exercises: ExerciseDecl[];
  /** Sanitised HTML; every cell is a `<div class="nb-cell" data-cell-id="...">` placeholder holding a plain `<pre>`. */
  html: string;
  /** Where the lesson came from ("lessons/01-first-module.md"). */
  path: string;
}

/** The minimal DOMPurify surface the loader needs (DOMPurify in the page; DOMPurify(jsdom.window) in Node). */
export interface Sanitizer {
  sanitize(html: string, cfg?: Record<string, unknown>): string | unknown;
}

const FRONT_MATTER = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** Split "---\nyaml\n---\nbody" into the parsed YAML object and the body. No front matter -> {}. */
export function splitFrontMatter(src: string): { data: Record<string, unknown>; body: string } {
  const m = FRONT_MATTER.exec(src);
  if (!m) return { data: {}, body: src };
  const big = yamlTooBig(m[1], "the front matter");
  if (big) throw new Error(big);
  let data: unknown;
  try {
    data = YAML.parse(m[1]);
  } catch (e) {
    throw new Error(`front matter is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  return { data: data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : {}, body: src.slice(m[0].length) };
}

/**
 * Parse a fenced block's info string: `module id=alloc title="First allocation" readonly expect='a b'`.
 * Words split on whitespace outside quotes; `key=value`, `key="v w"`, `key='v w'` or a bare flag (true).
 * Returns null when the info string does not start with the word `module`.
 */
export function parseInfo(info: string): CellAttrs | null {
  const s = info.trim();
  if (!/^module(\s|$)/.test(s)) return null;
  const attrs: CellAttrs = {};
  const re = /([A-Za-z_][\w-]*)(?:=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)))?/g;
  let m: RegExpExecArray | null;
  const rest = s.slice("module".length);
  while ((m = re.exec(rest))) {
    const key = m[1];
    if (m[2] !== undefined) attrs[key] = m[2].replace(/\\(.)/g, "$1");
    else if (m[3] !== undefined) attrs[key] = m[3];
    else if (m[4] !== undefined) attrs[key] = m[4];
    else attrs[key] = true;
  }
  return attrs;
}

export function escHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

/** Lesson id from its path when front matter has none: "lessons/01-first-module.md" -> "01-first-module". */
export function idFromPath(path: string): string {
  return (path.split("/").pop() ?? path).replace(/\.md$/i, "");
}

function normaliseMeta(data: Record<string, unknown>, path: string): LessonMeta {
  const fileId = idFromPath(path);
  const id = typeof data.id === "string" && data.id ? data.id : String(data.id ?? fileId);
  const orderFromName = /^(\d+)/.exec(fileId)?.[1];
  const order = typeof data.order === "number" ? data.order : orderFromName ? Number(orderFromName) : 999;
  return {
    ...data,
    id,
    title: typeof data.title === "string" && data.title ? data.title : fileId,
    order,
    profile: typeof data.profile === "string" ? data.profile : undefined,
    summary: typeof data.summary === "string" ? data.summary : undefined,
  };
}

/** Only front matter (for the lesson list): cheap, no Markdown rendering. */
export function readMeta(src: string, path: string): LessonMeta {
  return normaliseMeta(splitFrontMatter(src).data, path);
}

const SANITIZE_CFG = {
  // Cells and highlighted code need only classes and data-* attributes; forbid anything that can act.
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
  FORBID_ATTR: ["style"],
  ADD_ATTR: ["data-cell-id"],
};

/**
 * Replace each ```exercise block with what a learner sees: a module cell (exercise=ID) holding its starter, which
 * the cell shows under the exercise's statement card (title, statement, checks). A block whose YAML does not read stays as code (`kmodlab lessons --dir`
 * names the error and its line). Returns the Markdown and the declarations.
 */
export function expandExercises(src: string, path: string): { markdown: string; exercises: ExerciseDecl[] } {
  let blocks;
  try {
    blocks = exerciseBlocks(src, path);
  } catch {
    return { markdown: src, exercises: [] };
  }
  if (!blocks.length) return { markdown: src, exercises: [] };
  const lines = src.split(/\r?\n/);
  const exercises: ExerciseDecl[] = [];
  const out: string[] = [];
  let at = 0;
  for (const b of blocks) {
    out.push(...lines.slice(at, b.open));
    at = b.close + 1;
    let d: Record<string, unknown> | undefined;
    try {
      if (yamlTooBig(b.yaml, "")) throw new Error("too big"); // shown as code; the grader's loader names the limit
      const v = YAML.parse(b.yaml) as unknown;
      d = v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      d = undefined;
    }
    const str = (k: string) => (typeof d?.[k] === "string" ? (d[k] as string) : undefined);
    const id = str("id");
    if (!d || !id || !/^[a-z0-9][a-z0-9-]*$/.test(id) || str("starter") === undefined) {
      out.push(...lines.slice(b.open, b.close + 1));
      continue;
    }
    exercises.push({ id, yaml: b.yaml, path, line: b.line });
    const starter = str("starter")!.replace(/\n$/, "");
    const fence = "`".repeat(Math.max(3, ...(starter.match(/`+/g) ?? []).map((x) => x.length + 1)));
    const settings = d.settings && typeof d.settings === "object" ? (d.settings as Record<string, unknown>) : {};
    const word = (v: unknown) => (typeof v === "string" || typeof v === "number") && /^[\w.-]+$/.test(String(v));
    const cellId = word(d.cell) ? String(d.cell) : id;
    const attrs = [word(settings.profile) ? ` profile=${settings.profile}` : "", word(settings.mem) ? ` mem=${settings.mem}` : ""].join("");
    // the cell's statement card shows the title, the statement and the checks (src/notebook/statement.ts)
    out.push(`${fence}module id=${cellId} exercise=${id}${attrs}`, starter, fence);
  }
  out.push(...lines.slice(at));
  return { markdown: out.join("\n"), exercises };
}

export function renderLesson(src: string, path: string, purify: Sanitizer): Lesson {
  const hostile = markdownTooHostile(src);
  if (hostile) throw new Error(`${path}:${hostile.line}: ${hostile.why}`);
  const { data } = splitFrontMatter(src);
  const meta = normaliseMeta(data, path);
  const expanded = expandExercises(src, path);
  const { body } = splitFrontMatter(expanded.markdown);
  const cells: LessonCell[] = [];
  const seen = new Set<string>();
  const cellOf = new WeakMap<object, LessonCell>();
  const m = new Marked({
    gfm: true,
    walkTokens(t) {
      if (t.type !== "code") return;
      const attrs = parseInfo((t as Tokens.Code).lang ?? "");
      if (!attrs) return;
      let id = typeof attrs.id === "string" && attrs.id ? slug(attrs.id) || `cell-${cells.length + 1}` : `cell-${cells.length + 1}`;
      while (seen.has(id)) id += "-2";
      seen.add(id);
      const cell: LessonCell = {
        id,
        index: cells.length,
        attrs,
        source: (t as Tokens.Code).text,
        profile: typeof attrs.profile === "string" ? attrs.profile : meta.profile,
        readonly: attrs.readonly === true || attrs.readonly === "true",
      };
      cells.push(cell);
      cellOf.set(t, cell);
    },
    renderer: {
      code(t: Tokens.Code) {
        const c = cellOf.get(t);
        const lang = (t.lang ?? "").trim().split(/\s+/)[0];
        const code = c ? highlightTs(t.text) : /^(ts|typescript|js|javascript|c)$/.test(lang) ? highlightTs(t.text) : escHtml(t.text);
        if (!c) return `<pre class="code"><code class="lang-${escHtml(lang || "text")}">${code}</code></pre>\n`;
        return `<div class="nb-cell" data-cell-id="${escHtml(c.id)}"><pre class="code cell-static"><code>${code}</code></pre></div>\n`;
      },
    },
  });
  const raw = m.parse(body, { async: false }) as string;
  const html = String(purify.sanitize(raw, SANITIZE_CFG));
  return { meta, cells, exercises: expanded.exercises, html, path };
}
