// The cell's user program: `user_main(main)` (from "user") names a function that runs, after insmod, as a process
// ("a.out", its own mm: src/kernel/kernel/exec.ts) with glibc's malloc (src/libc/malloc.ts) over its system calls.
// run.ts makes one call here after module_init; this file owns the process from exec to exit.
//
// Why a registration call in the same cell (and not a separate block): the cell is already one source whose
// module_init/module_exit are registered by calls at its top level; a user program registered the same way keeps
// one file, one set of line numbers for faults and call traces, and can use what the module made (its /proc file,
// its device) by path, as a real program would. The program runs once, between insmod and rmmod.

import type { Kernel } from "../src/kernel/kernel.ts";
import { Process } from "../src/kernel/kernel/exec.ts";
import { GlibcMalloc, mallocConfig } from "../src/libc/malloc.ts";
import { UserSignal } from "../src/kernel/mm/uaccess.ts";
import { isPgtableOom } from "../src/kernel/mm/pgtable.ts";
import type { SignalInfo } from "../src/kernel/mm/user_fault.ts";
import { renderMaps, renderStatus } from "../src/kernel/fs/proc_pid.ts";
import { GuestError, type HostCallback } from "./table.ts";

/** What a run reports of its user program (RunResult.user). JSON-only. */
export interface UserOutcome {
  pid: number;
  comm: string;
  /** main's return value (exit status), when it returned. */
  exitCode?: number;
  /** The fatal signal, when the process died of one. */
  signal?: { sig: string; code: string; addr: string; write: boolean; line?: string };
  /** The status a shell prints/sees ($?): exit code, or 128 + signal number. */
  status: number;
  stdout: string;
  stderr: string;
  /** /proc/PID/maps and /proc/PID/status just before exit (the process's last moment). */
  maps: string;
  status_file: string;
  minFlt: number;
  /** The handled faults, first LIST_KEPT: address, write, and what it did (anon page, zero page, copy of it, stack). */
  faults: { addr: string; write: boolean; kind: string }[];
  /** The present user pages at exit, before the teardown (first LIST_KEPT by address): address, frame and kind. */
  pages: { addr: string; pfn: number; kind: string }[];
  /** The lengths of the two lists before they were cut (a program that touches a gigabyte has 262,144 pages). */
  faultsTotal: number;
  pagesTotal: number;
  /** The system calls malloc made (brk / mmap / munmap) with their sizes. */
  mallocCalls: { call: string; addr: string; len: string }[];
  /** malloc's records: every pointer malloc returned with its chunk (for checks: brk or mmap). */
  allocations: { ptr: string; size: string; chunk: string; chunkSize: string; mmapped: boolean }[];
  /** Committed_AS and AnonPages of meminfo while the process ran (just before exit), in kB. */
  meminfo: { anonPagesKb: number; committedKb: number };
}

export interface UserRun {
  proc: Process;
  malloc: GlibcMalloc;
  errno: number;
  allocations: UserOutcome["allocations"];
}

const runs = new WeakMap<Kernel, UserRun>();

/** The running user program of this kernel, or a guest error naming the function called outside it. */
export function userRun(k: Kernel, fn: string): UserRun {
  const r = runs.get(k);
  if (!r) throw new GuestError("Error", `${fn}: user-space functions run only inside the program given to user_main() (after insmod), not in module code`);
  return r;
}

/** Is a user program running now (for rows that behave differently in process context)? */
export function activeUserRun(k: Kernel): UserRun | undefined {
  return runs.get(k);
}

/** The pid of the user program: the pid after insmod's. */
export function userPid(insmodPid: number): number {
  return insmodPid + 1;
}

const hex = (v: bigint) => "0x" + v.toString(16);
/** Entries of RunResult.user.faults and .pages kept (the RunResult stays small whatever the program touched). */
export const LIST_KEPT = 4096;

/**
 * exec "a.out", call main in it, exit. invoke runs the guest function (the bridge's invokeCallback); it returns
 * the function's value or reports a failure (a fatal signal arrives as a task kill). Never throws for the guest.
 */
export function runUserProgram(
  k: Kernel,
  main: HostCallback,
  pid: number,
  invoke: (fn: HostCallback) => { ok: boolean; value?: unknown; killed?: boolean },
  line: () => number | undefined,
): UserOutcome {
  let proc: Process;
  try {
    proc = new Process(k, pid, "a.out");
  } catch (e) {
    if (isPgtableOom(e)) return forkFailed(k, pid);
    throw e;
  }
  proc.lineNow = line;
  const malloc = new GlibcMalloc(
    {
      brk: (a) => proc.sysBrk(a),
      mmap: (len) => proc.sysMmap(0n, Number(len), 3, 0x22, -1, 0),
      munmap: (a, len) => proc.sysMunmap(a, Number(len)),
      store: (a, size, v) => proc.store(a, size, v),
      fill: (a, b, n) => proc.fill(a, b, n),
      abort: (msg) => {
        proc.stderr += msg + "\n";
        const info: SignalInfo = { sig: "SIGKILL", code: "SIGABRT", addr: 0n, write: false, ip: proc.ip(), sp: proc.mm.startStack };
        recordSignal(proc, info);
        throw new UserSignal(info);
      },
    },
    mallocConfig(k.profile.arch, k.profile.era),
  );
  const run: UserRun = { proc, malloc, errno: 0, allocations: [] };
  runs.set(k, run);
  let r: ReturnType<typeof invoke>;
  try {
    r = proc.run(() => invoke(main));
  } catch (e) {
    runs.delete(k);
    proc.exit();
    throw e;
  }
  if (r.ok) proc.exitCode = typeof r.value === "number" && Number.isInteger(r.value) ? r.value & 0xff : 0;
  else if (!proc.signal && !r.killed) proc.exitCode = 1;
  return userOutcome(k, run, pid);
}

/**
 * The program of a run a host stopped in the middle (sandbox/run.ts salvageStoppedRun), as a limit that stopped it
 * leaves it (exit status 1, its output so far), or undefined when none was running. Its JavaScript was stopped, not
 * unwound: proc.run's own cleanup never ran.
 */
export function salvageUserProgram(k: Kernel, pid: number): UserOutcome | undefined {
  const run = runs.get(k);
  if (!run) return undefined;
  if (!run.proc.signal) run.proc.exitCode = 1;
  return userOutcome(k, run, pid);
}

/** The program's outcome once main has returned or was stopped: its views, then the process gone (exit). */
function userOutcome(k: Kernel, run: UserRun, pid: number): UserOutcome {
  const { proc, malloc } = run;
  let maps: string;
  let statusFile: string;
  let meminfo: { anonPagesKb: number; committedKb: number };
  let pages: UserOutcome["pages"];
  let pagesTotal: number;
  try {
    maps = renderMaps(k, proc);
    statusFile = renderStatus(k, proc);
    meminfo = userMeminfo(k);
    const present = proc.mm.presentPages();
    pagesTotal = present.length;
    pages = present.slice(0, LIST_KEPT).map(([vpn, pfn, kind]) => ({ addr: hex(BigInt(vpn) << 12n), pfn, kind }));
  } finally {
    runs.delete(k);
    proc.exit();
  }
  const s0 = proc.signal;
  const sig: UserOutcome["signal"] = s0
    ? { sig: s0.sig, code: s0.code, addr: hex(s0.addr), write: s0.write, ...(s0.line ? { line: s0.line } : {}) }
    : abortSignal(proc);
  return {
    pid,
    comm: proc.comm,
    ...(proc.exitCode !== undefined && !sig ? { exitCode: proc.exitCode } : {}),
    ...(sig ? { signal: sig } : {}),
    status: sig ? 128 + (sig.sig === "SIGSEGV" ? 11 : sig.sig === "SIGBUS" ? 7 : sig.sig === "SIGABRT" ? 6 : 9) : (proc.exitCode ?? 0),
    stdout: proc.stdout,
    stderr: proc.stderr,
    maps,
    status_file: statusFile,
    minFlt: proc.mm.minFlt,
    faults: proc.mm.faults.slice(0, LIST_KEPT).map((f) => ({ addr: hex(f.addr), write: f.write, kind: f.kind })),
    faultsTotal: proc.mm.faults.length,
    pages,
    pagesTotal,
    mallocCalls: malloc.calls.map((c) => ({ call: c.call, addr: hex(c.addr), len: c.len < 0n ? "-" + hex(-c.len) : hex(c.len) })),
    allocations: run.allocations,
    meminfo,
  };
}

/**
 * No page for the new process's page tables: the shell's fork() fails in pgd_alloc() (dup_mm() -> mm_init()) with
 * -ENOMEM before a.out exists, and busybox ash says so and gives status 2. Nothing ran, nothing is left mapped.
 */
function forkFailed(k: Kernel, pid: number): UserOutcome {
  return {
    pid,
    comm: "a.out",
    status: 2,
    stdout: "",
    stderr: "sh: can't fork: Out of memory\n",
    maps: "",
    status_file: "",
    minFlt: 0,
    faults: [],
    faultsTotal: 0,
    pages: [],
    pagesTotal: 0,
    mallocCalls: [],
    allocations: [],
    meminfo: userMeminfo(k),
  };
}

/** Committed_AS and AnonPages of meminfo now, in kB. */
function userMeminfo(k: Kernel): UserOutcome["meminfo"] {
  const mi = k.proc("meminfo");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(mi)?.[1] ?? 0);
  return { anonPagesKb: field("AnonPages"), committedKb: field("Committed_AS") };
}

/** The signal record for the outcome: a fault's, or abort()'s SIGABRT. */
function abortSignal(proc: Process): UserOutcome["signal"] | undefined {
  return (proc as { aborted?: UserOutcome["signal"] }).aborted;
}

/** Fill the outcome's signal from a UserSignal the program died of. */
export function recordSignal(proc: Process, info: SignalInfo): void {
  if (info.code === "SIGABRT") (proc as { aborted?: UserOutcome["signal"] }).aborted = { sig: "SIGABRT", code: "SI_TKILL", addr: "0x0", write: false };
  else proc.signal = info;
}
