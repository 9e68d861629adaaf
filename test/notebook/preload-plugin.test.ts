// The build step that modulepreloads the notebook chunk boot.ts imports dynamically (src/notebook/preload-plugin.ts):
// the chunk built from the module and the chunks it imports statically, dependencies first, each once.
import { describe, expect, it } from "vitest";
import type { Rollup } from "vite";
import { chunkClosure, preloadDynamicEntry } from "../../src/notebook/preload-plugin.ts";

const chunk = (fileName: string, facadeModuleId: string | null, imports: string[]) =>
  ({ type: "chunk", fileName, facadeModuleId, imports }) as unknown as Rollup.OutputChunk;
const bundle = {
  "assets/index-a.js": chunk("assets/index-a.js", "/r/src/notebook/boot.ts", ["assets/runtime.js"]),
  "assets/main-b.js": chunk("assets/main-b.js", "/r/src/notebook/main.ts", ["assets/runtime.js", "assets/index-a.js", "assets/dom.js"]),
  "assets/dom.js": chunk("assets/dom.js", null, ["assets/runtime.js"]),
  "assets/runtime.js": chunk("assets/runtime.js", null, []),
  "assets/style.css": { type: "asset", fileName: "assets/style.css" },
} as unknown as Rollup.OutputBundle;

describe("modulepreload for the notebook chunk", () => {
  it("lists the chunk and its static imports, dependencies first, each once", () => {
    expect(chunkClosure(bundle, "src/notebook/main.ts")).toEqual(["assets/runtime.js", "assets/index-a.js", "assets/dom.js", "assets/main-b.js"]);
    expect(chunkClosure(bundle, "src/notebook/nothing.ts")).toEqual([]);
  });

  it("adds a link for each chunk index.html does not load already, and fails the build when the module has no chunk", () => {
    type Handler = (html: string, ctx: { bundle?: Rollup.OutputBundle }) => { tags: { attrs: { href: string } }[] };
    const handlerOf = (suffix: string) => (preloadDynamicEntry(suffix).transformIndexHtml as unknown as { handler: Handler }).handler;
    const html = '<script type="module" crossorigin src="./assets/index-a.js"></script>';
    expect(handlerOf("src/notebook/main.ts")(html, { bundle }).tags.map((t) => t.attrs.href)).toEqual([
      "./assets/runtime.js",
      "./assets/dom.js",
      "./assets/main-b.js",
    ]);
    expect(() => handlerOf("src/notebook/gone.ts")(html, { bundle })).toThrow(/no chunk built from src\/notebook\/gone\.ts/);
  });
});
