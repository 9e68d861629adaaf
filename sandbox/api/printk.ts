// Rows: printk and its level strings (include/linux/printk.h, kern_levels.h). The KERN_* values are the era's:
// "<6>" before 3.6, "\x016" after; the kernel's vsprintf does the formatting.

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { p } from "../table.ts";
import { kernLevels, type KernLevels } from "../../src/kernel/kernel/printk.ts";
import type { Era } from "../../src/kernel/types.ts";

const FORMATS = "Formats: %d %i %u %x %lx %ld %lu %zu %zd %llx %c %s %p %px %pK %pa %pS %pGg, widths and flags as in the kernel.";

const printkRow: FunctionEntry = {
  kind: "function",
  module: "linux",
  name: "printk",
  params: [p("fmt", "string", "a KERN_* level followed by the format"), p("args", "printk-args")],
  returns: "int",
  context: "any",
  countsLog: true,
  doc: `Print a message to the kernel log: printk(KERN_INFO + "x=%d\\n", x). Returns the number of characters stored. ${FORMATS}`,
  impl: (c, fmt: string, ...args: (number | bigint | string)[]) => c.k.printk(fmt, ...args),
};

const pr = (name: string, level: keyof KernLevels, since?: Era, until?: Era, absentNote?: string): FunctionEntry => ({
  kind: "function",
  module: "linux",
  name,
  params: [p("fmt", "string"), p("args", "printk-args")],
  returns: "int",
  context: "any",
  countsLog: true,
  since,
  until,
  absentNote,
  doc: `printk(${level} + fmt, ...args).`,
  impl: (c, fmt: string, ...args: (number | bigint | string)[]) => c.k.printk(kernLevels(c.k.profile)[level] + fmt, ...args),
});

const LEVELS: (keyof KernLevels)[] = [
  "KERN_EMERG",
  "KERN_ALERT",
  "KERN_CRIT",
  "KERN_ERR",
  "KERN_WARNING",
  "KERN_NOTICE",
  "KERN_INFO",
  "KERN_DEBUG",
  "KERN_DEFAULT",
  "KERN_CONT",
];

export const PRINTK_ROWS: ApiEntry[] = [
  printkRow,
  pr("pr_emerg", "KERN_EMERG"),
  pr("pr_alert", "KERN_ALERT"),
  pr("pr_crit", "KERN_CRIT"),
  pr("pr_err", "KERN_ERR"),
  pr("pr_warn", "KERN_WARNING", "3.4", undefined, "added in 3.1 — use pr_warning"),
  pr("pr_warning", "KERN_WARNING", undefined, "3.4", "removed in 5.5 — use pr_warn"),
  pr("pr_notice", "KERN_NOTICE"),
  pr("pr_info", "KERN_INFO"),
  pr("pr_cont", "KERN_CONT"),
  {
    kind: "function",
    module: "linux",
    name: "pr_debug",
    params: [p("fmt", "string"), p("args", "printk-args")],
    returns: "int",
    context: "any",
    doc: "Compiled out unless DEBUG or dynamic debug enables it: prints nothing here (as in a kernel built without DEBUG).",
    impl: () => 0,
  },
  ...LEVELS.map((name): ApiEntry => ({
    kind: "constant",
    module: "linux",
    name,
    type: "string",
    value: (k) => kernLevels(k.profile)[name],
    doc: `The ${name} prefix of this kernel's era ("<N>" before 3.6, "\\x01N" from 3.6). Write printk(${name} + "text\\n").`,
  })),
];
