// Every lesson in lessons/*.md, bundled as raw text (a few KB each), with its front matter read for the list.
// A site made by `kmodlab build --lessons DIR` carries its own lessons instead, as JSON in index.html
// (<script type="application/json" id="kmodlab-lessons">[{ "path", "source" }...]</script>): read when present.

import { readMeta, type LessonMeta } from "./lesson.ts";

const raw = import.meta.glob("../../lessons/*.md", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

export interface LessonEntry {
  meta: LessonMeta;
  path: string;
  source: string;
  /** Front matter could not be read: the list says so instead of hiding the lesson. */
  error?: string;
}

/** The lessons `kmodlab build` wrote into the page, if it did. */
function builtLessons(): Record<string, string> | undefined {
  const el = typeof document !== "undefined" ? document.getElementById("kmodlab-lessons") : null;
  if (!el?.textContent) return undefined;
  try {
    const list = JSON.parse(el.textContent) as { path: string; source: string }[];
    return Object.fromEntries(list.filter((l) => typeof l.path === "string" && typeof l.source === "string").map((l) => [l.path, l.source]));
  } catch {
    return undefined;
  }
}

export function listLessons(): LessonEntry[] {
  const out: LessonEntry[] = [];
  for (const [p, source] of Object.entries(builtLessons() ?? raw)) {
    const path = p.replace(/^(\.\.\/)+/, "");
    try {
      out.push({ meta: readMeta(source, path), path, source });
    } catch (e) {
      const id = path.split("/").pop()!.replace(/\.md$/, "");
      out.push({ meta: { id, title: id, order: 999 }, path, source, error: (e as Error).message });
    }
  }
  return out.sort((a, b) => a.meta.order - b.meta.order || a.meta.id.localeCompare(b.meta.id));
}
