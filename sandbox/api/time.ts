// Rows: time (include/linux/jiffies.h): HZ, the live `jiffies`, and the conversions.

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { p } from "../table.ts";

const conv = (name: "msecs_to_jiffies" | "usecs_to_jiffies" | "jiffies_to_msecs", param: string, doc: string): FunctionEntry => ({
  kind: "function",
  module: "linux",
  name,
  params: [p(param, "uint")],
  returns: "uint",
  context: "any",
  doc,
  impl: (c, v: number) => c.k.clock[name](v),
});

export const TIME_ROWS: ApiEntry[] = [
  { kind: "constant", module: "linux", name: "HZ", type: "number", value: (k) => k.profile.hz, doc: "Timer ticks per second of this kernel (CONFIG_HZ)." },
  {
    kind: "variable",
    module: "linux",
    name: "jiffies",
    type: "number",
    get: (c) => c.k.clock.jiffies,
    doc: "Ticks since boot, an unsigned long that starts 5 minutes before it wraps (INITIAL_JIFFIES) and wraps at 2^32 on 32-bit machines. Reads the live value at each use: `jiffies + msecs_to_jiffies(10)`.",
  },
  conv("msecs_to_jiffies", "m", "Milliseconds to jiffies, rounded up."),
  conv("usecs_to_jiffies", "u", "Microseconds to jiffies, rounded up."),
  conv("jiffies_to_msecs", "j", "Jiffies to milliseconds."),
];
