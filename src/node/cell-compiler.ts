// The cell's compiler apart from the sandbox (issue 15): sandbox/transpile.ts with sucrase, bundled by
// vite.node.config.ts into lib/cell-compiler.cjs, which cell-cache.ts loads (with a V8 code cache) only for a cell the
// disk cache of compiled cells does not hold.

export { transpileCell } from "../../sandbox/transpile.ts";
