// Test harness: boot a profile and fake the sandbox's module stack (innermost first), so kernel code sees module
// frames ("memdemo_init+0x.../0x... [cell]") exactly as it would under the sandbox.
import { boot, type Kernel, type StackFrame } from "../../../src/kernel/kernel.ts";
import type { ConfigKind } from "../../../src/kernel/types.ts";

export interface Harness {
  k: Kernel;
  /** Run body as module function fn at cell line `line` (pushes a frame for its duration). */
  call<T>(fn: string, line: number, body: () => T): T;
  /** A module callback: a JS function that, when the kernel calls it, runs as module function fn. */
  cb<A extends unknown[], R>(fn: string, line: number, body: (...a: A) => R): (...a: A) => R;
  /** dmesg texts (no timestamps) since the mark. */
  since(mark: number): string[];
  /** Run body as insmod's module_init (current = insmod). */
  insmod<T>(body: () => T, pid?: number): T;
}

export function harness(profile = "x86_64-6.1", config: ConfigKind = "debug"): Harness {
  const k = boot(profile, { config, userspace: false }); // exact event timings from a clock near 0
  const stack: StackFrame[] = [];
  k.captureModuleStack = () => stack.slice();
  const call = <T>(fn: string, line: number, body: () => T): T => {
    stack.unshift({ fn, module: "cell", line });
    try {
      return body();
    } finally {
      stack.shift();
    }
  };
  return {
    k,
    call,
    cb: (fn, line, body) => {
      // the sandbox names the host closure after the guest function (its .name), as kernel code expects
      const f = (...a: Parameters<typeof body>) => call(fn, line, () => body(...a));
      Object.defineProperty(f, "name", { value: fn });
      return f;
    },
    since: (mark) => k.log.texts(mark),
    insmod: (body, pid = 108) => {
      k.current = { pid, comm: "insmod" };
      try {
        return body();
      } finally {
        k.current = { pid: 0, comm: "swapper/0" };
      }
    },
  };
}

export const GFP_KERNEL = 0xcc0;
export const GFP_ATOMIC = 0xa20;
export const GFP_KERNEL_OLD = 0xd0;
export const GFP_ATOMIC_OLD = 0x20;
