// A JavaScript exception escaping a module function, reported the way the kernel reports a fault in module code
// (debug/splat.ts does the kernel's part): a BUG line naming the function and the module, the JavaScript error,
// "Modules linked in:", the task line, and a call trace whose module frames are the cell's, from the error's own
// stack (fn+off/size [cell], each with its cell line in the report's frames), then the context's outer frames.
// The run then goes on as after an Oops: the kernel is tainted D and the faulting task stops.

import type { Kernel } from "../src/kernel/kernel.ts";
import type { Report } from "../src/kernel/types.ts";
import { dump_stack_print_info, end_trace, print_modules, recordSplat, show_trace, type SplatHost } from "../src/kernel/debug/splat.ts";
import { kernLevel } from "./insmod.ts";
import { MAX_TRACE_FRAMES, parseStack, stackWasCut } from "./stack.ts";
import type { CellScope } from "./transpile.ts";
import type { ColumnMap } from "./shadow.ts";
import type { GuestErrorInfo } from "./bindings.ts";

export type CallSite = "init" | "exit" | "load" | "callback";

export function exceptionReport(k: Kernel, where: string, site: CallSite, err: GuestErrorInfo, scopes: readonly CellScope[] = [], columns?: ColumnMap): Report {
  const frames = parseStack(err.stack, scopes, columns);
  const host = k as unknown as SplatHost;
  const title = `BUG: kernel exception in ${where} [cell]`;
  const jsLine = err.nonError ? err.message : `${err.name}${err.message ? ": " + err.message : ""}`;
  const mark = k.log.mark();
  const alert = kernLevel(k, "KERN_ALERT");
  k.printk(alert + "%s\n", title);
  for (const l of jsLine.split("\n")) k.printk(alert + "%s\n", l);
  print_modules(host);
  dump_stack_print_info(host);
  // The guest has unwound: the trace's module frames are the error's, not the (empty) current stack.
  const capture = k.captureModuleStack;
  k.captureModuleStack = () => frames;
  try {
    show_trace(host, [], { context: site === "init" || site === "load" ? "insmod" : site === "exit" ? "rmmod" : undefined });
  } finally {
    k.captureModuleStack = capture;
  }
  // A stack text the module wrote itself can name millions of frames (QuickJS's own holds ~1,500): the trace shows
  // the innermost MAX_TRACE_FRAMES and says that it stopped there.
  const cut = stackWasCut(frames);
  const cutLine = `kmodlab: call trace cut: the error's stack names more than ${MAX_TRACE_FRAMES} cell frames; the trace shows the innermost ${MAX_TRACE_FRAMES} (the trace limit)`;
  if (cut) k.printk(kernLevel(k, "KERN_WARNING") + "%s\n", cutLine);
  end_trace(host);
  k.taint.add("D"); // oops_end(): TAINT_DIE, after the report (its own task line does not show D yet)
  const inner = frames[0];
  return recordSplat(host, "exception", mark, {
    title,
    stack: frames,
    explain:
      (err.nonError
        ? `The module threw a value that is not an Error (${err.message.replace(/^uncaught throw of /, "").replace(/ \(not an Error\)$/, "")}) and nothing caught it. In the kernel this would be a fault: the task running ${where} was killed.`
        : `A JavaScript ${err.name} escaped ${where}${inner ? ` at line ${inner.line}` : ""}. In the kernel a fault in module code is an Oops: the task running it is killed and the kernel is tainted (D).`) +
      (cut ? ` ${cutLine.replace(/^kmodlab: c/, "C")}.` : ""),
  });
}
