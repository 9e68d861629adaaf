// The table's rows a run's bridge builds (bindings.ts), chosen from what the cell imports. Every row the bridge builds
// costs the run guest code: a function's wrapper, a class made in the prelude (and its host constructor), so a cell
// that names a dozen of the table's few hundred exports gets those and nothing else:
// - the functions, constants and variables it imports by name;
// - the classes it imports, and those of the handles its functions take, return or pass to a callback (the prelude
//   makes a returned handle an instance of its class; a handle parameter's error names how its class is made);
// - everything, for a namespace import, a re-export or a use of require() (the module object is then the cell's).
// The choice is cached per era and set of imports: the grader runs the same cell hundreds of times.

import { inEra, type ApiEntry } from "./table.ts";
import type { Era } from "../src/kernel/types.ts";

/** The classes whose handles this function takes, returns or hands to a callback. */
function handleTypes(e: ApiEntry, into: Set<string>): void {
  if (e.kind !== "function") return;
  const add = (t: string) => {
    if (t.startsWith("handle:")) into.add(t.slice(7));
  };
  add(e.returns);
  for (const p of e.params) {
    add(p.type);
    for (const q of p.cb?.params ?? []) add(q.type);
  }
}

const CACHE_MAX = 64;
const cache = new WeakMap<readonly ApiEntry[], Map<string, readonly ApiEntry[]>>();

/**
 * The rows of `api` in `era` the bridge builds for a cell importing `imported` ("module:name" each), in the table's
 * order; `imported` undefined: every row of the era (a namespace import, a re-export, require()).
 */
export function bridgeRows(api: readonly ApiEntry[], era: Era, imported: ReadonlySet<string> | undefined): readonly ApiEntry[] {
  let byKey = cache.get(api);
  if (!byKey) cache.set(api, (byKey = new Map()));
  const key = imported === undefined ? `${era}\0*` : `${era}\0${[...imported].sort().join("\0")}`;
  const have = byKey.get(key);
  if (have) return have;
  let rows: readonly ApiEntry[];
  if (imported === undefined) rows = api.filter((e) => inEra(e, era));
  else {
    const named = new Set(api.filter((e) => inEra(e, era) && imported.has(`${e.module}:${e.name}`)));
    const types = new Set<string>();
    for (const e of named) handleTypes(e, types);
    rows = api.filter((e) => named.has(e) || (e.kind === "class" && inEra(e, era) && types.has(e.name)));
  }
  if (byKey.size >= CACHE_MAX) byKey.clear();
  byKey.set(key, rows);
  return rows;
}
