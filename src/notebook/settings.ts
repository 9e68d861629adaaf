// A cell's machine and run settings, from its fence line (```module id=x profile=... mem=160M cmdline="vmalloc=300M"
// config=distro events="button@30ms button@60ms" timeout=5000 fail-nth=2), merged with what the learner picked in the cell's
// Machine form. One reading for the notebook, the CLI's lesson runs and the tests (src/lessons/load.ts uses it), so a
// cell runs on the same machine everywhere. DOM-free.

import type { LessonCell } from "./lesson.ts";

export type ConfigKind = "debug" | "distro";

export interface CellEvent {
  atMs: number;
  /** An interrupt line, or the board's button (the grader's and the worker's buttonIrq(profile)). */
  irq: "button" | number;
}

export interface CellSettings {
  profile?: string;
  /** RAM as written ("160M"). */
  mem?: string;
  cmdline?: string;
  config?: ConfigKind;
  events?: CellEvent[];
  /** The run's CPU limit in ms (the sandbox's limits.cpuMs). */
  timeoutMs?: number;
  /** `fail-nth=N`: fault injection, the Nth allocation call of module_init fails (RunOptions.failNth). */
  failNth?: number;
}

/** The notebook's CPU limit for a run when neither the cell nor the learner sets one. */
export const DEFAULT_TIMEOUT_MS = 2000;
/** The largest CPU limit the page lets a learner ask for (the worker's watchdog allows this plus its grace). */
export const MAX_TIMEOUT_MS = 60_000;

/** "512M", "4G", "65536K", "1048576" -> bytes; undefined for empty; NaN for garbage. */
export function parseMem(s: string): number | undefined {
  const t = s.trim();
  if (!t) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(t);
  if (!m) return NaN;
  const mult = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30, t: 2 ** 40 }[m[2].toLowerCase() as "" | "k" | "m" | "g" | "t"];
  return Math.round(Number(m[1]) * mult);
}

/** "button@30ms irq5@100ms" (spaces or commas between) -> events; a clear error naming the bad part. */
export function parseEvents(s: string): CellEvent[] {
  const out: CellEvent[] = [];
  for (const part of s.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(button|irq(\d+))@(\d+(?:\.\d+)?)ms$/.exec(part);
    if (!m) throw new Error(`events: "${part}" is not an event; write button@30ms or irq5@30ms`);
    out.push({ atMs: Number(m[3]), irq: m[1] === "button" ? "button" : Number(m[2]) });
  }
  return out;
}

/** "2000", "5s", "5000ms" -> ms; undefined for empty; NaN for garbage or out of range. */
export function parseTimeout(s: string): number | undefined {
  const t = s.trim();
  if (!t) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/i.exec(t);
  if (!m) return NaN;
  const ms = Number(m[1]) * (m[2]?.toLowerCase() === "s" ? 1000 : 1);
  return ms > 0 && ms <= MAX_TIMEOUT_MS ? Math.round(ms) : NaN;
}

const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);

/** What the cell's fence line asks for (the lesson's profile when the cell names none). Throws on a bad value. */
export function cellSettings(cell: Pick<LessonCell, "attrs" | "profile">): CellSettings {
  const a = cell.attrs;
  const out: CellSettings = { profile: cell.profile };
  const mem = str(a.mem);
  if (mem) {
    if (!Number.isFinite(parseMem(mem) ?? NaN)) throw new Error(`mem="${mem}" is not a size: use something like 256M or 4G`);
    out.mem = mem;
  }
  const cmdline = str(a.cmdline);
  if (cmdline) out.cmdline = cmdline;
  const config = str(a.config);
  if (config) {
    if (config !== "debug" && config !== "distro") throw new Error(`config="${config}": the kernel configs are debug and distro`);
    out.config = config;
  }
  const events = str(a.events);
  if (events) out.events = parseEvents(events);
  const timeout = str(a.timeout);
  if (timeout) {
    const ms = parseTimeout(timeout);
    if (!Number.isFinite(ms ?? NaN)) throw new Error(`timeout="${timeout}": a CPU limit in ms, at most ${MAX_TIMEOUT_MS}`);
    out.timeoutMs = ms;
  }
  const failNth = str(a["fail-nth"]);
  if (failNth) {
    if (!/^\d+$/.test(failNth) || Number(failNth) < 1 || Number(failNth) > 0xffffffff) {
      throw new Error(`fail-nth="${failNth}": the allocation call of module_init to fail, an integer from 1`);
    }
    out.failNth = Number(failNth);
  }
  return out;
}

/** The learner's picks over the cell's own: a field the learner left empty keeps the cell's value. */
export function effectiveSettings(
  cell: CellSettings,
  picked: Partial<Record<"profile" | "mem" | "cmdline" | "config" | "timeout", string | undefined>>,
): CellSettings {
  const out: CellSettings = { ...cell };
  if (str(picked.profile)) out.profile = str(picked.profile);
  if (str(picked.mem)) out.mem = str(picked.mem);
  if (str(picked.cmdline)) out.cmdline = str(picked.cmdline);
  const c = str(picked.config);
  if (c === "debug" || c === "distro") out.config = c;
  const t = parseTimeout(picked.timeout ?? "");
  if (t !== undefined && Number.isFinite(t)) out.timeoutMs = t;
  return out;
}
