// The notebook, loaded by the entry point (boot.ts) once it has started the run worker: hash routes (#/ the lesson
// list, #/lesson/ID a lesson, #share=... a shared cell), the worker's warm-up, lazy Monaco, the service worker. The
// lesson list and page render without waiting for any of them.

import DOMPurify from "dompurify";
import { CellView, recordMetric, type AppContext } from "./cell.ts";
import { h } from "./dom.ts";
import { movedCell } from "./moved.ts";
import { expandExercises, renderLesson, type Lesson } from "./lesson.ts";
import { listLessons, type LessonEntry } from "./lessons-index.ts";
import type { ProfileInfo } from "./protocol.ts";
import { decodeShare, type ShareData } from "./share.ts";
// the run worker, started by the entry point (boot.ts) before this chunk loaded
import { runner } from "./boot.ts";
import { browserKV, NotebookStore } from "./storage.ts";

const DEFAULT_PROFILE = "x86_64-6.1";

const main = document.getElementById("main")!;
const lessons = listLessons();
const store = new NotebookStore(browserKV());

let monacoP: Promise<typeof import("./monaco.ts")> | undefined;
let monacoLoaded = false;
const dtsCache = new Map<string, Promise<string>>();
let profilesP: Promise<ProfileInfo[]> | undefined;

const app: AppContext = {
  runner,
  store,
  cells: [],
  defaultProfile: DEFAULT_PROFILE,
  profiles: () => (profilesP ??= runner.profiles()),
  monaco: () =>
    (monacoP ??= import("./monaco.ts").then((m) => {
      monacoLoaded = true;
      upgradeVisibleCells();
      return m;
    })),
  monacoReady: () => monacoLoaded,
  dts(profile) {
    let p = dtsCache.get(profile);
    if (!p) {
      p = runner.dts(profile);
      p.catch(() => dtsCache.delete(profile));
      dtsCache.set(profile, p);
    }
    return p;
  },
  onProgress: () => {},
};

// After Monaco has loaded once, cells turn into Monaco editors as they scroll into view.
const visible = new IntersectionObserver(
  (entries) => {
    if (!monacoLoaded) return;
    for (const e of entries) if (e.isIntersecting) app.cells.find((c) => c.root === e.target)?.upgrade();
  },
  { rootMargin: "200px" },
);
function upgradeVisibleCells() {
  for (const c of app.cells) {
    visible.unobserve(c.root);
    visible.observe(c.root);
  }
}

function setTitle(t: string) {
  document.title = t ? `${t} — kmodlab` : "kmodlab — learn how Linux hands out memory";
}

function lessonProgress(e: LessonEntry, lesson?: Lesson): string {
  const p = store.progress(e.meta.id);
  const nCells = lesson ? lesson.cells.length : (expandedSource(e).match(/^(```|~~~)\s*module\b/gm) ?? []).length;
  const ids = exerciseIds(e, lesson);
  const passed = store.passedExercises();
  const parts = [`${Math.min(p.ran.length, nCells)}/${nCells} cells run`];
  if (ids.length) parts.push(`${ids.filter((id) => passed.has(id)).length}/${ids.length} exercises`);
  return parts.join(", ");
}

/** The exercises a lesson holds, each once (by id: progress is per exercise, not per cell or lesson). */
function exerciseIds(e: LessonEntry, lesson?: Lesson): string[] {
  const ids = lesson
    ? lesson.cells.map((c) => c.attrs.exercise).filter((x): x is string => typeof x === "string")
    : [...expandedSource(e).matchAll(/^(?:```|~~~)\s*module\b[^\n]*\bexercise=([\w-]+)/gm)].map((m) => m[1]);
  return [...new Set(ids)];
}

/** A lesson's Markdown with its ```exercise blocks as the exercise cells they show as (for counts before rendering). */
function expandedSource(e: LessonEntry): string {
  return e.source.includes("exercise") ? expandExercises(e.source, e.path).markdown : e.source;
}

/** Exercises passed over all lessons, each exercise counted once however many lessons hold it. */
function overallProgress(): HTMLElement | null {
  const all = new Set(lessons.filter((e) => !e.error).flatMap((e) => exerciseIds(e)));
  if (!all.size) return null;
  const passed = store.passedExercises();
  return h("p", { class: "lesson-progress overall" }, `${[...all].filter((id) => passed.has(id)).length}/${all.size} exercises passed`);
}

/** Leaving a lesson: dispose its editors before their elements leave the page (Monaco's widgets otherwise throw). */
function leaveCells() {
  for (const c of app.cells) {
    visible.unobserve(c.root);
    c.dispose();
  }
  app.cells = [];
}

function showList() {
  setTitle("");
  leaveCells();
  const items = lessons.map((e) => {
    const p = store.progress(e.meta.id);
    return h(
      "li",
      { class: "lesson-item" + (p.ran.length ? " started" : "") },
      h(
        "a",
        { href: `#/lesson/${encodeURIComponent(e.meta.id)}` },
        h("span", { class: "lesson-order" }, String(e.meta.order).padStart(2, "0")),
        " ",
        e.meta.title,
      ),
      e.meta.summary ? h("p", { class: "lesson-summary" }, e.meta.summary) : null,
      h("p", { class: "lesson-progress" }, e.error ? `This lesson has a problem: ${e.error}` : lessonProgress(e)),
    );
  });
  main.replaceChildren(
    h("h1", {}, "Lessons"),
    h(
      "p",
      { class: "intro" },
      "Write small kernel modules in TypeScript and run them against a simulated Linux kernel. Each lesson is a page of text with cells you can edit and run.",
    ),
    lessons.length ? h("ol", { class: "lesson-list" }, items) : h("p", {}, "No lessons found in lessons/."),
    ...[overallProgress()].filter((x): x is HTMLElement => x !== null),
  );
  markReadable();
}

function showLesson(id: string, share?: ShareData) {
  const entry = lessons.find((e) => e.meta.id === id);
  if (!entry) {
    main.replaceChildren(h("h1", {}, "No such lesson"), h("p", {}, `There is no lesson “${id}”. `, h("a", { href: "#/" }, "See all lessons.")));
    return;
  }
  let lesson: Lesson;
  try {
    lesson = renderLesson(entry.source, entry.path, DOMPurify);
  } catch (e) {
    main.replaceChildren(h("h1", {}, entry.meta.title), h("p", { role: "alert" }, `This lesson could not be read: ${(e as Error).message}`));
    return;
  }
  setTitle(lesson.meta.title);
  store.markProgress(lesson.meta.id, { visited: true });
  const idx = lessons.indexOf(entry);
  const article = h("article", { class: "lesson" });
  article.innerHTML = lesson.html; // sanitised by DOMPurify in renderLesson
  const progress = h("p", { class: "lesson-progress", "aria-live": "polite" }, lessonProgress(entry, lesson));
  app.onProgress = () => (progress.textContent = lessonProgress(entry, lesson));
  const nav = h(
    "nav",
    { class: "lesson-nav", "aria-label": "Lessons" },
    h("a", { href: "#/" }, "All lessons"),
    idx > 0 ? h("a", { href: `#/lesson/${encodeURIComponent(lessons[idx - 1].meta.id)}` }, `← ${lessons[idx - 1].meta.title}`) : null,
    idx < lessons.length - 1 ? h("a", { href: `#/lesson/${encodeURIComponent(lessons[idx + 1].meta.id)}` }, `${lessons[idx + 1].meta.title} →`) : null,
  );
  leaveCells();
  main.replaceChildren(h("div", { class: "lesson-head" }, nav, progress, runAllButton()), article);
  for (const cell of lesson.cells) {
    const ph = article.querySelector<HTMLElement>(`.nb-cell[data-cell-id="${CSS.escape(cell.id)}"]`);
    if (!ph) continue;
    const init =
      share && share.cell === cell.id
        ? { code: share.code, profile: share.profile, mem: share.mem, cmdline: share.cmdline, config: share.config, cpu: share.cpu }
        : undefined;
    const view = new CellView(app, lesson, cell, ph, init);
    app.cells.push(view);
  }
  if (monacoLoaded) upgradeVisibleCells();
  markReadable();
  if (share) {
    const target = app.cells.find((c) => c.cell.id === share.cell);
    if (target) {
      target.root.scrollIntoView({ block: "start" });
      target.root.classList.add("shared");
    }
  } else window.scrollTo(0, 0);
}

let readableMarked = false;
function markReadable() {
  if (readableMarked) return;
  readableMarked = true;
  performance.mark("kmodlab-readable");
  recordMetric("readable", performance.now());
  document.documentElement.dataset.ready = "1";
}

let lastRoute = "#/";
function route() {
  const hash = location.hash;
  if (hash === "#main") {
    // the skip link: focus the content, keep the page
    history.replaceState(null, "", lastRoute);
    if (!main.childElementCount || main.querySelector("noscript")) route();
    main.focus();
    return;
  }
  lastRoute = hash || "#/";
  if (runner.busy) runner.stop();
  leaveCells();
  const decoded = decodeShare(hash);
  // a link made before its cell moved to another lesson (moved.ts) opens the cell where it is now
  const share = decoded && { ...decoded, ...movedCell(decoded.lesson, decoded.cell) };
  if (share) {
    // Open the lesson with the shared code in place, then give the URL a plain lesson route (the code is now saved).
    showLesson(share.lesson, share);
    lastRoute = `#/lesson/${encodeURIComponent(share.lesson)}`;
    history.replaceState(null, "", lastRoute);
    return;
  }
  if (hash.startsWith("#share=")) {
    main.replaceChildren(
      h("h1", {}, "Broken share link"),
      h("p", {}, "This link's code could not be read (it may have been cut short). ", h("a", { href: "#/" }, "See all lessons.")),
    );
    return;
  }
  const m = /^#\/lesson\/([^/?#]+)/.exec(hash);
  if (m) showLesson(decodeURIComponent(m[1]));
  else showList();
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
route();

/** Run all: the lesson's cells top to bottom, one after the other, as the learner would press each Run. */
function runAllButton(): HTMLElement {
  const status = h("span", { class: "run-all-status", role: "status", "aria-live": "polite" });
  const btn = h("button", { type: "button", class: "btn run-all", title: "Run every cell of this lesson, top to bottom" }, "▶ Run all");
  btn.addEventListener("click", async () => {
    const cells = app.cells.slice();
    btn.disabled = true;
    let problems = 0;
    // an exercise's starter can run clean and still fail its checks: "all clean" alone would read as done
    let notPassed = 0;
    for (let i = 0; i < cells.length; i++) {
      if (app.cells[0] !== cells[0]) break; // the learner left the lesson
      status.textContent = `Running cell ${i + 1} of ${cells.length}…`;
      const o = await cells[i].run();
      if (!o || o.kind !== "result" || o.result.reports.length || o.result.initReturn !== 0) problems++;
      if (o?.kind === "result" && o.grade && !o.grade.passed) notPassed++;
    }
    btn.disabled = false;
    status.textContent =
      `Ran ${cells.length} cells${problems ? `; ${problems} with a report, an error or a non-zero init (an exercise's starter, a cell that shows a bug)` : ", all clean"}` +
      `${notPassed ? `; ${notPassed === 1 ? "1 exercise" : `${notPassed} exercises`} not passed yet` : ""}.`;
  });
  return h("p", { class: "run-all-row" }, btn, status);
}

/** The theme: the system's (default), light or dark; kept in localStorage, applied to <html data-theme>. */
const THEME_KEY = "kmodlab:theme";
function applyTheme(t: string | null) {
  if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
  window.dispatchEvent(new Event("kmodlab-theme"));
}
{
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(THEME_KEY);
  } catch {
    /* storage off: the system's theme */
  }
  applyTheme(saved);
  const names: Record<string, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
  const cur = () => document.documentElement.dataset.theme ?? "system";
  const btn = h("button", { type: "button", class: "btn small theme-toggle", title: "Switch between the system's theme, light and dark" }, names[cur()]);
  btn.addEventListener("click", () => {
    const next = { system: "light", light: "dark", dark: "system" }[cur()]!;
    try {
      if (next === "system") localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, next);
    } catch {
      /* not kept: still applied */
    }
    applyTheme(next);
    btn.textContent = names[next];
  });
  document.querySelector("header.site")?.append(btn);
}

// Start the worker as the page loads (not when it is idle): it loads QuickJS and the kernel, boots the first cell's
// machine, then warms the run path, all while the learner reads; a Run clicked the moment the text appears waits
// only for what is left of that. The worker is a thread of its own: the page's first render does not wait for it.
{
  const t0 = performance.now();
  runner.onWarmed = () => recordMetric("warmed", performance.now() - t0);
  const first = app.cells[0];
  void runner.warm(first ? first.machine() : { profile: DEFAULT_PROFILE }).then((ok) => ok && recordMetric("warm", performance.now() - t0));
  void app.profiles().catch(() => {});
}

if ("serviceWorker" in navigator && import.meta.env.PROD) {
  const register = () =>
    navigator.serviceWorker.register("./sw.js").catch(() => {
      /* offline use is a bonus; the page works without it */
    });
  // this chunk is imported by boot.ts and may run after the page's load event
  if (document.readyState === "complete") void register();
  else window.addEventListener("load", () => void register());
}
