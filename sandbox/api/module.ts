// Rows: the module's own declarations (include/linux/module.h, init.h) and the errno values init returns.

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { GuestError, p } from "../table.ts";

const modinfo = (name: "MODULE_LICENSE" | "MODULE_AUTHOR" | "MODULE_DESCRIPTION", field: "license" | "author" | "description", doc: string): FunctionEntry => ({
  kind: "function",
  module: "linux",
  name,
  params: [p(field, "string")],
  returns: "void",
  context: "module top level (it fills the module's .modinfo section)",
  doc,
  impl: (c, v: string) => {
    c.mod[field] = v;
  },
});

const registration = (name: "module_init" | "module_exit", slot: "init" | "exit", doc: string): FunctionEntry => ({
  kind: "function",
  module: "linux",
  name,
  params: [
    p("fn", "fn", slot === "init" ? "the init function: returns 0 or a negative errno" : "the exit function", {
      params: [],
      returns: slot === "init" ? "int" : "void",
    }),
  ],
  returns: "void",
  context: "module top level",
  doc,
  impl: (c, fn) => {
    if (c.mod[slot]) throw new GuestError("Error", `${name}: the module already has an ${slot} function (${c.mod[slot]!.symbol || "anonymous"})`);
    c.mod[slot] = fn;
  },
});

/** errno values (include/uapi/asm-generic/errno-base.h, errno.h): a module returns -ENOMEM etc. */
const ERRNO: [string, number, string][] = [
  ["EPERM", 1, "Operation not permitted"],
  ["ENOENT", 2, "No such file or directory"],
  ["EINTR", 4, "Interrupted system call"],
  ["EIO", 5, "I/O error"],
  ["ENXIO", 6, "No such device or address"],
  ["EAGAIN", 11, "Try again"],
  ["ENOMEM", 12, "Out of memory"],
  ["EACCES", 13, "Permission denied"],
  ["EFAULT", 14, "Bad address"],
  ["EBUSY", 16, "Device or resource busy"],
  ["EEXIST", 17, "File exists"],
  ["ENODEV", 19, "No such device"],
  ["EINVAL", 22, "Invalid argument"],
  ["ENOSPC", 28, "No space left on device"],
  ["ERANGE", 34, "Math result not representable"],
  ["ENOSYS", 38, "Invalid system call number"],
  ["ENOTTY", 25, "Not a typewriter (the ioctl command is not this device's)"],
  ["EOPNOTSUPP", 95, "Operation not supported on transport endpoint"],
  ["ETIMEDOUT", 110, "Connection timed out"],
];

export const MODULE_ROWS: ApiEntry[] = [
  modinfo(
    "MODULE_LICENSE",
    "license",
    'The module\'s licence, e.g. "GPL". Without a GPL-compatible one the kernel is tainted (P) and GPL-only symbols are refused.',
  ),
  modinfo("MODULE_AUTHOR", "author", "The module's author (shown by modinfo)."),
  modinfo("MODULE_DESCRIPTION", "description", "What the module does (shown by modinfo)."),
  registration(
    "module_init",
    "init",
    "Name the function insmod runs when the module loads. It returns 0 on success or a negative errno (-ENOMEM...), which fails the load.",
  ),
  registration("module_exit", "exit", "Name the function rmmod runs before the module is removed: free everything init allocated."),
  { kind: "constant", module: "linux", name: "NULL", type: "addr", value: () => 0n, doc: "The null pointer: 0n." },
  ...ERRNO.map(([name, v, what]): ApiEntry => ({
    kind: "constant",
    module: "linux",
    name,
    type: "number",
    value: () => v,
    doc: `${what} (${v}). Return -${name} from init to fail the load.`,
  })),
];
