// Models fs/proc/: the /proc files a learner reads. Each file is a function of the Kernel that renders the text
// exactly as the modelled kernel's seq_file show() does. The renderers live beside the subsystem they read;
// this table only names them.

import { renderKthreadStatus } from "../kernel/kthread.ts";
import type { Kernel } from "../kernel.ts";

export type ProcRenderer = (k: Kernel) => string;

const table = new Map<string, ProcRenderer>();

/** Register /proc/NAME. Called once at module load by each renderer's file. */
export function registerProc(name: string, render: ProcRenderer): void {
  table.set(name, render);
}

export function procNames(): string[] {
  return [...table.keys()].sort();
}

export class UnknownProcError extends Error {}

/** The files a module made (proc_create_single: fs/vfs.ts registers this reader), read as `cat` would. */
let moduleEntries: ((k: Kernel, name: string) => string | undefined) | undefined;
export function setModuleProcReader(read: (k: Kernel, name: string) => string | undefined): void {
  moduleEntries = read;
}

/** Render /proc/NAME for this kernel. Throws UnknownProcError for a file the simulator does not have. */
export function readProc(k: Kernel, name: string): string {
  const bare = name.replace(/^\/proc\//, "");
  const render = table.get(bare);
  if (!render) {
    const own = moduleEntries?.(k, bare);
    if (own !== undefined) return own;
    const kt = /^(\d+)\/status$/.exec(bare);
    const thread = kt ? k.kthreads?.list.find((t) => t.task.pid === Number(kt[1]) && t.state !== "dead") : undefined;
    if (thread) return renderKthreadStatus(k, thread);
    throw new UnknownProcError(`no such file: /proc/${name} (have: ${procNames().join(", ")})`);
  }
  return render(k);
}
