// Models kernel/module/main.c of Linux 6.1 (print_modules' list, the module states, what delete_module checks) — the kernel side of insmod/rmmod; the sandbox (sandbox/insmod.ts) prints the load-time taint notices.
//
// Holds the module list that "Modules linked in:" prints (cell(O+) while module_init runs, cell(O) when live,
// cell(O-) while module_exit runs, "[last unloaded: cell(O)]" after), a bump allocator for the module's static data
// (the addresses of DEFINE_SPINLOCK / DEFINE_MUTEX / static structures in the module's .data/.bss, after its text in
// the modules area), and the checks the kernel runs at the end of a run:
//   - insmod/rmmod returning to user space with a lock held (lockdep, debug config);
//   - kmemleak's scan (debug/kmemleak.ts) and the DMA-API's pending mappings (debug/dma_debug.ts) at rmmod.
// KernelOops: thrown after a BUG()/Oops text to end the module function that hit it (the sandbox's killTask
// convention: the task dies, the run continues, the kernel is tainted D by whoever printed the Oops).
// Simplification: one module at a time; "last unloaded" shows the previous run's module only within one boot.

import type { Kernel } from "../kernel.ts";
import type { Report } from "../types.ts";
import { setModuleListProvider, type LoadedModule } from "../debug/splat.ts";

/** Ends the current module function after an Oops (BUG(), a fault): see the header. */
export class KernelOops extends Error {
  readonly killTask = true;
  readonly report?: Report;
  constructor(message: string, report?: Report) {
    super(message);
    this.name = "KernelOops";
    this.report = report;
  }
}

export class Modules {
  private readonly k: Kernel;
  name = "cell";
  /** The module's taint letters as print_modules shows them ("O", "OE", "PO"...). */
  taints = "";
  state: LoadedModule["state"] | "unloaded" | "none" = "none";
  lastUnloaded?: string;
  private staticNext = 0n;
  /** Jiffies and task at insmod (kmemleak's default for objects allocated during init). */
  loadJiffies = 0;

  constructor(k: Kernel) {
    this.k = k;
    setModuleListProvider(k, () => ({
      modules: this.state === "coming" || this.state === "live" || this.state === "going" ? [{ name: this.name, taints: this.taints, state: this.state }] : [],
      lastUnloaded: this.lastUnloaded,
    }));
  }

  /** The module starts loading (before module_init): state COMING. taints: "O", "OE", "P"... */
  load(name = "cell", taints?: string): void {
    this.name = name;
    this.taints = taints ?? this.defaultTaints();
    this.state = "coming";
    this.loadJiffies = this.k.clock.jiffies;
    this.k.sched.inModuleCall = true;
  }

  private defaultTaints(): string {
    const t = this.k.taint;
    return (t.has("P") ? "P" : "") + (t.has("O") ? "O" : "") + (t.has("E") ? "E" : "");
  }

  /** module_init returned 0: LIVE. Checks insmod's return to user space. */
  live(): void {
    this.state = "live";
    this.k.sched.inModuleCall = false;
    this.returnToUser();
  }

  /** rmmod starts: GOING. */
  unloading(): void {
    this.state = "going";
    this.k.sched.inModuleCall = true;
  }

  /** module_exit returned: the module is gone. Runs the end-of-run checks (leakCheck). */
  unloaded(): void {
    this.state = "unloaded";
    this.k.sched.inModuleCall = false;
    this.lastUnloaded = this.name + (this.taints ? `(${this.taints})` : "");
    this.returnToUser();
  }

  /** lockdep_sys_exit(): the task returns to user space with locks held. */
  returnToUser(): void {
    this.k.lockdep.checkReturnToUser(this.k.current);
  }

  /** Address for the module's static data (locks, timers, work items defined at top level). */
  allocStatic(size: number): bigint {
    const ks = this.k.kallsyms;
    // The module's data follows its text: the modules area slot + 0x5000 (the real memdemo's statics sat at
    // text + ~0x5000: memdemo_main at ffffffffc0201450, a static at ffffffffc0206498).
    const base = (ks.lookup(ks.addModuleSymbol("__this_module", this.name, 0x40))?.addr ?? 0n) + 0x5000n;
    const a = base + this.staticNext;
    this.staticNext += BigInt((size + 7) & ~7);
    return a;
  }
}
