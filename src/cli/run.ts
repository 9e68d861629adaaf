// `kmodlab run FILE [--profile P] [--mem SIZE] [--cmdline "..."] [--seed N] [--config debug|distro]
//                   [--proc NAME,...] [--keep-loaded] [--check-invariants] [--fail-nth N] [--events "button@30ms irq5@60ms"]
//                   [--boot] [--json] [name=value ...]`
// name=value after the file are module parameters, as insmod takes them (RunOptions.moduleParams).
// --fail-nth N is RunOptions.failNth (fault injection: the insmod task's Nth should_fail() call fails); the
// boot parameters failslab= / fail_page_alloc= go in --cmdline. --events is a cell's events= setting (the notebook's
// parseEvents): interrupts raised at simulated times after the module is loaded, `button` being the profile's button
// line (the grader's buttonIrq); a line the board does not have is bad usage. A line on stderr says where fail-nth struck.
// Prints the module's part of dmesg (the boot log first with --boot), then each /proc file asked for.
// --json prints exactly the RunResult. The run happens in an isolated worker (src/node/isolate.ts): a cell the
// sandbox cannot stop is ended by the host and reported as a CPU or memory limit.
// Exit (exitCodeOf, the rule of every command): 0 when the run ended with no report of any kind; 1 when the kernel
// reported anything, a limit stopped the run or the cell did not compile; 2 for bad usage (a --mem or --cmdline
// the profile cannot boot included).

import type { RunResult } from "../../sandbox/result.ts";
import type { RunOptions } from "../../sandbox/run.ts";
import { readCellFile } from "./read-cell.ts";

export interface RunFlags {
  profile?: string;
  mem?: string;
  cmdline?: string;
  seed?: string;
  config?: string;
  proc?: string;
  keepLoaded?: boolean;
  checkInvariants?: boolean;
  failNth?: string;
  /** "button@30ms irq5@60ms": the cell setting events= (RunOptions.events). */
  events?: string;
  boot?: boolean;
  json?: boolean;
  /** name=value module parameters (insmod's), after the file. */
  params?: string[];
}

class Usage extends Error {}

async function toRunOptions(f: RunFlags): Promise<RunOptions> {
  const { getProfile } = await import("../kernel/profiles.ts");
  const { parseSize } = await import("../kernel/kernel/params.ts");
  const o: RunOptions = {};
  if (f.params?.length) {
    o.moduleParams = {};
    for (const a of f.params) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a);
      if (!m) throw new Usage(`bad module parameter '${a}': expected name=value (as insmod takes them)`);
      o.moduleParams[m[1]!] = m[2]!;
    }
  }
  try {
    o.profile = getProfile(f.profile ?? "x86_64-6.1").name;
  } catch (e) {
    throw new Usage((e as Error).message);
  }
  if (f.mem !== undefined) {
    try {
      o.mem = parseSize(f.mem);
    } catch (e) {
      throw new Usage(`bad --mem '${f.mem}': ${(e as Error).message}`);
    }
  }
  if (f.cmdline !== undefined) o.cmdline = f.cmdline;
  if (f.seed !== undefined) {
    if (!/^\d+$/.test(f.seed) || !Number.isSafeInteger(Number(f.seed)))
      throw new Usage(`bad --seed '${f.seed}': expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}`);
    o.seed = Number(f.seed);
  }
  if (f.config !== undefined) {
    if (f.config !== "debug" && f.config !== "distro") throw new Usage(`bad --config '${f.config}': expected debug or distro`);
    o.config = f.config;
  }
  if (f.proc !== undefined) {
    o.proc = f.proc
      .split(",")
      .map((s) => s.trim().replace(/^\/proc\//, ""))
      .filter(Boolean);
    const { procNames } = await import("../kernel/fs/proc.ts");
    await import("../kernel/fs/all.ts");
    const known = procNames();
    // A name the kernel does not have may be a file the module itself creates (proc_create_single): it is read
    // while the module is loaded, and runCommand calls it bad usage only if the module never made it.
    const bad = o.proc.filter((n) => !known.includes(n) && !/^[A-Za-z0-9_.-]+$/.test(n));
    if (bad.length) throw new Usage(noSuchProc(bad, known));
  }
  if (f.keepLoaded) o.unload = false;
  if (f.checkInvariants) o.checkInvariants = true;
  if (f.failNth !== undefined) {
    if (!/^\d+$/.test(f.failNth) || Number(f.failNth) < 1 || Number(f.failNth) > 0xffffffff) {
      throw new Usage(`bad --fail-nth '${f.failNth}': expected an integer from 1 to 4294967295 (the Nth allocation call of module_init fails)`);
    }
    o.failNth = Number(f.failNth);
  }
  if (f.events !== undefined) {
    const { parseEvents } = await import("../notebook/settings.ts");
    const { buttonIrq } = await import("../grader/grade.ts");
    const { boardIrqLines } = await import("../kernel/kernel/irq.ts");
    let events;
    try {
      events = parseEvents(f.events);
    } catch (e) {
      throw new Usage(`bad --events '${f.events}': ${(e as Error).message}`);
    }
    if (!events.length) throw new Usage(`bad --events '${f.events}': no event; write button@30ms or irq5@30ms`);
    const nr = boardIrqLines(getProfile(o.profile).arch).nr;
    o.events = events.map((e) => {
      const irq = e.irq === "button" ? buttonIrq(o.profile!) : e.irq;
      if (irq >= nr) throw new Usage(`bad --events '${f.events}': irq${irq}: the ${o.profile} board has interrupt lines 0 to ${nr - 1}`);
      return { atMs: e.atMs, irq };
    });
  }
  return o;
}

/** Render a run for a terminal: what `kmodlab run` prints without --json. */
export function renderRun(file: string, r: RunResult, withBoot: boolean): { out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  // a loop, not push(...lines): spreading 390,000 lines (a module leaking 30,000 objects, before the log buffer was a
  // ring) overflowed the stack
  if (withBoot) for (const l of r.bootLog) out.push(l);
  for (const l of r.dmesg) out.push(l);
  for (const rep of r.reports) {
    // Reports that are not kernel text (compile errors, sandbox limits) are not in dmesg: say them on stderr.
    if (rep.kind === "compile-error") err.push(rep.title.replace(/^cell\.ts:/, `${file}:`));
    else if (!r.dmesg.some((l) => l.endsWith(rep.title)))
      err.push(`kmodlab: ${rep.title.replace(/^kmodlab:? /, "")}${rep.explain ? `\n  ${rep.explain}` : ""}`);
    // A sandbox limit the kernel's own text stands for in dmesg (the CPU limit as the watchdog's soft lockup): the
    // limit is still named, on stderr
    else if (rep.limit && rep.explain) err.push(`kmodlab: ${rep.explain}`);
  }
  if (r.module?.insmodError) err.push(r.module.insmodError);
  const fi = r.faultInjection;
  if (fi?.failNth !== undefined) {
    const hit = fi.injected.find((x) => x.by === "fail-nth");
    err.push(
      hit
        ? `kmodlab: fail-nth ${fi.failNth}: call ${hit.call} of ${fi.insmodCalls} failed: ${hit.what} (${hit.attr}, ${hit.attr === "failslab" ? `object size ${hit.size}` : `order ${hit.order}`}, ${hit.flags || "0"})`
        : `kmodlab: fail-nth ${fi.failNth}: not reached (module_init made ${fi.insmodCalls} allocation call${fi.insmodCalls === 1 ? "" : "s"}; fail-nth reads back ${fi.failNthLeft})`,
    );
  }
  const u = r.user;
  if (u) {
    // The cell's user program (user_main): its output, then how it ended, as a shell would show it.
    out.push(`==> ${u.comm} (pid ${u.pid}) <==`);
    if (u.stdout) out.push(u.stdout.replace(/\n$/, ""));
    if (u.stderr) err.push(u.stderr.replace(/\n$/, ""));
    out.push(
      u.signal
        ? `${u.signal.sig === "SIGSEGV" ? "Segmentation fault" : u.signal.sig === "SIGBUS" ? "Bus error" : u.signal.sig === "SIGABRT" ? "Aborted" : "Killed"} (status ${u.status}); ${u.minFlt} minor faults`
        : `exit status ${u.status}; ${u.minFlt} minor faults`,
    );
  }
  for (const [name, text] of Object.entries(r.proc)) {
    out.push(`==> /proc/${name} (module loaded) <==`);
    out.push(text.replace(/\n$/, ""));
  }
  for (const [name, text] of Object.entries(r.procAfterExit)) {
    out.push(`==> /proc/${name} (after rmmod) <==`);
    out.push(text.replace(/\n$/, ""));
  }
  return { out: out.length ? out.join("\n") + "\n" : "", err: err.length ? err.join("\n") + "\n" : "" };
}

/**
 * The exit code of a finished run, for every command: 0 only when the run ended with no report of any kind (every
 * kernel splat, leak, limit and compile error is a report); 1 otherwise. Bad usage (2) is decided before a run.
 */
export function exitCodeOf(r: Pick<RunResult, "reports">): number {
  return r.reports.length > 0 ? 1 : 0;
}

function noSuchProc(names: string[], known: string[]): string {
  return `no such /proc file: ${names.join(", ")} (have: ${known.join(", ")}, or a file the module creates)`;
}

export async function runCommand(file: string, flags: RunFlags = {}): Promise<number> {
  const { runIsolated, warmIsolated, bootAheadIsolated } = await import("../node/isolate.ts");
  warmIsolated(); // the worker loads the sandbox while the options are checked and the file read
  let opts: RunOptions;
  let source: string;
  try {
    opts = await toRunOptions(flags);
    source = readCellFile(file);
  } catch (e) {
    process.stderr.write(`kmodlab: ${e instanceof Usage ? e.message : `cannot read ${file}: ${(e as Error).message}`}\n`);
    return 2;
  }
  // the worker boots this machine as soon as it has the kernel's code, while QuickJS still loads
  bootAheadIsolated(opts.profile!, { mem: opts.mem, cmdline: opts.cmdline, seed: opts.seed, config: opts.config });
  // the memory views are for the notebook and --json; the terminal shows none of them
  if (!flags.json) opts.views = false;
  const r = await runIsolated(source, opts);
  if (r.bootRefused !== undefined) {
    process.stderr.write(`kmodlab: cannot boot ${opts.profile}${flags.mem !== undefined ? ` with --mem ${flags.mem}` : ""}: ${r.bootRefused}\n`);
    return 2;
  }
  // --proc names the kernel does not have, that the module did not create either: bad usage, as a typo is
  const missing = (opts.proc ?? []).filter((n) => [r.proc[n], r.procAfterExit[n]].every((t) => t === undefined || t.startsWith("(no such file")));
  // ... unless the run never got that far: a compile error, or a limit that stopped it (a module stopped in its init
  // creates no file; saying "no such /proc file" then hid the limit's report behind a usage error, exit 2)
  if (missing.length && !r.reports.some((x) => x.kind === "compile-error" || x.limit !== undefined)) {
    const { procNames } = await import("../kernel/fs/proc.ts");
    process.stderr.write(`kmodlab: ${noSuchProc(missing, procNames())}\n`);
    return 2;
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + "\n");
  } else {
    const { out, err } = renderRun(file, r, !!flags.boot);
    process.stdout.write(out);
    process.stderr.write(err);
  }
  return exitCodeOf(r);
}
