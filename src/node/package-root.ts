// Where the kmodlab package's files are (lessons/, dist/, package.json), from the sources (src/...) and from the
// bundle (lib/*.mjs) alike: the nearest directory above this module whose package.json is kmodlab's.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "kmodlab") return (root = dir);
      } catch {
        // an unreadable package.json is not ours: keep looking upwards
      }
    }
    if (dirname(dir) === dir) throw new Error(`kmodlab: cannot find the kmodlab package above ${start}`);
  }
}

/** The package's version (package.json). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}
