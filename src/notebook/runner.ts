// The page's side of the run worker: one worker, one run at a time (queued), a watchdog per run.
// The sandbox's own deadline stops runaway module code and comes back as a normal RunResult. The watchdog is the
// last resort: when the worker does not answer within a grace period after the deadline (or after Stop), the page
// terminates it, starts a fresh one, and the caller is told so in plain words. Memory likewise: the worker reports
// QuickJS's WebAssembly memory growing past its budget (run.worker.ts), and a worker that dies of memory is
// recognised by its error; either way the page ends it and names the memory limit (reason "memory").

import type { RunResult } from "../../sandbox/result.ts";
import type { FromWorker, GradeInfo, Machine, ProfileInfo, RunOptions, ToWorker } from "./protocol.ts";
import type { WalkJson } from "../kernel/mm/ptdump.ts";

export type RunOutcome =
  /** `runId`: the run's id in the worker, for asking about its kernel afterwards (walk). */
  | { kind: "result"; result: RunResult; ms: number; grade?: GradeInfo; runId: number; workerMs?: number; preboot?: boolean }
  /**
   * The worker had to be terminated (Stop, no answer after the CPU deadline, or past the memory limit). `log`: the
   * run's kernel log as the worker last sent it (log-forward.ts), when it sent any.
   */
  | { kind: "killed"; reason: "stopped" | "unresponsive" | "memory"; message: string; ms: number; log?: string[] }
  /** The worker answered with an error (sandbox missing, internal error, worker crashed). */
  | { kind: "error"; message: string; ms: number };

/** Grace after the deadline before the worker counts as unresponsive. */
export const GRACE_MS = 10_000;
/** Extra allowance while a fresh worker loads QuickJS and the kernel code. */
export const STARTUP_MS = 8000;
/** Grace after Stop before the worker is terminated. */
export const STOP_GRACE_MS = 400;
/** A worker error that means it ran out of memory (V8's and the engines' wordings). */
const OUT_OF_MEMORY = /out of memory|allocation failed|Invalid (array|string|typed array) length|Array buffer allocation/i;

const fmtSeconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);

interface Pending {
  id: number;
  msg: ToWorker;
  resolve: (
    v: FromWorker | { type: "killed"; reason: "stopped" | "unresponsive" | "memory"; detail?: string; log?: string[] } | { type: "crash"; message: string },
  ) => void;
  started: number;
  timer?: ReturnType<typeof setTimeout>;
  /** The run's kernel log as the worker sent it while running ("log" messages). */
  log?: string[];
}

export class Runner {
  private worker: Worker | null = null;
  private fresh = true;
  private nextId = 1;
  private queue: Pending[] = [];
  private current: Pending | null = null;
  /**
   * Requests that do not take the worker's turn (warm, profiles): posted at once, answered whenever the worker gets
   * to them. The worker handles messages concurrently (each in its own async task), so a Run clicked while the worker
   * is still loading reaches it at once instead of queueing behind the warm-up, which cancels its warm-up runs.
   */
  private side = new Map<number, Pending["resolve"]>();
  /** How many times the worker was restarted (shown in the output, asserted by tests). */
  restarts = 0;
  /** Called when the worker says its warm-up is done (FromWorker "warmed"). */
  onWarmed?: (workerMs: number) => void;

  constructor(private makeWorker: () => Worker) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = this.makeWorker();
    w.onmessage = (ev: MessageEvent<FromWorker>) => this.onMessage(ev.data);
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault?.();
      if (OUT_OF_MEMORY.test(ev.message ?? "") && this.current) {
        this.kill();
        this.finish({ type: "killed", reason: "memory", detail: `the worker died of it: ${ev.message}` });
      } else this.crash(`the run worker failed: ${ev.message || "could not start"}`);
    };
    w.onmessageerror = () => this.crash("the run worker sent a message the page could not read");
    this.worker = w;
    this.fresh = true;
    return w;
  }

  private onMessage(m: FromWorker) {
    if (m.type === "ready") return;
    if (m.type === "warmed") {
      this.onWarmed?.(m.ms);
      return;
    }
    const sideAnswer = "id" in m ? this.side.get(m.id) : undefined;
    if (sideAnswer) {
      this.side.delete((m as { id: number }).id);
      sideAnswer(m);
      return;
    }
    const p = this.current;
    if (!p || p.id !== m.id) return; // an answer for a run we already gave up on
    if (m.type === "log") {
      const log = (p.log ??= []);
      log.length = Math.min(log.length, Math.max(0, m.from));
      for (const l of m.lines) log.push(l);
      // for the end-to-end tests: the running cell's log as the page holds it
      ((globalThis as { __kmodlab?: Record<string, unknown> }).__kmodlab ??= {}).liveLog = log;
      return;
    }
    if (m.type === "over-memory") {
      this.kill();
      this.finish({
        type: "killed",
        reason: "memory",
        detail: `its WebAssembly memory reached ${Math.round(m.bytes / 2 ** 20)} MiB, past the ${Math.round(m.budget / 2 ** 20)} MiB a run may use`,
      });
      return;
    }
    this.finish(m);
  }

  private finish(v: Parameters<Pending["resolve"]>[0]) {
    const p = this.current;
    if (!p) return;
    clearTimeout(p.timer);
    this.current = null;
    if (v.type !== "killed" && v.type !== "crash") this.fresh = false;
    p.resolve(v.type === "killed" && p.log?.length ? { ...v, log: p.log } : v);
    this.pump();
  }

  private crash(message: string) {
    this.kill();
    this.finish({ type: "crash", message });
  }

  private kill() {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = null;
    this.restarts++;
    const side = [...this.side.values()];
    this.side.clear();
    for (const resolve of side) resolve({ type: "crash", message: "the run worker was restarted" });
  }

  private pump() {
    if (this.current || this.queue.length === 0) return;
    const p = this.queue.shift()!;
    this.current = p;
    const w = this.ensureWorker();
    p.started = performance.now();
    const budget = p.msg.type === "run" ? p.msg.options.timeoutMs + GRACE_MS : GRACE_MS * 2;
    p.timer = setTimeout(
      () => {
        if (this.current !== p) return;
        this.kill();
        this.finish({ type: "killed", reason: "unresponsive" });
      },
      budget + (this.fresh ? STARTUP_MS : 0),
    );
    w.postMessage(p.msg);
  }

  private request(make: (id: number) => ToWorker): Promise<Parameters<Pending["resolve"]>[0]> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.queue.push({ id, msg: make(id), resolve, started: 0 });
      this.pump();
    });
  }

  /** Run a cell. Never rejects: every way a run can end is an outcome. */
  async run(
    source: string,
    options: RunOptions,
    exercise?: string,
    exerciseDecl?: { yaml: string; path: string; line: number; lesson: string },
  ): Promise<RunOutcome> {
    const t0 = performance.now();
    const a = await this.request((id) => ({ type: "run", id, source, options, exercise, ...(exerciseDecl ? { exerciseDecl } : {}) }));
    const ms = performance.now() - t0;
    switch (a.type) {
      case "result":
        return { kind: "result", result: a.result, ms, grade: a.grade, runId: a.id, workerMs: a.workerMs, preboot: a.preboot };
      case "killed":
        return {
          kind: "killed",
          reason: a.reason,
          ms,
          ...(a.log ? { log: a.log } : {}),
          message:
            a.reason === "stopped"
              ? "The run was still busy, so the page ended its worker and started a fresh one; the next run boots a new kernel as always."
              : a.reason === "memory"
                ? `Memory limit: the run used more memory than the sandbox's guest limit counts (${a.detail ?? "the worker ran out of memory"}), so the page ended its worker and started a fresh one. Look for an ArrayBuffer, array or string that keeps growing. Your code is kept.`
                : `CPU limit: the run did not end within its CPU limit of ${fmtSeconds(options.timeoutMs)} plus ${fmtSeconds(GRACE_MS)} of grace, and the sandbox could not interrupt it (usually one built-in call over a huge array or string, such as [].indexOf.call({ length: 2 ** 53 - 1 }, x)), so the page ended its worker and started a fresh one. Your code is kept.`,
        };
      case "error":
        return { kind: "error", message: a.message, ms };
      case "crash":
        return { kind: "error", message: `${a.message}. The page started a fresh worker.`, ms };
      default:
        return { kind: "error", message: `unexpected answer from the run worker: ${a.type}`, ms };
    }
  }

  /**
   * Start the worker now, without a request: it begins loading the sandbox, the kernel code and QuickJS at once
   * (run.worker.ts prepare), so the page calls this before it renders anything.
   */
  start(): void {
    this.ensureWorker();
  }

  /** A request outside the queue (see `side`). */
  private sideRequest(make: (id: number) => ToWorker): Promise<Parameters<Pending["resolve"]>[0]> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      const w = this.ensureWorker();
      this.side.set(id, resolve);
      w.postMessage(make(id));
    });
  }

  /** Is a run in progress or queued? */
  get busy(): boolean {
    return !!this.current || this.queue.length > 0;
  }

  /**
   * Stop the current run. The worker is busy inside a synchronous run and cannot read messages, so after a short
   * grace the page terminates it (the kernel is per run anyway, nothing is lost but the run).
   */
  stop() {
    for (const q of this.queue.splice(0)) q.resolve({ type: "killed", reason: "stopped" });
    const p = this.current;
    if (!p) return;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (this.current !== p) return;
      this.kill();
      this.finish({ type: "killed", reason: "stopped" });
    }, STOP_GRACE_MS);
  }

  async dts(profile?: string): Promise<string> {
    const a = await this.request((id) => ({ type: "dts", id, profile }));
    if (a.type === "dts") return a.text;
    throw new Error(a.type === "error" || a.type === "crash" ? a.message : "linux.d.ts: no answer");
  }

  /** Preload the sandbox in the worker. Resolves either way; a failure shows on the first Run instead. */
  async warm(machine?: Machine): Promise<boolean> {
    const a = await this.sideRequest((id) => ({ type: "warm", id, machine }));
    return a.type === "warm";
  }

  /** The page-table walk of `addr` in run `runId`'s kernel (the worker keeps the last few runs' kernels). */
  async walk(runId: number, addr: bigint, when?: "loaded" | "end"): Promise<WalkJson> {
    const a = await this.request((id) => ({ type: "walk", id, run: runId, addr: "0x" + addr.toString(16), when }));
    if (a.type === "walk") return a.walk;
    if (a.type === "error") throw new Error(a.message);
    if (a.type === "crash") throw new Error(`${a.message}; the run's kernel went with the old worker: run the cell again`);
    throw new Error(a.type === "killed" ? "the worker was restarted: run the cell again" : "walk: no answer");
  }

  /** The cell's type errors, or null when the checker is not loaded yet (or failed): run unchecked then. */
  async check(source: string, profile?: string): Promise<{ line: number; column: number; code: number; message: string }[] | null> {
    const a = await this.request((id) => ({ type: "check", id, source, profile }));
    return a.type === "check" && a.ready ? a.diagnostics : null;
  }

  /** Lines of run `runId`'s full dmesg (the output shows its head and tail). */
  async dmesg(runId: number, from: number, count: number): Promise<{ lines: string[]; levels?: number[] }> {
    const a = await this.request((id) => ({ type: "dmesg", id, run: runId, from, count }));
    if (a.type === "dmesg") return { lines: a.lines, levels: a.levels };
    throw new Error(a.type === "error" || a.type === "crash" ? a.message : "the worker was restarted: run the cell again");
  }

  async profiles(): Promise<ProfileInfo[]> {
    const a = await this.sideRequest((id) => ({ type: "profiles", id }));
    if (a.type === "profiles") return a.profiles;
    throw new Error(a.type === "error" || a.type === "crash" ? a.message : "profiles: no answer");
  }
}
