// Rows: module parameters (include/linux/moduleparam.h module_param / module_param_string; kernel/params.c
// parse_args and the param_set_* parsers, Linux 6.1 / 3.4 / 2.6.26). A run gives values as `insmod cell.ko
// name=value` would (RunOptions.moduleParams); a cell declares each with module_param at its top level and gets the
// value back (or its default). Parsing is the kernel's: kstrtoint and friends with base 0 (0x hex, 0 octal) and
// range checks, kstrtobool's y/Y/1/n/N/0/on/off, a string longer than module_param_string's buffer.
//
// What load_module() then says (moduleParamsOutcome, called by run.ts after the load messages, before init):
// - a value the parser refuses: "cell: `abc' invalid for parameter `count'" (-EINVAL, or -ERANGE for a number out
//   of range), a string too long: "count: string doesn't fit in N chars." then "cell: `...' too large for
//   parameter `name'" (-ENOSPC); the load fails, init never runs, and insmod prints kmod's message.
// - a name the module does not have: 6.1 warns "cell: unknown parameter 'x' ignored" and loads (unknown_module_param_cb,
//   3.15+); 2.6.26 and 3.4 refuse it: "cell: Unknown parameter `x'" and -ENOENT.
// Simplifications (stated): no /sys/module/cell/parameters files; perm is recorded, not enforced.

import type { ApiEntry, ModuleState } from "../table.ts";
import { GuestError, p } from "../table.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";
import { kernLevels } from "../../src/kernel/kernel/printk.ts";

type ParamType = "int" | "uint" | "long" | "ulong" | "short" | "ushort" | "byte" | "bool" | "invbool" | "charp";
const TYPES: ParamType[] = ["int", "uint", "long", "ulong", "short", "ushort", "byte", "bool", "invbool", "charp"];

interface ParamState {
  given?: Record<string, string>;
  declared: Set<string>;
  /** The first error parse_args hit: the errno and the lines it prints. */
  error?: { errno: number; lines: string[] };
}
const states = new WeakMap<ModuleState, ParamState>();
function state(mod: ModuleState): ParamState {
  let s = states.get(mod);
  if (!s) states.set(mod, (s = { given: (mod as { params?: Record<string, string> }).params, declared: new Set() }));
  return s;
}

/** kstrto*(val, 0): the value, or an errno (-EINVAL for no number, -ERANGE out of range). */
function kstrto(val: string, min: bigint, max: bigint): bigint | number {
  const s = val.endsWith("\n") ? val.slice(0, -1) : val;
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return -22;
  const body = m[2]!;
  const mag = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body.startsWith("0") ? BigInt("0o" + body.slice(1)) : BigInt(body);
  if (m[1] === "-" && min === 0n) return mag === 0n ? 0n : -22; // kstrtou*: no minus sign (but "-0" is 0)
  const v = m[1] === "-" ? -mag : mag;
  return v < min || v > max ? -34 : v;
}

/** kstrtobool(): y/Y/1/n/N/0, on/off. */
function kstrtobool(val: string): boolean | number {
  const c = val[0];
  if (c === "y" || c === "Y" || c === "1") return true;
  if (c === "n" || c === "N" || c === "0") return false;
  if (c === "o" || c === "O") {
    if (val[1] === "n" || val[1] === "N") return true;
    if (val[1] === "f" || val[1] === "F") return false;
  }
  return -22;
}

function parse(k: Kernel, type: ParamType, val: string): number | string | { errno: number } {
  const long = k.profile.arch === "x86_64" || k.profile.arch === "arm64" ? 64n : 32n;
  const ranges: Partial<Record<ParamType, [bigint, bigint]>> = {
    int: [-(2n ** 31n), 2n ** 31n - 1n],
    uint: [0n, 2n ** 32n - 1n],
    long: [-(2n ** (long - 1n)), 2n ** (long - 1n) - 1n],
    ulong: [0n, 2n ** long - 1n],
    short: [-32768n, 32767n],
    ushort: [0n, 65535n],
    byte: [0n, 255n],
  };
  if (type === "bool" || type === "invbool") {
    const b = kstrtobool(val);
    return typeof b === "number" ? { errno: b } : b !== (type === "invbool") ? 1 : 0;
  }
  if (type === "charp") return val;
  const [min, max] = ranges[type]!;
  const v = kstrto(val, min, max);
  return typeof v === "number" ? { errno: v } : Number(v);
}

function fail(k: Kernel, s: ParamState, name: string, val: string, errno: number, extra: string[] = []): void {
  if (s.error) return;
  const what = errno === -28 ? "too large for" : "invalid for";
  s.error = { errno, lines: [...extra, `${kernLevels(k.profile).KERN_ERR}cell: \`${val}' ${what} parameter \`${name}'\n`] };
}

/** After the top level and the load messages: print what parse_args says; the errno that fails the load, or 0. */
export function moduleParamsOutcome(k: Kernel, mod: ModuleState): number {
  const s = state(mod);
  const lv = kernLevels(k.profile);
  for (const name of Object.keys(s.given ?? {})) {
    if (s.declared.has(name)) continue;
    if (k.profile.era === "6.1") {
      k.printk(`${lv.KERN_WARNING}cell: unknown parameter '%s' ignored\n`, name);
    } else if (!s.error) {
      s.error = { errno: -2, lines: [`${lv.KERN_ERR}cell: Unknown parameter \`${name}'\n`] };
    }
  }
  if (!s.error) return 0;
  for (const l of s.error.lines) k.printk("%s", l);
  return s.error.errno;
}

/** kmod's insmod message for a parameter error (mod_strerror: EINVAL "Invalid parameters", ENOENT "Unknown symbol in module"). */
export function paramInsmodError(errno: number): string {
  const msg =
    errno === -22 || errno === -34
      ? "Invalid parameters"
      : errno === -2
        ? "Unknown symbol in module"
        : errno === -28
          ? "No space left on device"
          : `error ${-errno}`;
  return `insmod: ERROR: could not insert module cell.ko: ${msg}`;
}

export const PARAM_ROWS: ApiEntry[] = [
  {
    kind: "function",
    module: "linux",
    name: "module_param",
    params: [
      p("name", "string", "the parameter (and the variable) name"),
      p("type", "string", `${TYPES.filter((t) => t !== "charp").join(", ")}`),
      p("value", "int", "the default: the variable's initial value"),
      p("perm", "uint", "its /sys/module/cell/parameters mode, e.g. 0o444"),
    ],
    returns: "int",
    context: "module top level",
    doc: 'Declare a module parameter and get its value: what `insmod cell.ko name=value` gave (parsed by the kernel: base 0 numbers with range checks, y/n/1/0/on/off for bool), or the default. `let count = module_param("count", "int", 10, 0o444);`. A value the kernel refuses fails the load before init runs.',
    impl: (c, name: string, type: string, value: number, perm: number) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new GuestError("Error", `module_param: "${name}" is not a C identifier`);
      if (!TYPES.includes(type as ParamType) || type === "charp")
        throw new GuestError(
          "TypeError",
          `module_param: type must be one of ${TYPES.filter((t) => t !== "charp").join(", ")} (for text use module_param_string), got "${type}"`,
        );
      if (perm & 0o002)
        throw new GuestError(
          "Error",
          `module_param: perm ${perm.toString(8)} is world-writable: the kernel refuses it at build time (VERIFY_OCTAL_PERMISSIONS)`,
        );
      const s = state(c.mod);
      if (s.declared.has(name)) throw new GuestError("Error", `module_param: "${name}" is declared twice`);
      s.declared.add(name);
      const given = s.given?.[name];
      if (given === undefined) return value;
      const v = parse(c.k, type as ParamType, given);
      if (typeof v === "object") {
        fail(c.k, s, name, given, v.errno);
        return value;
      }
      return v as number;
    },
  },
  {
    kind: "function",
    module: "linux",
    name: "module_param_string",
    params: [p("name", "string"), p("value", "string", "the default text"), p("len", "uint", "the char array's size, NUL included"), p("perm", "uint")],
    returns: "string",
    context: "module top level",
    doc: 'Declare a text parameter copied into a char array of len bytes: the given text, or the default. Text that does not fit (len - 1 characters) fails the load: "string doesn\'t fit in N chars".',
    impl: (c, name: string, value: string, len: number, perm: number) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new GuestError("Error", `module_param_string: "${name}" is not a C identifier`);
      if (len < 1) throw new GuestError("RangeError", "module_param_string: len is the array size, at least 1");
      void perm;
      const s = state(c.mod);
      s.declared.add(name);
      const given = s.given?.[name];
      if (given === undefined) return value;
      if (new TextEncoder().encode(given).length + 1 > len) {
        fail(c.k, s, name, given, -28, [`${kernLevels(c.k.profile).KERN_ERR}${name}: string doesn't fit in ${len - 1} chars.\n`]);
        return value;
      }
      return given;
    },
  },
];
