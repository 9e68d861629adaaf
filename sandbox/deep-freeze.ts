// Freezing a compiled cell's result, object and all it holds: the transpiler's in-memory cache (transpile.ts) and the
// disk cache of compiled cells (src/node/cell-cache.ts) hand the same object to every run, which must not change it.

/** `v`, frozen with every object it reaches. */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}
