// Properties of a run's result built when first read (the memory views, the layout, the call log's records), whose
// getters do not keep the run alive through V8's young-generation GCs.
//
// An accessor defined on a plain object with a getter of its own (`Object.defineProperty(o, "x", { get() { ... } })`,
// a new getter closure per run) stayed alive through V8's young-generation GCs with what it closes over (the run's
// kernel, its call log), until the next full GC, which promoted them: the getter is kept as part of the object's map
// (an accessor's functions live in the map's descriptors, and maps are shared and long-lived), we believe; measured,
// not pinned down in V8's source. In plain Node 20, 8 objects with such a getter over 100 KB each kept 0.97 MB after a
// minor GC, against 0.13 MB with one getter shared by all. So the getters here are made once per property name and
// shared; what each object's getter builds is a thunk in a non-enumerable property of the object under the name's own
// symbol (Object.getOwnPropertyDescriptors copies it with the accessor; JSON, structuredClone and toEqual skip it),
// dropped once the property is read or assigned.

const thunkKeys = new Map<string, symbol>();
const accessors = new Map<string, PropertyDescriptor>();

function thunkKey(name: string): symbol {
  let s = thunkKeys.get(name);
  if (s === undefined) thunkKeys.set(name, (s = Symbol(`kmodlab.lazy.${name}`)));
  return s;
}

/** `name` on `o` as a plain data property from now on (what a read or an assignment of a lazy property leaves). */
export function keepValue(o: object, name: string, value: unknown): void {
  Object.defineProperty(o, name, { value, writable: true, enumerable: true, configurable: true });
}

function accessor(name: string): PropertyDescriptor {
  let d = accessors.get(name);
  if (d === undefined) {
    const key = thunkKey(name);
    d = {
      enumerable: true,
      configurable: true,
      get(this: object) {
        const make = (this as Record<symbol, (() => unknown) | undefined>)[key];
        const value = make?.();
        keepValue(this, name, value);
        delete (this as Record<symbol, unknown>)[key];
        return value;
      },
      set(this: object, value: unknown) {
        keepValue(this, name, value);
        delete (this as Record<symbol, unknown>)[key];
      },
    };
    accessors.set(name, d);
  }
  return d;
}

/**
 * Define `name` on `o` as an enumerable accessor that calls `make` when first read and then becomes a plain data
 * property holding what it returned (an assignment also makes it one). `make` runs once per object read: a value
 * shared between copies of `o` is memoized by `make` itself.
 */
export function defineLazy(o: object, name: string, make: () => unknown): void {
  Object.defineProperty(o, thunkKey(name), { value: make, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(o, name, accessor(name));
}

/** Remove `name` (a lazy property not read yet, or its value) and its thunk from `o`. */
export function dropLazy(o: object, name: string): void {
  delete (o as Record<string, unknown>)[name];
  delete (o as Record<symbol, unknown>)[thunkKey(name)];
}
