// A JavaScript exception escaping a module function, reported the way the kernel reports a fault in module code:
// a BUG line naming the function and the module, the JavaScript error, the task line and a call trace whose
// module frames are the cell's (fn+off/size [cell], with their cell lines in the report's frames). The run then
// goes on as after an Oops: the kernel is tainted D and the faulting task (insmod, rmmod, a kworker) stops.
// The kernel frames under the module's follow the real 6.1 x86_64 traces of an init / exit / timer callback.

import type { Kernel } from "../src/kernel/kernel.ts";
import type { Report } from "../src/kernel/types.ts";
import { kernLevel } from "./insmod.ts";
import { parseStack, TOP_LEVEL, type CellFrame } from "./stack.ts";
import type { GuestErrorInfo } from "./bindings.ts";

export type CallSite = "init" | "exit" | "load" | "callback";

/** Kernel frames below the module's, innermost first (what called the module function). */
const CALLERS: Record<CallSite, string[]> = {
  load: ["load_module", "__do_sys_finit_module", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"],
  init: ["do_one_initcall", "do_init_module", "load_module", "__do_sys_finit_module", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"],
  exit: ["__do_sys_delete_module", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"],
  callback: [],
};

function frameText(k: Kernel, f: CellFrame): string {
  if (f.fn === TOP_LEVEL) return `${f.fn} [cell]`;
  return k.kallsyms.moduleFrame(f.fn, "cell", f.line);
}

export function exceptionReport(k: Kernel, where: string, site: CallSite, err: GuestErrorInfo): Report {
  const frames = parseStack(err.stack);
  const title = `BUG: kernel exception in ${where} [cell]`;
  const jsLine = err.nonError ? err.message : `${err.name}${err.message ? ": " + err.message : ""}`;
  const lines = [title, jsLine];
  lines.push(`CPU: 0 PID: ${k.current.pid} Comm: ${k.current.comm} ${k.taint.print_tainted()} ${k.profile.release} #1`);
  if (k.profile.board) lines.push(`Hardware name: ${k.profile.board}`);
  lines.push("Call Trace:");
  const x86 = k.profile.arch === "x86_64";
  if (x86) lines.push(" <TASK>");
  for (const f of frames) lines.push(" " + frameText(k, f));
  for (const c of CALLERS[site]) {
    if (!x86 && (c.startsWith("entry_SYSCALL_64") || c === "do_syscall_64")) continue;
    lines.push(" " + k.kallsyms.frame(c));
  }
  if (x86) lines.push(" </TASK>");
  lines.push("---[ end trace 0000000000000000 ]---");
  const text = lines.join("\n");
  for (const l of lines) k.printk(kernLevel(k, l === title ? "KERN_ALERT" : "KERN_WARNING") + "%s\n", l);
  k.taint.add("D"); // oops_end(): TAINT_DIE, after the report (its own header does not show D yet)
  const inner = frames[0];
  return {
    kind: "exception",
    title,
    text,
    line: inner?.line,
    frames: frames.map((f) => ({ fn: f.fn, line: f.line, column: f.column })),
    explain: err.nonError
      ? `The module threw a value that is not an Error (${err.message.replace(/^uncaught throw of /, "").replace(/ \(not an Error\)$/, "")}) and nothing caught it. In the kernel this would be a fault: the task running ${where} was killed.`
      : `A JavaScript ${err.name} escaped ${where}${inner ? ` at line ${inner.line}` : ""}. In the kernel a fault in module code is an Oops: the task running it is killed and the kernel is tainted (D).`,
  };
}
