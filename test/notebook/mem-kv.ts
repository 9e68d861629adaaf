// An in-memory KV (the notebook store's localStorage interface) for tests.
import type { KV } from "../../src/notebook/storage.ts";

export class MemKV implements KV {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}
