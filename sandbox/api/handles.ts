// The kernel objects a run's module holds through handles (timer_list, spinlock_t, work_struct, a device...): one
// table per booted kernel mapping the id the guest's handle carries to the kernel's object. Ids are what the host
// hands out (the prelude keeps them out of the guest's reach); rows look them up by id and type, and a callback
// that gives the module one of its objects back passes the id (the prelude turns it into the very handle).
//
// A slot may be empty until the module initialises it (`new timer_list()` before `timer_setup(t, fn, 0)`): using it
// then is the module's bug, reported as an Error at the cell's line (the real kernel would run a zeroed struct).

import type { Kernel } from "../../src/kernel/kernel.ts";
import { GuestError, type HostCallback } from "../table.ts";
import { KernelOops } from "../../src/kernel/kernel/module.ts";

interface Slot {
  type: string;
  obj: unknown;
}

export class Handles {
  private readonly slots: Slot[] = [{ type: "", obj: undefined }]; // id 0 is NULL
  private readonly ids = new Map<unknown, number>();

  /** A new handle of `type`, holding obj (undefined: made by `new X()`, filled by its init function). */
  add(type: string, obj?: unknown): number {
    const id = this.slots.length;
    this.slots.push({ type, obj });
    if (obj !== undefined) this.ids.set(obj, id);
    return id;
  }

  /** The handle of a kernel object, made on first use (the board's device). */
  idOf(type: string, obj: unknown): number {
    return this.ids.get(obj) ?? this.add(type, obj);
  }

  set(id: number, obj: unknown): void {
    const s = this.slots[id];
    if (!s) throw new Error(`no handle ${id}`);
    if (s.obj !== undefined) this.ids.delete(s.obj);
    s.obj = obj;
    this.ids.set(obj, id);
  }

  /** The object behind a handle; `fn` and `init` name the call and the function that should have filled it. */
  get<T>(id: number, fn: string, init?: string): T {
    const s = this.slots[id];
    if (!s) throw new Error(`no handle ${id}`);
    if (s.obj === undefined) {
      throw new GuestError("Error", `${fn}: this ${s.type} was never initialised${init ? ` (call ${init} first)` : ""}`);
    }
    return s.obj as T;
  }

  /** True when the slot was filled (timer_setup ran on it). */
  filled(id: number): boolean {
    return this.slots[id]?.obj !== undefined;
  }
}

const tables = new WeakMap<Kernel, Handles>();

export function handles(k: Kernel): Handles {
  let h = tables.get(k);
  if (!h) tables.set(k, (h = new Handles()));
  return h;
}

/**
 * A module function as the kernel's callback: a plain host function named as the module named it (timer and irq
 * code print `.name` / `.kname` in their messages), calling the guest with `args(...)` of the kernel's arguments.
 */
export function named<A extends unknown[]>(cb: HostCallback, args: (...a: A) => unknown[]): (...a: A) => unknown {
  const f = (...a: A) => cb(...args(...a));
  Object.defineProperty(f, "name", { value: cb.symbol || "anonymous" });
  (f as unknown as { kname: string }).kname = cb.symbol || "anonymous";
  return f;
}

/**
 * Run a kernel call whose bad arguments the kernel answers with an Oops it prints and returns from (a free that
 * faults reading a struct page that does not exist): the task dies there, as it would, ending the module function
 * (the killTask convention). Reports of the call of kind "oops", or with an Oops header ("[#N]"), count.
 */
export function oopsEndsTask<T>(k: Kernel, work: () => T): T {
  const n = k.reports.length;
  const r = work();
  oopsSince(k, n);
  return r;
}

/** oopsEndsTask's check for a call made without a closure (a hot row: kfree): the reports from index n on. */
export function oopsSince(k: Kernel, n: number): void {
  for (let i = n; i < k.reports.length; i++) {
    const rep = k.reports[i]!;
    if (rep.kind === "oops" || /\[#\d+\]/.test(rep.text)) throw new KernelOops(rep.title, rep);
  }
}
