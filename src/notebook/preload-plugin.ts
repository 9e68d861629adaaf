// Build step: index.html loads only the tiny entry point (boot.ts, which starts the run worker first) and imports the
// notebook (main.ts) dynamically. This adds <link rel="modulepreload"> for the notebook's chunk and the chunks it
// imports, so the browser downloads and compiles them while the entry point runs, as if they were loaded statically.

import type { Plugin, Rollup } from "vite";

type OutputBundle = Rollup.OutputBundle;
type OutputChunk = Rollup.OutputChunk;

/** The chunk built from `moduleSuffix` and every chunk it imports statically, in load order, by file name. */
export function chunkClosure(bundle: OutputBundle, moduleSuffix: string): string[] {
  const chunks = Object.values(bundle).filter((c): c is OutputChunk => c.type === "chunk");
  const root = chunks.find((c) => c.facadeModuleId?.replace(/\\/g, "/").endsWith(moduleSuffix));
  if (!root) return [];
  const out: string[] = [];
  const visit = (name: string) => {
    if (out.includes(name)) return;
    const c = bundle[name];
    if (c?.type !== "chunk") return;
    for (const d of c.imports) visit(d);
    out.push(name);
  };
  visit(root.fileName);
  return out;
}

export function preloadDynamicEntry(moduleSuffix: string): Plugin {
  return {
    name: "kmodlab-preload-dynamic-entry",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(html, ctx) {
        if (!ctx.bundle) return html;
        const present = new Set([...html.matchAll(/\s(?:src|href)="\.?\/?([^"]+)"/g)].map((m) => m[1]));
        const files = chunkClosure(ctx.bundle, moduleSuffix).filter((f) => !present.has(f));
        if (!files.length) throw new Error(`kmodlab-preload-dynamic-entry: no chunk built from ${moduleSuffix}`);
        return {
          html,
          tags: files.map((f) => ({ tag: "link", attrs: { rel: "modulepreload", crossorigin: true, href: `./${f}` }, injectTo: "head" as const })),
        };
      },
    },
  };
}
