// Every lesson in lessons/*.md, bundled as raw text (a few KB each), with its front matter read for the list.

import { readMeta, type LessonMeta } from "./lesson.ts";

const raw = import.meta.glob("../../lessons/*.md", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

export interface LessonEntry {
  meta: LessonMeta;
  path: string;
  source: string;
  /** Front matter could not be read: the list says so instead of hiding the lesson. */
  error?: string;
}

export function listLessons(): LessonEntry[] {
  const out: LessonEntry[] = [];
  for (const [p, source] of Object.entries(raw)) {
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
