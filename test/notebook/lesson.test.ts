import { describe, expect, it } from "vitest";
import { JSDOM } from "jsdom";
import createDOMPurify from "dompurify";
import { readFileSync, readdirSync } from "node:fs";
import { idFromPath, parseInfo, readMeta, renderLesson, splitFrontMatter } from "../../src/notebook/lesson.ts";
import { highlightTs } from "../../src/notebook/highlight.ts";

const window = new JSDOM("").window;
const purify = createDOMPurify(window as unknown as Window & typeof globalThis);

const fence = "```";

describe("front matter", () => {
  it("parses id, title, order, profile and summary and strips them from the body", () => {
    const { data, body } = splitFrontMatter('---\nid: kmalloc\ntitle: "kmalloc: sizes"\norder: 3\nprofile: i386-2.6\nsummary: Slabs.\n---\n# Hi\n');
    expect(data).toEqual({ id: "kmalloc", title: "kmalloc: sizes", order: 3, profile: "i386-2.6", summary: "Slabs." });
    expect(body).toBe("# Hi\n");
  });

  it("a lesson without front matter takes its id and order from the file name", () => {
    const meta = readMeta("# Just text\n", "lessons/07-vmalloc.md");
    expect(meta).toMatchObject({ id: "07-vmalloc", title: "07-vmalloc", order: 7 });
    expect(idFromPath("lessons/07-vmalloc.md")).toBe("07-vmalloc");
  });

  it("broken YAML is an error that names the front matter", () => {
    expect(() => splitFrontMatter("---\ntitle: [unclosed\n---\nx")).toThrow(/front matter/);
  });
});

describe("cell attributes (info string)", () => {
  it("only info strings starting with the word module are cells", () => {
    expect(parseInfo("ts")).toBeNull();
    expect(parseInfo("modules id=x")).toBeNull();
    expect(parseInfo("module")).toEqual({});
  });

  it("reads key=value, double- and single-quoted values, and bare flags", () => {
    expect(parseInfo(`module id=alloc title="First allocation" readonly exercise=ex1 expect='no report' profile=i386-2.6`)).toEqual({
      id: "alloc",
      title: "First allocation",
      readonly: true,
      exercise: "ex1",
      expect: "no report",
      profile: "i386-2.6",
    });
  });

  it("keeps escaped quotes inside double-quoted values", () => {
    expect(parseInfo(`module title="say \\"hi\\"" id=q`)).toEqual({ title: 'say "hi"', id: "q" });
  });
});

describe("renderLesson", () => {
  const md = `---
id: demo
title: Demo
order: 2
profile: x86_64-6.1
---
# Demo

Text with \`code\`.

${fence}module id=first
let a = 1;
${fence}

${fence}ts
const plain = 0x10n; // not a cell
${fence}

${fence}module id=second profile=i386-2.6 readonly exercise=e1
let b = "<b>";
${fence}

${fence}module
let c = 3;
${fence}
`;
  const lesson = renderLesson(md, "lessons/02-demo.md", purify);

  it("turns module blocks into cells with their attributes, profile and source", () => {
    expect(lesson.meta).toMatchObject({ id: "demo", title: "Demo", order: 2, profile: "x86_64-6.1" });
    expect(lesson.cells.map((c) => c.id)).toEqual(["first", "second", "cell-3"]);
    expect(lesson.cells[0]).toMatchObject({ index: 0, source: "let a = 1;", profile: "x86_64-6.1", readonly: false });
    expect(lesson.cells[1]).toMatchObject({ profile: "i386-2.6", readonly: true, source: 'let b = "<b>";' });
    expect(lesson.cells[1].attrs.exercise).toBe("e1");
  });

  it("leaves a placeholder per cell and a highlighted <pre> for other code", () => {
    const doc = new JSDOM(lesson.html).window.document;
    const ph = [...doc.querySelectorAll(".nb-cell")].map((e) => e.getAttribute("data-cell-id"));
    expect(ph).toEqual(["first", "second", "cell-3"]);
    expect(doc.querySelector('.nb-cell[data-cell-id="second"] pre')!.textContent).toBe('let b = "<b>";');
    const plain = doc.querySelector("pre.code code.lang-ts")!;
    expect(plain.textContent).toBe("const plain = 0x10n; // not a cell");
    expect(plain.querySelector(".tk-num")!.textContent).toBe("0x10n");
    expect(plain.querySelector(".tk-com")).not.toBeNull();
  });

  it("duplicate cell ids are made unique", () => {
    const l = renderLesson(`${fence}module id=a\n1\n${fence}\n\n${fence}module id=a\n2\n${fence}\n`, "x.md", purify);
    expect(l.cells.map((c) => c.id)).toEqual(["a", "a-2"]);
  });
});

describe("sanitising: a hostile lesson renders inert", () => {
  const hostile = `---
id: evil
title: Evil
---
# Hello

<script>window.pwned = 1</script>

<img src="x" onerror="window.pwned = 2">

<a href="javascript:alert(1)">click</a>

<iframe src="https://example.com"></iframe>

<div onclick="alert(1)" style="position:fixed">styled</div>

${fence}module id="x\\" onmouseover=\\"alert(1)"
let a = 1;
${fence}
`;
  const lesson = renderLesson(hostile, "lessons/99-evil.md", purify);

  it("drops script, event handlers, javascript: URLs, iframes and inline styles", () => {
    expect(lesson.html).not.toMatch(/<script/i);
    expect(lesson.html).not.toMatch(/onerror|onclick|onmouseover/i);
    expect(lesson.html).not.toMatch(/javascript:/i);
    expect(lesson.html).not.toMatch(/<iframe/i);
    expect(lesson.html).not.toMatch(/style=/i);
  });

  it("nothing runs when the HTML is put into a live document", () => {
    const dom = new JSDOM(`<body>${lesson.html}</body>`, { runScripts: "dangerously" });
    const w = dom.window as unknown as { pwned?: number };
    const img = dom.window.document.querySelector("img");
    img?.dispatchEvent(new dom.window.Event("error"));
    expect(w.pwned).toBeUndefined();
    expect(dom.window.document.querySelector("img")!.getAttribute("onerror")).toBeNull();
  });

  it("a cell id cannot break out of its attribute", () => {
    const doc = new JSDOM(lesson.html).window.document;
    const el = doc.querySelector(".nb-cell")!;
    expect(el.getAttribute("onmouseover")).toBeNull();
    expect(el.getAttribute("data-cell-id")).toBe(lesson.cells[0].id);
  });
});

describe("highlighter", () => {
  it("escapes HTML in code", () => {
    expect(highlightTs('let s = "<img onerror=x>";')).not.toMatch(/<img/);
    expect(highlightTs("a < b && c > d")).toBe("a &lt; b &amp;&amp; c &gt; d");
  });
});

describe("the lessons in lessons/", () => {
  const files = readdirSync("lessons").filter((f) => f.endsWith(".md"));
  it.each(files)("%s has front matter with id, title, order and at least one cell", (f) => {
    const l = renderLesson(readFileSync(`lessons/${f}`, "utf8"), `lessons/${f}`, purify);
    expect(typeof l.meta.id).toBe("string");
    expect(l.meta.title).not.toBe(f.replace(/\.md$/, ""));
    expect(Number.isFinite(l.meta.order)).toBe(true);
    expect(l.cells.length).toBeGreaterThan(0);
  });

  it("lesson 1 has the memdemo cell with all three allocators", () => {
    const l = renderLesson(readFileSync("lessons/01-first-module.md", "utf8"), "lessons/01-first-module.md", purify);
    const demo = l.cells.find((c) => c.id === "memdemo")!;
    expect(demo.source).toMatch(/__get_free_page\(GFP_KERNEL\)/);
    expect(demo.source).toMatch(/kmalloc\(100, GFP_KERNEL\)/);
    expect(demo.source).toMatch(/vmalloc\(1000000\)/);
  });
});
